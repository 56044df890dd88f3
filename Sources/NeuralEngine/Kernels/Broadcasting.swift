// Numpy-style broadcasting loops shared by all elementwise kernels. Binary
// operations coalesce adjacent dimensions that broadcast the same way, so
// common cases (same shape, scalar operand, per-channel bias) run as long
// inner loops; `indexMap` gives, for every output element, the source offset
// of a broadcast input, which simpler ops (Where, Expand) use directly.

enum Broadcasting {
    /// Applies `op` elementwise over the broadcast of `a` and `b`.
    @inline(__always)
    static func binary<A, R>(_ a: [A], _ aShape: [Int], _ b: [A], _ bShape: [Int],
                             _ op: (A, A) -> R) throws -> (shape: [Int], values: [R]) {
        let outShape = try aShape == bShape ? aShape : Shape.broadcast([aShape, bShape])
        let n = Tensor.elementCount(outShape)
        if n == 0 { return (outShape, []) }
        if a.count == n && b.count == n {
            let values = [R](unsafeUninitializedCapacity: n) { buf, count in
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        for i in 0..<n { (buf.baseAddress! + i).initialize(to: op(pa[i], pb[i])) }
                    }
                }
                count = n
            }
            return (outShape, values)
        }
        if b.count == 1 {
            let s = b[0]
            let values = [R](unsafeUninitializedCapacity: n) { buf, count in
                a.withUnsafeBufferPointer { pa in
                    for i in 0..<n { (buf.baseAddress! + i).initialize(to: op(pa[i], s)) }
                }
                count = n
            }
            return (outShape, values)
        }
        if a.count == 1 {
            let s = a[0]
            let values = [R](unsafeUninitializedCapacity: n) { buf, count in
                b.withUnsafeBufferPointer { pb in
                    for i in 0..<n { (buf.baseAddress! + i).initialize(to: op(s, pb[i])) }
                }
                count = n
            }
            return (outShape, values)
        }
        let (dims, sa, sb) = coalesce(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)])
        let values = [R](unsafeUninitializedCapacity: n) { buf, count in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let rank = dims.count
                    let inner = dims[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
                    var idx = [Int](repeating: 0, count: rank)
                    var offA = 0, offB = 0, o = 0
                    let out = buf.baseAddress!
                    while o < n {
                        for j in 0..<inner {
                            (out + o + j).initialize(to: op(pa[offA + j * ia], pb[offB + j * ib]))
                        }
                        o += inner
                        var d = rank - 2
                        while d >= 0 {
                            idx[d] += 1
                            offA += sa[d]; offB += sb[d]
                            if idx[d] < dims[d] { break }
                            offA -= sa[d] * dims[d]; offB -= sb[d] * dims[d]
                            idx[d] = 0
                            d -= 1
                        }
                    }
                }
            }
            count = n
        }
        return (outShape, values)
    }

    /// Broadcast strides of `shape` against `outShape` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], _ outShape: [Int]) -> [Int] {
        Shape.broadcastStrides(shape, to: outShape)
    }

    /// Merges adjacent dimensions that are contiguous for every operand.
    /// Returns the merged dims and the per-operand strides (two operands).
    static func coalesce(_ dims: [Int], _ strides: [[Int]]) -> ([Int], [Int], [Int]) {
        var outDims: [Int] = []
        var outStrides: [[Int]] = strides.map { _ in [] }
        for i in 0..<dims.count where dims[i] != 1 {
            if let last = outDims.last,
               strides.indices.allSatisfy({ strides[$0][i] * dims[i] == outStrides[$0].last! }) {
                outDims[outDims.count - 1] = last * dims[i]
                for k in strides.indices { outStrides[k][outStrides[k].count - 1] = strides[k][i] }
            } else {
                outDims.append(dims[i])
                for k in strides.indices { outStrides[k].append(strides[k][i]) }
            }
        }
        if outDims.isEmpty {
            return ([1], [0], [0])
        }
        return (outDims, outStrides[0], outStrides.count > 1 ? outStrides[1] : [])
    }

    /// For every element of `outShape`, the offset of the corresponding element
    /// in a tensor of `shape` broadcast to `outShape`.
    static func indexMap(from shape: [Int], to outShape: [Int]) -> [Int] {
        let n = Tensor.elementCount(outShape)
        if shape == outShape { return Array(0..<n) }
        let st = Shape.broadcastStrides(shape, to: outShape)
        var map = [Int](repeating: 0, count: n)
        let rank = outShape.count
        if rank == 0 || n == 0 { return map }
        var idx = [Int](repeating: 0, count: rank)
        var off = 0
        for o in 0..<n {
            map[o] = off
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                off += st[d]
                if idx[d] < outShape[d] { break }
                off -= st[d] * outShape[d]
                idx[d] = 0
                d -= 1
            }
        }
        return map
    }
}
