// `pcb calibrate` with the real binary and engine: it writes an operating point that
// `pcb eval` then judges with, `pcb serve` names at start, and `pcb serve` refuses when it was
// calibrated for other classes.

import Foundation
import Testing

@Suite struct CalibrateEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func calibratesEvaluatesAndIsRefusedForAnotherModel() throws {
        let directory = NSTemporaryDirectory() + "pcb-calibrate-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        // Given a small validation split with normal and defective boards,
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/set", "--count", "6", "--seed", "11", "--size", "160x120",
                                  "--val-fraction", "1"])
        #expect(synth.status == 0, "\(synth.output)")
        // when the model is calibrated on it (a random-weight model: any false-call rate allowed),
        let calibration = directory + "/fixture.calibration.json"
        let calibrated = try run(pcb, ["calibrate", "--model", fixtureModel, "--data", directory + "/set/data.yaml", "--threads", "1",
                                       "--max-false-call-rate", "1", "--flips", "horizontal", "--out", calibration])
        // then it prints the trade-off and writes per-class thresholds for the model's classes,
        #expect(calibrated.status == 0, "\(calibrated.output)")
        #expect(calibrated.output.contains("false calls") && calibrated.output.contains("<- chosen"), "\(calibrated.output)")
        let point = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: calibration))) as? [String: Any])
        let classes = try #require(point["class_names"] as? [String])
        #expect((point["thresholds"] as? [String: Double])?.count == classes.count && classes.count == 11, "\(point)")
        // with the mirror images the model also saw while they were chosen,
        #expect(point["test_time_flips"] as? String == "horizontal", "\(point)")

        // `pcb eval` judges the boards at it,
        let evaluated = try run(pcb, ["eval", "--model", fixtureModel, "--data", directory + "/set/data.yaml", "--threads", "1",
                                      "--imgsz", "160", "--calibration", calibration, "--report", directory + "/report", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        #expect(evaluated.output.contains("verdicts at the calibrated operating point"), "\(evaluated.output)")
        #expect(evaluated.output.contains("\"board_outcomes\""), "\(evaluated.output)")

        // `pcb serve` says at start which thresholds judge the boards, and runs the model as they were chosen,
        let server = try ServerProcess(arguments: ["--model", fixtureModel, "--calibration", calibration, "--data-dir", directory + "/served",
                                                   "--threads", "1"])
        try server.waitUntilListening()
        server.stop()
        #expect(server.log.contains("verdicts at the calibrated per-class thresholds of fixture.calibration.json@"), "\(server.log)")
        #expect(server.log.contains("flips horizontal"), "\(server.log)")

        // and a calibration made for a model with other classes is refused at start.
        let other = try String(contentsOfFile: calibration, encoding: .utf8).replacingOccurrences(of: "\"pin_hole\"", with: "\"pinhole\"")
        try other.write(toFile: directory + "/other.json", atomically: true, encoding: .utf8)
        let refused = try run(pcb, ["serve", "--model", fixtureModel, "--calibration", directory + "/other.json", "--data-dir", directory + "/var"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("was calibrated for a model with classes"), "\(refused.output)")
    }
}
