// Reductions over selected axes: ReduceMean, ReduceMax, ReduceMin, ReduceSum,
// ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSumExp. Axes come
// from the attribute, or from the optional second input (ReduceSum from opset
// 13, the others from opset 18). No axes means all axes unless
// noop_with_empty_axes = 1. keepdims (default 1) keeps reduced axes as 1.
//
// x: (d_0..d_r-1) -> y: reduced dims removed (or set to 1 with keepdims)

import Foundation

struct ReduceKernel: Kernel {
    enum Operation: Sendable { case mean, max, min, sum, prod, l1, l2, sumSquare, logSumExp }
    let op: Operation
    let keepDims: Bool
    let attrAxes: [Int]?
    let axesFromInput: Bool
    let noopWithEmptyAxes: Bool

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let axesList = axesFromInput ? try inputs.optional(1).map { try Shape.intList($0, name: "axes") } : attrAxes
        if (axesList ?? []).isEmpty && noopWithEmptyAxes { return [x] }
        var reduce = [Bool](repeating: (axesList ?? []).isEmpty, count: x.rank)
        for a in axesList ?? [] { reduce[try Shape.normalizeAxis(a, rank: x.rank, op: "Reduce")] = true }
        let keptShape = x.shape.enumerated().map { reduce[$0.offset] ? 1 : $0.element }
        let outShape = keepDims ? keptShape : x.shape.enumerated().filter { !reduce[$0.offset] }.map(\.element)
        let outCount = keptShape.reduce(1, *)

        if case .int64(let a) = x.storage, op == .max || op == .min || op == .sum || op == .prod {
            let r = ReduceKernel.reduce(a, shape: x.shape, keptShape: keptShape, count: outCount,
                                        initial: op == .max ? Int64.min : (op == .min ? Int64.max : (op == .prod ? 1 : 0))) { acc, v in
                switch op {
                case .max: return Swift.max(acc, v)
                case .min: return Swift.min(acc, v)
                case .prod: return acc &* v
                default: return acc &+ v
                }
            }
            return [Tensor(shape: outShape, int64s: r)]
        }
        let xs = x.floats
        let n = Float(Swift.max(1, x.count / Swift.max(outCount, 1)))
        var r: [Float]
        switch op {
        case .max: r = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: -.infinity) { $0.isNaN ? $0 : (($1.isNaN || $1 > $0) ? $1 : $0) }
        case .min: r = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: .infinity) { $0.isNaN ? $0 : (($1.isNaN || $1 < $0) ? $1 : $0) }
        case .sum, .mean: r = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: 0, +)
        case .prod: r = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: 1, *)
        case .l1: r = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: 0) { $0 + abs($1) }
        case .l2, .sumSquare: r = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: 0) { $0 + $1 * $1 }
        case .logSumExp:
            let m = ReduceKernel.reduce(xs, shape: x.shape, keptShape: keptShape, count: outCount, initial: -.infinity) { Swift.max($0, $1) }
            let map = Broadcasting.indexMap(from: keptShape, to: x.shape)
            var sums = [Float](repeating: 0, count: outCount)
            for i in 0..<xs.count { sums[map[i]] += expf(xs[i] - m[map[i]]) }
            r = (0..<outCount).map { logf(sums[$0]) + m[$0] }
        }
        if op == .mean { r = r.map { $0 / n } }
        if op == .l2 { r = r.map { sqrtf($0) } }
        if case .int64 = x.storage { return [Tensor(shape: outShape, int64s: r.map { Tensor.truncatingInt64($0) })] }
        return [Tensor(shape: outShape, floats: r)]
    }

    /// Folds every input element into its output slot (reduced axes collapse).
    static func reduce<T>(_ a: [T], shape: [Int], keptShape: [Int], count: Int, initial: T, _ f: (T, T) -> T) -> [T] {
        var out = [T](repeating: initial, count: count)
        if a.isEmpty { return out }
        let map = Broadcasting.indexMap(from: keptShape, to: shape)
        for i in 0..<a.count { out[map[i]] = f(out[map[i]], a[i]) }
        return out
    }

    static func make(_ name: String, _ op: Operation, axesInputSince: Int) -> OperatorDefinition {
        OperatorDefinition(name) { node, opset in
            let fromInput = opset >= axesInputSince
            let noop = try node.attributes.int("noop_with_empty_axes", default: 0) != 0
            return ReduceKernel(op: op, keepDims: try node.attributes.int("keepdims", default: 1) != 0,
                                attrAxes: fromInput ? nil : try node.attributes.ints("axes"),
                                axesFromInput: fromInput,
                                noopWithEmptyAxes: fromInput && noop)
        }
    }

    static let definitions: [OperatorDefinition] = [
        make("ReduceMean", .mean, axesInputSince: 18),
        make("ReduceMax", .max, axesInputSince: 18),
        make("ReduceMin", .min, axesInputSince: 18),
        make("ReduceSum", .sum, axesInputSince: 13),
        make("ReduceProd", .prod, axesInputSince: 18),
        make("ReduceL1", .l1, axesInputSince: 18),
        make("ReduceL2", .l2, axesInputSince: 18),
        make("ReduceSumSquare", .sumSquare, axesInputSince: 18),
        make("ReduceLogSumExp", .logSumExp, axesInputSince: 18),
    ]
}
