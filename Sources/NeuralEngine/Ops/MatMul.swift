// MatMul: numpy matmul semantics. 1-D operands are promoted (A: (K) ->
// (1, K), B: (K) -> (K, 1)) and the added axis removed afterwards; leading
// batch dimensions broadcast. `run` multiplies each batch pair with sgemm
// (MatMulGemm); `reference` is the plain triple loop.
//
// a: (..., M, K), b: (..., K, N) -> y: (broadcast(...), M, N)

struct MatMulKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        let plan = try MatMulKernel.plan(a.shape, b.shape)
        let y = MatMulGemm.run(try a.elements(), try b.elements(), plan)
        return [Tensor(shape: plan.outShape, floats: y)]
    }

    /// Resolved batched matrix product.
    struct Plan: Sendable {
        var m: Int, k: Int, n: Int
        /// Broadcast batch shape.
        var batchShape: [Int]
        /// For each batch index: element offsets of the A and B matrices.
        var aOffsets: [Int], bOffsets: [Int]
        var outShape: [Int]
    }

    static func plan(_ aShape: [Int], _ bShape: [Int]) throws -> Plan {
        guard !aShape.isEmpty, !bShape.isEmpty else { throw EngineError.shapeMismatch("MatMul operands cannot be scalars") }
        let a2 = aShape.count == 1 ? [1, aShape[0]] : aShape
        let b2 = bShape.count == 1 ? [bShape[0], 1] : bShape
        let (m, k) = (a2[a2.count - 2], a2[a2.count - 1])
        let (k2, n) = (b2[b2.count - 2], b2[b2.count - 1])
        guard k == k2 else { throw EngineError.shapeMismatch("MatMul inner dimensions differ: \(aShape) x \(bShape)") }
        let aBatch = Array(a2.dropLast(2)), bBatch = Array(b2.dropLast(2))
        let batch = try Shape.broadcast([aBatch, bBatch])
        let aMap = Broadcasting.indexMap(from: aBatch, to: batch).map { $0 * m * k }
        let bMap = Broadcasting.indexMap(from: bBatch, to: batch).map { $0 * k * n }
        var out = batch
        if aShape.count > 1 { out.append(m) }
        if bShape.count > 1 { out.append(n) }
        return Plan(m: m, k: k, n: n, batchShape: batch, aOffsets: aMap, bOffsets: bMap, outShape: out)
    }

    static func reference(_ a: [Float], _ b: [Float], _ p: Plan) -> [Float] {
        var y = [Float](repeating: 0, count: p.aOffsets.count * p.m * p.n)
        for bi in 0..<p.aOffsets.count {
            let ao = p.aOffsets[bi], bo = p.bOffsets[bi], yo = bi * p.m * p.n
            for i in 0..<p.m {
                for j in 0..<p.n {
                    var acc: Float = 0
                    for kk in 0..<p.k { acc += a[ao + i * p.k + kk] * b[bo + kk * p.n + j] }
                    y[yo + i * p.n + j] = acc
                }
            }
        }
        return y
    }

    static let definition = OperatorDefinition("MatMul") { _, _ in MatMulKernel() }
}
