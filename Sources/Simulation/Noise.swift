// Coordinate-hashed noise: textures that depend only on position and a seed, so drawing
// order never changes them.

import Foundation

enum Noise {
    /// Hash of an integer lattice point to [0, 1).
    @inline(__always)
    static func hash(_ x: Int32, _ y: Int32, _ seed: UInt32) -> Float {
        var h = UInt32(bitPattern: x) &* 0x27D4_EB2D ^ UInt32(bitPattern: y) &* 0x1656_67B1 ^ seed &* 0x9E37_79B9
        h ^= h >> 15
        h = h &* 0x2C1B_3C6D
        h ^= h >> 12
        h = h &* 0x297A_2D39
        h ^= h >> 15
        return Float(h >> 8) * (1.0 / 16_777_216.0)
    }

    /// Smooth value noise in [0, 1) with lattice spacing `scale` pixels.
    @inline(__always)
    static func value(_ p: Vec2, scale: Float, seed: UInt32) -> Float {
        let x = p.x / scale, y = p.y / scale
        let fx = floorf(x), fy = floorf(y)
        let ix = Int32(fx), iy = Int32(fy)
        var tx = x - fx, ty = y - fy
        tx = tx * tx * (3 - 2 * tx)
        ty = ty * ty * (3 - 2 * ty)
        let a = hash(ix, iy, seed), b = hash(ix + 1, iy, seed)
        let c = hash(ix, iy + 1, seed), d = hash(ix + 1, iy + 1, seed)
        return mixf(mixf(a, b, tx), mixf(c, d, tx), ty)
    }

    /// Two-octave value noise centred on 0 (about -0.5...0.5).
    @inline(__always)
    static func fractal(_ p: Vec2, scale: Float, seed: UInt32) -> Float {
        value(p, scale: scale, seed: seed) * 0.65 + value(p, scale: scale * 0.45, seed: seed &+ 7) * 0.35 - 0.5
    }

    /// Per-pixel grain centred on 0 (-0.5...0.5).
    @inline(__always)
    static func grain(_ p: Vec2, seed: UInt32) -> Float {
        hash(Int32(floorf(p.x)), Int32(floorf(p.y)), seed) - 0.5
    }
}
