// Pad: pads (or, with negative pads, crops) each axis. Opset < 11 takes
// `pads` and `value` attributes; opset >= 11 takes pads and an optional
// constant value as inputs, and opset >= 18 an optional axes input. Modes:
// constant, reflect, edge and wrap.
//
// x: (d_0..d_r-1), pads: (2r) [begins..., ends...] -> y: (d_i + b_i + e_i)

struct PadKernel: Kernel {
    enum Mode: String, Sendable { case constant, reflect, edge, wrap }
    let mode: Mode
    let attrPads: [Int]?
    let attrValue: Float
    let fromInputs: Bool

    init(node: Node, opset: Int) throws {
        let m = try node.attributes.string("mode", default: "constant")
        guard let mode = Mode(rawValue: m) else { throw EngineError.unsupportedFeature("Pad mode '\(m)' is not supported") }
        self.mode = mode
        fromInputs = opset >= 11
        attrPads = fromInputs ? nil : (try node.attributes.ints("pads") ?? node.attributes.ints("paddings"))
        attrValue = fromInputs ? 0 : try node.attributes.float("value", default: 0)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let rank = x.rank
        var pads: [Int]
        var constant: Tensor? = nil
        if fromInputs {
            let p = try Shape.intList(try inputs.required(1, "pads"), name: "pads")
            constant = inputs.nonEmpty(2)
            if let axesT = inputs.optional(3) {
                let axes = try Shape.intList(axesT, name: "axes")
                guard p.count == 2 * axes.count else { throw EngineError.invalidArgument("Pad pads/axes length mismatch") }
                pads = Array(repeating: 0, count: 2 * rank)
                for (k, a) in axes.enumerated() {
                    let ax = try Shape.normalizeAxis(a, rank: rank, op: "Pad")
                    pads[ax] = p[k]; pads[rank + ax] = p[axes.count + k]
                }
            } else {
                pads = p
            }
        } else {
            guard let p = attrPads else { throw EngineError.invalidModel("Pad requires the 'pads' attribute") }
            pads = p
        }
        guard pads.count == 2 * rank else { throw EngineError.invalidArgument("Pad pads has \(pads.count) values for rank \(rank)") }
        guard pads.allSatisfy({ abs($0) < 1 << 30 }) else { throw EngineError.invalidArgument("Pad pads \(pads) are out of range") }
        let outShape = (0..<rank).map { x.shape[$0] + pads[$0] + pads[rank + $0] }
        guard outShape.allSatisfy({ $0 >= 0 }) else { throw EngineError.invalidArgument("Pad produces a negative dimension") }
        _ = try Shape.checkedCount(outShape, what: "Pad output shape")
        if mode != .constant {
            for d in 0..<rank where x.shape[d] == 0 && outShape[d] > 0 {
                throw EngineError.invalidArgument("Pad mode \(mode.rawValue) cannot pad an empty axis")
            }
        }
        let (map, _) = try PadKernel.indexMap(x.shape, pads: pads, mode: mode)
        switch x.storage {
        case .float(let a):
            let v = constant?.floats.first ?? attrValue
            return [Tensor(shape: outShape, floats: map.map { $0 < 0 ? v : a[$0] })]
        case .int64(let a):
            let v = constant?.int64s.first ?? Tensor.truncatingInt64(attrValue)
            return [Tensor(shape: outShape, int64s: map.map { $0 < 0 ? v : a[$0] })]
        case .bool(let a):
            let v = constant?.bools.first ?? (attrValue != 0)
            return [Tensor(shape: outShape, bools: map.map { $0 < 0 ? v : a[$0] })]
        }
    }

    /// Source offset for each output element, -1 for constant padding.
    static func indexMap(_ shape: [Int], pads: [Int], mode: Mode) throws -> ([Int], [Int]) {
        let rank = shape.count
        let outShape = (0..<rank).map { shape[$0] + pads[$0] + pads[rank + $0] }
        let n = outShape.reduce(1, *)
        let st = Shape.strides(shape)
        // Per-axis source coordinate for each output coordinate (-1 = pad).
        var axisMaps: [[Int]] = []
        for d in 0..<rank {
            let dim = shape[d]
            axisMaps.append((0..<outShape[d]).map { o in
                var i = o - pads[d]
                if i >= 0 && i < dim { return i }
                switch mode {
                case .constant: return -1
                case .edge: return Swift.min(Swift.max(i, 0), dim - 1)
                case .wrap: return ((i % dim) + dim) % dim
                case .reflect:
                    if dim == 1 { return 0 }
                    let period = 2 * (dim - 1)
                    i = ((i % period) + period) % period
                    return i < dim ? i : period - i
                }
            })
        }
        var map = [Int](repeating: 0, count: n)
        if n == 0 { return (map, outShape) }
        var idx = [Int](repeating: 0, count: rank)
        for o in 0..<n {
            var off = 0
            for d in 0..<rank {
                let s = axisMaps[d][idx[d]]
                if s < 0 { off = -1; break }
                off += s * st[d]
            }
            map[o] = off
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < outShape[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
        return (map, outShape)
    }

    static let definition = OperatorDefinition("Pad", since: 2) { node, opset in try PadKernel(node: node, opset: opset) }
}
