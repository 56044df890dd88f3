// `pcb eval`: measure a detector through our engine on a YOLO-format dataset, the way
// Ultralytics' `yolo val` does (same letterbox, NMS, matching and AP), plus board-verdict
// accuracy under the defect policy. Argument parsing only; the work is in
// Detection/Evaluation.

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import NeuralEngine
import Inspection

#if canImport(Glibc)
import Glibc
#endif

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a detector on a YOLO dataset: mAP@0.5, mAP@0.5:0.95, P, R, per class, and board-verdict accuracy.",
        discussion: """
            Numbers match Ultralytics' `yolo val model=M.onnx data=D imgsz=S batch=1 conf=0.001 iou=0.7` \
            (note: yolo's `iou=` is our `--nms-iou`), S being the export's `imgsz` (the scale `pcb serve` runs the \
            model at) unless `--imgsz` says otherwise; yolo val's own default is 640. `--iou` is the IoU threshold at which the headline precision, \
            recall and the PR curve are computed (Ultralytics uses 0.5); mAP@0.5 and mAP@0.5:0.95 are always reported.
            """)

    @Option(help: "ONNX detection model exported by Ultralytics.") var model: String
    @Option(help: "Ultralytics data.yaml.") var data: String
    @Option(help: "Dataset split (a key of data.yaml).") var split = "val"
    @Option(help: "IoU threshold of the headline precision/recall and the PR curve.") var iou: Float = 0.5
    @Option(help: "Prediction confidence threshold of the mAP (default 0.001); when given, also the one threshold of the board verdicts.")
    var conf: Float?
    @Option(name: .customLong("nms-iou"), help: "NMS IoU threshold.") var nmsIoU: Float = 0.7
    @Option(name: .customLong("max-det"), help: "Boxes kept per image.") var maxDet = 300
    @Option(help: "Input size for dynamic-size models (default: the export's imgsz, else 640; fixed-size models use their own).")
    var imgsz: Int?
    @Option(help: "Preprocessing: 'val' (as yolo val) or 'serve' (as the server's detector).")
    var letterbox: String = EvaluationLetterbox.validation.rawValue
    @Option(help: "Engine threads (defaults to the number of cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Precision of the convolutions: fp32, bf16 (AVX512_BF16 CPUs), int8 (AVX512_VNNI CPUs, with <model>.int8.json), auto (the fastest this CPU runs that passed the model's accuracy record <model>.precision.json, else fp32).")
    var precision = "fp32"
    @Option(help: "Defect policy for board verdicts ('none' to skip).") var policy = "data/pcb_defects.yaml"
    @Option(help: "Golden board (JPEG of a known-good board) every image shows, as `pcb serve --reference`: verdicts count only boxes over changed regions.")
    var reference: String?
    @Option(help: "Folder with a golden board per image, under the image's file name (a set of many products, such as DeepPCB's pairs; `training/repaired_boards.py` writes one): each image is checked against its own. An image without one is judged by the detector alone.")
    var references: String?
    @Option(help: "Anomaly model (.padim, `pcb anomaly fit`) beside the detector, as `pcb serve --anomaly`: the verdicts are the hybrid ones (a frame it fires on takes the policy's anomaly category). mAP stays the detector's.")
    var anomaly: String?
    @Option(help: "Per-class thresholds of the verdicts (`pcb calibrate`; default: <model>.calibration.json beside the model if present; 'none' for the policy's one threshold).")
    var calibration: String?
    @Option(help: "Mirror images each image is also run on, outputs averaged before NMS: none, horizontal, both (default: the operating point's).")
    var flips: TestTimeFlips?
    @Option(help: "Folder for report.md and pr_curve.svg.") var report = "eval-report"
    @Flag(help: "Print the JSON summary as the last line of stdout.") var json = false

    func validate() throws {
        guard (0...1).contains(iou), (0...1).contains(conf ?? 0), (0...1).contains(nmsIoU) else {
            throw ValidationError("--iou, --conf and --nms-iou must be between 0 and 1")
        }
        guard EvaluationLetterbox(rawValue: letterbox) != nil else {
            throw ValidationError("--letterbox must be one of \(EvaluationLetterbox.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard threads >= 1, (imgsz ?? 32) >= 32, maxDet >= 1 else { throw ValidationError("--threads, --imgsz and --max-det must be positive") }
        guard reference == nil || references == nil else { throw ValidationError("--reference and --references exclude each other") }
        if let references {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: references, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--references \(references) is not a folder")
            }
        }
    }

    func run() async throws {
        var options = EvaluationOptions()
        options.confidence = conf ?? 0.001
        options.nmsIoU = nmsIoU
        options.headlineIoU = iou
        options.maxDetections = maxDet
        options.imageSize = imgsz
        options.letterbox = EvaluationLetterbox(rawValue: letterbox)!
        options.threads = threads

        var defectPolicy = policy == "none" ? nil : try PolicyFiles.policy(policy)
        // The operating point says how the model runs (its flips) even where its thresholds do not apply.
        let point = try PolicyFiles.operatingPoint(calibration, modelPath: model, modelClasses: { try Self.classNames(of: model) })
        options.flips = PolicyFiles.flips(flips, point: point)
        options.precision = try PolicyFiles.precision(precision, modelPath: model, flips: options.flips)
        if let conf {
            // Asked for one threshold: the verdicts use it for every class.
            defectPolicy?.confidenceThreshold = conf
        } else if let base = defectPolicy, let point {
            defectPolicy = base.applying(point)
            FileHandle.standardError.write(Data("verdicts at the calibrated operating point \(calibration ?? OperatingPoint.path(besideModel: model))\n".utf8))
        }
        let dataset = try YOLODataset.load(yamlPath: data)
        let goldens: GoldenReferences? = try reference.map { .one(try PolicyFiles.goldenBoard($0)) }
            ?? references.map { .perImage(folder: $0) }
        let hybrid = try anomaly.map { path in
            do {
                return try HybridDetector(detector: try YOLODetector(path: model, threads: threads, precision: options.precision,
                                                                        flips: options.flips),
                                          anomaly: try PaDiMModel(path: path), threads: threads)
            } catch { throw ValidationError("anomaly model \(path): \(error)") }
        }

        let interactive = isatty(2) != 0
        var lastPrint = -10.0
        let result = try DetectionEvaluator(options: options).evaluate(
            modelPath: model, dataset: dataset, split: split, policy: defectPolicy, reference: goldens,
            anomaly: hybrid
        ) { progress in
            let finished = progress.done == progress.total
            guard finished || progress.elapsed - lastPrint >= (interactive ? 0.5 : 5) else { return }
            lastPrint = progress.elapsed
            let line = String(format: "evaluated %d/%d images (%.0f%%), %.1f img/s", progress.done, progress.total,
                              100 * Double(progress.done) / Double(max(progress.total, 1)), progress.imagesPerSecond)
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line + (finished ? "\n" : "") : line + "\n").utf8))
        }

        let command = CommandLine.arguments.map(Self.shellQuoted).joined(separator: " ")
        try EvaluationReport.write(result, command: command, to: report)
        print(EvaluationReport.summaryText(result))
        print("Report: \((report as NSString).appendingPathComponent("report.md")), \((report as NSString).appendingPathComponent("pr_curve.svg"))")
        if json { print(try EvaluationReport.jsonLine(result)) }
    }

    /// The model's class names (from its metadata), to check a calibration against.
    static func classNames(of model: String) throws -> [String] {
        do { return try YOLOModelFile(path: model, threads: 1).classNames } catch {
            throw ValidationError("cannot load \(model): \(error)")
        }
    }

    private static func shellQuoted(_ argument: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !argument.isEmpty, argument.allSatisfy(safe.contains) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
