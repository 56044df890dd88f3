// Minimal data-parallel helper: splits an index range into contiguous chunks
// and runs them on up to `threads` workers with DispatchQueue.concurrentPerform.
// With one thread (or little work) the body runs inline, so single-threaded
// sessions pay nothing. Used by kernels whose per-element cost is high enough
// to benefit (activation epilogues, depthwise convolution, pooling).

import Dispatch

enum Parallel {
    /// Calls `body(range)` for disjoint sub-ranges covering 0..<count.
    /// `minChunk` is the smallest amount of work worth a separate task.
    static func forEachChunk(count: Int, threads: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = Swift.min(threads, count / Swift.max(minChunk, 1))
        if workers <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let chunk = (count + workers - 1) / workers
        // The body only touches disjoint chunks of caller-owned buffers and
        // concurrentPerform returns after all iterations, so handing the
        // non-escaping closure to the workers is safe.
        withoutActuallyEscaping(body) { escapable in
            let task = UncheckedSendableBox(escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = w * chunk, hi = Swift.min(count, lo + chunk)
                if lo < hi { task.value(lo..<hi) }
            }
        }
    }
}

/// Wraps a value whose cross-thread use the caller guarantees is safe.
struct UncheckedSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
