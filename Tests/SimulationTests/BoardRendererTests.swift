// Synthetic boards: determinism, label validity and that every defect class is drawn where
// its label says. Images are tiny (192x144, zoomed-in boards) to keep debug builds fast.

import Foundation
import ImageKit
import Simulation
import Testing

/// A small render configuration: 192x144 pixels showing about 17x13 mm of board.
func tinyConfig(camera: CameraConfig = CameraConfig()) -> RenderConfig {
    var config = RenderConfig(width: 192, height: 144)
    config.pixelsPerMillimetre = 10...12
    config.camera = camera
    return config
}

@Suite struct BoardRendererTests {
    @Test func sameSeedAndIndexGiveIdenticalPictures() {
        let a = BoardRenderer(seed: 42, config: tinyConfig()).render(index: 3)
        let b = BoardRenderer(seed: 42, config: tinyConfig()).render(index: 3)
        #expect(a.image == b.image)
        #expect(a.labels == b.labels)
        #expect(a.seeds == b.seeds)
    }

    @Test func imageDoesNotDependOnWhatWasRenderedBefore() {
        let renderer = BoardRenderer(seed: 7, config: tinyConfig())
        let direct = renderer.render(index: 5)
        _ = renderer.render(index: 4)
        _ = renderer.render(index: 0)
        #expect(renderer.render(index: 5).image == direct.image)
    }

    @Test func differentSeedsOrIndicesGiveDifferentPictures() {
        let a = BoardRenderer(seed: 1, config: tinyConfig()).render(index: 0)
        let b = BoardRenderer(seed: 2, config: tinyConfig()).render(index: 0)
        let c = BoardRenderer(seed: 1, config: tinyConfig()).render(index: 1)
        #expect(a.image != b.image)
        #expect(a.image != c.image)
        #expect(a.seeds != b.seeds)
    }

    @Test func imageHasTheConfiguredSize() {
        let board = BoardRenderer(seed: 9, config: tinyConfig()).render(index: 0)
        #expect(board.image.width == 192)
        #expect(board.image.height == 144)
        #expect(board.image.pixels.count == 192 * 144 * 3)
    }

    @Test func labelsAreValidBoxesInsideTheImage() throws {
        let renderer = BoardRenderer(seed: 11, config: tinyConfig())
        var total = 0
        for index in 0..<16 {
            let board = renderer.render(index: index, defects: .classes([.short, .coldJoint, .spur, .missingComponent]))
            for label in board.labels {
                total += 1
                #expect((0..<11).contains(label.classIndex))
                #expect(label.x1 >= 0 && label.y1 >= 0)
                #expect(label.x2 <= 192 && label.y2 <= 144)
                #expect(label.x2 - label.x1 >= 3 && label.y2 - label.y1 >= 3)
            }
            let lines = board.yoloLabels.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.last == "")
            #expect(lines.count == board.labels.count + 1)
            for (line, label) in zip(lines, board.labels) {
                let fields = line.split(separator: " ")
                try #require(fields.count == 5)
                #expect(Int(fields[0]) == label.classIndex)
                for field in fields.dropFirst() {
                    let value = try #require(Double(field))
                    #expect(value >= 0 && value <= 1)
                    #expect(field.split(separator: ".").last?.count == 6)
                }
                let cx = Double(fields[1])!, w = Double(fields[3])!
                #expect(abs(cx * 192 - (label.x1 + label.x2) / 2) < 0.01)
                #expect(abs(w * 192 - (label.x2 - label.x1)) < 0.01)
            }
        }
        #expect(total >= 16)
    }

    @Test func yoloLineClipsToTheImage() {
        let label = BoxLabel(classIndex: 4, x1: -10, y1: 20, x2: 30, y2: 200)
        #expect(label.yoloLine(imageWidth: 100, imageHeight: 100) == "4 0.150000 0.600000 0.300000 0.800000")
    }

    @Test func defectFreeBoardsHaveNoLabels() {
        let renderer = BoardRenderer(seed: 5, config: tinyConfig())
        for index in 0..<4 {
            let board = renderer.render(index: index, defects: .none)
            #expect(board.labels.isEmpty)
            #expect(board.yoloLabels.isEmpty)
        }
        var config = tinyConfig()
        config.defectRate = 0
        let clean = BoardRenderer(seed: 5, config: config)
        for index in 0..<4 { #expect(clean.render(index: index).labels.isEmpty) }
    }

    @Test func randomRequestsFollowTheDefectRate() {
        var config = tinyConfig(camera: .ideal)
        config.defectRate = 1
        let renderer = BoardRenderer(seed: 21, config: config)
        var withDefects = 0
        for index in 0..<8 where !renderer.render(index: index).labels.isEmpty { withDefects += 1 }
        #expect(withDefects >= 6)
    }

    @Test(arguments: DefectClass.allCases)
    func requestedDefectIsDrawnInsideItsBox(_ defect: DefectClass) throws {
        // An ideal camera, so the two renders differ only where something was drawn.
        let renderer = BoardRenderer(seed: 100 + UInt64(defect.rawValue), config: tinyConfig(camera: .ideal))
        var found: (SyntheticBoard, SyntheticBoard)? = nil
        for index in 0..<12 {
            let board = renderer.render(index: index, defects: .classes([defect]))
            if !board.labels.isEmpty {
                found = (board, renderer.render(index: index, defects: .none))
                break
            }
        }
        let (board, clean) = try #require(found, "no board could take a \(defect)")
        #expect(board.labels.count == 1)
        let label = board.labels[0]
        #expect(label.classIndex == defect.rawValue)
        let diff = Difference(board.image, clean.image)
        // The box covers a real change...
        let inside = diff.mean(x1: label.x1, y1: label.y1, x2: label.x2, y2: label.y2)
        #expect(inside > 4, "mean difference \(inside) inside the \(defect) box")
        // ...and nearly all of the change lies in (or right next to) the box.
        let near = diff.sum(x1: label.x1 - 3, y1: label.y1 - 3, x2: label.x2 + 3, y2: label.y2 + 3)
        #expect(near >= 0.8 * diff.total, "only \(near / max(diff.total, 1)) of the change is at the \(defect) box")
    }

    @Test func sameLayoutUnderAnotherCamera() {
        let renderer = BoardRenderer(seed: 31, config: tinyConfig())
        let seeds = renderer.seeds(forIndex: 2)
        let left = renderer.render(seeds: seeds, defects: .classes([.missingComponent]))
        let right = renderer.render(seeds: seeds.cameraVariant(1), defects: .classes([.missingComponent]))
        #expect(seeds.cameraVariant(0) == seeds)
        #expect(right.seeds.layout == left.seeds.layout && right.seeds.defects == left.seeds.defects)
        #expect(right.seeds.camera != left.seeds.camera)
        #expect(left.image != right.image)
        #expect(left.labels.map(\.classIndex) == right.labels.map(\.classIndex))
        // Same board: with an ideal camera both views are pixel-identical.
        let ideal = BoardRenderer(seed: 31, config: tinyConfig(camera: .ideal))
        #expect(ideal.render(seeds: seeds).image == ideal.render(seeds: seeds.cameraVariant(1)).image)
    }

    @Test func contrastMeasuresTheLuminanceStepInsideTheBox() {
        let clean = RGBImage(width: 20, height: 20, pixels: [UInt8](repeating: 100, count: 20 * 20 * 3))
        var pixels = clean.pixels
        for y in 5..<8 { for x in 5..<8 { for c in 0..<3 { pixels[3 * (y * 20 + x) + c] = 130 } } }  // a 3x3 step of +30
        pixels[3 * (15 * 20 + 15) + 1] = 190  // one pixel, green only: +90 * 0.587 luminance, over 9 pixels
        let board = SyntheticBoard(image: RGBImage(width: 20, height: 20, pixels: pixels), labels: [], seeds: BoardSeeds(layout: 0, defects: 0, camera: 0))
        let step = BoxLabel(classIndex: 9, x1: 4, y1: 4, x2: 9, y2: 9)
        let dot = BoxLabel(classIndex: 10, x1: 13, y1: 13, x2: 18, y2: 18)
        #expect(abs(board.contrast(of: step, against: clean) - 30) < 1e-9)
        #expect(abs(board.contrast(of: dot, against: clean) - 90 * 0.587 / 9) < 1e-9)
        #expect(board.contrast(of: BoxLabel(classIndex: 0, x1: 10, y1: 0, x2: 13, y2: 3), against: clean) == 0)
        #expect(SyntheticBoard(image: clean, labels: [], seeds: board.seeds).contrast(of: step, against: clean) == 0)
    }

    @Test func thinCopperDefectsStandOutOfSensorNoise() {
        // A real camera (pose, light, blur, noise). `labelVisibility` renders the same seeds with
        // `.none`, which share all of it, so the contrast is the defect alone; its noise figure is
        // the same measure between that clean board and a noise-free shot of it.
        let renderer = BoardRenderer(seed: 77, config: tinyConfig())
        let thin: [DefectClass] = [.spur, .mouseBite, .short, .spuriousCopper, .openCircuit, .pinHole]
        var measured = 0
        for index in 0..<6 {
            let board = renderer.render(index: index, defects: .classes([thin[index], thin[(index + 3) % thin.count]]))
            for (label, v) in zip(board.labels, renderer.labelVisibility(of: board)) {
                #expect(v.contrast >= 2 * v.noise && v.contrast >= 10, "label \(label): contrast \(v.contrast), noise alone \(v.noise)")
                measured += 1
            }
        }
        #expect(measured >= 6)
    }

    @Test func classNamesMatchThePolicyOrder() {
        #expect(DefectClass.names == [
            "missing_component", "open_circuit", "short", "cold_joint", "solder_bridge", "insufficient_solder",
            "damaged_pad", "spurious_copper", "mouse_bite", "spur", "pin_hole",
        ])
        #expect(DefectClass(name: "spur") == .spur)
        #expect(DefectClass.pinHole.rawValue == 10)
    }
}

/// Per-pixel absolute difference of two pictures (summed over channels).
struct Difference {
    let width: Int, height: Int
    let values: [Double]

    init(_ a: RGBImage, _ b: RGBImage) {
        width = a.width; height = a.height
        var v = [Double](repeating: 0, count: a.width * a.height)
        for i in 0..<v.count {
            v[i] = (0..<3).reduce(0.0) { $0 + abs(Double(a.pixels[3 * i + $1]) - Double(b.pixels[3 * i + $1])) }
        }
        values = v
    }

    var total: Double { values.reduce(0, +) }

    func sum(x1: Double, y1: Double, x2: Double, y2: Double) -> Double {
        var s = 0.0
        for y in max(0, Int(y1.rounded(.down)))..<min(height, Int(y2.rounded(.up))) {
            for x in max(0, Int(x1.rounded(.down)))..<min(width, Int(x2.rounded(.up))) { s += values[y * width + x] }
        }
        return s
    }

    func mean(x1: Double, y1: Double, x2: Double, y2: Double) -> Double {
        let area = max(1, (min(Double(height), y2.rounded(.up)) - max(0, y1.rounded(.down))) * (min(Double(width), x2.rounded(.up)) - max(0, x1.rounded(.down))))
        return sum(x1: x1, y1: y1, x2: x2, y2: y2) / area
    }
}
