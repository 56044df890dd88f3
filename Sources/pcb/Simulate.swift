// `pcb simulate line`: the whole line against a running server, without hardware.

import ArgumentParser
import EdgeClient
import Foundation
import Inspection
import Logging
import Telemetry

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulations of the line without hardware.",
        subcommands: [Line.self])

    struct Line: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Synthetic boards through two virtual cameras against a running server; scores the sorter's pulses.",
            discussion: """
                Renders boards with known defects, posts both sides like the two Raspberry Pis (the left one holds \
                its response for the board verdict and pulses a dry-run actuator), and prints one JSON line last:
                {"boards", "paired", "matching_ground_truth", "fail_safe", "duplicate_pulses", "missing_pulses",
                 "false_calls", "escapes", "wrong_category", "latency_p50_ms", "latency_p99_ms"} (counts of boards, \
                false calls etc. by the gate each pulsed board got; latency from capture to pulse).
                One product per run (one design per camera, from --seed): each camera's golden board (a defect-free \
                render of its view) is taught to the server first (PUT /api/reference/{camera}) unless --no-reference; \
                --mixed-products renders every board as another design (then no golden board).
                Example: pcb serve &  pcb simulate line --server http://127.0.0.1:5000 --boards 200
                """)

        @Option(help: "The server's URL.") var server = "http://127.0.0.1:5000"
        @Option(help: "Boards to run.") var boards = 200
        @Option(name: .customLong("defect-rate"), help: "Share of boards with at least one defect (0...1).") var defectRate = 0.3
        @Option(help: "Boards per second passing the cameras.") var fps = 2.0
        @Option(help: "Seed of the synthetic boards.") var seed: UInt64 = 2024
        @Flag(name: .customLong("board-ids"), help: "Send a board_id with both sides (default: the server pairs by capture time).")
        var boardIds = false
        @Option(name: .customLong("api-token"), help: "Bearer token of the server.") var apiToken: String?
        @Option(help: "Defect policy file (GPIO pins, fail-safe category).") var policy = "data/pcb_defects.yaml"
        @Option(name: .customLong("verdict-timeout"), help: "Seconds the left camera waits for a board verdict.") var verdictTimeout = 3.0
        @Flag(name: .customLong("mixed-products"), help: "Every board another design (default: one product per run, as a real line).")
        var mixedProducts = false
        @Flag(name: .customLong("no-reference"), help: "Do not teach the server the product's golden boards before the run.")
        var noReference = false
        @Flag(help: "Log every frame and pulse.") var verbose = false

        func validate() throws {
            guard boards >= 1 else { throw ValidationError("--boards must be at least 1") }
            guard fps > 0, fps <= 30 else { throw ValidationError("--fps must be in (0, 30]") }
            guard (0...1).contains(defectRate) else { throw ValidationError("--defect-rate must be in 0...1") }
        }

        func run() async throws {
            let level: Logger.Level = verbose ? .info : .warning
            LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, file: nil) }
            let defectPolicy = try PolicyFiles.policy(policy)
            let line = VirtualLine(
                configuration: .init(serverURL: server, boards: boards, defectRate: defectRate, fps: fps, seed: seed,
                                     sendBoardIds: boardIds, apiToken: apiToken, verdictTimeout: verdictTimeout,
                                     oneProduct: !mixedProducts, teachReference: !noReference),
                policy: defectPolicy)
            let total = boards
            let rendered = try line.renderBoards { done in
                if done % 20 == 0 || done == total { FileHandle.standardError.write(Data("rendered \(done)/\(total) boards\n".utf8)) }
            }
            let truth = Dictionary(grouping: rendered, by: \.truth).mapValues(\.count)
            print("boards: \(boards) at \(fps)/s, ground truth \(truth.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))")
            let report = try await line.run(boards: rendered, logger: Logger(label: "pcb.simulate"))
            print(report.jsonLine)
        }
    }
}
