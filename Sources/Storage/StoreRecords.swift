// The values the store takes and gives back: inspections, boards, statistics, logs.

import Foundation
import Inspection
import Telemetry

/// What judged a verdict, stored with every inspection and board so a verdict can be traced
/// and a bad model's boards found afterwards. Each id is a file name and a fingerprint of its
/// bytes (`name@16 hex digits`).
public struct Provenance: Sendable, Equatable, Codable {
    /// The detector, e.g. `pcb_synthetic_yolov8n.onnx@9f2c0a17b3d4e5f6`.
    public var model: String
    /// The per-class thresholds file, when one was applied.
    public var calibration: String?
    /// The defect policy file.
    public var policy: String
    /// The `pcb` program's version.
    public var serverVersion: String

    public init(model: String, calibration: String?, policy: String, serverVersion: String) {
        self.model = model
        self.calibration = calibration
        self.policy = policy
        self.serverVersion = serverVersion
    }

    /// `name@fingerprint` of a file's bytes (FNV-1a, 64 bits: tells files apart, not a signature).
    public static func fileId(name: String, bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return name + "@" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The provenance stored in a row's four columns (nil for rows from before it was kept).
    init?(model: String?, calibration: String?, policy: String?, serverVersion: String?) {
        guard let model else { return nil }
        self.init(model: model, calibration: calibration, policy: policy ?? "", serverVersion: serverVersion ?? "")
    }
}

/// One inspected frame, ready to be stored.
public struct NewInspection: Sendable {
    public var cameraId: String
    public var category: CategoryCode
    /// The seed's wire label (`defect_type`).
    public var defectType: String
    public var confidence: Float
    /// When the server decided (stored in the store's time zone).
    public var inspectionTime: Date
    /// The capture time exactly as the camera sent it, if it did.
    public var captureTimestamp: String?
    public var boxes: [DetectedDefect]
    public var gpio: GPIOSignal
    /// A camera's retry key: a second save with the same id returns the first record.
    public var requestId: String?
    public var inferenceTimeMs: Double?
    /// The anomaly model's image score, when one ran beside the detector.
    public var anomalyScore: Double?
    /// The anomaly map (grid, placement on the frame, per-cell values), kept for non-normal
    /// inspections so the heat map can be drawn over the stored image.
    public var anomalyMap: StoredAnomalyMap?
    /// JPEG bytes to keep on disk (non-normal inspections); nil to keep none.
    public var image: [UInt8]?
    /// The model, calibration, policy and server that judged it.
    public var provenance: Provenance? = nil
    /// Kept for labelling (`LabellingSampler`); its JPEG is then stored whatever the verdict.
    public var labelReason: LabellingReason? = nil

    public init(cameraId: String, category: CategoryCode, defectType: String, confidence: Float, inspectionTime: Date,
                captureTimestamp: String? = nil, boxes: [DetectedDefect] = [], gpio: GPIOSignal, requestId: String? = nil,
                inferenceTimeMs: Double? = nil, anomalyScore: Double? = nil, anomalyMap: StoredAnomalyMap? = nil,
                image: [UInt8]? = nil) {
        self.cameraId = cameraId
        self.category = category
        self.defectType = defectType
        self.confidence = confidence
        self.inspectionTime = inspectionTime
        self.captureTimestamp = captureTimestamp
        self.boxes = boxes
        self.gpio = gpio
        self.requestId = requestId
        self.inferenceTimeMs = inferenceTimeMs
        self.anomalyScore = anomalyScore
        self.anomalyMap = anomalyMap
        self.image = image
    }
}

/// An inspection as stored.
public struct StoredInspection: Sendable, Equatable {
    public var id: Int64
    public var cameraId: String
    public var category: CategoryCode
    public var defectType: String
    public var confidence: Double
    /// Local time of the store's time zone, `YYYY-MM-DD HH:MM:SS.ffffff`.
    public var inspectionTime: String
    public var captureTimestamp: String?
    public var imagePath: String?
    public var boxes: [DetectedDefect]
    public var gpio: GPIOSignal
    public var requestId: String?
    public var boardId: Int64?
    public var inferenceTimeMs: Double?
    public var anomalyScore: Double? = nil
    public var anomalyMap: StoredAnomalyMap? = nil
    public var provenance: Provenance? = nil
    /// Why the frame is kept for labelling, if it is.
    public var labelReason: LabellingReason? = nil
}

/// The result of a save: the record, and whether it already existed (a retried request).
public struct SavedInspection: Sendable {
    public var record: StoredInspection
    public var wasDuplicate: Bool
}

/// A page of inspections, newest first.
public struct InspectionPage: Sendable {
    public var rows: [StoredInspection]
    public var total: Int
}

/// Counts per category over a date range.
public struct InspectionStatistics: Sendable, Equatable {
    public var total: Int
    public var counts: [CategoryCode: Int]
    /// What operators said of the frames and boards of the range (the latest review of each).
    public var frameReviews = ReviewCounts()
    public var boardReviews = ReviewCounts()

    public init(total: Int, counts: [CategoryCode: Int], frameReviews: ReviewCounts = ReviewCounts(),
                boardReviews: ReviewCounts = ReviewCounts()) {
        self.total = total
        self.counts = counts
        self.frameReviews = frameReviews
        self.boardReviews = boardReviews
    }

    /// Percentage of non-normal inspections (0 when there are none).
    public var defectRatePercent: Double {
        guard total > 0 else { return 0 }
        return Double(total - (counts[.normal] ?? 0)) / Double(total) * 100
    }
}

/// A decided board: both sides (or the one that arrived) and the verdict.
public struct NewBoard: Sendable {
    public var boardKey: String
    public var category: CategoryCode
    public var defectType: String
    public var confidence: Float
    public var gpio: GPIOSignal
    public var decidedAt: Date
    public var leftInspectionId: Int64?
    public var rightInspectionId: Int64?
    /// True when the verdict is the fail-safe because a side was missing.
    public var failSafe: Bool
    public var note: String?
    /// The model, calibration, policy and server that judged its sides.
    public var provenance: Provenance? = nil

    public init(boardKey: String, category: CategoryCode, defectType: String, confidence: Float, gpio: GPIOSignal,
                decidedAt: Date, leftInspectionId: Int64?, rightInspectionId: Int64?, failSafe: Bool = false, note: String? = nil) {
        self.boardKey = boardKey
        self.category = category
        self.defectType = defectType
        self.confidence = confidence
        self.gpio = gpio
        self.decidedAt = decidedAt
        self.leftInspectionId = leftInspectionId
        self.rightInspectionId = rightInspectionId
        self.failSafe = failSafe
        self.note = note
    }
}

/// A board as stored.
public struct StoredBoard: Sendable, Equatable {
    public var id: Int64
    public var boardKey: String
    public var category: CategoryCode
    public var defectType: String
    public var confidence: Double
    public var gpio: GPIOSignal
    public var decidedAt: String
    public var leftInspectionId: Int64?
    public var rightInspectionId: Int64?
    public var failSafe: Bool
    public var note: String?
    public var provenance: Provenance? = nil
}

extension StoredInspection {
    /// The record of `inspection` as stored under `id` (confidence as DECIMAL(5,4) keeps it).
    init(id: Int64, _ inspection: NewInspection, inspectionTime: String, imagePath: String?) {
        self.init(id: id, cameraId: inspection.cameraId, category: inspection.category, defectType: inspection.defectType,
                  confidence: decimal54(inspection.confidence), inspectionTime: inspectionTime,
                  captureTimestamp: inspection.captureTimestamp, imagePath: imagePath, boxes: inspection.boxes,
                  gpio: inspection.gpio, requestId: inspection.requestId, boardId: nil, inferenceTimeMs: inspection.inferenceTimeMs,
                  anomalyScore: inspection.anomalyScore, anomalyMap: inspection.anomalyMap, provenance: inspection.provenance,
                  labelReason: inspection.labelReason)
    }
}

extension StoredBoard {
    /// The record of `board` as stored under `id` (confidence as DECIMAL(5,4) keeps it).
    init(id: Int64, _ board: NewBoard, decidedAt: String) {
        self.init(id: id, boardKey: board.boardKey, category: board.category, defectType: board.defectType,
                  confidence: decimal54(board.confidence), gpio: board.gpio, decidedAt: decidedAt,
                  leftInspectionId: board.leftInspectionId, rightInspectionId: board.rightInspectionId,
                  failSafe: board.failSafe, note: board.note, provenance: board.provenance)
    }
}

/// A row of `system_logs`.
public struct SystemLogEntry: Sendable, Equatable {
    public var level: String
    public var source: String
    public var message: String
    /// JSON text, if any.
    public var details: String?
    public var createdAt: String?

    public init(level: String, source: String, message: String, details: String? = nil, createdAt: String? = nil) {
        self.level = level
        self.source = source
        // Messages quote clients (board ids, paths): one row must read as one event.
        self.message = LogText.escaped(message)
        self.details = details
        self.createdAt = createdAt
    }
}

/// What an operator reviews: one frame or one board.
public enum ReviewSubject: Sendable, Equatable, Hashable {
    case inspection(Int64)
    case board(Int64)

    public var kind: String {
        switch self {
        case .inspection: "inspection"
        case .board: "board"
        }
    }

    public var id: Int64 {
        switch self {
        case .inspection(let id), .board(let id): id
        }
    }
}

/// An operator's word on a verdict. Appended, never replacing the machine's verdict or an
/// earlier review: the latest review of a subject is the one statistics count.
public struct NewReview: Sendable, Equatable {
    public var subject: ReviewSubject
    /// The category the operator says is right.
    public var verdict: CategoryCode
    /// Model classes the operator saw (optional, free of boxes).
    public var classes: [String]
    public var note: String?
    public var operatorName: String
    public var reviewedAt: Date

    public init(subject: ReviewSubject, verdict: CategoryCode, classes: [String] = [], note: String? = nil, operatorName: String,
                reviewedAt: Date = Date()) {
        self.subject = subject
        self.verdict = verdict
        self.classes = classes
        self.note = note
        self.operatorName = operatorName
        self.reviewedAt = reviewedAt
    }
}

/// A review as stored, with the machine's verdict it was made against.
public struct StoredReview: Sendable, Equatable {
    public var id: Int64
    public var subject: ReviewSubject
    /// The machine's category of the subject when it was reviewed.
    public var machineCategory: CategoryCode
    public var verdict: CategoryCode
    public var classes: [String]
    public var note: String?
    public var operatorName: String
    /// Local time of the store's zone, as the other times.
    public var reviewedAt: String

    /// The operator agrees with the machine.
    public var confirmsMachine: Bool { verdict == machineCategory }
    /// A good board the machine rejected.
    public var isFalseCall: Bool { verdict == .normal && machineCategory != .normal }
    /// A bad board the machine passed.
    public var isEscape: Bool { verdict != .normal && machineCategory == .normal }
}

/// The latest reviews of a range, counted.
public struct ReviewCounts: Sendable, Equatable {
    public var reviewed = 0
    public var confirmed = 0
    public var falseCalls = 0
    public var escapes = 0
    /// Rejected with the wrong category (both non-normal, different).
    public var wrongCategory = 0

    public init() {}

    /// Counts the latest review of each subject (`reviews` in any order, one per subject).
    public init(latest reviews: [StoredReview]) {
        for review in reviews {
            reviewed += 1
            if review.confirmsMachine { confirmed += 1 } else if review.isFalseCall { falseCalls += 1 } else if review.isEscape {
                escapes += 1
            } else { wrongCategory += 1 }
        }
    }
}

/// A frame kept for labelling, as the dataset export reads it.
public struct LabellingFrame: Sendable, Equatable {
    public var inspection: StoredInspection
    /// The latest review of the frame itself, if any.
    public var review: StoredReview?
}
