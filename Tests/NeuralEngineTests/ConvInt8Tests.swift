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

    @Test func weightQuadsHoldFourChannelsOfOneTap() {
        var rng = SplitMix64(seed: 0x7A95)
        let m = 9, channels = 6, taps = 9
        let w = rng.floats(m * channels * taps)
        let packed = Int8ConvWeights(w, m: m, channels: channels, taps: taps)
        let mr = Int8ConvWeights.mr
        #expect(packed.quadCount == 2 * taps)
        for row in 0..<m {
            for c in 0..<8 {
                for t in 0..<taps {
                    let q = packed.quads[((row / mr * packed.quadCount + (c / 4) * taps + t) * mr + row % mr) * 4 + c % 4]
                    if c >= channels {
                        #expect(q == 0, "padding channel \(c)")
                    } else {
                        let value = w[(row * channels + c) * taps + t]
                        #expect(abs(Float(q) * packed.scales[row] - value) <= packed.scales[row] / 2 + 1e-6, "row \(row) c \(c) t \(t)")
                    }
                }
            }
        }
    }

    /// One random block: weights of k channels at one tap, the k input rows of 16·vectors
    /// pixels, their quantisations.
    struct Block {
        let vectors: Int, k: Int, m: Int
        let w: [Float], x: [Float], bias: [Float]
        let weights: Int8ConvWeights
        let input: ActivationQuantization

        init(_ rng: inout SplitMix64, vectors: Int, k: Int, m: Int) {
            self.vectors = vectors
            self.k = k
            self.m = m
            w = rng.floats(m * k)
            x = rng.floats(k * 16 * vectors).map { $0 * 4 + 1 }
            bias = rng.floats(m)
            weights = Int8ConvWeights(w, m: m, k: k)
            input = ActivationQuantization(min: x.min()!, max: x.max()!)
        }

        var width: Int { 16 * vectors }
        var x4: Int { k * width }

        /// The tile of M tile `mt`, by the portable twins or by the VNNI kernels: the rows
        /// quantised into quad planes (x's element x4 of row kk is pixel p of row kk), then the tile.
        func run(tile mt: Int, activation: FusedActivation, vnni: Bool) -> (planes: [UInt32], out: [Float]) {
            let mr = Int8ConvWeights.mr, quads = weights.quadCount
            var planes = [UInt32](repeating: 0xAAAA_AAAA, count: quads * width)
            var out = [Float](repeating: .nan, count: mr * width)
            let correction = (0..<mr).map { input.zeroPoint &* weights.rowSums[mt * mr + $0] }
            let scale = (0..<mr).map { weights.scales[mt * mr + $0] * input.scale }
            let biasTile = (0..<mr).map { mt * mr + $0 < m ? bias[mt * mr + $0] : 0 }
            let offsets = (0..<quads).map { $0 * width }
            x.withUnsafeBufferPointer { xb in
                planes.withUnsafeMutableBufferPointer { pb in
                    for q in 0..<quads {
                        let rows: [UnsafePointer<Float>?] = (0..<4).map { 4 * q + $0 < k ? xb.baseAddress! + (4 * q + $0) * width : nil }
                        if vnni {
                            ConvInt8.quantizeQuadsVNNI(rows: rows, stride: 1, count: width, quantization: input, into: pb.baseAddress! + q * width)
                        } else {
                            ConvInt8.quantizeQuads(rows: rows, stride: 1, count: width, quantization: input, into: pb.baseAddress! + q * width)
                        }
                    }
                }
            }
            weights.quads.withUnsafeBufferPointer { ab in
                let a = ab.baseAddress! + mt * quads * mr * 4
                planes.withUnsafeBytes { bytes in
                    let b = bytes.bindMemory(to: UInt8.self).baseAddress!
                    if vnni {
                        ConvInt8.tileVNNI(vectors: vectors, quads: quads, a: a, b: b, offsets: offsets, correction: correction,
                                          scale: scale, bias: biasTile, out: &out, ld: width, activation: activation)
                    } else {
                        ConvInt8.tile(vectors: vectors, quads: quads, a: a, b: b, offsets: offsets, correction: correction,
                                      scale: scale, bias: biasTile, out: &out, ld: width, activation: activation)
                    }
                }
            }
            return (planes, out)
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
                            let w = block.w[row * block.k + kk], x = block.x[kk * width + p]
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
                #expect(portable.planes == vnni.planes, "trial \(trial): quantised quads")
                expectClose(vnni.out, portable.out, atol: 1e-5, rtol: 1e-5, "trial \(trial) tile \(mt) \(activation)")
            }
        }
    }

    @Test func vnniQuantisationMatchesItsTwinOnStridesTailsAndOddValues() throws {
        guard CPUFeatures.host.isSuperset(of: ConvInt8.vnniRequires) else {
            print("ConvInt8Tests: skipped the VNNI quantisation: this CPU has \(CPUFeatures.host), it needs \(ConvInt8.vnniRequires)")
            return
        }
        var rng = SplitMix64(seed: 0x5E1F)
        for trial in 0..<30 {
            let stride = [1, 2, 3][trial % 3], count = rng.int(0...70)
            // Each row exactly as long as the pixels read, so a read past its end would be caught by ASan
            // and would read the next row's values here.
            let length = count == 0 ? 0 : (count - 1) * stride + 1
            var values = rng.floats(4 * Swift.max(length, 1)).map { $0 * 9 }
            if values.count > 8 {
                values[3] = .nan
                values[5] = .infinity
                values[7] = -.infinity
            }
            let q = ActivationQuantization(min: -2, max: 5)
            let missing = trial % 5  // row index left out (4: none)
            var twin = [UInt32](repeating: 0, count: count), fast = [UInt32](repeating: 1, count: count)
            values.withUnsafeBufferPointer { vb in
                let rows: [UnsafePointer<Float>?] = (0..<4).map { $0 == missing ? nil : vb.baseAddress! + $0 * Swift.max(length, 1) }
                ConvInt8.quantizeQuads(rows: rows, stride: stride, count: count, quantization: q, into: &twin)
                ConvInt8.quantizeQuadsVNNI(rows: rows, stride: stride, count: count, quantization: q, into: &fast)
            }
            #expect(twin == fast, "trial \(trial): stride \(stride), \(count) pixels")
            if count > 0 {
                let zero = UInt32(q.zeroPoint)
                #expect(missing == 4 || twin.allSatisfy { ($0 >> (8 * UInt32(missing))) & 0xFF == zero }, "trial \(trial): missing row")
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
        for trial in 0..<24 {
            // Pointwise (read in place), 3 x 3 with stride 1 or 2, a strided 1 x 1, a dilated 5 x 5.
            let pointwise = trial % 2 == 0 && trial % 8 != 4, stride = trial % 3 == 0 || trial % 8 == 4 ? 2 : 1
            let kernel = pointwise || trial % 8 == 4 ? 1 : trial % 7 == 1 ? 5 : 3, dilation = kernel == 5 ? 2 : 1
            let pad = kernel == 1 ? 0 : (kernel / 2) * dilation - (trial % 5 == 0 ? 1 : 0)
            var p = Conv2DParams(batch: 1, inChannels: rng.int(1...12), inH: rng.int(3...20), inW: rng.int(3...70),
                                 outChannels: rng.int(1...20), kernelH: kernel, kernelW: kernel, group: 1,
                                 strideH: pointwise ? 1 : stride, strideW: pointwise ? 1 : stride, dilationH: dilation, dilationW: dilation,
                                 padTop: pad, padLeft: pad, outH: 0, outW: 0)
            p.outH = (p.inH + 2 * p.padTop - dilation * (kernel - 1) - 1) / p.strideH + 1
            p.outW = (p.inW + 2 * p.padLeft - dilation * (kernel - 1) - 1) / p.strideW + 1
            guard p.outH > 0, p.outW > 0 else { continue }
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
