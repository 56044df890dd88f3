// Softmax and LogSoftmax. Opset >= 13 normalises along a single `axis`
// (default -1). Opset < 13 coerces the input to 2-D at `axis` (default 1)
// and normalises over the flattened trailing block. Max-subtraction keeps the
// exponentials stable.
//
// x: any shape -> y: same shape

import Foundation

struct SoftmaxKernel: Kernel {
    let axis: Int
    let legacy: Bool
    let log: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let ax = try Shape.normalizeAxis(axis, rank: x.rank, op: log ? "LogSoftmax" : "Softmax")
        let outer = x.shape[..<ax].reduce(1, *)
        let len = legacy ? x.shape[ax...].reduce(1, *) : x.shape[ax]
        let inner = legacy ? 1 : x.shape[(ax + 1)...].reduce(1, *)
        let xs: [Float] = try x.elements()
        return [Tensor(shape: x.shape, floats: SoftmaxKernel.compute(xs, outer: outer, len: len, inner: inner, log: log))]
    }

    /// Softmax over the middle index of an (outer, len, inner) view.
    static func compute(_ x: [Float], outer: Int, len: Int, inner: Int, log: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        if x.isEmpty || len == 0 { return y }
        var maxes = [Float](repeating: 0, count: inner)
        var sums = [Float](repeating: 0, count: inner)
        for o in 0..<outer {
            let base = o * len * inner
            for k in 0..<inner { maxes[k] = -.infinity; sums[k] = 0 }
            for j in 0..<len {
                for k in 0..<inner { maxes[k] = Swift.max(maxes[k], x[base + j * inner + k]) }
            }
            for j in 0..<len {
                for k in 0..<inner {
                    let e = expf(x[base + j * inner + k] - maxes[k])
                    y[base + j * inner + k] = e
                    sums[k] += e
                }
            }
            for j in 0..<len {
                for k in 0..<inner {
                    let i = base + j * inner + k
                    y[i] = log ? (x[i] - maxes[k] - logf(sums[k])) : y[i] / sums[k]
                }
            }
        }
        return y
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Softmax") { node, opset in
            SoftmaxKernel(axis: try node.attributes.int("axis", default: opset >= 13 ? -1 : 1), legacy: opset < 13, log: false)
        },
        OperatorDefinition("LogSoftmax") { node, opset in
            SoftmaxKernel(axis: try node.attributes.int("axis", default: opset >= 13 ? -1 : 1), legacy: opset < 13, log: true)
        },
    ]
}
