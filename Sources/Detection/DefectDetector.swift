// The detector protocol: frames in, boxes in frame pixels out.
//
// The shipped detector is `YOLODetector` (an Ultralytics ONNX model run by NeuralEngine);
// tests use fakes. Detectors are called from the server's single inference worker thread,
// never from an event loop, so `detect` is synchronous and may take as long as the model does.

import ImageKit
import Inspection

/// Finds defects in camera frames.
public protocol DefectDetector: Sendable {
    /// Class names in model output order (Ultralytics stores them in the ONNX metadata).
    var classNames: [String] { get }
    /// How many frames one `detect` call runs together at most (2: both sides of a board).
    var maxBatchSize: Int { get }
    /// Human-readable model description for logs and `/health`.
    var modelDescription: String { get }

    /// Runs the model on every frame; one list of boxes per frame, in frame pixels.
    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]]

    /// Runs the model once on a blank frame so the first real frame is not slow.
    func warmUp() throws
}

extension DefectDetector {
    public func warmUp() throws {
        _ = try detect([RGBImage(width: 640, height: 480, fill: (114, 114, 114))])
    }
}
