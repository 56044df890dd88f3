// Opens the detector named by the configuration, with a message that says how to get a model
// when the file is missing.

import Detection
import Foundation
import Inspection

enum ModelLoader {
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
        let detector = try YOLODetector(
            path: path, threads: threads,
            postprocessor: YOLOPostprocessor(confidenceThreshold: policy.confidenceThreshold))
        guard let anomaly else { return detector }
        do {
            return try HybridDetector(detector: detector, anomaly: try PaDiMModel(path: anomaly), threads: threads)
        } catch {
            throw ConfigError(description: "anomaly model \(anomaly): \(error)")
        }
    }
}
