// The project's one percentile definition, for every latency figure it prints or shows: the
// dashboard's per-stage p50/p95/p99, `pcb simulate line`, `pcb bench server` and
// `pcb bench store`.
//
// Nearest rank: the p-th percentile of n samples is the smallest sample with at least p% of
// the samples at or below it (sorted[ceil(p/100 * n) - 1]), so every figure is a latency that
// was measured. The windows here hold at most a few thousand samples, where sorting is cheap
// and exact; a streaming histogram (HdrHistogram) would trade that exactness for memory we
// do not need to save.

/// Nearest-rank percentiles of a set of samples.
public struct Percentiles: Sendable {
    private let sorted: [Double]

    public init(_ samples: some Sequence<Double>) {
        sorted = samples.filter { !$0.isNaN }.sorted()
    }

    public var count: Int { sorted.count }

    /// The `p`-th percentile (0...100); 0 when there are no samples.
    public func value(at p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    public var median: Double { value(at: 50) }
}
