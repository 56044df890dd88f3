// `pcb engine run`, `pcb engine bench` and `pcb engine info`: the ONNX engine on its own, for
// parity checks against ONNX Runtime, speed measurements, and what it found on this CPU
// (`pcb engine calibrate` and `pcb engine check-precision` have files of their own).

import ArgumentParser
import Foundation
import Detection
import NeuralEngine
import SeededRandom
import Simulation
#if canImport(Glibc)
import Glibc
import Telemetry
#endif

struct Engine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run or benchmark an ONNX model with NeuralEngine.",
        subcommands: [EngineRun.self, EngineBench.self, EngineInfo.self, EngineCalibrate.self, EngineCheckPrecision.self])
}

struct EngineInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "The CPU features found, the kernels chosen for them, and OpenBLAS's kernel.")

    func run() async throws {
        #if arch(x86_64)
        let baseline = "x86-64-v3 (avx2 fma)"
        #elseif arch(arm64)
        let baseline = "arm64 (neon)"
        #else
        let baseline = "generic"
        #endif
        print("cpu features: \(CPUFeatures.host)")
        print("release build baseline: \(baseline)")
        let runnable = KernelSet.allCases.filter { $0.runs(on: .host) }
        print("kernel sets this CPU runs: \(runnable.map(\.rawValue).joined(separator: ", "))")
        print("kernels chosen: \(KernelSet.active)" + (KernelSet.requested.map { " (PCB_KERNELS=\($0))" } ?? " (auto)"))
        print("precisions this CPU runs: \(Precision.allCases.filter { $0.runs(on: .host) }.map(\.rawValue).joined(separator: ", "))")
        if let refusal = KernelSet.requestRefusal { print("PCB_KERNELS not followed: \(refusal)") }
        print("OpenBLAS kernel: \(InferenceSession.blasKernel)")
    }
}

struct EngineRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model on one .npy input; write every graph output as DIR/<name>.npy.")

    @Option(help: "ONNX model.") var model: String
    @Option(help: "Input tensor (float32 .npy) for the model's first input.") var input: String
    @Option(name: .customLong("output-dir"), help: "Folder for the outputs.") var outputDir: String
    @Option(help: "Engine threads.") var threads = 1

    func run() async throws {
        let session = try InferenceSession(path: model, options: SessionOptions(threads: threads))
        guard let first = session.inputs.first else { throw ValidationError("the model has no inputs") }
        let tensor = try NPYFile.read(input)
        let outputs = try session.run([first.name: tensor])
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        for output in session.outputs {
            guard let value = outputs[output.name] else { continue }
            let safe = output.name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" }
            let path = (outputDir as NSString).appendingPathComponent(String(safe) + ".npy")
            try NPYFile.write(value, to: path)
            print("\(output.name) \(value.shape) -> \(path)")
        }
    }
}

struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time model runs; prints {\"median_ms\", \"p90_ms\", \"min_ms\", \"max_ms\", \"peak_rss_mb\", \"page_faults_per_run\", ...}.")

    @Option(help: "ONNX model.") var model: String
    @Option(help: "Engine threads.") var threads = 1
    @Option(help: "Timed runs.") var runs = 20
    @Option(help: "Untimed runs first.") var warmup = 3
    @Option(help: "Batch size (dynamic-batch models).") var batch = 1
    @Option(help: "Input height (dynamic-size models; default 640).") var height: Int?
    @Option(help: "Input width (dynamic-size models; default 640).") var width: Int?
    @Flag(help: "Also print time per operator type and the slowest nodes (stderr).") var profile = false
    @Flag(name: .customLong("memory-plan"), help: "Take activations from a memory plan made per input shape instead of fresh allocations (to measure it).") var memoryPlan = false
    @Flag(name: .customLong("no-heap-retention"), help: "Leave glibc's malloc thresholds at their defaults, so freed activations go back to the system and fault in again (to measure it).") var noHeapRetention = false
    @Option(help: "Kernel set: auto (the fastest this CPU runs), \(KernelSet.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kernels = "auto"
    @Option(help: "Precision of the convolutions: fp32, bf16 (AVX512_BF16 CPUs), int8 (AVX512_VNNI CPUs, with --calibration), auto (the fastest this CPU runs; int8 only with --calibration; no accuracy record is read here).")
    var precision = "fp32"
    @Option(help: "int8 calibration (`pcb engine calibrate`) of this model.") var calibration: String?

    func run() async throws {
        var options = SessionOptions(threads: threads, graphOptimizations: true, memoryPlanning: memoryPlan)
        options.heapRetention = !noHeapRetention
        options.kernels = try KernelSet.choose(features: .host, requested: kernels)
        options.precision = try Precision.choose(features: .host, requested: precision,
                                                 autoAmong: calibration == nil ? [.bf16, .fp32] : Precision.allCases)
        if options.precision == .int8 {
            guard let calibration, let data = FileManager.default.contents(atPath: calibration) else {
                throw ValidationError("--precision int8 needs --calibration FILE (pcb engine calibrate)")
            }
            options.int8Inputs = try JSONDecoder().decode(Int8Calibration.self, from: data).inputRanges
        }
        let session = try InferenceSession(path: model, options: options)
        guard let input = session.inputs.first, input.shape.count == 4 else { throw ValidationError("expected one NCHW input") }
        func dimension(_ index: Int, _ requested: Int?, _ fallback: Int) -> Int {
            if case .fixed(let value) = input.shape[index] { return value }
            return requested ?? fallback
        }
        let shape = [dimension(0, batch, 1), dimension(1, nil, 3), dimension(2, height, 640), dimension(3, width, 640)]
        var generator = SplitMix64(seed: 7)
        let values = (0..<shape.reduce(1, *)).map { _ in Float(generator.next() % 1000) / 1000 }
        let feeds = [input.name: Tensor(shape: shape, floats: values)]
        for _ in 0..<warmup { _ = try session.run(feeds) }
        var times: [Double] = []
        let faultsBefore = Self.minorFaults()
        for _ in 0..<max(1, runs) {
            let start = ContinuousClock.Instant.now
            _ = try session.run(feeds)
            let (seconds, attoseconds) = (ContinuousClock.Instant.now - start).components
            times.append(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
        }
        let faultsPerRun = (Self.minorFaults() - faultsBefore) / max(1, runs)
        times.sort()
        if profile {
            FileHandle.standardError.write(Data("OpenBLAS kernel: \(InferenceSession.blasKernel)\n".utf8))
            try printProfile(session, feeds)
        }
        let percentiles = Percentiles(times)
        func pick(_ p: Double) -> Double { (percentiles.value(at: p * 100) * 1000).rounded() / 1000 }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peak = (Double(usage.ru_maxrss) / 1024 * 10).rounded() / 10
        let arenaBytes: Int = session.memoryPlanSummary?.arenaBytes ?? 0
        let arena: Double = (Double(arenaBytes) / 104_857.6).rounded() / 10
        let liveBytes: Int = session.memoryPlanSummary?.peakLiveBytes ?? 0
        let live: Double = (Double(liveBytes) / 104_857.6).rounded() / 10
        print(#"{"median_ms": \#(pick(0.5)), "p90_ms": \#(pick(0.9)), "min_ms": \#(pick(0)), "max_ms": \#(pick(1)), "peak_rss_mb": \#(peak), "arena_mb": \#(arena), "planned_peak_live_mb": \#(live), "heap_retention": \#(options.heapRetention && HeapRetention.activate()), "page_faults_per_run": \#(faultsPerRun)}"#)
    }
}

extension EngineBench {
    /// Minor page faults of the whole process so far (pages the kernel mapped in, zeroed, on first touch).
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    /// Per-op-type totals and the 15 slowest nodes of one profiled run, to stderr.
    func printProfile(_ session: InferenceSession, _ feeds: [String: Tensor]) throws {
        let (_, timings) = try session.runProfiled(feeds)
        var byType: [String: (Double, Int)] = [:]
        for t in timings {
            let key = t.opType + (t.fusedActivation.map { "+" + $0 } ?? "")
            byType[key, default: (0, 0)].0 += t.seconds * 1000
            byType[key, default: (0, 0)].1 += 1
        }
        var lines = ["op type                      ms   nodes"]
        for (key, value) in byType.sorted(by: { $0.value.0 > $1.value.0 }) {
            lines.append(key.padding(toLength: 25, withPad: " ", startingAt: 0) + String(format: "%7.2f %5d", value.0, value.1))
        }
        lines.append("slowest nodes:")
        for t in timings.sorted(by: { $0.seconds > $1.seconds }).prefix(15) {
            lines.append(String(format: "%7.2f ms  ", t.seconds * 1000) + "\(t.opType) \(t.name) -> \(t.outputShape)")
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
