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

    /// What a calibration writes: the rule, each convolution's range under it, and, when the
    /// rule was chosen here, the trials behind the choice (best first; empty otherwise).
    public struct Outcome: Sendable {
        public let estimator: CalibrationEstimator
        public let ranges: [String: ClosedRange<Float>]
        public let trials: [Trial]
        /// Frames the trials were compared on (0 when the rule was given).
        public let checkFrames: Int
    }

    /// Frame `index` of `count` checks the ranges rather than measuring them: every fourth,
    /// when there are at least four.
    public static func isCheckFrame(_ index: Int, of count: Int) -> Bool { count >= 4 && index % 4 == 3 }

    /// Whether `calibrate` can choose the rule: it runs int8 and needs a frame to hold out.
    public static func canChoose(frames count: Int, on features: CPUFeatures = .host) -> Bool {
        Precision.int8.runs(on: features) && count >= 4
    }

    /// Measures each convolution's input range on `count` frames with `detector` (an fp32
    /// detector of the model at `path`) and summarises them with `rule`. With no rule (needs
    /// `canChoose`): ranges measured on three frames in four, each rule compared in int8 on the
    /// fourth (`compare`), and the winner taken over every frame. Each frame runs in fp32 once.
    public static func calibrate(_ detector: YOLODetector, path: String, threads: Int, count: Int,
                                 rule: CalibrationEstimator?, frame: (Int) throws -> RGBImage) throws -> Outcome {
        if let rule {
            let statistics = try detector.calibrationStatistics(count: count, frame: frame)
            return Outcome(estimator: rule, ranges: statistics.compactMapValues { $0.range(rule) }, trials: [], checkFrames: 0)
        }
        precondition(count >= 4, "choosing the rule needs at least 4 frames")
        let measuring = (0..<count).filter { !isCheckFrame($0, of: count) }
        let checking = (0..<count).filter { isCheckFrame($0, of: count) }
        var statistics = try detector.calibrationStatistics(count: measuring.count) { try frame(measuring[$0]) }
        // The check frames' fp32 outputs are the references; their ranges join the others only
        // once the rule is chosen, so that the comparison never sees its own frames.
        var checkFrames: [RGBImage] = [], references: [Tensor] = []
        let checked = try detector.calibrationStatistics(count: checking.count, frame: { index in
            let image = try frame(checking[index])
            checkFrames.append(image)
            return image
        }, output: { _, raw in references.append(raw) })
        let trials = try compare(references: references, path: path, threads: threads, statistics: statistics,
                                 checkFrames: checkFrames)
        for (name, seen) in checked { statistics[name, default: CalibrationStatistics()].merge(seen) }
        let estimator = trials[0].estimator
        return Outcome(estimator: estimator, ranges: statistics.compactMapValues { $0.range(estimator) }, trials: trials,
                       checkFrames: checking.count)
    }

    /// Each rule's ranges from `statistics`, run in int8 on `checkFrames` and compared with
    /// `references` (fp32's raw outputs of the same frames), best first; ties go to the order
    /// of `CalibrationEstimator.allCases`.
    public static func compare(references: [Tensor], path: String, threads: Int,
                               statistics: [String: CalibrationStatistics], checkFrames: [RGBImage]) throws -> [Trial] {
        precondition(references.count == checkFrames.count, "one reference per check frame")
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
