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

    @Test func int8ConvolutionsStayWithinTheQuantisationBound() throws {
        guard CPUFeatures.host.isSuperset(of: ConvInt8.vnniRequires) else {
            print("ConvInt8Tests: skipped int8 convolutions: this CPU lacks AVX512_VNNI")
            return
        }
        var rng = SplitMix64(seed: 0x1C07)
        let context = ExecutionContext(threads: 2, precision: .int8)
        for trial in 0..<16 {
            let pointwise = trial % 2 == 0, stride = trial % 3 == 0 ? 2 : 1, kernel = pointwise ? 1 : 3
            var p = Conv2DParams(batch: 1, inChannels: rng.int(1...12), inH: rng.int(3...20), inW: rng.int(3...70),
                                 outChannels: rng.int(1...20), kernelH: kernel, kernelW: kernel, group: 1,
                                 strideH: pointwise ? 1 : stride, strideW: pointwise ? 1 : stride, dilationH: 1, dilationW: 1,
                                 padTop: pointwise ? 0 : 1, padLeft: pointwise ? 0 : 1, outH: 0, outW: 0)
            p.outH = (p.inH + 2 * p.padTop - kernel) / p.strideH + 1
            p.outW = (p.inW + 2 * p.padLeft - kernel) / p.strideW + 1
            let x = rng.floats(p.inChannels * p.inH * p.inW).map { $0 * 3 + 0.5 }
            let w = rng.floats(p.outChannels * p.inChannels * kernel * kernel)
            let bias = rng.floats(p.outChannels)
            let input = ActivationQuantization(min: x.min()!, max: x.max()!)
            context.int8Inputs = [0: input]
            let int8 = ConvPacked.run(x: x, w: w, bias: bias, p, activation: .none, context: context)
            let exact = ConvKernel.reference(x: x, w: w, bias: bias, p, activation: .none)
            let weights = Int8ConvWeights(w, m: p.outChannels, k: p.patchSize)
            let wMax = w.map(abs).max()!, xMax = Swift.max(x.map(abs).max()!, 0), sw = weights.scales.max()!
            let bound = Float(p.patchSize) * (wMax * input.scale / 2 + xMax * sw / 2 + sw * input.scale / 4) + 1e-4
            let worst = zip(int8, exact).map { abs($0 - $1) }.max()!
            #expect(worst <= bound, "trial \(trial) \(p): error \(worst) over the bound \(bound)")
            // And the int8 path really ran: it differs from fp32 somewhere, within the bound.
            #expect(worst > 0, "trial \(trial): int8 gave exactly the fp32 sums")
        }
    }

    @Test func calibratedSessionsRunTheirConvolutionsInInt8() throws {
        guard CPUFeatures.host.isSuperset(of: ConvInt8.vnniRequires) else {
            print("ConvInt8Tests: skipped the int8 session: this CPU lacks AVX512_VNNI")
            return
        }
        let path = FixtureManifest.path("models/v8_op20_dyn.onnx")
        var rng = SplitMix64(seed: 0xCA1B)
        let feeds = (0..<2).map { _ in ["images": Tensor(shape: [1, 3, 64, 96], floats: rng.floats(3 * 64 * 96).map { abs($0) })] }
        let fp32 = try InferenceSession(path: path, options: SessionOptions(threads: 2))
        let inputName = try #require(fp32.inputs.first?.name)
        let named = feeds.map { [inputName: $0["images"]!] }
        let ranges = try fp32.calibrationRanges(runs: named.count) { named[$0] }
        #expect(ranges.count > 10, "\(ranges.count) calibrated convolutions")
        #expect(ranges.values.allSatisfy { $0.lowerBound.isFinite && $0.upperBound.isFinite })
        var options = SessionOptions(threads: 2)
        options.precision = .int8
        options.int8Inputs = ranges
        let int8 = try InferenceSession(path: path, options: options)
        #expect(int8.int8Convolutions == ranges.count)
        #expect(throws: EngineError.self) { try int8.calibrationRanges(runs: named.count) { named[$0] } }
        let reference = try fp32.run(named[0]).values.first!.floats
        let quantised = try int8.run(named[0]).values.first!.floats
        #expect(reference.count == quantised.count && quantised.allSatisfy(\.isFinite))
        // Random weights amplify rounding; the outputs still follow fp32's closely.
        let meanAbs = reference.map(abs).reduce(0, +) / Float(reference.count)
        let meanError = zip(reference, quantised).map { abs($0 - $1) }.reduce(0, +) / Float(reference.count)
        print("ConvInt8Tests: int8 against fp32 on v8_op20_dyn: mean |error| \(meanError), mean |value| \(meanAbs)")
        #expect(meanError < 0.1 * meanAbs)
    }
}
