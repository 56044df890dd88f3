// GraphBuilder turns a decoded OnnxModelProto into a validated Graph: it
// assigns value slots, loads initializers, separates real inputs from
// initializers, checks that every operator is supported for the model's opset
// (failing with op, opset and node name), verifies that every consumed value
// is produced somewhere, and sorts nodes topologically (stable with respect to
// the file order, detecting cycles).

enum GraphBuilder {
    static func build(from model: OnnxModelProto) throws -> Graph {
        guard let proto = model.graph else { throw EngineError.invalidModel("model has no graph") }
        let opset = try model.defaultOpset()
        var graph = Graph(opset: opset)

        // Initializers.
        var initializerNames = Set<String>()
        for t in proto.initializers {
            guard !t.name.isEmpty else { throw EngineError.invalidModel("initializer without a name") }
            let tensor: Tensor
            do { tensor = try t.toTensor() } catch {
                throw EngineError.invalidModel("initializer '\(t.name)': \((error as? EngineError)?.message ?? "\(error)")")
            }
            graph.constants[graph.slot(for: t.name)] = tensor
            initializerNames.insert(t.name)
        }

        // Inputs (initializers may also be listed as inputs in old IR versions).
        var seenInputs = Set<String>()
        for vi in proto.inputs where !initializerNames.contains(vi.name) {
            guard !vi.name.isEmpty else { throw EngineError.invalidModel("graph input without a name") }
            guard seenInputs.insert(vi.name).inserted else { throw EngineError.invalidModel("duplicate graph input '\(vi.name)'") }
            guard vi.isTensor else { throw EngineError.unsupportedFeature("graph input '\(vi.name)' is not a tensor") }
            graph.inputs.append(graph.slot(for: vi.name))
            graph.inputInfos.append(valueInfo(vi))
        }

        // Nodes and support check.
        var producedBy: [String: Int] = [:]
        for name in initializerNames { producedBy[name] = -1 }
        for name in seenInputs { producedBy[name] = -1 }
        var nodes: [Node] = []
        for (index, np) in proto.nodes.enumerated() {
            let label = np.name.isEmpty ? "\(np.opType)_\(index)" : np.name
            try OperatorRegistry.checkSupported(opType: np.opType, domain: np.domain, opset: opset, node: label)
            for out in np.outputs where !out.isEmpty {
                if let prev = producedBy[out] {
                    throw EngineError.invalidModel("value '\(out)' is produced twice (node '\(label)'\(prev >= 0 ? " and node '\(nodes[prev].name)'" : ", and is a graph input or initializer"))")
                }
                producedBy[out] = index
            }
            var node = Node(name: label, opType: np.opType, domain: np.domain, inputs: [], outputs: [],
                            attributes: NodeAttributes(np.attributes))
            node.inputs = np.inputs.map { $0.isEmpty ? nil : graph.slot(for: $0) }
            node.outputs = np.outputs.map { $0.isEmpty ? nil : graph.slot(for: $0) }
            nodes.append(node)
        }
        for (np, node) in zip(proto.nodes, nodes) {
            for input in np.inputs where !input.isEmpty && producedBy[input] == nil {
                throw EngineError.invalidModel("node '\(node.name)' uses value '\(input)' which is not produced by any node, input or initializer")
            }
        }

        // Outputs.
        for vi in proto.outputs {
            guard producedBy[vi.name] != nil else {
                throw EngineError.invalidModel("graph output '\(vi.name)' is not produced by any node, input or initializer")
            }
            graph.outputs.append(graph.slot(for: vi.name))
            graph.outputInfos.append(valueInfo(vi))
        }
        guard !graph.outputs.isEmpty else { throw EngineError.invalidModel("graph has no outputs") }

        graph.nodes = try topologicalSort(nodes, producedBy: producedBy, names: proto.nodes.map(\.inputs))
        return graph
    }

    static func valueInfo(_ vi: OnnxValueInfo) -> ValueInfo {
        ValueInfo(name: vi.name, shape: vi.shape ?? [],
                  elementType: OnnxDataType(rawValue: vi.elemType)?.engineType)
    }

    /// Kahn's algorithm, taking ready nodes in file order.
    private static func topologicalSort(_ nodes: [Node], producedBy: [String: Int], names: [[String]]) throws -> [Node] {
        var dependents = [[Int]](repeating: [], count: nodes.count)
        var pending = [Int](repeating: 0, count: nodes.count)
        for (i, inputs) in names.enumerated() {
            var deps = Set<Int>()
            for name in inputs where !name.isEmpty {
                if let p = producedBy[name], p >= 0, p != i { deps.insert(p) }
                else if let p = producedBy[name], p == i {
                    throw EngineError.invalidModel("node '\(nodes[i].name)' consumes its own output '\(name)'")
                }
            }
            pending[i] = deps.count
            for d in deps { dependents[d].append(i) }
        }
        // Min-heap behaviour via sorted ready list keeps file order when already sorted.
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var head = 0
        while head < ready.count {
            let i = ready[head]; head += 1
            order.append(i)
            for d in dependents[i] {
                pending[d] -= 1
                if pending[d] == 0 { ready.append(d) }
            }
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).first { pending[$0] > 0 }.map { nodes[$0].name } ?? "?"
            throw EngineError.invalidModel("graph contains a cycle (involving node '\(stuck)')")
        }
        return order.map { nodes[$0] }
    }
}
