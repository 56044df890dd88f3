// `pcb bench`: benchmarks that print figures (tests check correctness, these measure).

import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures as one JSON line.",
        subcommands: [BenchServer.self, BenchStore.self])
}
