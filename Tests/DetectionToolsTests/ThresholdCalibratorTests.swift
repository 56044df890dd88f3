// Calibration on hand-made score lists whose best thresholds are known.

import Foundation
import Inspection
import Testing
@testable import DetectionTools

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct ThresholdCalibratorTests {
    let policy: DefectPolicy
    /// Two classes of the shipped policy: `short` (solder defect) and `missing_component` (component defect).
    let classes = ["short", "missing_component"]

    init() throws {
        policy = try DefectPolicy.load(yaml: String(contentsOf: repository.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8))
    }

    func sample(_ truth: CategoryCode, _ short: Float, _ missing: Float) -> CalibrationSample {
        CalibrationSample(truth: truth, bestScores: [short, missing])
    }

    @Test func lowersEachClassUntilTheFalseCallBudgetIsSpent() {
        // Ten normal boards: the model is sure of nothing on nine; one shows a 0.42 short.
        // Defective boards: shorts at 0.9, 0.5, 0.3; missing parts at 0.8 and 0.2.
        var samples = (0..<9).map { _ in sample(.normal, 0.1, 0.05) }
        samples.append(sample(.normal, 0.42, 0))
        samples += [sample(.solderDefect, 0.9, 0), sample(.solderDefect, 0.5, 0), sample(.solderDefect, 0.3, 0),
                    sample(.componentDefect, 0, 0.8), sample(.componentDefect, 0, 0.2)]
        let calibrator = ThresholdCalibrator(policy: policy, classNames: classes)

        // No false call allowed: `short` may not go down to 0.42 (the normal board), so the 0.3
        // short escapes; `missing_component` goes down to 0.2, above the normal boards' 0.05.
        let strict = calibrator.calibrate(samples, maxFalseCallRate: 0)
        #expect(strict.feasible)
        #expect(strict.outcomes.falseCalls == 0 && strict.outcomes.escapes == 1)
        #expect(strict.thresholds[0] > 0.42 && strict.thresholds[0] <= 0.5)
        #expect(strict.thresholds[1] > 0.05 && strict.thresholds[1] <= 0.2)

        // One false call in ten allowed: `short` drops to catch the 0.3 short, rejecting the 0.42 board.
        let loose = calibrator.calibrate(samples, maxFalseCallRate: 0.1)
        #expect(loose.outcomes.falseCalls == 1 && loose.outcomes.escapes == 0)
        #expect(loose.thresholds[0] > 0.1 && loose.thresholds[0] <= 0.3)
        // The chosen thresholds really give what the choice says.
        #expect(calibrator.outcomes(loose.thresholds, on: samples) == loose.outcomes)
    }

    @Test func spendsTheFalseCallBudgetOnTheClassThatCatchesMost() {
        // Ten normal boards, one false call allowed: one shows a 0.6 short, another a 0.6
        // missing part. One defective board has only a 0.55 short; two have only a 0.55
        // missing part. Lowering `short` first (the first class) catches one and spends the
        // budget, and no single move then frees it for `missing_component`, which catches two.
        var samples = (0..<8).map { _ in sample(.normal, 0, 0) }
        samples += [sample(.normal, 0.6, 0), sample(.normal, 0, 0.6)]
        samples += [sample(.solderDefect, 0.55, 0), sample(.componentDefect, 0, 0.55), sample(.componentDefect, 0, 0.55)]
        let calibrator = ThresholdCalibrator(policy: policy, classNames: classes)

        let choice = calibrator.calibrate(samples, maxFalseCallRate: 0.1)
        #expect(choice.outcomes.falseCalls == 1 && choice.outcomes.escapes == 1, "\(choice)")
        #expect(choice.thresholds[0] > 0.6 && choice.thresholds[1] <= 0.55, "\(choice.thresholds)")

        // A looser limit started from a tighter limit's choice never does worse than it.
        let strict = calibrator.calibrate(samples, maxFalseCallRate: 0)
        let looser = calibrator.calibrate(samples, maxFalseCallRate: 0.2, starts: [strict.thresholds, choice.thresholds])
        #expect(looser.outcomes.escapes <= choice.outcomes.escapes && choice.outcomes.escapes <= strict.outcomes.escapes)
        #expect(looser.outcomes.escapes == 0 && looser.outcomes.falseCalls == 2)
    }

    @Test func aClassTheSetDoesNotDecideKeepsThePolicysThreshold() {
        // No box of `missing_component` anywhere: its threshold changes nothing here, so it stays
        // at the policy's (not at the grid's edge, which would switch the class off).
        var samples = (0..<10).map { _ in sample(.normal, 0.1, 0) }
        samples += [sample(.solderDefect, 0.7, 0), sample(.solderDefect, 0.3, 0)]
        let choice = ThresholdCalibrator(policy: policy, classNames: classes).calibrate(samples, maxFalseCallRate: 0)
        #expect(choice.outcomes.escapes == 0 && choice.outcomes.falseCalls == 0)
        #expect(choice.thresholds[1] == policy.threshold(for: "missing_component"), "\(choice.thresholds)")
        #expect(choice.thresholds[0] > 0.1 && choice.thresholds[0] <= 0.3)
    }

    @Test func aModelThatRejectsNormalBoardsAtEveryThresholdIsInfeasible() {
        let samples = [sample(.normal, 0.99, 0), sample(.normal, 0.1, 0), sample(.solderDefect, 0.99, 0)]
        let choice = ThresholdCalibrator(policy: policy, classNames: classes).calibrate(samples, maxFalseCallRate: 0)
        #expect(!choice.feasible && choice.outcomes.falseCalls == 1)
    }

    @Test func theVerdictIsTheHighestPriorityClassAboveItsThreshold() {
        let calibrator = ThresholdCalibrator(policy: policy, classNames: classes)
        let both = sample(.solderDefect, 0.6, 0.9)
        #expect(calibrator.verdict(both, [0.5, 0.5]) == .solderDefect)
        #expect(calibrator.verdict(both, [0.7, 0.5]) == .componentDefect)
        #expect(calibrator.verdict(both, [0.7, 0.95]) == .normal)
    }
}

@Suite struct OperatingPointTests {
    let point = OperatingPoint(
        model: "m.onnx", modelFingerprint: OperatingPoint.fingerprint([1, 2, 3]), classNames: ["short", "spur"],
        thresholds: ["short": 0.35, "spur": 0.6], rule: "test", data: "hand-made",
        calibrationOutcomes: .init(VerdictOutcomes()))

    @Test func roundTripsThroughItsFileAndLivesBesideTheModel() throws {
        #expect(try OperatingPoint.parse(point.text, name: "m.calibration.json") == point)
        #expect(OperatingPoint.path(besideModel: "models/pcb_x.onnx").hasSuffix("models/pcb_x.calibration.json"))
        #expect(OperatingPoint.fingerprint([1, 2, 3]) != OperatingPoint.fingerprint([1, 2, 4]))
        #expect(OperatingPoint.fingerprint([UInt8]()) == "cbf29ce484222325")
    }

    @Test func refusesOtherClassesAndBrokenFiles() {
        #expect(throws: PolicyError.self) { try point.check(modelClasses: ["short", "spur", "pin_hole"], name: "m.calibration.json") }
        #expect(throws: Never.self) { try point.check(modelClasses: ["short", "spur"], name: "m.calibration.json") }
        #expect(throws: PolicyError.self) { try OperatingPoint.parse("{", name: "x") }
        let outOfRange = point.text.replacingOccurrences(of: "0.35", with: "1.5")
        #expect(throws: PolicyError.self) { try OperatingPoint.parse(outOfRange, name: "x") }
    }

    @Test func flipsTravelWithTheThresholdsAndOlderFilesRunWithout() throws {
        var flipped = point
        flipped.testTimeFlips = .both
        #expect(flipped.text.contains("\"test_time_flips\" : \"both\"") && flipped.text.contains("\"format\" : 2"))
        #expect(try OperatingPoint.parse(flipped.text, name: "x").testTimeFlips == .both)
        // Without flips the file stays format 1, which readers from before flips still take.
        #expect(point.text.contains("\"format\" : 1"))
        // A format-1 file from before flips (no key) runs the model once per frame.
        let older = point.text.replacingOccurrences(of: "\"test_time_flips\" : \"none\",\n", with: "")
        #expect(!older.contains("test_time_flips"))
        #expect(try OperatingPoint.parse(older, name: "x").testTimeFlips == TestTimeFlips.none)
        // A later format, and flips this version does not know, are refused rather than ignored.
        #expect(throws: PolicyError.self) { try OperatingPoint.parse(flipped.text.replacingOccurrences(of: "\"format\" : 2", with: "\"format\" : 3"), name: "x") }
        #expect(throws: PolicyError.self) { try OperatingPoint.parse(flipped.text.replacingOccurrences(of: "\"both\"", with: "\"diagonal\""), name: "x") }
    }

    @Test func appliedThresholdsOverrideThePolicysPerClass() throws {
        let policy = try DefectPolicy.load(yaml: String(contentsOf: repository.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8))
            .applying(point)
        #expect(policy.threshold(for: "short") == 0.35 && policy.threshold(for: "spur") == 0.6)
        #expect(policy.threshold(for: "pin_hole") == policy.confidenceThreshold)
        #expect(policy.lowestThreshold == min(0.35, policy.confidenceThreshold))
        let weakSpur = DetectedDefect(className: "spur", confidence: 0.5, x1: 0, y1: 0, x2: 1, y2: 1)
        #expect(policy.judge([weakSpur]).category.code == .normal)
    }
}
