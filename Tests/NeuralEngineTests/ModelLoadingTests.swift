// Tests for ONNX model loading through InferenceSession on models encoded by
// hand: metadata and I/O description, unsupported-operator errors, graph
// validation, and robustness against truncated or random bytes.

import SeededRandom
import Testing
@testable import NeuralEngine

@Suite struct ModelLoadingTests {
    static func addModel(opset: Int = 17) -> [UInt8] {
        OnnxTestWriter.model(
            nodes: [OnnxTestWriter.node("Add", ["x", "bias"], ["y"], name: "/add")],
            initializers: [("bias", floatTensor([3], [1, 2, 3]))],
            inputs: [("x", [.symbolic("batch"), .fixed(3)])],
            outputs: [("y", [.symbolic("batch"), .fixed(3)])],
            opset: opset,
            metadata: [("names", "{0: 'short', 1: 'open'}"), ("stride", "32")])
    }

    @Test func loadsAndRunsSimpleModel() throws {
        let session = try InferenceSession(data: Self.addModel())
        #expect(session.opsetVersion == 17)
        #expect(session.inputs.map(\.name) == ["x"])
        #expect(session.inputs[0].shape == [.symbolic("batch"), .fixed(3)])
        #expect(session.outputs.map(\.name) == ["y"])
        #expect(session.metadata["stride"] == "32")
        #expect(session.metadata["names"] == "{0: 'short', 1: 'open'}")
        let out = try session.run(["x": floatTensor([2, 3], [0, 0, 0, 10, 20, 30])])
        #expect(out["y"]?.shape == [2, 3])
        #expect(out["y"]?.floats == [1, 2, 3, 11, 22, 33])
    }

    @Test func inputValidation() throws {
        let session = try InferenceSession(data: Self.addModel())
        #expect(throws: EngineError.self) { try session.run([:]) }
        #expect(throws: EngineError.self) { try session.run(["x": floatTensor([2, 4], Array(repeating: 0, count: 8))]) }
        #expect(throws: EngineError.self) { try session.run(["x": floatTensor([3], [0, 0, 0]), "z": floatTensor([1], [0])]) }
    }

    @Test func unsupportedOperatorNamesOpOpsetAndNode() throws {
        let bytes = OnnxTestWriter.model(
            nodes: [OnnxTestWriter.node("Relu", ["x"], ["r"], name: "/model.0/Relu"),
                    OnnxTestWriter.node("GridSample", ["r", "r"], ["y"], name: "/model.22/GridSample")],
            inputs: [("x", [.fixed(1)])], outputs: [("y", [.fixed(1)])], opset: 17)
        let error = try #require(throws: EngineError.self) { try InferenceSession(data: bytes) }
        #expect(error.description == "unsupported operator 'GridSample' (opset 17) at node '/model.22/GridSample'")
    }

    @Test func operatorNewerThanModelOpsetIsUnsupported() throws {
        let bytes = OnnxTestWriter.model(
            nodes: [OnnxTestWriter.node("Range", ["a", "a", "a"], ["y"], name: "range_node")],
            inputs: [("a", [])], outputs: [("y", [.symbolic("n")])], opset: 9)
        let error = try #require(throws: EngineError.self) { try InferenceSession(data: bytes) }
        #expect(error.description.contains("'Range' (opset 9) at node 'range_node'"))
    }

    @Test func customDomainIsUnsupported() throws {
        let bytes = OnnxTestWriter.model(
            nodes: [OnnxTestWriter.node("Relu", ["x"], ["y"], name: "n0", domain: "com.microsoft")],
            inputs: [("x", [.fixed(1)])], outputs: [("y", [.fixed(1)])])
        let error = try #require(throws: EngineError.self) { try InferenceSession(data: bytes) }
        #expect(error.description.contains("'Relu' in domain 'com.microsoft'"))
    }

    @Test func graphValidationErrors() throws {
        // Undefined input value.
        var bytes = OnnxTestWriter.model(nodes: [OnnxTestWriter.node("Relu", ["nope"], ["y"])],
                                         inputs: [("x", [.fixed(1)])], outputs: [("y", [.fixed(1)])])
        #expect(throws: EngineError.self) { try InferenceSession(data: bytes) }
        // Cycle.
        bytes = OnnxTestWriter.model(nodes: [OnnxTestWriter.node("Add", ["x", "b"], ["a"]),
                                             OnnxTestWriter.node("Relu", ["a"], ["b"])],
                                     inputs: [("x", [.fixed(1)])], outputs: [("a", [.fixed(1)])])
        #expect(throws: EngineError.self) { try InferenceSession(data: bytes) }
        // Output not produced.
        bytes = OnnxTestWriter.model(nodes: [], inputs: [("x", [.fixed(1)])], outputs: [("y", [.fixed(1)])])
        #expect(throws: EngineError.self) { try InferenceSession(data: bytes) }
        // Empty file: no graph.
        #expect(throws: EngineError.self) { try InferenceSession(data: []) }
        // Missing file.
        #expect(throws: EngineError.self) { try InferenceSession(path: "/nonexistent/model.onnx") }
    }

    @Test func nodesOutOfOrderAreSorted() throws {
        let bytes = OnnxTestWriter.model(
            nodes: [OnnxTestWriter.node("Neg", ["a"], ["y"]), OnnxTestWriter.node("Relu", ["x"], ["a"])],
            inputs: [("x", [.fixed(2)])], outputs: [("y", [.fixed(2)])])
        let s = try InferenceSession(data: bytes)
        #expect(try s.run(["x": floatTensor([2], [-1, 2])])["y"]?.floats == [0, -2])
    }

    @Test func truncatedModelsNeverCrash() throws {
        let bytes = Self.addModel()
        var failures = 0
        for n in 0..<bytes.count {
            do { _ = try InferenceSession(data: Array(bytes.prefix(n))) } catch is EngineError { failures += 1 }
        }
        #expect(failures > bytes.count / 2)
    }

    @Test func randomBytesNeverCrash() throws {
        var rng = SplitMix64(seed: 42)
        let valid = Self.addModel()
        for i in 0..<300 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<rng.int(0...200)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = valid
                for _ in 0..<rng.int(1...4) { bytes[rng.int(0...(bytes.count - 1))] = UInt8.random(in: 0...255, using: &rng) }
            }
            do { _ = try InferenceSession(data: bytes) } catch is EngineError {}
        }
    }
}
