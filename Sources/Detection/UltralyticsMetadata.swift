// What Ultralytics writes into an exported ONNX file's `metadata_props`: class names, input
// size, stride, task and batch. Values are Python literals (`{0: 'short', 1: 'spur'}`,
// `[640, 640]`), parsed here without a Python interpreter.

/// The model facts the detector needs, read from ONNX metadata.
public struct UltralyticsMetadata: Sendable, Equatable {
    /// Class names by output index.
    public var names: [String]
    /// Training/export input size (height, width), if recorded.
    public var imageSize: (height: Int, width: Int)?
    public var stride: Int
    public var task: String?
    public var batch: Int?

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.names == rhs.names && lhs.imageSize?.height == rhs.imageSize?.height && lhs.imageSize?.width == rhs.imageSize?.width
            && lhs.stride == rhs.stride && lhs.task == rhs.task && lhs.batch == rhs.batch
    }

    /// Parses the metadata map; nil `names` when the file has none (not an Ultralytics export).
    public init(properties: [String: String]) throws(DetectionError) {
        guard let namesText = properties["names"] else {
            throw .invalidModel("the ONNX file has no `names` metadata: export it with Ultralytics (`yolo export format=onnx`)")
        }
        names = try Self.parseNames(namesText)
        imageSize = properties["imgsz"].flatMap(Self.parseSize)
        stride = properties["stride"].flatMap { Int($0) } ?? 32
        task = properties["task"]
        batch = properties["batch"].flatMap { Int($0) }
        if let task, task != "detect" {
            throw .invalidModel("the model's task is '\(task)'; only detection models (task 'detect') are supported")
        }
    }

    /// `{0: 'a', 1: "b's"}` -> ["a", "b's"]; indexes must be 0..<n without gaps.
    static func parseNames(_ text: String) throws(DetectionError) -> [String] {
        var byIndex: [Int: String] = [:]
        let characters = Array(text)
        var i = 0
        func skipSpaces() { while i < characters.count, characters[i] == " " || characters[i] == "," || characters[i] == "\n" { i += 1 } }
        guard characters.first == "{" else { throw .invalidModel("metadata `names` is not a dictionary: \(text.prefix(60))") }
        i = 1
        while true {
            skipSpaces()
            guard i < characters.count else { throw .invalidModel("metadata `names` is not closed") }
            if characters[i] == "}" { break }
            var digits = ""
            while i < characters.count, characters[i].isNumber { digits.append(characters[i]); i += 1 }
            guard let index = Int(digits) else { throw .invalidModel("metadata `names`: expected a class index at \(i)") }
            skipSpaces()
            guard i < characters.count, characters[i] == ":" else { throw .invalidModel("metadata `names`: expected ':' at \(i)") }
            i += 1
            skipSpaces()
            guard i < characters.count, characters[i] == "'" || characters[i] == "\"" else {
                throw .invalidModel("metadata `names`: expected a quoted name at \(i)")
            }
            let quote = characters[i]
            i += 1
            var name = ""
            while i < characters.count, characters[i] != quote {
                if characters[i] == "\\", i + 1 < characters.count { i += 1 }
                name.append(characters[i])
                i += 1
            }
            guard i < characters.count else { throw .invalidModel("metadata `names`: unterminated name") }
            i += 1
            byIndex[index] = name
        }
        let names = (0..<byIndex.count).compactMap { byIndex[$0] }
        guard names.count == byIndex.count, !names.isEmpty else {
            throw .invalidModel("metadata `names` must number classes 0..<n without gaps")
        }
        return names
    }

    /// `[640, 640]` or `640` -> (height, width).
    static func parseSize(_ text: String) -> (height: Int, width: Int)? {
        let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        switch numbers.count {
        case 1: return (numbers[0], numbers[0])
        case 2: return (numbers[0], numbers[1])
        default: return nil
        }
    }
}

/// Why a model cannot be used as a detector, or a detection failed.
public struct DetectionError: Error, CustomStringConvertible {
    private enum Code { case invalidModel, inference, anomaly, golden, calibration, precisionRecord }
    private let code: Code
    public let description: String

    public static func invalidModel(_ message: String) -> DetectionError { DetectionError(code: .invalidModel, description: message) }
    public static func inference(_ message: String) -> DetectionError { DetectionError(code: .inference, description: message) }
    /// The anomaly model cannot be fitted, read or applied.
    public static func anomaly(_ message: String) -> DetectionError { DetectionError(code: .anomaly, description: message) }
    /// A golden board cannot be used.
    public static func golden(_ message: String) -> DetectionError { DetectionError(code: .golden, description: message) }
    /// A calibration file cannot be found, read or used.
    public static func calibration(_ message: String) -> DetectionError { DetectionError(code: .calibration, description: message) }
    /// A precision record (`<model>.precision.json`) cannot be read.
    public static func precisionRecord(_ message: String) -> DetectionError { DetectionError(code: .precisionRecord, description: message) }
}
