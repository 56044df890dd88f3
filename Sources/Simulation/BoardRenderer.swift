// Synthetic colour photos of PCB regions with injected defects and exact YOLO labels.
//
// A render is a pure function of three seeds: the layout seed (what is on the board), the
// defect seed (which defects, where) and the camera seed (pose, light, noise). Image k of a
// renderer with base seed S derives all three from (S, k), so it is the same however many
// images were rendered before it; the same board can be shot again by another camera by
// changing only the camera seed.

import Foundation
import ImageKit
import SeededRandom

/// The three independent seeds of one render.
public struct BoardSeeds: Sendable, Hashable, Codable {
    public var layout: UInt64
    public var defects: UInt64
    public var camera: UInt64

    public init(layout: UInt64, defects: UInt64, camera: UInt64) {
        self.layout = layout
        self.defects = defects
        self.camera = camera
    }

    /// The same board and defects under another camera.
    public func withCamera(_ camera: UInt64) -> BoardSeeds { BoardSeeds(layout: layout, defects: defects, camera: camera) }

    /// The same board and defects seen by camera number `variant` (0 is this camera).
    public func cameraVariant(_ variant: Int) -> BoardSeeds {
        variant == 0 ? self : withCamera(SplitMix64.derive(camera, 0xCA3E_0000, UInt64(variant)))
    }
}

/// What the renderer produces.
public struct RenderConfig: Sendable, Equatable {
    public var width: Int = 640
    public var height: Int = 480
    /// Fraction of `.random` renders with at least one defect.
    public var defectRate: Double = 0.75
    /// Most defects in one `.random` render.
    public var maxDefectsPerImage: Int = 4
    /// Board scale range; nil means 10...18 px/mm at 640x480, scaled with the image size.
    public var pixelsPerMillimetre: ClosedRange<Float>? = nil
    public var camera = CameraConfig()
    /// Smallest label box side at 640x480 (scaled with the image size, at least 3 px).
    public var minimumBoxSide: Double = 8

    public init(width: Int = 640, height: Int = 480, defectRate: Double = 0.75) {
        self.width = width
        self.height = height
        self.defectRate = defectRate
    }

    var scale: Float { min(Float(width) / 640, Float(height) / 480) }
    var boardScale: ClosedRange<Float> { pixelsPerMillimetre ?? (10 * scale)...(18 * scale) }
}

/// Renders synthetic boards; a value type, safe to share across threads.
public struct BoardRenderer: Sendable {
    public let seed: UInt64
    public let config: RenderConfig

    public init(seed: UInt64, config: RenderConfig = RenderConfig()) {
        precondition(config.width >= 32 && config.height >= 32, "image must be at least 32x32")
        self.seed = seed
        self.config = config
    }

    /// Seeds of image `index`.
    public func seeds(forIndex index: Int) -> BoardSeeds {
        let i = UInt64(bitPattern: Int64(index))
        return BoardSeeds(layout: SplitMix64.derive(seed, i, 1), defects: SplitMix64.derive(seed, i, 2), camera: SplitMix64.derive(seed, i, 3))
    }

    /// Image `index` of this renderer.
    public func render(index: Int, defects: DefectRequest = .random) -> SyntheticBoard {
        render(seeds: seeds(forIndex: index), defects: defects)
    }

    /// A board from explicit seeds (for example the same layout under two cameras).
    public func render(seeds: BoardSeeds, defects: DefectRequest = .random) -> SyntheticBoard {
        let w = config.width, h = config.height
        let margin = CameraModel.margin(width: w, height: h, config: config.camera)
        let inset = CameraModel.safeInset(width: w, height: h, config: config.camera)
        var generator = LayoutGenerator(seed: seeds.layout, width: w, height: h, margin: margin,
                                        pixelsPerMM: config.boardScale, safeInset: inset)
        let layout = generator.generate()
        // Free space is judged on the defect-free copper, then the defects change a copy.
        let probe = BoardPainter(layout: layout)
        probe.buildCopper()
        var planner = DefectPlanner(seed: seeds.defects, layout: layout, copper: probe.copper)
        planner.plan(defects, rate: config.defectRate, maxCount: config.maxDefectsPerImage)
        let painter = BoardPainter(layout: planner.layout)
        painter.buildCopper()
        painter.paint(defects: planner.planned)
        let camera = CameraModel(seed: seeds.camera, config: config.camera, width: w, height: h,
                                 canvasWidth: layout.canvasWidth, canvasHeight: layout.canvasHeight)
        let image = camera.develop(painter.canvas)
        var labels: [BoxLabel] = []
        let minSide = max(3, config.minimumBoxSide * Double(config.scale))
        for (k, planned) in planner.planned.enumerated() {
            guard let mask = painter.masks[k], let (box, count) = camera.box(of: mask, threshold: 0.3), count >= 3 else { continue }
            if let label = Self.label(planned.defectClass, box.outset(1), minSide: minSide, width: w, height: h) { labels.append(label) }
        }
        return SyntheticBoard(image: image, labels: labels, seeds: seeds)
    }

    /// How visible each of `board`'s labels is (`SyntheticBoard.contrast`), next to what sensor
    /// noise alone reaches in the same box: renders the board's seeds again without defects, and
    /// once more without defects or noise. Two extra renders; none for a defect-free board.
    public func labelVisibility(of board: SyntheticBoard) -> [(contrast: Double, noise: Double)] {
        guard !board.labels.isEmpty else { return [] }
        var quiet = config
        quiet.camera.noise = 0...0
        let clean = render(seeds: board.seeds, defects: .none)
        let noiseless = BoardRenderer(seed: seed, config: quiet).render(seeds: board.seeds, defects: .none).image
        return board.labels.map { (board.contrast(of: $0, against: clean.image), clean.contrast(of: $0, against: noiseless)) }
    }

    /// Clips to the image and enforces the minimum side (growing around the centre).
    static func label(_ c: DefectClass, _ box: Box, minSide: Double, width: Int, height: Int) -> BoxLabel? {
        func fit(_ lo: Double, _ hi: Double, _ limit: Double) -> (Double, Double)? {
            var a = max(0, lo), b = min(limit, hi)
            guard b > a else { return nil }
            if b - a < minSide {
                let mid = (a + b) / 2
                a = mid - minSide / 2; b = mid + minSide / 2
                if a < 0 { b -= a; a = 0 }
                if b > limit { a -= b - limit; b = limit }
                a = max(0, a)
            }
            return (a, b)
        }
        guard let (x1, x2) = fit(Double(box.x0), Double(box.x1), Double(width)),
              let (y1, y2) = fit(Double(box.y0), Double(box.y1), Double(height)) else { return nil }
        return BoxLabel(classIndex: c.rawValue, x1: x1, y1: y1, x2: x2, y2: y2)
    }
}
