// Clip: clamps every element into [min, max]. Opset < 11 takes min/max as
// attributes; opset >= 11 takes them as optional scalar inputs. Float and
// Int64 tensors are supported.
//
// x: any shape -> y: same shape

struct ClipKernel: Kernel {
    let attrMin: Float?
    let attrMax: Float?
    let usesInputs: Bool

    init(node: Node, opset: Int) throws {
        usesInputs = opset >= 11
        attrMin = usesInputs ? nil : try node.attributes.float("min")
        attrMax = usesInputs ? nil : try node.attributes.float("max")
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        var lo = attrMin, hi = attrMax
        var loI: Int64? = nil, hiI: Int64? = nil
        if usesInputs {
            if let t = inputs.nonEmpty(1) { lo = t.floats[0]; loI = t.int64s[0] }
            if let t = inputs.nonEmpty(2) { hi = t.floats[0]; hiI = t.int64s[0] }
        }
        switch x.storage {
        case .float(let a):
            let l = lo ?? -Float.greatestFiniteMagnitude, h = hi ?? Float.greatestFiniteMagnitude
            return [Tensor(shape: x.shape, floats: UnaryMathKernel.map(a) { Swift.min(Swift.max($0, l), h) })]
        case .int64(let a):
            let l = loI ?? lo.map { Tensor.truncatingInt64($0) } ?? .min
            let h = hiI ?? hi.map { Tensor.truncatingInt64($0) } ?? .max
            return [Tensor(shape: x.shape, int64s: a.map { Swift.min(Swift.max($0, l), h) })]
        case .bool:
            throw EngineError.typeMismatch("Clip does not accept bool tensors")
        }
    }

    static let definition = OperatorDefinition("Clip", since: 6) { node, opset in try ClipKernel(node: node, opset: opset) }
}
