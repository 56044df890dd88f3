// How an int8 calibration summarises the ranges one convolution's input took over many runs
// (InferenceSession.calibrationStatistics). The widest range keeps every value seen but lets one
// outlying frame coarsen the steps for all others; the mean of each run's extremes (what NNCF
// does for activations by default) clips such outliers and keeps finer steps for typical
// frames. Neither wins on every model: `pcb engine calibrate --ranges auto` measures which keeps
// a model's int8 scores closer to fp32's (Detection/Int8RangeChoice.swift).

/// The rule that turns the runs' ranges into one range.
public enum CalibrationEstimator: String, CaseIterable, Sendable {
    /// The lowest and the highest value of all runs.
    case extremes
    /// The mean of each run's lowest value and of each run's highest value.
    case meanOfRunExtremes = "mean"
}

/// The ranges one convolution's input took, run by run.
public struct CalibrationStatistics: Equatable, Sendable {
    public private(set) var runs = 0
    public private(set) var low = Float.infinity
    public private(set) var high = -Float.infinity
    private var lowSum = 0.0
    private var highSum = 0.0

    public init() {}

    /// Adds one run's range.
    public mutating func add(_ range: ClosedRange<Float>) {
        runs += 1
        low = Swift.min(low, range.lowerBound)
        high = Swift.max(high, range.upperBound)
        lowSum += Double(range.lowerBound)
        highSum += Double(range.upperBound)
    }

    /// Adds the runs of another pass.
    public mutating func merge(_ other: CalibrationStatistics) {
        runs += other.runs
        low = Swift.min(low, other.low)
        high = Swift.max(high, other.high)
        lowSum += other.lowSum
        highSum += other.highSum
    }

    /// The summary range (nil before the first run).
    public func range(_ estimator: CalibrationEstimator) -> ClosedRange<Float>? {
        guard runs > 0 else { return nil }
        switch estimator {
        case .extremes: return low...high
        case .meanOfRunExtremes:
            let lo = Float(lowSum / Double(runs)), hi = Float(highSum / Double(runs))
            return lo...Swift.max(lo, hi)
        }
    }
}
