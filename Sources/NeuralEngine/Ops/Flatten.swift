// Flatten: collapses dimensions before `axis` and from `axis` on into a 2-D
// tensor (axis in [-r, r], default 1). No data is copied.
//
// x: (d_0, ..., d_r-1) -> y: (prod d_<axis, prod d_>=axis)

struct FlattenKernel: Kernel {
    let axis: Int

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let ax = axis < 0 ? axis + x.rank : axis
        guard ax >= 0, ax <= x.rank else { throw EngineError.invalidArgument("Flatten axis \(axis) out of range for rank \(x.rank)") }
        let outer = x.shape[..<ax].reduce(1, *)
        return [x.reshaped([outer, x.shape[ax...].reduce(1, *)])]
    }

    static let definition = OperatorDefinition("Flatten") { node, _ in
        FlattenKernel(axis: try node.attributes.int("axis", default: 1))
    }
}
