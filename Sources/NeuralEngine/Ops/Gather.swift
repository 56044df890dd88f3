// Gather: picks slices of `data` along `axis` using an integer index tensor
// (negative indices count from the end; out-of-range indices throw).
//
// data: (d_0..d_axis..d_r-1), indices: I -> y: (d_0..d_axis-1, I..., d_axis+1..)

struct GatherKernel: Kernel {
    let axis: Int

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try inputs.required(0, "data"), indices = try inputs.required(1, "indices")
        let ax = try Shape.normalizeAxis(axis, rank: data.rank, op: "Gather")
        let dim = data.shape[ax]
        var idx = [Int]()
        idx.reserveCapacity(indices.count)
        for v in indices.int64s {
            let i = v < 0 ? Int(v) + dim : Int(clamping: v)
            guard i >= 0, i < dim else { throw EngineError.invalidArgument("Gather index \(v) out of range for axis size \(dim)") }
            idx.append(i)
        }
        let outShape = Array(data.shape[..<ax]) + indices.shape + Array(data.shape[(ax + 1)...])
        switch data.storage {
        case .float(let a): return [Tensor(shape: outShape, elements: GatherKernel.gather(a, data.shape, ax, idx))]
        case .int64(let a): return [Tensor(shape: outShape, elements: GatherKernel.gather(a, data.shape, ax, idx))]
        case .bool(let a): return [Tensor(shape: outShape, elements: GatherKernel.gather(a, data.shape, ax, idx))]
        }
    }

    static func gather<T>(_ a: [T], _ shape: [Int], _ axis: Int, _ idx: [Int]) -> [T] {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let dim = shape[axis]
        var out = [T](); out.reserveCapacity(outer * idx.count * inner)
        for o in 0..<outer {
            for i in idx {
                let base = (o * dim + i) * inner
                out.append(contentsOf: a[base..<(base + inner)])
            }
        }
        return out
    }

    static let definition = OperatorDefinition("Gather") { node, _ in
        GatherKernel(axis: try node.attributes.int("axis", default: 0))
    }
}
