// Parity tests between each optimised kernel and its reference kernel on
// seeded random shapes: Conv (im2col + sgemm, including the 1x1 fast path,
// groups, depthwise, dilation, stride, padding and fused activations),
// batched/broadcast MatMul via sgemm, and Gemm via sgemm. Tolerance:
// |opt - ref| <= 1e-4 + 1e-4 * |ref|; failures report the first bad index
// and the maximum difference.

import Foundation
import SeededRandom
import Testing
@testable import NeuralEngine

@Suite struct KernelParityTests {
    static let atol: Float = 1e-4
    static let rtol: Float = 1e-4

    @Test func convGemmMatchesReference() throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        let contexts = [ExecutionContext(threads: 1), ExecutionContext(threads: 3)]
        var checked = 0
        for trial in 0..<60 {
            let context = contexts[trial % 2]
            let group = [1, 1, 2, 3][rng.int(0...3)]
            let depthwise = trial % 7 == 0
            let cg = depthwise ? 1 : rng.int(1...4), mg = depthwise ? 1 : rng.int(1...4)
            let g = depthwise ? rng.int(2...5) : group
            let k = rng.int(1...3), kw = trial % 5 == 0 ? rng.int(1...3) : k
            let pointwise = trial % 6 == 0
            var p = Conv2DParams(
                batch: rng.int(1...2), inChannels: cg * g, inH: rng.int(1...9), inW: rng.int(1...9),
                outChannels: mg * g, kernelH: pointwise ? 1 : k, kernelW: pointwise ? 1 : kw, group: g,
                strideH: pointwise ? 1 : rng.int(1...2), strideW: pointwise ? 1 : rng.int(1...2),
                dilationH: pointwise ? 1 : rng.int(1...2), dilationW: pointwise ? 1 : rng.int(1...2),
                padTop: pointwise ? 0 : rng.int(0...2), padLeft: pointwise ? 0 : rng.int(0...2), outH: 0, outW: 0)
            let padBottom = pointwise ? 0 : rng.int(0...2), padRight = pointwise ? 0 : rng.int(0...2)
            let extH = (p.kernelH - 1) * p.dilationH + 1, extW = (p.kernelW - 1) * p.dilationW + 1
            let spanH = p.inH + p.padTop + padBottom - extH, spanW = p.inW + p.padLeft + padRight - extW
            if spanH < 0 || spanW < 0 { continue }
            p.outH = spanH / p.strideH + 1
            p.outW = spanW / p.strideW + 1
            let x = rng.floats(p.batch * p.inChannels * p.inH * p.inW)
            let w = rng.floats(p.outChannels * cg * p.kernelH * p.kernelW)
            let bias: [Float]? = trial % 3 == 0 ? nil : rng.floats(p.outChannels)
            let act: FusedActivation = [.none, .relu, .silu, .sigmoid][trial % 4]
            let opt = ConvGemm.run(x: x, w: w, bias: bias, p, activation: act, context: context)
            let ref = ConvKernel.reference(x: x, w: w, bias: bias, p, activation: act)
            expectClose(opt, ref, atol: Self.atol, rtol: Self.rtol, "conv trial \(trial) \(p) act \(act)")
            checked += 1
        }
        #expect(checked > 30)
    }

    @Test func convDepthwiseMatchesReference() {
        var rng = SplitMix64(seed: 0xD3E9)
        var checked = 0
        for trial in 0..<30 {
            let channels = rng.int(2...6), multiplier = trial % 4 == 0 ? 2 : 1
            var p = Conv2DParams(
                batch: rng.int(1...2), inChannels: channels, inH: rng.int(1...9), inW: rng.int(1...9),
                outChannels: channels * multiplier, kernelH: rng.int(1...3), kernelW: rng.int(1...3), group: channels,
                strideH: rng.int(1...2), strideW: rng.int(1...2), dilationH: rng.int(1...2), dilationW: rng.int(1...2),
                padTop: rng.int(0...2), padLeft: rng.int(0...2), outH: 0, outW: 0)
            let padBottom = rng.int(0...2), padRight = rng.int(0...2)
            let spanH = p.inH + p.padTop + padBottom - ((p.kernelH - 1) * p.dilationH + 1)
            let spanW = p.inW + p.padLeft + padRight - ((p.kernelW - 1) * p.dilationW + 1)
            if spanH < 0 || spanW < 0 { continue }
            p.outH = spanH / p.strideH + 1
            p.outW = spanW / p.strideW + 1
            #expect(ConvDepthwise.canRun(p))
            let x = rng.floats(p.batch * p.inChannels * p.inH * p.inW)
            let w = rng.floats(p.outChannels * p.kernelH * p.kernelW)
            let bias: [Float]? = trial % 3 == 0 ? nil : rng.floats(p.outChannels)
            let act: FusedActivation = [.none, .relu, .silu, .sigmoid][trial % 4]
            expectClose(ConvDepthwise.run(x: x, w: w, bias: bias, p, activation: act, pool: WorkerPool(threads: 1 + trial % 3)),
                        ConvKernel.reference(x: x, w: w, bias: bias, p, activation: act),
                        atol: Self.atol, rtol: Self.rtol, "depthwise trial \(trial) \(p)")
            checked += 1
        }
        #expect(checked > 15)
    }

    @Test func convPointwiseFastPathIsTaken() {
        let p = Conv2DParams(batch: 1, inChannels: 4, inH: 3, inW: 5, outChannels: 2, kernelH: 1, kernelW: 1, group: 1,
                             strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, outH: 3, outW: 5)
        #expect(p.isPointwise)
        var rng = SplitMix64(seed: 7)
        let x = rng.floats(60), w = rng.floats(8), b = rng.floats(2)
        expectClose(ConvGemm.run(x: x, w: w, bias: b, p, activation: .silu, context: ExecutionContext(threads: 1)),
                    ConvKernel.reference(x: x, w: w, bias: b, p, activation: .silu),
                    atol: Self.atol, rtol: Self.rtol, "pointwise")
    }

    @Test func separableMaxPoolMatchesReference() {
        var rng = SplitMix64(seed: 0x9001)
        for trial in 0..<30 {
            let k = rng.int(1...5)
            var p = Conv2DParams(
                batch: rng.int(1...2), inChannels: rng.int(1...3), inH: rng.int(1...9), inW: rng.int(1...9),
                outChannels: 0, kernelH: k, kernelW: trial % 3 == 0 ? rng.int(1...5) : k, group: 1,
                strideH: rng.int(1...3), strideW: rng.int(1...3), dilationH: 1, dilationW: 1,
                padTop: 0, padLeft: 0, outH: 0, outW: 0)
            p.padTop = rng.int(0...(p.kernelH - 1)); p.padLeft = rng.int(0...(p.kernelW - 1))
            let spanH = p.inH + 2 * p.padTop - p.kernelH, spanW = p.inW + 2 * p.padLeft - p.kernelW
            if spanH < 0 || spanW < 0 { continue }
            p.outChannels = p.inChannels
            p.outH = spanH / p.strideH + 1
            p.outW = spanW / p.strideW + 1
            let x = rng.floats(p.batch * p.inChannels * p.inH * p.inW)
            expectClose(MaxPoolSeparable.compute(x, p), MaxPoolKernel.reference(x, p), atol: 0, "maxpool trial \(trial) \(p)")
        }
    }

    @Test func stride1MaxPoolMatchesReference() {
        // The flat-grid path (SPPF's pools), with NaN and -inf among the values.
        var rng = SplitMix64(seed: 0x5FF)
        for trial in 0..<24 {
            let kh = rng.int(1...5), kw = trial % 4 == 0 ? rng.int(1...5) : kh
            var p = Conv2DParams(
                batch: rng.int(1...2), inChannels: rng.int(1...4), inH: rng.int(1...21), inW: rng.int(1...21),
                outChannels: 0, kernelH: kh, kernelW: kw, group: 1,
                strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
                padTop: rng.int(0...(kh - 1)), padLeft: rng.int(0...(kw - 1)), outH: 0, outW: 0)
            let spanH = p.inH + 2 * p.padTop - p.kernelH, spanW = p.inW + 2 * p.padLeft - p.kernelW
            if spanH < 0 || spanW < 0 { continue }
            p.outChannels = p.inChannels
            p.outH = spanH + 1
            p.outW = spanW + 1
            var x = rng.floats(p.batch * p.inChannels * p.inH * p.inW)
            if trial % 3 == 1 { x[rng.int(0...(x.count - 1))] = .nan }
            if trial % 3 == 2 { x[rng.int(0...(x.count - 1))] = -.infinity }
            let fast = MaxPoolSeparable.compute(x, p), reference = MaxPoolKernel.reference(x, p)
            #expect(fast.count == reference.count)
            for (a, b) in zip(fast, reference) {
                #expect(a == b || (a.isNaN && b.isNaN), "trial \(trial) \(p)")
            }
        }
    }

    @Test func vectorExpMatchesLibm() {
        var maxRel: Float = 0
        var x: Float = -87
        while x <= 88 {
            let e = VectorMath.exp(x), r = expf(x)
            maxRel = max(maxRel, abs(e - r) / r)
            x += 0.0137
        }
        #expect(maxRel < 1e-6, "max relative error \(maxRel)")
        // Saturation without inf/NaN at the extremes.
        #expect(VectorMath.sigmoid(-1000) == 0 || VectorMath.sigmoid(-1000) < 1e-30)
        #expect(VectorMath.sigmoid(1000) == 1)
        #expect(VectorMath.silu(1000) == 1000)
        #expect(abs(VectorMath.silu(-1000)) < 1e-30)
        var buf: [Float] = [-3, -0.5, 0, 0.5, 3, 20]
        buf.withUnsafeMutableBufferPointer { VectorMath.applySiLU($0.baseAddress!, count: $0.count, bias: 1) }
        expectClose(buf, [-2, 0.5, 1, 1.5, 4, 21].map { $0 / (1 + expf(-$0)) }, atol: 1e-6, "silu")
    }

    @Test func matMulGemmMatchesReference() throws {
        var rng = SplitMix64(seed: 0xBEEF)
        let batchShapes: [([Int], [Int])] = [([], []), ([3], []), ([], [2]), ([2, 1], [1, 3]), ([4], [4]), ([1, 2], [2])]
        for (trial, (ab, bb)) in batchShapes.enumerated() {
            for _ in 0..<3 {
                let m = rng.int(1...7), k = rng.int(1...9), n = rng.int(1...8)
                let aShape = ab + [m, k], bShape = bb + [k, n]
                let a = rng.floats(aShape.reduce(1, *)), b = rng.floats(bShape.reduce(1, *))
                let plan = try MatMulKernel.plan(aShape, bShape)
                expectClose(MatMulGemm.run(a, b, plan), MatMulKernel.reference(a, b, plan),
                            atol: Self.atol, rtol: Self.rtol, "matmul trial \(trial) \(aShape) x \(bShape)")
            }
        }
    }

    @Test func gemmMatchesReference() throws {
        var rng = SplitMix64(seed: 99)
        for trial in 0..<8 {
            let m = rng.int(1...6), k = rng.int(1...6), n = rng.int(1...6)
            let ta = trial & 1 != 0, tb = trial & 2 != 0
            let attrs: [String: AttributeValue] = ["transA": .int(ta ? 1 : 0), "transB": .int(tb ? 1 : 0),
                                                   "alpha": .float(0.5), "beta": .float(trial & 4 != 0 ? 2 : 0)]
            let a = Tensor(shape: ta ? [k, m] : [m, k], floats: rng.floats(m * k))
            let b = Tensor(shape: tb ? [n, k] : [k, n], floats: rng.floats(k * n))
            let c = Tensor(shape: [n], floats: rng.floats(n))
            let opt = try run1("Gemm", [a, b, c], attrs)
            let kernel = try GemmKernel(node: Node(name: "g", opType: "Gemm", domain: "", inputs: [], outputs: [],
                                                   attributes: NodeAttributes(attrs)))
            let ref = try kernel.reference(a, b, c)
            #expect(opt.shape == ref.shape)
            expectClose(opt.floats, ref.floats, atol: Self.atol, rtol: Self.rtol, "gemm trial \(trial)")
        }
    }
}
