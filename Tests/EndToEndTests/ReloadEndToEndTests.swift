// The real `pcb serve` switching models under load (reload_under_load.py): reloads, a refused
// truncated file, a rollback and a SIGHUP while two cameras post, no frame failing.

import Foundation
import ImageKit
import Testing

@Suite(.serialized) struct ReloadEndToEndTests {
    @Test func modelsSwitchUnderLoadWithoutAFailedFrame() throws {
        let directory = NSTemporaryDirectory() + "pcb-reload-" + UUID().uuidString
        let folder = directory + "/models"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fixtures = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models")
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("v8_op20_dyn.onnx").path, toPath: folder + "/v8.onnx")
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("v11_op12_dyn.onnx").path, toPath: folder + "/v11.onnx")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/v8.onnx"))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: folder + "/truncated.onnx"))
        var pixels = [UInt8](repeating: 0, count: 320 * 240 * 3)
        for i in 0..<(320 * 240) { pixels[i * 3] = UInt8(i % 251); pixels[i * 3 + 1] = 120; pixels[i * 3 + 2] = UInt8((i / 320) % 200) }
        let frame = directory + "/frame.jpg"
        try Data(try JPEGCodec().encode(RGBImage(width: 320, height: 240, pixels: pixels), quality: 85)).write(to: URL(fileURLWithPath: frame))
        let server = try ServerProcess(arguments: ["--data-dir", directory + "/var", "--model", folder + "/v8.onnx", "--threads", "1",
                                                   "--calibration", "none"])
        defer { server.stop() }
        try server.waitUntilListening()
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/reload_under_load.py").path
        let result = try run("/usr/bin/env", ["python3", script, "--url", "http://127.0.0.1:\(server.port)",
                                              "--pid", String(server.process.processIdentifier), "--folder", folder, "--frame", frame])
        #expect(result.status == 0, "\(result.output)\nserver log:\n\(server.log.suffix(3000))")
        #expect(result.output.contains("reload under load: all checks passed"), "\(result.output)")
    }
}
