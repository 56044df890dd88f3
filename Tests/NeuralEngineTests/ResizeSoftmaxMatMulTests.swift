// Hand-computed tests for Resize (nearest with several coordinate and
// rounding modes, scales vs sizes, opset 10 vs 11+, linear), Softmax and
// LogSoftmax (opset < 13 coerced-2D vs >= 13 single-axis semantics), MatMul
// (2-D, batched, broadcast, 1-D operands), Gemm, reductions and ArgMax.

import SeededRandom
import Testing
@testable import NeuralEngine

@Suite struct ResizeSoftmaxMatMulTests {
    let upsampled: [Float] = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]

    @Test func resizeNearestUpsample() throws {
        let x = floatTensor([1, 1, 2, 2], [1, 2, 3, 4])
        let scales = floatTensor([4], [1, 1, 2, 2])
        // Ultralytics export: asymmetric + floor.
        var y = try run1("Resize", opset: 17, [x, nil, scales],
                         ["mode": .string("nearest"), "coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        #expect(y.shape == [1, 1, 4, 4] && y.floats == upsampled)
        // Defaults (half_pixel + round_prefer_floor) give the same for 2x.
        y = try run1("Resize", opset: 13, [x, floatTensor([0], []), scales])
        #expect(y.floats == upsampled)
        // sizes instead of scales (opset 11 requires the empty scales input).
        y = try run1("Resize", opset: 11, [x, floatTensor([0], []), floatTensor([0], []), intTensor([4], [1, 1, 4, 4])],
                     ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        #expect(y.floats == upsampled)
        // opset 10 form: (X, scales).
        y = try run1("Resize", opset: 10, [x, scales])
        #expect(y.floats == upsampled)
        // Non-integer factor: 2 -> 3 with asymmetric floor picks 0, 0, 1.
        y = try run1("Resize", opset: 13, [floatTensor([1, 1, 1, 2], [5, 7]), nil, nil, intTensor([4], [1, 1, 1, 3])],
                     ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        #expect(y.floats == [5, 5, 7])
        // Downsample 4 -> 2 with asymmetric: picks 0 and 2.
        y = try run1("Resize", opset: 13, [floatTensor([1, 1, 1, 4], [1, 2, 3, 4]), nil, floatTensor([4], [1, 1, 1, 0.5])],
                     ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        #expect(y.floats == [1, 3])
    }

    /// The one-pass 2x upsampling equals its reference, `resample` along height then width with
    /// the same taps, on odd sizes and on YOLO's shape, serial and on three threads; and the
    /// operator takes it only where the taps really double (asymmetric + round_prefer_ceil
    /// shifts odd outputs by one, so it must take the general path and still be right).
    @Test func upsample2xMatchesResamplingAlongEachAxis() throws {
        var rng = SplitMix64(seed: 0x2A2A)
        let three = ExecutionContext(threads: 3)
        for (planes, h, w) in [(3, 5, 7), (1, 1, 1), (32, 40, 40)] {
            let x = rng.floats(planes * h * w)
            let rows = (0..<(2 * h)).map { ResizeKernel.Tap(i0: $0 / 2, i1: $0 / 2, w1: 0) }
            let cols = (0..<(2 * w)).map { ResizeKernel.Tap(i0: $0 / 2, i1: $0 / 2, w1: 0) }
            #expect(ResizeKernel.doubles(rows, inLen: h) && ResizeKernel.doubles(cols, inLen: w))
            let tall = ResizeKernel.resample(x, shape: [1, planes, h, w], axis: 2, outLen: 2 * h, taps: rows)
            let reference = ResizeKernel.resample(tall, shape: [1, planes, 2 * h, w], axis: 3, outLen: 2 * w, taps: cols)
            #expect(ResizeKernel.upsample2x(x, planes: planes, height: h, width: w) == reference, "\(planes)x\(h)x\(w)")
            #expect(ResizeKernel.upsample2x(x, planes: planes, height: h, width: w, pool: three.pool) == reference)
        }
        #expect(!ResizeKernel.doubles((0..<4).map { ResizeKernel.Tap(i0: ($0 + 1) / 2, i1: ($0 + 1) / 2, w1: 0) }, inLen: 2))
        let x = floatTensor([1, 1, 2, 2], [1, 2, 3, 4])
        let ceil = try run1("Resize", opset: 13, [x, nil, floatTensor([4], [1, 1, 2, 2])],
                            ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("round_prefer_ceil")])
        #expect(ceil.floats == [1, 2, 2, 2, 3, 4, 4, 4, 3, 4, 4, 4, 3, 4, 4, 4])
    }

    @Test func upsampleLegacyForms() throws {
        let x = floatTensor([1, 1, 2, 2], [1, 2, 3, 4])
        var y = try run1("Upsample", opset: 9, [x, floatTensor([4], [1, 1, 2, 2])])
        #expect(y.shape == [1, 1, 4, 4] && y.floats == upsampled)
        y = try run1("Upsample", opset: 7, [x], ["scales": .floats([1, 1, 2, 2])])
        #expect(y.floats == upsampled)
        #expect(throws: EngineError.self) { try run1("Upsample", opset: 7, [x]) }
    }

    @Test func resizeLinear() throws {
        let x = floatTensor([1, 1, 1, 2], [1, 2])
        var y = try run1("Resize", opset: 13, [x, nil, floatTensor([4], [1, 1, 1, 2])], ["mode": .string("linear")])
        expectClose(y.floats, [1, 1.25, 1.75, 2])
        y = try run1("Resize", opset: 13, [x, nil, nil, intTensor([4], [1, 1, 1, 3])],
                     ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])
        expectClose(y.floats, [1, 1.5, 2])
        // Bilinear 2x2 -> 3x3 align_corners: centre is the mean.
        y = try run1("Resize", opset: 13, [floatTensor([1, 1, 2, 2], [0, 2, 4, 6]), nil, nil, intTensor([4], [1, 1, 3, 3])],
                     ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])
        expectClose(y.floats, [0, 1, 2, 2, 3, 4, 4, 5, 6])
        #expect(throws: EngineError.self) { try run1("Resize", opset: 13, [x, nil, floatTensor([4], [1, 1, 1, 2])], ["mode": .string("cubic")]) }
    }

    @Test func softmaxSemanticsByOpset() throws {
        var y = try run1("Softmax", opset: 13, [floatTensor([3], [1, 2, 3])])
        expectClose(y.floats, [0.09003057, 0.24472847, 0.66524096], atol: 1e-6)
        let x = floatTensor([1, 2, 2], [1, 2, 3, 4])
        y = try run1("Softmax", opset: 13, [x])  // axis -1: per row
        expectClose(y.floats, [0.26894142, 0.73105858, 0.26894142, 0.73105858], atol: 1e-6)
        y = try run1("Softmax", opset: 11, [x])  // axis 1, coerced to (1, 4)
        expectClose(y.floats, [0.0320586, 0.08714432, 0.23688282, 0.64391426], atol: 1e-6)
        y = try run1("Softmax", opset: 13, [x], ["axis": .int(1)])  // over the middle axis
        expectClose(y.floats, [0.11920292, 0.11920292, 0.88079708, 0.88079708], atol: 1e-6)
        y = try run1("LogSoftmax", opset: 13, [floatTensor([2], [0, 0])])
        expectClose(y.floats, [-0.6931472, -0.6931472], atol: 1e-6)
    }

    @Test func matMulShapes() throws {
        let a = iota([2, 3]), b = iota([3, 2])
        var y = try run1("MatMul", [a, b])
        #expect(y.shape == [2, 2] && y.floats == [10, 13, 28, 40])
        // Batched A (2,2,3) with broadcast B (3,2).
        y = try run1("MatMul", [iota([2, 2, 3]), b])
        #expect(y.shape == [2, 2, 2] && y.floats == [10, 13, 28, 40, 46, 67, 64, 94])
        // Broadcast batch dims (2,1,1,3) x (1,3,3,1) -> (2,3,1,1)
        y = try run1("MatMul", [iota([2, 1, 1, 3]), iota([1, 3, 3, 1])])
        #expect(y.shape == [2, 3, 1, 1] && y.floats == [5, 14, 23, 14, 50, 86])
        // 1-D operands.
        y = try run1("MatMul", [floatTensor([3], [1, 2, 3]), b])
        #expect(y.shape == [2] && y.floats == [16, 22])
        y = try run1("MatMul", [a, floatTensor([3], [1, 0, 1])])
        #expect(y.shape == [2] && y.floats == [2, 8])
        #expect(throws: EngineError.self) { try run1("MatMul", [iota([2, 3]), iota([2, 3])]) }
    }

    @Test func gemm() throws {
        let a = iota([2, 3]), b = iota([2, 3])
        let y = try run1("Gemm", [a, b, floatTensor([2], [1, -1])], ["transB": .int(1), "alpha": .float(2), "beta": .float(3)])
        // A * B^T = [[5, 14], [14, 50]]
        #expect(y.shape == [2, 2] && y.floats == [13, 25, 31, 97])
    }

    @Test func reductionsAndArgMax() throws {
        let x = iota([2, 3])
        var y = try run1("ReduceMean", opset: 13, [x], ["axes": .ints([1])])
        #expect(y.shape == [2, 1] && y.floats == [1, 4])
        y = try run1("ReduceMax", opset: 13, [x], ["axes": .ints([0]), "keepdims": .int(0)])
        #expect(y.shape == [3] && y.floats == [3, 4, 5])
        y = try run1("ReduceSum", opset: 13, [x, intTensor([1], [-1])], ["keepdims": .int(0)])
        #expect(y.floats == [3, 12])
        y = try run1("ReduceMean", opset: 18, [x, intTensor([2], [0, 1])])
        #expect(y.shape == [1, 1] && y.floats == [2.5])
        y = try run1("ReduceMin", opset: 13, [x])
        #expect(y.floats == [0])
        y = try run1("ArgMax", [floatTensor([2, 3], [1, 5, 2, 7, 0, 7])], ["axis": .int(1), "keepdims": .int(0)])
        #expect(y.int64s == [1, 0])
        y = try run1("ArgMax", opset: 12, [floatTensor([2, 3], [1, 5, 2, 7, 0, 7])], ["axis": .int(1), "select_last_index": .int(1)])
        #expect(y.shape == [2, 1] && y.int64s == [1, 2])
    }
}
