// `pcb detect` with the real binary on a rendered board: one JSON line per image with the
// boxes and the policy's verdict (`category`, `defect_type`); `--policy none` prints boxes only.

import Foundation
import Testing

@Suite struct DetectEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    @Test func printsTheVerdictBesideTheBoxes() throws {
        let directory = NSTemporaryDirectory() + "pcb-detect-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        let synth = try run(pcb, ["dataset", "synth", "--out", directory, "--count", "2", "--seed", "5", "--size", "160x120",
                                  "--val-fraction", "0"])
        #expect(synth.status == 0, "\(synth.output)")
        // A random-weight model's boxes mean nothing, so the threshold is set to let some through.
        let detected = try run(pcb, ["detect", "--model", fixtureModel, "--conf", "0.01", directory + "/images/train"])
        #expect(detected.status == 0, "\(detected.output)")
        let lines = detected.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.count == 2, "\(detected.output)")
        let labels = ["정상", "부품불량", "납땜불량", "폐기"]
        let codes = ["normal", "component_defect", "solder_defect", "discard"]
        for line in lines {
            let code = try #require(line["category"] as? String, "\(line)")
            let label = try #require(line["defect_type"] as? String, "\(line)")
            #expect(codes.firstIndex(of: code) == labels.firstIndex(of: label) && codes.contains(code), "\(line)")
            // A board with no box above the threshold is normal (minor classes are normal too).
            let boxes = try #require(line["boxes"] as? [[String: Any]])
            if boxes.isEmpty { #expect(code == "normal", "\(line)") }
        }

        let bare = try run(pcb, ["detect", "--model", fixtureModel, "--policy", "none", directory + "/images/train"])
        #expect(bare.status == 0 && !bare.output.contains("\"category\""), "\(bare.output)")
    }
}
