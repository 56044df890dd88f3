// Operator fusion pass: a Split along channels that is the only reader of a Conv's output is
// folded into the Conv, which then writes each part as its own output (Node.splitOutputs)
// instead of writing one tensor that the Split copies apart. YOLOv8's C2f blocks start this
// way. The fusion needs the part sizes at load time (from the attribute, a constant input or
// an even split), each but the last a multiple of the packed convolution's 8-channel tile, and
// a convolution the packed kernel runs (group 1). The
// Conv's output must not be a graph output; the Conv takes over the Split's outputs.

enum ConvSplitFusion {
    static func run(_ graph: inout Graph) {
        let consumers = graph.consumers()
        let graphOutputs = Set(graph.outputs)
        var removed = Set<Int>()
        var nodes = graph.nodes
        for i in nodes.indices where nodes[i].opType == "Conv" && nodes[i].splitOutputs.isEmpty
            && OperatorRegistry.isDefaultDomain(nodes[i].domain) {
            let weightSlot = nodes[i].inputs.count > nodes[i].concatInputs ? nodes[i].inputs[Swift.max(nodes[i].concatInputs, 1)] : nil
            guard nodes[i].outputs.count == 1, let y = nodes[i].outputs[0], !graphOutputs.contains(y),
                  let w = weightSlot, let weight = graph.constants[w], weight.shape.count == 4,
                  (try? nodes[i].attributes.int("group", default: 1)) == 1,
                  consumers[y].count == 1, case let s = consumers[y][0], !removed.contains(s), nodes[s].opType == "Split",
                  OperatorRegistry.isDefaultDomain(nodes[s].domain), nodes[s].inputs.first == y,
                  let axis = try? nodes[s].attributes.int("axis", default: 0), axis == 1 || axis == -3,
                  !nodes[s].outputs.isEmpty, nodes[s].outputs.allSatisfy({ $0 != nil }),
                  let sizes = splitSizes(nodes[s], graph: graph, channels: weight.shape[0]),
                  sizes.dropLast().allSatisfy({ $0 > 0 && $0 % ConvPacked.mr == 0 }), sizes.last! > 0 else { continue }
            nodes[i].outputs = nodes[s].outputs
            nodes[i].splitOutputs = sizes
            removed.insert(s)
        }
        graph.nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// The Split's part sizes for an axis of `channels`, when they are known at load time.
    static func splitSizes(_ node: Node, graph: Graph, channels: Int) -> [Int]? {
        guard let kernel = try? SplitKernel(node: node, opset: graph.opset) else { return nil }
        var given: [Int]? = kernel.attrSplit
        if kernel.splitFromInput, node.inputs.count > 1, let slot = node.inputs[1] {
            guard let constant = graph.constants[slot], let list = try? Shape.intList(constant, name: "split") else { return nil }
            given = list
        }
        return try? kernel.sizes(of: channels, given: given)
    }
}
