// Operator fusion pass: a Concat along channels whose only reader is a pointwise Conv (1 x 1,
// stride 1, no padding, group 1) is folded into that Conv, which then takes the Concat's inputs
// as its leading inputs (Node.concatInputs) and reads their channel planes where they lie,
// instead of copying them into one tensor first. YOLOv8's C2f blocks, SPPF and neck all end
// this way. The Concat's output must not be a graph output; the Conv keeps its place, which
// keeps the node list topologically ordered (its new inputs were all made before the Concat).

enum ConcatConvFusion {
    static func run(_ graph: inout Graph) {
        let consumers = graph.consumers(), producers = graph.producers()
        let graphOutputs = Set(graph.outputs)
        var removed = Set<Int>()
        var nodes = graph.nodes
        for i in nodes.indices where nodes[i].opType == "Conv" && nodes[i].concatInputs == 0
            && OperatorRegistry.isDefaultDomain(nodes[i].domain) {
            guard nodes[i].inputs.count >= 2, let x = nodes[i].inputs[0], let w = nodes[i].inputs[1],
                  let weight = graph.constants[w], isPointwise(nodes[i].attributes, weightShape: weight.shape),
                  let c = producers[x], !removed.contains(c), nodes[c].opType == "Concat",
                  OperatorRegistry.isDefaultDomain(nodes[c].domain), !graphOutputs.contains(x), consumers[x] == [i],
                  let axis = try? nodes[c].attributes.int("axis"), axis == 1 || axis == -3,
                  nodes[c].inputs.count >= 2, nodes[c].inputs.allSatisfy({ $0 != nil }) else { continue }
            nodes[i].inputs = nodes[c].inputs + nodes[i].inputs.dropFirst()
            nodes[i].concatInputs = nodes[c].inputs.count
            removed.insert(c)
        }
        graph.nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// A 2-D convolution that maps each pixel to itself: weight [M, C, 1, 1], group 1, strides 1,
    /// no padding (any auto_pad gives none for a 1 x 1 kernel at stride 1).
    static func isPointwise(_ attributes: NodeAttributes, weightShape w: [Int]) -> Bool {
        guard w.count == 4, w[2] == 1, w[3] == 1,
              (try? attributes.int("group", default: 1)) == 1,
              let strides = try? attributes.ints("strides") ?? [1, 1], strides.allSatisfy({ $0 == 1 }),
              let pads = try? attributes.ints("pads") ?? [], pads.allSatisfy({ $0 == 0 }),
              let kernel = try? attributes.ints("kernel_shape") ?? [1, 1], kernel == [1, 1] else { return false }
        return true
    }
}
