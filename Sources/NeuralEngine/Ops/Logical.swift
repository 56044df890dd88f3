// Boolean logic operators: Not (unary) and And, Or, Xor (binary, with
// broadcasting). Inputs must be Bool tensors.
//
// a: shape A, b: shape B -> y: broadcast(A, B) bool

struct LogicalKernel: Kernel {
    enum Operation: Sendable { case not, and, or, xor }
    let op: Operation
    let opType: String

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "A")
        let x: [Bool] = try a.elements()
        if op == .not { return [Tensor(shape: a.shape, bools: x.map { !$0 })] }
        let b = try inputs.required(1, "B")
        let y: [Bool] = try b.elements()
        let r: ([Int], [Bool])
        switch op {
        case .and: r = try Broadcasting.binary(x, a.shape, y, b.shape) { $0 && $1 }
        case .or: r = try Broadcasting.binary(x, a.shape, y, b.shape) { $0 || $1 }
        default: r = try Broadcasting.binary(x, a.shape, y, b.shape, !=)
        }
        return [Tensor(shape: r.0, bools: r.1)]
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Not") { _, _ in LogicalKernel(op: .not, opType: "Not") },
        OperatorDefinition("And", since: 7) { _, _ in LogicalKernel(op: .and, opType: "And") },
        OperatorDefinition("Or", since: 7) { _, _ in LogicalKernel(op: .or, opType: "Or") },
        OperatorDefinition("Xor", since: 7) { _, _ in LogicalKernel(op: .xor, opType: "Xor") },
    ]
}
