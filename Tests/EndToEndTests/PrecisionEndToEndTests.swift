// `pcb engine calibrate`, `pcb engine check-precision` and `pcb serve --precision auto` with the
// real binary and a real model: the calibration and the record are written beside the model,
// `auto` then runs the fastest precision the CPU has that the record passed (int8 with
// AVX512_VNNI, bf16 with AVX512_BF16, else fp32), /health and /metrics say which, and frames are
// judged in it.

import Foundation
import Detection
import NeuralEngine
import Testing

@Suite(.serialized) struct PrecisionEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func autoPrecisionFollowsTheCheckedRecordAndIsReported() throws {
        let directory = NSTemporaryDirectory() + "pcb-precision-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/set", "--count", "1", "--seed", "5", "--size", "160x120",
                                  "--val-fraction", "0"])
        #expect(synth.status == 0, "\(synth.output)")
        let frame = try FileManager.default.contentsOfDirectory(atPath: directory + "/set/images/train").first.map { directory + "/set/images/train/" + $0 }
        let model = directory + "/model.onnx"
        try FileManager.default.copyItem(atPath: fixtureModel, toPath: model)
        let calibrate = try run(pcb, ["engine", "calibrate", "--model", model, "--images", directory + "/set/images", "--threads", "1"])
        #expect(calibrate.status == 0, "\(calibrate.output)")
        let calibration = try JSONDecoder().decode(Int8Calibration.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/model.int8.json")))
        #expect(calibration.images == 1 && calibration.inputRanges.count > 10, "\(calibrate.output)")
        #expect(calibration.estimator == "extremes" && calibrate.output.contains("keeping the widest ranges"), "\(calibrate.output)")
        let check = try run(pcb, ["engine", "check-precision", "--model", model, "--data", directory + "/set/data.yaml", "--split", "train",
                                  "--policy", "none", "--threads", "1"])
        let faster = Precision.allCases.filter { $0 != .fp32 && $0.runs(on: .host) }
        var expected = "fp32"
        if faster.isEmpty {
            #expect(check.status != 0 && check.output.contains("fp32 only"), "\(check.output)")
        } else {
            #expect(check.status == 0, "\(check.output)")
            let record = try PrecisionRecord.parse(try Data(contentsOf: URL(fileURLWithPath: directory + "/model.precision.json")), name: "record")
            #expect(Set(record.checks.map(\.precision)) == Set(faster.map(\.rawValue)), "\(check.output)")
            // Random weights: whether int8 passes is the check's to say; auto follows the record.
            expected = try Precision.choose(features: .host, requested: "auto", autoAmong: record.passedPrecisions).rawValue
            #expect(check.output.contains("runs this model in \(expected)"), "\(check.output)")
        }
        let server = try ServerProcess(arguments: ["--data-dir", directory + "/var", "--model", model, "--threads", "1",
                                                   "--precision", "auto"])
        defer { server.stop() }
        try server.waitUntilListening()
        let script = """
            import base64, json, sys, time, urllib.request
            base = sys.argv[1]
            for _ in range(600):
                try:
                    health = json.loads(urllib.request.urlopen(base + "/health", timeout=5).read())
                    if health["status"] == "ok": break
                except Exception:
                    pass
                time.sleep(0.1)
            body = json.dumps({"camera_id": "left", "frame": base64.b64encode(open(sys.argv[2], "rb").read()).decode()}).encode()
            answer = json.loads(urllib.request.urlopen(urllib.request.Request(base + "/predict", body, {"Content-Type": "application/json"}), timeout=60).read())
            metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
            line = next(l for l in metrics.splitlines() if l.startswith("pcb_precision_info"))
            print(json.dumps({"precision": health["precision"], "model": health["model"], "status": answer["status"], "metric": line}))
            """
        let result = try run("/usr/bin/env", ["python3", "-c", script, "http://127.0.0.1:\(server.port)", try #require(frame)])
        #expect(result.status == 0, "\(result.output)\n\(server.log)")
        let answer = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
        #expect(answer["precision"] as? String == expected, "\(result.output)")
        #expect((answer["model"] as? String)?.contains(expected) == true, "\(result.output)")
        #expect(answer["status"] as? String == "ok")
        #expect((answer["metric"] as? String)?.contains("precision=\"\(expected)\"") == true, "\(result.output)")
    }

    /// With four frames or more, `--ranges auto` measures the ranges on three in four, compares
    /// both rules in int8 on the fourth, writes the one it printed first, and measures its ranges
    /// over every frame; an explicit rule is written as asked.
    @Test func calibrateChoosesHowRangesAreSummarisedOnHeldOutFrames() throws {
        let directory = NSTemporaryDirectory() + "pcb-ranges-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/set", "--count", "8", "--seed", "6", "--size", "160x120",
                                  "--val-fraction", "0"])
        #expect(synth.status == 0, "\(synth.output)")
        let model = directory + "/model.onnx"
        try FileManager.default.copyItem(atPath: fixtureModel, toPath: model)
        func calibration() throws -> Int8Calibration {
            try JSONDecoder().decode(Int8Calibration.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/model.int8.json")))
        }
        let auto = try run(pcb, ["engine", "calibrate", "--model", model, "--images", directory + "/set/images", "--threads", "1"])
        #expect(auto.status == 0, "\(auto.output)")
        let written = try calibration()
        #expect(written.images == 8, "\(auto.output)")
        if Precision.int8.runs(on: .host) {
            let lines = auto.output.split(separator: "\n").filter { $0.contains("mean |difference|") }
            #expect(lines.count == 2 && auto.output.contains("on 2 check frames"), "\(auto.output)")
            let first = try #require(lines.first?.split(separator: ":").first?.trimmingCharacters(in: .whitespaces))
            #expect(written.estimator == first, "\(auto.output)")
        } else {
            #expect(written.estimator == "extremes" && auto.output.contains("does not run int8"), "\(auto.output)")
        }
        for rule in ["extremes", "mean"] {
            let explicit = try run(pcb, ["engine", "calibrate", "--model", model, "--images", directory + "/set/images", "--threads", "1",
                                         "--ranges", rule])
            #expect(explicit.status == 0 && !explicit.output.contains("check frames"), "\(explicit.output)")
            #expect(try calibration().estimator == rule)
        }
        let means = try calibration().inputRanges
        let widest = try run(pcb, ["engine", "calibrate", "--model", model, "--images", directory + "/set/images", "--threads", "1",
                                   "--ranges", "extremes"])
        #expect(widest.status == 0)
        // The mean of each frame's extremes lies within the extremes of all frames.
        for (name, range) in try calibration().inputRanges {
            let mean = try #require(means[name])
            #expect(range.lowerBound <= mean.lowerBound && mean.upperBound <= range.upperBound, "\(name)")
        }
        let bad = try run(pcb, ["engine", "calibrate", "--model", model, "--images", directory + "/set/images", "--ranges", "median"])
        #expect(bad.status != 0 && bad.output.contains("--ranges must be auto or one of extremes, mean"), "\(bad.output)")
    }
}
