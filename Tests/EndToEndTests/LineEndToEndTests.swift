// The line end to end: the real `pcb serve` on a real (fixture) model, driven by the real
// camera clients: `pcb simulate line` (two virtual cameras, dry-run actuator) and `pcb camera`.

import Foundation
import Testing

@Suite(.serialized) struct LineEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func simulatedLinePulsesEveryBoardOnce() throws {
        let dataDirectory = NSTemporaryDirectory() + "pcb-line-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = try ServerProcess(arguments: ["--data-dir", dataDirectory, "--model", fixtureModel, "--threads", "1"])
        defer { server.stop() }
        try server.waitUntilListening()

        // When six boards pass both virtual cameras, paired by capture time (without golden boards:
        // registering every frame in a debug build takes longer than the pairing deadline; the
        // golden board has its own end-to-end test),
        let result = try run(try pcbExecutable().path, ["simulate", "line", "--server", "http://127.0.0.1:\(server.port)",
                                                        "--boards", "6", "--fps", "4", "--defect-rate", "0.5", "--no-reference"])
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        // then the last line holds the figures, and every board got exactly one pulse.
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Double], "\(result.output)")
        #expect(figures["boards"] == 6)
        #expect(figures["duplicate_pulses"] == 0 && figures["missing_pulses"] == 0, "\(last)")
        #expect((figures["paired"] ?? 0) + (figures["fail_safe"] ?? 0) == 6, "\(last)")
        #expect((figures["paired"] ?? 0) >= 5, "both sides arrive together; at most one pairing may miss on a loaded machine: \(last)")
        #expect((figures["latency_p50_ms"] ?? 0) > 0)
        for key in ["matching_ground_truth", "latency_p99_ms"] { #expect(figures[key] != nil, "\(key) missing: \(last)") }
    }

    @Test func simulatedLineTeachesTheProductsGoldenBoards() throws {
        let dataDirectory = NSTemporaryDirectory() + "pcb-line-ref-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = try ServerProcess(arguments: ["--data-dir", dataDirectory, "--model", fixtureModel, "--threads", "1"])
        defer { server.stop() }
        try server.waitUntilListening()
        // One board of one product: the run starts by teaching each camera its golden board.
        let result = try run(try pcbExecutable().path, ["simulate", "line", "--server", "http://127.0.0.1:\(server.port)",
                                                        "--boards", "1", "--fps", "1"])
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        let script = """
            import sys, urllib.request
            for camera in ("left", "right"):
                body = urllib.request.urlopen(sys.argv[1] + "/api/reference/" + camera, timeout=30).read()
                assert body[:2] == b"\\xff\\xd8", camera + ": not a JPEG"
            print("golden boards: both taught")
            """
        let shown = try run("/usr/bin/env", ["python3", "-c", script, "http://127.0.0.1:\(server.port)"])
        #expect(shown.status == 0 && shown.output.contains("both taught"), "\(shown.output)")
    }

    @Test func cameraClientSendsSyntheticFramesAndStopsOnSIGTERM() throws {
        let dataDirectory = NSTemporaryDirectory() + "pcb-cam-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = try ServerProcess(arguments: ["--data-dir", dataDirectory, "--model", fixtureModel, "--threads", "1"])
        defer { server.stop() }
        try server.waitUntilListening()

        // Given the seed's flags and a synthetic source with the dry-run sorter,
        let camera = Process()
        camera.executableURL = try pcbExecutable()
        camera.arguments = ["camera", "--camera_id", "left", "--server_url", "http://127.0.0.1:\(server.port)", "--fps", "4",
                            "--source", "synthetic", "--gpio", "dry-run"]
        camera.currentDirectoryURL = repositoryRoot
        let pipe = Pipe()
        camera.standardOutput = pipe
        camera.standardError = pipe
        try camera.run()
        // when it runs for a few seconds and systemd stops it,
        Thread.sleep(forTimeInterval: 6)
        camera.terminate()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        camera.waitUntilExit()
        // then it logged results and pulses, and said what it did on the way out.
        #expect(camera.terminationStatus == 0, "\(output)")
        #expect(output.contains("left #0:"), "\(output)")
        #expect(output.contains("GPIO dry-run: pin"), "\(output)")
        let stopped = try #require(output.split(separator: "\n").first { $0.contains("camera left stopped") }, "\(output)")
        #expect(!stopped.contains("inspected 0,"), "\(stopped)")
    }
}
