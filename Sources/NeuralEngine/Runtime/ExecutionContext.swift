// ExecutionContext carries per-session execution resources into kernels: the
// thread count and reusable scratch buffers (e.g. the im2col matrix), so that
// large temporary allocations are made once per session rather than once per
// node. A future memory planner/arena can hang off this type. Not thread-safe:
// one context serves one run at a time.

final class ExecutionContext {
    let threads: Int
    /// Reusable float scratch space (grown on demand, never shrunk).
    private var scratch: [Float] = []

    init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// Calls `body` with a scratch buffer of at least `count` floats. The
    /// contents are unspecified on entry.
    func withScratch<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let need = Swift.max(count, 1)
        if scratch.count < need {
            scratch = [Float](repeating: 0, count: need)
        }
        return try scratch.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
