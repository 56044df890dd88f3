// Where: elementwise select between X and Y by a boolean condition, with
// three-way numpy broadcasting.
//
// cond: C (bool), x: X, y: Y -> out: broadcast(C, X, Y)

struct WhereKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let c = try inputs.required(0, "condition"), x = try inputs.required(1, "X"), y = try inputs.required(2, "Y")
        let cond = c.bools
        let outShape = try Shape.broadcast([c.shape, x.shape, y.shape])
        let mc = Broadcasting.indexMap(from: c.shape, to: outShape)
        let mx = Broadcasting.indexMap(from: x.shape, to: outShape)
        let my = Broadcasting.indexMap(from: y.shape, to: outShape)
        func select<T: TensorElement>(_ a: [T], _ b: [T]) -> Tensor {
            var out = [T](); out.reserveCapacity(mc.count)
            for i in 0..<mc.count { out.append(cond[mc[i]] ? a[mx[i]] : b[my[i]]) }
            return Tensor(shape: outShape, elements: out)
        }
        switch (x.storage, y.storage) {
        case (.float(let a), .float(let b)): return [select(a, b)]
        case (.int64(let a), .int64(let b)): return [select(a, b)]
        case (.bool(let a), .bool(let b)): return [select(a, b)]
        default:
            throw EngineError.typeMismatch("Where branches have types \(x.elementType.rawValue) and \(y.elementType.rawValue)")
        }
    }

    static let definition = OperatorDefinition("Where", since: 9) { _, _ in WhereKernel() }
}
