// Concat: joins tensors of equal rank along `axis` (negative axes allowed);
// all other dimensions must match. Works for Float, Int64 and Bool.
//
// x_i: (..., d_i, ...) -> y: (..., sum d_i, ...)

struct ConcatKernel: Kernel {
    let axis: Int

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let xs = inputs.compactMap { $0 }
        guard let first = xs.first else { throw EngineError.invalidArgument("Concat needs at least one input") }
        let rank = first.rank
        let ax = try Shape.normalizeAxis(axis, rank: rank, op: "Concat")
        var outShape = first.shape
        outShape[ax] = 0
        for x in xs {
            guard x.rank == rank else { throw EngineError.shapeMismatch("Concat inputs have ranks \(rank) and \(x.rank)") }
            for d in 0..<rank where d != ax && x.shape[d] != first.shape[d] {
                throw EngineError.shapeMismatch("Concat inputs \(first.shape) and \(x.shape) differ outside axis \(ax)")
            }
            outShape[ax] += x.shape[ax]
        }
        switch first.storage {
        case .float: return [Tensor(shape: outShape, floats: try ConcatKernel.concatFloats(xs, axis: ax, context: context))]
        case .int64: return [Tensor(shape: outShape, elements: try ConcatKernel.concat(xs, axis: ax, as: Int64.self))]
        case .bool: return [Tensor(shape: outShape, elements: try ConcatKernel.concat(xs, axis: ax, as: Bool.self))]
        }
    }

    /// Copies contiguous blocks: for each outer index, each input contributes
    /// shape[axis] * inner consecutive elements.
    static func concat<T: TensorElement>(_ xs: [Tensor], axis: Int, as: T.Type) throws -> [T] {
        let shape = xs[0].shape
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let arrays: [[T]] = try xs.map { try $0.elements(T.self) }
        let blocks = xs.map { $0.shape[axis] * inner }
        let total = outer * blocks.reduce(0, +)
        var out = [T](); out.reserveCapacity(total)
        for o in 0..<outer {
            for (k, a) in arrays.enumerated() where blocks[k] > 0 {
                out.append(contentsOf: a[(o * blocks[k])..<((o + 1) * blocks[k])])
            }
        }
        return out
    }

    /// The Float case into the context's planned output buffer (one copy per block, the
    /// copies shared among the pool's threads).
    static func concatFloats(_ xs: [Tensor], axis: Int, context: ExecutionContext) throws -> [Float] {
        let shape = xs[0].shape
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let arrays: [[Float]] = try xs.map { try $0.elements(Float.self) }
        let blocks = xs.map { $0.shape[axis] * inner }
        let row = blocks.reduce(0, +)
        return context.floats(outer * row) { out in
            withBaseAddresses(arrays) { sources in
                var copies: [CopySegment] = []
                copies.reserveCapacity(outer * arrays.count)
                for o in 0..<outer {
                    var offset = 0
                    for k in sources.indices where blocks[k] > 0 {
                        copies.append(CopySegment(from: sources[k] + o * blocks[k], to: out + o * row + offset, count: blocks[k]))
                        offset += blocks[k]
                    }
                }
                context.pool.copy(copies)
            }
        }
    }

    static let definition = OperatorDefinition("Concat", since: 4) { node, _ in
        guard let axis = try node.attributes.int("axis") else { throw EngineError.invalidModel("Concat requires the 'axis' attribute") }
        return ConcatKernel(axis: axis)
    }
}
