// The shipped detector: an Ultralytics YOLOv8/YOLO11 detection model exported to ONNX, run
// by NeuralEngine. Letterbox -> model -> decode + class-wise NMS -> boxes in frame pixels.
//
// The two sides of a board run as one batch when the model's batch dimension is dynamic
// (`yolo export dynamic=True`); a model exported with a fixed batch of 1 runs them one after
// the other. Not safe for concurrent calls: the server gives it to one worker thread.

import ImageKit
import Inspection
import NeuralEngine

/// Runs an Ultralytics detection ONNX model.
///
/// ```swift
/// let detector = try YOLODetector(path: "models/pcb_synthetic_yolov8n.onnx", threads: 2)
/// let boxes = try detector.detect([frame])[0]
/// ```
public final class YOLODetector: DefectDetector, @unchecked Sendable {
    public var classNames: [String] { model.classNames }
    public let maxBatchSize: Int
    public let modelDescription: String
    /// The convolutions' number format.
    public let precision: Precision
    public var metadata: UltralyticsMetadata { model.metadata }
    /// Mirror images each frame is also run on.
    public var flips: TestTimeFlips { model.flips }
    /// Thresholds and NMS rules (Ultralytics' defaults).
    public var postprocessor: YOLOPostprocessor

    private let model: YOLOModelFile
    public var modelFile: YOLOModelFile { model }
    /// Input size the model was exported for (height, width).
    private let targetHeight: Int
    private let targetWidth: Int
    /// True when height and width are dynamic: inputs are letterboxed rectangular.
    private let dynamicSize: Bool
    /// A fixed batch dimension, or nil when it is dynamic.
    private var fixedBatch: Int? { model.fixedBatch }

    /// Loads the model.
    /// - Parameters:
    ///   - path: ONNX file exported by Ultralytics (class names in its metadata).
    ///   - threads: engine threads.
    ///   - precision: the convolutions' number format (bf16 only where the CPU has AVX512_BF16).
    ///   - inputSize: for dynamic-size models, the (height, width) to letterbox to
    ///     (default: the export's `imgsz`, else 640x640).
    ///   - int8Inputs: in int8, the convolutions' input ranges instead of the calibration
    ///     beside the model (while a calibration is made).
    ///   - flips: mirror images each frame is also run on, outputs averaged before NMS (the
    ///     operating point's `test_time_flips`).
    public init(path: String, threads: Int = 1, precision: Precision = .fp32, postprocessor: YOLOPostprocessor = YOLOPostprocessor(),
                inputSize: (height: Int, width: Int)? = nil, int8Inputs: [String: ClosedRange<Float>]? = nil,
                flips: TestTimeFlips = .none) throws {
        model = try YOLOModelFile(path: path, threads: threads, precision: precision, int8Inputs: int8Inputs, flips: flips)
        self.precision = precision
        self.postprocessor = postprocessor
        if let fixed = model.fixedInput {
            (targetHeight, targetWidth) = fixed
            dynamicSize = false
        } else {
            let size = inputSize ?? model.exportedImageSize
            targetHeight = size.height
            targetWidth = size.width
            dynamicSize = true
        }
        maxBatchSize = model.fixedBatch ?? 2
        modelDescription = "\(model.fileName) (\(model.classNames.count) classes, \(dynamicSize ? "dynamic" : "\(targetWidth)x\(targetHeight)") input, batch \(model.fixedBatch.map(String.init) ?? "dynamic"), \(precision)\(flips.descriptionSuffix))"
    }

    /// The letterbox used for a frame of this size.
    public func letterbox(frameWidth: Int, frameHeight: Int) -> LetterboxTransform {
        LetterboxTransform(frameWidth: frameWidth, frameHeight: frameHeight, targetWidth: targetWidth, targetHeight: targetHeight,
                           stride: metadata.stride, rectangular: dynamicSize)
    }

    public func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] {
        try detectRaw(frames).enumerated().map { index, detections in
            let transform = letterbox(frameWidth: frames[index].width, frameHeight: frames[index].height)
            return detections.map { raw in
                let (x1, y1, x2, y2) = transform.frameBox(x1: raw.x1, y1: raw.y1, x2: raw.x2, y2: raw.y2)
                return DetectedDefect(className: classNames[raw.classIndex], confidence: raw.score, x1: x1, y1: y1, x2: x2, y2: y2)
            }
        }
    }

    /// One frame's boxes (frame pixels), the named intermediate maps of its run (each
    /// `[1, C, h, w]`, over the letterboxed input) and its letterbox.
    public struct Analysis: Sendable {
        public var boxes: [DetectedDefect]
        public var features: [String: Tensor]
        public var transform: LetterboxTransform
    }

    /// Detects and, in the same run, captures the intermediate values named in `layers`
    /// (e.g. backbone maps for the anomaly model).
    public func analyze(_ frames: [RGBImage], capturing layers: Set<String>) throws -> [Analysis] {
        var results: [Analysis] = []
        try forEachBatch(frames, capturing: layers) { _, transform, batch, captured in
            for (offset, detections) in batch.enumerated() {
                let boxes = detections.map { raw in
                    let (x1, y1, x2, y2) = transform.frameBox(x1: raw.x1, y1: raw.y1, x2: raw.x2, y2: raw.y2)
                    return DetectedDefect(className: classNames[raw.classIndex], confidence: raw.score, x1: x1, y1: y1, x2: x2, y2: y2)
                }
                var features: [String: Tensor] = [:]
                for (name, tensor) in captured where tensor.rank == 4 {
                    let per = tensor.count / tensor.shape[0]
                    let values = tensor.floats
                    features[name] = Tensor(shape: [1] + tensor.shape.dropFirst(), floats: Array(values[(offset * per)..<((offset + 1) * per)]))
                }
                results.append(Analysis(boxes: boxes, features: features, transform: transform))
            }
        }
        return results
    }

    /// Post-processed boxes in model-input pixels, per frame.
    public func detectRaw(_ frames: [RGBImage]) throws -> [[RawDetection]] {
        var results = [[RawDetection]](repeating: [], count: frames.count)
        try forEachBatch(frames, capturing: []) { start, _, batch, _ in
            for (offset, detections) in batch.enumerated() { results[start + offset] = detections }
        }
        return results
    }

    /// The int8 calibration pass over `frame(0) ..< frame(count - 1)`, read one at a time and
    /// letterboxed as `detect` does: by convolution node, the ranges its input took, frame by
    /// frame. Needs an fp32 detector.
    /// `output` receives each frame's raw output, as `rawOutput` returns it, from the same run.
    public func calibrationStatistics(count: Int, frame: (Int) throws -> RGBImage,
                                      output: (Int, Tensor) throws -> Void = { _, _ in }) throws -> [String: CalibrationStatistics] {
        try model.session.calibrationStatistics(runs: count, feed: { index in
            let image = try frame(index)
            return [model.inputName: input([image], transform: letterbox(frameWidth: image.width, frameHeight: image.height))]
        }, outputs: { index, outputs in
            guard let raw = outputs[model.outputName] else { throw DetectionError.inference("no output '\(model.outputName)'") }
            try output(index, raw)
        })
    }

    /// The model's raw output for one frame, letterboxed as `detect` does: (1, 4 + classes,
    /// anchors), class scores after the sigmoid; with flips, the views' average.
    public func rawOutput(_ frame: RGBImage) throws -> Tensor {
        try model.run(input([frame], transform: letterbox(frameWidth: frame.width, frameHeight: frame.height)))
    }

    /// Runs consecutive frames of one size as one batch (up to a fixed batch size): calls
    /// `body` with the first frame's index, the batch's letterbox, its detections and captures.
    private func forEachBatch(_ frames: [RGBImage], capturing layers: Set<String>,
                              _ body: (Int, LetterboxTransform, [[RawDetection]], [String: Tensor]) throws -> Void) throws {
        var start = 0
        while start < frames.count {
            let transform = letterbox(frameWidth: frames[start].width, frameHeight: frames[start].height)
            var end = start + 1
            let limit = fixedBatch ?? Int.max
            while end < frames.count, end - start < limit,
                  frames[end].width == frames[start].width, frames[end].height == frames[start].height { end += 1 }
            let (batch, captured) = try run(Array(frames[start..<end]), transform: transform, capturing: layers)
            try body(start, transform, batch, captured)
            start = end
        }
    }

    /// frames: B x (H, W, 3), letterboxed -> the model's input (B', 3, inH, inW), B' the fixed
    /// batch (grey frames after the last) or B.
    private func input(_ frames: [RGBImage], transform: LetterboxTransform) -> Tensor {
        let batch = fixedBatch ?? frames.count
        let plane = 3 * transform.inputHeight * transform.inputWidth
        var input = [Float](repeating: 114.0 / 255.0, count: batch * plane)
        input.withUnsafeMutableBufferPointer { buffer in
            for (index, frame) in frames.enumerated() {
                transform.fill(UnsafeMutableBufferPointer(rebasing: buffer[(index * plane)..<((index + 1) * plane)]), from: frame)
            }
        }
        return Tensor(shape: [batch, 3, transform.inputHeight, transform.inputWidth], floats: input)
    }

    // frames: B x (H, W, 3) -> input (B', 3, inH, inW) with B' = fixed batch or B -> output (B', 4 + nc, N)
    private func run(_ frames: [RGBImage], transform: LetterboxTransform,
                     capturing layers: Set<String>) throws -> ([[RawDetection]], [String: Tensor]) {
        let (output, captured) = try model.run(input(frames, transform: transform), capturing: layers)
        let anchors = output.shape[2]
        let stride = output.shape[1] * anchors
        let values = output.floats
        let detections = values.withUnsafeBufferPointer { buffer in
            (0..<frames.count).map { index in
                postprocessor.process(UnsafeBufferPointer(rebasing: buffer[(index * stride)..<((index + 1) * stride)]),
                                      classCount: classNames.count, anchors: anchors)
            }
        }
        return (detections, captured)
    }
}
