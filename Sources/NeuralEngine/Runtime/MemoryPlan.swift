// The memory plan: made once per input shape, it assigns every intermediate Float output
// that a kernel allocates through `ExecutionContext.floats` to one of a few reusable buffers,
// so that steady-state inference allocates nothing for activations.
//
// The first run of a new input shape records, per node, which outputs were allocated and
// their element counts, which later outputs alias them (Reshape, Identity, ... share the
// storage), and when the executor releases each value. Outputs and their aliases form a
// group that lives from its producing node to the release of its last alias. Groups are
// then packed into buffers by their lifetimes (greedy by size: the largest value first, each
// into the smallest buffer free for its whole life), like a register allocator. Graph outputs are never planned: they are handed to
// the caller. Later runs of the same shape take each output's buffer from the `MemoryArena`
// and give it back when the group's last value is released.

/// A node output: node index in execution order, output position.
struct NodeOutput: Hashable, Sendable {
    let node: Int
    let index: Int
}

/// What the first run of a shape saw.
struct MemoryPlanRecording {
    struct Group {
        let output: NodeOutput
        let count: Int
        let address: Int
        /// Its slots in production order; `live` of them not yet released.
        var slots: [Int]
        var live: Int
    }

    /// Outputs allocated through `ExecutionContext.floats`, with their element counts.
    var allocated: [NodeOutput: Int] = [:]
    var groups: [Group] = []
    /// Slot of each recorded value -> its group.
    private var groupOfSlot: [Int: Int] = [:]
    /// Live groups by the base address of their storage (for alias detection).
    private var groupAtAddress: [Int: Int] = [:]

    /// After node `node` ran: its outputs' slots and storage addresses.
    mutating func produced(node: Int, outputs: [(index: Int, slot: Int, address: Int?)]) {
        for output in outputs {
            guard let address = output.address else { continue }
            if let count = allocated[NodeOutput(node: node, index: output.index)] {
                groups.append(Group(output: NodeOutput(node: node, index: output.index), count: count, address: address,
                                    slots: [output.slot], live: 1))
                groupOfSlot[output.slot] = groups.count - 1
                groupAtAddress[address] = groups.count - 1
            } else if let group = groupAtAddress[address] {
                // Shares the storage of a planned value: same group, longer life.
                groups[group].slots.append(output.slot)
                groups[group].live += 1
                groupOfSlot[output.slot] = group
            }
        }
    }

    /// The value in `slot` was released.
    mutating func released(slot: Int) {
        guard let group = groupOfSlot[slot] else { return }
        groups[group].live -= 1
        if groups[group].live == 0, groupAtAddress[groups[group].address] == group {
            groupAtAddress[groups[group].address] = nil
        }
    }
}

/// Buffers for the planned outputs of one input shape.
struct MemoryPlan: Sendable {
    /// Buffer index and element count of each planned output.
    let outputs: [NodeOutput: (buffer: Int, count: Int)]
    /// The slot whose release gives each group's buffer back (its last alias released).
    let returningSlots: [Int: Int]
    /// Elements of each buffer.
    let capacities: [Int]
    /// Elements the planned outputs would take without reuse.
    let unplannedElements: Int
    /// The most elements of planned values alive at once (no packing can use less).
    let peakLiveElements: Int

    var arenaElements: Int { capacities.reduce(0, +) }

    /// Packs the recorded groups into buffers. `releaseAfter[i]` lists the slots released
    /// after node i, in the executor's order; `pinned` slots (graph outputs) are never planned.
    init(recording: MemoryPlanRecording, releaseAfter: [[Int]], pinned: Set<Int>) {
        // When each slot is released: (node, position in that node's release list).
        var releasedAt: [Int: (node: Int, position: Int)] = [:]
        for (node, slots) in releaseAfter.enumerated() {
            for (position, slot) in slots.enumerated() { releasedAt[slot] = (node, position) }
        }
        struct Group { let output: NodeOutput; let count: Int; let end: Int; let returning: Int }
        var groups: [Group] = []
        for group in recording.groups {
            guard !group.slots.contains(where: pinned.contains) else { continue }
            let ends = group.slots.compactMap { slot in releasedAt[slot].map { (slot, $0) } }
            // A value never released lives to the end of the run: not worth a buffer.
            guard ends.count == group.slots.count,
                  let last = ends.max(by: { ($0.1.node, $0.1.position) < ($1.1.node, $1.1.position) })
            else { continue }
            groups.append(Group(output: group.output, count: group.count, end: last.1.node, returning: last.0))
        }
        // Greedy by size: the largest values choose first; each takes the smallest buffer
        // whose values never live at the same time as it (a buffer is as large as its first,
        // largest, value), or a new one. Lifetimes are inclusive node ranges: a value made by
        // node i never shares with one released after node i (outputs are written while
        // inputs are read).
        var capacities: [Int] = []
        var occupied: [[(start: Int, end: Int)]] = []
        var outputs: [NodeOutput: (buffer: Int, count: Int)] = [:]
        var returning: [Int: Int] = [:]
        let bySize = groups.indices.sorted { (groups[$0].count, groups[$1].output.node) > (groups[$1].count, groups[$0].output.node) }
        for g in bySize {
            let group = groups[g], start = group.output.node
            let fits = capacities.indices.filter { b in
                occupied[b].allSatisfy { $0.end < start || group.end < $0.start }
            }
            let buffer: Int
            if let best = fits.min(by: { capacities[$0] < capacities[$1] }) {
                buffer = best
            } else {
                buffer = capacities.count
                capacities.append(group.count)
                occupied.append([])
            }
            occupied[buffer].append((start, group.end))
            outputs[group.output] = (buffer, group.count)
            returning[group.returning] = buffer
        }
        // The most elements alive at once, for comparison.
        var delta = [Int: Int]()
        for group in groups {
            delta[group.output.node, default: 0] += group.count
            delta[group.end + 1, default: 0] -= group.count
        }
        var live = 0, peakLive = 0
        for node in delta.keys.sorted() {
            live += delta[node]!
            peakLive = max(peakLive, live)
        }
        self.outputs = outputs
        self.returningSlots = returning
        self.capacities = capacities
        self.unplannedElements = groups.map(\.count).reduce(0, +)
        self.peakLiveElements = peakLive
    }
}

/// The buffers of one plan, kept between runs of its input shape.
final class MemoryArena {
    let plan: MemoryPlan
    private var buffers: [[Float]]

    init(plan: MemoryPlan) {
        self.plan = plan
        buffers = plan.capacities.map { _ in [] }
    }

    /// Takes buffer `index` out of the arena, sized to `count` elements (contents unspecified).
    func take(_ index: Int, count: Int) -> [Float] {
        var array: [Float] = []
        swap(&array, &buffers[index])
        if array.capacity < plan.capacities[index] { array.reserveCapacity(plan.capacities[index]) }
        if array.count > count {
            array.removeLast(array.count - count)
        } else if array.count < count {
            // Growing the count must initialise the new elements: copied from zeroed memory,
            // which is a memcpy (appending repeatElement(0, ...) is an element-by-element loop).
            let extra = count - array.count
            let zeros = UnsafeMutablePointer<Float>.allocate(capacity: extra)
            zeros.initialize(repeating: 0, count: extra)
            array.append(contentsOf: UnsafeBufferPointer(start: zeros, count: extra))
            zeros.deallocate()
        }
        return array
    }

    /// Gives a buffer back (the array of the group's last released value).
    func give(_ index: Int, _ array: [Float]) {
        buffers[index] = array
    }

    /// Base addresses of the buffers that hold storage (for tests: stable across runs).
    var bufferAddresses: [Int] {
        buffers.map { $0.capacity == 0 ? 0 : $0.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) } }
    }

}
