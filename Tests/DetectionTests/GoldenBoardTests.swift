// Golden-board verification on rendered boards of one product: the golden board and a
// defective board are the same design under different cameras (pose, exposure, colour, noise).

import Foundation
import ImageKit
import Inspection
import SeededRandom
import Simulation
import Testing
@testable import Detection

// At the line's frame size (640x480): registration and the tolerances are set for it.
private let renderer = BoardRenderer(seed: 77, config: RenderConfig(width: 640, height: 480, defectRate: 1))
private let layout = SplitMix64.derive(77, 0x601D)

private func board(camera index: Int, defects: DefectRequest) -> SyntheticBoard {
    var seeds = renderer.seeds(forIndex: index)
    seeds.layout = layout
    return renderer.render(seeds: seeds, defects: defects)
}

/// The product's golden board, made once for the suite (slow in debug builds).
private let sharedGolden = Result { try GoldenBoard(reference: board(camera: 0, defects: .none).image) }

@Suite struct GoldenBoardTests {
    func box(_ label: BoxLabel, _ name: String = "short") -> DetectedDefect {
        DetectedDefect(className: name, confidence: 0.9, x1: Float(label.x1), y1: Float(label.y1), x2: Float(label.x2), y2: Float(label.y2))
    }

    @Test func keepsTheDefectsBoxesAndDropsTheSameBoxesOnAGoodBoard() throws {
        let golden = try sharedGolden.get()
        let defective = board(camera: 1, defects: .classes([.missingComponent, .short, .spuriousCopper]))
        try #require(!defective.labels.isEmpty)
        let boxes = defective.labels.map { box($0) }
        // On the defective board every defect's region differs from the golden board: kept.
        let onDefective = golden.check(boxes, in: defective.image)
        #expect(onDefective.registered, "\(onDefective.failure ?? "")")
        #expect(onDefective.kept.count == boxes.count, "changed pixels: kept \(onDefective.kept.map(\.changedPixels)), suppressed \(onDefective.suppressed.map(\.changedPixels))")
        // The same boxes on a good board of the product (another camera pose and exposure) lie
        // over the design as the golden board shows it: the detector would have been wrong, suppressed.
        let onGood = golden.check(boxes, in: board(camera: 2, defects: .none).image)
        #expect(onGood.registered)
        #expect(onGood.kept.isEmpty, "changed pixels: kept \(onGood.kept.map(\.changedPixels))")
    }

    @Test func aGoodBoardUnderAnotherCameraMatchesAlmostEverywhere() throws {
        let golden = try sharedGolden.get()
        let normal = board(camera: 2, defects: .none)
        // Boxes tiling the whole board, 30 px each.
        var boxes: [DetectedDefect] = []
        for y in stride(from: 20, to: 440, by: 40) {
            for x in stride(from: 20, to: 600, by: 40) {
                boxes.append(DetectedDefect(className: "short", confidence: 0.5, x1: Float(x), y1: Float(y), x2: Float(x + 30), y2: Float(y + 30)))
            }
        }
        let check = golden.check(boxes, in: normal.image)
        #expect(check.registered)
        // Measured on this pair: 151 of 165 tiles match (the rest are sharp edges under a
        // different blur); the line only ever checks the few places the detector fires on.
        #expect(check.suppressed.count * 100 >= boxes.count * 85, "kept \(check.kept.map(\.changedPixels).sorted())")
    }

    @Test func anAnomalyFiringCountsOnlyWhereACellItFiredOnDiffers() throws {
        let golden = try sharedGolden.get()
        let defective = board(camera: 1, defects: .classes([.missingComponent, .short]))
        try #require(!defective.labels.isEmpty)
        // The anomaly model's cells: one over a defect, one over an unchanged part of the design.
        let overDefect = defective.labels.map { (x1: Double($0.x1), y1: Double($0.y1), x2: Double($0.x2), y2: Double($0.y2)) }[0]
        let good = board(camera: 2, defects: .none).image
        let onGood = golden.check([], in: good, anomalyCells: [overDefect])
        // On a good board that cell matches the golden board: the firing does not count,
        #expect(onGood.registered && onGood.anomalyCellsChecked == 1 && onGood.anomalyCellsChanged == 0)
        #expect(onGood.anomalyVetted && !onGood.anomalyCounts(fired: true))
        // on the defective board it differs: the firing stands.
        let onDefective = golden.check([], in: defective.image, anomalyCells: [overDefect])
        #expect(onDefective.registered && onDefective.anomalyCellsChanged == 1 && !onDefective.anomalyVetted && onDefective.anomalyCounts(fired: true))
        // No cells given, or a frame that does not register: the firing stands as the model said.
        #expect(golden.check([], in: good).anomalyCounts(fired: true) && !golden.check([], in: good).anomalyCounts(fired: false))
        let small = golden.check([], in: RGBImage(width: 160, height: 120, fill: (0, 0, 0)), anomalyCells: [overDefect])
        #expect(!small.registered && small.anomalyCounts(fired: true))
    }

    @Test func anotherProductOrSizeIsJudgedByTheDetectorAlone() throws {
        let golden = try sharedGolden.get()
        let other = BoardRenderer(seed: 5, config: RenderConfig(width: 640, height: 480, defectRate: 0)).render(index: 3)
        let boxes = [DetectedDefect(className: "short", confidence: 0.9, x1: 10, y1: 10, x2: 40, y2: 40)]
        let check = golden.check(boxes, in: other.image)
        #expect(!check.registered && check.kept.count == 1 && check.suppressed.isEmpty, "correlation \(check.correlation)")
        let small = golden.check(boxes, in: RGBImage(width: 160, height: 120, fill: (0, 0, 0)))
        #expect(!small.registered && small.failure?.contains("160x120") == true)
    }

    @Test func unusableGoldenBoardsAreRefused() {
        #expect(throws: DetectionError.self) { try GoldenBoard(reference: RGBImage(width: 160, height: 120, fill: (40, 120, 60))) }
        #expect(throws: DetectionError.self) { try GoldenBoard(reference: RGBImage(width: 40, height: 30, fill: (40, 120, 60))) }
    }
}
