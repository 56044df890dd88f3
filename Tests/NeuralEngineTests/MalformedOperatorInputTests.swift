// Robustness tests: operators fed inconsistent or hostile inputs (values a
// malformed or malicious model could produce) must throw an EngineError, not
// trap on overflow or out-of-range indexing.

import Testing
@testable import NeuralEngine

@Suite struct MalformedOperatorInputTests {
    @Test func hostileInputsThrow() {
        let big = Int64.max / 2
        let cases: [(String, Int, [Tensor?], [String: AttributeValue])] = [
            ("Gather", 17, [floatTensor([], [1]), intTensor([], [0])], [:]),
            ("Concat", 17, [floatTensor([], [1]), floatTensor([], [2])], ["axis": .int(0)]),
            ("Softmax", 17, [floatTensor([], [1])], [:]),
            ("ArgMax", 17, [floatTensor([], [1])], [:]),
            ("Resize", 13, [iota([1, 1, 2, 2]), nil, floatTensor([4], [1, 1, 1e30, 1])], [:]),
            ("Resize", 13, [iota([1, 1, 2, 2]), nil, floatTensor([4], [1, 1, .nan, 1])], [:]),
            ("Resize", 13, [iota([1, 1, 2, 2]), nil, nil, intTensor([4], [1, 1, -2, 2])], [:]),
            ("Reshape", 17, [iota([4]), intTensor([3], [big, big, -1])], [:]),
            ("Reshape", 17, [iota([4]), intTensor([2], [big, 4])], [:]),
            ("Pad", 13, [iota([2]), intTensor([2], [big, big])], [:]),
            ("Range", 17, [intTensor([], [Int64.min]), intTensor([], [Int64.max]), intTensor([], [1])], [:]),
            ("Split", 13, [iota([4]), intTensor([2], [big, -big + 4])], [:]),
            ("ConstantOfShape", 17, [intTensor([3], [big, big, big])], [:]),
            ("Expand", 17, [iota([1]), intTensor([2], [big, big])], [:]),
            ("Tile", 17, [iota([2]), intTensor([1], [big])], [:]),
            ("Conv", 17, [iota([1, 1, 2, 2]), iota([1, 1, 1, 1])], ["pads": .ints([Int64(1 << 40), 0, 0, 0])]),
            ("Conv", 17, [iota([1, 1, 2, 2]), iota([1, 1, 1, 1])], ["strides": .ints([0, 1])]),
            ("MaxPool", 17, [iota([1, 1, 2, 2])], ["kernel_shape": .ints([3, 3])]),
            ("MaxPool", 17, [iota([2, 2])], ["kernel_shape": .ints([1, 1])]),
            ("Transpose", 17, [iota([2, 2])], ["perm": .ints([0, 0])]),
            ("Slice", 13, [iota([4]), intTensor([1], [0]), intTensor([1], [2]), intTensor([1], [3])], [:]),
            ("Unsqueeze", 13, [iota([2]), intTensor([2], [0, 0])], [:]),
            ("Where", 17, [Tensor(shape: [2], bools: [true, false]), iota([2]), intTensor([2], [1, 2])], [:]),
            ("MatMul", 17, [intTensor([1, 1], [1]), intTensor([1, 1], [1])], [:]),
            ("Cast", 17, [iota([1])], ["to": .int(8)]),
        ]
        for (op, opset, inputs, attrs) in cases {
            #expect(throws: EngineError.self, "\(op) \(inputs.map { $0?.shape ?? [] }) \(attrs)") {
                _ = try runOp(op, opset: opset, inputs, attributes: attrs)
            }
        }
    }
}
