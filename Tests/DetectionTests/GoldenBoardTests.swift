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

    @Test func keepsTheDefectsBoxAndDropsADesignFeaturesBox() throws {
        let golden = try sharedGolden.get()
        let defective = board(camera: 1, defects: .classes([.missingComponent, .short, .spuriousCopper]))
        try #require(!defective.labels.isEmpty)
        // A design feature: the same kind of box moved to where the board has no defect.
        let feature = featureBox(on: defective)
        let check = golden.check(defective.labels.map { box($0) } + [feature], in: defective.image)
        #expect(check.registered, "\(check.failure ?? "")")
        #expect(check.suppressed.map(\.box) == [feature], "changed pixels: \(check.kept.map(\.changedPixels)) / suppressed \(check.suppressed.map(\.changedPixels))")
        #expect(check.kept.count == defective.labels.count)
        #expect(check.kept.allSatisfy { $0.changedPixels >= golden.tolerance.changedPixels })
    }

    @Test func aNormalBoardUnderAnotherCameraMatchesEverywhere() throws {
        let golden = try sharedGolden.get()
        let normal = board(camera: 2, defects: .none)
        // Boxes tiling the whole board: none differs.
        var boxes: [DetectedDefect] = []
        for y in stride(from: 20, to: 440, by: 40) {
            for x in stride(from: 20, to: 600, by: 40) {
                boxes.append(DetectedDefect(className: "short", confidence: 0.5, x1: Float(x), y1: Float(y), x2: Float(x + 30), y2: Float(y + 30)))
            }
        }
        let check = golden.check(boxes, in: normal.image)
        #expect(check.registered)
        #expect(check.kept.isEmpty, "kept \(check.kept.map { ($0.box.x1, $0.box.y1, $0.changedPixels) })")
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

    /// A 24x24 box over detailed board area (the golden's design), away from every label.
    func featureBox(on board: SyntheticBoard) -> DetectedDefect {
        let image = board.image
        var best: (score: Double, box: DetectedDefect)? = nil
        for y in stride(from: 30, to: image.height - 54, by: 12) {
            for x in stride(from: 30, to: image.width - 54, by: 12) {
                let candidate = DetectedDefect(className: "short", confidence: 0.9, x1: Float(x), y1: Float(y), x2: Float(x + 24), y2: Float(y + 24))
                let clear = board.labels.allSatisfy { Double(x + 34) < $0.x1 || Double(x - 10) > $0.x2 || Double(y + 34) < $0.y1 || Double(y - 10) > $0.y2 }
                guard clear else { continue }
                var values: [Double] = []
                for yy in y..<(y + 24) { for xx in x..<(x + 24) { values.append(Double(image.pixels[(yy * image.width + xx) * 3 + 1])) } }
                let mean = values.reduce(0, +) / Double(values.count)
                let spread = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                if best == nil || spread > best!.score { best = (spread, candidate) }
            }
        }
        return best!.box
    }
}
