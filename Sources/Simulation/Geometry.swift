// Plane geometry of the renderer: points, boxes and signed-distance shapes.
//
// Shapes are drawn by coverage: a pixel's alpha is `0.5 - d` clamped to [0, 1], where d is
// the signed distance (in pixels) from the pixel centre to the shape's edge. That gives
// anti-aliased edges at the cost of one distance evaluation per pixel of the bounding box.

import Foundation
import SeededRandom

typealias Vec2 = SIMD2<Float>
typealias Colour = SIMD3<Float>

@inline(__always) func dot2(_ a: Vec2, _ b: Vec2) -> Float { a.x * b.x + a.y * b.y }
@inline(__always) func length2(_ a: Vec2) -> Float { (a.x * a.x + a.y * a.y).squareRoot() }
@inline(__always) func clamp01(_ x: Float) -> Float { min(1, max(0, x)) }
@inline(__always) func mix(_ a: Colour, _ b: Colour, _ t: Float) -> Colour { a + (b - a) * t }
@inline(__always) func mixf(_ a: Float, _ b: Float, _ t: Float) -> Float { a + (b - a) * t }
@inline(__always) func smoothstep(_ e0: Float, _ e1: Float, _ x: Float) -> Float {
    let t = clamp01((x - e0) / (e1 - e0))
    return t * t * (3 - 2 * t)
}
func grey(_ v: Float) -> Colour { Colour(v, v, v) }

/// Axis-aligned box in pixel coordinates (x0 <= x1, y0 <= y1).
struct Box: Equatable {
    var x0: Float, y0: Float, x1: Float, y1: Float

    init(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float) {
        self.x0 = min(x0, x1); self.y0 = min(y0, y1); self.x1 = max(x0, x1); self.y1 = max(y0, y1)
    }
    init(center: Vec2, half: Vec2) { self.init(center.x - half.x, center.y - half.y, center.x + half.x, center.y + half.y) }
    init(points: [Vec2]) {
        var b = Box(points[0].x, points[0].y, points[0].x, points[0].y)
        for p in points.dropFirst() { b = b.union(Box(p.x, p.y, p.x, p.y)) }
        self = b
    }

    var width: Float { x1 - x0 }
    var height: Float { y1 - y0 }
    var center: Vec2 { Vec2((x0 + x1) / 2, (y0 + y1) / 2) }
    var half: Vec2 { Vec2(width / 2, height / 2) }
    var area: Float { width * height }

    func inset(_ d: Float) -> Box { Box(x0 + d, y0 + d, x1 - d, y1 - d) }
    func outset(_ d: Float) -> Box { Box(x0 - d, y0 - d, x1 + d, y1 + d) }
    func union(_ o: Box) -> Box { Box(min(x0, o.x0), min(y0, o.y0), max(x1, o.x1), max(y1, o.y1)) }
    func intersects(_ o: Box) -> Bool { x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1 }
    func contains(_ o: Box) -> Bool { o.x0 >= x0 && o.x1 <= x1 && o.y0 >= y0 && o.y1 <= y1 }
    func contains(_ p: Vec2) -> Bool { p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1 }
    func offset(_ d: Vec2) -> Box { Box(x0 + d.x, y0 + d.y, x1 + d.x, y1 + d.y) }

    /// Distance from a point to the box (0 inside).
    func distance(to p: Vec2) -> Float {
        let dx = max(x0 - p.x, 0, p.x - x1), dy = max(y0 - p.y, 0, p.y - y1)
        return (dx * dx + dy * dy).squareRoot()
    }
}

/// Distance from point p to segment ab.
@inline(__always)
func segmentDistance(_ p: Vec2, _ a: Vec2, _ b: Vec2) -> Float {
    let pa = p - a, ba = b - a
    let denom = dot2(ba, ba)
    let h = denom > 0 ? clamp01(dot2(pa, ba) / denom) : 0
    return length2(pa - ba * h)
}

/// Smallest distance between segments ab and cd (2-D).
func segmentSegmentDistance(_ a: Vec2, _ b: Vec2, _ c: Vec2, _ d: Vec2) -> Float {
    if segmentsIntersect(a, b, c, d) { return 0 }
    return min(segmentDistance(a, c, d), segmentDistance(b, c, d), segmentDistance(c, a, b), segmentDistance(d, a, b))
}

func segmentsIntersect(_ a: Vec2, _ b: Vec2, _ c: Vec2, _ d: Vec2) -> Bool {
    func cross(_ o: Vec2, _ p: Vec2, _ q: Vec2) -> Float { (p.x - o.x) * (q.y - o.y) - (p.y - o.y) * (q.x - o.x) }
    let d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d)
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
}

/// Distance between segment ab and a box (0 if they touch).
func segmentBoxDistance(_ a: Vec2, _ b: Vec2, _ box: Box) -> Float {
    if box.contains(a) || box.contains(b) { return 0 }
    let c = [Vec2(box.x0, box.y0), Vec2(box.x1, box.y0), Vec2(box.x1, box.y1), Vec2(box.x0, box.y1)]
    var best = Float.greatestFiniteMagnitude
    for i in 0..<4 { best = min(best, segmentSegmentDistance(a, b, c[i], c[(i + 1) % 4])) }
    return best
}

// MARK: - Signed-distance shapes

protocol Shape {
    /// Pixel-space bounds of everything with distance < 0.5 (plus any softness is added by the painter).
    var bounds: Box { get }
    func distance(_ p: Vec2) -> Float
}

struct RectShape: Shape {
    var box: Box
    var radius: Float = 0
    init(_ box: Box, radius: Float = 0) { self.box = box; self.radius = min(radius, min(box.width, box.height) / 2) }
    var bounds: Box { box }
    @inline(__always) func distance(_ p: Vec2) -> Float {
        let c = box.center, h = box.half - Vec2(radius, radius)
        let q = Vec2(abs(p.x - c.x) - h.x, abs(p.y - c.y) - h.y)
        let outside = length2(Vec2(max(q.x, 0), max(q.y, 0)))
        return outside + min(max(q.x, q.y), 0) - radius
    }
}

struct CircleShape: Shape {
    var center: Vec2, radius: Float
    var bounds: Box { Box(center: center, half: Vec2(radius, radius)) }
    @inline(__always) func distance(_ p: Vec2) -> Float { length2(p - center) - radius }
}

struct RingShape: Shape {
    var center: Vec2, radius: Float, halfWidth: Float
    var bounds: Box { Box(center: center, half: Vec2(radius + halfWidth, radius + halfWidth)) }
    @inline(__always) func distance(_ p: Vec2) -> Float { abs(length2(p - center) - radius) - halfWidth }
}

struct CapsuleShape: Shape {
    var a: Vec2, b: Vec2, radius: Float
    var bounds: Box { Box(min(a.x, b.x), min(a.y, b.y), max(a.x, b.x), max(a.y, b.y)).outset(radius) }
    @inline(__always) func distance(_ p: Vec2) -> Float { segmentDistance(p, a, b) - radius }
}

/// A polyline of round-capped strokes (one trace, one glyph).
struct PolylineShape: Shape {
    var points: [Vec2], radius: Float
    var bounds: Box { Box(points: points).outset(radius) }
    func distance(_ p: Vec2) -> Float {
        if points.count == 1 { return length2(p - points[0]) - radius }
        var best = Float.greatestFiniteMagnitude
        for i in 0..<(points.count - 1) { best = min(best, segmentDistance(p, points[i], points[i + 1])) }
        return best - radius
    }
}

/// A simple polygon (any winding), exact signed distance.
struct PolygonShape: Shape {
    var points: [Vec2]
    var bounds: Box { Box(points: points) }
    func distance(_ p: Vec2) -> Float {
        var d = dot2(p - points[0], p - points[0])
        var s: Float = 1
        var j = points.count - 1
        for i in 0..<points.count {
            let e = points[j] - points[i], w = p - points[i]
            let b = w - e * clamp01(dot2(w, e) / max(dot2(e, e), 1e-12))
            d = min(d, dot2(b, b))
            let c1 = p.y >= points[i].y, c2 = p.y < points[j].y, c3 = e.x * w.y > e.y * w.x
            if (c1 && c2 && c3) || (!c1 && !c2 && !c3) { s = -s }
            j = i
        }
        return s * d.squareRoot()
    }
}

/// An irregular round blob: a circle whose radius wobbles with angle (a few harmonics).
struct BlobShape: Shape {
    var center: Vec2
    var radius: Float
    var stretch: Vec2 = Vec2(1, 1)
    var harmonics: [(amplitude: Float, frequency: Float, phase: Float)] = []

    init(center: Vec2, radius: Float, stretch: Vec2 = Vec2(1, 1), roughness: Float, rng: inout SplitMix64) {
        self.center = center; self.radius = radius; self.stretch = stretch
        for k in 2...6 {
            harmonics.append((roughness * rng.uniform(0.3, 1) / Float(k - 1), Float(k), rng.uniform(0, 2 * .pi)))
        }
    }

    var bounds: Box {
        let extra: Float = 1 + harmonics.reduce(0) { $0 + $1.amplitude }
        return Box(center: center, half: Vec2(radius * stretch.x, radius * stretch.y) * extra)
    }

    func distance(_ p: Vec2) -> Float {
        let q = (p - center) / stretch
        let angle = atan2f(q.y, q.x)
        var r: Float = 1
        for h in harmonics { r += h.amplitude * sinf(h.frequency * angle + h.phase) }
        return (length2(q) - radius * r) * min(stretch.x, stretch.y)
    }
}

/// Union of shapes (minimum distance).
struct UnionShape: Shape {
    var parts: [any Shape]
    var bounds: Box { parts.dropFirst().reduce(parts[0].bounds) { $0.union($1.bounds) } }
    func distance(_ p: Vec2) -> Float { parts.reduce(Float.greatestFiniteMagnitude) { min($0, $1.distance(p)) } }
}

/// Intersection of two shapes.
struct IntersectionShape<A: Shape, B: Shape>: Shape {
    var a: A, b: B
    var bounds: Box {
        let x = a.bounds, y = b.bounds
        let r = Box(max(x.x0, y.x0), max(x.y0, y.y0), min(x.x1, y.x1), min(x.y1, y.y1))
        return r.x1 < r.x0 || r.y1 < r.y0 ? Box(x.x0, x.y0, x.x0, x.y0) : r
    }
    @inline(__always) func distance(_ p: Vec2) -> Float { max(a.distance(p), b.distance(p)) }
}

/// A shape with another cut out of it.
struct DifferenceShape<A: Shape, B: Shape>: Shape {
    var a: A, b: B
    var bounds: Box { a.bounds }
    @inline(__always) func distance(_ p: Vec2) -> Float { max(a.distance(p), -b.distance(p)) }
}

/// A rectangle rotated by an angle about its centre.
struct OrientedRectShape: Shape {
    var center: Vec2, half: Vec2, axis: Vec2, radius: Float = 0
    var bounds: Box {
        let ex = abs(axis.x) * half.x + abs(axis.y) * half.y, ey = abs(axis.y) * half.x + abs(axis.x) * half.y
        return Box(center: center, half: Vec2(ex, ey))
    }
    @inline(__always) func distance(_ p: Vec2) -> Float {
        let d = p - center
        let local = Vec2(dot2(d, axis), d.x * -axis.y + d.y * axis.x)
        let h = half - Vec2(radius, radius)
        let q = Vec2(abs(local.x) - h.x, abs(local.y) - h.y)
        return length2(Vec2(max(q.x, 0), max(q.y, 0))) + min(max(q.x, q.y), 0) - radius
    }
}

/// A shape moved by an offset.
struct TranslatedShape<A: Shape>: Shape {
    var shape: A, offset: Vec2
    var bounds: Box { shape.bounds.offset(offset) }
    @inline(__always) func distance(_ p: Vec2) -> Float { shape.distance(p - offset) }
}

/// Everything on one side of a line through `point` (the side `normal` points away from).
struct HalfPlaneShape: Shape {
    var point: Vec2, normal: Vec2, extent: Box
    var bounds: Box { extent }
    @inline(__always) func distance(_ p: Vec2) -> Float { dot2(p - point, normal) }
}

/// Type-erased shape (for shapes chosen at run time).
struct AnyShape: Shape {
    var base: any Shape
    init(_ base: any Shape) { self.base = base }
    var bounds: Box { base.bounds }
    func distance(_ p: Vec2) -> Float { base.distance(p) }
}
