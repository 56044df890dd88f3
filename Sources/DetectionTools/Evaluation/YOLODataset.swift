// An Ultralytics (YOLO-format) detection dataset: `data.yaml`, image folders or list files,
// and one `.txt` label file per image, read the way Ultralytics' `check_det_dataset` and
// `YOLODataset` read them.
//
//   data.yaml                      labels/val/board_001.txt
//   ---------                      ------------------------
//   path: ../datasets/pcb          # class cx cy w h, normalised to 0...1
//   train: images/train            3 0.4656 0.8871 0.0159 0.0212
//   val: images/val                5 0.1880 0.6859 0.0447 0.0464
//   names: [short, spur]           # or {0: short, 1: spur}
//
// Paths: `path` (the dataset root) is relative to the yaml's folder (else to the current
// directory) and defaults to that folder; split entries are relative to the root. A split is
// a folder (searched recursively), a `.txt` list of image paths (`./x.jpg` is relative to the
// list's folder), or a list of either. An image's labels are at the path with the last
// `/images/` replaced by `/labels/` and the extension by `.txt`; no label file means no objects.

import Detection
import Foundation
import Yams

/// One ground-truth object of a label file, in normalised image coordinates (Float, as Ultralytics).
public struct LabelBox: Sendable, Equatable {
    public var classIndex: Int
    /// Centre and size, 0...1 of the image width/height.
    public var cx: Float, cy: Float, w: Float, h: Float

    public init(classIndex: Int, cx: Float, cy: Float, w: Float, h: Float) {
        self.classIndex = classIndex
        self.cx = cx
        self.cy = cy
        self.w = w
        self.h = h
    }
}

/// A dataset described by an Ultralytics `data.yaml`.
public struct YOLODataset: Sendable {
    /// The yaml file.
    public let yamlPath: String
    /// Dataset root (`path`), absolute.
    public let root: String
    /// Class names by label index.
    public let names: [String]
    /// Split name (`train`, `val`, `test`, ...) -> absolute folders or list files.
    public let splits: [String: [String]]

    /// File extensions Ultralytics treats as images (lowercased).
    public static let imageExtensions: Set<String> = [
        "avif", "bmp", "dng", "heic", "heif", "jp2", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm",
    ]

    /// Reads and resolves `data.yaml`.
    public static func load(yamlPath: String) throws(EvaluationError) -> YOLODataset {
        let yamlURL = URL(fileURLWithPath: yamlPath).standardizedFileURL
        guard let data = FileManager.default.contents(atPath: yamlURL.path) else {
            throw .dataset("cannot read \(yamlPath)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let document: Node?
        do { document = try Yams.compose(yaml: text) } catch {
            throw .dataset("\(yamlPath) is not valid YAML: \(error)")
        }
        guard let mapping = document?.mapping else {
            throw .dataset("\(yamlPath): expected a mapping with `train`, `val` and `names`")
        }
        var map: [String: Node] = [:]
        for (key, value) in mapping { if let name = key.string { map[name] = value } }
        let names = try parseNames(map, file: yamlPath)
        let yamlFolder = yamlURL.deletingLastPathComponent().path
        let root: String
        if let path = map["path"]?.scalar?.string, !["", "~", "null", "Null", "NULL"].contains(path) {
            root = resolve(path, against: yamlFolder, orCurrentDirectory: true)
        } else {
            root = yamlFolder
        }
        var splits: [String: [String]] = [:]
        for (key, value) in map where !["path", "names", "nc", "download", "channels", "yaml_file"].contains(key) {
            let entries: [String]
            if let single = value.scalar?.string {
                entries = [single]
            } else if let list = value.sequence {
                entries = list.compactMap { $0.scalar?.string }
            } else {
                continue
            }
            let split = key == "validation" && map["val"] == nil ? "val" : key
            splits[split] = entries.filter { !$0.isEmpty }.map { entry in
                let resolved = resolve(entry, against: root, orCurrentDirectory: false)
                if !FileManager.default.fileExists(atPath: resolved), entry.hasPrefix("../") {
                    return resolve(String(entry.dropFirst(3)), against: root, orCurrentDirectory: false)
                }
                return resolved
            }
        }
        return YOLODataset(yamlPath: yamlURL.path, root: root, names: names, splits: splits)
    }

    /// Sorted absolute image paths of a split.
    public func imagePaths(split: String) throws(EvaluationError) -> [String] {
        guard let sources = splits[split], !sources.isEmpty else {
            let known = splits.keys.sorted().joined(separator: ", ")
            throw .dataset("\(yamlPath) has no `\(split)` split (it has: \(known.isEmpty ? "none" : known))")
        }
        var files: [String] = []
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw .dataset("split `\(split)`: \(source) does not exist")
            }
            if isDirectory.boolValue {
                guard let enumerator = FileManager.default.enumerator(atPath: source) else {
                    throw .dataset("cannot list \(source)")
                }
                while let item = enumerator.nextObject() as? String {
                    files.append((source as NSString).appendingPathComponent(item))
                }
            } else {
                files += try listFile(source)
            }
        }
        let images = files.filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }   // Python's sorted(): code point order
        guard !images.isEmpty else { throw .dataset("split `\(split)` (\(sources.joined(separator: ", "))) has no images") }
        return images
    }

    /// The label file of an image: the last `/images/` becomes `/labels/`, the extension `.txt`.
    public static func labelPath(forImage image: String) -> String {
        var path = image
        if let range = path.range(of: "/images/", options: .backwards) {
            path.replaceSubrange(range, with: "/labels/")
        }
        if let dot = path.lastIndex(of: "."), !path[dot...].contains("/") {
            path = String(path[..<dot])
        }
        return path + ".txt"
    }

    /// The objects of an image; no label file means no objects.
    public func labels(forImage image: String) throws(EvaluationError) -> [LabelBox] {
        let path = Self.labelPath(forImage: image)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else { throw .dataset("cannot read \(path)") }
        return try Self.parseLabels(String(decoding: data, as: UTF8.self), file: path, classCount: names.count)
    }

    /// Parses a label file: `class cx cy w h` per line (or `class x1 y1 x2 y2 ...`, a polygon,
    /// boxed by its extremes as Ultralytics does). Exact duplicate rows are dropped.
    public static func parseLabels(_ text: String, file: String, classCount: Int) throws(EvaluationError) -> [LabelBox] {
        var boxes: [LabelBox] = []
        var seen: Set<[Float]> = []
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        // Characters, not bytes: "\r\n" is one newline character.
        for (number, line) in body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            let location = "\(file):\(number + 1)"
            var values: [Float] = []
            for field in fields {
                guard let value = Float(field), value.isFinite else {
                    throw .dataset("\(location): '\(field)' is not a number (expected `class cx cy w h`)")
                }
                values.append(value)
            }
            guard values.count == 5 || (values.count > 6 && values.count % 2 == 1) else {
                throw .dataset("\(location): expected 5 values `class cx cy w h`, found \(values.count)")
            }
            guard values[0] >= 0, values[0].rounded() == values[0] else {
                throw .dataset("\(location): class '\(fields[0])' is not a non-negative integer")
            }
            let classIndex = Int(values[0])
            guard classIndex < classCount else {
                throw .dataset("\(location): class \(classIndex) is out of range (the dataset names \(classCount) classes)")
            }
            var box: [Float]
            if values.count == 5 {
                box = Array(values[1...])
            } else {
                let xs = stride(from: 1, to: values.count, by: 2).map { values[$0] }
                let ys = stride(from: 2, to: values.count, by: 2).map { values[$0] }
                let x1 = xs.min()!, x2 = xs.max()!, y1 = ys.min()!, y2 = ys.max()!
                box = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
            }
            guard box.allSatisfy({ $0 <= 1.01 }) else {
                throw .dataset("\(location): coordinates must be normalised to 0...1, found \(box.map { "\($0)" }.joined(separator: " "))")
            }
            guard box.allSatisfy({ $0 >= -0.01 }), box[2] >= 0, box[3] >= 0 else {
                throw .dataset("\(location): negative coordinates or size: \(box.map { "\($0)" }.joined(separator: " "))")
            }
            if !seen.insert([values[0]] + box).inserted { continue }
            boxes.append(LabelBox(classIndex: classIndex, cx: box[0], cy: box[1], w: box[2], h: box[3]))
        }
        return boxes
    }

    // MARK: - Helpers

    private static func parseNames(_ map: [String: Node], file: String) throws(EvaluationError) -> [String] {
        let nc = map["nc"]?.scalar.flatMap { Int($0.string) ?? Double($0.string).flatMap { $0.rounded() == $0 ? Int($0) : nil } }
        if map["nc"] != nil, nc == nil { throw .dataset("\(file): `nc` must be an integer") }
        var names: [String]
        if let list = map["names"]?.sequence {
            names = list.map { $0.scalar?.string ?? "\($0)" }
        } else if let dictionary = map["names"]?.mapping {
            var byIndex: [Int: String] = [:]
            for (key, value) in dictionary {
                guard let index = key.scalar.flatMap({ Int($0.string.trimmingCharacters(in: .whitespaces)) }) else {
                    throw .dataset("\(file): `names` keys must be class indexes, found '\(key.string ?? "\(key)")'")
                }
                byIndex[index] = value.scalar?.string ?? "\(value)"
            }
            names = (0..<byIndex.count).compactMap { byIndex[$0] }
            guard names.count == byIndex.count else {
                throw .dataset("\(file): `names` must number the classes 0..<n without gaps")
            }
        } else if let nc {
            names = (0..<nc).map { "class_\($0)" }
        } else {
            throw .dataset("\(file): `names` (a list or an index map) or `nc` is required")
        }
        guard !names.isEmpty else { throw .dataset("\(file): `names` is empty") }
        if let nc, nc != names.count { throw .dataset("\(file): `names` has \(names.count) classes but `nc` is \(nc)") }
        return names
    }

    private static func resolve(_ path: String, against base: String, orCurrentDirectory: Bool) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        let candidate = URL(fileURLWithPath: base).appendingPathComponent(expanded).standardizedFileURL.path
        if orCurrentDirectory, !FileManager.default.fileExists(atPath: candidate) {
            let fromCurrent = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(expanded)
                .standardizedFileURL.path
            if FileManager.default.fileExists(atPath: fromCurrent) { return fromCurrent }
        }
        return candidate
    }

    /// Image paths of a list file: one per line; `./x` is relative to the list's folder, other
    /// relative lines to the current directory (as Ultralytics), else to the list's folder.
    private func listFile(_ path: String) throws(EvaluationError) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .dataset("cannot read \(path)") }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let folder = (path as NSString).deletingLastPathComponent
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { line in
                if line.hasPrefix("./") { return (folder as NSString).appendingPathComponent(String(line.dropFirst(2))) }
                if line.hasPrefix("/") { return line }
                if FileManager.default.fileExists(atPath: line) {
                    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(line).standardizedFileURL.path
                }
                return (folder as NSString).appendingPathComponent(line)
            }
    }
}

/// Why an evaluation cannot run: a bad dataset, model or argument.
public struct EvaluationError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public static func dataset(_ message: String) -> EvaluationError { EvaluationError(description: message) }
    public static func model(_ message: String) -> EvaluationError { EvaluationError(description: message) }
    public static func invalid(_ message: String) -> EvaluationError { EvaluationError(description: message) }
}
