// The operator kernel abstraction. A Kernel is created once per graph node at
// load time (parsing and validating attributes for the model's opset) and then
// executed for every run with the node's input tensors (nil for omitted
// optional inputs). OperatorDefinition ties an ONNX op_type to the opset it is
// available from and to the factory that builds its kernel.

protocol Kernel {
    /// Computes the node's outputs. The returned array is positional: element
    /// `i` is output `i` of the node; it may be shorter than the node's output
    /// list only if the missing outputs are unused (omitted) in the graph.
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor]
}

struct OperatorDefinition: Sendable {
    let opType: String
    /// First opset version in which this operator exists and is supported.
    let sinceVersion: Int
    /// Builds the kernel for a node given the model's default-domain opset.
    let make: @Sendable (Node, Int) throws -> any Kernel

    init(_ opType: String, since: Int = 1, make: @escaping @Sendable (Node, Int) throws -> any Kernel) {
        self.opType = opType
        self.sinceVersion = since
        self.make = make
    }
}

extension Array where Element == Tensor? {
    /// Input `i`, which must be present.
    func required(_ i: Int, _ what: String = "") throws -> Tensor {
        guard i < count, let t = self[i] else {
            throw EngineError.invalidArgument("missing required input \(i)\(what.isEmpty ? "" : " (\(what))")")
        }
        return t
    }

    /// Input `i` if present (nil when omitted or beyond the input list).
    func optional(_ i: Int) -> Tensor? {
        i < count ? self[i] : nil
    }

    /// Input `i` if present and non-empty (ONNX uses empty tensors as "absent"
    /// for some optional inputs, e.g. Resize's roi/scales).
    func nonEmpty(_ i: Int) -> Tensor? {
        guard let t = optional(i), t.count > 0 else { return nil }
        return t
    }
}
