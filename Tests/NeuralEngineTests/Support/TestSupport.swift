// Shared test utilities: random tensors from the project's seeded generator, a
// float-array comparison that reports the first out-of-tolerance index and
// the maximum difference, and helpers that build a single-node kernel and
// run it on given tensors.

import SeededRandom
import Testing
@testable import NeuralEngine

extension SplitMix64 {
    /// `n` floats drawn uniformly from `range`.
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}

/// Result of comparing two float arrays.
struct Comparison: CustomStringConvertible {
    var count: Int
    var maxDiff: Float
    var maxDiffIndex: Int
    var firstBad: Int?
    var description: String {
        "count \(count), max diff \(maxDiff) at \(maxDiffIndex)" + (firstBad.map { ", first bad index \($0)" } ?? "")
    }
}

func compare(_ actual: [Float], _ expected: [Float], atol: Float, rtol: Float = 0) -> Comparison {
    var c = Comparison(count: actual.count, maxDiff: 0, maxDiffIndex: 0, firstBad: nil)
    for i in 0..<min(actual.count, expected.count) {
        let d = abs(actual[i] - expected[i])
        let bad = !(d <= atol + rtol * abs(expected[i])) // catches NaN
        if d > c.maxDiff || d.isNaN { c.maxDiff = d; c.maxDiffIndex = i }
        if bad && c.firstBad == nil { c.firstBad = i }
    }
    return c
}

/// Expects `actual` ≈ `expected` elementwise; reports first bad index and max diff.
@discardableResult
func expectClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 0,
                 _ label: String = "", sourceLocation: SourceLocation = #_sourceLocation) -> Comparison {
    #expect(actual.count == expected.count, "\(label): count \(actual.count) != \(expected.count)", sourceLocation: sourceLocation)
    let c = compare(actual, expected, atol: atol, rtol: rtol)
    if let bad = c.firstBad {
        Issue.record("\(label): first bad index \(bad): got \(actual[bad]), expected \(expected[bad]); max diff \(c.maxDiff) at \(c.maxDiffIndex) (atol \(atol), rtol \(rtol))",
                     sourceLocation: sourceLocation)
    }
    return c
}

func floatTensor(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, floats: values) }
func intTensor(_ shape: [Int], _ values: [Int64]) -> Tensor { Tensor(shape: shape, int64s: values) }
func iota(_ shape: [Int], from start: Float = 0) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, floats: (0..<n).map { start + Float($0) })
}

/// Builds the kernel for a single node and runs it.
func runOp(_ op: String, opset: Int = 17, _ inputs: [Tensor?], attributes: [String: AttributeValue] = [:],
           outputs: Int = 1, fused: FusedActivation = .none) throws -> [Tensor] {
    var node = Node(name: "test_\(op)", opType: op, domain: "",
                    inputs: inputs.indices.map { inputs[$0] == nil ? nil : $0 },
                    outputs: (0..<outputs).map { inputs.count + $0 },
                    attributes: NodeAttributes(attributes))
    node.fusedActivation = fused
    let kernel = try OperatorRegistry.makeKernel(for: node, opset: opset)
    return try kernel.run(inputs, context: ExecutionContext(threads: 1))
}

/// Runs a single-output op.
func run1(_ op: String, opset: Int = 17, _ inputs: [Tensor?], _ attributes: [String: AttributeValue] = [:]) throws -> Tensor {
    try runOp(op, opset: opset, inputs, attributes: attributes)[0]
}
