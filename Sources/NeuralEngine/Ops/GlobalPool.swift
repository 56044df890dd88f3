// GlobalAveragePool and GlobalMaxPool: reduce all spatial dimensions of an
// (N, C, ...) tensor to size 1.
//
// x: (N, C, d_1, ..., d_k) -> y: (N, C, 1, ..., 1)

struct GlobalPoolKernel: Kernel {
    let isMax: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        guard x.rank >= 3 else { throw EngineError.shapeMismatch("global pooling needs rank >= 3, got \(x.shape)") }
        let xs: [Float] = try x.elements()
        let planes = x.shape[0] * x.shape[1]
        let size = x.shape[2...].reduce(1, *)
        var y = [Float](repeating: 0, count: planes)
        for p in 0..<planes {
            let slice = xs[(p * size)..<((p + 1) * size)]
            y[p] = isMax ? (slice.max() ?? -.infinity) : slice.reduce(0, +) / Float(Swift.max(size, 1))
        }
        return [Tensor(shape: [x.shape[0], x.shape[1]] + Array(repeating: 1, count: x.rank - 2), floats: y)]
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("GlobalAveragePool") { _, _ in GlobalPoolKernel(isMax: false) },
        OperatorDefinition("GlobalMaxPool") { _, _ in GlobalPoolKernel(isMax: true) },
    ]
}
