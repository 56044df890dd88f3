// Novel defect kinds (for the anomaly model's test): deterministic, inside the image, visible,
// and kept out of the YOLO labels.

import Foundation
import ImageKit
import Testing
@testable import Simulation

@Suite struct NovelDefectTests {
    @Test func paintingIsDeterministicVisibleAndBoxed() {
        let base = RGBImage(width: 160, height: 120, fill: (20, 90, 40))
        var a = base, b = base
        let first = NovelDefect.paint(into: &a, count: 3, seed: 11)
        let second = NovelDefect.paint(into: &b, count: 3, seed: 11)
        #expect(first == second && a == b)
        #expect(!first.isEmpty && a != base)
        for defect in first {
            #expect(NovelDefect.kinds.contains(defect.kind))
            #expect(0 <= defect.x1 && defect.x1 <= defect.x2 && defect.x2 < 160 && 0 <= defect.y1 && defect.y1 <= defect.y2 && defect.y2 < 120)
        }
        // Every kind appears over a few seeds.
        var kinds = Set<String>()
        for seed in 0..<40 { var image = base; kinds.formUnion(NovelDefect.paint(into: &image, count: 1, seed: UInt64(seed)).map(\.kind)) }
        #expect(kinds == Set(NovelDefect.kinds))
    }

    @Test func datasetListsNovelDefectsApartFromTheLabels() throws {
        let directory = NSTemporaryDirectory() + "pcb-novel-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try SyntheticDataset.write(to: directory, count: 2, seed: 3, size: ImageSize(width: 96, height: 72), valFraction: 0,
                                       defectRate: 0, layoutSeed: 9, novelDefects: 1)
        let novel = try FileManager.default.contentsOfDirectory(atPath: directory + "/novel").sorted()
        #expect(novel.count == 2)
        let line = try String(contentsOfFile: directory + "/novel/" + novel[0], encoding: .utf8)
        #expect(NovelDefect.kinds.contains(String(line.split(separator: " ")[0])))
        let labels = try FileManager.default.contentsOfDirectory(atPath: directory + "/labels/train")
        for file in labels {
            #expect(try String(contentsOfFile: directory + "/labels/train/" + file, encoding: .utf8).isEmpty, "novel kinds never become labels")
        }
    }
}
