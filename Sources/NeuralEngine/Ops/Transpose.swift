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
        let rows = Rows(shape, perm)
        var out = [T]()
        out.reserveCapacity(n)
        a.withUnsafeBufferPointer { src in
            rows.walk(0..<(n / rows.length)) { _, offset in
                for j in 0..<rows.length { out.append(src[offset + j * rows.stride]) }
            }
        }
        return out
    }

    /// The Float case: output rows shared among the pool's threads, each a strided gather or,
    /// where the last dimension stays last, a copy.
    static func transposeFloats(_ a: [Float], _ shape: [Int], _ perm: [Int], context: ExecutionContext) -> [Float] {
        let n = a.count
        if n == 0 || perm == Array(0..<perm.count) { return a }
        let rows = Rows(shape, perm)
        return context.floats(n) { out in
            a.withUnsafeBufferPointer { buffer in
                let src = buffer.baseAddress!
                context.pool.forEachChunk(count: n / rows.length, minChunk: Swift.max(1, 16_384 / rows.length)) { range in
                    rows.walk(range) { row, offset in
                        let dst = out + row * rows.length
                        if rows.stride == 1 {
                            dst.update(from: src + offset, count: rows.length)
                        } else {
                            for j in 0..<rows.length { dst[j] = src[offset + j * rows.stride] }
                        }
                    }
                }
            }
        }
    }

    /// The output's rows (its last dimension): `length` elements `stride` apart in the input.
    struct Rows {
        let outShape: [Int]
        /// The input stride of each output dimension.
        let strides: [Int]
        let length: Int, stride: Int

        init(_ shape: [Int], _ perm: [Int]) {
            let inStrides = Shape.strides(shape)
            outShape = perm.map { shape[$0] }
            strides = perm.map { inStrides[$0] }
            length = outShape[perm.count - 1]
            stride = strides[perm.count - 1]
        }

        /// Calls body(row, offset of the row's first element in the input) for `rows`, with an
        /// odometer over the leading output dimensions started at the range's first row.
        func walk(_ rows: Range<Int>, _ body: (Int, Int) -> Void) {
            let rank = outShape.count
            var index = [Int](repeating: 0, count: rank)
            var rest = rows.lowerBound, offset = 0
            for d in Swift.stride(from: rank - 2, through: 0, by: -1) {
                index[d] = rest % outShape[d]
                rest /= outShape[d]
                offset += index[d] * strides[d]
            }
            for row in rows {
                body(row, offset)
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    offset += strides[d]
                    if index[d] < outShape[d] { break }
                    offset -= strides[d] * outShape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }

    static let definition = OperatorDefinition("Transpose") { node, _ in
        TransposeKernel(perm: try node.attributes.ints("perm"))
    }
}
