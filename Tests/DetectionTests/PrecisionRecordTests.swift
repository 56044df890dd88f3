// The accuracy record behind `--precision auto`: when a faster precision passes against fp32,
// and what `auto` chooses for a model with a record, without one, with one measured on another
// file, or on a CPU without the faster format. Explicit precisions are taken as asked.

import Foundation
import ImageKit
import Inspection
import NeuralEngine
import SeededRandom
import Testing
@testable import Detection

@Suite struct PrecisionRecordTests {
    typealias Figures = PrecisionRecord.Figures

    static func verdicts(normal: Int, falseCalls: Int, defective: Int, escapes: Int) -> PrecisionRecord.VerdictFigures {
        var outcomes = VerdictOutcomes()
        outcomes.add(truth: .normal, verdict: .normal, count: normal - falseCalls)
        outcomes.add(truth: .normal, verdict: .solderDefect, count: falseCalls)
        outcomes.add(truth: .solderDefect, verdict: .solderDefect, count: defective - escapes)
        outcomes.add(truth: .solderDefect, verdict: .normal, count: escapes)
        return PrecisionRecord.VerdictFigures(outcomes)
    }

    let fp32 = Figures(map50: 0.9253, verdicts: verdicts(normal: 200, falseCalls: 38, defective: 200, escapes: 0))

    @Test func bf16PassesWithinTheTolerances() {
        let same = PrecisionRecord.check(.bf16, Figures(map50: 0.9254, verdicts: fp32.verdicts), against: fp32)
        #expect(same.passed && same.failures.isEmpty)
        // One more false call in 200 normal boards is half a point: still within.
        let edge = PrecisionRecord.check(.bf16, Figures(map50: 0.9203, verdicts: Self.verdicts(normal: 200, falseCalls: 39, defective: 200, escapes: 0)),
                                         against: fp32)
        #expect(edge.passed, "\(edge.failures)")
        // Better than fp32 is no failure, however far (8 false calls fewer in 200 boards: 4 points).
        let better = PrecisionRecord.check(.bf16, Figures(map50: 0.9400, verdicts: Self.verdicts(normal: 200, falseCalls: 30, defective: 200, escapes: 0)),
                                           against: fp32)
        #expect(better.passed, "\(better.failures)")
    }

    @Test func bf16FailsOnMAPOrEitherRate() {
        let map = PrecisionRecord.check(.bf16, Figures(map50: 0.9190, verdicts: fp32.verdicts), against: fp32)
        #expect(!map.passed && map.failures.count == 1 && map.failures[0].contains("mAP@0.5"))
        let calls = PrecisionRecord.check(.bf16, Figures(map50: 0.9253, verdicts: Self.verdicts(normal: 200, falseCalls: 40, defective: 200, escapes: 0)),
                                          against: fp32)
        #expect(!calls.passed && calls.failures.contains { $0.contains("false-call rate") })
        let escapes = PrecisionRecord.check(.bf16, Figures(map50: 0.9253, verdicts: Self.verdicts(normal: 200, falseCalls: 38, defective: 200, escapes: 2)),
                                            against: fp32)
        #expect(!escapes.passed && escapes.failures.contains { $0.contains("escape rate") })
        let oneSided = PrecisionRecord.check(.bf16, Figures(map50: 0.9253, verdicts: nil), against: fp32)
        #expect(!oneSided.passed)
    }

    @Test func aPrecisionWithoutToleranceNeverPasses() {
        let check = PrecisionRecord.check(.fp32, fp32, against: fp32, tolerances: .init(map50: [:], rates: 0.005))
        #expect(!check.passed)
    }

    // MARK: - What auto chooses

    static let bf16CPU: CPUFeatures = [.avx2, .fma, .avx512f, .avx512bw, .avx512bf16]
    static let avx2CPU: CPUFeatures = [.avx2, .fma]

    /// A model file and, unless `record` is nil, its record, in a fresh folder.
    func folder(record: (PrecisionRecord) -> PrecisionRecord? = { $0 }) throws -> (model: String, remove: () -> Void) {
        let directory = NSTemporaryDirectory() + "pcb-precision-record-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let model = directory + "/m.onnx", bytes = Array("not really a model".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: model))
        let passed = PrecisionRecord.check(.bf16, fp32, against: fp32)
        let base = PrecisionRecord(model: "m.onnx", modelFingerprint: OperatingPoint.fingerprint(bytes), data: "d.yaml", split: "val",
                                   images: 400, fp32: fp32, checks: [passed], command: "test")
        if let written = record(base) {
            try written.encoded().write(to: URL(fileURLWithPath: PrecisionRecord.path(besideModel: model)))
        }
        return (model, { try? FileManager.default.removeItem(atPath: directory) })
    }

    @Test func autoTakesBF16OnlyWithAPassedRecordForThisFile() throws {
        let (model, remove) = try folder()
        defer { remove() }
        #expect(PrecisionRecord.path(besideModel: model).hasSuffix("/m.precision.json"))
        #if arch(x86_64)
        #expect(try PrecisionSelection.resolve("auto", modelPath: model, features: Self.bf16CPU).precision == .bf16)
        #expect(try PrecisionSelection.resolve(nil, modelPath: model, features: Self.bf16CPU).precision == .bf16)
        #endif
        // A CPU without bf16 runs fp32 whatever the record says.
        #expect(try PrecisionSelection.resolve("auto", modelPath: model, features: Self.avx2CPU).precision == .fp32)
        // Explicit choices are taken as asked, record or not.
        #expect(try PrecisionSelection.resolve("fp32", modelPath: model, features: Self.bf16CPU).precision == .fp32)
        let fp32Only = try PrecisionSelection.resolve("auto", modelPath: model, features: Self.avx2CPU)
        #expect(fp32Only.reason.contains("fp32 only"), "\(fp32Only.reason)")
        #expect(throws: EngineError.self) { try PrecisionSelection.resolve("bf16", modelPath: model, features: Self.avx2CPU) }
    }

    #if arch(x86_64)  // elsewhere the CPU runs fp32 only, whatever the record says
    @Test func aRecordCountsOnlyForTheFlipsItWasMeasuredWith() throws {
        let (model, remove) = try folder { record in
            var flipped = record
            flipped.testTimeFlips = .both
            return flipped
        }
        defer { remove() }
        let record = try PrecisionRecord.parse(try Data(contentsOf: URL(fileURLWithPath: PrecisionRecord.path(besideModel: model))), name: "r")
        #expect(record.testTimeFlips == .both)
        #expect(try PrecisionSelection.resolve("auto", modelPath: model, flips: .both, features: Self.bf16CPU).precision == .bf16)
        let other = try PrecisionSelection.resolve("auto", modelPath: model, flips: TestTimeFlips.none, features: Self.bf16CPU)
        #expect(other.precision == .fp32 && other.reason.contains("measured with flips both"), "\(other.reason)")
        // A caller that does not say how it runs the model (a benchmark) is not held to it.
        #expect(try PrecisionSelection.resolve("auto", modelPath: model, features: Self.bf16CPU).precision == .bf16)
    }

    @Test func autoStaysFP32WithoutAPassingRecord() throws {
        let (noRecord, removeA) = try folder { _ in nil }
        defer { removeA() }
        let none = try PrecisionSelection.resolve("auto", modelPath: noRecord, features: Self.bf16CPU)
        #expect(none.precision == .fp32 && none.reason.contains("no accuracy record"))

        let (failed, removeB) = try folder { record in
            var record = record
            record.checks = [PrecisionRecord.check(.bf16, Figures(map50: 0.5, verdicts: self.fp32.verdicts), against: self.fp32)]
            return record
        }
        defer { removeB() }
        let notPassed = try PrecisionSelection.resolve("auto", modelPath: failed, features: Self.bf16CPU)
        #expect(notPassed.precision == .fp32 && notPassed.reason.contains("did not pass"))

        let (replaced, removeC) = try folder { record in
            var record = record
            record.modelFingerprint = OperatingPoint.fingerprint(Array("the model before".utf8))
            return record
        }
        defer { removeC() }
        let other = try PrecisionSelection.resolve("auto", modelPath: replaced, features: Self.bf16CPU)
        #expect(other.precision == .fp32 && other.reason.contains("another model file"))
    }
    #endif

    @Test func aBrokenRecordMeansFP32InWords() throws {
        let (model, remove) = try folder { _ in nil }
        defer { remove() }
        try Data("{\"format\": 1, \"model\": ".utf8).write(to: URL(fileURLWithPath: PrecisionRecord.path(besideModel: model)))
        let broken = try PrecisionSelection.resolve("auto", modelPath: model, features: Self.bf16CPU)
        #expect(broken.precision == .fp32)
        #if arch(x86_64)
        #expect(broken.reason.contains("not a precision record"), "\(broken.reason)")
        #endif
        var future = try PrecisionRecord.parse(
            try PrecisionRecord(model: "m.onnx", modelFingerprint: "0", data: "d", split: "val", images: 1, fp32: fp32, checks: [],
                                command: "").encoded(), name: "r")
        future.format = 2
        let text = try future.encoded()
        #expect(throws: DetectionError.self) { try PrecisionRecord.parse(text, name: "r") }
    }

    /// Records of format 1 written before the board counts were renamed (normal_boards,
    /// defective_boards) still choose their precision.
    @Test func anEarlierRecordWithTheOldCountNamesIsStillRead() throws {
        let (model, remove) = try folder()
        defer { remove() }
        let path = PrecisionRecord.path(besideModel: model)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let earlier = text.replacingOccurrences(of: "\"normal\"", with: "\"normal_boards\"")
            .replacingOccurrences(of: "\"defective\"", with: "\"defective_boards\"")
        #expect(earlier.contains("normal_boards") && !earlier.contains("\"normal\""))
        try Data(earlier.utf8).write(to: URL(fileURLWithPath: path))
        let record = try PrecisionRecord.parse(Data(earlier.utf8), name: "r")
        #expect(record.fp32.verdicts == fp32.verdicts && record.checks.first?.passed == true)
        #if arch(x86_64)
        #expect(try PrecisionSelection.resolve("auto", modelPath: model, features: Self.bf16CPU).precision == .bf16)
        #endif
    }
}

/// The int8 calibration file: found for its own model file only, refused in words when broken,
/// and what makes int8 a candidate of `auto` at all.
@Suite struct Int8CalibrationTests {
    static let vnniCPU: CPUFeatures = [.avx2, .fma, .avx512f, .avx512bw, .avx512vnni]

    @Test func aCalibrationCountsForItsOwnModelFileOnly() throws {
        let directory = NSTemporaryDirectory() + "pcb-int8-calibration-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = directory + "/m.onnx", bytes = Array("model bytes".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: model))
        #expect(Int8Calibration.path(besideModel: model).hasSuffix("/m.int8.json"))
        #expect(try Int8Calibration.read(besideModel: model) == nil)
        #expect(PrecisionSelection.faster(modelPath: model, features: Self.vnniCPU).isEmpty)

        let calibration = Int8Calibration(model: "m.onnx", modelFingerprint: OperatingPoint.fingerprint(bytes), images: 3, source: "frames",
                                          ranges: ["conv1": -0.3...6, "conv2": 0...1])
        try calibration.encoded().write(to: URL(fileURLWithPath: Int8Calibration.path(besideModel: model)))
        let read = try #require(try Int8Calibration.read(besideModel: model))
        #expect(read.inputRanges == ["conv1": -0.3...6, "conv2": 0...1])
        #if arch(x86_64)
        #expect(PrecisionSelection.faster(modelPath: model, features: Self.vnniCPU) == [.int8])
        #endif

        // Another file beside the same calibration has none.
        try Data(Array("another model".utf8)).write(to: URL(fileURLWithPath: model))
        #expect(try Int8Calibration.read(besideModel: model) == nil)
        #expect(PrecisionSelection.faster(modelPath: model, features: Self.vnniCPU).isEmpty)

        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: Int8Calibration.path(besideModel: model)))
        #expect(throws: DetectionError.self) { try Int8Calibration.read(besideModel: model) }
    }

    @Test func brokenRangesAreLeftOut() {
        var calibration = Int8Calibration(model: "m", modelFingerprint: "0", images: 1, source: "s", ranges: ["ok": 0...1])
        calibration.ranges["reversed"] = [2, 1]
        calibration.ranges["short"] = [1]
        calibration.ranges["infinite"] = [-.infinity, 1]
        #expect(calibration.inputRanges == ["ok": 0...1])
    }

    @Test func theRuleIsRecordedAndOlderFilesWithoutOneStillRead() throws {
        let calibration = Int8Calibration(model: "m", modelFingerprint: "0", images: 4, source: "s", ranges: ["c": 0...1],
                                          estimator: .meanOfRunExtremes)
        let read = try JSONDecoder().decode(Int8Calibration.self, from: try calibration.encoded())
        #expect(read.estimator == "mean" && read == calibration)
        let older = #"{"format": 1, "model": "m", "model_fingerprint": "0", "images": 4, "source": "s", "ranges": {"c": [0, 1]}}"#
        let old = try JSONDecoder().decode(Int8Calibration.self, from: Data(older.utf8))
        #expect(old.estimator == nil && old.inputRanges == ["c": 0...1])
    }
}

/// How `pcb engine calibrate --ranges auto` compares the rules: score differences on hand-made
/// outputs, the frames held out, and the order of the trials.
@Suite struct Int8RangeChoiceTests {
    /// A (1, 4 + 2 classes, 3 anchors) output with the given class scores (class-major) and
    /// every box coordinate `box`.
    func output(_ scores: [Float], box: Float = 100) -> Tensor {
        Tensor(shape: [1, 6, 3], floats: [Float](repeating: box, count: 12) + scores)
    }

    @Test func onlyScoresThatMatterCount() {
        var error = Int8RangeChoice.ScoreError()
        // Anchor 0 of class 0 is background in both (left out); boxes (rows 0-3) never count.
        let reference = output([0.01, 0.30, 0.90, 0.00, 0.04, 0.50])
        let candidate = output([0.02, 0.25, 0.80, 0.06, 0.03, 0.50], box: -5)
        error.add(reference: reference, candidate: candidate)
        #expect(error.entries == 4)  // 0.30/0.25, 0.90/0.80, 0.00/0.06, 0.50/0.50
        #expect(abs(error.sum - 0.21) < 1e-6 && abs(error.mean - 0.0525) < 1e-6)
        #expect(abs(error.largest - 0.1) < 1e-6)
        #expect(Int8RangeChoice.ScoreError().mean == 0)
    }

    @Test func everyFourthFrameChecksWhenThereAreFour() {
        #expect((0..<8).filter { Int8RangeChoice.isCheckFrame($0, of: 8) } == [3, 7])
        #expect((0..<3).filter { Int8RangeChoice.isCheckFrame($0, of: 3) }.isEmpty)
    }

    /// A small random-weight YOLOv8 (64 x 64) from the engine's fixtures.
    static let fixtureModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test(.enabled(if: Int8RangeChoice.canChoose(frames: 8), "this CPU does not run int8"))
    func choosingTheRuleRunsEachFrameOnceAndCoversEveryFrame() throws {
        let path = Self.fixtureModel
        let detector = try YOLODetector(path: path)
        var rng = SplitMix64(seed: 11)
        let frames = (0..<8).map { _ in RGBImage(width: 80, height: 60, pixels: (0..<(80 * 60 * 3)).map { _ in UInt8(rng.next() % 256) }) }
        var loads = [Int](repeating: 0, count: frames.count)
        let auto = try Int8RangeChoice.calibrate(detector, path: path, threads: 1, count: frames.count, rule: nil) { index in
            loads[index] += 1
            return frames[index]
        }
        #expect(loads == [Int](repeating: 1, count: frames.count))
        #expect(auto.trials.map(\.estimator).sorted { $0.rawValue < $1.rawValue }
                == CalibrationEstimator.allCases.sorted { $0.rawValue < $1.rawValue })
        #expect(auto.trials.first?.estimator == auto.estimator && auto.checkFrames == 2)
        // The trials measured three frames in four; what is written covers all eight, as the
        // chosen rule given outright would.
        let outright = try Int8RangeChoice.calibrate(detector, path: path, threads: 1, count: frames.count, rule: auto.estimator) { frames[$0] }
        #expect(outright.trials.isEmpty && outright.checkFrames == 0 && !outright.ranges.isEmpty)
        #expect(Set(auto.ranges.keys) == Set(outright.ranges.keys))
        for (name, range) in outright.ranges {
            let chosen = try #require(auto.ranges[name])
            #expect(abs(chosen.lowerBound - range.lowerBound) <= 1e-5 * Swift.max(1, abs(range.lowerBound))
                    && abs(chosen.upperBound - range.upperBound) <= 1e-5 * Swift.max(1, abs(range.upperBound)), "\(name)")
        }
        let trialRanges = try #require(auto.trials.first { $0.estimator == .extremes }?.ranges)
        let allRanges = auto.estimator == .extremes ? auto.ranges
            : try Int8RangeChoice.calibrate(detector, path: path, threads: 1, count: frames.count, rule: .extremes) { frames[$0] }.ranges
        // The widest ranges of six frames lie within those of all eight.
        for (name, range) in trialRanges {
            let all = try #require(allRanges[name])
            #expect(all.lowerBound <= range.lowerBound && range.upperBound <= all.upperBound, "\(name)")
        }
    }

    @Test func theSmallestMeanErrorWinsAndTiesKeepTheirOrder() {
        func trial(_ estimator: CalibrationEstimator, _ difference: Float) -> Int8RangeChoice.Trial {
            var error = Int8RangeChoice.ScoreError()
            error.add(reference: output([0.5, 0, 0, 0, 0, 0]), candidate: output([0.5 + difference, 0, 0, 0, 0, 0]))
            return Int8RangeChoice.Trial(estimator: estimator, ranges: [:], error: error)
        }
        #expect(Int8RangeChoice.best([trial(.extremes, 0.02), trial(.meanOfRunExtremes, 0.01)]).map(\.estimator)
                == [.meanOfRunExtremes, .extremes])
        #expect(Int8RangeChoice.best([trial(.extremes, 0.01), trial(.meanOfRunExtremes, 0.01)]).map(\.estimator)
                == [.extremes, .meanOfRunExtremes])
    }
}
