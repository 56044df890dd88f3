// `pcb`: the one command-line program of the inspection line. Argument parsing only; each
// subcommand hands over to its module.

import ArgumentParser

@main
struct PCB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcb",
        abstract: "Real-time PCB inspection line: server, cameras, engine and tools.",
        subcommands: [Serve.self, Camera.self, Simulate.self, Engine.self, Detect.self, Dataset.self, Eval.self, Calibrate.self, Anomaly.self, Bench.self])
}
