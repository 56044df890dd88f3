// Opens the detector named by the configuration, with a message that says how to get a model
// when the file is missing.

import Detection
import Foundation
import Inspection

enum ModelLoader {
    /// The calibrated operating point `config` names (or the one beside the model), nil for none.
    static func operatingPoint(_ config: ServerConfig) throws -> OperatingPoint? {
        if config.calibrationPath == "none" { return nil }
        let path = config.calibrationPath ?? OperatingPoint.path(besideModel: config.modelPath)
        guard FileManager.default.fileExists(atPath: path) else {
            if config.calibrationPath != nil { throw ConfigError(description: "calibration file not found: \(path) (--calibration)") }
            return nil
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(description: "cannot read the calibration file \(path)")
        }
        do { return try OperatingPoint.parse(text, name: path) } catch { throw ConfigError(description: error.description) }
    }

    /// Refuses thresholds chosen for a model with other classes.
    static func check(_ point: OperatingPoint, _ config: ServerConfig, modelClasses: [String]) throws {
        do { try point.check(modelClasses: modelClasses, name: config.calibrationPath ?? OperatingPoint.path(besideModel: config.modelPath)) } catch {
            throw ConfigError(description: error.description)
        }
    }

    static func load(path: String, threads: Int, policy: DefectPolicy, anomaly: String? = nil) throws -> any DefectDetector {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(description: """
                model file not found: \(path)
                  The server needs an Ultralytics YOLO detector exported to ONNX. Either
                  - point --model (or PCB_MODEL, or `model:` in configs/server.yaml) at your own .onnx file
                    (train and export it with the recipe in training/README.md), or
                  - use a bundled model from models/ (see models/README.md).
                """)
        }
        // Boxes down to the lowest class threshold reach the policy, which applies each class's own.
        let detector = try YOLODetector(
            path: path, threads: threads,
            postprocessor: YOLOPostprocessor(confidenceThreshold: policy.lowestThreshold))
        guard let anomaly else { return detector }
        do {
            return try HybridDetector(detector: detector, anomaly: try PaDiMModel(path: anomaly), threads: threads)
        } catch {
            throw ConfigError(description: "anomaly model \(anomaly): \(error)")
        }
    }
}
