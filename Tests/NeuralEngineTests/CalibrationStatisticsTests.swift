// The int8 calibration's summary of many runs' ranges (CalibrationStatistics): hand-made runs
// with known extremes and means, a merge equal to one pass, and a real session's pass.

@testable import NeuralEngine
import SeededRandom
import Testing

@Suite struct CalibrationStatisticsTests {
    @Test func extremesAndMeansOfHandMadeRuns() {
        var seen = CalibrationStatistics()
        #expect(seen.range(.extremes) == nil && seen.range(.meanOfRunExtremes) == nil)
        seen.add(-0.25...4)
        seen.add(-0.5...8)
        seen.add(0...30)  // one outlying run
        #expect(seen.runs == 3)
        #expect(seen.range(.extremes) == -0.5...30)
        #expect(seen.range(.meanOfRunExtremes) == -0.25...14)
    }

    @Test func aMergeEqualsOnePassOverAllRuns() {
        let runs: [ClosedRange<Float>] = [-1...2, -3...1, 0...5, -0.5...0.5]
        var whole = CalibrationStatistics(), first = CalibrationStatistics(), second = CalibrationStatistics()
        for (index, run) in runs.enumerated() {
            whole.add(run)
            if index < 2 { first.add(run) } else { second.add(run) }
        }
        first.merge(second)
        #expect(first == whole)
        #expect(first.range(.meanOfRunExtremes) == -1.125...2.125)
    }

    @Test func theRuleNamesParseAsTheCommandLineWritesThem() {
        #expect(CalibrationEstimator(rawValue: "extremes") == .extremes)
        #expect(CalibrationEstimator(rawValue: "mean") == .meanOfRunExtremes)
        #expect(CalibrationEstimator(rawValue: "median") == nil)
    }

    @Test func aSessionsPassKeepsEveryRun() throws {
        let path = FixtureManifest.path("models/v8_op20_dyn.onnx")
        let session = try InferenceSession(path: path, options: SessionOptions(threads: 1))
        let input = try #require(session.inputs.first?.name)
        var rng = SplitMix64(seed: 0x5EED)
        let feeds = (0..<3).map { run in
            [input: Tensor(shape: [1, 3, 32, 32], floats: rng.floats(3 * 32 * 32).map { abs($0) * Float(run + 1) })]
        }
        let statistics = try session.calibrationStatistics(runs: feeds.count) { feeds[$0] }
        let extremes = try session.calibrationRanges(runs: feeds.count) { feeds[$0] }
        #expect(statistics.count == extremes.count && statistics.count > 10)
        for (name, seen) in statistics {
            #expect(seen.runs == 3, "\(name)")
            #expect(seen.range(.extremes) == extremes[name], "\(name)")
            let mean = try #require(seen.range(.meanOfRunExtremes))
            #expect(seen.low <= mean.lowerBound && mean.upperBound <= seen.high, "\(name)")
        }
        // The first convolution reads the image itself: its range grows with the runs' scale.
        let means = try session.calibrationRanges(runs: feeds.count, estimator: .meanOfRunExtremes) { feeds[$0] }
        #expect(means.contains { name, range in range.upperBound < extremes[name]!.upperBound })
    }
}
