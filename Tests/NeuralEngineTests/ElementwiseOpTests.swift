// Reference-kernel tests for elementwise operators on tiny hand-computed
// cases: numpy broadcasting for binary arithmetic (Float and Int64),
// comparisons, logic, Where, Clip (attribute vs input opsets), variadic
// Min/Max/Sum/Mean and unary math.

import Testing
@testable import NeuralEngine

@Suite struct ElementwiseOpTests {
    @Test func addSameShapeAndScalar() throws {
        var y = try run1("Add", [floatTensor([2, 2], [1, 2, 3, 4]), floatTensor([2, 2], [10, 20, 30, 40])])
        #expect(y.shape == [2, 2] && y.floats == [11, 22, 33, 44])
        y = try run1("Mul", [floatTensor([], [2]), floatTensor([3], [1, 2, 3])])
        #expect(y.shape == [3] && y.floats == [2, 4, 6])
    }

    @Test func broadcastRowAndColumn() throws {
        // (2,3) + (3) -> (2,3)
        var y = try run1("Add", [iota([2, 3]), floatTensor([3], [10, 20, 30])])
        #expect(y.shape == [2, 3] && y.floats == [10, 21, 32, 13, 24, 35])
        // (2,1) * (1,3) -> outer product (2,3)
        y = try run1("Mul", [floatTensor([2, 1], [1, 2]), floatTensor([1, 3], [3, 4, 5])])
        #expect(y.shape == [2, 3] && y.floats == [3, 4, 5, 6, 8, 10])
        // (2,3,1) - (1,4) -> (2,3,4)
        y = try run1("Sub", [iota([2, 3, 1]), floatTensor([1, 4], [0, 1, 2, 3])])
        #expect(y.shape == [2, 3, 4])
        var expected: [Float] = []
        for i in 0..<6 { for j in 0..<4 { expected.append(Float(i) - Float(j)) } }
        #expect(y.floats == expected)
        // per-channel bias: (1,2,2,2) / (1,2,1,1)
        y = try run1("Div", [iota([1, 2, 2, 2]), floatTensor([1, 2, 1, 1], [1, 2])])
        #expect(y.floats == [0, 1, 2, 3, 2, 2.5, 3, 3.5])
        // Incompatible shapes throw.
        #expect(throws: EngineError.self) { try run1("Add", [iota([2, 3]), iota([2])]) }
    }

    @Test func int64Arithmetic() throws {
        var y = try run1("Div", [intTensor([2], [-7, 7]), intTensor([1], [2])])
        #expect(y.elementType == .int64 && y.int64s == [-3, 3])
        y = try run1("Mul", [intTensor([3], [1, 2, 3]), intTensor([], [4])])
        #expect(y.int64s == [4, 8, 12])
        y = try run1("Mod", [intTensor([2], [-7, 7]), intTensor([1], [3])])
        #expect(y.int64s == [2, 1])
        #expect(throws: EngineError.self) { try run1("Add", [intTensor([1], [1]), floatTensor([1], [1])]) }
    }

    @Test func powSqrtAndUnary() throws {
        var y = try run1("Pow", [floatTensor([3], [1, 2, 3]), floatTensor([], [2])])
        #expect(y.floats == [1, 4, 9])
        y = try run1("Pow", [floatTensor([2], [4, 9]), intTensor([], [1])])
        #expect(y.floats == [4, 9])
        y = try run1("Sqrt", [floatTensor([2], [4, 9])])
        #expect(y.floats == [2, 3])
        y = try run1("Sigmoid", [floatTensor([3], [0, 100, -100])])
        expectClose(y.floats, [0.5, 1, 0], atol: 1e-6)
        y = try run1("Relu", [floatTensor([3], [-1, 0, 2])])
        #expect(y.floats == [0, 0, 2])
        y = try run1("Neg", [intTensor([2], [3, -4])])
        #expect(y.int64s == [-3, 4])
        y = try run1("Floor", [floatTensor([2], [1.5, -1.5])])
        #expect(y.floats == [1, -2])
        y = try run1("Ceil", [floatTensor([2], [1.5, -1.5])])
        #expect(y.floats == [2, -1])
        y = try run1("Exp", [floatTensor([1], [0])])
        #expect(y.floats == [1])
        y = try run1("Round", [floatTensor([4], [0.5, 1.5, 2.5, -0.5])])
        #expect(y.floats == [0, 2, 2, -0])
        y = try run1("LeakyRelu", [floatTensor([2], [-1, 2])], ["alpha": .float(0.1)])
        expectClose(y.floats, [-0.1, 2])
    }

    @Test func comparisonsAndLogic() throws {
        var y = try run1("Equal", [intTensor([3], [1, 2, 3]), intTensor([1], [2])])
        #expect(y.elementType == .bool && y.bools == [false, true, false])
        y = try run1("Less", [floatTensor([3], [1, 2, 3]), floatTensor([], [2])])
        #expect(y.bools == [true, false, false])
        y = try run1("Greater", [floatTensor([2, 1], [1, 3]), floatTensor([2], [2, 0])])
        #expect(y.shape == [2, 2] && y.bools == [false, true, true, true])
        y = try run1("Not", [Tensor(shape: [2], bools: [true, false])])
        #expect(y.bools == [false, true])
        y = try run1("And", [Tensor(shape: [2], bools: [true, false]), Tensor(shape: [1], bools: [true])])
        #expect(y.bools == [true, false])
        y = try run1("Or", [Tensor(shape: [2], bools: [true, false]), Tensor(shape: [1], bools: [false])])
        #expect(y.bools == [true, false])
    }

    @Test func whereBroadcasts() throws {
        let cond = Tensor(shape: [2, 1], bools: [true, false])
        var y = try run1("Where", [cond, floatTensor([3], [1, 2, 3]), floatTensor([], [-1])])
        #expect(y.shape == [2, 3] && y.floats == [1, 2, 3, -1, -1, -1])
        y = try run1("Where", [Tensor(shape: [2], bools: [false, true]), intTensor([2], [1, 2]), intTensor([2], [7, 8])])
        #expect(y.int64s == [7, 2])
    }

    @Test func clipAttributeVersusInputs() throws {
        let x = floatTensor([4], [-2, -0.5, 0.5, 2])
        var y = try run1("Clip", opset: 6, [x], ["min": .float(-1), "max": .float(1)])
        #expect(y.floats == [-1, -0.5, 0.5, 1])
        y = try run1("Clip", opset: 13, [x, floatTensor([], [0]), floatTensor([], [1])])
        #expect(y.floats == [0, 0, 0.5, 1])
        y = try run1("Clip", opset: 13, [x, nil, floatTensor([], [0])])
        #expect(y.floats == [-2, -0.5, 0, 0])
        y = try run1("Clip", opset: 13, [x])
        #expect(y.floats == x.floats)
    }

    @Test func variadicMinMaxSumMean() throws {
        let a = floatTensor([3], [1, 5, 3]), b = floatTensor([3], [4, 2, 6]), c = floatTensor([], [3])
        #expect(try run1("Max", [a, b, c]).floats == [4, 5, 6])
        #expect(try run1("Min", [a, b, c]).floats == [1, 2, 3])
        #expect(try run1("Sum", [a, b]).floats == [5, 7, 9])
        #expect(try run1("Mean", [a, b]).floats == [2.5, 3.5, 4.5])
        #expect(try run1("Max", [intTensor([2], [1, 9]), intTensor([1], [5])]).int64s == [5, 9])
    }
}
