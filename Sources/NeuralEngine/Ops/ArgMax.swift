// ArgMax and ArgMin: index of the extreme value along `axis` (Int64 result),
// keepdims (default 1) and select_last_index (opset 12) for ties.
//
// x: (d_0..d_axis..d_r-1) -> y: d_axis removed or set to 1, int64

struct ArgMaxKernel: Kernel {
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool
    let isMax: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let ax = try Shape.normalizeAxis(axis, rank: x.rank, op: isMax ? "ArgMax" : "ArgMin")
        let outer = x.shape[..<ax].reduce(1, *), len = x.shape[ax], inner = x.shape[(ax + 1)...].reduce(1, *)
        guard len > 0 else { throw EngineError.invalidArgument("ArgMax/ArgMin over an empty axis") }
        let xs = x.floats
        var out = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for k in 0..<inner {
                var best = xs[o * len * inner + k], bestIndex = 0
                for j in 1..<Swift.max(len, 1) {
                    let v = xs[(o * len + j) * inner + k]
                    let better = isMax ? (selectLast ? v >= best : v > best) : (selectLast ? v <= best : v < best)
                    if better { best = v; bestIndex = j }
                }
                out[o * inner + k] = Int64(bestIndex)
            }
        }
        var shape = x.shape
        if keepDims { shape[ax] = 1 } else { shape.remove(at: ax) }
        return [Tensor(shape: shape, int64s: out)]
    }

    static func make(_ name: String, isMax: Bool) -> OperatorDefinition {
        OperatorDefinition(name) { node, _ in
            ArgMaxKernel(axis: try node.attributes.int("axis", default: 0),
                         keepDims: try node.attributes.int("keepdims", default: 1) != 0,
                         selectLast: try node.attributes.int("select_last_index", default: 0) != 0,
                         isMax: isMax)
        }
    }

    static let definitions: [OperatorDefinition] = [make("ArgMax", isMax: true), make("ArgMin", isMax: false)]
}
