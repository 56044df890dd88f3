// Response bodies on the wire, with the seed's field names. Extensions beyond the seed
// (category code, stage timings, board id, duplicate flag) are additive: the seed's camera
// client and the Windows app ignore fields they do not know.

import Detection
import Inspection
import Storage

/// `{x1, y1, x2, y2, confidence, class}` in frame pixels.
struct WireBox: Encodable {
    let x1: Double, y1: Double, x2: Double, y2: Double
    let confidence: Double
    let `class`: String

    init(_ box: DetectedDefect) {
        x1 = rounded(Double(box.x1), 2)
        y1 = rounded(Double(box.y1), 2)
        x2 = rounded(Double(box.x2), 2)
        y2 = rounded(Double(box.y2), 2)
        confidence = rounded(Double(box.confidence), 4)
        `class` = box.className
    }
}

/// `{pin, action: "HIGH", duration_ms}`.
struct WireGPIOSignal: Encodable {
    let pin: Int
    let action: String
    let duration_ms: Int

    init(_ signal: GPIOSignal) {
        pin = signal.pin
        action = "HIGH"
        duration_ms = signal.durationMs
    }
}

/// Where the time of one frame went, in milliseconds (to the microsecond).
struct WireStageTimes: Encodable {
    var decode_ms: Double
    var queue_ms: Double
    var model_ms: Double
    var store_ms: Double
    var total_ms: Double
    /// The golden-board check (only when the camera has a golden board).
    var reference_ms: Double?

    init(_ times: StageTimes) {
        reference_ms = times.referenceMs.map { rounded($0, 3) }
        decode_ms = rounded(times.decodeMs, 3)
        queue_ms = rounded(times.queueMs, 3)
        model_ms = rounded(times.modelMs, 3)
        store_ms = rounded(times.storeMs, 3)
        total_ms = rounded(times.totalMs, 3)
    }
}

/// The `/predict` response body (and each side of `/predict_dual`).
struct WireSideResult: Encodable {
    let status = "ok"
    let camera_id: String
    let timestamp: String?
    let defect_type: String
    let category: String
    let confidence: Double
    let boxes: [WireBox]
    let inference_time_ms: Double
    let gpio_signal: WireGPIOSignal
    let inspection_id: Int64
    let image_saved: Bool
    let duplicate: Bool
    let stage_times_ms: WireStageTimes?
    /// The anomaly model's score, its threshold and whether it fired (only with `--anomaly`).
    var anomaly_score: Double? = nil
    var anomaly_threshold: Double? = nil
    var anomaly_fired: Bool? = nil
    /// The board's verdict, when it is decided by the time of the response.
    var board: WireBoard? = nil
    /// The check against the camera's golden board (only when it has one).
    var reference: WireReferenceCheck? = nil
    /// Boxes the detector found where the frame matches the golden board: not counted.
    var suppressed_boxes: [WireSuppressedBox]? = nil

    /// - Parameter includeBoard: `/predict` reports the board; each side of `/predict_dual` does not.
    init(_ side: InspectedSide, includeBoard: Bool) {
        self.init(side.record, timestamp: side.timestamp, duplicate: side.duplicate, stages: side.stages.map(WireStageTimes.init),
                  anomaly: side.anomaly)
        if includeBoard { board = side.board.map(WireBoard.init) }
        if let golden = side.golden {
            reference = WireReferenceCheck(registered: golden.registered, correlation: rounded(golden.correlation, 3), failure: golden.failure,
                                           anomaly_vetted: golden.anomalyCellsChecked > 0 ? golden.anomalyVetted : nil)
            suppressed_boxes = golden.suppressed.map(WireSuppressedBox.init)
        }
    }

    init(_ record: StoredInspection, timestamp: String?, duplicate: Bool, stages: WireStageTimes?, anomaly: AnomalyFinding? = nil) {
        camera_id = record.cameraId
        self.timestamp = timestamp ?? record.captureTimestamp
        defect_type = record.defectType
        category = record.category.rawValue
        confidence = rounded(record.confidence, 4)
        boxes = record.boxes.map(WireBox.init)
        inference_time_ms = rounded(record.inferenceTimeMs ?? 0, 3)
        gpio_signal = WireGPIOSignal(record.gpio)
        inspection_id = record.id
        image_saved = record.imagePath != nil
        self.duplicate = duplicate
        stage_times_ms = stages
        if let anomaly {
            anomaly_score = rounded(Double(anomaly.score), 4)
            anomaly_threshold = rounded(Double(anomaly.threshold), 4)
            anomaly_fired = anomaly.fired
        }
    }
}

/// How a frame compared with its camera's golden board.
struct WireReferenceCheck: Encodable {
    let registered: Bool
    let correlation: Double
    /// Why it did not register (then every box counted).
    let failure: String?
    /// Only when the anomaly model fired: true when every cell it fired on matches the golden
    /// board, so the firing did not count in the verdict.
    let anomaly_vetted: Bool?
}

/// A box suppressed by the golden board, and why.
struct WireSuppressedBox: Encodable {
    let x1: Double, y1: Double, x2: Double, y2: Double
    let confidence: Double
    let `class`: String
    let changed_pixels: Int
    let checked_pixels: Int
    let reason: String

    init(_ entry: GoldenCheck.Box) {
        let box = WireBox(entry.box)
        (x1, y1, x2, y2, confidence, `class`) = (box.x1, box.y1, box.x2, box.y2, box.confidence, box.class)
        changed_pixels = entry.changedPixels
        checked_pixels = entry.checkedPixels
        reason = "region matches the golden board: \(entry.changedPixels) of \(entry.checkedPixels) pixels differ"
    }
}

/// A decided board as `/predict` reports it: the verdict the left Raspberry Pi acts on.
struct WireBoard: Encodable {
    /// nil when the board's record could not be stored (the verdict is still valid).
    let board_id: Int64?
    let board_key: String
    let final_defect_type: String
    let final_category: String
    let confidence: Double
    let gpio_signal: WireGPIOSignal
    let fail_safe: Bool
    let missing_side: String?
    let left_inspection_id: Int64?
    let right_inspection_id: Int64?

    init(_ board: DecidedBoard) {
        let decision = board.decision
        board_id = board.stored?.id
        board_key = decision.boardKey
        final_defect_type = decision.verdict.category.label
        final_category = decision.verdict.category.code.rawValue
        confidence = rounded(Double(decision.verdict.confidence), 4)
        gpio_signal = WireGPIOSignal(decision.verdict.category.gpio)
        fail_safe = decision.isFailSafe
        missing_side = decision.missingSide?.rawValue
        left_inspection_id = decision.left?.inspectionId
        right_inspection_id = decision.right?.inspectionId
    }
}

/// The `/predict_dual` response body.
struct WireDualResult: Encodable {
    let status = "ok"
    let final_defect_type: String
    let final_category: String
    let confidence: Double
    /// The board's signal for the left Raspberry Pi (the seed's `{pin, duration_ms}`, plus `action`).
    let gpio_signal: WireGPIOSignal
    let board_id: Int64
    let left: WireSideResult
    let right: WireSideResult
    let note = "GPIO is driven by the left camera's Raspberry Pi only"

    init(_ inspected: InspectedBoard) {
        let board = inspected.board
        final_defect_type = board.defectType
        final_category = board.category.rawValue
        confidence = rounded(board.confidence, 4)
        gpio_signal = WireGPIOSignal(board.gpio)
        board_id = board.id
        left = WireSideResult(inspected.left, includeBoard: false)
        right = WireSideResult(inspected.right, includeBoard: false)
    }
}

func rounded(_ value: Double, _ digits: Int) -> Double {
    guard value.isFinite else { return 0 }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (value * scale).rounded() / scale
}
