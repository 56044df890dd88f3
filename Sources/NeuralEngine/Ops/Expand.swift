// Expand: broadcasts the input against a target shape (bidirectional
// numpy broadcasting, so the result may be larger than the target shape).
//
// x: X, shape: (k) int64 -> y: broadcast(X, shape)

struct ExpandKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let target = try Shape.intList(try inputs.required(1, "shape"), name: "shape")
        let outShape = try Shape.broadcast([x.shape, target])
        _ = try Shape.checkedCount(outShape, what: "Expand output shape")
        let map = Broadcasting.indexMap(from: x.shape, to: outShape)
        switch x.storage {
        case .float(let a): return [Tensor(shape: outShape, floats: map.map { a[$0] })]
        case .int64(let a): return [Tensor(shape: outShape, int64s: map.map { a[$0] })]
        case .bool(let a): return [Tensor(shape: outShape, bools: map.map { a[$0] })]
        }
    }

    static let definition = OperatorDefinition("Expand", since: 8) { _, _ in ExpandKernel() }
}
