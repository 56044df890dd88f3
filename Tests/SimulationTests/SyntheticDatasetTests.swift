// The dataset writer: Ultralytics folder layout, data.yaml, labels next to images.

import Foundation
import ImageKit
import Simulation
import Testing

@Suite struct SyntheticDatasetTests {
    @Test func writesUltralyticsLayout() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let progress = ProgressLog()
        let summary = try SyntheticDataset.write(to: dir.path, count: 6, seed: 3, size: ImageSize(width: 96, height: 72),
                                                 valFraction: 0.34) { done, total in progress.add(done, total) }
        #expect(summary.images == 6)
        #expect(summary.valImages == 2)
        #expect(summary.trainImages == 4)
        #expect(progress.calls.count == 6)
        #expect(progress.calls.map(\.0).sorted() == [1, 2, 3, 4, 5, 6])
        #expect(progress.calls.allSatisfy { $0.1 == 6 })

        let fm = FileManager.default
        let yaml = try String(contentsOf: dir.appendingPathComponent("data.yaml"), encoding: .utf8)
        #expect(yaml.contains("path: \(dir.standardizedFileURL.path)\n"))
        #expect(yaml.contains("train: images/train\n"))
        #expect(yaml.contains("val: images/val\n"))
        #expect(yaml.contains("  0: missing_component\n"))
        #expect(yaml.contains("  10: pin_hole\n"))
        for split in ["train", "val"] {
            let images = try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("images/\(split)").path).sorted()
            let labels = try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("labels/\(split)").path).sorted()
            #expect(images.count == (split == "val" ? 2 : 4))
            #expect(images.map { $0.replacingOccurrences(of: ".jpg", with: "") } == labels.map { $0.replacingOccurrences(of: ".txt", with: "") })
            for name in images {
                let data = try Data(contentsOf: dir.appendingPathComponent("images/\(split)/\(name)"))
                let image = try JPEGCodec().decode([UInt8](data))
                #expect(image.width == 96 && image.height == 72)
            }
        }
        var boxes = 0
        for name in try fm.contentsOfDirectory(atPath: dir.appendingPathComponent("labels/train").path) {
            let text = try String(contentsOf: dir.appendingPathComponent("labels/train/\(name)"), encoding: .utf8)
            for line in text.split(separator: "\n") {
                boxes += 1
                let fields = line.split(separator: " ")
                #expect(fields.count == 5)
                #expect(Int(fields[0]).map { (0..<11).contains($0) } == true)
            }
        }
        #expect(summary.boxes >= boxes)
    }

    @Test func contrastFilesListEveryLabel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try SyntheticDataset.write(to: dir.path, count: 4, seed: 5, size: ImageSize(width: 96, height: 72),
                                                 valFraction: 0, defectRate: 1, measureContrast: true)
        var lines = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("labels/train").path) {
            let labels = try String(contentsOf: dir.appendingPathComponent("labels/train/\(name)"), encoding: .utf8).split(separator: "\n")
            let contrast = try String(contentsOf: dir.appendingPathComponent("contrast/\(name)"), encoding: .utf8).split(separator: "\n")
            #expect(contrast.count == labels.count)
            for (label, row) in zip(labels, contrast) {
                let fields = row.split(separator: " ")
                #expect(fields.count == 3 && fields[0] == label.split(separator: " ")[0])
                #expect(Double(fields[1]).map { $0 > 0 } == true)
                #expect(Double(fields[2]).map { $0 >= 0 } == true)
            }
            lines += contrast.count
        }
        #expect(lines == summary.boxes && lines > 0)
        let lowest = summary.lowestContrastPerClass.compactMap { $0 }
        #expect(!lowest.isEmpty && lowest.allSatisfy { $0 > 0 })
        #expect((summary.lowestContrastToNoise ?? 0) > 1)
    }

    @Test func splitIsExactAndSpread() {
        let val = (0..<100).filter { SyntheticDataset.isValidation($0, count: 100, fraction: 0.1) }
        #expect(val.count == 10)
        #expect(val.first! >= 5 && val.last! >= 90)
        #expect((0..<10).filter { SyntheticDataset.isValidation($0, count: 10, fraction: 0) }.isEmpty)
    }

    @Test func imageSizeParsing() {
        #expect(ImageSize(parsing: "640x480") == ImageSize(width: 640, height: 480))
        #expect(ImageSize(parsing: "320X240") == ImageSize(width: 320, height: 240))
        #expect(ImageSize(parsing: "640") == nil)
        #expect(ImageSize(parsing: "0x480") == nil)
        #expect(ImageSize(parsing: "axb") == nil)
    }

    @Test func dataYAMLListsAllClassesInOrder() {
        let yaml = SyntheticDataset.dataYAML(directory: "/data/synth")
        let names = yaml.split(separator: "\n").filter { $0.hasPrefix("  ") }.map { $0.split(separator: ": ")[1] }
        #expect(names.map(String.init) == DefectClass.names)
        #expect(yaml.contains("path: /data/synth\n"))
        #expect(yaml.contains("nc: 11\n"))
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [(Int, Int)] = []
    func add(_ done: Int, _ total: Int) { lock.withLock { log.append((done, total)) } }
    var calls: [(Int, Int)] { lock.withLock { log } }
}
