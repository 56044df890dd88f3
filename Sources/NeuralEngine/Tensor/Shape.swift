// Shape helpers shared by kernels: row-major strides, axis normalisation
// (negative axes), numpy-style multidirectional broadcasting of shapes and
// conversion of shape-like tensors (Int64 1-D) into [Int] with validation.

enum Shape {
    /// Row-major strides of `shape` (in elements).
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// Maps an axis in [-rank, rank) to [0, rank), or throws.
    static func normalizeAxis(_ axis: Int, rank: Int, op: String = "") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else {
            throw EngineError.invalidArgument("\(op.isEmpty ? "" : op + ": ")axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    /// Numpy-style broadcast of several shapes.
    static func broadcast(_ shapes: [[Int]]) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            let offset = rank - s.count
            for (i, d) in s.enumerated() {
                let o = out[offset + i]
                if o == d || d == 1 { continue }
                if o == 1 { out[offset + i] = d; continue }
                throw EngineError.shapeMismatch("shapes \(shapes.map { "\($0)" }.joined(separator: ", ")) cannot be broadcast")
            }
        }
        return out
    }

    /// Strides of `shape` when broadcast to `outShape` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = outShape.count - shape.count
        var s = [Int](repeating: 0, count: outShape.count)
        for i in 0..<shape.count where shape[i] != 1 {
            s[offset + i] = own[i]
        }
        return s
    }

    /// Interprets a 1-D (or scalar) integer tensor as a list of Ints.
    static func intList(_ t: Tensor, name: String) throws -> [Int] {
        guard t.rank <= 1 else {
            throw EngineError.invalidArgument("\(name) must be a 1-D tensor, got shape \(t.shape)")
        }
        switch t.storage {
        case .int64(let a): return a.map { Int(clamping: $0) }
        case .float(let a): return a.map { Int(clamping: Tensor.truncatingInt64($0)) }
        case .bool: throw EngineError.typeMismatch("\(name) must be an integer tensor")
        }
    }

    /// Validates a shape (all dims >= 0) and returns its element count.
    static func checkedCount(_ shape: [Int], what: String = "shape") throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw EngineError.invalidArgument("\(what) \(shape) has a negative dimension") }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 40 else { throw EngineError.invalidArgument("\(what) \(shape) is too large") }
            n = p
        }
        return n
    }
}
