// Copies and elementwise loops shared among a WorkerPool's threads: Concat and Split are a
// list of block copies, split here by element count so that two threads each copy half the
// bytes whatever the blocks' sizes.

/// One contiguous copy of `count` floats.
struct CopySegment {
    let from: UnsafePointer<Float>
    let to: UnsafeMutablePointer<Float>
    let count: Int
}

extension WorkerPool {
    /// Below this many floats a copy stays on one thread (waking a worker costs more).
    static let copyChunk = 32_768

    /// Performs every copy; the elements are split evenly among the threads.
    func copy(_ segments: [CopySegment]) {
        let total = segments.reduce(0) { $0 + $1.count }
        forEachChunk(count: total, minChunk: WorkerPool.copyChunk) { range in
            var start = 0
            for segment in segments {
                let end = start + segment.count
                let lo = Swift.max(start, range.lowerBound), hi = Swift.min(end, range.upperBound)
                if lo < hi { (segment.to + (lo - start)).update(from: segment.from + (lo - start), count: hi - lo) }
                if end >= range.upperBound { break }
                start = end
            }
        }
    }
}

/// Calls body with the base address of every array (each kept alive and pinned for the call).
func withBaseAddresses<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) throws -> R) rethrows -> R {
    func nest(_ index: Int, _ collected: inout [UnsafePointer<Float>]) throws -> R {
        if index == arrays.count { return try body(collected) }
        return try arrays[index].withUnsafeBufferPointer { buffer in
            // An empty array has no storage: any non-nil pointer serves, nothing is read from it.
            collected.append(buffer.baseAddress ?? UnsafePointer(bitPattern: 16)!)
            return try nest(index + 1, &collected)
        }
    }
    var collected: [UnsafePointer<Float>] = []
    collected.reserveCapacity(arrays.count)
    return try nest(0, &collected)
}
