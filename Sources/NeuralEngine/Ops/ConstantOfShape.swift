// ConstantOfShape: creates a tensor of the shape given by an Int64 input,
// filled with the single value of the `value` attribute (default float 0).
//
// shape: (k) int64 -> y: shape filled with value

struct ConstantOfShapeKernel: Kernel {
    let value: Tensor

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let dims = try Shape.intList(try inputs.required(0, "input"), name: "shape")
        let n = try Shape.checkedCount(dims, what: "ConstantOfShape shape")
        switch value.storage {
        case .float(let a): return [Tensor(shape: dims, floats: Array(repeating: a[0], count: n))]
        case .int64(let a): return [Tensor(shape: dims, int64s: Array(repeating: a[0], count: n))]
        case .bool(let a): return [Tensor(shape: dims, bools: Array(repeating: a[0], count: n))]
        }
    }

    static let definition = OperatorDefinition("ConstantOfShape", since: 9) { node, _ in
        let v = try node.attributes.tensor("value") ?? Tensor(shape: [1], floats: [0])
        guard v.count == 1 else { throw EngineError.invalidModel("ConstantOfShape value must have exactly one element") }
        return ConstantOfShapeKernel(value: v)
    }
}
