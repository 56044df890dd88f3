// Split: cuts a tensor along `axis` into several outputs. Split sizes come
// from the `split` attribute (opset < 13) or the optional second input
// (opset >= 13); otherwise the axis is divided evenly among the outputs, or by
// `num_outputs` (opset >= 18, last chunk may be smaller).
//
// x: (..., D, ...) -> y_i: (..., s_i, ...), sum s_i = D

struct SplitKernel: Kernel {
    let axis: Int
    let attrSplit: [Int]?
    let splitFromInput: Bool
    let numOutputs: Int
    let numOutputsAttr: Int?

    init(node: Node, opset: Int) throws {
        axis = try node.attributes.int("axis", default: 0)
        splitFromInput = opset >= 13
        attrSplit = splitFromInput ? nil : try node.attributes.ints("split")
        numOutputs = node.outputs.count
        numOutputsAttr = opset >= 18 ? try node.attributes.int("num_outputs") : nil
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let ax = try Shape.normalizeAxis(axis, rank: x.rank, op: "Split")
        let given = splitFromInput ? try inputs.nonEmpty(1).map { try Shape.intList($0, name: "split") } : attrSplit
        let sizes = try sizes(of: x.shape[ax], given: given)
        switch x.storage {
        case .float(let a): return SplitKernel.splitFloats(a, shape: x.shape, axis: ax, sizes: sizes, context: context)
        case .int64(let a): return SplitKernel.split(a, shape: x.shape, axis: ax, sizes: sizes)
        case .bool(let a): return SplitKernel.split(a, shape: x.shape, axis: ax, sizes: sizes)
        }
    }

    /// The parts of an axis of `dim`: `given` sizes (the attribute or the input), else
    /// num_outputs chunks, else equal parts, checked against the axis and the node's outputs.
    func sizes(of dim: Int, given: [Int]?) throws -> [Int] {
        var sizes: [Int]
        if let given, !given.isEmpty {
            sizes = given
        } else if let n = numOutputsAttr {
            guard n > 0 else { throw EngineError.invalidArgument("Split num_outputs must be positive") }
            let chunk = (dim + n - 1) / n
            sizes = (0..<n).map { i in Swift.max(0, Swift.min(chunk, dim - i * chunk)) }
        } else {
            guard numOutputs > 0, dim % numOutputs == 0 else {
                throw EngineError.shapeMismatch("Split cannot divide axis of size \(dim) evenly into \(numOutputs) outputs")
            }
            sizes = Array(repeating: dim / numOutputs, count: numOutputs)
        }
        guard sizes.allSatisfy({ $0 >= 0 && $0 <= dim }), sizes.reduce(0, +) == dim else {
            throw EngineError.shapeMismatch("Split sizes \(sizes) do not sum to axis size \(dim)")
        }
        guard sizes.count == numOutputs else {
            throw EngineError.shapeMismatch("Split produces \(sizes.count) parts but the node has \(numOutputs) outputs")
        }
        return sizes
    }

    static func split<T: TensorElement>(_ a: [T], shape: [Int], axis: Int, sizes: [Int]) -> [Tensor] {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let rowLen = shape[axis] * inner
        var offset = 0
        var result: [Tensor] = []
        for s in sizes {
            let block = s * inner
            var out = [T](); out.reserveCapacity(outer * block)
            for o in 0..<outer where block > 0 {
                let base = o * rowLen + offset
                out.append(contentsOf: a[base..<(base + block)])
            }
            var outShape = shape
            outShape[axis] = s
            result.append(Tensor(shape: outShape, elements: out))
            offset += block
        }
        return result
    }

    /// The Float case into the context's planned output buffers (the copies of each output
    /// shared among the pool's threads).
    static func splitFloats(_ a: [Float], shape: [Int], axis: Int, sizes: [Int], context: ExecutionContext) -> [Tensor] {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let rowLen = shape[axis] * inner
        var offset = 0
        var result: [Tensor] = []
        a.withUnsafeBufferPointer { src in
            for s in sizes {
                let block = s * inner
                let out = context.floats(outer * block) { out in
                    context.pool.copy((0..<outer).map { o in
                        CopySegment(from: src.baseAddress! + o * rowLen + offset, to: out + o * block, count: block)
                    })
                }
                var outShape = shape
                outShape[axis] = s
                result.append(Tensor(shape: outShape, floats: out))
                offset += block
            }
        }
        return result
    }

    static let definition = OperatorDefinition("Split", since: 2) { node, opset in try SplitKernel(node: node, opset: opset) }
}
