// Gemm: Y = alpha * op(A) * op(B) + beta * C, with op = optional transpose
// (transA/transB) and C unidirectionally broadcast to (M, N). Runs on sgemm;
// `reference` is the plain loop.
//
// a: (M, K) or (K, M), b: (K, N) or (N, K), c: broadcastable to (M, N) -> y: (M, N)

struct GemmKernel: Kernel {
    let alpha: Float, beta: Float
    let transA: Bool, transB: Bool

    init(node: Node) throws {
        let a = node.attributes
        alpha = try a.float("alpha", default: 1)
        beta = try a.float("beta", default: 1)
        transA = try a.int("transA", default: 0) != 0
        transB = try a.int("transB", default: 0) != 0
    }

    func dims(_ a: [Int], _ b: [Int]) throws -> (m: Int, k: Int, n: Int) {
        guard a.count == 2, b.count == 2 else { throw EngineError.shapeMismatch("Gemm needs 2-D operands, got \(a) and \(b)") }
        let (m, k) = transA ? (a[1], a[0]) : (a[0], a[1])
        let (k2, n) = transB ? (b[1], b[0]) : (b[0], b[1])
        guard k == k2 else { throw EngineError.shapeMismatch("Gemm inner dimensions differ: \(a) x \(b) (transA \(transA), transB \(transB))") }
        return (m, k, n)
    }

    /// C broadcast to (M, N), scaled by beta, or zeros.
    func initialC(_ c: Tensor?, m: Int, n: Int) throws -> [Float] {
        guard let c, beta != 0 else { return [Float](repeating: 0, count: m * n) }
        let outShape = try Shape.broadcast([c.shape, [m, n]])
        guard outShape == [m, n] else { throw EngineError.shapeMismatch("Gemm C \(c.shape) does not broadcast to (\(m), \(n))") }
        let cs: [Float] = try c.elements()
        return Broadcasting.indexMap(from: c.shape, to: [m, n]).map { beta * cs[$0] }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        let (m, k, n) = try dims(a.shape, b.shape)
        var y = try initialC(inputs.optional(2), m: m, n: n)
        let av: [Float] = try a.elements(), bv: [Float] = try b.elements()
        if m > 0 && n > 0 && k > 0 {
            av.withUnsafeBufferPointer { ab in
                bv.withUnsafeBufferPointer { bb in
                    y.withUnsafeMutableBufferPointer { yb in
                        MatMulGemm.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                        a: ab.baseAddress!, b: bb.baseAddress!, beta: 1, c: yb.baseAddress!)
                    }
                }
            }
        }
        return [Tensor(shape: [m, n], floats: y)]
    }

    func reference(_ a: Tensor, _ b: Tensor, _ c: Tensor?) throws -> Tensor {
        let (m, k, n) = try dims(a.shape, b.shape)
        var y = try initialC(c, m: m, n: n)
        let av = a.floats, bv = b.floats
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for kk in 0..<k {
                    let x = transA ? av[kk * m + i] : av[i * k + kk]
                    let w = transB ? bv[j * k + kk] : bv[kk * n + j]
                    acc += x * w
                }
                y[i * n + j] += alpha * acc
            }
        }
        return Tensor(shape: [m, n], floats: y)
    }

    static let definition = OperatorDefinition("Gemm") { node, _ in try GemmKernel(node: node) }
}
