// A calibrated operating point: per-class confidence thresholds chosen for one model on a
// validation set (`pcb calibrate`), with the rule that chose them and what they gave there.
// Kept beside the model as `<model>.calibration.json` (`models/x.onnx` ->
// `models/x.calibration.json`), where `pcb serve`, `pcb detect` and `pcb eval` find it by
// default. The text is parsed and checked here; reading and writing files is the caller's.

import Foundation

/// Which mirror images of each frame the model also sees; the raw outputs are averaged
/// before NMS (Detection/FlipAveraging.swift). Part of the operating point: its thresholds
/// were chosen on the averaged scores.
public enum TestTimeFlips: String, Codable, Sendable, CaseIterable {
    /// The frame only.
    case none
    /// The frame and its left-right mirror: two model runs.
    case horizontal
    /// The frame and its left-right, top-bottom and double mirrors: four model runs.
    case both

    /// How a model's description names the flips: nothing for none, else ", flips X".
    public var descriptionSuffix: String { self == .none ? "" : ", flips \(rawValue)" }
}

/// Per-class thresholds for one model, and how they were chosen.
public struct OperatingPoint: Codable, Sendable, Equatable {
    /// 2 added `test_time_flips`: a version-1 reader would ignore it and apply thresholds
    /// chosen on averaged scores to single runs, so a file with flips is format 2 and refused
    /// there. A file without flips stays format 1, which every version reads.
    public static let formatVersion = 2

    public var format: Int = OperatingPoint.formatVersion
    /// File name of the model the thresholds were chosen for.
    public var model: String
    /// The model file's fingerprint (`OperatingPoint.fingerprint`), to notice a replaced file.
    public var modelFingerprint: String
    /// The model's classes, in order: a calibration is refused for a model with other classes.
    public var classNames: [String]
    /// Class name -> the confidence its boxes need.
    public var thresholds: [String: Float]
    /// The rule the thresholds satisfy, in words.
    public var rule: String
    /// The data they were chosen on.
    public var data: String
    /// What they gave on that data.
    public var calibrationOutcomes: Outcomes
    /// The mirror images the model also saw when the thresholds were chosen (format 1: none).
    public var testTimeFlips: TestTimeFlips = .none

    /// Board counts on the calibration set at these thresholds.
    public struct Outcomes: Codable, Sendable, Equatable {
        public var normal: Int
        public var defective: Int
        public var falseCalls: Int
        public var escapes: Int
        public var wrongCategory: Int

        public init(_ outcomes: VerdictOutcomes) {
            normal = outcomes.normalBoards
            defective = outcomes.defectiveBoards
            falseCalls = outcomes.falseCalls
            escapes = outcomes.escapes
            wrongCategory = outcomes.wrongCategory
        }

        /// False calls per normal board and escapes per defective board (0 without such boards).
        public var falseCallRate: Double { normal > 0 ? Double(falseCalls) / Double(normal) : 0 }
        public var escapeRate: Double { defective > 0 ? Double(escapes) / Double(defective) : 0 }

        enum CodingKeys: String, CodingKey {
            case normal, defective, falseCalls = "false_calls", escapes, wrongCategory = "wrong_category"
        }

        /// The board counts' names in accuracy records (`<model>.precision.json`, format 1) written
        /// before those records shared these counts: still read, so that such a record keeps
        /// choosing its precision instead of failing to decode.
        enum EarlierKeys: String, CodingKey {
            case normal = "normal_boards", defective = "defective_boards"
        }

        public init(from decoder: any Decoder) throws {
            let keys = try decoder.container(keyedBy: CodingKeys.self)
            let earlier = try decoder.container(keyedBy: EarlierKeys.self)
            normal = try keys.decodeIfPresent(Int.self, forKey: .normal) ?? earlier.decode(Int.self, forKey: .normal)
            defective = try keys.decodeIfPresent(Int.self, forKey: .defective) ?? earlier.decode(Int.self, forKey: .defective)
            falseCalls = try keys.decode(Int.self, forKey: .falseCalls)
            escapes = try keys.decode(Int.self, forKey: .escapes)
            wrongCategory = try keys.decode(Int.self, forKey: .wrongCategory)
        }
    }

    public init(model: String, modelFingerprint: String, classNames: [String], thresholds: [String: Float], rule: String, data: String,
                calibrationOutcomes: Outcomes, testTimeFlips: TestTimeFlips = .none) {
        self.testTimeFlips = testTimeFlips
        format = Self.format(for: testTimeFlips)
        self.model = model
        self.modelFingerprint = modelFingerprint
        self.classNames = classNames
        self.thresholds = thresholds
        self.rule = rule
        self.data = data
        self.calibrationOutcomes = calibrationOutcomes
    }

    enum CodingKeys: String, CodingKey {
        case format, model, modelFingerprint = "model_fingerprint", classNames = "class_names", thresholds, rule, data
        case calibrationOutcomes = "calibration_outcomes", testTimeFlips = "test_time_flips"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        format = try keys.decode(Int.self, forKey: .format)
        model = try keys.decode(String.self, forKey: .model)
        modelFingerprint = try keys.decode(String.self, forKey: .modelFingerprint)
        classNames = try keys.decode([String].self, forKey: .classNames)
        thresholds = try keys.decode([String: Float].self, forKey: .thresholds)
        rule = try keys.decode(String.self, forKey: .rule)
        data = try keys.decode(String.self, forKey: .data)
        calibrationOutcomes = try keys.decode(Outcomes.self, forKey: .calibrationOutcomes)
        testTimeFlips = try keys.decodeIfPresent(TestTimeFlips.self, forKey: .testTimeFlips) ?? .none
    }

    /// Where the operating point of `modelPath` is kept: beside it, `.onnx` replaced.
    public static func path(besideModel modelPath: String) -> String {
        let url = URL(fileURLWithPath: modelPath)
        return url.deletingPathExtension().path + ".calibration.json"
    }

    /// Reads the file's text; `name` names it in messages.
    public static func parse(_ text: String, name: String) throws(PolicyError) -> OperatingPoint {
        let point: OperatingPoint
        do {
            point = try JSONDecoder().decode(OperatingPoint.self, from: Data(text.utf8))
        } catch {
            throw .invalid("\(name): not a calibration file (\(error))", line: nil)
        }
        guard (1...formatVersion).contains(point.format) else {
            throw .invalid("\(name): calibration format \(point.format), this version reads 1 to \(formatVersion)", line: nil)
        }
        for (className, value) in point.thresholds where !(0...1).contains(value) || !point.classNames.contains(className) {
            throw .invalid("\(name): threshold \(value) of '\(className)': expected 0...1 for one of the calibration's classes", line: nil)
        }
        return point
    }

    /// The lowest format that carries these flips.
    static func format(for flips: TestTimeFlips) -> Int { flips == .none ? 1 : formatVersion }

    /// The file's text: JSON, keys sorted, one field a line; the lowest format that says it all.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var written = self
        written.format = Self.format(for: testTimeFlips)
        return ((try? encoder.encode(written)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    /// Refuses to apply thresholds chosen for a model with other classes.
    public func check(modelClasses: [String], name: String) throws(PolicyError) {
        guard modelClasses == classNames else {
            throw .invalid("\(name) was calibrated for a model with classes [\(classNames.joined(separator: ", "))], "
                + "this model has [\(modelClasses.joined(separator: ", "))]: run `pcb calibrate` for it or pass --calibration none", line: nil)
        }
    }

    /// A 64-bit FNV-1a fingerprint of a file's bytes, as 16 hex digits: tells a replaced model
    /// file from the calibrated one (not a security check).
    public static func fingerprint(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

extension DefectPolicy {
    /// This policy with the operating point's per-class thresholds.
    public func applying(_ point: OperatingPoint) -> DefectPolicy {
        var policy = self
        policy.classThresholds = point.thresholds
        return policy
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
