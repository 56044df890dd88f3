import Foundation
import Testing
@testable import Inspection

/// The shipped policy file, read from the repository (tests never read ../shared).
func shippedPolicyText() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8)
}

func box(_ name: String, _ confidence: Float) -> DetectedDefect {
    DetectedDefect(className: name, confidence: confidence, x1: 1, y1: 2, x2: 3, y2: 4)
}

@Suite struct DefectPolicyTests {
    let policy: DefectPolicy

    init() throws {
        policy = try DefectPolicy.load(yaml: try shippedPolicyText())
    }

    @Test func shippedFileHasTheSeedsClassesPinsAndLabels() {
        #expect(policy.classCategories.count == 11)
        #expect(policy.categoriesByPriority.map(\.code) == [.discard, .solderDefect, .componentDefect, .normal])
        #expect(policy.category(.componentDefect).gpio == GPIOSignal(pin: 17, durationMs: 500))
        #expect(policy.category(.solderDefect).gpio == GPIOSignal(pin: 27, durationMs: 500))
        #expect(policy.category(.discard).gpio == GPIOSignal(pin: 22, durationMs: 500))
        #expect(policy.category(.normal).gpio == GPIOSignal(pin: 23, durationMs: 300))
        #expect(policy.category(.normal).label == "정상")
        #expect(policy.category(.componentDefect).label == "부품불량")
        #expect(policy.category(.solderDefect).label == "납땜불량")
        #expect(policy.category(.discard).label == "폐기")
        #expect(policy.failSafeCategory == .discard)
        #expect(policy.confidenceThreshold == 0.25)
    }

    @Test func nothingFoundIsNormalWithFullConfidence() {
        let verdict = policy.judge([])
        #expect(verdict.category.code == .normal)
        #expect(verdict.confidence == 1.0)
        #expect(verdict.boxes.isEmpty)
    }

    @Test func minorBoardDefectsPassAsNormalButKeepTheirBoxes() {
        let verdict = policy.judge([box("mouse_bite", 0.8), box("pin_hole", 0.6)])
        #expect(verdict.category.code == .normal)
        #expect(verdict.confidence == 0.8)
        #expect(verdict.boxes.count == 2)
    }

    @Test(arguments: [
        (["missing_component"], CategoryCode.componentDefect),
        (["missing_component", "cold_joint"], .solderDefect),
        (["short", "missing_component", "spurious_copper"], .discard),
        (["damaged_pad", "spur"], .discard),
        (["solder_bridge", "mouse_bite"], .solderDefect),
    ])
    func highestPriorityCategoryWins(classes: [String], expected: CategoryCode) {
        let verdict = policy.judge(classes.enumerated().map { box($1, 0.5 + Float($0) * 0.1) })
        #expect(verdict.category.code == expected)
        #expect(verdict.confidence == 0.5 + Float(classes.count - 1) * 0.1)
    }

    @Test func boxesBelowTheThresholdAreIgnored() {
        let verdict = policy.judge([box("damaged_pad", 0.1), box("short", 0.3)])
        #expect(verdict.category.code == .solderDefect)
        #expect(verdict.boxes.map(\.className) == ["short"])
    }

    @Test func boardVerdictTakesPriorityAcrossSides() {
        let left = policy.judge([box("missing_component", 0.9)])
        let right = policy.judge([box("open_circuit", 0.7)])
        let board = policy.combine([left, right])
        #expect(board.category.code == .solderDefect)
        #expect(board.confidence == 0.7)
        #expect(policy.combine([policy.judge([]), policy.judge([])]).category.code == .normal)
    }

    @Test func modelWithUnmappedClassIsRefused() throws {
        #expect(throws: Never.self) { try policy.validate(modelClasses: ["short", "spur"]) }
        let error = #expect(throws: PolicyError.self) { try policy.validate(modelClasses: ["short", "scratch"]) }
        #expect(error?.description.contains("scratch") == true)
    }
}

@Suite struct DefectPolicyFileErrorTests {
    func loadError(_ edit: (String) -> String) throws -> String {
        let text = edit(try shippedPolicyText())
        do {
            _ = try DefectPolicy.load(yaml: text, fileName: "pcb_defects.yaml")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func anomalyMergesByPriority() throws {
        let policy = try DefectPolicy.load(yaml: try shippedPolicyText())
        #expect(policy.anomalyCategory == .discard)
        // A frame the detector calls normal, but the anomaly model does not: discard.
        let unseen = policy.judge([], anomalyFired: true)
        #expect(unseen.category.code == .discard && unseen.confidence == 1.0)
        #expect(policy.judge([box("missing_component", 0.9)], anomalyFired: true).category.code == .discard)
        #expect(policy.judge([box("missing_component", 0.9)], anomalyFired: false).category.code == .componentDefect)
        // With anomalies mapped to a lower-priority category, a higher-priority box still wins.
        let lenient = try DefectPolicy.load(yaml: try shippedPolicyText()
            .replacingOccurrences(of: "anomaly_category: discard", with: "anomaly_category: component_defect"))
        #expect(lenient.judge([], anomalyFired: true).category.code == .componentDefect)
        #expect(lenient.judge([box("short", 0.7)], anomalyFired: true).category.code == .solderDefect)
        let message = try loadError { $0.replacingOccurrences(of: "anomaly_category: discard", with: "anomaly_category: scrap") }
        #expect(message.contains("anomaly_category: unknown category 'scrap'"), "\(message)")
    }

    @Test func unknownCategoryNamesItsLine() throws {
        let message = try loadError { $0.replacingOccurrences(of: "  cold_joint: solder_defect", with: "  cold_joint: solder") }
        #expect(message.contains("pcb_defects.yaml line 35"), "\(message)")
        #expect(message.contains("unknown category 'solder'"), "\(message)")
    }

    @Test func duplicatePinNamesItsLine() throws {
        let message = try loadError { $0.replacingOccurrences(of: "pin: 17", with: "pin: 27") }
        #expect(message.contains("line 21"), "\(message)")
        #expect(message.contains("GPIO pin 27 is already used by category 'solder_defect' (line 18)"), "\(message)")
    }

    @Test func missingPriorityEntryIsRefused() throws {
        let message = try loadError { $0.replacingOccurrences(of: "priority: [discard, solder_defect, component_defect, normal]", with: "priority: [discard, solder_defect, normal]") }
        #expect(message.contains("priority does not list category 'component_defect'"), "\(message)")
    }

    @Test func missingKeysAndBadValuesAreNamed() throws {
        #expect(try loadError { $0.replacingOccurrences(of: "confidence_threshold: 0.25", with: "confidence_threshold: high") }.contains("confidence_threshold must be a number"))
        #expect(try loadError { $0.replacingOccurrences(of: "duration_ms: 300", with: "duration_ms: -3") }.contains("gpio.duration_ms must be between"))
        #expect(try loadError { $0.replacingOccurrences(of: "classes:", with: "klasses:") }.contains("missing key `classes`"))
        #expect(try loadError { _ in "- just\n- a list" }.contains("the top level must be a mapping"))
        #expect(try loadError { _ in "a: [unclosed" }.contains("not valid YAML"))
        #expect(try loadError { _ in "" }.contains("empty"))
    }
}
