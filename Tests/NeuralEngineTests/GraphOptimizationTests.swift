// Tests for load-time graph passes on hand-encoded ONNX models: the
// Conv -> Sigmoid -> Mul fusion gives the same output as the unfused graph
// (and as the reference conv + SiLU), Conv -> Relu fusion, fusion is skipped
// when an intermediate is a graph output, Concat -> pointwise Conv and
// Conv -> Split fusion (fp32, bf16 and int8, one image and a batch, and where
// they must not apply),
// constant folding of a shape subgraph, and liveness-based release of
// intermediates.

import Foundation
import SeededRandom
import Testing
@testable import NeuralEngine

@Suite struct GraphOptimizationTests {
    static func convSiLUModel(mulOrderSwapped: Bool = false, exposeSigmoid: Bool = false) -> [UInt8] {
        var rng = SplitMix64(seed: 2024)
        let w = Tensor(shape: [3, 2, 3, 3], floats: rng.floats(54))
        let b = Tensor(shape: [3], floats: rng.floats(3))
        var outputs: [(String, [NeuralEngine.Dimension])] = [("y", [.fixed(1), .fixed(3), .fixed(5), .fixed(5)])]
        if exposeSigmoid { outputs.append(("s", [.fixed(1), .fixed(3), .fixed(5), .fixed(5)])) }
        return OnnxTestWriter.model(
            nodes: [
                OnnxTestWriter.node("Conv", ["x", "w", "b"], ["c"], name: "/model.0/conv/Conv",
                                    [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1])), ("strides", .ints([1, 1]))]),
                OnnxTestWriter.node("Sigmoid", ["c"], ["s"], name: "/model.0/act/Sigmoid"),
                OnnxTestWriter.node("Mul", mulOrderSwapped ? ["s", "c"] : ["c", "s"], ["y"], name: "/model.0/act/Mul"),
            ],
            initializers: [("w", w), ("b", b)],
            inputs: [("x", [.fixed(1), .fixed(2), .fixed(5), .fixed(5)])],
            outputs: outputs)
    }

    @Test(arguments: [false, true])
    func convSiLUFusionMatchesUnfused(swapped: Bool) throws {
        let bytes = Self.convSiLUModel(mulOrderSwapped: swapped)
        let fused = try InferenceSession(data: bytes)
        let plain = try InferenceSession(data: bytes, options: SessionOptions(threads: 1, graphOptimizations: false))
        #expect(fused.graph.nodes.count == 1)
        #expect(fused.graph.nodes.first?.fusedActivation == .silu)
        #expect(plain.graph.nodes.count == 3)
        var rng = SplitMix64(seed: 5)
        let x = Tensor(shape: [1, 2, 5, 5], floats: rng.floats(50, in: -3...3))
        let a = try #require(try fused.run(["x": x])["y"])
        let b = try #require(try plain.run(["x": x])["y"])
        #expect(a.shape == [1, 3, 5, 5])
        expectClose(a.floats, b.floats, atol: 1e-5, "fused vs unfused")
    }

    @Test func fusionSkippedWhenIntermediateIsGraphOutput() throws {
        let s = try InferenceSession(data: Self.convSiLUModel(exposeSigmoid: true))
        #expect(s.graph.nodes.count == 3)
        #expect(s.graph.nodes.allSatisfy { $0.fusedActivation == .none })
        let out = try s.run(["x": Tensor(shape: [1, 2, 5, 5], floats: Array(repeating: 0.5, count: 50))])
        #expect(out.keys.sorted() == ["s", "y"])
    }

    @Test func convReluFusion() throws {
        let bytes = OnnxTestWriter.model(
            nodes: [OnnxTestWriter.node("Conv", ["x", "w"], ["c"], name: "conv"),
                    OnnxTestWriter.node("Relu", ["c"], ["y"], name: "relu")],
            initializers: [("w", floatTensor([1, 1, 1, 1], [-1]))],
            inputs: [("x", [.fixed(1), .fixed(1), .fixed(1), .fixed(3)])],
            outputs: [("y", [.fixed(1), .fixed(1), .fixed(1), .fixed(3)])])
        let s = try InferenceSession(data: bytes)
        #expect(s.graph.nodes.count == 1 && s.graph.nodes[0].fusedActivation == .relu)
        #expect(try s.run(["x": floatTensor([1, 1, 1, 3], [-1, 0, 2])])["y"]?.floats == [1, 0, 0])
    }

    /// x (6 channels) -> a (3 x 3 conv, 5 channels) and b (1 x 1 conv, 7), Concat(a, x, b) -> 18
    /// channels, whose channel quads straddle the three sources -> `mix` (kernel 1 x 1 unless
    /// `mixKernel`) + SiLU -> y. 7 x 9 pixels: a pixel block with a tail.
    static func concatConvModel(mixKernel: Int = 1, exposeConcat: Bool = false) -> [UInt8] {
        var rng = SplitMix64(seed: 0xC0CA)
        let dims: [NeuralEngine.Dimension] = [.symbolic("batch"), .fixed(9), .fixed(7), .fixed(9)]
        var outputs: [(String, [NeuralEngine.Dimension])] = [("y", dims)]
        if exposeConcat { outputs.append(("cat", [.symbolic("batch"), .fixed(18), .fixed(7), .fixed(9)])) }
        let k = Int64(mixKernel), pad = k / 2
        return OnnxTestWriter.model(
            nodes: [
                OnnxTestWriter.node("Conv", ["x", "wa"], ["a"], name: "a", [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1]))]),
                OnnxTestWriter.node("Conv", ["x", "wb", "bb"], ["b"], name: "b"),
                OnnxTestWriter.node("Concat", ["a", "x", "b"], ["cat"], name: "cat", [("axis", .int(1))]),
                OnnxTestWriter.node("Conv", ["cat", "wm", "bm"], ["m"], name: "mix",
                                    [("kernel_shape", .ints([k, k])), ("pads", .ints([pad, pad, pad, pad]))]),
                OnnxTestWriter.node("Sigmoid", ["m"], ["s"], name: "sigmoid"),
                OnnxTestWriter.node("Mul", ["m", "s"], ["y"], name: "silu"),
            ],
            initializers: [("wa", Tensor(shape: [5, 6, 3, 3], floats: rng.floats(270))),
                           ("wb", Tensor(shape: [7, 6, 1, 1], floats: rng.floats(42))), ("bb", Tensor(shape: [7], floats: rng.floats(7))),
                           ("wm", Tensor(shape: [9, 18, mixKernel, mixKernel], floats: rng.floats(162 * mixKernel * mixKernel))),
                           ("bm", Tensor(shape: [9], floats: rng.floats(9)))],
            inputs: [("x", [.symbolic("batch"), .fixed(6), .fixed(7), .fixed(9)])],
            outputs: outputs)
    }

    @Test(arguments: [1, 2])
    func concatConvFusionMatchesUnfused(batch: Int) throws {
        let bytes = Self.concatConvModel()
        let fused = try InferenceSession(data: bytes, options: SessionOptions(threads: 2))
        let plain = try InferenceSession(data: bytes, options: SessionOptions(threads: 2, graphOptimizations: false))
        #expect(!fused.graph.nodes.contains { $0.opType == "Concat" })
        let mix = try #require(fused.graph.nodes.first { $0.name == "mix" })
        #expect(mix.concatInputs == 3 && mix.inputs.count == 5 && mix.fusedActivation == .silu)
        var rng = SplitMix64(seed: 77)
        let x = Tensor(shape: [batch, 6, 7, 9], floats: rng.floats(batch * 6 * 63, in: -2...2))
        let a = try #require(try fused.run(["x": x])["y"]), b = try #require(try plain.run(["x": x])["y"])
        #expect(a.shape == [batch, 9, 7, 9])
        expectClose(a.floats, b.floats, atol: 1e-5, "fused vs unfused, batch \(batch)")
        try Self.expectFusionMatches(bytes, feed: ["x": x], "batch \(batch)")
    }

    /// Every kernel set this CPU runs, in fp32 and (where the CPU has it) bf16: each output of the
    /// optimised graph against the unoptimised graph's.
    static func expectFusionMatches(_ bytes: [UInt8], feed: [String: Tensor], _ label: String) throws {
        for kernels in ConvPackedParityTests.runnable {
            for precision in [Precision.fp32, .bf16] where precision.runs(on: .host) {
                var options = SessionOptions(threads: 2)
                options.kernels = kernels
                options.precision = precision
                var unfused = options
                unfused.graphOptimizations = false
                let a = try InferenceSession(data: bytes, options: options).run(feed)
                let b = try InferenceSession(data: bytes, options: unfused).run(feed)
                #expect(a.keys.sorted() == b.keys.sorted())
                for (name, tensor) in b {
                    let fusedTensor = try #require(a[name])
                    #expect(fusedTensor.shape == tensor.shape)
                    expectClose(fusedTensor.floats, tensor.floats, atol: 1e-5, rtol: 1e-5, "\(name) \(kernels) \(precision) \(label)")
                }
            }
        }
    }

    /// int8 sessions of the optimised and of the unoptimised graph, with the same calibration.
    static func int8Sessions(_ bytes: [UInt8], ranges: [String: ClosedRange<Float>]) throws -> (fused: InferenceSession, plain: InferenceSession) {
        func session(_ optimised: Bool) throws -> InferenceSession {
            var options = SessionOptions(threads: 2, graphOptimizations: optimised)
            options.precision = .int8
            options.int8Inputs = ranges
            return try InferenceSession(data: bytes, options: options)
        }
        return (try session(true), try session(false))
    }

    @Test func concatConvFusionInInt8ReadsTheSameQuantisedValues() throws {
        guard CPUFeatures.host.isSuperset(of: ConvInt8.vnniRequires) else {
            print("GraphOptimizationTests: skipped int8 Concat+Conv: this CPU lacks AVX512_VNNI")
            return
        }
        let bytes = Self.concatConvModel()
        var rng = SplitMix64(seed: 78)
        let feeds = (0..<3).map { _ in ["x": Tensor(shape: [1, 6, 7, 9], floats: rng.floats(6 * 63, in: -2...2))] }
        let ranges = try InferenceSession(data: bytes).calibrationRanges(runs: feeds.count) { feeds[$0] }
        let plainRanges = try InferenceSession(data: bytes, options: SessionOptions(threads: 1, graphOptimizations: false))
            .calibrationRanges(runs: feeds.count) { feeds[$0] }
        // The fused convolution records the range of all its sources together: the Concat's.
        #expect(ranges["mix"] == plainRanges["mix"] && ranges.count == 3)
        let (fused, plain) = try Self.int8Sessions(bytes, ranges: ranges)
        #expect(fused.int8Convolutions == 3 && plain.int8Convolutions == 3)
        for feed in feeds {
            let a = try #require(try fused.run(feed)["y"]), b = try #require(try plain.run(feed)["y"])
            // Same u8 inputs and int32 sums; only the SiLU differs (fused epilogue against Sigmoid and Mul).
            expectClose(a.floats, b.floats, atol: 1e-5, rtol: 1e-5, "int8 fused vs unfused")
        }
    }

    @Test func concatConvFusionNeedsAPointwiseConvAndAPrivateConcat() throws {
        for bytes in [Self.concatConvModel(mixKernel: 3), Self.concatConvModel(exposeConcat: true)] {
            let s = try InferenceSession(data: bytes)
            #expect(s.graph.nodes.contains { $0.opType == "Concat" })
            #expect(s.graph.nodes.allSatisfy { $0.concatInputs == 0 })
            let out = try s.run(["x": Tensor(shape: [1, 6, 7, 9], floats: Array(repeating: 0.25, count: 378))])
            #expect(out["y"]?.shape == [1, 9, 7, 9])
        }
    }

    /// x (6 channels) -> a (3 x 3 conv, 5 channels); Concat(a, x) -> `cut` (1 x 1 conv + SiLU,
    /// 24 channels, or 3 x 3 when `cutKernel` is 3) -> Split(`parts`, or even halves when nil)
    /// -> the parts as graph outputs.
    static func convSplitModel(parts: [Int64]?, cutKernel: Int64 = 1, outputs count: Int = 2) -> [UInt8] {
        var rng = SplitMix64(seed: 0x5B17)
        let sizes = parts.map { $0.map(Int.init) } ?? Array(repeating: 24 / count, count: count)
        let names = (0..<sizes.count).map { "part\($0)" }
        var initializers: [(String, Tensor)] = [("wa", Tensor(shape: [5, 6, 3, 3], floats: rng.floats(270))),
                                                 ("wc", Tensor(shape: [24, 11, Int(cutKernel), Int(cutKernel)],
                                                               floats: rng.floats(264 * Int(cutKernel * cutKernel)))),
                                                 ("bc", Tensor(shape: [24], floats: rng.floats(24)))]
        var splitInputs = ["y"]
        if let parts {
            initializers.append(("sizes", intTensor([parts.count], parts)))
            splitInputs.append("sizes")
        }
        let pad = cutKernel / 2
        return OnnxTestWriter.model(
            nodes: [
                OnnxTestWriter.node("Conv", ["x", "wa"], ["a"], name: "a", [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1]))]),
                OnnxTestWriter.node("Concat", ["a", "x"], ["cat"], name: "cat", [("axis", .int(1))]),
                OnnxTestWriter.node("Conv", ["cat", "wc", "bc"], ["c"], name: "cut",
                                    [("kernel_shape", .ints([cutKernel, cutKernel])), ("pads", .ints([pad, pad, pad, pad]))]),
                OnnxTestWriter.node("Sigmoid", ["c"], ["s"], name: "sigmoid"),
                OnnxTestWriter.node("Mul", ["c", "s"], ["y"], name: "silu"),
                OnnxTestWriter.node("Split", splitInputs, names, name: "split", [("axis", .int(1))]),
            ],
            initializers: initializers,
            inputs: [("x", [.symbolic("batch"), .fixed(6), .fixed(7), .fixed(9)])],
            outputs: zip(names, sizes).map { ($0, [.symbolic("batch"), .fixed($1), .fixed(7), .fixed(9)]) })
    }

    @Test(arguments: [1, 2])
    func convSplitFusionWritesEachPartWhereItBelongs(batch: Int) throws {
        var rng = SplitMix64(seed: 79)
        let x = Tensor(shape: [batch, 6, 7, 9], floats: rng.floats(batch * 6 * 63, in: -2...2))
        // Sizes from a constant input (with a 1 x 1 convolution reading a Concat, and a 3 x 3 one), and even thirds.
        for (parts, kernel) in [([16, 8], 1), ([8, 16], 3), (nil, 1)] as [([Int64]?, Int64)] {
            let bytes = Self.convSplitModel(parts: parts, cutKernel: kernel, outputs: parts == nil ? 3 : 2)
            let fused = try InferenceSession(data: bytes, options: SessionOptions(threads: 2))
            let cut = try #require(fused.graph.nodes.first { $0.name == "cut" })
            #expect(!fused.graph.nodes.contains { $0.opType == "Split" })
            #expect(cut.splitOutputs == (parts?.map(Int.init) ?? [8, 8, 8]), "\(String(describing: parts))")
            #expect(cut.concatInputs == (kernel == 1 ? 2 : 0))
            try Self.expectFusionMatches(bytes, feed: ["x": x], "parts \(String(describing: parts)), batch \(batch)")
        }
    }

    @Test func convSplitFusionInInt8() throws {
        guard CPUFeatures.host.isSuperset(of: ConvInt8.vnniRequires) else {
            print("GraphOptimizationTests: skipped int8 Conv+Split: this CPU lacks AVX512_VNNI")
            return
        }
        let bytes = Self.convSplitModel(parts: [16, 8])
        var rng = SplitMix64(seed: 80)
        let feeds = (0..<3).map { _ in ["x": Tensor(shape: [1, 6, 7, 9], floats: rng.floats(6 * 63, in: -2...2))] }
        let ranges = try InferenceSession(data: bytes).calibrationRanges(runs: feeds.count) { feeds[$0] }
        let (fused, plain) = try Self.int8Sessions(bytes, ranges: ranges)
        #expect(fused.int8Convolutions == 2)
        for feed in feeds {
            let a = try fused.run(feed), b = try plain.run(feed)
            for name in ["part0", "part1"] {
                expectClose(try #require(a[name]).floats, try #require(b[name]).floats, atol: 1e-5, rtol: 1e-5, "int8 \(name)")
            }
        }
    }

    @Test func convSplitFusionNeedsWholeTilesAndAPrivateOutput() throws {
        // 12 + 12 would cut an 8-channel tile in two; three parts of 8 are fine.
        let straddling = try InferenceSession(data: Self.convSplitModel(parts: [12, 12]))
        #expect(straddling.graph.nodes.contains { $0.opType == "Split" })
        let thirds = try InferenceSession(data: Self.convSplitModel(parts: nil, outputs: 3))
        #expect(thirds.graph.nodes.first { $0.name == "cut" }?.splitOutputs == [8, 8, 8])
        let x = Tensor(shape: [1, 6, 7, 9], floats: Array(repeating: 0.5, count: 378))
        let plain = try InferenceSession(data: Self.convSplitModel(parts: nil, outputs: 3),
                                         options: SessionOptions(threads: 1, graphOptimizations: false)).run(["x": x])
        let fused = try thirds.run(["x": x])
        for name in ["part0", "part1", "part2"] {
            expectClose(try #require(fused[name]).floats, try #require(plain[name]).floats, atol: 1e-5, name)
        }
        #expect(try straddling.run(["x": x])["part1"]?.shape == [1, 12, 7, 9])
    }

    /// Non-simplified export pattern: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    static func shapeSubgraphModel() -> [UInt8] {
        OnnxTestWriter.model(
            nodes: [
                OnnxTestWriter.node("Shape", ["x"], ["shape"], name: "shape"),
                OnnxTestWriter.node("Constant", [], ["zero"], name: "zero", [("value", .tensor(intTensor([], [0])))]),
                OnnxTestWriter.node("Gather", ["shape", "zero"], ["n"], name: "gather", [("axis", .int(0))]),
                OnnxTestWriter.node("Unsqueeze", ["n", "axes0"], ["n1"], name: "unsqueeze"),
                OnnxTestWriter.node("Concat", ["n1", "minus1"], ["target"], name: "concat", [("axis", .int(0))]),
                OnnxTestWriter.node("Reshape", ["x", "target"], ["y"], name: "reshape"),
            ],
            initializers: [("axes0", intTensor([1], [0])), ("minus1", intTensor([1], [-1]))],
            inputs: [("x", [.symbolic("batch"), .fixed(2), .fixed(3)])],
            outputs: [("y", [.symbolic("batch"), .fixed(6)])])
    }

    @Test func shapeSubgraphRunsAndConstantsFold() throws {
        let s = try InferenceSession(data: Self.shapeSubgraphModel())
        // The Constant node folds away; the rest depends on the runtime input.
        #expect(!s.graph.nodes.contains { $0.opType == "Constant" })
        let out = try s.run(["x": iota([2, 2, 3])])
        #expect(out["y"]?.shape == [2, 6])
        #expect(out["y"]?.floats == iota([12]).floats)
    }

    @Test func fullyConstantSubgraphFolds() throws {
        let bytes = OnnxTestWriter.model(
            nodes: [
                OnnxTestWriter.node("Range", ["start", "limit", "delta"], ["r"], name: "range"),
                OnnxTestWriter.node("Cast", ["r"], ["rf"], name: "cast", [("to", .int(1))]),
                OnnxTestWriter.node("Add", ["x", "rf"], ["y"], name: "add"),
            ],
            initializers: [("start", intTensor([], [0])), ("limit", intTensor([], [3])), ("delta", intTensor([], [1]))],
            inputs: [("x", [.fixed(3)])], outputs: [("y", [.fixed(3)])], opset: 13)
        let s = try InferenceSession(data: bytes)
        #expect(s.graph.nodes.map(\.opType) == ["Add"])
        #expect(try s.run(["x": floatTensor([3], [10, 10, 10])])["y"]?.floats == [10, 11, 12])
    }

    @Test func livenessReleasesIntermediates() throws {
        let s = try InferenceSession(data: Self.convSiLUModel(), options: SessionOptions(threads: 1, graphOptimizations: false))
        let release = Executor.liveness(s.graph)
        let names = release.map { $0.map { s.graph.valueNames[$0] }.sorted() }
        // x is last used by Conv (node 0); c and s by Mul (node 2); y is a graph output and never released.
        #expect(names == [["x"], [], ["c", "s"]])
    }

    @Test func sessionIsUsableFromSeveralThreads() async throws {
        let s = try InferenceSession(data: Self.convSiLUModel(), options: SessionOptions(threads: 2))
        let x = Tensor(shape: [1, 2, 5, 5], floats: (0..<50).map { Float($0) / 50 })
        let expected = try s.run(["x": x])["y"]!.floats
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<4 { group.addTask { try s.run(["x": x])["y"]!.floats } }
            for try await r in group { #expect(r == expected) }
        }
    }
}
