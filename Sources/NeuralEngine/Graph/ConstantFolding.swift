// Constant folding: evaluates, at load time, every node whose inputs are all
// constants (initializers, Constant nodes, earlier folded results) and turns
// its outputs into constants. This removes Constant nodes and the static
// parts of shape-computation subgraphs from the per-run work. Results larger
// than `maxElements` are left to run time to avoid bloating the session.

enum ConstantFolding {
    static let maxElements = 1 << 22

    static func run(_ graph: inout Graph) throws {
        let context = ExecutionContext(threads: 1)
        var kept: [Node] = []
        kept.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            let inputsConstant = node.inputs.allSatisfy { $0 == nil || graph.constants[$0!] != nil }
            guard inputsConstant, node.outputs.contains(where: { $0 != nil }) else {
                kept.append(node)
                continue
            }
            let kernel = try OperatorRegistry.makeKernel(for: node, opset: graph.opset)
            let inputs: [Tensor?] = node.inputs.map { $0.flatMap { graph.constants[$0] } }
            let outputs: [Tensor]
            do {
                outputs = try kernel.run(inputs, context: context)
            } catch {
                throw EngineError.atNode(node.name, op: node.opType, error)
            }
            let fits = outputs.allSatisfy { $0.count <= maxElements }
            let complete = node.outputs.enumerated().allSatisfy { $0.element == nil || $0.offset < outputs.count }
            guard fits, complete else {
                kept.append(node)
                continue
            }
            for (i, slot) in node.outputs.enumerated() {
                if let slot { graph.constants[slot] = outputs[i] }
            }
        }
        graph.nodes = kept
    }
}
