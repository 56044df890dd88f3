// `pcb detect`: run a detector on JPEG files or folders; one JSON line per image, with the
// boxes and the verdict the server would give the frame (the policy at its threshold).

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import NeuralEngine
import ImageKit
import Inspection

struct Detect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Detect defects in JPEG images; prints {\"image\", \"boxes\": [{class, confidence, x1, y1, x2, y2}], \"category\", \"defect_type\"} per image.",
        discussion: """
            `category` (normal, component_defect, solder_defect, discard) and `defect_type` (the seed's label) are the \
            verdict of the defect policy on the boxes, at the policy's confidence threshold unless --conf is given.
            """)

    @Option(help: "ONNX detection model exported by Ultralytics.") var model: String
    @Option(help: "Confidence threshold (default: the policy's, the server's operating point).") var conf: Float?
    @Option(help: "Defect policy for the verdict ('none' to print boxes only).") var policy = "data/pcb_defects.yaml"
    @Option(help: "Golden board (JPEG of a known-good board of the product): boxes over regions that match it are suppressed, as the server does.")
    var reference: String?
    @Option(name: .customLong("reference-deviation"), help: "With --reference: per-channel deviation (0...1) that counts a pixel as changed (for tuning; default the server's).")
    var referenceDeviation: Float?
    @Option(name: .customLong("reference-changed-pixels"), help: "With --reference: changed pixels a box needs to count (for tuning; default the server's).")
    var referenceChangedPixels: Int?
    @Option(name: .customLong("reference-radius"), help: "With --reference: misregistration forgiven in pixels (for tuning; default the server's).")
    var referenceRadius: Int?
    @Option(help: "Per-class thresholds (`pcb calibrate`; default: <model>.calibration.json beside the model if present; 'none' for the policy's one threshold).")
    var calibration: String?
    @Option(help: "Mirror images each image is also run on, outputs averaged before NMS: none, horizontal, both (default: the operating point's).")
    var flips: TestTimeFlips?
    @Option(help: "NMS IoU threshold.") var iou: Float = 0.7
    @Flag(name: .customLong("multi-label"), help: "Keep every (box, class) pair above the threshold, as Ultralytics does when validating.")
    var multiLabel = false
    @Option(help: "Engine threads.") var threads = 1
    @Option(help: "Precision of the convolutions: fp32, bf16 (AVX512_BF16 CPUs), int8 (AVX512_VNNI CPUs, with <model>.int8.json), auto (the fastest this CPU runs that passed the model's accuracy record <model>.precision.json, else fp32).")
    var precision = "fp32"
    @Argument(help: "JPEG files or folders (searched recursively for .jpg/.jpeg).") var paths: [String]

    func run() async throws {
        var defectPolicy = policy == "none" ? nil : try PolicyFiles.policy(policy)
        // The point's flips decide how the detector runs; its classes are checked against the detector's.
        let read = try PolicyFiles.readOperatingPoint(calibration, modelPath: model)
        let point = read?.point
        let runFlips = PolicyFiles.flips(flips, point: point)
        let detector = try YOLODetector(path: model, threads: threads,
                                        precision: try PolicyFiles.precision(precision, modelPath: model, flips: runFlips), flips: runFlips)
        if let read { try PolicyFiles.check(read, modelClasses: detector.classNames) }
        if let conf {
            // One threshold for every class, as asked: the calibration does not apply.
            defectPolicy?.confidenceThreshold = conf
        } else if let base = defectPolicy, let point {
            defectPolicy = base.applying(point)
        }
        let threshold = conf ?? defectPolicy?.lowestThreshold ?? 0.25
        detector.postprocessor = YOLOPostprocessor(confidenceThreshold: threshold, iouThreshold: iou, multiLabel: multiLabel)
        var tolerance = GoldenTolerance()
        if let referenceRadius { tolerance.neighbourhoodRadius = referenceRadius }
        var golden = try reference.map { try PolicyFiles.goldenBoard($0, tolerance: tolerance) }
        if let referenceDeviation { golden?.tolerance.deviation = referenceDeviation }
        if let referenceChangedPixels { golden?.tolerance.changedPixels = referenceChangedPixels }
        let codec = JPEGCodec()
        for path in try ImageFiles.expand(paths) {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                continue
            }
            let image: RGBImage
            do { image = try codec.decode([UInt8](data)) } catch {
                FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
                continue
            }
            let found = try detector.detect([image])[0]
            let check = golden?.check(found, in: image)
            // With a golden board, every box also says how many of its pixels differ from it.
            let changed = (check?.kept ?? []) + (check?.suppressed ?? [])
            let boxes = found.map { box -> [String: Any] in
                var fields: [String: Any] = ["class": box.className, "confidence": Double(box.confidence), "x1": Double(box.x1),
                                             "y1": Double(box.y1), "x2": Double(box.x2), "y2": Double(box.y2)]
                if let entry = changed.first(where: { $0.box == box }) { fields["changed_pixels"] = entry.changedPixels }
                return fields
            }
            var object: [String: Any] = ["image": path, "boxes": boxes]
            if let check {
                object["reference"] = ["registered": check.registered, "correlation": (check.correlation * 1000).rounded() / 1000,
                                       "failure": check.failure ?? NSNull()] as [String: Any]
                object["suppressed_boxes"] = check.suppressed.map { entry -> [String: Any] in
                    ["class": entry.box.className, "confidence": Double(entry.box.confidence), "x1": Double(entry.box.x1),
                     "y1": Double(entry.box.y1), "x2": Double(entry.box.x2), "y2": Double(entry.box.y2),
                     "changed_pixels": entry.changedPixels, "checked_pixels": entry.checkedPixels]
                }
            }
            if let verdict = defectPolicy?.judge(check?.keptBoxes ?? found) {
                object["category"] = verdict.category.code.rawValue
                object["defect_type"] = verdict.category.label
            }
            let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: line, as: UTF8.self))
        }
    }
}

/// Expands files and folders into a sorted list of JPEG paths.
enum ImageFiles {
    static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("no such file or folder: \(path)")
            }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(atPath: path)
                var found: [String] = []
                while let item = enumerator?.nextObject() as? String {
                    let lower = item.lowercased()
                    if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { found.append((path as NSString).appendingPathComponent(item)) }
                }
                files += found.sorted()
            } else {
                files.append(path)
            }
        }
        return files
    }
}
