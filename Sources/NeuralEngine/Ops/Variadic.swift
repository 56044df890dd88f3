// Variadic elementwise reductions across inputs with broadcasting: Min, Max,
// Sum and Mean. The inputs are folded pairwise left to right. NaN handling
// follows ONNX Runtime (NaN propagates for Min/Max).
//
// x1..xn: broadcastable shapes -> y: broadcast(all)

struct VariadicKernel: Kernel {
    enum Operation: Sendable { case min, max, sum, mean }
    let op: Operation
    let opType: String

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let present = inputs.compactMap { $0 }
        guard var acc = present.first else { throw EngineError.invalidArgument("\(opType) needs at least one input") }
        for t in present.dropFirst() {
            switch (acc.storage, t.storage) {
            case (.float(let x), .float(let y)):
                let r: ([Int], [Float])
                switch op {
                case .min: r = try Broadcasting.binary(x, acc.shape, y, t.shape) { ($0.isNaN || $1.isNaN) ? .nan : Swift.min($0, $1) }
                case .max: r = try Broadcasting.binary(x, acc.shape, y, t.shape) { ($0.isNaN || $1.isNaN) ? .nan : Swift.max($0, $1) }
                case .sum, .mean: r = try Broadcasting.binary(x, acc.shape, y, t.shape, +)
                }
                acc = Tensor(shape: r.0, floats: r.1)
            case (.int64(let x), .int64(let y)):
                let r: ([Int], [Int64])
                switch op {
                case .min: r = try Broadcasting.binary(x, acc.shape, y, t.shape) { Swift.min($0, $1) }
                case .max: r = try Broadcasting.binary(x, acc.shape, y, t.shape) { Swift.max($0, $1) }
                case .sum, .mean: r = try Broadcasting.binary(x, acc.shape, y, t.shape, &+)
                }
                acc = Tensor(shape: r.0, int64s: r.1)
            default:
                throw EngineError.typeMismatch("\(opType) inputs have types \(acc.elementType.rawValue) and \(t.elementType.rawValue)")
            }
        }
        if op == .mean && present.count > 1 {
            let n = Float(present.count)
            switch acc.storage {
            case .float(let a): acc = Tensor(shape: acc.shape, floats: a.map { $0 / n })
            case .int64(let a): acc = Tensor(shape: acc.shape, int64s: a.map { $0 / Int64(present.count) })
            case .bool: break
            }
        }
        return [acc]
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Min", since: 8) { _, _ in VariadicKernel(op: .min, opType: "Min") },
        OperatorDefinition("Max", since: 8) { _, _ in VariadicKernel(op: .max, opType: "Max") },
        OperatorDefinition("Sum", since: 8) { _, _ in VariadicKernel(op: .sum, opType: "Sum") },
        OperatorDefinition("Mean", since: 8) { _, _ in VariadicKernel(op: .mean, opType: "Mean") },
    ]
}
