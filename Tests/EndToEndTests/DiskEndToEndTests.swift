// The real `pcb serve` with its data directory on a 24 MB tmpfs, posted to through a low disk,
// a full disk and back (full_disk_client.py): it never exits, every acknowledged inspection is
// stored, and images are saved again once space returns. Needs permission to mount a tmpfs
// (root, as in CI); skipped otherwise.

import Foundation
import ImageKit
import Testing

@Suite(.serialized) struct DiskEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    /// Whether this process may mount a tmpfs (tried once on a scratch folder).
    static let canMountTmpfs: Bool = {
        let directory = NSTemporaryDirectory() + "pcb-mount-probe-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let mounted = try? run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", directory]), mounted.status == 0 else { return false }
        _ = try? run("/bin/umount", [directory])
        return true
    }()

    @Test(.enabled(if: canMountTmpfs, "cannot mount a tmpfs here (needs root): the full-disk test runs in CI"))
    func aFullDiskNeverStopsTheServerNorLosesAnAcknowledgedInspection() throws {
        let directory = NSTemporaryDirectory() + "pcb-disk-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let mounted = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", directory])
        try #require(mounted.status == 0, "\(mounted.output)")
        defer {
            _ = try? run("/bin/umount", [directory])
            try? FileManager.default.removeItem(atPath: directory)
        }
        // A noisy 640x480 frame (about 250 KB), so a few dozen images fill the disk.
        var random = SystemRandomNumberGenerator()
        let pixels = (0..<(640 * 480 * 3)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let frame = NSTemporaryDirectory() + "pcb-disk-frame-" + UUID().uuidString + ".jpg"
        defer { try? FileManager.default.removeItem(atPath: frame) }
        try Data(try JPEGCodec().encode(RGBImage(width: 640, height: 480, pixels: pixels), quality: 95)).write(to: URL(fileURLWithPath: frame))
        let server = try ServerProcess(arguments: ["--data-dir", directory, "--model", fixtureModel, "--threads", "1",
                                                   "--set", "min_free_disk_mb=8"])
        defer { server.stop() }
        try server.waitUntilListening()
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/full_disk_client.py").path
        let result = try run("/usr/bin/env", ["python3", script, "--url", "http://127.0.0.1:\(server.port)", "--frame", frame,
                                              "--data-dir", directory])
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        #expect(result.output.contains("full disk: all checks passed"), "\(result.output)")
        #expect(server.process.isRunning, "the server exited: \(server.log)")
    }
}

/// Hostile and careless clients (hostile_clients.py) against the real binary with a token and
/// tight limits: auth on every endpoint but /health, CORS, media type, a 64 MB body, stalled and
/// trickled bodies, silent connections, the caps on bodies in flight and on connections.
@Suite(.serialized) struct HostileClientEndToEndTests {
    @Test func limitsAndAuthHoldAgainstHostileClients() throws {
        let directory = NSTemporaryDirectory() + "pcb-hostile-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path
        let server = try ServerProcess(arguments: [
            "--data-dir", directory, "--model", model, "--threads", "1", "--api-token", "secret",
            "--set", "request_timeout_s=3", "--set", "idle_timeout_s=2", "--set", "max_connections=40", "--set", "max_bodies_in_flight=4",
        ])
        defer { server.stop() }
        try server.waitUntilListening()
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/hostile_clients.py").path
        let result = try run("/usr/bin/env", ["python3", script, "--port", String(server.port), "--token", "secret"])
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log)")
        #expect(result.output.contains("hostile clients: all checks passed"), "\(result.output)")
        #expect(server.process.isRunning)
    }
}
