// Converts the DeepPCB dataset (Tang et al., 2018) to Ultralytics YOLO format with this
// project's class names, so a detector can be trained and evaluated on it.
//
// DeepPCB layout (see its README):
//   groupG/G5/ID_test.jpg    image under inspection (640x640, binarized line-scan)
//   groupG/G5/ID_temp.jpg    defect-free template of the same area
//   groupG/G5_not/ID.txt     one defect per line: `x1 y1 x2 y2 type`, absolute pixels
//   trainval.txt             `groupG/G5/ID.jpg groupG/G5_not/ID.txt` per pair (the .jpg
//                            named there does not exist: `_test` / `_temp` are appended)
// Types 1..6: open, short, mousebite, spur, copper, pin-hole.

import Detection
import Foundation
import ImageKit
import SeededRandom

/// DeepPCB -> YOLO conversion with a reproducible train/val split.
public struct DeepPCBImporter {
    /// Our class names in DeepPCB type order (type 1 -> index 0).
    public static let classNames = ["open_circuit", "short", "mouse_bite", "spur", "spurious_copper", "pin_hole"]

    public var source: URL
    public var output: URL
    /// Share of pairs that go to the validation split.
    public var valFraction: Double = 0.1
    /// Seed of the split's shuffle: the same seed gives the same split.
    public var seed: UInt64 = 0
    /// Also copy each defect-free template as an image without labels (negative examples).
    public var includeTemplates = false

    public init(source: URL, output: URL) {
        self.source = source
        self.output = output
    }

    /// What an import produced.
    public struct Summary: Sendable, Equatable {
        public var trainImages = 0
        public var valImages = 0
        public var boxesPerClass = [Int](repeating: 0, count: DeepPCBImporter.classNames.count)
        public var skippedPairs: [String] = []
    }

    /// One pair listed in trainval.txt.
    struct Pair {
        let id: String
        let testImage: URL
        let templateImage: URL
        let annotation: URL
    }

    /// Converts every listed pair; `progress(done, total)` is called as pairs are written.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        let pairs = try listPairs()
        guard !pairs.isEmpty else { throw DetectionError.invalidModel("no pairs listed in \(source.path)/trainval.txt") }
        let valIDs = Set(split(pairs.map(\.id)))
        let files = FileManager.default
        for split in ["train", "val"] {
            try files.createDirectory(at: output.appendingPathComponent("images/\(split)"), withIntermediateDirectories: true)
            try files.createDirectory(at: output.appendingPathComponent("labels/\(split)"), withIntermediateDirectories: true)
        }
        var summary = Summary()
        let codec = JPEGCodec()
        for (index, pair) in pairs.enumerated() {
            defer { progress(index + 1, pairs.count) }
            guard let jpeg = files.contents(atPath: pair.testImage.path), let annotation = try? String(contentsOf: pair.annotation, encoding: .utf8) else {
                summary.skippedPairs.append(pair.id)
                continue
            }
            let (width, height) = try codec.dimensions(of: [UInt8](jpeg))
            let labels = try Self.yoloLabels(annotation, file: pair.annotation.lastPathComponent, width: width, height: height)
            let split = valIDs.contains(pair.id) ? "val" : "train"
            try jpeg.write(to: output.appendingPathComponent("images/\(split)/\(pair.id).jpg"))
            try labels.map(\.line).joined(separator: "\n").appending(labels.isEmpty ? "" : "\n")
                .write(to: output.appendingPathComponent("labels/\(split)/\(pair.id).txt"), atomically: true, encoding: .utf8)
            for label in labels { summary.boxesPerClass[label.classIndex] += 1 }
            if split == "val" { summary.valImages += 1 } else { summary.trainImages += 1 }
            if includeTemplates, let template = files.contents(atPath: pair.templateImage.path) {
                try template.write(to: output.appendingPathComponent("images/\(split)/\(pair.id)_temp.jpg"))
                try "".write(to: output.appendingPathComponent("labels/\(split)/\(pair.id)_temp.txt"), atomically: true, encoding: .utf8)
                if split == "val" { summary.valImages += 1 } else { summary.trainImages += 1 }
            }
        }
        try dataYAML().write(to: output.appendingPathComponent("data.yaml"), atomically: true, encoding: .utf8)
        return summary
    }

    /// The pairs of trainval.txt, sorted by id.
    func listPairs() throws -> [Pair] {
        let list = source.appendingPathComponent("trainval.txt")
        guard let text = try? String(contentsOf: list, encoding: .utf8) else {
            throw DetectionError.invalidModel("cannot read \(list.path): is \(source.path) a DeepPCB folder?")
        }
        var pairs: [Pair] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0].hasSuffix(".jpg") else {
                throw DetectionError.invalidModel("trainval.txt line \(number + 1): expected `IMAGE.jpg ANNOTATION.txt`, got '\(line.prefix(80))'")
            }
            let stem = String(fields[0].dropLast(4))
            let id = String(stem.split(separator: "/").last ?? Substring(stem))
            pairs.append(Pair(id: id, testImage: source.appendingPathComponent(stem + "_test.jpg"),
                              templateImage: source.appendingPathComponent(stem + "_temp.jpg"),
                              annotation: source.appendingPathComponent(String(fields[1]))))
        }
        return pairs.sorted { $0.id < $1.id }
    }

    /// The ids of the validation split: a seeded shuffle of the sorted ids, first `valFraction`.
    func split(_ ids: [String]) -> [String] {
        var order = ids.sorted()
        var random = SplitMix64(seed: seed &+ 0x5DEE_CE66)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, random.below(i + 1))
        }
        let count = Int((Double(order.count) * valFraction).rounded())
        return Array(order.prefix(count))
    }

    struct Label {
        let classIndex: Int
        let line: String
    }

    /// `x1 y1 x2 y2 type` lines -> YOLO `class cx cy w h` lines, boxes clipped to the image.
    static func yoloLabels(_ text: String, file: String, width: Int, height: Int) throws -> [Label] {
        var labels: [Label] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).compactMap { Double($0) }
            guard fields.count == 5, let type = Int(exactly: fields[4]), (1...classNames.count).contains(type) else {
                throw DetectionError.invalidModel("\(file) line \(number + 1): expected `x1 y1 x2 y2 type` with type 1-6, got '\(line.prefix(80))'")
            }
            let x1 = max(0, min(fields[0], fields[2])), x2 = min(Double(width), max(fields[0], fields[2]))
            let y1 = max(0, min(fields[1], fields[3])), y2 = min(Double(height), max(fields[1], fields[3]))
            guard x2 - x1 >= 1, y2 - y1 >= 1 else { continue }  // degenerate after clipping
            let w = Double(width), h = Double(height)
            let line = String(format: "%d %.6f %.6f %.6f %.6f", type - 1, (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h)
            labels.append(Label(classIndex: type - 1, line: line))
        }
        return labels
    }

    func dataYAML() -> String {
        var text = "# DeepPCB converted by `pcb dataset import-deeppcb` (val fraction \(valFraction), seed \(seed)).\n"
        text += "path: \(output.standardizedFileURL.path)\ntrain: images/train\nval: images/val\nnc: \(Self.classNames.count)\nnames:\n"
        for (index, name) in Self.classNames.enumerated() { text += "  \(index): \(name)\n" }
        return text
    }
}
