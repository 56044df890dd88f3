// The accuracy record that lets `--precision auto` run one model in a faster number format.
// `pcb engine check-precision` evaluates the model in fp32 and in each faster precision the CPU
// runs, on a labelled set, and keeps the figures beside the model as `<model>.precision.json`
// (`models/x.onnx` -> `models/x.precision.json`). `auto` then takes the fastest precision the
// CPU runs whose check passed for this very file (its fingerprint), and fp32 without one: a
// faster format is never chosen for a model nobody measured in it. An explicit precision is
// used as asked.

import Foundation
import Inspection
import NeuralEngine

public struct PrecisionRecord: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public var format = PrecisionRecord.formatVersion
    /// File name of the model the checks ran on.
    public var model: String
    /// The model file's fingerprint (`OperatingPoint.fingerprint`): a replaced file has no record.
    public var modelFingerprint: String
    /// The labelled set and split the checks ran on, and how many images.
    public var data: String
    public var split: String
    public var images: Int
    public var tolerances: Tolerances
    /// The model as exported.
    public var fp32: Figures
    /// One per faster precision checked.
    public var checks: [Check]
    /// The command that wrote the record.
    public var command: String
    /// The test-time flips the model ran with (the operating point's); records from before
    /// flips: none. `auto` trusts the record only for a model run with the same flips.
    public var testTimeFlips: TestTimeFlips = .none

    /// How much worse than fp32's a faster precision's figures may be (issue 24's limits). Only
    /// a loss counts: on a set of fewer than 200 boards one board moves a rate by more than
    /// half a point, and a precision that judges one more board right is no risk to the line.
    public struct Tolerances: Codable, Sendable, Equatable {
        /// Precision -> the largest drop of mAP@0.5.
        public var map50: [String: Double]
        /// The largest rise of the false-call rate and of the escape rate, as fractions
        /// (0.005 is half a percentage point).
        public var rates: Double

        public static let standard = Tolerances(map50: ["bf16": 0.005, "int8": 0.01], rates: 0.005)

        public init(map50: [String: Double], rates: Double) {
            self.map50 = map50
            self.rates = rates
        }
    }

    /// What an evaluation gave in one precision.
    public struct Figures: Codable, Sendable, Equatable {
        public var map50: Double
        /// Board verdicts, when the check ran with a defect policy.
        public var verdicts: VerdictFigures?

        public init(map50: Double, verdicts: VerdictFigures?) {
            self.map50 = map50
            self.verdicts = verdicts
        }
    }

    /// Board counts, as a calibration reports them (normal, defective, false calls, escapes,
    /// wrong category).
    public typealias VerdictFigures = OperatingPoint.Outcomes

    public struct Check: Codable, Sendable, Equatable {
        public var precision: String
        public var figures: Figures
        public var passed: Bool
        /// Why it did not pass, in words (empty when it passed).
        public var failures: [String]
    }

    enum CodingKeys: String, CodingKey {
        case format, model, modelFingerprint = "model_fingerprint", data, split, images, tolerances, fp32, checks, command
        case testTimeFlips = "test_time_flips"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        format = try keys.decode(Int.self, forKey: .format)
        model = try keys.decode(String.self, forKey: .model)
        modelFingerprint = try keys.decode(String.self, forKey: .modelFingerprint)
        data = try keys.decode(String.self, forKey: .data)
        split = try keys.decode(String.self, forKey: .split)
        images = try keys.decode(Int.self, forKey: .images)
        tolerances = try keys.decode(Tolerances.self, forKey: .tolerances)
        fp32 = try keys.decode(Figures.self, forKey: .fp32)
        checks = try keys.decode([Check].self, forKey: .checks)
        command = try keys.decode(String.self, forKey: .command)
        testTimeFlips = try keys.decodeIfPresent(TestTimeFlips.self, forKey: .testTimeFlips) ?? .none
    }

    public init(model: String, modelFingerprint: String, data: String, split: String, images: Int,
                tolerances: Tolerances = .standard, fp32: Figures, checks: [Check], command: String, testTimeFlips: TestTimeFlips = .none) {
        self.testTimeFlips = testTimeFlips
        self.model = model
        self.modelFingerprint = modelFingerprint
        self.data = data
        self.split = split
        self.images = images
        self.tolerances = tolerances
        self.fp32 = fp32
        self.checks = checks
        self.command = command
    }

    /// `figures` of `precision` against fp32's: passed when neither mAP@0.5 nor either verdict
    /// rate is worse by more than the tolerances (a precision without a tolerance never passes).
    public static func check(_ precision: Precision, _ figures: Figures, against fp32: Figures,
                             tolerances: Tolerances = .standard) -> Check {
        var failures: [String] = []
        if let limit = tolerances.map50[precision.rawValue] {
            let change = figures.map50 - fp32.map50
            if -change > limit + 1e-12 {
                failures.append(String(format: "mAP@0.5 fell by %.4f (limit %.4f)", -change, limit))
            }
        } else {
            failures.append("no tolerance for \(precision)")
        }
        switch (figures.verdicts, fp32.verdicts) {
        case let (mine?, reference?):
            for (name, value, base) in [("false-call rate", mine.falseCallRate, reference.falseCallRate),
                                        ("escape rate", mine.escapeRate, reference.escapeRate)]
            where value - base > tolerances.rates + 1e-12 {
                failures.append(String(format: "%@ rose by %.2f points (limit %.2f)", name, 100 * (value - base), 100 * tolerances.rates))
            }
        case (nil, nil): break
        default: failures.append("board verdicts were measured in one precision only")
        }
        return Check(precision: precision.rawValue, figures: figures, passed: failures.isEmpty, failures: failures)
    }

    /// The precisions this record lets `auto` use (fp32 always).
    public var passedPrecisions: [Precision] {
        [.fp32] + checks.filter(\.passed).compactMap { Precision(rawValue: $0.precision) }
    }

    /// `models/x.onnx` -> `models/x.precision.json`.
    public static func path(besideModel modelPath: String) -> String {
        URL(fileURLWithPath: modelPath).deletingPathExtension().path + ".precision.json"
    }

    public static func parse(_ data: Data, name: String) throws(DetectionError) -> PrecisionRecord {
        let record: PrecisionRecord
        do { record = try JSONDecoder().decode(PrecisionRecord.self, from: data) } catch {
            throw .precisionRecord("\(name) is not a precision record: \(error)")
        }
        guard record.format == formatVersion else {
            throw .precisionRecord("\(name) has format \(record.format); this program reads format \(formatVersion)")
        }
        return record
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// What `--precision` means for one model file.
public enum PrecisionSelection {
    /// The precisions faster than fp32 this model can run on a CPU with `features`: those the
    /// CPU runs, int8 only with a calibration of this file.
    public static func faster(modelPath: String, features: CPUFeatures = .host) -> [Precision] {
        faster(modelPath: modelPath, modelFingerprint: nil, features: features)
    }

    /// The same, with the model file's fingerprint when the caller has it already.
    static func faster(modelPath: String, modelFingerprint: String?, features: CPUFeatures) -> [Precision] {
        Precision.allCases.filter { precision in
            guard precision != .fp32, precision.runs(on: features) else { return false }
            return precision != .int8
                || (try? Int8Calibration.read(besideModel: modelPath, modelFingerprint: modelFingerprint)) != nil
        }
    }

    /// `requested` (fp32, bf16, …, or auto / nil) for the model at `modelPath`: an explicit
    /// precision as asked (refused where the CPU lacks it); `auto` the fastest the CPU runs that
    /// the record beside the model passed for this file. With the reason, for the log. `auto`
    /// never fails: fp32 is always safe, so a record that cannot be read only says so.
    /// `flips`, when given, are those the model will run with: a record measured with others
    /// does not count.
    public static func resolve(_ requested: String?, modelPath: String, flips: TestTimeFlips? = nil,
                               features: CPUFeatures = .host) throws(EngineError) -> (precision: Precision, reason: String) {
        let name = requested?.lowercased() ?? "auto"
        guard name == "auto" || name.isEmpty else {
            return (try Precision.choose(features: features, requested: name), "asked for")
        }
        guard Precision.allCases.contains(where: { $0 != .fp32 && $0.runs(on: features) }) else {
            return (.fp32, "auto: the CPU runs fp32 only")
        }
        // The model file is read and fingerprinted once, for the calibration and the record.
        let modelFingerprint = FileManager.default.contents(atPath: modelPath).map(OperatingPoint.fingerprint)
        let faster = PrecisionSelection.faster(modelPath: modelPath, modelFingerprint: modelFingerprint, features: features)
        guard !faster.isEmpty else { return (.fp32, "auto: the CPU runs fp32 only (int8 needs a calibration, pcb engine calibrate)") }
        let recordPath = PrecisionRecord.path(besideModel: modelPath)
        guard let data = FileManager.default.contents(atPath: recordPath) else {
            return (.fp32, "auto: no accuracy record \(recordPath) (pcb engine check-precision)")
        }
        let record: PrecisionRecord
        do { record = try PrecisionRecord.parse(data, name: recordPath) } catch {
            return (.fp32, "auto: the accuracy record cannot be used: \(error)")
        }
        guard modelFingerprint == record.modelFingerprint else {
            return (.fp32, "auto: \(recordPath) was measured on another model file")
        }
        if let flips, flips != record.testTimeFlips {
            return (.fp32, "auto: \(recordPath) was measured with flips \(record.testTimeFlips), the model runs with \(flips) "
                + "(pcb engine check-precision)")
        }
        let chosen = try Precision.choose(features: features, requested: "auto",
                                          autoAmong: record.passedPrecisions.filter { $0 == .fp32 || faster.contains($0) })
        if chosen == .fp32 {
            return (.fp32, "auto: \(faster.map(\.rawValue).joined(separator: ", ")) did not pass the accuracy check in \(recordPath)")
        }
        return (chosen, "auto: passed its accuracy check in \(recordPath)")
    }
}
