// Reshape: reinterprets the element order under a new shape given as an
// Int64 input (opset >= 5). A 0 copies the input dimension at the same index
// (unless allowzero = 1, opset 14), and a single -1 is inferred from the
// remaining element count. No data is copied.
//
// x: (d_0, ...) , shape: (k) -> y: k-dimensional, same element count

struct ReshapeKernel: Kernel {
    let allowZero: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let spec = try Shape.intList(try inputs.required(1, "shape"), name: "shape")
        return [x.reshaped(try ReshapeKernel.resolve(spec, input: x.shape, allowZero: allowZero))]
    }

    static func resolve(_ spec: [Int], input: [Int], allowZero: Bool) throws -> [Int] {
        var out = spec
        var inferAt: Int? = nil
        for (i, d) in spec.enumerated() {
            if d == 0 && !allowZero {
                guard i < input.count else { throw EngineError.shapeMismatch("Reshape: 0 at index \(i) but input \(input) has rank \(input.count)") }
                out[i] = input[i]
            } else if d == -1 {
                guard inferAt == nil else { throw EngineError.shapeMismatch("Reshape: more than one -1 in \(spec)") }
                inferAt = i
            } else if d < 0 {
                throw EngineError.shapeMismatch("Reshape: invalid dimension \(d) in \(spec)")
            }
        }
        let total = input.reduce(1, *)
        if let k = inferAt {
            let known = try Shape.checkedCount(out.enumerated().filter { $0.offset != k }.map(\.element), what: "Reshape target")
            guard known > 0, total % known == 0 else {
                throw EngineError.shapeMismatch("Reshape: cannot reshape \(input) to \(spec)")
            }
            out[k] = total / known
        }
        guard try Shape.checkedCount(out, what: "Reshape target") == total else {
            throw EngineError.shapeMismatch("Reshape: cannot reshape \(input) (\(total) elements) to \(spec)")
        }
        return out
    }

    static let definition = OperatorDefinition("Reshape", since: 5) { node, opset in
        let allowZero = try node.attributes.int("allowzero", default: 0) != 0
        return ReshapeKernel(allowZero: opset >= 14 && allowZero)
    }
}
