// Choosing per-class confidence thresholds for the line's verdicts (`pcb calibrate`).
//
// A board's verdict depends only on, per class, the best confidence of a box of that class
// (the policy keeps the boxes at or above their class's threshold and the highest-priority
// category among them wins). So a validation set reduces to one row per image: its true
// category and its best score per class, and any set of thresholds is scored on the rows
// without running the model again.
//
// The rule: among thresholds whose false calls (normal boards rejected) stay at or below
// `maxFalseCallRate` of the normal boards, minimise escapes (defective boards passed), then
// wrong categories, then false calls, then the distance from the policy's own thresholds: a
// class whose threshold changes nothing on the calibration set keeps the policy's, instead of
// drifting to an edge of the grid (which would switch the class off on boards the set did not
// show).
//
// Found by local search over a grid of candidate thresholds: moves of one class's threshold
// until none helps, then moves of two classes at once (one class can hold the false-call
// budget that another would spend better, and no single move frees it), until neither helps.
// It starts from every class at the highest candidate and from any thresholds the caller
// already knows (a tighter limit's choice, so a looser limit never does worse).

import Detection
import Inspection

/// One validation image as the calibration sees it.
public struct CalibrationSample: Sendable, Equatable {
    /// The policy on the labels: normal for an image without labels.
    public var truth: CategoryCode
    /// Best box confidence per model class (0 when the class has no box).
    public var bestScores: [Float]

    public init(truth: CategoryCode, bestScores: [Float]) {
        self.truth = truth
        self.bestScores = bestScores
    }
}

/// Picks per-class thresholds on calibration samples.
public struct ThresholdCalibrator: Sendable {
    public let policy: DefectPolicy
    public let classNames: [String]
    /// Thresholds tried for each class, ascending.
    public var candidates: [Float]

    /// The default grid: 0.05 ... 0.95 in steps of 0.05.
    public static let defaultCandidates: [Float] = (1...19).map { Float($0) * 0.05 }

    /// Each class's category and its priority rank (lower wins), and the normal category's, so
    /// that scoring thresholds (thousands of times per search) looks nothing up.
    private let classCategories: [CategoryCode]
    private let classRanks: [Int]
    private let normalRank: Int
    /// The policy's threshold of each class, where ties are broken towards.
    private let policyThresholds: [Float]

    public init(policy: DefectPolicy, classNames: [String], candidates: [Float] = ThresholdCalibrator.defaultCandidates) {
        self.policy = policy
        self.classNames = classNames
        self.candidates = candidates.sorted()
        classCategories = classNames.map { policy.classCategories[$0] ?? policy.failSafeCategory }
        classRanks = classCategories.map(policy.rank)
        normalRank = policy.rank(.normal)
        policyThresholds = classNames.map(policy.threshold(for:))
    }

    /// What thresholds give on the samples.
    public func outcomes(_ thresholds: [Float], on samples: [CalibrationSample]) -> VerdictOutcomes {
        var outcomes = VerdictOutcomes()
        for sample in samples { outcomes.add(truth: sample.truth, verdict: verdict(sample, thresholds)) }
        return outcomes
    }

    /// The category of one sample under `thresholds` (one per class).
    public func verdict(_ sample: CalibrationSample, _ thresholds: [Float]) -> CategoryCode {
        var best = normalRank, category = CategoryCode.normal
        for (index, score) in sample.bestScores.enumerated() where score > 0 && score >= thresholds[index] && classRanks[index] < best {
            best = classRanks[index]
            category = classCategories[index]
        }
        return category
    }

    /// The chosen thresholds and what they give.
    public struct Choice: Sendable, Equatable {
        public var thresholds: [Float]
        public var outcomes: VerdictOutcomes
        /// Whether the false-call limit could be met at all (at the highest thresholds).
        public var feasible: Bool
    }

    /// Thresholds that minimise escapes with false calls at most `maxFalseCallRate` of the normal
    /// boards. `starts` adds starting points (one threshold per class) to the built-in ones.
    public func calibrate(_ samples: [CalibrationSample], maxFalseCallRate: Double, starts: [[Float]] = []) -> Choice {
        let normal = samples.filter { $0.truth == .normal }.count
        let budget = Int((maxFalseCallRate * Double(normal)).rounded(.down) + 1e-9)
        let highest = [Float](repeating: candidates.last ?? 1, count: classNames.count)
        let atHighest = outcomes(highest, on: samples)
        guard atHighest.falseCalls <= budget else { return Choice(thresholds: highest, outcomes: atHighest, feasible: false) }
        var choice = descend(from: highest, outcomes: atHighest, samples: samples, budget: budget)
        for start in starts where start.count == classNames.count {
            let result = outcomes(start, on: samples)
            guard result.falseCalls <= budget else { continue }
            let candidate = descend(from: start, outcomes: result, samples: samples, budget: budget)
            if isBetter(candidate.outcomes, than: choice.outcomes, trial: candidate.thresholds, current: choice.thresholds) {
                choice = candidate
            }
        }
        return choice
    }

    /// Local search from a feasible start: single-class moves until none helps, then the best
    /// two-class move, and again, until neither helps (or 50 rounds).
    private func descend(from start: [Float], outcomes startOutcomes: VerdictOutcomes, samples: [CalibrationSample], budget: Int) -> Choice {
        var thresholds = start
        var best = startOutcomes
        func consider(_ trial: [Float]) -> Bool {
            let result = outcomes(trial, on: samples)
            guard result.falseCalls <= budget, isBetter(result, than: best, trial: trial, current: thresholds) else { return false }
            thresholds = trial
            best = result
            return true
        }
        for _ in 0..<50 {
            var changed = false
            for index in classNames.indices {
                for candidate in candidates where candidate != thresholds[index] {
                    var trial = thresholds
                    trial[index] = candidate
                    changed = consider(trial) || changed
                }
            }
            if changed { continue }
            for first in classNames.indices {
                for second in classNames.indices where second > first {
                    for a in candidates where a != thresholds[first] {
                        for b in candidates where b != thresholds[second] {
                            var trial = thresholds
                            trial[first] = a
                            trial[second] = b
                            changed = consider(trial) || changed
                        }
                    }
                }
            }
            if !changed { break }
        }
        return Choice(thresholds: thresholds, outcomes: best, feasible: true)
    }

    /// Fewer escapes, then fewer wrong categories, then fewer false calls; on a tie, the
    /// thresholds nearer the policy's, then the higher ones (a margin against false calls).
    func isBetter(_ a: VerdictOutcomes, than b: VerdictOutcomes, trial: [Float], current: [Float]) -> Bool {
        if a.escapes != b.escapes { return a.escapes < b.escapes }
        if a.wrongCategory != b.wrongCategory { return a.wrongCategory < b.wrongCategory }
        if a.falseCalls != b.falseCalls { return a.falseCalls < b.falseCalls }
        func distance(_ thresholds: [Float]) -> Float { zip(thresholds, policyThresholds).reduce(0) { $0 + abs($1.0 - $1.1) } }
        let (near, far) = (distance(trial), distance(current))
        if abs(near - far) > 1e-4 { return near < far }
        return trial.reduce(0, +) > current.reduce(0, +) + 1e-4
    }
}
