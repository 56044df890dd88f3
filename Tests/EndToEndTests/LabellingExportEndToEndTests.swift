// The labelling loop with the real binary: `pcb serve` keeps frames for labelling while
// frames are posted, an operator marks one verdict wrong, `pcb dataset export` writes the
// kept frames from the running server and from its data folder, and `pcb eval` runs on the
// export: its counts are the server's.

import Foundation
import Testing

@Suite(.serialized) struct LabellingExportEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func keptFramesExportAsADatasetThatEvalReads() throws {
        let directory = NSTemporaryDirectory() + "pcb-labelling-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/set", "--count", "6", "--seed", "31", "--size", "320x240",
                                  "--val-fraction", "0"])
        #expect(synth.status == 0, "\(synth.output)")
        let frames = try FileManager.default.contentsOfDirectory(atPath: directory + "/set/images/train").sorted()
            .map { directory + "/set/images/train/" + $0 }
        try #require(frames.count == 6)
        // Every frame is kept: each normal one (share 1) and each with a box (any box is "near").
        let server = try ServerProcess(arguments: [
            "--data-dir", directory + "/var", "--model", fixtureModel, "--threads", "1", "--api-token", "t0ken",
            "--set", "label_near_margin=1", "--set", "label_normal_share=1", "--set", "label_max_per_day=1000"])
        defer { server.stop() }
        try server.waitUntilListening()
        let base = "http://127.0.0.1:\(server.port)"
        // Post the frames, then mark the first one's verdict wrong (as the dashboard would).
        let script = """
            import base64, json, sys, urllib.request
            base, frames = sys.argv[1], sys.argv[2:]
            headers = {"Content-Type": "application/json", "Authorization": "Bearer t0ken"}
            def call(path, body):
                request = urllib.request.Request(base + path, json.dumps(body).encode(), headers)
                return json.loads(urllib.request.urlopen(request, timeout=120).read())
            ids, categories = [], []
            for i, path in enumerate(frames):
                frame = base64.b64encode(open(path, "rb").read()).decode()
                answer = call("/predict", {"camera_id": "left", "frame": frame})
                ids.append(answer["inspection_id"])
                categories.append(answer["category"])
            wrong = "normal" if categories[0] != "normal" else "discard"
            review = call(f"/api/inspections/{ids[0]}/review", {"verdict": wrong, "operator": "e2e"})
            assert review["data"]["agrees"] is False, review
            print(json.dumps({"ids": ids, "categories": categories, "wrong": wrong}))
            """
        let posted = try run("/usr/bin/env", ["python3", "-c", script, base] + frames)
        #expect(posted.status == 0, "\(posted.output)\n\(server.log)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(posted.output.utf8)) as? [String: Any], "\(posted.output)")
        let categories = try #require(answer["categories"] as? [String])
        let wrong = try #require(answer["wrong"] as? String)

        // Export from the running server (read token) and from its data folder.
        let fromServer = try run(pcb, ["dataset", "export", "--url", base, "--token", "t0ken", "--out", directory + "/export"])
        #expect(fromServer.status == 0, "\(fromServer.output)")
        #expect(fromServer.output.contains("exported 6 frames"), "\(fromServer.output)")
        let unauthorized = try run(pcb, ["dataset", "export", "--url", base, "--out", directory + "/nope"])
        #expect(unauthorized.status != 0 && unauthorized.output.contains("--token"), "\(unauthorized.output)")
        server.stop()
        let fromFolder = try run(pcb, ["dataset", "export", "--data-dir", directory + "/var", "--model", fixtureModel,
                                       "--out", directory + "/export-folder"])
        #expect(fromFolder.status == 0, "\(fromFolder.output)")
        for name in ["data.yaml", "classes.txt", "samples.csv"] {
            let a = try String(contentsOfFile: directory + "/export/" + name, encoding: .utf8)
            let b = try String(contentsOfFile: directory + "/export-folder/" + name, encoding: .utf8)
            #expect(a == b, "\(name) differs between the two exports")
        }
        let labels = try FileManager.default.contentsOfDirectory(atPath: directory + "/export/labels/train").sorted()
        #expect(labels.count == 6)
        let csv = try String(contentsOfFile: directory + "/export/samples.csv", encoding: .utf8)
        #expect(csv.contains(",review,\(categories[0]),\(wrong),"), "\(csv)")

        // `pcb eval` reads the export. The reviewed frame's labels follow the operator: a false
        // call gets an empty label file; every other frame is labelled with the server's own
        // boxes, so eval (the same model at the same scale) finds the server's verdicts.
        let evaluated = try run(pcb, ["eval", "--model", fixtureModel, "--data", directory + "/export/data.yaml", "--threads", "1", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        let jsonText = String(evaluated.output[evaluated.output.range(of: "{")!.lowerBound...])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(jsonText.utf8)) as? [String: Any], "\(evaluated.output)")
        let outcomes = try #require(report["board_outcomes"] as? [String: Any], "\(evaluated.output)")
        var normal = categories.filter { $0 == "normal" }.count
        if wrong == "normal" { normal += 1 }  // the operator's word on frame 0
        #expect(outcomes["normal"] as? Int == normal, "\(outcomes) vs server \(categories)")
        #expect(outcomes["defective"] as? Int == 6 - normal, "\(outcomes) vs server \(categories)")
        let disagreements = (outcomes["false_calls"] as? Int ?? -1) + (outcomes["escapes"] as? Int ?? -1)
        #expect(disagreements == (wrong == "normal" ? 1 : 0), "only the reviewed frame differs from the machine: \(outcomes)")
    }
}
