// The labelling export on hand cases: label lines from boxes, the review's say, the files.

import DetectionTools
import Foundation
import ImageKit
import Inspection
import Testing

@Suite struct LabellingExportTests {
    let classes = ["open", "short", "spur"]

    func sample(boxes: [DetectedDefect], review: String? = nil, reason: String = "near_threshold") -> LabellingExportSample {
        LabellingExportSample(id: 7, cameraId: "left", time: "2026-12-06T10:00:00+09:00", reason: reason, machineCategory: "discard",
                              boxes: boxes, reviewVerdict: review)
    }

    @Test func boxesBecomeNormalisedLabelLines() throws {
        let exporter = try LabellingExporter(directory: NSTemporaryDirectory() + "pcb-export-" + UUID().uuidString, classes: classes)
        defer { try? FileManager.default.removeItem(atPath: exporter.directory) }
        // A 100x50 frame: a box from (10,5) to (30,25) is centred at (0.2, 0.3), 0.2 x 0.4 of the frame;
        // one hanging over the edge is cut at it; one with no area is dropped.
        let labels = try exporter.labels(of: sample(boxes: [
            DetectedDefect(className: "short", confidence: 0.6, x1: 10, y1: 5, x2: 30, y2: 25),
            DetectedDefect(className: "spur", confidence: 0.3, x1: 90, y1: 40, x2: 120, y2: 60),
            DetectedDefect(className: "open", confidence: 0.3, x1: 5, y1: 5, x2: 5, y2: 9),
        ]), width: 100, height: 50)
        #expect(labels.lines == ["1 0.200000 0.300000 0.200000 0.400000", "2 0.950000 0.900000 0.100000 0.200000"])
        #expect(labels.source == "model" && !labels.check)
    }

    @Test func theReviewDecidesWhatTheLabelsSay() throws {
        let exporter = try LabellingExporter(directory: NSTemporaryDirectory() + "pcb-export-" + UUID().uuidString, classes: classes)
        defer { try? FileManager.default.removeItem(atPath: exporter.directory) }
        let box = DetectedDefect(className: "short", confidence: 0.6, x1: 10, y1: 5, x2: 30, y2: 25)
        // A false call confirmed by the operator: the frame is a good board, no label.
        let falseCall = try exporter.labels(of: sample(boxes: [box], review: "normal"), width: 100, height: 50)
        #expect(falseCall.lines.isEmpty && falseCall.source == "review" && !falseCall.check)
        // An escape: the operator saw a defect the model drew no box for; a person must draw it.
        let escape = try exporter.labels(of: sample(boxes: [], review: "solder_defect"), width: 100, height: 50)
        #expect(escape.lines.isEmpty && escape.check)
        // A class the model does not have is refused, naming it.
        #expect(throws: EvaluationError.self) {
            try exporter.labels(of: sample(boxes: [DetectedDefect(className: "cat", confidence: 0.9, x1: 1, y1: 1, x2: 5, y2: 5)]),
                                width: 100, height: 50)
        }
    }

    @Test func writesAYOLODatasetThatTheDatasetReaderReads() throws {
        let directory = NSTemporaryDirectory() + "pcb-export-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var exporter = try LabellingExporter(directory: directory, classes: classes)
        let jpeg = try JPEGCodec().encode(RGBImage(width: 100, height: 50, fill: (20, 120, 40)), quality: 90)
        try exporter.add(sample(boxes: [DetectedDefect(className: "short", confidence: 0.6, x1: 10, y1: 5, x2: 30, y2: 25)]), jpeg: jpeg)
        var normal = sample(boxes: [], reason: "normal_sample")
        normal.id = 8
        normal.machineCategory = "normal"
        try exporter.add(normal, jpeg: jpeg)
        #expect(throws: EvaluationError.self) { try exporter.add(normal, jpeg: [0xFF, 0xD8, 0x00]) }
        let summary = try exporter.finish()
        #expect(summary.images == 2 && summary.withBoxes == 1 && summary.boxes == 1 && summary.byReason == ["near_threshold": 1, "normal_sample": 1])

        let dataset = try YOLODataset.load(yamlPath: directory + "/data.yaml")
        #expect(dataset.names == classes)
        #expect(try String(contentsOfFile: directory + "/labels/train/7_left.txt", encoding: .utf8) == "1 0.200000 0.300000 0.200000 0.400000\n")
        #expect(try String(contentsOfFile: directory + "/labels/train/8_left.txt", encoding: .utf8) == "")
        #expect(FileManager.default.contents(atPath: directory + "/images/train/8_left.jpg") == Data(jpeg))
        #expect(try String(contentsOfFile: directory + "/classes.txt", encoding: .utf8) == "open\nshort\nspur\n")
        let rows = try String(contentsOfFile: directory + "/samples.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[1].hasPrefix("7,left,") && rows[2].contains(",normal_sample,normal,"))
    }
}
