// Options controlling an InferenceSession: the number of CPU threads the
// engine may use (forwarded to OpenBLAS, which is a process-wide setting) and
// whether load-time graph optimisations (constant folding, Conv+activation
// fusion, dead node elimination) run, and whether activations come from a
// memory plan made once per input shape (MemoryPlan.swift), and whether freed activations stay
// in the C heap for the next run (HeapRetention.swift).

public struct SessionOptions: Sendable {
    /// Number of threads for BLAS and parallel kernels (>= 1).
    public var threads: Int
    /// Run load-time graph optimisations (constant folding, operator fusion).
    public var graphOptimizations: Bool
    /// Reuse planned buffers for activations; off (the default), every output is a fresh
    /// allocation, which glibc serves from the blocks the run before freed. A planned buffer
    /// that takes a larger value than its last must fill the difference (Swift arrays cannot
    /// grow uninitialised): that made runs 3-10 % slower than fresh allocations, with 9 MB more
    /// peak RSS (docs/PERFORMANCE.md, "The memory plan, measured again").
    public var memoryPlanning = false
    /// Keep freed activation memory in glibc's heap for the next run (HeapRetention, a
    /// process-wide setting that the first session asking for it makes); off only to measure it.
    public var heapRetention = true
    /// The kernel set (KernelDispatch); nil: `KernelSet.active`, the fastest this CPU runs.
    public var kernels: KernelSet? = nil
    /// The number format of the packed convolutions (fp32 by default; bf16 or int8 where the CPU has it).
    public var precision: Precision = .fp32
    /// For int8: the range of each convolution's input, by node name, as a calibration saw it
    /// (`InferenceSession.calibrationRanges`). Convolutions not named here run in fp32.
    public var int8Inputs: [String: ClosedRange<Float>] = [:]

    public init(threads: Int = 1) {
        self.threads = max(1, threads)
        self.graphOptimizations = true
    }

    public init(threads: Int = 1, graphOptimizations: Bool, memoryPlanning: Bool = false) {
        self.threads = max(1, threads)
        self.graphOptimizations = graphOptimizations
        self.memoryPlanning = memoryPlanning
    }
}
