import Inspection
import Testing

@Suite struct LabellingSamplerTests {
    func box(_ name: String, _ confidence: Float) -> DetectedDefect {
        DetectedDefect(className: name, confidence: confidence, x1: 0, y1: 0, x2: 10, y2: 10)
    }

    /// short needs 0.5, everything else 0.25.
    func threshold(_ name: String) -> Float { name == "short" ? 0.5 : 0.25 }

    @Test func keepsFramesWhoseDecidingBoxIsNearItsThresholdOnEitherSide() {
        var sampler = LabellingSampler(rule: LabellingRule(nearMargin: 0.1, normalShare: 0, maxPerDay: 100))
        // Just above its class's threshold (0.55 vs 0.5): a defect the model was unsure of.
        #expect(sampler.choose(boxes: [box("short", 0.55)], category: .discard, threshold: threshold, day: "d") == .nearThreshold)
        // Just below (0.18 vs 0.25): an almost-detection on a frame passed as normal.
        #expect(sampler.choose(boxes: [box("spur", 0.18)], category: .normal, threshold: threshold, day: "d") == .nearThreshold)
        // A clear defect decides the frame, whatever weak box sits beside it.
        #expect(sampler.choose(boxes: [box("short", 0.95), box("spur", 0.26)], category: .discard, threshold: threshold, day: "d") == nil)
        // Far below every threshold, or no box at all: nothing to learn here.
        #expect(sampler.choose(boxes: [box("short", 0.2)], category: .normal, threshold: threshold, day: "d") == nil)
        #expect(sampler.choose(boxes: [], category: .normal, threshold: threshold, day: "d") == nil)
        #expect(LabellingSampler.decidingMargin([box("short", 0.55), box("spur", 0.30)], threshold: threshold)! - 0.05 < 1e-6)
    }

    @Test func keepsOneNormalFrameInEveryShare() {
        var sampler = LabellingSampler(rule: LabellingRule(nearMargin: 0, normalShare: 0.25, maxPerDay: 100))
        let kept = (1...12).map { _ in sampler.choose(boxes: [], category: .normal, threshold: threshold, day: "d") }
        #expect(kept.map { $0 == .normalSample } == (1...12).map { $0 % 4 == 0 })
        // Defective frames are not counted as normal ones.
        #expect(sampler.choose(boxes: [box("short", 0.9)], category: .discard, threshold: threshold, day: "d") == nil)
    }

    @Test func stopsAtTheDailyCapAndStartsAgainNextDay() {
        var sampler = LabellingSampler(rule: LabellingRule(nearMargin: 0, normalShare: 1, maxPerDay: 3))
        let first = (0..<5).compactMap { _ in sampler.choose(boxes: [], category: .normal, threshold: threshold, day: "2026-12-06") }
        #expect(first.count == 3)
        #expect(sampler.choose(boxes: [], category: .normal, threshold: threshold, day: "2026-12-07") == .normalSample)
    }

    @Test func offKeepsNothing() {
        var sampler = LabellingSampler(rule: .off)
        #expect(sampler.choose(boxes: [box("short", 0.5)], category: .discard, threshold: threshold, day: "d") == nil)
        #expect(sampler.choose(boxes: [], category: .normal, threshold: threshold, day: "d") == nil)
    }
}
