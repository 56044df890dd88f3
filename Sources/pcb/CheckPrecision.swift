// `pcb engine check-precision`: evaluate a model in fp32 and in each faster precision this CPU
// runs, on a labelled set, and write the accuracy record beside the model
// (`<model>.precision.json`, Detection/PrecisionRecord.swift) that `--precision auto` reads.
// Argument parsing and printing; the evaluation is DetectionTools'.

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import Inspection
import NeuralEngine

struct EngineCheckPrecision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-precision",
        abstract: "Measure a model in each precision this CPU runs against fp32; write <model>.precision.json for --precision auto.",
        discussion: """
            Each precision passes when mAP@0.5 and the board verdicts' false-call and escape rates stay within \
            the tolerances of fp32's (bf16: mAP@0.5 within 0.005; int8: within 0.01; rates within 0.5 points). \
            Verdicts use the policy at the model's calibrated operating point when one lies beside it, as `pcb serve` \
            does, and the server's preprocessing (with the operating point's flips). The record names this model file's fingerprint: a replaced model \
            runs in fp32 under `auto` until it is checked again.
            """)

    @Option(help: "ONNX detection model exported by Ultralytics.") var model: String
    @Option(help: "Ultralytics data.yaml of the labelled set.") var data: String
    @Option(help: "Dataset split (a key of data.yaml).") var split = "val"
    @Option(help: "Defect policy for board verdicts ('none' to check mAP only).") var policy = "data/pcb_defects.yaml"
    @Option(help: "Golden board every image shows (as `pcb serve --reference`).") var reference: String?
    @Option(help: "Per-class thresholds of the verdicts (default: <model>.calibration.json if present; 'none' for the policy's).")
    var calibration: String?
    @Option(help: "Input size for dynamic-size models (default: the export's imgsz, else 640).") var imgsz: Int?
    @Option(help: "Engine threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Where to write the record (default: beside the model).") var out: String?

    func run() async throws {
        let faster = PrecisionSelection.faster(modelPath: model)
        guard !faster.isEmpty else {
            throw ValidationError("this CPU runs fp32 only (\(CPUFeatures.host)) for this model: there is nothing to check")
        }
        if Precision.int8.runs(on: .host) && !faster.contains(.int8) {
            FileHandle.standardError.write(Data("int8 not checked: no calibration of this model (pcb engine calibrate)\n".utf8))
        }
        var verdictPolicy = policy == "none" ? nil : try PolicyFiles.policy(policy)
        let point = try PolicyFiles.operatingPoint(calibration, modelPath: model, modelClasses: { try Eval.classNames(of: model) })
        if let base = verdictPolicy, let point { verdictPolicy = base.applying(point) }
        let golden = try reference.map { try PolicyFiles.goldenBoard($0) }
        let dataset = try YOLODataset.load(yamlPath: data)
        // The record names the file measured: fingerprinted before the evaluations, checked after.
        guard let modelBytes = FileManager.default.contents(atPath: model) else { throw ValidationError("cannot read \(model)") }
        let fingerprint = OperatingPoint.fingerprint(modelBytes)

        func figures(_ precision: Precision) throws -> (PrecisionRecord.Figures, images: Int) {
            var options = EvaluationOptions()
            options.imageSize = imgsz
            options.letterbox = .serving
            options.threads = threads
            options.precision = precision
            options.flips = point?.testTimeFlips ?? .none
            var lastPrint = -10.0
            let result = try DetectionEvaluator(options: options).evaluate(
                modelPath: model, dataset: dataset, split: split, policy: verdictPolicy, reference: golden.map { .one($0) }
            ) { progress in
                guard progress.done == progress.total || progress.elapsed - lastPrint >= 5 else { return }
                lastPrint = progress.elapsed
                FileHandle.standardError.write(Data("\(precision): evaluated \(progress.done)/\(progress.total) images\n".utf8))
            }
            let verdicts = result.verdicts.map { PrecisionRecord.VerdictFigures($0.outcomes) }
            return (PrecisionRecord.Figures(map50: result.metrics.map50, verdicts: verdicts), result.images)
        }

        let (fp32Figures, images) = try figures(.fp32)
        var checks: [PrecisionRecord.Check] = []
        for precision in faster {
            checks.append(PrecisionRecord.check(precision, try figures(precision).0, against: fp32Figures))
        }
        guard let after = FileManager.default.contents(atPath: model), OperatingPoint.fingerprint(after) == fingerprint else {
            throw ValidationError("\(model) changed while it was being checked: run the check again")
        }
        let record = PrecisionRecord(
            model: (model as NSString).lastPathComponent, modelFingerprint: fingerprint,
            data: data, split: split, images: images, fp32: fp32Figures, checks: checks,
            command: CommandLine.arguments.joined(separator: " "), testTimeFlips: point?.testTimeFlips ?? .none)
        let path = out ?? PrecisionRecord.path(besideModel: model)
        try record.encoded().write(to: URL(fileURLWithPath: path))

        func line(_ name: String, _ f: PrecisionRecord.Figures) -> String {
            var text = String(format: "%@: mAP@0.5 %.4f", name, f.map50)
            if let v = f.verdicts {
                text += " | false calls \(v.falseCalls)/\(v.normal), escapes \(v.escapes)/\(v.defective), wrong category \(v.wrongCategory)"
            }
            return text
        }
        print(line("fp32", fp32Figures))
        for check in checks {
            print(line(check.precision, check.figures) + (check.passed ? " | passed" : " | FAILED: " + check.failures.joined(separator: "; ")))
        }
        let auto = try Precision.choose(features: .host, requested: "auto", autoAmong: record.passedPrecisions)
        print("wrote \(path): --precision auto runs this model in \(auto) on this CPU")
    }
}
