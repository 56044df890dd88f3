import Foundation
import ImageKit
import Testing
@testable import Detection
@testable import DetectionTools

@Suite struct DeepPCBImporterTests {
    /// Writes a tiny DeepPCB-shaped folder: `count` pairs of 64x64 images with annotations.
    func makeSample(count: Int) throws -> URL {
        let root = URL(fileURLWithPath: NSTemporaryDirectory() + "deeppcb-" + UUID().uuidString)
        let group = root.appendingPathComponent("group12000/12000")
        try FileManager.default.createDirectory(at: group, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("group12000/12000_not"), withIntermediateDirectories: true)
        let jpeg = try JPEGCodec().encode(RGBImage(width: 64, height: 64, fill: (200, 200, 200)), grayscale: true)
        var list = ""
        for index in 0..<count {
            let id = String(format: "12000%03d", index)
            try Data(jpeg).write(to: group.appendingPathComponent("\(id)_test.jpg"))
            try Data(jpeg).write(to: group.appendingPathComponent("\(id)_temp.jpg"))
            try "8 16 24 48 \(index % 6 + 1)\n0 0 64 32 2\n".write(
                to: root.appendingPathComponent("group12000/12000_not/\(id).txt"), atomically: true, encoding: .utf8)
            list += "group12000/12000/\(id).jpg group12000/12000_not/\(id).txt\n"
        }
        try list.write(to: root.appendingPathComponent("trainval.txt"), atomically: true, encoding: .utf8)
        return root
    }

    @Test func convertsToYOLOWithOurClassNames() throws {
        let source = try makeSample(count: 10)
        let output = source.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: source) }
        var importer = DeepPCBImporter(source: source, output: output)
        importer.valFraction = 0.2
        let summary = try importer.run()
        #expect(summary.trainImages == 8 && summary.valImages == 2)
        #expect(summary.boxesPerClass == [2, 12, 2, 2, 1, 1])  // every pair also has one type-2 box
        let train = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("images/train").path)
        #expect(train.count == 8)
        let split = FileManager.default.fileExists(atPath: output.appendingPathComponent("labels/train/12000000.txt").path) ? "train" : "val"
        let file = try String(contentsOf: output.appendingPathComponent("labels/\(split)/12000000.txt"), encoding: .utf8)
        // x1=8 y1=16 x2=24 y2=48 on 64x64, type 1 -> open_circuit (0)
        #expect(file.hasPrefix("0 0.250000 0.500000 0.250000 0.500000\n1 0.500000 0.250000 1.000000 0.500000\n"))
        let yaml = try String(contentsOf: output.appendingPathComponent("data.yaml"), encoding: .utf8)
        #expect(yaml.contains("0: open_circuit") && yaml.contains("4: spurious_copper") && yaml.contains("5: pin_hole"))
        #expect(yaml.contains("train: images/train") && yaml.contains("val: images/val"))
    }

    @Test func splitIsReproducibleAndSeeded() throws {
        let importer = DeepPCBImporter(source: URL(fileURLWithPath: "/"), output: URL(fileURLWithPath: "/"))
        let ids = (0..<100).map { String(format: "id%03d", $0) }
        let first = importer.split(ids)
        #expect(first.count == 10)
        #expect(importer.split(ids.reversed()) == first)
        var other = importer
        other.seed = 7
        #expect(other.split(ids) != first)
    }

    @Test func malformedAnnotationNamesFileAndLine() {
        #expect(throws: DetectionError.self) {
            try DeepPCBImporter.yoloLabels("1 2 3 4 1\n1 2 3 4 9\n", file: "x.txt", width: 64, height: 64)
        }
        let error = #expect(throws: DetectionError.self) {
            try DeepPCBImporter.yoloLabels("1 2 3\n", file: "x.txt", width: 64, height: 64)
        }
        #expect(error?.description.contains("x.txt line 1") == true)
    }

    @Test func templatesBecomeUnlabelledNegatives() throws {
        let source = try makeSample(count: 4)
        let output = source.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: source) }
        var importer = DeepPCBImporter(source: source, output: output)
        importer.valFraction = 0
        importer.includeTemplates = true
        let summary = try importer.run()
        #expect(summary.trainImages == 8)
        #expect(try String(contentsOf: output.appendingPathComponent("labels/train/12000000_temp.txt"), encoding: .utf8).isEmpty)
    }
}
