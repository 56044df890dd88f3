// Optimised batched MatMul: one OpenBLAS sgemm per (broadcast) batch entry,
// row-major, writing straight into the output buffer.

import COpenBLAS

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
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                    Int32(p.m), Int32(p.n), Int32(p.k), 1.0,
                                    ab.baseAddress! + p.aOffsets[bi], Int32(p.k),
                                    bb.baseAddress! + p.bOffsets[bi], Int32(p.n),
                                    0.0, ybuf.baseAddress! + bi * p.m * p.n, Int32(p.n))
                    }
                }
            }
            count = total
        }
    }

    /// General single product C = alpha * op(A) * op(B) + beta * C (row-major).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(transA ? m : k), b, Int32(transB ? k : n), beta, c, Int32(n))
    }
}
