// Frames the line kept for labelling, written as a YOLO dataset that Ultralytics, CVAT
// ("Ultralytics YOLO Detection") and Label Studio (its YOLO converter) read:
//
//   OUT/data.yaml                 path: . / train: images/train / val: images/train / names
//   OUT/classes.txt               one class name a line (Label Studio's converter)
//   OUT/images/train/<id>_<camera>.jpg
//   OUT/labels/train/<id>_<camera>.txt   class cx cy w h, normalised (pre-filled)
//   OUT/samples.csv               one row a frame: why it was kept, the machine's verdict, the
//                                 review, where its labels came from and whether they need boxes
//
// Labels are pre-filled, for a person to correct: an operator's "normal" review gives an empty
// file (the machine's boxes were false calls); otherwise the boxes the server judged with.
// A review that calls a frame defective while the machine drew no box is marked `check`: its
// boxes must be drawn by hand. Train and val name the same folder: split after labelling.

import Detection
import Foundation
import ImageKit
import Inspection

/// One kept frame, as the server stored it.
public struct LabellingExportSample: Sendable {
    public var id: Int64
    public var cameraId: String
    /// ISO-8601, as the API writes it.
    public var time: String
    /// Why it was kept (`near_threshold`, `normal_sample`, `review`).
    public var reason: String
    /// The machine's category code.
    public var machineCategory: String
    /// The boxes the verdict was judged from, in frame pixels.
    public var boxes: [DetectedDefect]
    /// The operator's category code, when the frame was reviewed.
    public var reviewVerdict: String?
    public var reviewClasses: [String]
    public var model: String?

    public init(id: Int64, cameraId: String, time: String, reason: String, machineCategory: String, boxes: [DetectedDefect],
                reviewVerdict: String? = nil, reviewClasses: [String] = [], model: String? = nil) {
        self.id = id
        self.cameraId = cameraId
        self.time = time
        self.reason = reason
        self.machineCategory = machineCategory
        self.boxes = boxes
        self.reviewVerdict = reviewVerdict
        self.reviewClasses = reviewClasses
        self.model = model
    }
}

/// Writes kept frames as a YOLO dataset, one `add` a frame, then `finish`.
public struct LabellingExporter {
    public struct Summary: Sendable, Equatable {
        public var images = 0
        /// Frames with at least one label box.
        public var withBoxes = 0
        /// Frames whose boxes must be drawn by hand (a review saw a defect the machine did not box).
        public var needBoxes = 0
        public var boxes = 0
        public var byReason: [String: Int] = [:]
    }

    public let directory: String
    public let classes: [String]
    private var rows: [String] = ["id,camera_id,time,reason,machine_category,review_verdict,review_classes,model,label_source,boxes,check"]
    public private(set) var summary = Summary()
    private let classIndex: [String: Int]

    /// Creates the folders under `directory` (which may exist: files of the same ids are replaced).
    public init(directory: String, classes: [String]) throws(EvaluationError) {
        guard !classes.isEmpty else { throw .dataset("no class names: the model's classes are needed for data.yaml") }
        self.directory = directory
        self.classes = classes
        classIndex = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for folder in ["images/train", "labels/train"] {
            do {
                try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent(folder),
                                                        withIntermediateDirectories: true)
            } catch {
                throw .dataset("cannot create \(directory)/\(folder): \(error.localizedDescription)")
            }
        }
    }

    /// The label lines of a sample and where they came from (`review` or `model`), and whether
    /// a person must draw boxes. Pure: no files.
    public func labels(of sample: LabellingExportSample, width: Int, height: Int) throws(EvaluationError) -> (lines: [String], source: String, check: Bool) {
        if sample.reviewVerdict == "normal" { return ([], "review", false) }
        var lines: [String] = []
        for box in sample.boxes {
            guard let index = classIndex[box.className] else {
                throw .dataset("frame \(sample.id): class '\(box.className)' is not a class of the model (\(classes.joined(separator: ", ")))")
            }
            let w = Double(width), h = Double(height)
            let x1 = min(max(Double(box.x1), 0), w), x2 = min(max(Double(box.x2), 0), w)
            let y1 = min(max(Double(box.y1), 0), h), y2 = min(max(Double(box.y2), 0), h)
            guard x2 > x1, y2 > y1 else { continue }
            lines.append(String(format: "%d %.6f %.6f %.6f %.6f", index, (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h))
        }
        let reviewedDefective = sample.reviewVerdict.map { $0 != "normal" } ?? false
        return (lines, "model", reviewedDefective && lines.isEmpty)
    }

    /// Writes one frame's JPEG and label file.
    public mutating func add(_ sample: LabellingExportSample, jpeg: [UInt8]) throws(EvaluationError) {
        let size: (width: Int, height: Int)
        do { size = try JPEGCodec().dimensions(of: jpeg) } catch {
            throw .dataset("frame \(sample.id): its stored image is not a readable JPEG (\(error))")
        }
        let labelled = try labels(of: sample, width: size.width, height: size.height)
        let camera = String(sample.cameraId.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(32))
        let stem = "\(sample.id)_\(camera)"
        try write(Data(jpeg), to: "images/train/\(stem).jpg")
        try write(Data(labelled.lines.map { $0 + "\n" }.joined().utf8), to: "labels/train/\(stem).txt")
        summary.images += 1
        summary.boxes += labelled.lines.count
        if !labelled.lines.isEmpty { summary.withBoxes += 1 }
        if labelled.check { summary.needBoxes += 1 }
        summary.byReason[sample.reason, default: 0] += 1
        rows.append([String(sample.id), sample.cameraId, sample.time, sample.reason, sample.machineCategory, sample.reviewVerdict ?? "",
                     sample.reviewClasses.joined(separator: " "), sample.model ?? "", labelled.source, String(labelled.lines.count),
                     labelled.check ? "check" : ""].map(Self.csvField).joined(separator: ","))
    }

    /// Writes data.yaml, classes.txt and samples.csv.
    public func finish() throws(EvaluationError) -> Summary {
        var yaml = "# Frames kept for labelling by pcb serve, written by pcb dataset export.\n"
        yaml += "# Pre-filled labels: correct them, then split train/val before training.\n"
        yaml += "path: .\ntrain: images/train\nval: images/train\nnames:\n"
        for (index, name) in classes.enumerated() { yaml += "  \(index): \(name)\n" }
        try write(Data(yaml.utf8), to: "data.yaml")
        try write(Data(classes.map { $0 + "\n" }.joined().utf8), to: "classes.txt")
        try write(Data(rows.map { $0 + "\n" }.joined().utf8), to: "samples.csv")
        return summary
    }

    private func write(_ data: Data, to relative: String) throws(EvaluationError) {
        let path = (directory as NSString).appendingPathComponent(relative)
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .dataset("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
