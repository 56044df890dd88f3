// Identity and Dropout (inference mode): pass the input through unchanged.
// Dropout's optional mask output is all true.
//
// x: any -> y: x

struct IdentityKernel: Kernel {
    let withMask: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        if withMask { return [x, Tensor(shape: x.shape, bools: Array(repeating: true, count: x.count))] }
        return [x]
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Identity") { _, _ in IdentityKernel(withMask: false) },
        OperatorDefinition("Dropout") { node, _ in IdentityKernel(withMask: node.outputs.count > 1 && node.outputs[1] != nil) },
    ]
}
