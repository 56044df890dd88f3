// The inspection line: everything that happens to a frame between the HTTP body and the
// response, in one place and in one direction:
//
//   base64 JPEG ─► FrameDecoder ─► InferenceWorker (batch, queue)
//     ─► GoldenBoard.check (the camera's golden board, if taught: boxes over unchanged regions
//        suppressed) ─► DefectPolicy.judge
//     ─► LabellingPicker (kept for labelling? then its JPEG is stored whatever the verdict)
//     ─► InspectionStore.saveInspection ─► BoardPairingService (pair, deadline, store board)
//     ─► LiveFeed + metrics ─► InspectedSide / InspectedBoard
//
// `/predict` hands it one side, `/predict_dual` both sides of a board at once; both go through
// the same stages and the same pairing state machine, with the configured camera names. The
// line speaks its own error type (`InspectionLineError`); routes map it to HTTP.

import Detection
import Foundation
import ImageKit
import Inspection
import Logging
import Storage

/// Where the time of one frame went, in milliseconds.
public struct StageTimes: Sendable, Equatable {
    public var decodeMs: Double
    public var queueMs: Double
    public var modelMs: Double
    public var storeMs: Double
    public var totalMs: Double
    /// The golden-board check, when the camera has a golden board.
    public var referenceMs: Double? = nil

    /// Each stage with its name, for metrics and the live feed.
    public var named: [(String, Double)] {
        [("decode", decodeMs), ("queue", queueMs), ("model", modelMs)] + (referenceMs.map { [("reference", $0)] } ?? [])
            + [("store", storeMs), ("total", totalMs)]
    }
}

/// One camera's frame as a route hands it to the line.
public struct SideSubmission: Sendable {
    public var cameraId: String
    /// The frame as the camera sent it: base64 JPEG.
    public var frameBase64: String
    /// The capture time as the camera sent it, and parsed (nil when it sent none).
    public var timestamp: String?
    public var captureDate: Date?
    public var boardId: String?
    /// The camera's retry key: a second submission with it is answered from the store.
    public var requestId: String?
    /// Whether to wait (at most the pairing deadline) for the board's verdict.
    public var waitForBoard: Bool

    public init(cameraId: String, frameBase64: String, timestamp: String? = nil, captureDate: Date? = nil, boardId: String? = nil,
                requestId: String? = nil, waitForBoard: Bool = false) {
        self.cameraId = cameraId
        self.frameBase64 = frameBase64
        self.timestamp = timestamp
        self.captureDate = captureDate
        self.boardId = boardId
        self.requestId = requestId
        self.waitForBoard = waitForBoard
    }
}

/// Both sides of one board in one submission (`/predict_dual`).
public struct BoardSubmission: Sendable {
    public var leftBase64: String
    public var rightBase64: String
    public var timestamp: String?
    public var captureDate: Date?
    public var boardId: String?
    /// Retry key of the whole board; each side is stored under `requestId/camera`.
    public var requestId: String?

    public init(leftBase64: String, rightBase64: String, timestamp: String? = nil, captureDate: Date? = nil, boardId: String? = nil,
                requestId: String? = nil) {
        self.leftBase64 = leftBase64
        self.rightBase64 = rightBase64
        self.timestamp = timestamp
        self.captureDate = captureDate
        self.boardId = boardId
        self.requestId = requestId
    }
}

/// A judged and stored side.
public struct InspectedSide: Sendable {
    public var record: StoredInspection
    /// The timestamp the camera sent, echoed in the response.
    public var timestamp: String?
    /// A retried request answered from the store: nothing was stored again.
    public var duplicate: Bool
    /// nil for a retry answered from the store before any stage ran.
    public var stages: StageTimes?
    /// The anomaly model's finding (nil without one).
    public var anomaly: AnomalyFinding?
    /// The check against the camera's golden board (nil without one).
    public var golden: GoldenCheck? = nil
    /// The board's verdict, when it is decided by the time the line answers.
    public var board: DecidedBoard?
}

/// A board inspected in one submission: both sides and the stored board.
public struct InspectedBoard: Sendable {
    public var left: InspectedSide
    public var right: InspectedSide
    public var board: StoredBoard
}

/// Decode -> infer -> judge -> store -> pair -> live feed, for sides and whole boards.
public struct InspectionLine: Sendable {
    let decoder: FrameDecoder
    let worker: InferenceWorker
    let store: any InspectionStore
    let pairing: BoardPairingService
    let cameras: CameraRegistry
    let goldens: GoldenBoards
    let labelling: LabellingPicker
    let storeTime: StoreTime
    let live: LiveFeed?
    let metrics: ServerMetrics?
    let logger: Logger

    init(decoder: FrameDecoder, worker: InferenceWorker, store: any InspectionStore, pairing: BoardPairingService,
         cameras: CameraRegistry, goldens: GoldenBoards, labelling: LabellingPicker, storeTime: StoreTime, live: LiveFeed?,
         metrics: ServerMetrics?, logger: Logger) {
        self.goldens = goldens
        self.labelling = labelling
        self.storeTime = storeTime
        self.decoder = decoder
        self.worker = worker
        self.store = store
        self.pairing = pairing
        self.cameras = cameras
        self.live = live
        self.metrics = metrics
        self.logger = logger
    }

    /// The configured camera ids, in order (the first films the left side).
    public var cameraIds: [String] { cameras.cameras }

    /// One camera's frame: judged, stored, paired with the other side of its board.
    func inspectSide(_ submission: SideSubmission, receivedAt: ContinuousClock.Instant = .now) async throws(InspectionLineError) -> InspectedSide {
        guard cameras.isConfigured(submission.cameraId) else {
            throw .unknownCamera(submission.cameraId, configured: cameras.cameras)
        }
        // Request ids are scoped by camera (stored as `id/camera`, as /predict_dual's sides are):
        // another camera's id, guessed or clashing, never answers this camera's frame.
        let requestId = submission.requestId.map { "\($0)/\(submission.cameraId)" }
        if let requestId, let existing = try? await store.inspection(requestId: requestId) {
            logger.info("retried request answered from the store", metadata: ["request_id": "\(requestId)"])
            return InspectedSide(record: existing, timestamp: submission.timestamp, duplicate: true, stages: nil, anomaly: nil,
                                 board: nil)
        }
        let frame = try decode(submission.frameBase64, cameraId: submission.cameraId, timestamp: submission.timestamp,
                               requestId: requestId)
        var side = try await judgeAndStore([frame], receivedAt: receivedAt)[0]
        if !side.result.duplicate, let boardSide = cameras.side(of: submission.cameraId) {
            side.result.board = await pair(side, on: boardSide, boardId: submission.boardId, captureDate: submission.captureDate,
                                           waitForBoard: submission.waitForBoard)
        }
        log(side.result)
        return side.result
    }

    /// Both sides of a board as one model batch, paired by the same state machine as separate
    /// sides; the board is stored before the line answers.
    func inspectBoard(_ submission: BoardSubmission, receivedAt: ContinuousClock.Instant = .now) async throws(InspectionLineError) -> InspectedBoard {
        guard let leftCamera = cameras.camera(on: .left) else { throw .noCameraForSide("left", configured: cameras.cameras) }
        guard let rightCamera = cameras.camera(on: .right) else { throw .noCameraForSide("right", configured: cameras.cameras) }
        let left = try decode(submission.leftBase64, cameraId: leftCamera, timestamp: submission.timestamp,
                              requestId: submission.requestId.map { "\($0)/\(leftCamera)" })
        let right = try decode(submission.rightBase64, cameraId: rightCamera, timestamp: submission.timestamp,
                               requestId: submission.requestId.map { "\($0)/\(rightCamera)" })
        let sides = try await judgeAndStore([left, right], receivedAt: receivedAt)
        // A retried submission without a board id pairs under its request id, so the retry
        // finds the board of the first attempt.
        let boardKey = submission.boardId ?? submission.requestId ?? "dual-" + UUID().uuidString.lowercased()
        var decided: DecidedBoard? = nil
        for (side, boardSide) in zip(sides, [BoardSide.left, .right]) where !side.result.duplicate {
            decided = await pair(side, on: boardSide, boardId: boardKey, captureDate: submission.captureDate, waitForBoard: false) ?? decided
        }
        let board = try await storedBoard(decided, sides: sides.map(\.result))
        logger.info("board inspected", metadata: ["board": "\(board.boardKey)", "category": "\(board.category.rawValue)"])
        return InspectedBoard(left: sides[0].result, right: sides[1].result, board: board)
    }

    // MARK: - Stages

    /// A decoded frame on its way through the line.
    private struct Frame {
        var cameraId: String
        var jpeg: [UInt8]
        var image: RGBImage
        var timestamp: String?
        var requestId: String?
        var decodeMs: Double
    }

    /// A stored side and the verdict it was stored with (the pairing needs the verdict).
    private struct JudgedSide {
        var result: InspectedSide
        var verdict: SideVerdict
    }

    private func decode(_ base64: String, cameraId: String, timestamp: String?, requestId: String?) throws(InspectionLineError) -> Frame {
        let start = ContinuousClock.Instant.now
        let decoded = try decoder.decode(base64: base64)
        cameras.frameArrived(from: cameraId)
        return Frame(cameraId: cameraId, jpeg: decoded.jpeg, image: decoded.image, timestamp: timestamp, requestId: requestId,
                     decodeMs: (ContinuousClock.Instant.now - start).milliseconds)
    }

    /// Runs `frames` through the model as one batch, judges each with the policy and stores it.
    private func judgeAndStore(_ frames: [Frame], receivedAt: ContinuousClock.Instant) async throws(InspectionLineError) -> [JudgedSide] {
        let outcome: InferenceOutcome
        do {
            outcome = try await worker.submit(frames.map(\.image))
        } catch let error as InferenceError where error.isQueueFull {
            throw .busy
        } catch {
            throw .inferenceUnavailable("\(error)")
        }
        var results: [JudgedSide] = []
        for (index, (frame, boxes)) in zip(frames, outcome.detections).enumerated() {
            let anomaly = index < outcome.anomalies.count ? outcome.anomalies[index] : nil
            // Judged, and recorded, by the set whose model ran the batch (a reload may switch at any time).
            let judging = outcome.judging
            let policy = judging.policy
            // The detector also reports boxes a little under their threshold, for the labelling
            // sampler only: the verdict and the golden board see the boxes at or above it.
            var counted: [DetectedDefect] = [], almost: [DetectedDefect] = []
            for box in boxes {
                if box.confidence >= policy.threshold(for: box.className) { counted.append(box) } else { almost.append(box) }
            }
            let fired = anomaly?.fired ?? false
            let (golden, referenceMs) = checkAgainstGoldenBoard(counted, anomalyCells: fired ? anomaly?.firedCells ?? [] : [], frame)
            let verdict = policy.judge(golden?.keptBoxes ?? counted, anomalyFired: golden?.anomalyCounts(fired: fired) ?? fired)
            let isNormal = verdict.category.code == .normal
            let labelReason = labelling.choose(boxes: verdict.boxes + almost, category: verdict.category.code, policy: policy,
                                               day: storeTime.day(of: Date()))
            let storeStart = ContinuousClock.Instant.now
            let saved: SavedInspection
            do {
                var inspection = NewInspection(
                    cameraId: frame.cameraId, category: verdict.category.code, defectType: verdict.category.label,
                    confidence: verdict.confidence, inspectionTime: Date(), captureTimestamp: frame.timestamp,
                    boxes: verdict.boxes, gpio: verdict.category.gpio, requestId: frame.requestId,
                    inferenceTimeMs: rounded(outcome.modelMs, 3), anomalyScore: anomaly.map { rounded(Double($0.score), 4) },
                    anomalyMap: isNormal ? nil : anomaly.map(StoredAnomalyMap.init),
                    image: isNormal && labelReason == nil ? nil : frame.jpeg)
                inspection.provenance = judging.provenance
                inspection.labelReason = labelReason
                saved = try await store.saveInspection(inspection)
            } catch {
                logger.error("could not store inspection: \(error)", metadata: ["camera": "\(frame.cameraId)"])
                throw .storeUnavailable("result", "\(error)")
            }
            let now = ContinuousClock.Instant.now
            let stages = StageTimes(decodeMs: frame.decodeMs, queueMs: outcome.queueMs, modelMs: outcome.modelMs,
                                    storeMs: (now - storeStart).milliseconds, totalMs: (now - receivedAt).milliseconds,
                                    referenceMs: referenceMs)
            if !saved.wasDuplicate {
                metrics?.inspection(camera: frame.cameraId, category: verdict.category.code.rawValue)
                metrics?.stages(stages.named)
                live?.inspected(saved.record, jpeg: frame.jpeg, width: frame.image.width, height: frame.image.height, stages: stages,
                                anomaly: anomaly)
            }
            results.append(JudgedSide(
                result: InspectedSide(record: saved.record, timestamp: frame.timestamp, duplicate: saved.wasDuplicate, stages: stages,
                                      anomaly: anomaly, golden: golden, board: nil),
                verdict: verdict))
        }
        return results
    }

    /// The frame's boxes against its camera's golden board (nil without one), and the time it took.
    private func checkAgainstGoldenBoard(_ boxes: [DetectedDefect], anomalyCells: [(x1: Double, y1: Double, x2: Double, y2: Double)],
                                         _ frame: Frame) -> (GoldenCheck?, Double?) {
        guard let golden = goldens.entry(for: frame.cameraId) else { return (nil, nil) }
        let start = ContinuousClock.Instant.now
        let check = golden.board.check(boxes, in: frame.image, anomalyCells: anomalyCells)
        let ms = (ContinuousClock.Instant.now - start).milliseconds
        if !check.registered {
            // Judged by the detector alone; counted always, logged at most once a minute.
            metrics?.referenceUnregistered(camera: frame.cameraId)
            if goldens.mayLogFailure() {
                logger.warning("frame judged without its golden board: \(check.failure ?? "not registered")", metadata: ["camera": "\(frame.cameraId)"])
            }
        } else {
            if !check.suppressed.isEmpty { metrics?.referenceSuppressed(camera: frame.cameraId, count: check.suppressed.count) }
            if check.anomalyVetted { metrics?.referenceAnomalyVetted(camera: frame.cameraId) }
        }
        return (check, ms)
    }

    /// Hands a stored side to the pairing; its board when decided now (or, waiting, by the deadline).
    private func pair(_ side: JudgedSide, on boardSide: BoardSide, boardId: String?, captureDate: Date?, waitForBoard: Bool) async -> DecidedBoard? {
        // Capture times are compared only with each other: the cameras' clocks, or the
        // server's wall clock for a frame sent without a timestamp.
        let captureTime = (captureDate ?? Date()).timeIntervalSince1970
        let outcome = await pairing.sideArrived(SideResult(
            side: boardSide, inspectionId: side.result.record.id, boardId: boardId, captureTime: captureTime, verdict: side.verdict))
        switch outcome {
        case .decided(let decided): return decided
        case .waiting where waitForBoard: return await pairing.board(of: side.result.record.id)
        case .waiting, .ignored: return nil
        }
    }

    /// The stored board of a whole-board submission: just decided, or (a retry) decided by the
    /// first attempt, stored again if the database refused it then.
    private func storedBoard(_ decided: DecidedBoard?, sides: [InspectedSide]) async throws(InspectionLineError) -> StoredBoard {
        if let stored = decided?.stored { return stored }
        let id = sides[0].record.id
        if let retried = await pairing.storedBoard(of: id) { return retried }
        if let boardId = sides[0].record.boardId, let existing = try? await store.board(id: boardId) { return existing }
        throw .storeUnavailable("board", "the board of inspection \(id) could not be stored")
    }

    private func log(_ side: InspectedSide) {
        logger.info("inspected", metadata: [
            "camera": "\(side.record.cameraId)", "category": "\(side.record.category.rawValue)",
            "confidence": "\(rounded(side.record.confidence, 3))", "boxes": "\(side.record.boxes.count)",
            "model_ms": "\(rounded(side.stages?.modelMs ?? 0, 3))", "id": "\(side.record.id)",
        ])
    }
}

extension StoredAnomalyMap {
    /// The map of `finding` as the history keeps it (distances to 0.1, placement to 0.01 px).
    init(_ finding: AnomalyFinding) {
        self.init(score: rounded(Double(finding.score), 4), threshold: rounded(Double(finding.threshold), 4), fired: finding.fired,
                  gridWidth: finding.gridWidth, gridHeight: finding.gridHeight, originX: rounded(finding.originX, 2),
                  originY: rounded(finding.originY, 2), cellWidth: rounded(finding.cellWidth, 3), cellHeight: rounded(finding.cellHeight, 3),
                  cells: finding.map.map { rounded(Double($0), 1) })
    }
}
