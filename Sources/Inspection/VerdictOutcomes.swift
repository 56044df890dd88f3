// The two numbers a factory judges an inspection line by, and the third that matters to its
// rework station, counted over boards (or frames) whose true category is known:
//
//   false call      truth normal,     verdict not normal   (a good board rejected)
//   escape          truth not normal, verdict normal       (a bad board passed)
//   wrong category  truth not normal, verdict another non-normal category (right bin? no)
//
// Rates are per board of the truth they are about: false calls per normal board, escapes and
// wrong categories per defective board. Used by `pcb eval` (frames of a dataset) and
// `pcb simulate line` (boards through the running server).

/// Counts of verdicts against the truth, with the false-call, escape and wrong-category rates.
public struct VerdictOutcomes: Sendable, Equatable {
    public private(set) var normalBoards = 0
    public private(set) var defectiveBoards = 0
    public private(set) var correct = 0
    public private(set) var falseCalls = 0
    public private(set) var escapes = 0
    public private(set) var wrongCategory = 0

    public init() {}

    /// One board (or frame) whose truth is `truth` got `verdict`.
    public mutating func add(truth: CategoryCode, verdict: CategoryCode, count: Int = 1) {
        if truth == verdict { correct += count }
        if truth == .normal {
            normalBoards += count
            if verdict != .normal { falseCalls += count }
        } else {
            defectiveBoards += count
            if verdict == .normal { escapes += count } else if verdict != truth { wrongCategory += count }
        }
    }

    public var total: Int { normalBoards + defectiveBoards }
    /// Good boards rejected, per normal board (0 without normal boards).
    public var falseCallRate: Double { Self.rate(falseCalls, normalBoards) }
    /// Bad boards passed as normal, per defective board.
    public var escapeRate: Double { Self.rate(escapes, defectiveBoards) }
    /// Bad boards sent to another defect category's bin, per defective board.
    public var wrongCategoryRate: Double { Self.rate(wrongCategory, defectiveBoards) }
    public var accuracy: Double { Self.rate(correct, total) }

    private static func rate(_ count: Int, _ of: Int) -> Double { of > 0 ? Double(count) / Double(of) : 0 }
}
