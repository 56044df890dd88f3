// Optimised batched MatMul: one OpenBLAS sgemm per (broadcast) batch entry,
// row-major, writing straight into the output buffer.

enum MatMulGemm {
    static func run(_ a: [Float], _ b: [Float], _ p: MatMulKernel.Plan) -> [Float] {
        let batches = p.aOffsets.count
        let total = batches * p.m * p.n
        if total == 0 { return [] }
        if p.k == 0 { return [Float](repeating: 0, count: total) }
        return [Float](unsafeUninitializedCapacity: total) { ybuf, count in
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    for bi in 0..<batches {
                        BLAS.sgemm(m: p.m, n: p.n, k: p.k, a: ab.baseAddress! + p.aOffsets[bi], lda: p.k,
                                   b: bb.baseAddress! + p.bOffsets[bi], ldb: p.n, c: ybuf.baseAddress! + bi * p.m * p.n, ldc: p.n)
                    }
                }
            }
            count = total
        }
    }

    /// General single product C = alpha * op(A) * op(B) + beta * C (row-major).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: transA ? m : k,
                   b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
    }
}
