// Constant: produces the tensor stored in its attribute (value, or the
// value_float/value_floats/value_int/value_ints shorthands of opset >= 12).
// String and sparse constants are rejected at load.
//
// () -> y: attribute tensor

struct ConstantKernel: Kernel {
    let value: Tensor

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] { [value] }

    static func value(of node: Node) throws -> Tensor {
        let a = node.attributes
        if let t = try a.tensor("value") { return t }
        if let f = try a.float("value_float") { return Tensor(shape: [], floats: [f]) }
        if let fs = try a.floats("value_floats") { return Tensor(shape: [fs.count], floats: fs) }
        if let i = try a.int("value_int") { return Tensor(shape: [], int64s: [Int64(i)]) }
        if let is_ = try a.ints("value_ints") { return Tensor(shape: [is_.count], int64s: is_.map { Int64($0) }) }
        if a.has("sparse_value") || a.has("value_string") || a.has("value_strings") {
            throw EngineError.unsupportedFeature("Constant with sparse or string value is not supported")
        }
        throw EngineError.invalidModel("Constant node has no value attribute")
    }

    static let definition = OperatorDefinition("Constant") { node, _ in ConstantKernel(value: try value(of: node)) }
}
