// The project's one seeded generator: SplitMix64 streams and seed derivation, for everything
// that must come out the same from the same seed (synthetic boards, dataset splits, k-means
// starts, benchmark inputs, test tensors).
//
// The renderer seeds every random decision from (base seed, image index, purpose) with
// `derive`, so image k of seed S never depends on which images were rendered before it.

import Foundation

/// SplitMix64: a small, fast, well-mixed 64-bit generator (Steele, Lea, Flood 2014).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    @inlinable
    public init(seed: UInt64) { state = seed }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 output function: a bijective 64-bit mixer.
    @inlinable @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed derived from a parent seed and any number of integer keys.
    @inlinable
    public static func derive(_ seed: UInt64, _ keys: UInt64...) -> UInt64 {
        var h = mix(seed ^ 0x6A09_E667_F3BC_C908)
        for key in keys { h = mix(h ^ mix(key &+ 0x9E37_79B9_7F4A_7C15)) }
        return h
    }

    // MARK: Convenience draws

    /// Uniform in [0, 1).
    @inlinable @inline(__always)
    public mutating func unit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    @inlinable @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unit() }

    @inlinable
    public mutating func uniform(_ range: ClosedRange<Float>) -> Float { uniform(range.lowerBound, range.upperBound) }

    /// Uniform integer in the closed range.
    @inlinable
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % span)
    }

    @inlinable
    public mutating func chance(_ probability: Float) -> Bool { unit() < probability }

    /// Standard normal (Box-Muller).
    @inlinable
    public mutating func normal() -> Float {
        let u1 = max(unit(), 1e-7), u2 = unit()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    @inlinable
    public mutating func sign() -> Float { chance(0.5) ? 1 : -1 }

    @inlinable
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// Index chosen with probability proportional to `weights`.
    @inlinable
    public mutating func weighted(_ weights: [Float]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return weights.count - 1
    }

    /// Uniform integer in 0..<n (0 when n <= 1).
    @inlinable
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    /// Uniform in [0, 1) with 53 bits.
    @inlinable
    public mutating func unitDouble() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    /// A fresh independent seed drawn from this stream (for per-element sub-streams).
    @inlinable
    public mutating func seed() -> UInt64 { next() }
}
