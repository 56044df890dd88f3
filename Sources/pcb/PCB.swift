// `pcb`: the one command-line program of the inspection line. Argument parsing only; each
// subcommand hands over to its module.

import ArgumentParser
import CKernels
#if canImport(Glibc)
import Glibc
#endif

@main
struct PCB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcb",
        abstract: "Real-time PCB inspection line: server, cameras, engine and tools.",
        subcommands: [Serve.self, Camera.self, Simulate.self, Engine.self, Detect.self, Dataset.self, Eval.self, Calibrate.self, Anomaly.self, Bench.self])

    /// Refuses, in words, a CPU below the release build's baseline before any code built for it
    /// runs (which would die of an illegal instruction with nothing said).
    static func main() async {
        #if arch(x86_64)
        let needed = UInt32(CK_CPU_AVX2 | CK_CPU_FMA)
        if ck_cpu_features() & needed != needed {
            let message = "pcb: this CPU lacks AVX2 or FMA; pcb is built for x86-64-v3 (Intel Haswell, AMD Excavator or Zen, or newer)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            Glibc.exit(3)
        }
        #endif
        await main(nil)
    }
}
