// How `pcb engine calibrate` chooses the rule that turns the frames' ranges into one range per
// convolution (CalibrationEstimator): ranges are measured on three frames in four, each rule's
// int8 model is compared with fp32 on the fourth, and the rule whose class scores (what the
// verdicts read) stray least from fp32's is written. Neither rule wins on every model: the
// widest range loses resolution to one outlying frame, the mean clips values some frames need.

import ImageKit
import NeuralEngine

public enum Int8RangeChoice {
    /// One rule's ranges and how far its int8 scores strayed from fp32 on the check frames.
    public struct Trial: Sendable {
        public let estimator: CalibrationEstimator
        public let ranges: [String: ClosedRange<Float>]
        public let error: ScoreError
    }

    /// Absolute differences of class scores, summed over the entries that matter.
    public struct ScoreError: Sendable, Equatable {
        public private(set) var sum = 0.0
        public private(set) var entries = 0
        /// The largest single difference.
        public private(set) var largest: Float = 0

        public init() {}

        /// The mean difference (0 when no entry mattered).
        public var mean: Double { entries > 0 ? sum / Double(entries) : 0 }

        /// Adds the class scores of one output pair, (batch, 4 + classes, anchors) each: every
        /// (class, anchor) where either score is at least `floor` (the rest are background in
        /// both and would drown the mean).
        public mutating func add(reference: Tensor, candidate: Tensor, floor: Float = 0.05) {
            precondition(reference.shape == candidate.shape && reference.shape.count == 3, "outputs of different shapes")
            let rows = reference.shape[1], anchors = reference.shape[2]
            let r = reference.floats, c = candidate.floats
            for b in 0..<reference.shape[0] {
                for row in 4..<rows {
                    let base = (b * rows + row) * anchors
                    for a in base..<(base + anchors) where r[a] >= floor || c[a] >= floor {
                        let difference = abs(r[a] - c[a])
                        sum += Double(difference)
                        entries += 1
                        largest = Swift.max(largest, difference)
                    }
                }
            }
        }
    }

    /// Frame `index` of `count` checks the ranges rather than measuring them: every fourth,
    /// when there are at least four.
    public static func isCheckFrame(_ index: Int, of count: Int) -> Bool { count >= 4 && index % 4 == 3 }

    /// Each rule's ranges from `statistics`, run in int8 on `checkFrames` and compared with
    /// `fp32` (the detector the statistics were measured with), best first; ties go to the
    /// order of `CalibrationEstimator.allCases`.
    public static func compare(fp32: YOLODetector, path: String, threads: Int,
                               statistics: [String: CalibrationStatistics], checkFrames: [RGBImage]) throws -> [Trial] {
        let references = try checkFrames.map { try fp32.rawOutput($0) }
        var trials: [Trial] = []
        for estimator in CalibrationEstimator.allCases {
            let ranges = statistics.compactMapValues { $0.range(estimator) }
            let int8 = try YOLODetector(path: path, threads: threads, precision: .int8, int8Inputs: ranges)
            var error = ScoreError()
            for (frame, reference) in zip(checkFrames, references) {
                error.add(reference: reference, candidate: try int8.rawOutput(frame))
            }
            trials.append(Trial(estimator: estimator, ranges: ranges, error: error))
        }
        return best(trials)
    }

    /// Trials ordered by mean score error, stable for ties.
    static func best(_ trials: [Trial]) -> [Trial] {
        trials.enumerated().sorted { ($0.element.error.mean, $0.offset) < ($1.element.error.mean, $1.offset) }.map(\.element)
    }
}
