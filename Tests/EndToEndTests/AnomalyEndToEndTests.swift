// The hybrid end to end: `pcb anomaly fit` on rendered normal boards with the real engine,
// then `pcb serve --anomaly` answers /predict with the anomaly fields; a bad .padim file is
// refused at start with its reason.

import Foundation
import Testing

@Suite(.serialized) struct AnomalyEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func fittedModelRunsBesideTheDetectorInTheServer() throws {
        let directory = NSTemporaryDirectory() + "pcb-anomaly-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        // Given a model fitted on five normal boards of one design (registered to the first),
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/normal", "--count", "5", "--seed", "4", "--size", "320x240",
                                  "--layout-seed", "3", "--defect-rate", "0", "--val-fraction", "0"])
        #expect(synth.status == 0, "\(synth.output)")
        let fit = try run(pcb, ["anomaly", "fit", "--model", fixtureModel, "--normal", directory + "/normal", "--out", directory + "/line.padim",
                                "--channels", "8", "--threads", "1"])
        #expect(fit.status == 0, "\(fit.output)")
        // (registered to the first board: the default for boards of one layout)
        #expect(fit.output.contains("4 boards fitted, grid 8x8, 8 channels, registered to board 1, radius 0"), "\(fit.output)")

        // when the server runs it beside the detector and a board arrives,
        let server = try ServerProcess(arguments: ["--data-dir", directory + "/var", "--model", fixtureModel,
                                                   "--anomaly", directory + "/line.padim", "--threads", "1"])
        defer { server.stop() }
        try server.waitUntilListening()
        let frame = try FileManager.default.contentsOfDirectory(atPath: directory + "/normal/images/train").sorted()[0]
        let script = """
            import base64, json, sys, urllib.request
            frame = base64.b64encode(open(sys.argv[2], "rb").read()).decode()
            body = json.dumps({"camera_id": "left", "frame": frame}).encode()
            request = urllib.request.Request(sys.argv[1] + "/predict", body, {"Content-Type": "application/json"})
            print(urllib.request.urlopen(request, timeout=60).read().decode())
            """
        let posted = try run("/usr/bin/env", ["python3", "-c", script, "http://127.0.0.1:\(server.port)",
                                              directory + "/normal/images/train/" + frame])
        // then the response carries the anomaly model's say.
        #expect(posted.status == 0, "\(posted.output)\n\(server.log)")
        let body = try JSONSerialization.jsonObject(with: Data(posted.output.utf8)) as? [String: Any] ?? [:]
        #expect((body["anomaly_score"] as? Double).map { $0.isFinite && $0 >= 0 } == true, "\(posted.output)")
        #expect(body["anomaly_threshold"] is Double && body["anomaly_fired"] is Bool, "\(posted.output)")
    }

    @Test func evalJudgesHybridVerdictsWithTheAnomalyModel() throws {
        let directory = NSTemporaryDirectory() + "pcb-anomaly-eval-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        // Given an anomaly model fitted on normal boards of one design, and a mixed set of that design,
        for (name, seed, defects) in [("normal", "4", "0"), ("mixed", "5", "0.5")] {
            let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/" + name, "--count", name == "normal" ? "5" : "8", "--seed", seed,
                                      "--size", "320x240", "--layout-seed", "3", "--defect-rate", defects, "--val-fraction", name == "normal" ? "0" : "1"])
            #expect(synth.status == 0, "\(synth.output)")
        }
        let fit = try run(pcb, ["anomaly", "fit", "--model", fixtureModel, "--normal", directory + "/normal", "--out", directory + "/line.padim",
                                "--channels", "8", "--threads", "1"])
        #expect(fit.status == 0, "\(fit.output)")

        // when `pcb eval` judges it with no box counting (--conf 1), alone and with the anomaly model,
        func outcomes(_ extra: [String]) throws -> (outcomes: [String: Any], fired: Int?) {
            let result = try run(pcb, ["eval", "--model", fixtureModel, "--data", directory + "/mixed/data.yaml", "--conf", "1", "--threads", "1",
                                       "--policy", repositoryRoot.appendingPathComponent("data/pcb_defects.yaml").path,
                                       "--report", directory + "/report", "--json"] + extra)
            #expect(result.status == 0, "\(result.output)")
            let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return (object["board_outcomes"] as? [String: Any] ?? [:], object["anomaly_fired"] as? Int)
        }
        let alone = try outcomes([])
        let hybrid = try outcomes(["--anomaly", directory + "/line.padim"])

        // then alone every board is called normal, and each board the anomaly model fires on is
        // rejected instead: a false call on a normal board, a caught escape on a defective one.
        let defective = alone.outcomes["defective"] as? Int ?? -1
        #expect(defective > 0 && alone.outcomes["escapes"] as? Int == defective && alone.outcomes["false_calls"] as? Int == 0, "\(alone)")
        #expect(alone.fired == nil)
        let fired = try #require(hybrid.fired)
        #expect(fired > 0, "the anomaly model fired on no board of the mixed set: \(hybrid)")
        let falseCalls = hybrid.outcomes["false_calls"] as? Int ?? -1, escapes = hybrid.outcomes["escapes"] as? Int ?? -1
        #expect(falseCalls + (defective - escapes) == fired, "\(hybrid)")
    }

    @Test func aDamagedAnomalyFileIsRefusedAtStart() throws {
        let directory = NSTemporaryDirectory() + "pcb-anomaly-bad-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("not a padim file".utf8).write(to: URL(fileURLWithPath: directory + "/bad.padim"))
        let result = try run(try pcbExecutable().path, ["serve", "--model", fixtureModel, "--anomaly", directory + "/bad.padim",
                                                        "--data-dir", directory])
        #expect(result.status != 0)
        #expect(result.output.contains("bad.padim: not a PaDiM file (bad magic)"), "\(result.output)")
    }
}
