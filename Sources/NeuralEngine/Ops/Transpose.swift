// Transpose: permutes dimensions by `perm` (default: reverse order).
// Output element at index (i_0..i_r-1) is x[i_perm^-1...]; implemented by
// walking the output in order with the permuted input strides.
//
// x: (d_0, ..., d_r-1) -> y: (d_perm[0], ..., d_perm[r-1])

struct TransposeKernel: Kernel {
    let perm: [Int]?

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let perm = perm ?? Array((0..<x.rank).reversed())
        guard perm.count == x.rank, Set(perm) == Set(0..<x.rank) else {
            throw EngineError.invalidArgument("Transpose perm \(perm) is not a permutation of rank \(x.rank)")
        }
        let outShape = perm.map { x.shape[$0] }
        switch x.storage {
        case .float(let a): return [Tensor(shape: outShape, floats: TransposeKernel.transposeFloats(a, x.shape, perm, context: context))]
        case .int64(let a): return [Tensor(shape: outShape, elements: TransposeKernel.transpose(a, x.shape, perm))]
        case .bool(let a): return [Tensor(shape: outShape, elements: TransposeKernel.transpose(a, x.shape, perm))]
        }
    }

    static func transpose<T>(_ a: [T], _ shape: [Int], _ perm: [Int]) -> [T] {
        let n = a.count
        if n == 0 || perm == Array(0..<perm.count) { return a }
        let inStrides = Shape.strides(shape)
        let outShape = perm.map { shape[$0] }
        let st = perm.map { inStrides[$0] }   // input stride per output dim
        let rank = perm.count
        var out = [T](); out.reserveCapacity(n)
        var idx = [Int](repeating: 0, count: rank)
        var off = 0
        let innerLen = outShape[rank - 1], innerStride = st[rank - 1]
        a.withUnsafeBufferPointer { src in
            while out.count < n {
                for j in 0..<innerLen { out.append(src[off + j * innerStride]) }
                var d = rank - 2
                while d >= 0 {
                    idx[d] += 1
                    off += st[d]
                    if idx[d] < outShape[d] { break }
                    off -= st[d] * outShape[d]
                    idx[d] = 0
                    d -= 1
                }
                if d < 0 { break }
            }
        }
        return out
    }

    /// The Float case: output rows (the last output dimension) shared among the pool's
    /// threads, each a strided gather or, where the last dimension stays last, a copy.
    static func transposeFloats(_ a: [Float], _ shape: [Int], _ perm: [Int], context: ExecutionContext) -> [Float] {
        let n = a.count
        if n == 0 || perm == Array(0..<perm.count) { return a }
        let inStrides = Shape.strides(shape)
        let outShape = perm.map { shape[$0] }
        let st = perm.map { inStrides[$0] }
        let rank = perm.count
        let innerLen = outShape[rank - 1], innerStride = st[rank - 1]
        let rows = n / innerLen
        return context.floats(n) { out in
            a.withUnsafeBufferPointer { buffer in
                let src = buffer.baseAddress!
                context.pool.forEachChunk(count: rows, minChunk: Swift.max(1, 16_384 / innerLen)) { range in
                    // The odometer over the output's leading dimensions, started at the range's first row.
                    var idx = [Int](repeating: 0, count: rank)
                    var rest = range.lowerBound, off = 0
                    for d in stride(from: rank - 2, through: 0, by: -1) {
                        idx[d] = rest % outShape[d]
                        rest /= outShape[d]
                        off += idx[d] * st[d]
                    }
                    for row in range {
                        let dst = out + row * innerLen
                        if innerStride == 1 {
                            dst.update(from: src + off, count: innerLen)
                        } else {
                            for j in 0..<innerLen { dst[j] = src[off + j * innerStride] }
                        }
                        var d = rank - 2
                        while d >= 0 {
                            idx[d] += 1
                            off += st[d]
                            if idx[d] < outShape[d] { break }
                            off -= st[d] * outShape[d]
                            idx[d] = 0
                            d -= 1
                        }
                    }
                }
            }
        }
    }

    static let definition = OperatorDefinition("Transpose") { node, _ in
        TransposeKernel(perm: try node.attributes.ints("perm"))
    }
}
