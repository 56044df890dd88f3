// InferenceSession is the public entry point: it decodes an ONNX model,
// validates and optimises the graph (constant folding, Conv+activation,
// Concat+Conv and Conv+Split fusion, dead node elimination), builds the kernels and then runs inference
// on named float tensors. Calls to `run` on one session are serialised by an
// internal lock (the session's scratch buffers are shared), so a session may
// be shared between threads but does not execute concurrent runs in
// parallel; create one session per concurrent worker for throughput.

import Foundation

public final class InferenceSession: @unchecked Sendable {
    /// Graph inputs that are not initializers, in model order.
    public let inputs: [ValueInfo]
    /// Graph outputs, in model order.
    public let outputs: [ValueInfo]
    /// Model metadata_props (Ultralytics: names, stride, imgsz, task, batch, ...).
    public let metadata: [String: String]
    /// Opset version of the default ONNX domain.
    public let opsetVersion: Int
    /// producer_name of the model (e.g. "pytorch").
    public let producerName: String

    let graph: Graph
    let executor: Executor
    private let context: ExecutionContext
    private let lock = NSLock()

    /// Loads a model from an .onnx file.
    public convenience init(path: String, options: SessionOptions = .init()) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError.io("cannot read model file '\(path)'")
        }
        try self.init(data: [UInt8](data), options: options)
    }

    /// Loads a model from the bytes of an .onnx file.
    public init(data: [UInt8], options: SessionOptions = .init()) throws {
        if options.heapRetention { HeapRetention.activate() }
        let model = try OnnxModelProto(bytes: data)
        var graph = try GraphBuilder.build(from: model)
        if options.graphOptimizations {
            try ConstantFolding.run(&graph)
            ConvActivationFusion.run(&graph)
            ConcatConvFusion.run(&graph)
            ConvSplitFusion.run(&graph)
            DeadNodeElimination.run(&graph)
        }
        self.graph = graph
        self.executor = try Executor(graph: graph, memoryPlanning: options.memoryPlanning)
        self.context = ExecutionContext(threads: options.threads, kernels: options.kernels ?? .active, precision: options.precision)
        if options.precision == .int8 {
            for (index, node) in graph.nodes.enumerated() {
                guard let range = options.int8Inputs[node.name] else { continue }
                context.int8Inputs[index] = ActivationQuantization(min: range.lowerBound, max: range.upperBound)
            }
        }
        self.inputs = graph.inputInfos
        self.outputs = graph.outputInfos
        var meta: [String: String] = [:]
        for (k, v) in model.metadata { meta[k] = v }
        self.metadata = meta
        self.opsetVersion = graph.opset
        self.producerName = model.producerName
        try BLAS.ensureLoaded()
        BLAS.setThreads(options.threads)
    }

    /// Runs the model. `feeds` must contain every input by name; returns every
    /// graph output by name. Fixed dimensions of inputs are checked.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try run(feeds, timings: nil)
    }

    /// Like `run`, but also returns the wall time of every executed node
    /// (in execution order), for profiling.
    public func runProfiled(_ feeds: [String: Tensor]) throws -> (outputs: [String: Tensor], timings: [NodeTiming]) {
        var timings: [NodeTiming] = []
        let outputs = try withUnsafeMutablePointer(to: &timings) { try run(feeds, timings: $0) }
        return (outputs, timings)
    }

    /// The OpenBLAS CPU kernel in use (for example "Cooperlake"), or "not loaded".
    public static var blasKernel: String { BLAS.coreName }

    /// Whether a value of this name is computed by the optimised graph (it can be captured).
    public func hasValue(named name: String) -> Bool { graph.existingSlot(name) != nil }

    /// Number of nodes executed per run after graph optimisation.
    public var nodeCount: Int { graph.nodes.count }

    /// How many convolutions run in int8 (those the calibration named; 0 outside int8).
    public var int8Convolutions: Int { context.int8Inputs.count }

    /// The int8 calibration pass: runs `feed(0) ..< feed(runs - 1)`, made one at a time, and
    /// returns, by node name, the range of values each packed convolution's input took, as
    /// `estimator` summarises the runs (what `SessionOptions.int8Inputs` wants). Needs an fp32
    /// session that nothing else runs meanwhile.
    public func calibrationRanges(runs: Int, estimator: CalibrationEstimator = .extremes,
                                  feed: (Int) throws -> [String: Tensor]) throws -> [String: ClosedRange<Float>] {
        try calibrationStatistics(runs: runs, feed: feed).compactMapValues { $0.range(estimator) }
    }

    /// The calibration pass of `calibrationRanges`, returning each convolution's ranges run by
    /// run, so that a caller can compare estimators on the same pass.
    /// `outputs` receives each run's graph outputs (a caller that needs them as well spares a
    /// second pass).
    public func calibrationStatistics(runs: Int, feed: (Int) throws -> [String: Tensor],
                                      outputs: (Int, [String: Tensor]) throws -> Void = { _, _ in })
        throws -> [String: CalibrationStatistics] {
        guard context.precision == .fp32 else {
            throw EngineError.invalidArgument("calibrate on an fp32 session (this one runs \(context.precision))")
        }
        defer {
            lock.lock()
            context.calibration = nil
            lock.unlock()
        }
        var statistics: [Int: CalibrationStatistics] = [:]
        for index in 0..<runs {
            let feeds = try feed(index)
            lock.lock()
            context.calibration = [:]
            lock.unlock()
            let results = try run(feeds)
            lock.lock()
            for (node, range) in context.calibration ?? [:] { statistics[node, default: CalibrationStatistics()].add(range) }
            lock.unlock()
            try outputs(index, results)
        }
        var byName: [String: CalibrationStatistics] = [:]
        for (index, seen) in statistics { byName[graph.nodes[index].name] = seen }
        return byName
    }

    /// The memory plan of the most recently run input shape: buffers, their bytes, and the
    /// bytes its planned outputs would take without reuse (nil before the first run).
    public var memoryPlanSummary: (buffers: Int, arenaBytes: Int, unplannedBytes: Int, peakLiveBytes: Int)? {
        lock.lock()
        defer { lock.unlock() }
        guard let plan = executor.currentArena?.plan else { return nil }
        return (plan.capacities.count, plan.arenaElements * 4, plan.unplannedElements * 4, plan.peakLiveElements * 4)
    }

    /// Runs and additionally returns the intermediate values named in `names`
    /// that exist in the executed graph (values removed by fusion or folding
    /// are absent; folded constants are returned from the constant table), in
    /// the same run: an anomaly model reads the detector's backbone maps this
    /// way without a second pass.
    public func run(_ feeds: [String: Tensor], capturing names: Set<String>) throws -> (outputs: [String: Tensor], captured: [String: Tensor]) {
        var slots = Set<Int>()
        var captured: [String: Tensor] = [:]
        for name in names {
            guard let slot = graph.existingSlot(name) else { continue }
            if let c = graph.constants[slot] { captured[name] = c } else { slots.insert(slot) }
        }
        var bySlot: [Int: Tensor] = [:]
        let outputs = try withUnsafeMutablePointer(to: &bySlot) { try run(feeds, timings: nil, capture: slots, captured: $0) }
        for (slot, t) in bySlot { captured[graph.valueNames[slot]] = t }
        return (outputs, captured)
    }

    private func run(_ feeds: [String: Tensor], timings: UnsafeMutablePointer<[NodeTiming]>?,
                     capture: Set<Int> = [], captured: UnsafeMutablePointer<[Int: Tensor]>? = nil) throws -> [String: Tensor] {
        var slotFeeds: [Int: Tensor] = [:]
        for (info, slot) in zip(inputs, graph.inputs) {
            guard var t = feeds[info.name] else {
                throw EngineError.invalidInput("missing input '\(info.name)'")
            }
            if !info.shape.isEmpty {
                let matches = t.shape.count == info.shape.count && zip(t.shape, info.shape).allSatisfy { d, dim in
                    if case .fixed(let n) = dim { return n == d }
                    return true
                }
                guard matches else {
                    throw EngineError.invalidInput("input '\(info.name)' expects shape \(info.shape.map(\.description)) but got \(t.shape)")
                }
            }
            if info.elementType == .float && t.elementType != .float { t = Tensor(shape: t.shape, floats: t.floats) }
            if info.elementType == .int64 && t.elementType != .int64 { t = Tensor(shape: t.shape, int64s: t.int64s) }
            slotFeeds[slot] = t
        }
        for name in feeds.keys where !inputs.contains(where: { $0.name == name }) {
            throw EngineError.invalidInput("unknown input '\(name)' (model inputs: \(inputs.map(\.name).joined(separator: ", ")))")
        }
        lock.lock()
        defer { lock.unlock() }
        let values = try executor.run(feeds: slotFeeds, context: context, timings: timings, capture: capture, captured: captured)
        var result: [String: Tensor] = [:]
        for (info, value) in zip(outputs, values) { result[info.name] = value }
        return result
    }
}
