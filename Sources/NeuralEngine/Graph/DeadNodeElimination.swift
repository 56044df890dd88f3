// Dead node elimination: removes nodes none of whose outputs is consumed by a
// later node or is a graph output (e.g. leftovers of folding and fusion).
// Works backwards so whole dead chains disappear in one pass.

enum DeadNodeElimination {
    static func run(_ graph: inout Graph) {
        var live = Set(graph.outputs)
        var kept: [Node] = []
        for node in graph.nodes.reversed() {
            guard node.outputs.contains(where: { $0 != nil && live.contains($0!) }) else { continue }
            kept.append(node)
            for case let s? in node.inputs { live.insert(s) }
        }
        graph.nodes = kept.reversed()
        graph.constants = graph.constants.filter { live.contains($0.key) }
    }
}
