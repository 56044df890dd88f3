// Elementwise binary arithmetic with numpy-style broadcasting: Add, Sub, Mul,
// Div, Pow and Mod. Float and Int64 operands are supported (Int64 appears in
// shape arithmetic of non-simplified exports); Int64 division truncates toward
// zero like ONNX Runtime. Pow accepts an exponent of either type.
//
// a: shape A, b: shape B -> y: broadcast(A, B)

import Foundation

struct BinaryArithmeticKernel: Kernel {
    enum Operation: Sendable { case add, sub, mul, div, pow, mod(fmod: Bool) }
    let op: Operation
    let opType: String

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        // Same-shape Float operands (residual adds) write into the planned output buffer.
        if a.shape == b.shape, case .float(let x) = a.storage, case .float(let y) = b.storage {
            switch op {
            case .add, .sub, .mul, .div: return [Tensor(shape: a.shape, floats: Self.sameShape(op, x, y, context))]
            case .pow, .mod: break
            }
        }
        return [try BinaryArithmeticKernel.compute(op, a, b, opType: opType)]
    }

    /// Add, Sub, Mul or Div of equal shapes, shared among the pool's threads. The switch is
    /// inside each chunk so that every loop is a plain vectorised one (a closure for the
    /// operation would be an indirect call per element).
    private static func sameShape(_ op: Operation, _ x: [Float], _ y: [Float], _ context: ExecutionContext) -> [Float] {
        context.floats(x.count) { out in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeBufferPointer { py in
                    context.pool.forEachChunk(count: px.count, minChunk: 65_536) { range in
                        switch op {
                        case .add: for i in range { out[i] = px[i] + py[i] }
                        case .sub: for i in range { out[i] = px[i] - py[i] }
                        case .mul: for i in range { out[i] = px[i] * py[i] }
                        case .div: for i in range { out[i] = px[i] / py[i] }
                        case .pow, .mod: preconditionFailure("sameShape takes Add, Sub, Mul and Div")
                        }
                    }
                }
            }
        }
    }

    static func compute(_ op: Operation, _ a: Tensor, _ b: Tensor, opType: String = "") throws -> Tensor {
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            let r: (shape: [Int], values: [Float])
            switch op {
            case .add: r = try Broadcasting.binary(x, a.shape, y, b.shape, +)
            case .sub: r = try Broadcasting.binary(x, a.shape, y, b.shape, -)
            case .mul: r = try Broadcasting.binary(x, a.shape, y, b.shape, *)
            case .div: r = try Broadcasting.binary(x, a.shape, y, b.shape, /)
            case .pow: r = try Broadcasting.binary(x, a.shape, y, b.shape) { powFloat($0, $1) }
            case .mod(let fmod):
                r = try Broadcasting.binary(x, a.shape, y, b.shape) { p, q in
                    let m = fmodf(p, q)
                    if fmod { return m }
                    return (m != 0 && ((m < 0) != (q < 0))) ? m + q : m
                }
            }
            return Tensor(shape: r.shape, floats: r.values)
        case (.int64(let x), .int64(let y)):
            let r: (shape: [Int], values: [Int64])
            switch op {
            case .add: r = try Broadcasting.binary(x, a.shape, y, b.shape, &+)
            case .sub: r = try Broadcasting.binary(x, a.shape, y, b.shape, &-)
            case .mul: r = try Broadcasting.binary(x, a.shape, y, b.shape, &*)
            case .div:
                if y.contains(0) { throw EngineError.invalidArgument("\(opType): integer division by zero") }
                r = try Broadcasting.binary(x, a.shape, y, b.shape) { $0 == .min && $1 == -1 ? .min : $0 / $1 }
            case .pow:
                r = try Broadcasting.binary(x, a.shape, y, b.shape) { Tensor.truncatingInt64(powFloat(Float($0), Float($1))) }
            case .mod(let fmod):
                if y.contains(0) { throw EngineError.invalidArgument("\(opType): integer modulo by zero") }
                r = try Broadcasting.binary(x, a.shape, y, b.shape) { p, q in
                    if q == -1 { return 0 }
                    let m = p % q
                    if fmod { return m }
                    return (m != 0 && ((m < 0) != (q < 0))) ? m + q : m
                }
            }
            return Tensor(shape: r.shape, int64s: r.values)
        case (.float(let x), .int64(let y)) where isPow(op):
            let r = try Broadcasting.binary(x, a.shape, y.map { Float($0) }, b.shape) { powFloat($0, $1) }
            return Tensor(shape: r.shape, floats: r.values)
        case (.int64(let x), .float(let y)) where isPow(op):
            let r = try Broadcasting.binary(x.map { Float($0) }, a.shape, y, b.shape) { powFloat($0, $1) }
            return Tensor(shape: r.shape, int64s: r.values.map { Tensor.truncatingInt64($0) })
        default:
            throw EngineError.typeMismatch("\(opType) operands have types \(a.elementType.rawValue) and \(b.elementType.rawValue)")
        }
    }

    private static func isPow(_ op: Operation) -> Bool {
        if case .pow = op { return true }
        return false
    }

    /// powf with fast paths for the exponents that occur in practice.
    @inline(__always)
    static func powFloat(_ x: Float, _ e: Float) -> Float {
        if e == 2 { return x * x }
        if e == 1 { return x }
        if e == 0.5 { return sqrtf(x) }
        return powf(x, e)
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Add", since: 7) { _, _ in BinaryArithmeticKernel(op: .add, opType: "Add") },
        OperatorDefinition("Sub", since: 7) { _, _ in BinaryArithmeticKernel(op: .sub, opType: "Sub") },
        OperatorDefinition("Mul", since: 7) { _, _ in BinaryArithmeticKernel(op: .mul, opType: "Mul") },
        OperatorDefinition("Div", since: 7) { _, _ in BinaryArithmeticKernel(op: .div, opType: "Div") },
        OperatorDefinition("Pow", since: 7) { _, _ in BinaryArithmeticKernel(op: .pow, opType: "Pow") },
        OperatorDefinition("Mod", since: 10) { node, _ in
            BinaryArithmeticKernel(op: .mod(fmod: try node.attributes.int("fmod", default: 0) != 0), opType: "Mod")
        },
    ]
}
