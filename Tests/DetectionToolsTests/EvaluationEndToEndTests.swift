// One whole evaluation on the tiny random-weight fixture model over three generated JPEGs:
// dataset -> engine -> metrics -> verdicts -> report.md, pr_curve.svg and the JSON line.

import Foundation
import ImageKit
import Inspection
import Testing
@testable import Detection
@testable import DetectionTools

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct EvaluationEndToEndTests {
    @Test func evaluatesTheFixtureModelAndWritesTheReport() throws {
        let folder = try EvaluationTestFolder()
        let names = ["missing_component", "open_circuit", "short", "cold_joint", "solder_bridge", "insufficient_solder",
                     "damaged_pad", "spurious_copper", "mouse_bite", "spur", "pin_hole"]
        try folder.write("data.yaml", "path: .\ntrain: images/val\nval: images/val\nnames:\n" + names.enumerated().map { "  \($0): \($1)\n" }.joined())
        let codec = JPEGCodec()
        for i in 0..<3 {
            var pixels = [UInt8](repeating: 0, count: 96 * 64 * 3)
            for p in 0..<(96 * 64) {
                let x = p % 96, y = p / 96
                pixels[3 * p] = UInt8((x * 2 + i * 40) % 256)
                pixels[3 * p + 1] = UInt8((y * 3) % 256)
                pixels[3 * p + 2] = ((x / 12 + y / 12) % 2 == 0) ? 200 : 30
            }
            try folder.write("images/val/board\(i).jpg", Data(try codec.encode(RGBImage(width: 96, height: 64, pixels: pixels), quality: 90)))
        }
        try folder.write("labels/val/board0.txt", "2 0.5 0.5 0.3 0.3\n6 0.2 0.3 0.1 0.2\n")
        try folder.write("labels/val/board1.txt", "0 0.4 0.6 0.2 0.2\n")
        // board2: no label file, a normal board.

        let dataset = try YOLODataset.load(yamlPath: folder.path + "/data.yaml")
        let policyText = try String(contentsOf: repository.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8)
        let policy = try DefectPolicy.load(yaml: policyText)
        var options = EvaluationOptions()
        options.imageSize = 64
        let model = repository.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path
        var ticks: [Int] = []
        let result = try DetectionEvaluator(options: options).evaluate(modelPath: model, dataset: dataset, split: "val", policy: policy) {
            ticks.append($0.done)
        }
        #expect(ticks == [1, 2, 3])
        #expect(result.images == 3 && result.instances == 3)
        #expect(result.inputShape.width == 96 && result.inputShape.height == 64)   // resized to 64x43, rect-padded to 96x64
        #expect(result.metrics.classes.map(\.classIndex) == [0, 2, 6])
        #expect((0...1).contains(result.metrics.map50) && result.metrics.map50to95 <= result.metrics.map50 + 1e-12)
        let verdicts = try #require(result.verdicts)
        #expect(verdicts.total == 3)
        // Truth: board0 has damaged_pad (discard), board1 missing_component, board2 nothing.
        #expect(verdicts.counts[3].reduce(0, +) == 1 && verdicts.counts[1].reduce(0, +) == 1 && verdicts.counts[0].reduce(0, +) == 1)

        let reportFolder = folder.path + "/report"
        try EvaluationReport.write(result, command: "pcb eval --model m.onnx --data data.yaml", to: reportFolder)
        let markdown = try String(contentsOfFile: reportFolder + "/report.md", encoding: .utf8)
        #expect(markdown.contains("pcb eval --model m.onnx --data data.yaml") && markdown.contains("| short |"))
        let svg = try String(contentsOfFile: reportFolder + "/pr_curve.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("Recall") && svg.contains("Precision") && svg.contains("polyline"))

        let line = try EvaluationReport.jsonLine(result)
        #expect(!line.contains("\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        for key in ["map50", "map50_95", "precision", "recall", "per_class", "verdict_accuracy", "verdict_confusion", "images", "model", "data"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let perClass = try #require(json["per_class"] as? [String: [String: Any]])
        #expect(Set(perClass.keys) == ["missing_component", "short", "damaged_pad"])
        #expect(perClass["short"]?["instances"] as? Int == 1)
        let confusion = try #require(json["verdict_confusion"] as? [String: [String: Int]])
        #expect(confusion.keys.sorted() == ["component_defect", "discard", "normal", "solder_defect"])
        // The board outcomes count the same verdicts: the label-free board2 is the one normal board.
        let outcomes = try #require(json["board_outcomes"] as? [String: Any])
        #expect(outcomes["normal"] as? Int == 1 && outcomes["defective"] as? Int == 2)
        #expect(outcomes["false_calls"] as? Int == verdicts.outcomes.falseCalls && outcomes["escapes"] as? Int == verdicts.outcomes.escapes)
        for key in ["false_call_rate", "escape_rate", "wrong_category_rate", "wrong_category"] { #expect(outcomes[key] != nil, "missing \(key)") }
        #expect(markdown.contains("| false calls (normal board rejected) |"))
        #expect(!EvaluationReport.summaryText(result).isEmpty)
    }

    /// `pcb eval` runs a dynamic model at the scale its export names (where `pcb serve` runs it),
    /// not at a fixed 640, unless `--imgsz` says otherwise.
    @Test func dynamicModelsRunAtTheExportsScaleUnlessToldOtherwise() throws {
        let path = repository.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path
        let model = try EvaluationModel(path: path, threads: 1, postprocessor: YOLOPostprocessor())
        #expect(model.metadata.imageSize?.height == 64 && model.metadata.imageSize?.width == 64)
        var options = EvaluationOptions()
        // Export's imgsz 64: 640x480 resized to 64x48, rect-padded to 96x64.
        let exported = model.geometry(frameWidth: 640, frameHeight: 480, options: options)
        #expect(exported.inputWidth == 96 && exported.inputHeight == 64)
        options.letterbox = .serving
        let served = model.geometry(frameWidth: 640, frameHeight: 480, options: options)
        let server = try YOLODetector(path: path).letterbox(frameWidth: 640, frameHeight: 480)
        #expect(served.inputWidth == server.inputWidth && served.inputHeight == server.inputHeight)
        // --imgsz 640: no resize, rect-padded to 672x512 as yolo val imgsz=640.
        options.letterbox = .validation
        options.imageSize = 640
        let asked = model.geometry(frameWidth: 640, frameHeight: 480, options: options)
        #expect(asked.inputWidth == 672 && asked.inputHeight == 512)
    }
}
