// `scripts/install.sh` (what `make install` runs) with the test build's binary into a scratch
// PREFIX, then that installed `pcb serve` started from another working directory: it finds its
// policy, dashboard, API description and bundled model beside itself.

import Foundation
import Testing

@Suite(.serialized) struct InstallEndToEndTests {
    @Test func anInstalledServerStartsFromAnyWorkingDirectory() throws {
        let prefix = NSTemporaryDirectory() + "pcb-prefix-" + UUID().uuidString
        let elsewhere = NSTemporaryDirectory() + "pcb-elsewhere-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: prefix)
            try? FileManager.default.removeItem(atPath: elsewhere)
        }
        let installed = try run(repositoryRoot.appendingPathComponent("scripts/install.sh").path, [prefix, try pcbExecutable().path])
        try #require(installed.status == 0, "\(installed.output)")
        for file in ["bin/pcb", "data/pcb_defects.yaml", "docs/openapi.yaml", "dashboard/index.html", "configs/server.yaml",
                     "models/pcb_synthetic_yolov8n.onnx", "deploy/pcb-serve.service"] {
            #expect(FileManager.default.fileExists(atPath: prefix + "/" + file), "\(file) not installed")
        }
        // A second install keeps the site's edited config.
        try Data("port: 5000\n# edited on site\n".utf8).write(to: URL(fileURLWithPath: prefix + "/configs/server.yaml"))
        let again = try run(repositoryRoot.appendingPathComponent("scripts/install.sh").path, [prefix, try pcbExecutable().path])
        #expect(again.status == 0 && again.output.contains("kept"), "\(again.output)")
        #expect(try String(contentsOfFile: prefix + "/configs/server.yaml", encoding: .utf8).contains("edited on site"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix + "/bin/pcb")
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", elsewhere + "/var", "--threads", "1"]
        process.currentDirectoryURL = URL(fileURLWithPath: elsewhere)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        var log = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !log.contains("model warmed up") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty, !process.isRunning { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        #expect(log.contains("listening on 127.0.0.1:"), "\(log)")
        #expect(!log.contains("no dashboard files"), "\(log)")
        #expect(log.contains("pcb_synthetic_yolov8n.onnx"), "\(log)")
    }
}
