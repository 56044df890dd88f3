// The int8 pieces of the packed convolution: weights quantised once per output channel to
// symmetric s8, a convolution's input quantised to u8 with one scale and zero point per tensor
// (its range from a calibration pass), the layouts the AVX512_VNNI micro-kernel reads
// (CKernels/ConvTileVNNI.c), and portable twins of its quantisation and tile, which are their
// reference in the parity tests.
//
// A tile computes, for output channel r and pixel p,
//   sum = Σ_k a[r][k] · q(x[k][p])                  (exact, in int32)
//   out = act((sum - zeroPoint · Σ_k a[r][k]) · weightScale[r] · inputScale + bias[r])
// since x ≈ (q(x) - zeroPoint) · inputScale and w ≈ a · weightScale. Zero padding stays exact:
// the input's range always contains 0, which quantises to the zero point.
//
// K runs over quads: four consecutive input channels at one kernel tap. The input is quantised
// once per element into planes of such quads (one UInt32 per pixel: channels 4c...4c + 3), so
// the tile reads 16 pixels of a quad with one load, at the same pixel offsets as the fp32 kernel
// reads floats; channels are padded to a multiple of 4 with zero weights.

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

    /// Four zero points, the word of a padded pixel in quad planes.
    var zeroWord: UInt32 { UInt32(zeroPoint) &* 0x0101_0101 }

    /// As ck_quantize_quads: the scaled value held to [-512, 512] (NaN to -512), rounded to the
    /// nearest even, shifted by the zero point and clamped to u8.
    func quantize(_ x: Float, inverseScale: Float) -> UInt8 {
        let scaled = x * inverseScale
        let held = scaled.isNaN ? -512 : Swift.min(Swift.max(scaled, -512), 512)
        let q = Int32(held.rounded(.toNearestOrEven)) + zeroPoint
        return UInt8(Swift.min(Swift.max(q, 0), 255))
    }
}

/// One convolution's weights for the int8 tile: s8 quads, [mTiles][quads][mr][4], where quad
/// q = (c4, tap) holds channels 4·c4...4·c4 + 3 at that tap (channels past the end and rows past
/// M are 0); each output channel's scale (max |w| / 127) and the sum of its quantised weights (for
/// the zero point's share). The source weights are [m][channels][taps], as ONNX stores them.
struct Int8ConvWeights {
    static let mr = ConvPackedWeights.mr

    let m: Int, channels: Int, taps: Int, mTiles: Int
    /// Quads per output channel: ⌈channels / 4⌉ · taps.
    let quadCount: Int
    let quads: [Int8]
    /// Per output channel, padded with 0 to mTiles · mr.
    let scales: [Float]
    let rowSums: [Int32]

    /// Weights of K = k values per output channel taken as k channels of one tap.
    init(_ w: [Float], m: Int, k: Int) {
        self.init(w, m: m, channels: k, taps: 1)
    }

    init(_ w: [Float], m: Int, channels: Int, taps: Int) {
        let mr = Self.mr, k = channels * taps
        self.m = m
        self.channels = channels
        self.taps = taps
        mTiles = (m + mr - 1) / mr
        let quadCount = (channels + 3) / 4 * taps
        self.quadCount = quadCount
        var quads = [Int8](repeating: 0, count: Swift.max(mTiles * quadCount * mr * 4, 1))
        var scales = [Float](repeating: 0, count: mTiles * mr)
        var rowSums = [Int32](repeating: 0, count: mTiles * mr)
        for row in 0..<m {
            let weights = w[(row * k)..<(row * k + k)]
            let largest = weights.reduce(Float(0)) { Swift.max($0, abs($1)) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[row] = scale
            let mt = row / mr, r = row % mr
            for c in 0..<channels {
                for t in 0..<taps {
                    let value = w[row * k + c * taps + t]
                    let q = Int8(Swift.min(Swift.max((value / scale).rounded(.toNearestOrEven), -127), 127))
                    let quad = (c / 4) * taps + t
                    quads[((mt * quadCount + quad) * mr + r) * 4 + c % 4] = q
                    rowSums[row] += Int32(q)
                }
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

    /// ck_quantize_quads; call only on a CPU with `vnniRequires`. `rows` holds four pointers
    /// (nil for a channel past the end).
    static func quantizeQuadsVNNI(rows: UnsafePointer<UnsafePointer<Float>?>, stride: Int, count: Int,
                                  quantization: ActivationQuantization, into out: UnsafeMutablePointer<UInt32>) {
        ck_quantize_quads(rows, stride, count, quantization.inverseScale, quantization.zeroPoint, out)
    }

    /// ck_conv_tile_avx512vnni; call only on a CPU with `vnniRequires`.
    static func tileVNNI(vectors: Int, quads: Int, a: UnsafePointer<Int8>, b: UnsafePointer<UInt8>, offsets: UnsafePointer<Int>,
                         correction: UnsafePointer<Int32>, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         out: UnsafeMutablePointer<Float>, ld: Int, activation: FusedActivation) {
        ck_conv_tile_avx512vnni(Int32(vectors), quads, a, b, offsets, correction, scale, bias, out, ld, activation.kernelCode)
    }

    /// Portable twin of ck_quantize_quads: pixel i of the four rows (element i · stride) as one
    /// word, channel j in byte j; a nil row gives the zero point.
    static func quantizeQuads(rows: UnsafePointer<UnsafePointer<Float>?>, stride: Int, count: Int,
                              quantization: ActivationQuantization, into out: UnsafeMutablePointer<UInt32>) {
        let inverse = quantization.inverseScale
        for i in 0..<count {
            var word: UInt32 = 0
            for j in 0..<4 {
                let q = rows[j].map { quantization.quantize($0[i * stride], inverseScale: inverse) } ?? UInt8(quantization.zeroPoint)
                word |= UInt32(q) << (8 * j)
            }
            out[i] = word
        }
    }

    /// Portable twin of ck_conv_tile_avx512vnni: one mr x (16 · vectors) tile; quad q of pixel p
    /// is the 4 bytes at b + 4 · (offsets[q] + p). `correction[r]` is zeroPoint · rowSums[r];
    /// `scale[r]` is weightScale[r] · inputScale.
    static func tile(vectors: Int, quads: Int, a: UnsafePointer<Int8>, b: UnsafePointer<UInt8>, offsets: UnsafePointer<Int>,
                     correction: UnsafePointer<Int32>, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                     out: UnsafeMutablePointer<Float>, ld: Int, activation: FusedActivation) {
        let mr = Int8ConvWeights.mr, width = 16 * vectors
        for r in 0..<mr {
            for p in 0..<width {
                var sum: Int32 = 0
                for q in 0..<quads {
                    let quad = b + 4 * (offsets[q] + p), weights = a + (q * mr + r) * 4
                    for j in 0..<4 { sum &+= Int32(quad[j]) * Int32(weights[j]) }
                }
                let value = bias[r].addingProduct(Float(sum &- correction[r]), scale[r])
                out[r * ld + p] = activation.apply(value)
            }
        }
    }
}
