// Operator fusion pass: folds the activation that follows a Conv into the
// Conv kernel's epilogue. Recognised patterns:
//   Conv -> Sigmoid -> Mul(conv_out, sigmoid_out)   => Conv + SiLU
//   Conv -> Relu                                      => Conv + ReLU
// The intermediate values must have no other consumers and must not be graph
// outputs. The Conv node takes over the final output slot, which keeps the
// node list topologically ordered.

enum ConvActivationFusion {
    static func run(_ graph: inout Graph) {
        let consumers = graph.consumers()
        let graphOutputs = Set(graph.outputs)
        var removed = Set<Int>()
        var nodes = graph.nodes

        func singleOutput(_ i: Int) -> Int? {
            guard nodes[i].outputs.count == 1, let s = nodes[i].outputs[0] else { return nil }
            return s
        }

        for i in nodes.indices where nodes[i].opType == "Conv" && nodes[i].fusedActivation == .none
            && OperatorRegistry.isDefaultDomain(nodes[i].domain) {
            guard let x = singleOutput(i), !graphOutputs.contains(x) else { continue }
            let users = consumers[x].filter { !removed.contains($0) }

            // Conv -> Relu
            if users.count == 1, nodes[users[0]].opType == "Relu", let y = singleOutput(users[0]) {
                nodes[i].outputs = [y]
                nodes[i].fusedActivation = .relu
                removed.insert(users[0])
                continue
            }

            // Conv -> Sigmoid -> Mul
            guard users.count == 2 else { continue }
            let sig = users.first { nodes[$0].opType == "Sigmoid" }
            let mul = users.first { nodes[$0].opType == "Mul" }
            guard let sig, let mul, let s = singleOutput(sig), !graphOutputs.contains(s),
                  consumers[s] == [mul], let y = singleOutput(mul) else { continue }
            let mulInputs = nodes[mul].inputs
            guard mulInputs.count == 2, Set(mulInputs.compactMap { $0 }) == Set([x, s]),
                  nodes[sig].inputs.count == 1, nodes[sig].inputs[0] == x else { continue }
            nodes[i].outputs = [y]
            nodes[i].fusedActivation = .silu
            removed.insert(sig)
            removed.insert(mul)
        }
        graph.nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
}
