// Board registration: the affine map that lays a reference board's picture onto a new frame of
// the same product, so that PaDiM compares each place on the board with the same place on the
// normal boards even when the conveyor shifts, turns or tilts the board a little.
//
// Method: inverse-compositional Lucas-Kanade (Baker and Matthews, 2004) with an affine warp, on
// a pyramid of grayscale pictures (1/4, 1/8 and 1/16 of the frame), after a brute-force search
// for the best whole-pixel shift at the coarsest level. Every level is high-passed (minus its
// local mean) and scaled to unit variance, so uneven light, exposure and colour casts do not pull
// the fit; pixels that fall outside the frame are left out. It converges for the pose a conveyor
// gives (a few degrees, a few percent shift and zoom). A fit that ends far from that (more than
// 15 degrees, a zoom outside 0.8...1.25) is reported as failed and the identity is used.
//
// Coordinates are continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1), so a
// level 2^k times smaller maps to the frame by scaling alone.

import Foundation
import ImageKit

/// x' = a x + b y + tx, y' = c x + d y + ty.
public struct AffineMap: Sendable, Equatable, Codable {
    public var a, b, c, d, tx, ty: Double

    public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
        (self.a, self.b, self.c, self.d, self.tx, self.ty) = (a, b, c, d, tx, ty)
    }

    public static let identity = AffineMap(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)

    /// A rotation by `degrees` and zoom by `scale` about (cx, cy), then a shift.
    public static func pose(degrees: Double, scale: Double, shiftX: Double, shiftY: Double, centreX: Double, centreY: Double) -> AffineMap {
        let r = degrees * .pi / 180, cs = cos(r) * scale, sn = sin(r) * scale
        return AffineMap(a: cs, b: -sn, c: sn, d: cs,
                         tx: centreX - cs * centreX + sn * centreY + shiftX, ty: centreY - sn * centreX - cs * centreY + shiftY)
    }

    @inline(__always) public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    /// This map, then `next`.
    public func then(_ next: AffineMap) -> AffineMap {
        AffineMap(a: next.a * a + next.b * c, b: next.a * b + next.b * d, c: next.c * a + next.d * c, d: next.c * b + next.d * d,
                  tx: next.a * tx + next.b * ty + next.tx, ty: next.c * tx + next.d * ty + next.ty)
    }

    public func inverted() -> AffineMap? {
        let det = a * d - b * c
        guard abs(det) > 1e-12, det.isFinite else { return nil }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det)
        return AffineMap(a: ia, b: ib, c: ic, d: id, tx: -(ia * tx + ib * ty), ty: -(ic * tx + id * ty))
    }

    /// The same map between pictures `factor` times larger (continuous pixel coordinates).
    public func scaled(by factor: Double) -> AffineMap {
        AffineMap(a: a, b: b, c: c, d: d, tx: tx * factor, ty: ty * factor)
    }

    /// Rotation in degrees and mean zoom of the linear part.
    public var rotationDegrees: Double { atan2(c - b, a + d) * 180 / .pi }
    public var zoom: Double { (abs(a * d - b * c)).squareRoot() }
}

/// Registers frames of one product to a reference picture of it.
public struct BoardRegistration: Sendable {
    /// The frame size the reference was taken at; frames must have it.
    public let frameWidth: Int
    public let frameHeight: Int
    /// Frame pixels per reference pixel (the reference is stored at this reduction).
    public let factor: Int
    /// The reference: mean luminance (0...1) of each `factor x factor` block, row by row.
    public let reference: [Float]
    public let width: Int
    public let height: Int
    private let levels: [Template]

    /// The result of registering one frame.
    public struct Result: Sendable {
        /// Reference frame pixels -> this frame's pixels.
        public var map: AffineMap
        /// Whether the fit converged to a plausible pose (otherwise `map` is the identity).
        public var converged: Bool
        /// Correlation of the high-passed pictures after alignment at the finest level (-1...1).
        public var correlation: Double
    }

    /// Levels of the pyramid (1/factor, 1/2factor, ...) and local-mean radius of the high pass.
    static let levelCount = 3
    static let highPassRadius = 3

    /// Takes `image` as the reference.
    public init(reference image: RGBImage, factor: Int = 4) throws {
        let (plane, w, h) = try Self.luminance(image, factor: factor)
        try self.init(frameWidth: image.width, frameHeight: image.height, factor: factor, reference: plane, width: w, height: h)
    }

    /// A stored reference (see `reference`).
    public init(frameWidth: Int, frameHeight: Int, factor: Int, reference: [Float], width: Int, height: Int) throws {
        guard (1...64).contains(factor), width == frameWidth / factor, height == frameHeight / factor, reference.count == width * height,
              width >> (Self.levelCount - 1) >= 8, height >> (Self.levelCount - 1) >= 8 else {
            throw DetectionError.anomaly("registration reference \(width)x\(height) does not fit a \(frameWidth)x\(frameHeight) frame at 1/\(factor), or is too small")
        }
        guard reference.allSatisfy(\.isFinite) else { throw DetectionError.anomaly("registration reference has non-finite values") }
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.factor = factor
        self.reference = reference
        self.width = width
        self.height = height
        levels = Self.pyramid(reference, width: width, height: height).map(Template.init)
    }

    /// The map from the reference's frame pixels to `image`'s.
    public func register(_ image: RGBImage) throws -> Result {
        guard image.width == frameWidth, image.height == frameHeight else {
            throw DetectionError.anomaly("frame is \(image.width)x\(image.height), the anomaly model's reference board is \(frameWidth)x\(frameHeight)")
        }
        let (plane, w, h) = try Self.luminance(image, factor: factor)
        let pictures = Self.pyramid(plane, width: w, height: h)
        // Coarsest level first: the best whole-pixel shift within 1/8 of the picture.
        let coarsest = levels.count - 1
        var map = Self.bestShift(levels[coarsest], pictures[coarsest])
        var correlation = 0.0
        for level in stride(from: coarsest, through: 0, by: -1) {
            if level != coarsest { map = map.scaled(by: 2) }
            (map, correlation) = Self.refine(levels[level], pictures[level], from: map, iterations: level == 0 ? 12 : 25)
        }
        let full = map.scaled(by: Double(factor))
        let plausible = abs(full.rotationDegrees) <= 15 && (0.8...1.25).contains(full.zoom)
            && abs(full.tx) < Double(frameWidth) && abs(full.ty) < Double(frameHeight) && correlation.isFinite
        return Result(map: plausible ? full : .identity, converged: plausible, correlation: correlation)
    }

    // MARK: - Pictures

    /// Mean luminance of each `factor x factor` block.
    static func luminance(_ image: RGBImage, factor: Int) throws -> (plane: [Float], width: Int, height: Int) {
        let w = image.width / factor, h = image.height / factor
        guard w >= 8 << (levelCount - 1), h >= 8 << (levelCount - 1) else {
            throw DetectionError.anomaly("frame \(image.width)x\(image.height) is too small to register (at least \(factor * 8 << (levelCount - 1)) px a side; fit without registration: --no-align)")
        }
        var plane = [Float](repeating: 0, count: w * h)
        let scale = 1 / (255 * Float(factor * factor))
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0
                    for dy in 0..<factor {
                        var offset = ((y * factor + dy) * image.width + x * factor) * 3
                        for _ in 0..<factor {
                            sum += 0.299 * Float(p[offset]) + 0.587 * Float(p[offset + 1]) + 0.114 * Float(p[offset + 2])
                            offset += 3
                        }
                    }
                    plane[y * w + x] = sum * scale
                }
            }
        }
        return (plane, w, h)
    }

    /// A picture at one level: high-passed, unit variance.
    struct Picture {
        let width: Int, height: Int
        let values: [Float]
    }

    /// Halves the plane `levelCount - 1` times, and high-passes every level.
    static func pyramid(_ plane: [Float], width: Int, height: Int) -> [Picture] {
        var pictures: [Picture] = []
        var (current, w, h) = (plane, width, height)
        for level in 0..<levelCount {
            pictures.append(Picture(width: w, height: h, values: highPass(current, width: w, height: h)))
            guard level + 1 < levelCount else { break }
            let (hw, hh) = (w / 2, h / 2)
            var half = [Float](repeating: 0, count: hw * hh)
            for y in 0..<hh {
                for x in 0..<hw {
                    let i = 2 * y * w + 2 * x
                    half[y * hw + x] = 0.25 * (current[i] + current[i + 1] + current[i + w] + current[i + w + 1])
                }
            }
            (current, w, h) = (half, hw, hh)
        }
        return pictures
    }

    /// The plane minus its local mean (a box of `highPassRadius`), divided by its standard deviation.
    static func highPass(_ plane: [Float], width w: Int, height h: Int) -> [Float] {
        let r = highPassRadius
        // Summed-area table for the box means.
        var table = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0..<h {
            var row = 0.0
            for x in 0..<w {
                row += Double(plane[y * w + x])
                table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row
            }
        }
        var out = [Float](repeating: 0, count: w * h)
        var sumSquares = 0.0
        for y in 0..<h {
            let y0 = max(0, y - r), y1 = min(h, y + r + 1)
            for x in 0..<w {
                let x0 = max(0, x - r), x1 = min(w, x + r + 1)
                let sum = table[y1 * (w + 1) + x1] - table[y0 * (w + 1) + x1] - table[y1 * (w + 1) + x0] + table[y0 * (w + 1) + x0]
                let value = plane[y * w + x] - Float(sum / Double((y1 - y0) * (x1 - x0)))
                out[y * w + x] = value
                sumSquares += Double(value * value)
            }
        }
        let deviation = (sumSquares / Double(w * h)).squareRoot()
        if deviation > 1e-9 {
            let inverse = Float(1 / deviation)
            for i in out.indices { out[i] *= inverse }
        }
        return out
    }

    /// The reference at one level with what the inverse-compositional fit precomputes: its
    /// gradients (the steepest-descent images follow from them and the pixel position).
    struct Template {
        let picture: Picture
        let gradientX: [Float]
        let gradientY: [Float]
        /// The Gauss-Newton matrix of the steepest-descent images over the interior pixels, once:
        /// pixels that fall off the frame later count with zero error, the usual approximation
        /// that keeps the inverse-compositional fit cheap.
        let inverseHessian: [Double]?

        init(_ picture: Picture) {
            self.picture = picture
            let (w, h, v) = (picture.width, picture.height, picture.values)
            var gx = [Float](repeating: 0, count: w * h), gy = gx
            var hessian = [Double](repeating: 0, count: 36)
            let cx = Double(w) / 2, cy = Double(h) / 2
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    let i = y * w + x
                    gx[i] = 0.5 * (v[i + 1] - v[i - 1])
                    gy[i] = 0.5 * (v[i + w] - v[i - w])
                    let sd = BoardRegistration.steepestDescent(Double(gx[i]), Double(gy[i]), Double(x) + 0.5 - cx, Double(y) + 0.5 - cy)
                    for r in 0..<6 { for c in 0...r { hessian[r * 6 + c] += sd[r] * sd[c] } }
                }
            }
            for r in 0..<6 { for c in 0..<r { hessian[c * 6 + r] = hessian[r * 6 + c] } }
            gradientX = gx
            gradientY = gy
            inverseHessian = BoardRegistration.invert(hessian)
        }
    }

    /// The steepest-descent row of one pixel: gradient times d(warp)/d(parameters), with
    /// parameters (a - 1, c, b, d - 1, tx, ty) in centred coordinates.
    @inline(__always) static func steepestDescent(_ dx: Double, _ dy: Double, _ xc: Double, _ yc: Double) -> SIMD8<Double> {
        SIMD8(dx * xc, dy * xc, dx * yc, dy * yc, dx, dy, 0, 0)
    }

    /// Bilinear sample at continuous coordinates (pixel centres at i + 0.5); nil outside.
    @inline(__always) static func sample(_ p: UnsafePointer<Float>, _ w: Int, _ h: Int, _ x: Double, _ y: Double) -> Float? {
        let fx = x - 0.5, fy = y - 0.5
        guard fx >= 0, fy >= 0, fx <= Double(w - 1), fy <= Double(h - 1) else { return nil }
        let x0 = min(Int(fx), w - 2), y0 = min(Int(fy), h - 2)
        let ax = Float(fx - Double(x0)), ay = Float(fy - Double(y0))
        let i = y0 * w + x0
        let top = p[i] + ax * (p[i + 1] - p[i]), bottom = p[i + w] + ax * (p[i + w + 1] - p[i + w])
        return top + ay * (bottom - top)
    }

    /// The whole-pixel shift (within 1/8 of the picture each way) with the highest correlation.
    static func bestShift(_ template: Template, _ picture: Picture) -> AffineMap {
        let (w, h) = (picture.width, picture.height)
        let rx = max(1, w / 8), ry = max(1, h / 8)
        var best = (score: -Double.infinity, dx: 0, dy: 0)
        template.picture.values.withUnsafeBufferPointer { t in
            picture.values.withUnsafeBufferPointer { p in
                for dy in -ry...ry {
                    for dx in -rx...rx {
                        var sum = 0.0, n = 0
                        for y in max(0, -dy)..<min(h, h - dy) {
                            var row: Float = 0
                            let ti = y * w, pi = (y + dy) * w + dx
                            for x in max(0, -dx)..<min(w, w - dx) { row += t[ti + x] * p[pi + x] }
                            sum += Double(row)
                            n += min(w, w - dx) - max(0, -dx)
                        }
                        let score = n > 0 ? sum / Double(n) : -.infinity
                        // Ties go to the smaller shift.
                        if score > best.score + 1e-9 || (abs(score - best.score) <= 1e-9 && dx * dx + dy * dy < best.dx * best.dx + best.dy * best.dy) {
                            best = (score, dx, dy)
                        }
                    }
                }
            }
        }
        return AffineMap(a: 1, b: 0, c: 0, d: 1, tx: Double(best.dx), ty: Double(best.dy))
    }

    /// Inverse-compositional Lucas-Kanade from `start`; returns the map and the final correlation.
    static func refine(_ template: Template, _ picture: Picture, from start: AffineMap, iterations: Int) -> (AffineMap, Double) {
        guard let inverse = template.inverseHessian else { return (start, 0) }
        let (w, h) = (picture.width, picture.height)
        // Parameters in coordinates centred on the picture, for a well-conditioned system.
        let cx = Double(w) / 2, cy = Double(h) / 2
        let toCentre = AffineMap(a: 1, b: 0, c: 0, d: 1, tx: -cx, ty: -cy)
        let fromCentre = AffineMap(a: 1, b: 0, c: 0, d: 1, tx: cx, ty: cy)
        var map = start
        var correlation = 0.0
        template.picture.values.withUnsafeBufferPointer { t in
            template.gradientX.withUnsafeBufferPointer { gx in
                template.gradientY.withUnsafeBufferPointer { gy in
                    picture.values.withUnsafeBufferPointer { p in
                        for _ in 0..<iterations {
                            var b = SIMD8<Double>.zero
                            var (st, sp, stt, spp, stp, n) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                            for y in 1..<(h - 1) {
                                let yc = Double(y) + 0.5 - cy
                                for x in 1..<(w - 1) {
                                    let (u, v) = map.apply(Double(x) + 0.5, Double(y) + 0.5)
                                    guard let warped = sample(p.baseAddress!, w, h, u, v) else { continue }
                                    let i = y * w + x
                                    let tv = t[i]
                                    b += steepestDescent(Double(gx[i]), Double(gy[i]), Double(x) + 0.5 - cx, yc) * Double(warped - tv)
                                    let (a, q) = (Double(tv), Double(warped))
                                    st += a; sp += q; stt += a * a; spp += q * q; stp += a * q; n += 1
                                }
                            }
                            if n > 0 {
                                let cov = stp - st * sp / n, vt = stt - st * st / n, vp = spp - sp * sp / n
                                correlation = vt > 0 && vp > 0 ? cov / (vt * vp).squareRoot() : 0
                            }
                            var delta = [Double](repeating: 0, count: 6)
                            for r in 0..<6 { for c in 0..<6 { delta[r] += inverse[r * 6 + c] * b[c] } }
                            // W(x; delta) in centred coordinates, moved to pixel coordinates.
                            let centred = AffineMap(a: 1 + delta[0], b: delta[2], c: delta[1], d: 1 + delta[3], tx: delta[4], ty: delta[5])
                            guard delta.allSatisfy(\.isFinite), let step = toCentre.then(centred).then(fromCentre).inverted() else { break }
                            map = step.then(map)
                            let moved = abs(delta[4]) + abs(delta[5]) + (abs(delta[0]) + abs(delta[1]) + abs(delta[2]) + abs(delta[3])) * max(cx, cy)
                            if moved < 0.01 { break }
                        }
                    }
                }
            }
        }
        return (map, correlation)
    }

    /// The inverse of a 6x6 matrix, column by column with `solve`; nil when singular.
    static func invert(_ a: [Double]) -> [Double]? {
        let n = 6
        var columns: [[Double]] = []
        for k in 0..<n {
            var unit = [Double](repeating: 0, count: n)
            unit[k] = 1
            guard let column = solve(a, unit) else { return nil }
            columns.append(column)
        }
        var inverse = [Double](repeating: 0, count: n * n)
        for r in 0..<n { for c in 0..<n { inverse[r * n + c] = columns[c][r] } }
        return inverse
    }

    /// Solves the 6x6 system `a x = b` (Gaussian elimination with partial pivoting).
    static func solve(_ a: [Double], _ b: [Double]) -> [Double]? {
        var m = a, v = b
        let n = 6
        for col in 0..<n {
            var pivot = col
            for r in (col + 1)..<n where abs(m[r * n + col]) > abs(m[pivot * n + col]) { pivot = r }
            guard abs(m[pivot * n + col]) > 1e-12 else { return nil }
            if pivot != col {
                for c in 0..<n { m.swapAt(col * n + c, pivot * n + c) }
                v.swapAt(col, pivot)
            }
            for r in (col + 1)..<n {
                let f = m[r * n + col] / m[col * n + col]
                for c in col..<n { m[r * n + c] -= f * m[col * n + c] }
                v[r] -= f * v[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = v[r]
            for c in (r + 1)..<n { s -= m[r * n + c] * x[c] }
            x[r] = s / m[r * n + r]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
