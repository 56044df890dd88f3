// Squeeze: removes size-1 dimensions, either the listed axes (attribute for
// opset < 13, optional input for opset >= 13) or all of them.
//
// x: (..., 1, ...) -> y: same data without the squeezed axes

struct SqueezeKernel: Kernel {
    let attrAxes: [Int]?
    let axesFromInput: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let axes = axesFromInput ? try inputs.optional(1).map { try Shape.intList($0, name: "axes") } : attrAxes
        var drop = Set<Int>()
        if let axes, !axes.isEmpty {
            for a in axes {
                let ax = try Shape.normalizeAxis(a, rank: x.rank, op: "Squeeze")
                guard x.shape[ax] == 1 else {
                    throw EngineError.shapeMismatch("Squeeze: axis \(a) of shape \(x.shape) is not 1")
                }
                drop.insert(ax)
            }
        } else {
            for (i, d) in x.shape.enumerated() where d == 1 { drop.insert(i) }
        }
        let outShape = x.shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        return [x.reshaped(outShape)]
    }

    static let definition = OperatorDefinition("Squeeze") { node, opset in
        SqueezeKernel(attrAxes: opset < 13 ? try node.attributes.ints("axes") : nil, axesFromInput: opset >= 13)
    }
}
