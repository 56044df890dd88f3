// Defect kinds that no detector class covers, painted onto finished photos: for testing that
// the anomaly model stops boards the detector was never taught about (issue 8). They are
// never written into YOLO labels; `pcb dataset synth --novel-defects N` lists them in
// `novel/<image>.txt` as `kind x1 y1 x2 y2` (pixels).
//
//   scratch         a thin bright line through the solder mask (copper showing)
//   burn            a dark, soft-edged scorch blob
//   fibre           a thin dark curved hair or fibre lying on the board
//   flux_residue    a translucent yellowish stain

import Foundation
import ImageKit
import SeededRandom

public struct NovelDefect: Sendable, Equatable {
    public static let kinds = ["scratch", "burn", "fibre", "flux_residue"]

    public var kind: String
    public var x1: Int, y1: Int, x2: Int, y2: Int

    public var line: String { "\(kind) \(x1) \(y1) \(x2) \(y2)" }

    /// Paints `count` novel defects into `image` (deterministic per seed); returns them.
    public static func paint(into image: inout RGBImage, count: Int, seed: UInt64) -> [NovelDefect] {
        var rng = SplitMix64(seed: seed)
        var painted: [NovelDefect] = []
        let w = image.width, h = image.height
        let scale = Float(min(w, h)) / 480
        for _ in 0..<count {
            let kind = rng.pick(kinds)
            let cx = rng.uniform(0.12, 0.88) * Float(w), cy = rng.uniform(0.12, 0.88) * Float(h)
            var box = (x1: Int.max, y1: Int.max, x2: Int.min, y2: Int.min)
            // Blends `colour` into pixel (x, y) with opacity `alpha` (0...1), growing the box.
            func blend(_ x: Int, _ y: Int, _ colour: (Float, Float, Float), _ alpha: Float) {
                guard x >= 0, y >= 0, x < w, y < h, alpha > 0.02 else { return }
                let i = (y * w + x) * 3
                let a = min(1, alpha)
                image.pixels[i] = UInt8(Float(image.pixels[i]) * (1 - a) + colour.0 * a)
                image.pixels[i + 1] = UInt8(Float(image.pixels[i + 1]) * (1 - a) + colour.1 * a)
                image.pixels[i + 2] = UInt8(Float(image.pixels[i + 2]) * (1 - a) + colour.2 * a)
                if alpha > 0.25 { box = (min(box.x1, x), min(box.y1, y), max(box.x2, x), max(box.y2, y)) }
            }
            // A soft round dab of radius r.
            func dab(_ x: Float, _ y: Float, _ r: Float, _ colour: (Float, Float, Float), _ alpha: Float) {
                for py in Int(y - r - 1)...Int(y + r + 1) {
                    for px in Int(x - r - 1)...Int(x + r + 1) {
                        let d = ((Float(px) - x) * (Float(px) - x) + (Float(py) - y) * (Float(py) - y)).squareRoot()
                        blend(px, py, colour, alpha * max(0, min(1, r + 0.5 - d)))
                    }
                }
            }
            switch kind {
            case "scratch":
                let angle = rng.uniform(0, 3.14159), length = rng.uniform(40, 110) * scale
                let (dx, dy) = (cosf(angle), sinf(angle))
                let steps = Int(length * 2)
                let shade = rng.uniform(200, 240)
                for s in 0...steps {
                    let t = Float(s) / Float(steps) - 0.5
                    dab(cx + dx * t * length, cy + dy * t * length, 0.9 * scale, (shade, shade * 0.85, shade * 0.6), 0.9)
                }
            case "burn":
                let r = rng.uniform(6, 13) * scale
                for _ in 0..<6 {
                    let ox = rng.uniform(-r, r) * 0.5, oy = rng.uniform(-r, r) * 0.5
                    dab(cx + ox, cy + oy, r * rng.uniform(0.5, 0.9), (35, 22, 12), 0.75)
                }
                dab(cx, cy, r * 0.45, (12, 8, 5), 0.9)
            case "fibre":
                let length = rng.uniform(60, 140) * scale
                var angle = rng.uniform(0, 6.28318)
                var (x, y) = (cx, cy)
                let shade = rng.uniform(20, 70)
                for _ in 0..<Int(length * 2) {
                    dab(x, y, 0.6 * scale, (shade, shade, shade), 0.85)
                    angle += rng.uniform(-0.08, 0.08)
                    x += cosf(angle) * 0.5
                    y += sinf(angle) * 0.5
                }
            default:  // flux_residue
                let r = rng.uniform(10, 22) * scale
                for _ in 0..<4 {
                    dab(cx + rng.uniform(-r, r) * 0.4, cy + rng.uniform(-r, r) * 0.4, r * rng.uniform(0.6, 1), (225, 200, 110), 0.3)
                }
            }
            if box.x1 <= box.x2 { painted.append(NovelDefect(kind: kind, x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2)) }
        }
        return painted
    }
}
