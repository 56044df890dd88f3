// Tests for load-time graph passes on hand-encoded ONNX models: the
// Conv -> Sigmoid -> Mul fusion gives the same output as the unfused graph
// (and as the reference conv + SiLU), Conv -> Relu fusion, fusion is skipped
// when an intermediate is a graph output, constant folding of a shape
// subgraph, and liveness-based release of intermediates.

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
