// An Ultralytics detection ONNX file opened and checked once: the engine session, the
// metadata, the input and output names, and which dimensions are fixed. Shared by the
// server's `YOLODetector` and the evaluator, which letterbox differently but run the same model.

import Inspection
import NeuralEngine

/// An opened Ultralytics detection model.
public struct YOLOModelFile: @unchecked Sendable {
    public let session: InferenceSession
    public let metadata: UltralyticsMetadata
    public let inputName: String
    public let outputName: String
    /// Fixed input (height, width), nil when height and width are dynamic.
    public let fixedInput: (height: Int, width: Int)?
    /// Fixed batch size, nil when the batch is dynamic.
    public let fixedBatch: Int?
    /// The file's name, for descriptions.
    public let fileName: String
    /// The path it was opened from.
    public let path: String
    /// Mirror images each input is also run on, outputs averaged (the operating point's).
    public let flips: TestTimeFlips

    public var classNames: [String] { metadata.names }
    /// The size a dynamic-size model runs at unless told otherwise: the export's `imgsz`, else 640x640.
    public var exportedImageSize: (height: Int, width: Int) { metadata.imageSize ?? (640, 640) }

    /// Opens `path` and checks it is a detection model: one (batch, 3, H, W) input and a
    /// (batch, 4 + classes, anchors) output whose class count matches the metadata names.
    /// int8 reads the model's calibration (`<model>.int8.json`) and is refused without one;
    /// `int8Inputs`, when given, are the ranges instead (a calibration being made).
    /// `flips`: mirror images each input is also run on (`run` returns the averaged output).
    public init(path: String, threads: Int, precision: Precision = .fp32, int8Inputs: [String: ClosedRange<Float>]? = nil,
                flips: TestTimeFlips = .none) throws {
        self.flips = flips
        var options = SessionOptions(threads: threads)
        options.precision = precision
        if precision == .int8, let int8Inputs {
            options.int8Inputs = int8Inputs
        } else if precision == .int8 {
            guard let calibration = try Int8Calibration.read(besideModel: path) else {
                throw DetectionError.calibration("int8 needs a calibration of this model file: \(Int8Calibration.path(besideModel: path)) "
                    + "is missing or was measured on another file (pcb engine calibrate --model \(path) --images DIR)")
            }
            options.int8Inputs = calibration.inputRanges
        }
        session = try InferenceSession(path: path, options: options)
        metadata = try UltralyticsMetadata(properties: session.metadata)
        guard let input = session.inputs.first, input.shape.count == 4 else {
            throw DetectionError.invalidModel("expected one image input of shape (batch, 3, height, width)")
        }
        guard let output = session.outputs.first, output.shape.count == 3 else {
            throw DetectionError.invalidModel("expected a detection output of shape (batch, 4 + classes, anchors)")
        }
        if let rows = output.shape[1].fixedValue, rows != 4 + metadata.names.count {
            throw DetectionError.invalidModel(
                "output has \(rows) rows but metadata names \(metadata.names.count) classes (expected \(4 + metadata.names.count))")
        }
        if let channels = input.shape[1].fixedValue, channels != 3 {
            throw DetectionError.invalidModel("expected 3 input channels, the model has \(channels)")
        }
        inputName = input.name
        outputName = output.name
        if let height = input.shape[2].fixedValue, let width = input.shape[3].fixedValue {
            fixedInput = (height, width)
        } else {
            fixedInput = nil
        }
        fixedBatch = input.shape[0].fixedValue
        fileName = path.split(separator: "/").last.map(String.init) ?? path
        self.path = path
    }

    /// Runs the model on a (batch, 3, height, width) input and returns the detection output,
    /// checked to be (batch, 4 + classes, anchors).
    public func run(_ input: Tensor) throws -> Tensor {
        try run(input, capturing: []).output
    }

    /// Runs the model and also returns the named intermediate values (for example backbone
    /// feature maps) from the same run.
    public func run(_ input: Tensor, capturing names: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        func runOnce(_ input: Tensor) throws -> (outputs: [String: Tensor], captured: [String: Tensor]) {
            names.isEmpty ? (try session.run([inputName: input]), [:]) : try session.run([inputName: input], capturing: names)
        }
        var (outputs, captured) = try runOnce(input)
        if flips != .none, let plain = outputs[outputName] {
            // The mirrored runs capture the same names, so that they reuse the plain run's memory
            // plan (plans are kept per shape and capture set); what they capture is dropped: the
            // anomaly model was fitted on unmirrored frames.
            outputs[outputName] = try FlipAveraging.average(plain, of: input, flips: flips) { view in
                guard let output = try runOnce(view).outputs[outputName] else {
                    throw DetectionError.inference("no output '\(outputName)'")
                }
                return output
            }
        }
        guard let output = outputs[outputName], output.shape.count == 3, output.shape[0] == input.shape[0],
              output.shape[1] == 4 + classNames.count else {
            throw DetectionError.inference("unexpected output shape \(outputs[outputName]?.shape ?? [])")
        }
        return (output, captured)
    }
}
