// The detector protocol: frames in, boxes in frame pixels out.
//
// The shipped detector is `YOLODetector` (an Ultralytics ONNX model run by NeuralEngine);
// tests use fakes. Detectors are called from the server's single inference worker thread,
// never from an event loop, so `detect` is synchronous and may take as long as the model does.

import ImageKit
import Inspection
import NeuralEngine

/// Finds defects in camera frames.
public protocol DefectDetector: Sendable {
    /// Class names in model output order (Ultralytics stores them in the ONNX metadata).
    var classNames: [String] { get }
    /// How many frames one `detect` call runs together at most (2: both sides of a board).
    var maxBatchSize: Int { get }
    /// Human-readable model description for logs and `/health`.
    var modelDescription: String { get }
    /// The number format the model's convolutions run in.
    var precision: Precision { get }
    /// The mirror images each frame is also run on (the operating point's test-time flips).
    var flips: TestTimeFlips { get }

    /// Runs the model on every frame; one list of boxes per frame, in frame pixels.
    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]]

    /// Runs the model once on a blank frame so the first real frame is not slow.
    func warmUp() throws

    /// Boxes and, where an anomaly model runs beside the detector, its finding, per frame.
    func inspect(_ frames: [RGBImage]) throws -> [FrameFindings]
}

extension DefectDetector {
    /// A detector that does not run on NeuralEngine (a test's fake) computes in fp32.
    public var precision: Precision { .fp32 }
    /// ... and runs each frame once.
    public var flips: TestTimeFlips { .none }
}

/// What a detector found in one frame.
public struct FrameFindings: Sendable {
    /// Boxes in frame pixels.
    public var boxes: [DetectedDefect]
    /// The anomaly model's finding; nil without one.
    public var anomaly: AnomalyFinding?
    /// Why the anomaly model could not score this frame, when it runs but failed.
    public var anomalyError: String?

    public init(boxes: [DetectedDefect], anomaly: AnomalyFinding? = nil, anomalyError: String? = nil) {
        self.boxes = boxes
        self.anomaly = anomaly
        self.anomalyError = anomalyError
    }
}

/// The anomaly model's say on one frame: its score against the threshold, and the map.
public struct AnomalyFinding: Sendable, Equatable {
    public var score: Float
    public var threshold: Float
    public var fired: Bool { score > threshold }
    /// Per-cell distances, row by row, `gridWidth x gridHeight`.
    public var map: [Float]
    public var gridWidth: Int
    public var gridHeight: Int
    /// Where the grid lies on the frame: its top-left corner and one cell's size, frame pixels.
    public var originX: Double
    public var originY: Double
    public var cellWidth: Double
    public var cellHeight: Double

    /// Grid cell coordinates -> frame pixels, exactly, when the frame was registered (the
    /// origin and cell size above then leave out its small rotation).
    public var placement: AffineMap?

    /// The cells above the threshold (the ones that made it fire), in frame pixels.
    public var firedCells: [(x1: Double, y1: Double, x2: Double, y2: Double)] {
        map.indices.filter { map[$0] > threshold }.map(cell)
    }

    /// Cell `index` (row by row) in frame pixels: a `cellWidth x cellHeight` box about its centre.
    public func cell(_ index: Int) -> (x1: Double, y1: Double, x2: Double, y2: Double) {
        let gx = Double(index % gridWidth), gy = Double(index / gridWidth)
        let (cx, cy) = placement?.apply(gx + 0.5, gy + 0.5) ?? (originX + (gx + 0.5) * cellWidth, originY + (gy + 0.5) * cellHeight)
        return (cx - cellWidth / 2, cy - cellHeight / 2, cx + cellWidth / 2, cy + cellHeight / 2)
    }

    public init(score: Float, threshold: Float, map: [Float], gridWidth: Int, gridHeight: Int,
                originX: Double, originY: Double, cellWidth: Double, cellHeight: Double, placement: AffineMap? = nil) {
        self.placement = placement
        self.score = score
        self.threshold = threshold
        self.map = map
        self.gridWidth = gridWidth
        self.gridHeight = gridHeight
        self.originX = originX
        self.originY = originY
        self.cellWidth = cellWidth
        self.cellHeight = cellHeight
    }
}

extension DefectDetector {
    /// Without an anomaly model: the boxes alone.
    public func inspect(_ frames: [RGBImage]) throws -> [FrameFindings] {
        try detect(frames).map { FrameFindings(boxes: $0) }
    }

    public func warmUp() throws {
        _ = try detect([RGBImage(width: 640, height: 480, fill: (114, 114, 114))])
    }
}
