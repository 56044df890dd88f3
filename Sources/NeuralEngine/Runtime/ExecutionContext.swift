// ExecutionContext carries per-session execution resources into kernels: the
// thread count and its worker pool, reusable scratch buffers (e.g. the im2col matrix), and the
// memory plan of the current input shape, so that large allocations are made
// once per session and shape rather than once per node and run. Not
// thread-safe: one context serves one run at a time.

final class ExecutionContext {
    let threads: Int
    /// The threads of data-parallel kernels (threads - 1 of its own; the caller is the first).
    let pool: WorkerPool
    /// The kernels for this CPU (KernelDispatch).
    let kernels: KernelSet
    /// The number format of the packed convolutions.
    let precision: Precision
    /// int8: each calibrated convolution's input quantisation, by node index.
    var int8Inputs: [Int: ActivationQuantization] = [:]
    /// While a calibration runs: the range of each packed convolution's input in the current
    /// run, by node index (InferenceSession.calibrationStatistics folds it into its statistics).
    var calibration: [Int: ClosedRange<Float>]?
    /// Reusable float scratch space (grown on demand, never shrunk).
    private var scratch: [Float] = []

    /// The arena of the current run's input shape; nil while a new shape is recorded.
    private(set) var arena: MemoryArena?
    /// Collects the first run of a new input shape.
    private(set) var recording: MemoryPlanRecording?
    /// The node being run and how many outputs it has allocated.
    private var node = 0
    private var outputIndex = 0

    init(threads: Int, kernels: KernelSet = .active, precision: Precision = .fp32) {
        self.threads = max(1, threads)
        pool = WorkerPool(threads: threads)
        self.kernels = kernels
        self.precision = precision
    }

    /// Calls `body` with a scratch buffer of at least `count` floats. The
    /// contents are unspecified on entry.
    func withScratch<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let need = Swift.max(count, 1)
        if scratch.count < need {
            scratch = [Float](repeating: 0, count: need)
        }
        return try scratch.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }

    /// The next output of the current node: `count` floats that `body` must write in full
    /// (the contents are unspecified on entry). Kernels call it once per output, in output
    /// order, and return the array as that output. With a memory plan the array is the
    /// planned buffer (no allocation); otherwise a fresh one, recorded for the plan.
    func floats(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float] {
        let key = NodeOutput(node: node, index: outputIndex)
        outputIndex += 1
        if count == 0 { return [] }
        if let arena, let planned = arena.plan.outputs[key], planned.count == count {
            var array = arena.take(planned.buffer, count: count)
            try array.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
            return array
        }
        recording?.allocated[key] = count
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try body(buffer.baseAddress!)
            initialized = count
        }
    }

    /// The node's next outputs at once, `counts[i]` floats each (for a kernel that writes several
    /// outputs in one pass); `body` gets one pointer per output and must write them all in full.
    func floats(_ counts: [Int], _ body: ([UnsafeMutablePointer<Float>]) -> Void) -> [[Float]] {
        var arrays: [[Float]] = []
        var pointers: [UnsafeMutablePointer<Float>] = []
        func next(_ i: Int) {
            if i == counts.count { return body(pointers) }
            let slot = arrays.count
            arrays.append([])
            // An empty output has no storage: any pointer serves, nothing is written through it.
            let made = floats(counts[i]) { pointer in
                pointers.append(pointer)
                next(i + 1)
            }
            if counts[i] == 0 {
                pointers.append(UnsafeMutablePointer(bitPattern: 16)!)
                next(i + 1)
            }
            arrays[slot] = made
        }
        next(0)
        return arrays
    }

    // MARK: - Driven by the executor

    /// Starts a run: with the arena of its input shape, or recording a new plan.
    func beginRun(arena: MemoryArena?) {
        self.arena = arena
        recording = arena == nil ? MemoryPlanRecording() : nil
    }

    /// The node being run (its index in the graph).
    var currentNode: Int { node }

    func beginNode(_ index: Int) {
        node = index
        outputIndex = 0
    }

    /// Ends a run, handing back what was recorded (nil when the run used a plan).
    func endRun() -> MemoryPlanRecording? {
        defer { recording = nil; arena = nil }
        return recording
    }

    func recordProduced(node: Int, outputs: [(index: Int, slot: Int, address: Int?)]) {
        recording?.produced(node: node, outputs: outputs)
    }

    func recordReleased(slot: Int) {
        recording?.released(slot: slot)
    }
}
