// Opens the detector named by the configuration, with a message that says how to get a model
// when the file is missing.

import Detection
import Foundation
import Inspection

enum ModelLoader {
    /// The calibrated operating point `config` names (or the one beside the model), nil for none.
    static func operatingPoint(_ config: ServerConfig) throws -> (point: OperatingPoint, path: String)? {
        do { return try OperatingPoint.read(option: config.calibrationPath, modelPath: config.modelPath) } catch {
            throw ConfigError(description: "\(error)")
        }
    }

    /// Refuses thresholds chosen for a model with other classes.
    static func check(_ calibration: (point: OperatingPoint, path: String), modelClasses: [String]) throws {
        do { try calibration.point.check(modelClasses: modelClasses, name: calibration.path) } catch {
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
