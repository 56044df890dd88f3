// Elementwise comparisons with broadcasting: Equal, Less, Greater,
// LessOrEqual, GreaterOrEqual. Operands must share a type (Float, Int64, or
// Bool for Equal); the result is a Bool tensor.
//
// a: shape A, b: shape B -> y: broadcast(A, B) bool

struct ComparisonKernel: Kernel {
    enum Operation: Sendable { case equal, less, greater, lessOrEqual, greaterOrEqual }
    let op: Operation
    let opType: String

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        return [try ComparisonKernel.compute(op, a, b, opType: opType)]
    }

    static func compare<T: Comparable>(_ op: Operation, _ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int]) throws -> ([Int], [Bool]) {
        switch op {
        case .equal: return try Broadcasting.binary(x, xs, y, ys, ==)
        case .less: return try Broadcasting.binary(x, xs, y, ys, <)
        case .greater: return try Broadcasting.binary(x, xs, y, ys, >)
        case .lessOrEqual: return try Broadcasting.binary(x, xs, y, ys, <=)
        case .greaterOrEqual: return try Broadcasting.binary(x, xs, y, ys, >=)
        }
    }

    static func compute(_ op: Operation, _ a: Tensor, _ b: Tensor, opType: String = "") throws -> Tensor {
        let r: ([Int], [Bool])
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): r = try compare(op, x, a.shape, y, b.shape)
        case (.int64(let x), .int64(let y)): r = try compare(op, x, a.shape, y, b.shape)
        case (.bool(let x), .bool(let y)) where op == .equal: r = try Broadcasting.binary(x, a.shape, y, b.shape, ==)
        // Mixed numeric types are promoted to Float (lenient; ONNX requires equal types).
        case (.float, .int64), (.int64, .float): r = try compare(op, a.floats, a.shape, b.floats, b.shape)
        default:
            throw EngineError.typeMismatch("\(opType) operands have types \(a.elementType.rawValue) and \(b.elementType.rawValue)")
        }
        return Tensor(shape: r.0, bools: r.1)
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Equal", since: 7) { _, _ in ComparisonKernel(op: .equal, opType: "Equal") },
        OperatorDefinition("Less", since: 7) { _, _ in ComparisonKernel(op: .less, opType: "Less") },
        OperatorDefinition("Greater", since: 7) { _, _ in ComparisonKernel(op: .greater, opType: "Greater") },
        OperatorDefinition("LessOrEqual", since: 12) { _, _ in ComparisonKernel(op: .lessOrEqual, opType: "LessOrEqual") },
        OperatorDefinition("GreaterOrEqual", since: 12) { _, _ in ComparisonKernel(op: .greaterOrEqual, opType: "GreaterOrEqual") },
    ]
}
