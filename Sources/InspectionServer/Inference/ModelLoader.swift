// Opens the detector named by the configuration, with a message that says how to get a model
// when the file is missing.

import Detection
import Foundation
import Inspection
import NeuralEngine
import Storage

enum ModelLoader {
    /// A detector with what judges its boxes: the one way `pcb serve` opens a model set, at start
    /// and at each reload. `calibration` is the option as configured (a path, `none`, or nil for
    /// the file beside the model); `basePolicy` the policy file as read, `policyId` its id;
    /// `marginBelow` how far under the lowest threshold boxes are still reported (for labelling:
    /// the policy ignores them, the labelling sampler sees an almost-detection). `precision` is
    /// the option as configured: `auto` runs the fastest precision the CPU has that passed this
    /// model's accuracy record (PrecisionSelection); the note says why, for the log.
    static func loadSet(model: String, anomaly: String?, calibration option: String?, basePolicy: DefectPolicy, policyId: String,
                        threads: Int, precision requested: String = "fp32",
                        marginBelow: Float = 0) throws -> (detector: any DefectDetector, judging: JudgingSet, precisionNote: String) {
        let calibration: (point: OperatingPoint, path: String)?
        do { calibration = try OperatingPoint.read(option: option, modelPath: model) } catch {
            throw ConfigError(description: "\(error)")
        }
        let flips = calibration?.point.testTimeFlips ?? .none
        let precision: Precision, precisionNote: String
        do { (precision, precisionNote) = try PrecisionSelection.resolve(requested, modelPath: model, flips: flips) } catch {
            throw ConfigError(description: "precision: \(error)")
        }
        let policy = calibration.map { basePolicy.applying($0.point) } ?? basePolicy
        let detector = try load(path: model, threads: threads, precision: precision, policy: policy, anomaly: anomaly,
                                marginBelow: marginBelow, flips: flips)
        if let calibration { try check(calibration, modelClasses: detector.classNames) }
        let provenance = Provenance(model: try fileId(model), calibration: try calibration.map { try fileId($0.path) },
                                    policy: policyId, serverVersion: ServerVersion.current)
        return (detector, JudgingSet(policy: policy, provenance: provenance), precisionNote)
    }

    /// `name@fingerprint` of a file the server judges with.
    static func fileId(_ path: String) throws -> String {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ConfigError(description: "cannot read \(path) to fingerprint it")
        }
        return Provenance.fileId(name: (path as NSString).lastPathComponent, bytes: bytes)
    }

    /// Refuses thresholds chosen for a model with other classes.
    static func check(_ calibration: (point: OperatingPoint, path: String), modelClasses: [String]) throws {
        do { try calibration.point.check(modelClasses: modelClasses, name: calibration.path) } catch {
            throw ConfigError(description: error.description)
        }
    }

    static func load(path: String, threads: Int, precision: Precision = .fp32, policy: DefectPolicy, anomaly: String? = nil,
                     marginBelow: Float = 0, flips: TestTimeFlips = .none) throws -> any DefectDetector {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(description: """
                model file not found: \(path)
                  The server needs an Ultralytics YOLO detector exported to ONNX. Either
                  - point --model (or PCB_MODEL, or `model:` in configs/server.yaml) at your own .onnx file
                    (train and export it with the recipe in training/README.md), or
                  - use a bundled model from models/ (see models/README.md).
                """)
        }
        // Boxes down to the lowest class threshold (less the margin) reach the line; the policy
        // applies each class's own threshold.
        let detector = try YOLODetector(
            path: path, threads: threads, precision: precision,
            postprocessor: YOLOPostprocessor(confidenceThreshold: max(0.001, policy.lowestThreshold - marginBelow)), flips: flips)
        guard let anomaly else { return detector }
        do {
            return try HybridDetector(detector: detector, anomaly: try PaDiMModel(path: anomaly), threads: threads)
        } catch {
            throw ConfigError(description: "anomaly model \(anomaly): \(error)")
        }
    }
}
