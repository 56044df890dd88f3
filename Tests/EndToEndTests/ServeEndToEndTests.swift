// End to end: the real `pcb` binary, a real ONNX model run by NeuralEngine, a real SQLite
// file, and plain HTTP clients (Python's standard library) speaking the seed's bodies.

import Foundation
import ImageKit
import Testing

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `pcb` executable built beside the test bundle.
func pcbExecutable() throws -> URL {
    var candidates: [URL] = []
    if let first = CommandLine.arguments.first {
        var directory = URL(fileURLWithPath: first).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("pcb"))
            directory = directory.deletingLastPathComponent()
        }
    }
    candidates.append(repositoryRoot.appendingPathComponent(".build/debug/pcb"))
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw E2EError("pcb executable not found in \(candidates.map(\.path))")
    }
    return found
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A `pcb serve` child process on a free loopback port. Its output is read all along (a full
/// pipe would stall the server's logging, and with it the server).
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let output = Pipe()
    private(set) var port = 0
    private let lock = NSLock()
    private var collected = ""
    var log: String { lock.withLock { collected } }

    init(arguments: [String]) throws {
        process.executableURL = try pcbExecutable()
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        process.currentDirectoryURL = repositoryRoot
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Reads output until the server says where it listens, or it exits.
    func waitUntilListening(timeout: TimeInterval = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let handle = output.fileHandleForReading
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty {
                if !process.isRunning { throw E2EError("pcb serve exited early: \(log)") }
                continue
            }
            lock.withLock { collected += String(decoding: chunk, as: UTF8.self) }
            let text = log
            if let range = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last!)!
                let drain = Thread { [self] in
                    while true {
                        let more = handle.availableData
                        if more.isEmpty { return }
                        lock.withLock { collected += String(decoding: more, as: UTF8.self) }
                    }
                }
                drain.start()
                return
            }
        }
        throw E2EError("pcb serve did not start listening: \(log)")
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(.serialized) struct ServeEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    /// The MySQL/MariaDB server of the test run (`make test` starts one), if any.
    static let mysqlURL = ProcessInfo.processInfo.environment["PCB_TEST_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

    @Test func seedClientBodiesGetEverySeedField() throws {
        try seedClientRun(database: nil)
    }

    @Test(.enabled(if: mysqlURL != nil, "PCB_TEST_MYSQL_URL is not set: `make test` starts a private MariaDB for this"))
    func seedClientBodiesAgainstMariaDB() throws {
        try seedClientRun(database: Self.mysqlURL)
    }

    /// A Python with OpenCV, requests, PyYAML and openapi-spec-validator (`make test` makes one).
    static let testPython = ProcessInfo.processInfo.environment["PCB_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }

    @Test(.enabled(if: testPython != nil, "PCB_TEST_PYTHON is not set: `make test` makes a venv with opencv-python-headless and requests for the seed's client"))
    func seedsOwnSendFrameWorks() throws {
        // Given the server and a 640x480 synthetic board frame,
        let dataDirectory = NSTemporaryDirectory() + "pcb-seed-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = try ServerProcess(arguments: ["--data-dir", dataDirectory, "--model", fixtureModel, "--threads", "1"])
        defer { server.stop() }
        try server.waitUntilListening()
        var pixels = [UInt8](repeating: 0, count: 640 * 480 * 3)
        for i in 0..<(640 * 480) { pixels[i * 3] = UInt8(i % 251); pixels[i * 3 + 1] = UInt8((i / 640) % 200); pixels[i * 3 + 2] = 90 }
        let frame = dataDirectory + "/frame.jpg"
        try Data(try JPEGCodec().encode(RGBImage(width: 640, height: 480, pixels: pixels), quality: 95)).write(to: URL(fileURLWithPath: frame))
        // when the seed's own CameraClient.send_frame posts it (OpenCV, requests),
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/seed_camera_client.py").path
        let result = try run(Self.testPython!, [script, "--url", "http://127.0.0.1:\(server.port)", "--frame", frame])
        // then both cameras get every field the seed's client reads.
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        #expect(result.output.contains("seed send_frame: all checks passed"), "\(result.output)")
    }

    @Test(.enabled(if: testPython != nil, "PCB_TEST_PYTHON is not set: `make test` makes a venv with openapi-spec-validator"))
    func responsesMatchTheOpenAPIDescription() throws {
        let dataDirectory = NSTemporaryDirectory() + "pcb-openapi-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = try ServerProcess(arguments: ["--data-dir", dataDirectory, "--model", fixtureModel, "--threads", "1"])
        defer { server.stop() }
        try server.waitUntilListening()
        var pixels = [UInt8](repeating: 0, count: 320 * 240 * 3)
        for i in 0..<(320 * 240) { pixels[i * 3] = UInt8(i % 251); pixels[i * 3 + 2] = UInt8((i / 320) % 200) }
        let frame = dataDirectory + "/frame.jpg"
        try Data(try JPEGCodec().encode(RGBImage(width: 320, height: 240, pixels: pixels), quality: 85)).write(to: URL(fileURLWithPath: frame))
        // The description validates, and every response (good and bad requests) matches it.
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/openapi_check.py").path
        let result = try run(Self.testPython!, [script, "--spec", repositoryRoot.appendingPathComponent("docs/openapi.yaml").path,
                                                "--url", "http://127.0.0.1:\(server.port)", "--frame", frame])
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        #expect(result.output.contains("openapi: all checks passed"), "\(result.output)")
    }

    func seedClientRun(database: String?) throws {
        // Given a server on a real model and a fresh data directory (and MariaDB when given),
        let dataDirectory = NSTemporaryDirectory() + "pcb-e2e-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = try ServerProcess(arguments: ["--data-dir", dataDirectory, "--model", fixtureModel, "--threads", "1"]
                                           + (database.map { ["--database", $0] } ?? []))
        defer { server.stop() }
        try server.waitUntilListening()

        // and a 640x480 camera frame at the seed's JPEG quality,
        var pixels = [UInt8](repeating: 0, count: 640 * 480 * 3)
        for i in 0..<(640 * 480) { pixels[i * 3] = UInt8(i % 251); pixels[i * 3 + 1] = UInt8((i / 640) % 200); pixels[i * 3 + 2] = 90 }
        let frame = dataDirectory + "/frame.jpg"
        try Data(try JPEGCodec().encode(RGBImage(width: 640, height: 480, pixels: pixels), quality: 85)).write(to: URL(fileURLWithPath: frame))

        // when the seed's requests are sent from a plain HTTP client,
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/seed_client.py").path
        let result = try run("/usr/bin/env", ["python3", script, "--url", "http://127.0.0.1:\(server.port)", "--frame", frame])

        // then every check of the script passes and the history is on disk.
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        #expect(result.output.contains("seed client: all checks passed"), "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/pcb.sqlite") == (database == nil))
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/logs/server.log"))
    }

    @Test func missingModelIsRefusedWithDirections() throws {
        let result = try run(try pcbExecutable().path, ["serve", "--model", "/nonexistent/model.onnx", "--data-dir",
                                                        NSTemporaryDirectory() + "pcb-e2e-missing-" + UUID().uuidString])
        #expect(result.status == 2)
        #expect(result.output.contains("model file not found: /nonexistent/model.onnx"), "\(result.output)")
        #expect(result.output.contains("--model"), "\(result.output)")
    }

    @Test func badPolicyFileIsRefusedWithItsLine() throws {
        let directory = NSTemporaryDirectory() + "pcb-e2e-policy-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let policy = try String(contentsOf: repositoryRoot.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  short: solder_defect", with: "  short: solderr")
        try policy.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        let result = try run(try pcbExecutable().path, ["serve", "--model", fixtureModel, "--policy", directory + "/policy.yaml",
                                                        "--data-dir", directory])
        #expect(result.status == 2)
        #expect(result.output.contains("policy.yaml line 34: class 'short': unknown category 'solderr'"), "\(result.output)")
    }
}
