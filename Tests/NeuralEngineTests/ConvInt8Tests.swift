// The int8 pieces of the packed convolution: input and weight quantisation, the portable tile
// against the fp32 sums it approximates (within the rounding the scales allow), and the
// AVX512_VNNI packing and tile against their portable twins (same bytes, same sums), on
// seeded random shapes. The VNNI test says when the CPU cannot run it.

import Foundation
import SeededRandom
import Testing
@testable import NeuralEngine

@Suite struct ConvInt8Tests {
    @Test func inputQuantisationKeepsZeroExactAndSpansTheRange() {
        let q = ActivationQuantization(min: -0.28, max: 6)
        let inverse = q.inverseScale
        #expect(q.quantize(0, inverseScale: inverse) == UInt8(q.zeroPoint))
        #expect(q.quantize(-0.28, inverseScale: inverse) == 0)
        #expect(q.quantize(6, inverseScale: inverse) == 255)
        #expect(q.quantize(1e30, inverseScale: inverse) == 255 && q.quantize(-1e30, inverseScale: inverse) == 0)
        #expect(q.quantize(.nan, inverseScale: inverse) == 0)
        // A range on one side of 0 is widened to contain it; an empty one still has a scale.
        #expect(ActivationQuantization(min: 2, max: 5).zeroPoint == 0)
        #expect(ActivationQuantization(min: -5, max: -2).zeroPoint == 255)
        let empty = ActivationQuantization(min: 0, max: 0)
        #expect(empty.scale > 0 && empty.quantize(0, inverseScale: empty.inverseScale) == UInt8(empty.zeroPoint))
        // Every value of the range comes back within half a step.
        var x: Float = -0.28
        while x <= 6 {
            let back = (Float(q.quantize(x, inverseScale: inverse)) - Float(q.zeroPoint)) * q.scale
            #expect(abs(back - x) <= q.scale / 2 + 1e-6, "x \(x)")
            x += 0.0137
        }
    }

    @Test func weightsAreQuantisedPerOutputChannel() {
        var rng = SplitMix64(seed: 0x1178)
        let m = 11, k = 7
        var w = rng.floats(m * k).map { $0 * 3 }
        for kk in 0..<k { w[4 * k + kk] = 0 }  // an all-zero channel
        let packed = Int8ConvWeights(w, m: m, k: k)
        let mr = Int8ConvWeights.mr, kq = (k + 3) / 4
        #expect(packed.mTiles == 2 && packed.quads.count == 2 * kq * mr * 4)
        for row in 0..<(packed.mTiles * mr) {
            var sum: Int32 = 0
            for kk in 0..<(kq * 4) {
                let q = packed.quads[((row / mr * kq + kk / 4) * mr + row % mr) * 4 + kk % 4]
                sum += Int32(q)
                if row >= m || kk >= k {
                    #expect(q == 0, "padding at row \(row) k \(kk)")
                } else {
                    #expect(abs(Float(q) * packed.scales[row] - w[row * k + kk]) <= packed.scales[row] / 2 + 1e-6)
                }
            }
            #expect(sum == packed.rowSums[row], "row \(row)")
        }
        #expect(packed.scales[4] == 1 && packed.rowSums[4] == 0)
    }

    /// One random block: weights, B rows (k x 16·vectors, contiguous), their quantisations.
    struct Block {
        let vectors: Int, k: Int, m: Int
        let w: [Float], x: [Float], bias: [Float]
        let weights: Int8ConvWeights
        let input: ActivationQuantization
        let offsets: [Int]

        init(_ rng: inout SplitMix64, vectors: Int, k: Int, m: Int) {
            self.vectors = vectors
            self.k = k
            self.m = m
            w = rng.floats(m * k)
            x = rng.floats(k * 16 * vectors).map { $0 * 4 + 1 }
            bias = rng.floats(m)
            weights = Int8ConvWeights(w, m: m, k: k)
            input = ActivationQuantization(min: x.min()!, max: x.max()!)
            offsets = (0..<k).map { $0 * 16 * vectors }
        }

        var packedBytes: Int { ((k + 3) / 4) * vectors * 64 }

        /// The tile of M tile `mt`, by the portable twins or by the VNNI kernels.
        func run(tile mt: Int, activation: FusedActivation, vnni: Bool) -> (packed: [UInt8], out: [Float]) {
            let mr = Int8ConvWeights.mr, width = 16 * vectors, kq = (k + 3) / 4
            var packed = [UInt8](repeating: 0xAA, count: packedBytes)
            var out = [Float](repeating: .nan, count: mr * width)
            let correction = (0..<mr).map { input.zeroPoint &* weights.rowSums[mt * mr + $0] }
            let scale = (0..<mr).map { weights.scales[mt * mr + $0] * input.scale }
            let biasTile = (0..<mr).map { mt * mr + $0 < m ? bias[mt * mr + $0] : 0 }
            x.withUnsafeBufferPointer { xb in
                offsets.withUnsafeBufferPointer { ob in
                    packed.withUnsafeMutableBufferPointer { pb in
                        if vnni {
                            ConvInt8.packBlockVNNI(vectors: vectors, k: k, b: xb.baseAddress!, offsets: ob.baseAddress!,
                                                   quantization: input, into: pb.baseAddress!)
                        } else {
                            ConvInt8.packBlock(vectors: vectors, k: k, b: xb.baseAddress!, offsets: ob.baseAddress!,
                                               quantization: input, into: pb.baseAddress!)
                        }
                    }
                }
            }
            weights.quads.withUnsafeBufferPointer { ab in
                let a = ab.baseAddress! + mt * kq * mr * 4
                if vnni {
                    ConvInt8.tileVNNI(vectors: vectors, k: k, a: a, b: packed, correction: correction, scale: scale, bias: biasTile,
                                      out: &out, ld: width, activation: activation)
                } else {
                    ConvInt8.tile(vectors: vectors, k: k, a: a, b: packed, correction: correction, scale: scale, bias: biasTile,
                                  out: &out, ld: width, activation: activation)
                }
            }
            return (packed, out)
        }
    }

    @Test func portableTileApproximatesTheFP32Sums() {
        var rng = SplitMix64(seed: 0x18E7)
        for trial in 0..<20 {
            let block = Block(&rng, vectors: 1 + trial % 3, k: 1 + rng.int(0...37), m: 1 + rng.int(0...15))
            let mr = Int8ConvWeights.mr, width = 16 * block.vectors
            for mt in 0..<block.weights.mTiles {
                let out = block.run(tile: mt, activation: .none, vnni: false).out
                for r in 0..<Swift.min(mr, block.m - mt * mr) {
                    let row = mt * mr + r, ws = block.weights.scales[row], xs = block.input.scale
                    for p in 0..<width {
                        var exact = block.bias[row], bound: Float = 1e-4
                        for kk in 0..<block.k {
                            let w = block.w[row * block.k + kk], x = block.x[block.offsets[kk] + p]
                            exact += w * x
                            bound += abs(w) * xs / 2 + abs(x) * ws / 2 + ws * xs / 4
                        }
                        #expect(abs(out[r * width + p] - exact) <= bound, "trial \(trial) row \(row) pixel \(p)")
                    }
                }
            }
        }
    }

    @Test func vnniKernelsMatchTheirPortableTwins() throws {
        guard CPUFeatures.host.isSuperset(of: ConvInt8.vnniRequires) else {
            print("ConvInt8Tests: skipped the VNNI kernels: this CPU has \(CPUFeatures.host), they need \(ConvInt8.vnniRequires)")
            return
        }
        var rng = SplitMix64(seed: 0xD9B5)
        for trial in 0..<40 {
            let block = Block(&rng, vectors: 1 + trial % 3, k: 1 + rng.int(0...70), m: 1 + rng.int(0...20))
            let activation: FusedActivation = [.none, .relu, .sigmoid, .silu][trial % 4]
            for mt in 0..<block.weights.mTiles {
                let portable = block.run(tile: mt, activation: activation, vnni: false)
                let vnni = block.run(tile: mt, activation: activation, vnni: true)
                #expect(portable.packed == vnni.packed, "trial \(trial): packed bytes")
                expectClose(vnni.out, portable.out, atol: 1e-5, rtol: 1e-5, "trial \(trial) tile \(mt) \(activation)")
            }
        }
    }
}
