// Floating-point drawing surfaces: a colour canvas and single-channel planes, with
// anti-aliased shape painting and per-defect visibility masks.
//
// While a defect is drawn, the canvas records how strongly each pixel was changed into that
// defect's mask; anything opaque drawn later over it (a component body, silkscreen) lowers
// the mask again. The label box is taken from what remains, so it covers exactly the part of
// the defect that the camera can see.

import Foundation

/// Where one defect changed the picture, 0...1 per canvas pixel.
final class DefectMask {
    let width: Int, height: Int
    let data: UnsafeMutablePointer<Float>
    /// Bounds of written pixels: x in x0..<x1, y in y0..<y1 (empty when x1 <= x0).
    private(set) var x0 = Int.max, y0 = Int.max, x1 = Int.min, y1 = Int.min

    init(width: Int, height: Int) {
        self.width = width; self.height = height
        data = .allocate(capacity: width * height)
        data.initialize(repeating: 0, count: width * height)
    }
    deinit { data.deallocate() }

    var isEmpty: Bool { x1 <= x0 || y1 <= y0 }

    @inline(__always) func touch(_ xa: Int, _ ya: Int, _ xb: Int, _ yb: Int) {
        x0 = min(x0, xa); y0 = min(y0, ya); x1 = max(x1, xb); y1 = max(y1, yb)
    }

    func overlaps(_ xa: Int, _ ya: Int, _ xb: Int, _ yb: Int) -> Bool {
        !isEmpty && xa < x1 && x0 < xb && ya < y1 && y0 < yb
    }

    /// Number of pixels at or above `threshold`.
    func count(threshold: Float) -> Int {
        guard !isEmpty else { return 0 }
        var n = 0
        for y in y0..<y1 { for x in x0..<x1 where data[y * width + x] >= threshold { n += 1 } }
        return n
    }
}

/// Integer pixel range covered by a shape's bounds grown by `margin`, clipped to the surface.
@inline(__always)
private func pixelRange(_ b: Box, margin: Float, width: Int, height: Int) -> (Int, Int, Int, Int)? {
    let xa = max(0, Int(floorf(b.x0 - margin))), ya = max(0, Int(floorf(b.y0 - margin)))
    let xb = min(width, Int(ceilf(b.x1 + margin)) + 1), yb = min(height, Int(ceilf(b.y1 + margin)) + 1)
    return xa < xb && ya < yb ? (xa, ya, xb, yb) : nil
}

@inline(__always)
private func coverage(_ d: Float, soft: Float) -> Float { clamp01(0.5 - d / soft) }

/// A single-channel float image (copper coverage, keep-outs, lighting fields).
final class Plane {
    let width: Int, height: Int
    let data: UnsafeMutablePointer<Float>

    init(width: Int, height: Int, value: Float = 0) {
        self.width = width; self.height = height
        data = .allocate(capacity: width * height)
        data.initialize(repeating: value, count: width * height)
    }
    deinit { data.deallocate() }

    @inline(__always) subscript(x: Int, y: Int) -> Float {
        get { data[y * width + x] }
        set { data[y * width + x] = newValue }
    }

    /// Bilinear sample at a continuous position (pixel centres at +0.5), clamped at the borders.
    func sample(_ p: Vec2) -> Float {
        let fx = min(max(p.x - 0.5, 0), Float(width - 1)), fy = min(max(p.y - 0.5, 0), Float(height - 1))
        let x = min(Int(fx), width - 2), y = min(Int(fy), height - 2)
        let tx = fx - Float(x), ty = fy - Float(y)
        let a = self[x, y], b = self[x + 1, y], c = self[x, y + 1], d = self[x + 1, y + 1]
        return mixf(mixf(a, b, tx), mixf(c, d, tx), ty)
    }

    /// Largest value inside a box (for "is there copper here?" questions).
    func maximum(in box: Box) -> Float {
        guard let (xa, ya, xb, yb) = pixelRange(box, margin: 0, width: width, height: height) else { return 0 }
        var m: Float = 0
        for y in ya..<yb { for x in xa..<xb { m = max(m, data[y * width + x]) } }
        return m
    }

    /// Smallest value inside a box.
    func minimum(in box: Box) -> Float {
        guard let (xa, ya, xb, yb) = pixelRange(box, margin: 0, width: width, height: height) else { return 0 }
        var m: Float = 1
        for y in ya..<yb { for x in xa..<xb { m = min(m, data[y * width + x]) } }
        return m
    }

    /// value = max(value, coverage * amount); records newly covered area.
    func add<S: Shape>(_ shape: S, amount: Float = 1, soft: Float = 1, record: DefectMask? = nil) {
        guard let (xa, ya, xb, yb) = pixelRange(shape.bounds, margin: soft + 1, width: width, height: height) else { return }
        record?.touch(xa, ya, xb, yb)
        for y in ya..<yb {
            let row = y * width
            for x in xa..<xb {
                let a = coverage(shape.distance(Vec2(Float(x) + 0.5, Float(y) + 0.5)), soft: soft) * amount
                if a <= 0 { continue }
                let old = data[row + x]
                if a > old {
                    data[row + x] = a
                    if let record { record.data[row + x] = max(record.data[row + x], a - old) }
                }
            }
        }
    }

    /// value *= 1 - coverage * amount; records removed area.
    func erase<S: Shape>(_ shape: S, amount: Float = 1, soft: Float = 1, record: DefectMask? = nil) {
        guard let (xa, ya, xb, yb) = pixelRange(shape.bounds, margin: soft + 1, width: width, height: height) else { return }
        record?.touch(xa, ya, xb, yb)
        for y in ya..<yb {
            let row = y * width
            for x in xa..<xb {
                let a = coverage(shape.distance(Vec2(Float(x) + 0.5, Float(y) + 0.5)), soft: soft) * amount
                if a <= 0 { continue }
                let old = data[row + x]
                data[row + x] = old * (1 - a)
                if let record { record.data[row + x] = max(record.data[row + x], old * a) }
            }
        }
    }

    /// A copy blurred by a box filter of the given radius, applied `passes` times.
    func blurred(radius: Int, passes: Int = 2) -> Plane {
        let out = Plane(width: width, height: height)
        guard radius > 0 else {
            out.data.update(from: data, count: width * height)
            return out
        }
        let tmp = Plane(width: width, height: height)
        out.data.update(from: data, count: width * height)
        for _ in 0..<passes {
            boxPass(from: out.data, to: tmp.data, radius: radius, horizontal: true)
            boxPass(from: tmp.data, to: out.data, radius: radius, horizontal: false)
        }
        return out
    }

    private func boxPass(from src: UnsafeMutablePointer<Float>, to dst: UnsafeMutablePointer<Float>, radius: Int, horizontal: Bool) {
        let n = horizontal ? width : height, lines = horizontal ? height : width
        let step = horizontal ? 1 : width, lineStep = horizontal ? width : 1
        let norm = 1 / Float(2 * radius + 1)
        for line in 0..<lines {
            let base = line * lineStep
            var acc: Float = 0
            for k in -radius...radius { acc += src[base + min(max(k, 0), n - 1) * step] }
            for i in 0..<n {
                dst[base + i * step] = acc * norm
                let out = min(max(i - radius, 0), n - 1), inn = min(max(i + radius + 1, 0), n - 1)
                acc += src[base + inn * step] - src[base + out * step]
            }
        }
    }
}

/// The colour picture of the board being drawn, in linear-ish float RGB (0...1).
final class Canvas {
    let width: Int, height: Int
    let px: UnsafeMutablePointer<Colour>
    /// Masks of the defects drawn so far (lowered by later opaque drawing).
    private(set) var masks: [DefectMask] = []
    /// The defect being drawn now; everything painted is recorded into it.
    var recording: DefectMask?

    init(width: Int, height: Int, fill: Colour = .zero) {
        self.width = width; self.height = height
        px = .allocate(capacity: width * height)
        px.initialize(repeating: fill, count: width * height)
    }
    deinit { px.deallocate() }

    @inline(__always) subscript(x: Int, y: Int) -> Colour {
        get { px[y * width + x] }
        set { px[y * width + x] = newValue }
    }

    /// Starts recording a new defect; returns its mask.
    func beginDefect() -> DefectMask {
        let mask = DefectMask(width: width, height: height)
        masks.append(mask)
        recording = mask
        return mask
    }

    func endDefect() { recording = nil }

    /// Paints a shape with a colour computed per pixel.
    /// - Parameters:
    ///   - alpha: opacity at full coverage.
    ///   - soft: edge width in pixels (1 = anti-aliased hard edge, more = blurred edge).
    ///   - occludes: whether the paint hides defects drawn before (false for shadows, stains).
    @inline(__always)
    func paint<S: Shape>(_ shape: S, alpha: Float = 1, soft: Float = 1, occludes: Bool = true, shader: (Vec2) -> Colour) {
        guard let (xa, ya, xb, yb) = pixelRange(shape.bounds, margin: soft + 1, width: width, height: height) else { return }
        let record = recording
        record?.touch(xa, ya, xb, yb)
        let hidden: [DefectMask] = (occludes && record == nil) ? masks.filter { $0.overlaps(xa, ya, xb, yb) } : []
        for y in ya..<yb {
            let row = y * width
            for x in xa..<xb {
                let p = Vec2(Float(x) + 0.5, Float(y) + 0.5)
                let a = coverage(shape.distance(p), soft: soft) * alpha
                if a <= 0 { continue }
                let old = px[row + x]
                px[row + x] = old + (shader(p) - old) * a
                if let record { record.data[row + x] = max(record.data[row + x], a) }
                for m in hidden { m.data[row + x] *= 1 - a }
            }
        }
    }

    func paint<S: Shape>(_ shape: S, colour: Colour, alpha: Float = 1, soft: Float = 1, occludes: Bool = true) {
        paint(shape, alpha: alpha, soft: soft, occludes: occludes) { _ in colour }
    }

    /// Multiplies the picture under a shape (shadows, stains): colour *= 1 - coverage * (1 - factor).
    func darken<S: Shape>(_ shape: S, factor: Colour, alpha: Float = 1, soft: Float = 1) {
        guard let (xa, ya, xb, yb) = pixelRange(shape.bounds, margin: soft + 1, width: width, height: height) else { return }
        let record = recording
        record?.touch(xa, ya, xb, yb)
        for y in ya..<yb {
            let row = y * width
            for x in xa..<xb {
                let a = coverage(shape.distance(Vec2(Float(x) + 0.5, Float(y) + 0.5)), soft: soft) * alpha
                if a <= 0 { continue }
                px[row + x] *= Colour(1, 1, 1) - (Colour(1, 1, 1) - factor) * a
                if let record { record.data[row + x] = max(record.data[row + x], a) }
            }
        }
    }

    /// Marks a region as part of the current defect without painting (e.g. the footprint of
    /// a missing part, whose "defect" is an absence).
    func record<S: Shape>(_ shape: S, strength: Float = 1) {
        guard let record = recording,
              let (xa, ya, xb, yb) = pixelRange(shape.bounds, margin: 2, width: width, height: height) else { return }
        record.touch(xa, ya, xb, yb)
        for y in ya..<yb {
            let row = y * width
            for x in xa..<xb {
                let a = coverage(shape.distance(Vec2(Float(x) + 0.5, Float(y) + 0.5)), soft: 1) * strength
                if a > 0 { record.data[row + x] = max(record.data[row + x], a) }
            }
        }
    }
}
