// Graph is the engine's internal, validated form of an ONNX model graph.
// Every named value gets an integer slot; nodes refer to slots. Constant
// values (initializers and folded results) live in `constants`. Nodes are
// kept in topological order, which every pass preserves, so the executor can
// simply run them front to back.

struct Graph: Sendable {
    /// Slot -> value name.
    var valueNames: [String] = []
    /// Nodes in topological order.
    var nodes: [Node] = []
    /// Constant values by slot (initializers, Constant outputs, folded values).
    var constants: [Int: Tensor] = [:]
    /// Slots of runtime graph inputs (initializers excluded), in model order.
    var inputs: [Int] = []
    /// Slots of graph outputs, in model order.
    var outputs: [Int] = []
    var inputInfos: [ValueInfo] = []
    var outputInfos: [ValueInfo] = []
    /// Opset of the default ONNX domain.
    var opset: Int = 0

    private var slotByName: [String: Int] = [:]

    init(opset: Int) { self.opset = opset }

    /// Returns the slot for `name`, creating it if needed.
    mutating func slot(for name: String) -> Int {
        if let s = slotByName[name] { return s }
        let s = valueNames.count
        valueNames.append(name)
        slotByName[name] = s
        return s
    }

    func existingSlot(_ name: String) -> Int? { slotByName[name] }

    /// Creates a fresh, uniquely named slot.
    mutating func newSlot(hint: String) -> Int {
        var name = hint
        var k = 0
        while slotByName[name] != nil { k += 1; name = "\(hint)#\(k)" }
        return slot(for: name)
    }

    /// For each value slot, the indexes of the nodes that consume it.
    func consumers() -> [[Int]] {
        var c = [[Int]](repeating: [], count: valueNames.count)
        for (i, n) in nodes.enumerated() {
            for case let s? in n.inputs where !c[s].contains(i) { c[s].append(i) }
        }
        return c
    }

    /// For each value slot, the index of the node producing it (nil for inputs/constants).
    func producers() -> [Int?] {
        var p = [Int?](repeating: nil, count: valueNames.count)
        for (i, n) in nodes.enumerated() {
            for case let s? in n.outputs { p[s] = i }
        }
        return p
    }
}
