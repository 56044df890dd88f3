// `pcb serve --reference` with the real binary: a rendered golden board given at start is in
// use at once (GET /api/reference/left answers it, /predict reports the check); a golden board
// that cannot be used is refused at start with its reason. `pcb eval --references`: each image
// checked against its own golden board, as `--reference` checks every image against one.

import Foundation
import Testing

@Suite(.serialized) struct ReferenceEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func goldenBoardGivenAtStartIsUsed() throws {
        let directory = NSTemporaryDirectory() + "pcb-reference-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        // Two boards of one design: the first is the golden board, the second is inspected.
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/set", "--count", "2", "--seed", "8", "--size", "320x240",
                                  "--layout-seed", "21", "--defect-rate", "0", "--val-fraction", "0"])
        #expect(synth.status == 0, "\(synth.output)")
        let images = try FileManager.default.contentsOfDirectory(atPath: directory + "/set/images/train").sorted()
        try #require(images.count == 2)
        let golden = directory + "/set/images/train/" + images[0]
        let server = try ServerProcess(arguments: ["--data-dir", directory + "/var", "--model", fixtureModel, "--threads", "1",
                                                   "--reference", "left=" + golden])
        defer { server.stop() }
        try server.waitUntilListening()
        let script = """
            import base64, json, sys, urllib.request
            base = sys.argv[1]
            shown = urllib.request.urlopen(base + "/api/reference/left", timeout=30).read()
            assert shown == open(sys.argv[2], "rb").read(), "GET /api/reference/left is not the golden board"
            frame = base64.b64encode(open(sys.argv[3], "rb").read()).decode()
            body = json.dumps({"camera_id": "left", "frame": frame}).encode()
            request = urllib.request.Request(base + "/predict", body, {"Content-Type": "application/json"})
            print(urllib.request.urlopen(request, timeout=60).read().decode())
            """
        let posted = try run("/usr/bin/env", ["python3", "-c", script, "http://127.0.0.1:\(server.port)", golden,
                                              directory + "/set/images/train/" + images[1]])
        #expect(posted.status == 0, "\(posted.output)\n\(server.log)")
        let body = try JSONSerialization.jsonObject(with: Data(posted.output.utf8)) as? [String: Any] ?? [:]
        let reference = try #require(body["reference"] as? [String: Any], "\(posted.output)")
        #expect(reference["registered"] as? Bool == true, "\(posted.output)")
        #expect(body["suppressed_boxes"] is [Any], "\(posted.output)")
    }

    @Test func unusableGoldenBoardsAreRefusedAtStart() throws {
        let directory = NSTemporaryDirectory() + "pcb-reference-bad-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: directory + "/bad.jpg"))
        let pcb = try pcbExecutable().path
        let unreadable = try run(pcb, ["serve", "--model", fixtureModel, "--reference", directory + "/bad.jpg", "--data-dir", directory])
        #expect(unreadable.status != 0)
        #expect(unreadable.output.contains("reference for every camera"), "\(unreadable.output)")
        let missing = try run(pcb, ["serve", "--model", fixtureModel, "--reference", directory + "/none.jpg", "--data-dir", directory])
        #expect(missing.status != 0 && missing.output.contains("cannot read the golden board"), "\(missing.output)")
        let unknownCamera = try run(pcb, ["serve", "--model", fixtureModel, "--reference", "middle=" + directory + "/bad.jpg", "--data-dir", directory])
        #expect(unknownCamera.status != 0 && unknownCamera.output.contains("unknown camera 'middle'"), "\(unknownCamera.output)")
    }

    @Test func evalChecksEachImageAgainstItsOwnGoldenBoard() throws {
        let directory = NSTemporaryDirectory() + "pcb-references-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        // A defect-free board of one design, and four frames of that design (some with defects).
        for (name, seed, extra) in [("golden", "8", ["--defect-rate", "0", "--val-fraction", "0"]), ("set", "9", ["--val-fraction", "1"])] {
            let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/" + name, "--count", name == "golden" ? "1" : "4", "--seed", seed,
                                      "--size", "320x240", "--layout-seed", "21"] + extra)
            #expect(synth.status == 0, "\(synth.output)")
        }
        let golden = directory + "/golden/images/train/synth_8_000000.jpg"
        let frames = try FileManager.default.contentsOfDirectory(atPath: directory + "/set/images/val").sorted()
        try #require(frames.count == 4)
        // Every frame's own golden board is that board; a second folder lacks the last frame's; a
        // third links every name to the one file (prepared once, shared by consecutive images).
        for (folder, names) in [("all", frames), ("partial", Array(frames.dropLast()))] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
            for name in names { try FileManager.default.copyItem(atPath: golden, toPath: directory + "/\(folder)/" + name) }
        }
        try FileManager.default.createDirectory(atPath: directory + "/linked", withIntermediateDirectories: true)
        for name in frames { try FileManager.default.createSymbolicLink(atPath: directory + "/linked/" + name, withDestinationPath: golden) }

        // A low threshold gives the trained detector boxes over design features to suppress.
        let bundled = repositoryRoot.appendingPathComponent("models/pcb_synthetic_yolov8n.onnx").path
        func evaluate(_ extra: [String]) throws -> [String: Any] {
            let result = try run(pcb, ["eval", "--model", bundled, "--data", directory + "/set/data.yaml", "--conf", "0.05", "--threads", "1",
                                       "--report", directory + "/report", "--json"] + extra)
            #expect(result.status == 0, "\(result.output)")
            let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
            return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
        let one = try evaluate(["--reference", golden])
        let each = try evaluate(["--references", directory + "/all"])
        let partial = try evaluate(["--references", directory + "/partial"])
        let linked = try evaluate(["--references", directory + "/linked"])
        let alone = try evaluate([])

        let oneGolden = try #require(one["golden"] as? [String: Int], "\(one)")
        #expect((oneGolden["suppressed_boxes"] ?? 0) > 0, "nothing to suppress: \(one)")
        #expect(each["golden"] as? [String: Int] == oneGolden, "\(each)")
        #expect(linked["golden"] as? [String: Int] == oneGolden, "\(linked)")
        #expect(NSDictionary(dictionary: linked["verdict_confusion"] as? [String: Any] ?? [:])
                    .isEqual(to: one["verdict_confusion"] as? [String: Any] ?? ["": 0]), "\(linked)\n\(one)")
        #expect(NSDictionary(dictionary: each["verdict_confusion"] as? [String: Any] ?? [:])
                    .isEqual(to: one["verdict_confusion"] as? [String: Any] ?? ["": 0]), "\(each)\n\(one)")
        let partialGolden = try #require(partial["golden"] as? [String: Int], "\(partial)")
        #expect(partialGolden["without_golden"] == 1 && oneGolden["without_golden"] == 0, "\(partial)")
        #expect((partialGolden["suppressed_boxes"] ?? 0) <= oneGolden["suppressed_boxes"]!, "\(partial)")
        #expect(alone["golden"] == nil, "\(alone)")

        let both = try run(pcb, ["eval", "--model", bundled, "--data", directory + "/set/data.yaml", "--reference", golden,
                                 "--references", directory + "/all"])
        #expect(both.status != 0 && both.output.contains("exclude each other"), "\(both.output)")
        let notFolder = try run(pcb, ["eval", "--model", bundled, "--data", directory + "/set/data.yaml", "--references", golden])
        #expect(notFolder.status != 0 && notFolder.output.contains("is not a folder"), "\(notFolder.output)")
        // A golden board in the folder that is not a picture stops the evaluation and names the file.
        try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: directory + "/partial/" + frames.last!))
        let damaged = try run(pcb, ["eval", "--model", bundled, "--data", directory + "/set/data.yaml", "--threads", "1",
                                    "--report", directory + "/report", "--references", directory + "/partial"])
        #expect(damaged.status != 0 && damaged.output.contains("golden board") && damaged.output.contains(frames.last!), "\(damaged.output)")
    }
}
