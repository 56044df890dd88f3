// Unsqueeze: inserts size-1 dimensions at the given axes of the output
// (attribute for opset < 13, required input for opset >= 13). Axes may be
// negative, relative to the output rank.
//
// x: (d_0, ..., d_r-1), axes: k -> y: rank r + k

struct UnsqueezeKernel: Kernel {
    let attrAxes: [Int]?
    let axesFromInput: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let axes: [Int]
        if axesFromInput {
            axes = try Shape.intList(try inputs.required(1, "axes"), name: "axes")
        } else {
            guard let a = attrAxes else { throw EngineError.invalidModel("Unsqueeze (opset < 13) requires the 'axes' attribute") }
            axes = a
        }
        return [x.reshaped(try UnsqueezeKernel.outputShape(x.shape, axes: axes))]
    }

    static func outputShape(_ shape: [Int], axes: [Int]) throws -> [Int] {
        let outRank = shape.count + axes.count
        var isNew = [Bool](repeating: false, count: outRank)
        for a in axes {
            let ax = try Shape.normalizeAxis(a, rank: outRank, op: "Unsqueeze")
            guard !isNew[ax] else { throw EngineError.invalidArgument("Unsqueeze axis \(a) repeated") }
            isNew[ax] = true
        }
        var out: [Int] = []
        var k = 0
        for i in 0..<outRank {
            if isNew[i] { out.append(1) } else { out.append(shape[k]); k += 1 }
        }
        return out
    }

    static let definition = OperatorDefinition("Unsqueeze") { node, opset in
        UnsqueezeKernel(attrAxes: opset < 13 ? try node.attributes.ints("axes") : nil, axesFromInput: opset >= 13)
    }
}
