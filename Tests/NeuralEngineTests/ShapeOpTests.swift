// Reference-kernel tests for data-movement and shape operators on tiny
// hand-computed cases: Reshape (0 / -1 / allowzero), Transpose, Concat,
// Split (attribute, input, even, num_outputs), Slice (negative and huge
// ends, negative steps, axes), Gather, Squeeze/Unsqueeze (attribute vs input),
// Flatten, Expand, Tile, Pad, Shape, Range, Cast, ConstantOfShape, Constant.

import Testing
@testable import NeuralEngine

@Suite struct ShapeOpTests {
    @Test func reshapeZeroAndMinusOne() throws {
        let x = iota([2, 3, 4])
        #expect(try run1("Reshape", [x, intTensor([2], [0, -1])]).shape == [2, 12])
        #expect(try run1("Reshape", [x, intTensor([2], [-1, 4])]).shape == [6, 4])
        #expect(try run1("Reshape", [x, intTensor([4], [0, 0, 2, 2])]).shape == [2, 3, 2, 2])
        let y = try run1("Reshape", [x, intTensor([1], [-1])])
        #expect(y.shape == [24] && y.floats == x.floats)
        #expect(throws: EngineError.self) { try run1("Reshape", [x, intTensor([2], [5, -1])]) }
        #expect(throws: EngineError.self) { try run1("Reshape", [x, intTensor([2], [-1, -1])]) }
        // allowzero = 1 keeps a literal 0 dimension (empty tensor).
        let empty = floatTensor([0, 3], [])
        #expect(try run1("Reshape", opset: 14, [empty, intTensor([2], [3, 0])], ["allowzero": .int(1)]).shape == [3, 0])
    }

    @Test func transpose() throws {
        var y = try run1("Transpose", [iota([2, 3])])
        #expect(y.shape == [3, 2] && y.floats == [0, 3, 1, 4, 2, 5])
        y = try run1("Transpose", [iota([2, 3, 2])], ["perm": .ints([1, 0, 2])])
        #expect(y.shape == [3, 2, 2] && y.floats == [0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11])
        y = try run1("Transpose", [iota([1, 2, 3, 2])], ["perm": .ints([0, 3, 1, 2])])
        #expect(y.shape == [1, 2, 2, 3] && y.floats == [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
    }

    @Test func concat() throws {
        var y = try run1("Concat", [floatTensor([2, 1], [1, 2]), floatTensor([2, 2], [3, 4, 5, 6])], ["axis": .int(1)])
        #expect(y.shape == [2, 3] && y.floats == [1, 3, 4, 2, 5, 6])
        y = try run1("Concat", [floatTensor([1, 2], [1, 2]), floatTensor([2, 2], [3, 4, 5, 6])], ["axis": .int(-2)])
        #expect(y.shape == [3, 2] && y.floats == [1, 2, 3, 4, 5, 6])
        y = try run1("Concat", [intTensor([1], [1]), intTensor([2], [2, 3])], ["axis": .int(0)])
        #expect(y.int64s == [1, 2, 3])
        #expect(throws: EngineError.self) { try run1("Concat", [iota([2, 1]), iota([3, 1])], ["axis": .int(1)]) }
    }

    @Test func splitVariants() throws {
        let x = iota([2, 6])
        // opset 13: sizes as input
        var ys = try runOp("Split", opset: 13, [x, intTensor([2], [2, 4])], attributes: ["axis": .int(1)], outputs: 2)
        #expect(ys[0].shape == [2, 2] && ys[0].floats == [0, 1, 6, 7])
        #expect(ys[1].shape == [2, 4] && ys[1].floats == [2, 3, 4, 5, 8, 9, 10, 11])
        // opset 11: sizes as attribute
        ys = try runOp("Split", opset: 11, [x], attributes: ["axis": .int(-1), "split": .ints([4, 2])], outputs: 2)
        #expect(ys[0].floats == [0, 1, 2, 3, 6, 7, 8, 9] && ys[1].floats == [4, 5, 10, 11])
        // even split into 3 outputs
        ys = try runOp("Split", opset: 17, [x], attributes: ["axis": .int(1)], outputs: 3)
        #expect(ys.map(\.shape) == [[2, 2], [2, 2], [2, 2]] && ys[2].floats == [4, 5, 10, 11])
        // split along axis 0
        ys = try runOp("Split", opset: 17, [x], attributes: ["axis": .int(0)], outputs: 2)
        #expect(ys[1].floats == [6, 7, 8, 9, 10, 11])
        // opset 18 num_outputs with uneven last chunk: 7 -> 3, 3, 1
        ys = try runOp("Split", opset: 18, [iota([7])], attributes: ["num_outputs": .int(3)], outputs: 3)
        #expect(ys.map(\.shape) == [[3], [3], [1]] && ys[2].floats == [6])
        #expect(throws: EngineError.self) { try runOp("Split", opset: 13, [x, intTensor([2], [2, 3])], attributes: ["axis": .int(1)], outputs: 2) }
    }

    @Test func sliceClampingAndSteps() throws {
        let x = iota([10])
        func slice(_ s: Int64, _ e: Int64, _ step: Int64? = nil) throws -> [Float] {
            var inputs: [Tensor?] = [x, intTensor([1], [s]), intTensor([1], [e])]
            if let step { inputs += [intTensor([1], [0]), intTensor([1], [step])] }
            return try run1("Slice", opset: 13, inputs).floats
        }
        #expect(try slice(1, 1000) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(try slice(-3, Int64.max) == [7, 8, 9])
        #expect(try slice(8, 1, -2) == [8, 6, 4, 2])
        #expect(try slice(-1, Int64.min, -1) == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
        #expect(try slice(5, 2) == [])
        #expect(try slice(0, -1, 3) == [0, 3, 6])
        // 2-D with axes and steps
        let m = iota([3, 4])
        var y = try run1("Slice", opset: 13, [m, intTensor([2], [0, 1]), intTensor([2], [3, 4]), intTensor([2], [0, 1]), intTensor([2], [2, 2])])
        #expect(y.shape == [2, 2] && y.floats == [1, 3, 9, 11])
        y = try run1("Slice", opset: 13, [m, intTensor([1], [-2]), intTensor([1], [Int64.max]), intTensor([1], [-1])])
        #expect(y.shape == [3, 2] && y.floats == [2, 3, 6, 7, 10, 11])
        // opset 9 attribute form
        y = try run1("Slice", opset: 9, [m], ["starts": .ints([1]), "ends": .ints([2]), "axes": .ints([0])])
        #expect(y.shape == [1, 4] && y.floats == [4, 5, 6, 7])
        #expect(throws: EngineError.self) { try slice(0, 5, 0) }
    }

    @Test func gather() throws {
        let x = iota([3, 2])
        var y = try run1("Gather", [x, intTensor([3], [2, -1, 0])], ["axis": .int(0)])
        #expect(y.shape == [3, 2] && y.floats == [4, 5, 4, 5, 0, 1])
        y = try run1("Gather", [x, intTensor([2, 2], [1, 0, 0, 1])], ["axis": .int(1)])
        #expect(y.shape == [3, 2, 2] && y.floats == [1, 0, 0, 1, 3, 2, 2, 3, 5, 4, 4, 5])
        // scalar index removes the axis (shape subgraphs: Shape -> Gather)
        y = try run1("Gather", [intTensor([4], [1, 3, 64, 64]), intTensor([], [2])])
        #expect(y.shape == [] && y.int64s == [64])
        #expect(throws: EngineError.self) { try run1("Gather", [x, intTensor([1], [3])]) }
    }

    @Test func squeezeUnsqueezeFlatten() throws {
        let x = iota([1, 3, 1, 2])
        #expect(try run1("Squeeze", opset: 11, [x], ["axes": .ints([0])]).shape == [3, 1, 2])
        #expect(try run1("Squeeze", opset: 13, [x, intTensor([1], [-2])]).shape == [1, 3, 2])
        #expect(try run1("Squeeze", opset: 13, [x]).shape == [3, 2])
        #expect(throws: EngineError.self) { try run1("Squeeze", opset: 13, [x, intTensor([1], [1])]) }
        #expect(try run1("Unsqueeze", opset: 11, [iota([3]), ], ["axes": .ints([0, 2])]).shape == [1, 3, 1])
        #expect(try run1("Unsqueeze", opset: 13, [iota([3]), intTensor([1], [-1])]).shape == [3, 1])
        #expect(try run1("Unsqueeze", opset: 13, [intTensor([], [5]), intTensor([1], [0])]).shape == [1])
        #expect(try run1("Flatten", [iota([2, 3, 4])], ["axis": .int(2)]).shape == [6, 4])
        #expect(try run1("Flatten", [iota([2, 3, 4])], ["axis": .int(0)]).shape == [1, 24])
    }

    @Test func expandTilePad() throws {
        var y = try run1("Expand", [floatTensor([2, 1], [1, 2]), intTensor([2], [2, 3])])
        #expect(y.shape == [2, 3] && y.floats == [1, 1, 1, 2, 2, 2])
        y = try run1("Expand", [floatTensor([3], [1, 2, 3]), intTensor([3], [2, 1, 1])])
        #expect(y.shape == [2, 1, 3] && y.floats == [1, 2, 3, 1, 2, 3])
        y = try run1("Tile", [floatTensor([2], [1, 2]), intTensor([1], [3])])
        #expect(y.floats == [1, 2, 1, 2, 1, 2])
        y = try run1("Tile", [floatTensor([1, 2], [1, 2]), intTensor([2], [2, 1])])
        #expect(y.shape == [2, 2] && y.floats == [1, 2, 1, 2])
        let m = floatTensor([2, 2], [1, 2, 3, 4])
        y = try run1("Pad", opset: 13, [m, intTensor([4], [0, 1, 1, 0]), floatTensor([], [9])])
        #expect(y.shape == [3, 3] && y.floats == [9, 1, 2, 9, 3, 4, 9, 9, 9])
        y = try run1("Pad", opset: 13, [m, intTensor([4], [0, 1, 0, 1])], ["mode": .string("edge")])
        #expect(y.floats == [1, 1, 2, 2, 3, 3, 4, 4])
        y = try run1("Pad", opset: 13, [floatTensor([3], [1, 2, 3]), intTensor([2], [2, 2])], ["mode": .string("reflect")])
        #expect(y.floats == [3, 2, 1, 2, 3, 2, 1])
        y = try run1("Pad", opset: 2, [m], ["pads": .ints([1, 0, 0, 0]), "value": .float(-1)])
        #expect(y.shape == [3, 2] && y.floats == [-1, -1, 1, 2, 3, 4])
        y = try run1("Pad", opset: 13, [m, intTensor([4], [0, -1, 0, 0])])
        #expect(y.shape == [2, 1] && y.floats == [2, 4])
    }

    @Test func shapeRangeCastConstants() throws {
        let x = iota([1, 3, 4, 5])
        #expect(try run1("Shape", [x]).int64s == [1, 3, 4, 5])
        #expect(try run1("Shape", opset: 15, [x], ["start": .int(-2)]).int64s == [4, 5])
        #expect(try run1("Shape", opset: 15, [x], ["start": .int(1), "end": .int(-1)]).int64s == [3, 4])
        #expect(try run1("Size", [x]).int64s == [60])
        #expect(try run1("Range", [intTensor([], [1]), intTensor([], [10]), intTensor([], [3])]).int64s == [1, 4, 7])
        #expect(try run1("Range", [floatTensor([], [0]), floatTensor([], [1]), floatTensor([], [0.25])]).floats == [0, 0.25, 0.5, 0.75])
        #expect(try run1("Range", [intTensor([], [5]), intTensor([], [1]), intTensor([], [-2])]).int64s == [5, 3])
        #expect(try run1("Cast", [floatTensor([3], [1.7, -1.7, 0])], ["to": .int(7)]).int64s == [1, -1, 0])
        #expect(try run1("Cast", [intTensor([2], [3, 0])], ["to": .int(1)]).floats == [3, 0])
        #expect(try run1("Cast", [floatTensor([2], [2, 0])], ["to": .int(9)]).bools == [true, false])
        #expect(try run1("Cast", [intTensor([1], [300])], ["to": .int(2)]).int64s == [44])
        var y = try run1("ConstantOfShape", [intTensor([2], [2, 3])], ["value": .tensor(intTensor([1], [7]))])
        #expect(y.shape == [2, 3] && y.int64s == Array(repeating: 7, count: 6))
        y = try run1("ConstantOfShape", [intTensor([1], [2])])
        #expect(y.floats == [0, 0])
        #expect(try run1("Constant", [], ["value": .tensor(floatTensor([2], [1, 2]))]).floats == [1, 2])
        #expect(try run1("Constant", [], ["value_ints": .ints([1, 2])]).int64s == [1, 2])
        #expect(try run1("Constant", [], ["value_float": .float(0.5)]).shape == [])
    }
}
