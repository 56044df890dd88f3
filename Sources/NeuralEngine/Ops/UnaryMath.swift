// Elementwise unary math operators (Sigmoid, Relu, Exp, Sqrt, Neg, Floor, ...,
// plus parameterised LeakyRelu/HardSigmoid/HardSwish/Elu). They share one
// kernel type that maps a scalar function over the input; each operator is a
// one-line definition here because its whole "kernel" is that function.
// Neg, Abs and Sign also accept Int64 tensors (shape arithmetic). Sigmoid has
// its own kernel on the vectorised exp (VectorMath), as it is the hot one.
//
// x: any shape -> y: same shape

import Foundation

struct UnaryMathKernel: Kernel {
    let opType: String
    let f: (Float) -> Float
    let intF: ((Int64) -> Int64)?

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        switch x.storage {
        case .float(let a):
            return [Tensor(shape: x.shape, floats: UnaryMathKernel.map(a, f))]
        case .int64(let a):
            if let intF { return [Tensor(shape: x.shape, int64s: a.map(intF))] }
            // Integer input to a float op: compute in float, round toward zero.
            return [Tensor(shape: x.shape, int64s: a.map { Tensor.truncatingInt64(f(Float($0))) })]
        case .bool:
            throw EngineError.typeMismatch("\(opType) does not accept bool tensors")
        }
    }

    @inline(__always)
    static func map(_ a: [Float], _ f: (Float) -> Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: a.count) { buf, count in
            a.withUnsafeBufferPointer { src in
                for i in 0..<src.count { (buf.baseAddress! + i).initialize(to: f(src[i])) }
            }
            count = a.count
        }
    }

    static func definition(_ op: String, since: Int = 1, int intF: (@Sendable (Int64) -> Int64)? = nil,
                           _ f: @escaping @Sendable (Float) -> Float) -> OperatorDefinition {
        OperatorDefinition(op, since: since) { _, _ in UnaryMathKernel(opType: op, f: f, intF: intF) }
    }

    /// Builds a kernel whose function depends on node attributes.
    static func parameterised(_ op: String, since: Int = 1,
                              _ build: @escaping @Sendable (NodeAttributes) throws -> (Float) -> Float) -> OperatorDefinition {
        OperatorDefinition(op, since: since) { node, _ in
            UnaryMathKernel(opType: op, f: try build(node.attributes), intF: nil)
        }
    }

    /// Round half to even (ONNX Round semantics).
    static func roundHalfEven(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Sigmoid") { _, _ in SigmoidKernel() },
        definition("Relu", int: { max($0, 0) }) { max($0, 0) },
        definition("Neg", int: { 0 &- $0 }) { -$0 },
        definition("Abs", int: { $0 == .min ? .min : abs($0) }) { abs($0) },
        definition("Sign", since: 9, int: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) },
        definition("Exp") { expf($0) },
        definition("Log") { logf($0) },
        definition("Sqrt") { sqrtf($0) },
        definition("Reciprocal") { 1 / $0 },
        definition("Floor") { floorf($0) },
        definition("Ceil") { ceilf($0) },
        definition("Round", since: 11) { roundHalfEven($0) },
        definition("Tanh") { tanhf($0) },
        definition("Erf", since: 9) { erff($0) },
        definition("Sin", since: 7) { sinf($0) },
        definition("Cos", since: 7) { cosf($0) },
        definition("Softplus") { x in x > 20 ? x : log1pf(expf(x)) },
        definition("HardSwish", since: 14) { x in x * max(0, min(1, x / 6 + 0.5)) },
        parameterised("LeakyRelu") { attrs in
            let alpha = try attrs.float("alpha", default: 0.01)
            return { $0 >= 0 ? $0 : alpha * $0 }
        },
        parameterised("HardSigmoid") { attrs in
            let alpha = try attrs.float("alpha", default: 0.2), beta = try attrs.float("beta", default: 0.5)
            return { max(0, min(1, alpha * $0 + beta)) }
        },
        parameterised("Elu") { attrs in
            let alpha = try attrs.float("alpha", default: 1)
            return { $0 >= 0 ? $0 : alpha * (expf($0) - 1) }
        },
    ]
}

/// Sigmoid runs on the vectorised exp (the detection head's class scores).
struct SigmoidKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let src: [Float] = try x.elements()
        let y = [Float](unsafeUninitializedCapacity: src.count) { buf, count in
            src.withUnsafeBufferPointer { s in
                if let d = buf.baseAddress, let sp = s.baseAddress { VectorMath.sigmoid(sp, into: d, count: s.count) }
            }
            count = src.count
        }
        return [Tensor(shape: x.shape, floats: y)]
    }
}
