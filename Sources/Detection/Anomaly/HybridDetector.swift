// The detector the server loads when an anomaly model is configured: YOLO and PaDiM on one
// engine run per batch.

import ImageKit
import Inspection
import NeuralEngine

/// The YOLO detector with a PaDiM model beside it: one engine run per batch gives the boxes
/// and the backbone maps the anomaly model scores.
public final class HybridDetector: DefectDetector, Sendable {
    public let detector: YOLODetector
    public let scorer: PaDiMScorer
    public var classNames: [String] { detector.classNames }
    public var maxBatchSize: Int { detector.maxBatchSize }
    public let modelDescription: String
    public var precision: Precision { detector.precision }
    public var flips: TestTimeFlips { detector.flips }

    public init(detector: YOLODetector, anomaly: PaDiMModel, threads: Int) throws {
        self.detector = detector
        scorer = PaDiMScorer(model: anomaly, threads: threads)
        try scorer.check(detector: detector)
        let mode = anomaly.components > 0 ? "mixture of \(anomaly.components)"
            : anomaly.registration != nil ? "registered, radius \(anomaly.radius)" : "radius \(anomaly.radius)"
        modelDescription = detector.modelDescription + " + PaDiM (\(anomaly.gridWidth)x\(anomaly.gridHeight) grid, \(mode), threshold \(anomaly.threshold))"
    }

    public func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] {
        try inspect(frames).map(\.boxes)
    }

    public func inspect(_ frames: [RGBImage]) throws -> [FrameFindings] {
        let layers = Set(scorer.model.layers)
        return try zip(detector.analyze(frames, capturing: layers), frames).map { analysis, frame in
            do {
                return FrameFindings(boxes: analysis.boxes, anomaly: try scorer.finding(analysis, frame: frame))
            } catch {
                // For example a frame size the model was not fitted for: the boxes still count.
                return FrameFindings(boxes: analysis.boxes, anomalyError: "\(error)")
            }
        }
    }
}
