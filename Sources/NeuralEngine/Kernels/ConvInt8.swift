// The int8 pieces of the packed convolution: weights quantised once per output channel to
// symmetric s8, a convolution's input quantised to u8 with one scale and zero point per tensor
// (its range from a calibration pass), the packed layouts the AVX512_VNNI micro-kernel reads
// (CKernels/ConvTileVNNI.c), and portable twins of that kernel's packing and tile, which are its
// reference in the parity tests.
//
// A tile computes, for output channel r and pixel p,
//   sum = Σ_k a[r][k] · q(x[k][p])                  (exact, in int32)
//   out = act((sum - zeroPoint · Σ_k a[r][k]) · weightScale[r] · inputScale + bias[r])
// since x ≈ (q(x) - zeroPoint) · inputScale and w ≈ a · weightScale. Zero padding stays exact:
// the input's range always contains 0, which quantises to the zero point.
//
// Landed ahead of its use: sessions do not run int8 yet (no calibration pass, no `int8`
// precision); the parity tests below the kernel hold both twins to the same numbers.

import CKernels

/// How one tensor's values map to u8: q = clamp(round(x / scale) + zeroPoint, 0, 255).
public struct ActivationQuantization: Equatable, Sendable {
    public let scale: Float
    public let zeroPoint: Int32

    /// From the range a calibration saw, widened to contain 0 (a range of one value gets a scale
    /// of 1/255 around it, so the quantisation never divides by 0).
    public init(min low: Float, max high: Float) {
        let lo = Swift.min(low.isFinite ? low : 0, 0), hi = Swift.max(high.isFinite ? high : 0, 0)
        let scale = (hi - lo) / 255
        self.scale = scale > 0 ? scale : 1 / 255
        zeroPoint = Int32(Swift.min(Swift.max((-lo / self.scale).rounded(.toNearestOrEven), 0), 255))
    }

    public var inverseScale: Float { 1 / scale }

    /// As ck_pack_u8_block: the scaled value held to [-512, 512] (NaN to -512), rounded to the
    /// nearest even, shifted by the zero point and clamped to u8.
    func quantize(_ x: Float, inverseScale: Float) -> UInt8 {
        let scaled = x * inverseScale
        let held = scaled.isNaN ? -512 : Swift.min(Swift.max(scaled, -512), 512)
        let q = Int32(held.rounded(.toNearestOrEven)) + zeroPoint
        return UInt8(Swift.min(Swift.max(q, 0), 255))
    }
}

/// One convolution's weights for the int8 tile: s8 quads of consecutive K,
/// [mTiles][(k + 3) / 4][mr][4] (K past the end and rows past M are 0); each output channel's
/// scale (max |w| / 127) and the sum of its quantised weights (for the zero point's share).
struct Int8ConvWeights {
    static let mr = ConvPackedWeights.mr

    let m: Int, k: Int, mTiles: Int
    let quads: [Int8]
    /// Per output channel, padded with 0 to mTiles · mr.
    let scales: [Float]
    let rowSums: [Int32]

    init(_ w: [Float], m: Int, k: Int) {
        let mr = Self.mr
        self.m = m
        self.k = k
        mTiles = (m + mr - 1) / mr
        let kq = (k + 3) / 4
        var quads = [Int8](repeating: 0, count: Swift.max(mTiles * kq * mr * 4, 1))
        var scales = [Float](repeating: 0, count: mTiles * mr)
        var rowSums = [Int32](repeating: 0, count: mTiles * mr)
        for row in 0..<m {
            let weights = w[(row * k)..<(row * k + k)]
            let largest = weights.reduce(Float(0)) { Swift.max($0, abs($1)) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[row] = scale
            let mt = row / mr, r = row % mr
            for (kk, value) in weights.enumerated() {
                let q = Int8(Swift.min(Swift.max((value / scale).rounded(.toNearestOrEven), -127), 127))
                quads[((mt * kq + kk / 4) * mr + r) * 4 + kk % 4] = q
                rowSums[row] += Int32(q)
            }
        }
        self.quads = quads
        self.scales = scales
        self.rowSums = rowSums
    }
}

enum ConvInt8 {
    /// What the VNNI packing and tile need beyond the x86-64-v3 baseline.
    static let vnniRequires: CPUFeatures = [.avx512f, .avx512bw, .avx512vnni, .fma]

    /// ck_pack_u8_block; call only on a CPU with `vnniRequires`.
    static func packBlockVNNI(vectors: Int, k: Int, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                              quantization: ActivationQuantization, into out: UnsafeMutablePointer<UInt8>) {
        ck_pack_u8_block(Int32(vectors), k, b, offsets, quantization.inverseScale, quantization.zeroPoint, out)
    }

    /// ck_conv_tile_avx512vnni; call only on a CPU with `vnniRequires`.
    static func tileVNNI(vectors: Int, k: Int, a: UnsafePointer<Int8>, b: UnsafePointer<UInt8>, correction: UnsafePointer<Int32>,
                         scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ld: Int,
                         activation: FusedActivation) {
        ck_conv_tile_avx512vnni(Int32(vectors), k, a, b, correction, scale, bias, out, ld, activation.kernelCode)
    }

    /// Portable twin of ck_pack_u8_block: the B rows b + offsets[k] of one pixel block
    /// (16 · vectors pixels) as u8 quads, [(k + 3) / 4][vectors][16][4].
    static func packBlock(vectors: Int, k: Int, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                          quantization: ActivationQuantization, into out: UnsafeMutablePointer<UInt8>) {
        let inverse = quantization.inverseScale
        let zero = UInt8(quantization.zeroPoint)
        for kq in 0..<((k + 3) / 4) {
            for v in 0..<vectors {
                let block = out + (kq * vectors + v) * 64
                for j in 0..<4 {
                    let row = 4 * kq + j
                    for p in 0..<16 {
                        block[p * 4 + j] = row < k ? quantization.quantize(b[offsets[row] + 16 * v + p], inverseScale: inverse) : zero
                    }
                }
            }
        }
    }

    /// Portable twin of ck_conv_tile_avx512vnni: one mr x (16 · vectors) tile.
    /// `correction[r]` is zeroPoint · rowSums[r]; `scale[r]` is weightScale[r] · inputScale.
    static func tile(vectors: Int, k: Int, a: UnsafePointer<Int8>, b: UnsafePointer<UInt8>, correction: UnsafePointer<Int32>,
                     scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ld: Int,
                     activation: FusedActivation) {
        let mr = Int8ConvWeights.mr, width = 16 * vectors
        for r in 0..<mr {
            for p in 0..<width {
                let v = p / 16, lane = p % 16
                var sum: Int32 = 0
                for kq in 0..<((k + 3) / 4) {
                    let quad = b + (kq * vectors + v) * 64 + lane * 4, weights = a + (kq * mr + r) * 4
                    for j in 0..<4 { sum &+= Int32(quad[j]) * Int32(weights[j]) }
                }
                let value = bias[r].addingProduct(Float(sum &- correction[r]), scale[r])
                out[r * ld + p] = activation.apply(value)
            }
        }
    }
}
