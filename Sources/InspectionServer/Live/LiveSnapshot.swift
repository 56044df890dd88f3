// The live dashboard's wire types: one `LiveSnapshot` (the body of `GET /live/snapshot` and of
// every `/ws/live` message), and the frames and boards it lists. Field names are snake_case
// like the rest of the API; docs/openapi.yaml describes them (`LiveSnapshot`).

import Detection
import Inspection
import Telemetry

/// Everything the dashboard shows at one moment.
struct LiveSnapshot: Encodable, Sendable {
    var type = "snapshot"
    let server_time: String
    let model_ready: Bool
    let model: String
    /// The number format of the detector's convolutions (fp32, bf16, int8).
    let precision: String
    /// The mirror images each frame is also run on (none, horizontal, both).
    let test_time_flips: String
    let database_online: Bool
    let queue_depth: Int
    let journal_pending: Int
    /// The data disk is below its minimum free space: images are not being saved.
    let disk_low: Bool
    /// Every category with its wire label and sorter pin.
    let categories: [Category]
    /// Model class -> category code (the colour of a box).
    let class_categories: [String: String]
    /// Inspections (frames) today, the seed's statistics for the server's current day.
    let today: Counts
    /// Boards decided since the server started.
    let boards: BoardCounts
    let cameras: [Camera]
    /// Per stage (decode, queue, model, store, total): percentiles of the latest 1,000 frames.
    let latency_ms: [String: Percentiles]
    let defect_rate_history: RateHistory
    /// Newest first.
    let recent_boards: [LiveBoard]
    /// Newest first.
    let recent_frames: [LiveFrame.Summary]

    struct Status: Sendable {
        var modelReady: Bool
        var model: String
        var databaseOnline: Bool
        var queueDepth: Int
        var journalPending: Int
        var precision = "fp32"
        var flips = "none"
        var diskLow = false
    }

    struct Category: Encodable, Sendable {
        let code: String
        let label: String
        let gpio_pin: Int
    }

    struct Counts: Encodable, Sendable {
        let day: String
        let total: Int
        let counts: [String: Int]
        /// Percentage of non-normal frames.
        let defect_rate: Double
    }

    struct BoardCounts: Encodable, Sendable {
        let total: Int
        let counts: [String: Int]
        let fail_safe: Int
    }

    struct Camera: Encodable, Sendable {
        let camera_id: String
        let online: Bool
        /// nil until the camera's first frame.
        let last_frame_age_s: Double?
        let fps: Double
        let frames: Int
    }

    struct Percentiles: Encodable, Sendable {
        let count: Int
        let p50: Double
        let p95: Double
        let p99: Double

        /// Percentiles of `samples` (Telemetry's nearest rank), to the microsecond.
        init(_ samples: [Double]) {
            let percentiles = Telemetry.Percentiles(samples)
            count = percentiles.count
            p50 = rounded(percentiles.value(at: 50), 3)
            p95 = rounded(percentiles.value(at: 95), 3)
            p99 = rounded(percentiles.value(at: 99), 3)
        }
    }

    struct RateHistory: Encodable, Sendable {
        let bucket_s: Int
        let window_s: Int
        /// Minutes with at least one frame, oldest first.
        let points: [RatePoint]
    }

    struct RatePoint: Encodable, Sendable {
        /// Start of the bucket, milliseconds since 1970 (UTC).
        let t: Int64
        let total: Int
        let defective: Int
    }
}

/// A recent frame: its verdict and boxes as the snapshot lists them, and the JPEG (served at
/// `/live/frames/{inspection_id}`).
struct LiveFrame: Sendable {
    let summary: Summary
    let jpeg: [UInt8]

    var inspectionId: Int64 { summary.inspection_id }

    struct Summary: Encodable, Sendable {
        let inspection_id: Int64
        let camera_id: String
        let category: String
        let label: String
        let confidence: Double
        let time: String
        let width: Int
        let height: Int
        let boxes: [WireBox]
        let image_url: String
        /// The anomaly model's finding and map on this frame (only with `--anomaly`).
        let anomaly: LiveAnomaly?
    }
}

/// The anomaly map of a frame for the dashboard's heat-map overlay: cell (gx, gy) covers
/// frame pixels x0 + gx * cell_w ... and y0 + gy * cell_h ... (The history keeps its own
/// `StoredAnomalyMap`.)
struct LiveAnomaly: Encodable, Sendable {
    let score: Double
    let threshold: Double
    let fired: Bool
    let grid_width: Int
    let grid_height: Int
    let x0: Double
    let y0: Double
    let cell_w: Double
    let cell_h: Double
    /// Per-cell distances, row by row, rounded to 0.1.
    let map: [Double]

    init(_ finding: AnomalyFinding) {
        score = rounded(Double(finding.score), 4)
        threshold = rounded(Double(finding.threshold), 4)
        fired = finding.fired
        grid_width = finding.gridWidth
        grid_height = finding.gridHeight
        x0 = rounded(finding.originX, 2)
        y0 = rounded(finding.originY, 2)
        cell_w = rounded(finding.cellWidth, 3)
        cell_h = rounded(finding.cellHeight, 3)
        map = finding.map.map { rounded(Double($0), 1) }
    }
}

/// A recent board and its two sides.
struct LiveBoard: Encodable, Sendable {
    let board_id: Int64?
    let board_key: String
    let category: String
    let label: String
    let fail_safe: Bool
    let missing_side: String?
    let decided_at: String
    let left: Side?
    let right: Side?

    struct Side: Encodable, Sendable {
        let inspection_id: Int64
        /// nil when the frame is no longer in the feed.
        let frame: LiveFrame.Summary?
    }

    /// What a board decider reports.
    struct Decision: Sendable {
        var boardId: Int64?
        var boardKey: String
        var category: DefectCategory
        var failSafe: Bool
        var missingSide: String?
        var leftInspectionId: Int64?
        var rightInspectionId: Int64?
    }
}
