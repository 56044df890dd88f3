// Nothing lost when the database goes away: the real `pcb serve` on a private MariaDB that is
// killed (SIGKILL) in the middle of 500 /predict requests and started again. Every answered
// request must end up in MariaDB exactly once (the client checks in the database itself).

import Foundation
import ImageKit
import Testing

@Suite(.serialized) struct DatabaseOutageEndToEndTests {
    static let mariadbAvailable = FileManager.default.isExecutableFile(atPath: "/usr/sbin/mariadbd")
        && ProcessInfo.processInfo.environment["PCB_TEST_MYSQL_URL"] != nil

    @Test(.enabled(if: mariadbAvailable, "needs mariadb-server and PCB_TEST_MYSQL_URL: run `make test`"))
    func killedDatabaseLosesNothing() throws {
        let directory = NSTemporaryDirectory() + "pcb-outage-frame-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var pixels = [UInt8](repeating: 0, count: 320 * 240 * 3)
        for i in 0..<(320 * 240) { pixels[i * 3] = UInt8(i % 251); pixels[i * 3 + 1] = UInt8((i / 320) % 200) }
        let frame = directory + "/frame.jpg"
        try Data(try JPEGCodec().encode(RGBImage(width: 320, height: 240, pixels: pixels), quality: 85)).write(to: URL(fileURLWithPath: frame))

        // The harness starts a MariaDB of its own (killing it must not disturb the other suites'
        // server) and `pcb serve` on it, then kills and restarts the database mid-stream.
        let harness = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/db_outage_client.py").path
        let result = try run("/usr/bin/env", [
            "python3", harness, "--pcb", try pcbExecutable().path,
            "--model", repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path,
            "--frame", frame, "--instance-script", repositoryRoot.appendingPathComponent("scripts/mariadb-test-instance.sh").path,
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("db outage: all checks passed"), "\(result.output)")
    }
}
