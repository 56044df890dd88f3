// Hand-computed tests for Conv (padding, stride, groups, dilation,
// auto_pad, bias, 1-D, fused activation) and the pooling operators
// (MaxPool with padding and ceil_mode, AveragePool with and without
// count_include_pad, global pooling). Conv is checked both through the
// executing kernel (im2col + sgemm) and the direct-loop reference.

import Foundation
import Testing
@testable import NeuralEngine

@Suite struct ConvPoolTests {
    /// Runs Conv through the optimised kernel and the reference, checks both.
    func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor? = nil, _ attrs: [String: AttributeValue] = [:],
              fused: FusedActivation = .none) throws -> Tensor {
        let y = try runOp("Conv", [x, w, b], attributes: attrs, fused: fused)[0]
        let kernel = try ConvKernel(node: Node(name: "c", opType: "Conv", domain: "", inputs: [], outputs: [],
                                               attributes: NodeAttributes(attrs)))
        let (p, shape) = try kernel.params(x: x.shape, w: w.shape)
        let ref = ConvKernel.reference(x: x.floats, w: w.floats, bias: b?.floats, p, activation: fused)
        #expect(shape == y.shape)
        expectClose(y.floats, ref, atol: 1e-5, "gemm vs reference")
        return y
    }

    @Test func paddedStridedConvWithBias() throws {
        let y = try conv(iota([1, 1, 3, 3], from: 1), floatTensor([1, 1, 2, 2], [1, 0, 0, 1]), floatTensor([1], [0.5]),
                         ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.floats == [1.5, 3.5, 7.5, 14.5])
    }

    @Test func groupedConv() throws {
        let y = try conv(iota([1, 2, 2, 2], from: 1), floatTensor([2, 1, 1, 1], [2, -1]), nil, ["group": .int(2)])
        #expect(y.shape == [1, 2, 2, 2])
        #expect(y.floats == [2, 4, 6, 8, -5, -6, -7, -8])
    }

    @Test func dilatedConv() throws {
        let y = try conv(iota([1, 1, 3, 3], from: 1), floatTensor([1, 1, 2, 2], [1, 1, 1, 1]), nil, ["dilations": .ints([2, 2])])
        #expect(y.shape == [1, 1, 1, 1] && y.floats == [20])
    }

    @Test func sameUpperAutoPad() throws {
        let y = try conv(iota([1, 1, 3, 3], from: 1), floatTensor([1, 1, 3, 3], Array(repeating: 1, count: 9)), nil,
                         ["auto_pad": .string("SAME_UPPER")])
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.floats == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    }

    @Test func multiChannelConvAndSiLU() throws {
        // Two input channels summed by a 1x1 conv with two output channels.
        let x = floatTensor([1, 2, 1, 2], [1, 2, 3, 4])
        let w = floatTensor([2, 2, 1, 1], [1, 1, 1, -1])
        var y = try conv(x, w)
        #expect(y.floats == [4, 6, -2, -2])
        y = try conv(x, w, nil, [:], fused: .silu)
        expectClose(y.floats, [4, 6, -2, -2].map { $0 / (1 + expf(-$0)) }, atol: 1e-6)
        y = try conv(x, w, nil, [:], fused: .relu)
        #expect(y.floats == [4, 6, 0, 0])
    }

    @Test func conv1D() throws {
        let y = try conv(iota([1, 1, 5], from: 1), floatTensor([1, 1, 3], [1, 0, -1]), nil, ["pads": .ints([1, 1])])
        #expect(y.shape == [1, 1, 5] && y.floats == [-2, -2, -2, -2, 4])
    }

    @Test func convRejectsBadShapes() {
        #expect(throws: EngineError.self) { try runOp("Conv", [iota([1, 3, 4, 4]), iota([2, 2, 1, 1])]) }
        #expect(throws: EngineError.self) { try runOp("Conv", [iota([1, 1, 2, 2]), iota([1, 1, 3, 3])]) }
    }

    @Test func maxPool() throws {
        var y = try run1("MaxPool", [iota([1, 1, 4, 4])], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        #expect(y.shape == [1, 1, 2, 2] && y.floats == [5, 7, 13, 15])
        // SPPF-style: k=3, s=1, pad 1 keeps the size.
        y = try run1("MaxPool", [iota([1, 1, 3, 3], from: 1)], ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        #expect(y.shape == [1, 1, 3, 3] && y.floats == [5, 6, 6, 8, 9, 9, 8, 9, 9])
        // Padding never wins even when all inputs are negative.
        y = try run1("MaxPool", [floatTensor([1, 1, 1, 2], [-5, -3])], ["kernel_shape": .ints([1, 2]), "pads": .ints([0, 1, 0, 1])])
        #expect(y.floats == [-5, -3, -3])
        // ceil_mode adds the partial window.
        let x5 = iota([1, 1, 5, 5])
        y = try run1("MaxPool", [x5], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        #expect(y.shape == [1, 1, 2, 2])
        y = try run1("MaxPool", [x5], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)])
        #expect(y.shape == [1, 1, 3, 3] && y.floats == [6, 8, 9, 16, 18, 19, 21, 23, 24])
    }

    @Test func averagePool() throws {
        let x = iota([1, 1, 2, 2], from: 1)
        var y = try run1("AveragePool", [x], ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 0, 0])])
        #expect(y.shape == [1, 1, 2, 2] && y.floats == [1, 1.5, 2, 2.5])
        y = try run1("AveragePool", [x], ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 0, 0]), "count_include_pad": .int(1)])
        #expect(y.floats == [0.25, 0.75, 1, 2.5])
        y = try run1("GlobalAveragePool", [iota([1, 2, 2, 2])])
        #expect(y.shape == [1, 2, 1, 1] && y.floats == [1.5, 5.5])
        y = try run1("GlobalMaxPool", [iota([1, 2, 2, 2])])
        #expect(y.floats == [3, 7])
    }
}

