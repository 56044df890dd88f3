// Golden-board verification: a known-good picture of the product on the line, and the check
// that a detection's region really differs from it. AOI machines compare every board with
// such a reference; here it vets the detector's boxes: a box whose region matches the golden
// board (once the frame is registered to it) is a design feature the model mistook for a
// defect, and is suppressed; a box over a real change is kept.
//
//   frame ──BoardRegistration──► affine map golden -> frame (shift, turn, zoom of the conveyor)
//         ──photometric fit────► per channel, frame ≈ gain · golden + offset (exposure, colour cast);
//                                 the offset again around each box (a ring outside it: uneven light)
//   box   ──each pixel─────────► deviation from the golden's 3x3 neighbourhood [min, max] at
//                                 the registered place (so sub-pixel misregistration and blur
//                                 at copper edges do not count), over the three channels
//         ──count──────────────► pixels deviating by more than `tolerance.deviation`;
//                                 fewer than `tolerance.changedPixels`: the region matches, suppress.
//   anomaly cells ─────────────► the anomaly model's cells above its threshold, checked the same
//                                 way: when none differs, its firing does not count either.
//
// A frame that does not register (another product, a board far off its pose, another size) is
// judged by the detector alone; the caller counts and logs it.

import Foundation
import ImageKit
import Inspection

/// How different a region must be from the golden board to count as a defect.
public struct GoldenTolerance: Sendable, Equatable {
    /// Per-channel deviation (0...1 of the full range) beyond the golden's neighbourhood that
    /// counts a pixel as changed; sensor noise stays below it.
    public var deviation: Float = 0.09
    /// Changed pixels a box needs to be kept.
    public var changedPixels: Int = 5
    /// Registration quality below which a frame counts as not registered (another product).
    public var minimumCorrelation: Double = 0.5
    /// Pixels around each box that are checked too (the detector's boxes can be tight).
    public var boxMargin: Int = 2
    /// Misregistration and blur forgiven, in pixels: a frame pixel is compared with the golden's
    /// (2r+1) x (2r+1) neighbourhood at its registered place.
    public var neighbourhoodRadius: Int = 1
    /// Width of the ring outside the checked region whose median sets the local brightness.
    public var ringWidth: Int = 8

    public init() {}
}

/// The finding of one frame against the golden board.
public struct GoldenCheck: Sendable {
    /// One box and how much of its region differs from the golden board.
    public struct Box: Sendable {
        public var box: DetectedDefect
        /// Pixels of the region that deviate from the golden board.
        public var changedPixels: Int
        /// Pixels checked (inside both pictures).
        public var checkedPixels: Int
    }

    /// Whether the frame registered to the golden board (otherwise every box is kept).
    public var registered: Bool
    /// Why it did not, when it did not.
    public var failure: String?
    /// Registration quality (-1...1).
    public var correlation: Double
    public var kept: [Box]
    public var suppressed: [Box]
    /// The anomaly model's cells above its threshold that were checked, and those of them whose
    /// region differs from the golden board (0 and 0 when none were given).
    public var anomalyCellsChecked = 0
    public var anomalyCellsChanged = 0

    /// The boxes the verdict counts.
    public var keptBoxes: [DetectedDefect] { kept.map(\.box) }

    /// The anomaly model fired, but every cell it fired on matches the golden board: the firing
    /// is a design feature it scored too high, and does not count.
    public var anomalyVetted: Bool { registered && anomalyCellsChecked > 0 && anomalyCellsChanged == 0 }

    /// Whether an anomaly firing (`fired`) counts in the verdict after this check.
    public func anomalyCounts(fired: Bool) -> Bool { fired && !anomalyVetted }
}

/// A golden board of one product, ready to check frames of it.
public struct GoldenBoard: Sendable {
    public let width: Int
    public let height: Int
    public var tolerance: GoldenTolerance
    private let registration: BoardRegistration
    /// Per channel (R, G, B): the golden's values (0...1) and the min and max of each 3x3 neighbourhood.
    private let channels: [[Float]]
    private let minimum: [[Float]]
    private let maximum: [[Float]]

    /// Takes `image` (a defect-free board of the product, as the camera sees it) as the golden board.
    public init(reference image: RGBImage, tolerance: GoldenTolerance = GoldenTolerance()) throws {
        do {
            registration = try BoardRegistration(reference: image, factor: 4)
        } catch {
            throw DetectionError.golden("golden board \(image.width)x\(image.height) cannot be used: \(error)")
        }
        width = image.width
        height = image.height
        self.tolerance = tolerance
        var channels = [[Float]](repeating: [Float](repeating: 0, count: width * height), count: 3)
        for i in 0..<(width * height) {
            for c in 0..<3 { channels[c][i] = Float(image.pixels[i * 3 + c]) / 255 }
        }
        self.channels = channels
        func spread(_ plane: [Float], _ pick: (Float, Float) -> Float) -> [Float] {
            var out = plane
            for _ in 0..<max(1, tolerance.neighbourhoodRadius) { out = Self.neighbourhood(out, width: image.width, height: image.height, pick: pick) }
            return out
        }
        minimum = channels.map { spread($0, min) }
        maximum = channels.map { spread($0, max) }
        // A flat picture has nothing to register on: the registration would "converge" anywhere.
        let spread = channels[1].max()! - channels[1].min()!
        guard spread > 0.1 else {
            throw DetectionError.golden("golden board has no detail to register on (its brightness spans \(Int(spread * 255)) levels): is it a board?")
        }
    }

    /// Checks `boxes` (frame pixels) of `frame` against the golden board, and the anomaly model's
    /// cells above its threshold (`anomalyCells`, frame pixels), in one registration.
    public func check(_ boxes: [DetectedDefect], in frame: RGBImage,
                      anomalyCells: [(x1: Double, y1: Double, x2: Double, y2: Double)] = []) -> GoldenCheck {
        func unregistered(_ why: String, _ correlation: Double = 0) -> GoldenCheck {
            GoldenCheck(registered: false, failure: why, correlation: correlation,
                        kept: boxes.map { GoldenCheck.Box(box: $0, changedPixels: 0, checkedPixels: 0) }, suppressed: [])
        }
        guard frame.width == width, frame.height == height else {
            return unregistered("frame is \(frame.width)x\(frame.height), the golden board \(width)x\(height)")
        }
        let result: BoardRegistration.Result
        do { result = try registration.register(frame) } catch { return unregistered("\(error)") }
        guard result.converged, result.correlation >= tolerance.minimumCorrelation, let toGolden = result.map.inverted() else {
            return unregistered(String(format: "frame does not register to the golden board (correlation %.2f): another product, or far off its pose",
                                       result.correlation), result.correlation)
        }
        let fits = photometricFit(frame, toGolden: toGolden)
        var kept: [GoldenCheck.Box] = [], suppressed: [GoldenCheck.Box] = []
        for box in boxes {
            let (changed, checked) = changedPixels(in: box, frame: frame, toGolden: toGolden, fits: fits)
            let entry = GoldenCheck.Box(box: box, changedPixels: changed, checkedPixels: checked)
            if matches(changed: changed, checked: checked) { suppressed.append(entry) } else { kept.append(entry) }
        }
        var check = GoldenCheck(registered: true, failure: nil, correlation: result.correlation, kept: kept, suppressed: suppressed)
        for cell in anomalyCells {
            let region = DetectedDefect(className: "anomaly", confidence: 1, x1: Float(cell.x1), y1: Float(cell.y1), x2: Float(cell.x2), y2: Float(cell.y2))
            let (changed, checked) = changedPixels(in: region, frame: frame, toGolden: toGolden, fits: fits)
            check.anomalyCellsChecked += 1
            if !matches(changed: changed, checked: checked) { check.anomalyCellsChanged += 1 }
        }
        return check
    }

    /// Whether a region with `changed` of `checked` pixels off the golden board matches it. A
    /// region that left the golden picture (checked 0) cannot be vetted: it does not match.
    private func matches(changed: Int, checked: Int) -> Bool { checked > 0 && changed < tolerance.changedPixels }

    /// Per channel, frame ≈ gain · golden + offset, by least squares over a grid of registered pixels.
    private func photometricFit(_ frame: RGBImage, toGolden: AffineMap) -> [(gain: Float, offset: Float)] {
        var sums = [(g: Double, f: Double, gg: Double, gf: Double, n: Double)](repeating: (0, 0, 0, 0, 0), count: 3)
        let step = 8
        for y in stride(from: step / 2, to: height, by: step) {
            for x in stride(from: step / 2, to: width, by: step) {
                guard let gi = goldenIndex(x, y, toGolden) else { continue }
                for c in 0..<3 {
                    let g = Double(channels[c][gi]), f = Double(frame.pixels[(y * width + x) * 3 + c]) / 255
                    sums[c].g += g; sums[c].f += f; sums[c].gg += g * g; sums[c].gf += g * f; sums[c].n += 1
                }
            }
        }
        return sums.map { s in
            let denominator = s.n * s.gg - s.g * s.g
            guard s.n > 16, denominator > 1e-9 else { return (1, 0) }
            let gain = min(3, max(0.3, (s.n * s.gf - s.g * s.f) / denominator))
            return (Float(gain), Float((s.f - gain * s.g) / s.n))
        }
    }

    /// Changed and checked pixels of a box's region (with the margin).
    private func changedPixels(in box: DetectedDefect, frame: RGBImage, toGolden: AffineMap,
                               fits: [(gain: Float, offset: Float)]) -> (changed: Int, checked: Int) {
        let m = Float(tolerance.boxMargin)
        let x0 = max(0, Int((box.x1 - m).rounded(.down))), x1 = min(width, Int((box.x2 + m).rounded(.up)))
        let y0 = max(0, Int((box.y1 - m).rounded(.down))), y1 = min(height, Int((box.y2 + m).rounded(.up)))
        guard x0 < x1, y0 < y1 else { return (0, 0) }
        // Local brightness: the median residual on a ring outside the region, so that light
        // falling off across the board (vignetting, a hot spot) does not read as a change and a
        // defect inside the region does not pull its own reference.
        var fits = fits
        let r = tolerance.ringWidth
        let rx0 = max(0, x0 - r), rx1 = min(width, x1 + r), ry0 = max(0, y0 - r), ry1 = min(height, y1 + r)
        var residuals: [[Float]] = [[], [], []]
        for y in stride(from: ry0, to: ry1, by: 2) {
            for x in stride(from: rx0, to: rx1, by: 2) where x < x0 || x >= x1 || y < y0 || y >= y1 {
                guard let gi = goldenIndex(x, y, toGolden) else { continue }
                for c in 0..<3 {
                    residuals[c].append(Float(frame.pixels[(y * width + x) * 3 + c]) / 255 - fits[c].gain * channels[c][gi])
                }
            }
        }
        for c in 0..<3 where residuals[c].count >= 8 {
            let sorted = residuals[c].sorted()
            fits[c].offset = sorted[sorted.count / 2]
        }
        var changed = 0, checked = 0
        for y in y0..<y1 {
            for x in x0..<x1 {
                guard let gi = goldenIndex(x, y, toGolden) else { continue }
                checked += 1
                var worst: Float = 0
                for c in 0..<3 {
                    let f = Float(frame.pixels[(y * width + x) * 3 + c]) / 255
                    let low = fits[c].gain * minimum[c][gi] + fits[c].offset
                    let high = fits[c].gain * maximum[c][gi] + fits[c].offset
                    worst = max(worst, f - high, low - f)
                }
                if worst > tolerance.deviation { changed += 1 }
            }
        }
        return (changed, checked)
    }

    /// The golden pixel shown at frame pixel (x, y), nil when it is off the golden picture.
    @inline(__always) private func goldenIndex(_ x: Int, _ y: Int, _ toGolden: AffineMap) -> Int? {
        let p = toGolden.apply(Double(x) + 0.5, Double(y) + 0.5)
        let gx = Int(p.x.rounded(.down)), gy = Int(p.y.rounded(.down))
        guard gx >= 0, gy >= 0, gx < width, gy < height else { return nil }
        return gy * width + gx
    }

    /// The min (or max) of each pixel's 3x3 neighbourhood, clipped at the edges.
    static func neighbourhood(_ plane: [Float], width: Int, height: Int, pick: (Float, Float) -> Float) -> [Float] {
        var rows = plane
        for y in 0..<height {
            for x in 0..<width {
                var v = plane[y * width + x]
                if x > 0 { v = pick(v, plane[y * width + x - 1]) }
                if x + 1 < width { v = pick(v, plane[y * width + x + 1]) }
                rows[y * width + x] = v
            }
        }
        var out = rows
        for y in 0..<height {
            for x in 0..<width {
                var v = rows[y * width + x]
                if y > 0 { v = pick(v, rows[(y - 1) * width + x]) }
                if y + 1 < height { v = pick(v, rows[(y + 1) * width + x]) }
                out[y * width + x] = v
            }
        }
        return out
    }
}
