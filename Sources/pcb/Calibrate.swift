// `pcb calibrate`: choose per-class confidence thresholds on a validation split (its
// defect-free images included) and write them beside the model, where `pcb serve`,
// `pcb detect` and `pcb eval` read them. The work is in DetectionTools/Calibration.

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import Inspection

#if canImport(Glibc)
import Glibc
#endif

struct Calibrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Choose per-class confidence thresholds: fewest escapes with false calls at most --max-false-call-rate.",
        discussion: """
            Runs the model over the split as the server does, prints the trade-off between false calls (normal boards \\
            rejected) and escapes (defective boards passed) for several false-call limits, and writes the thresholds \\
            for --max-false-call-rate to <model>.calibration.json beside the model (or --out). Images without labels \\
            are normal boards. Calibrate on a split that neither trained nor will test the model, and report the \\
            rates on another.
            """)

    @Option(help: "ONNX detection model exported by Ultralytics.") var model: String
    @Option(help: "Ultralytics data.yaml.") var data: String
    @Option(help: "Dataset split (a key of data.yaml).") var split = "val"
    @Option(name: .customLong("max-false-call-rate"), help: "Largest share of normal boards that may be rejected.")
    var maxFalseCallRate = 0.02
    @Option(help: "Defect policy (categories and priority).") var policy = "data/pcb_defects.yaml"
    @Option(help: "Input size for dynamic-size models (default: the export's imgsz, as the server).") var imgsz: Int?
    @Option(help: "Mirror images each image is also run on, outputs averaged before NMS: none, horizontal (2 runs), both (4 runs). Recorded with the thresholds: serve, detect and eval then run the model the same way.")
    var flips = TestTimeFlips.none
    @Option(help: "Engine threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Where to write the thresholds (default: <model>.calibration.json beside the model).") var out: String?

    func validate() throws {
        guard (0...1).contains(maxFalseCallRate) else { throw ValidationError("--max-false-call-rate must be between 0 and 1") }
    }

    func run() async throws {
        let defectPolicy = try PolicyFiles.policy(policy)
        let dataset = try YOLODataset.load(yamlPath: data)
        let interactive = isatty(2) != 0
        let start = Date()
        var lastPrint = -10.0
        let (samples, classNames) = try CalibrationSample.collect(
            modelPath: model, dataset: dataset, split: split, policy: defectPolicy, threads: threads, imageSize: imgsz, flips: flips
        ) { done, total in
            let elapsed = Date().timeIntervalSince(start)
            guard done == total || elapsed - lastPrint >= (interactive ? 0.5 : 5) else { return }
            lastPrint = elapsed
            let line = String(format: "scored %d/%d images, %.1f img/s", done, total, Double(done) / max(elapsed, 1e-9))
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line + (done == total ? "\n" : "") : line + "\n").utf8))
        }
        try defectPolicy.validate(modelClasses: classNames)
        let calibrator = ThresholdCalibrator(policy: defectPolicy, classNames: classNames)
        let shipped = calibrator.outcomes([Float](repeating: defectPolicy.confidenceThreshold, count: classNames.count), on: samples)
        print("\(samples.count) images of \(split): \(shipped.normalBoards) normal, \(shipped.defectiveBoards) defective")
        print("rule: fewest escapes, then wrong categories, with false calls <= the limit (thresholds from \(calibrator.candidates.first!) to \(calibrator.candidates.last!))")
        print("")
        print("limit     false calls     escapes         wrong category  thresholds")
        print(row("policy \(defectPolicy.confidenceThreshold)", shipped, nil))
        var chosen: ThresholdCalibrator.Choice? = nil
        var tighter: [[Float]] = []  // the last tighter limit's choice starts the next one's search
        for rate in Set([0, 0.005, 0.01, 0.02, 0.05, 0.1, maxFalseCallRate]).sorted() {
            FileHandle.standardError.write(Data(String(format: "searching thresholds for false calls <= %.1f %%\n", rate * 100).utf8))
            let choice = calibrator.calibrate(samples, maxFalseCallRate: rate, starts: tighter)
            if choice.feasible { tighter = [choice.thresholds] }
            if rate == maxFalseCallRate { chosen = choice }
            let marker = rate == maxFalseCallRate ? " <- chosen" : ""
            print(row(String(format: "%.1f %%", rate * 100), choice.outcomes, choice.feasible ? zip(classNames, choice.thresholds) : nil) + marker)
        }
        guard let chosen, chosen.feasible else {
            throw ValidationError("no thresholds keep false calls at or below \(maxFalseCallRate * 100) % on this split: the model rejects normal boards even at \(calibrator.candidates.last!)")
        }
        let modelBytes = FileManager.default.contents(atPath: model).map { [UInt8]($0) } ?? []
        let point = OperatingPoint(
            model: (model as NSString).lastPathComponent, modelFingerprint: OperatingPoint.fingerprint(modelBytes), classNames: classNames,
            thresholds: Dictionary(uniqueKeysWithValues: zip(classNames, chosen.thresholds)),
            rule: "fewest escapes, then wrong categories, with false calls <= \(maxFalseCallRate * 100) % of normal boards",
            data: "\(data) split \(split) (\(samples.count) images)", calibrationOutcomes: .init(chosen.outcomes), testTimeFlips: flips)
        let path = out ?? OperatingPoint.path(besideModel: model)
        try point.text.write(toFile: path, atomically: true, encoding: .utf8)
        print("")
        print("wrote \(path)")
    }

    private func row(_ label: String, _ o: VerdictOutcomes, _ thresholds: Zip2Sequence<[String], [Float]>?) -> String {
        func cell(_ count: Int, _ of: Int) -> String {
            "\(count)/\(of) (\(String(format: "%.1f", of > 0 ? 100 * Double(count) / Double(of) : 0)) %)".padding(toLength: 16, withPad: " ", startingAt: 0)
        }
        let names = thresholds.map { $0.map { "\($0) \(String(format: "%.2f", $1))" }.joined(separator: ", ") } ?? "(not reachable)"
        return label.padding(toLength: 10, withPad: " ", startingAt: 0) + cell(o.falseCalls, o.normalBoards) + cell(o.escapes, o.defectiveBoards)
            + cell(o.wrongCategory, o.defectiveBoards) + (label.hasPrefix("policy") ? "all classes" : names)
    }
}
