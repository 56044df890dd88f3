// The int8 calibration of one model: the range of values each convolution's input took over a
// folder of frames (`pcb engine calibrate`), from which `--precision int8` quantises those
// inputs to u8. Kept beside the model as `<model>.int8.json` (`models/x.onnx` ->
// `models/x.int8.json`) and tied to the model file's fingerprint: a replaced model has none.

import Foundation
import Inspection
import NeuralEngine

public struct Int8Calibration: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public var format = Int8Calibration.formatVersion
    public var model: String
    public var modelFingerprint: String
    /// How many frames the ranges were measured on, and from where.
    public var images: Int
    public var source: String
    /// Convolution node name -> [lowest, highest] value of its input.
    public var ranges: [String: [Float]]
    /// How the frames' ranges became one (CalibrationEstimator's name; absent in files written
    /// before there was a choice, which kept the extremes).
    public var estimator: String?

    enum CodingKeys: String, CodingKey {
        case format, model, modelFingerprint = "model_fingerprint", images, source, ranges, estimator
    }

    public init(model: String, modelFingerprint: String, images: Int, source: String, ranges: [String: ClosedRange<Float>],
                estimator: CalibrationEstimator? = nil) {
        self.model = model
        self.modelFingerprint = modelFingerprint
        self.images = images
        self.source = source
        self.ranges = ranges.mapValues { [$0.lowerBound, $0.upperBound] }
        self.estimator = estimator?.rawValue
    }

    /// The ranges as SessionOptions.int8Inputs wants them.
    public var inputRanges: [String: ClosedRange<Float>] {
        ranges.compactMapValues { pair in
            pair.count == 2 && pair[0].isFinite && pair[1].isFinite && pair[0] <= pair[1] ? pair[0]...pair[1] : nil
        }
    }

    /// `models/x.onnx` -> `models/x.int8.json`.
    public static func path(besideModel modelPath: String) -> String {
        URL(fileURLWithPath: modelPath).deletingPathExtension().path + ".int8.json"
    }

    /// The calibration beside `modelPath` if there is one for this very file (nil when there is
    /// none, or it was measured on another file); a file that cannot be read is an error.
    /// `modelFingerprint`, when given, saves reading the model again.
    public static func read(besideModel modelPath: String, modelFingerprint: String? = nil) throws(DetectionError) -> Int8Calibration? {
        let path = Self.path(besideModel: modelPath)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let calibration: Int8Calibration
        do { calibration = try JSONDecoder().decode(Int8Calibration.self, from: data) } catch {
            throw .calibration("\(path) is not an int8 calibration: \(error)")
        }
        guard calibration.format == formatVersion else {
            throw .calibration("\(path) has format \(calibration.format); this program reads format \(formatVersion)")
        }
        let fingerprint = modelFingerprint ?? FileManager.default.contents(atPath: modelPath).map(OperatingPoint.fingerprint)
        guard fingerprint == calibration.modelFingerprint else { return nil }
        return calibration
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
