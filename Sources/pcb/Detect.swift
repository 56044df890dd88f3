// `pcb detect`: run a detector on JPEG files or folders; one JSON line per image.

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import ImageKit

struct Detect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Detect defects in JPEG images; prints {\"image\", \"boxes\": [{class, confidence, x1, y1, x2, y2}]} per image.")

    @Option(help: "ONNX detection model exported by Ultralytics.") var model: String
    @Option(help: "Confidence threshold.") var conf: Float = 0.25
    @Option(help: "NMS IoU threshold.") var iou: Float = 0.7
    @Flag(name: .customLong("multi-label"), help: "Keep every (box, class) pair above the threshold, as Ultralytics does when validating.")
    var multiLabel = false
    @Option(help: "Engine threads.") var threads = 1
    @Argument(help: "JPEG files or folders (searched recursively for .jpg/.jpeg).") var paths: [String]

    func run() async throws {
        let detector = try YOLODetector(
            path: model, threads: threads,
            postprocessor: YOLOPostprocessor(confidenceThreshold: conf, iouThreshold: iou, multiLabel: multiLabel))
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
            let boxes = try detector.detect([image])[0].map { box -> [String: Any] in
                ["class": box.className, "confidence": Double(box.confidence), "x1": Double(box.x1), "y1": Double(box.y1),
                 "x2": Double(box.x2), "y2": Double(box.y2)]
            }
            let line = try JSONSerialization.data(withJSONObject: ["image": path, "boxes": boxes], options: [.sortedKeys, .withoutEscapingSlashes])
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
