// Executor runs a prepared Graph: it owns one kernel per node (built once at
// load), and for each run walks the nodes in topological order, feeding each
// kernel its input tensors from a slot-indexed value table. Liveness is
// computed once at load: after node i runs, every value whose last consumer
// is i (and which is not a graph output) is released, so peak memory tracks
// the live set rather than the whole graph. The first run of each input shape
// records a `MemoryPlan`; later runs of that shape take their outputs from the
// plan's `MemoryArena` and give them back on release (MemoryPlan.swift).

import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Wall time of one node in a profiled run.
public struct NodeTiming: Sendable {
    public let name: String
    public let opType: String
    /// Activation fused into the node ("silu", "relu", ...), if any.
    public let fusedActivation: String?
    public let outputShape: [Int]
    public let seconds: Double
}

final class Executor {
    let graph: Graph
    private let kernels: [any Kernel]
    /// Slots to release after node i has run.
    private let releaseAfter: [[Int]]
    /// Memory plans by input shapes (and captured values, which the caller keeps, so they are
    /// never planned), the most recently used last.
    private var arenas: [(shapes: [[Int]], capture: Set<Int>, arena: MemoryArena)] = []
    /// Plans kept at once (each holds its buffers); the least recently used goes first.
    static let maxPlans = 3

    /// Whether runs record and use memory plans.
    private let memoryPlanning: Bool

    init(graph: Graph, memoryPlanning: Bool = false) throws {
        self.graph = graph
        self.memoryPlanning = memoryPlanning
        var kernels: [any Kernel] = []
        kernels.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            kernels.append(try OperatorRegistry.makeKernel(for: node, opset: graph.opset))
        }
        self.kernels = kernels
        self.releaseAfter = Executor.liveness(graph)
    }

    /// For each node, the value slots whose last use is that node.
    static func liveness(_ graph: Graph) -> [[Int]] {
        var lastUse = [Int](repeating: -1, count: graph.valueNames.count)
        for (i, node) in graph.nodes.enumerated() {
            for case let s? in node.inputs { lastUse[s] = i }
            // Outputs nobody reads are released right after they are produced.
            for case let s? in node.outputs where lastUse[s] < i { lastUse[s] = i }
        }
        let pinned = Set(graph.outputs)
        var release = [[Int]](repeating: [], count: graph.nodes.count)
        for (slot, i) in lastUse.enumerated() where i >= 0 && !pinned.contains(slot) && graph.constants[slot] == nil {
            release[i].append(slot)
        }
        return release
    }

    /// Runs the graph. `feeds` maps input slots to tensors; returns graph outputs in order.
    /// When `timings` is non-nil, the wall time of every node is appended to it.
    /// Slots listed in `capture` are copied into `captured` when produced (for debugging/tests).
    func run(feeds: [Int: Tensor], context: ExecutionContext, timings: UnsafeMutablePointer<[NodeTiming]>? = nil,
             capture: Set<Int> = [], captured: UnsafeMutablePointer<[Int: Tensor]>? = nil) throws -> [Tensor] {
        var values = [Tensor?](repeating: nil, count: graph.valueNames.count)
        for (slot, t) in graph.constants { values[slot] = t }
        for (slot, t) in feeds { values[slot] = t }
        let shapes = graph.inputs.map { feeds[$0]?.shape ?? [] }
        var arena: MemoryArena? = nil
        if let index = arenas.firstIndex(where: { $0.shapes == shapes && $0.capture == capture }) {
            let entry = arenas.remove(at: index)
            arenas.append(entry)
            arena = entry.arena
        }
        context.beginRun(arena: arena)
        var finished = false
        defer { if !finished { _ = context.endRun() } }
        for (i, node) in graph.nodes.enumerated() {
            context.beginNode(i)
            let inputs: [Tensor?] = node.inputs.map { s in s.flatMap { values[$0] } }
            for (k, s) in node.inputs.enumerated() where s != nil && inputs[k] == nil {
                throw EngineError.atNode(node.name, op: node.opType,
                                         EngineError.invalidInput("input '\(graph.valueNames[s!])' has no value"))
            }
            let outputs: [Tensor]
            let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            do {
                outputs = try kernels[i].run(inputs, context: context)
            } catch {
                throw EngineError.atNode(node.name, op: node.opType, error)
            }
            if let timings {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                timings.pointee.append(NodeTiming(name: node.name, opType: (node.concatInputs > 0 ? "Concat+" : "") + node.opType
                                                  + (node.splitOutputs.isEmpty ? "" : "+Split"),
                                                  fusedActivation: node.fusedActivation == .none ? nil : "\(node.fusedActivation)",
                                                  outputShape: outputs.first?.shape ?? [], seconds: seconds))
            }
            for (k, s) in node.outputs.enumerated() {
                guard let s else { continue }
                guard k < outputs.count else {
                    throw EngineError.atNode(node.name, op: node.opType,
                                             EngineError.invalidModel("kernel did not produce output \(k)"))
                }
                values[s] = outputs[k]
                if let captured, capture.contains(s) { captured.pointee[s] = outputs[k] }
            }
            if arena == nil {
                context.recordProduced(node: i, outputs: node.outputs.enumerated().compactMap { k, s in
                    guard let s, k < outputs.count else { return nil }
                    return (k, s, Self.address(of: outputs[k]))
                })
            }
            for s in releaseAfter[i] {
                if let arena, let buffer = arena.plan.returningSlots[s], let value = values[s], case .float(let array) = value.storage {
                    values[s] = nil
                    arena.give(buffer, array)
                } else {
                    context.recordReleased(slot: s)
                    values[s] = nil
                }
            }
        }
        let results = try graph.outputs.map { s in
            guard let t = values[s] else { throw EngineError.invalidModel("graph output '\(graph.valueNames[s])' was not computed") }
            return t
        }
        finished = true
        if let recording = context.endRun(), memoryPlanning {
            let plan = MemoryPlan(recording: recording, releaseAfter: releaseAfter, pinned: Set(graph.outputs).union(capture))
            arenas.append((shapes, capture, MemoryArena(plan: plan)))
            if arenas.count > Self.maxPlans { arenas.removeFirst() }
            // The recording run's allocations are freed now; hand their pages back to the
            // system before the arena takes its own, so the plan does not raise peak memory.
            Self.trimMallocHeap()
        }
        return results
    }

    /// glibc's `malloc_trim(0)`, looked up at run time (absent on other C libraries).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    static func trimMallocHeap() {
        _ = mallocTrim?(0)
    }

    /// Base address of a Float tensor's storage (alias detection while recording a plan).
    private static func address(of tensor: Tensor) -> Int? {
        guard case .float(let array) = tensor.storage, !array.isEmpty else { return nil }
        return array.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
    }

    /// The plan of the most recently run input shape, and its arena (tests, benchmarks).
    var currentArena: MemoryArena? { arenas.last?.arena }
    var planCount: Int { arenas.count }
}
