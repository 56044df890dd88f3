// BatchNormalization in inference mode: per-channel (axis 1) affine
// normalisation y = scale * (x - mean) / sqrt(var + epsilon) + bias.
// Training mode (and its extra outputs) is not supported.
//
// x: (N, C, ...), scale/bias/mean/var: (C) -> y: (N, C, ...)

import Foundation

struct BatchNormalizationKernel: Kernel {
    let epsilon: Float

    init(node: Node) throws {
        epsilon = try node.attributes.float("epsilon", default: 1e-5)
        if try node.attributes.int("training_mode", default: 0) != 0 || node.outputs.dropFirst().contains(where: { $0 != nil }) {
            throw EngineError.unsupportedFeature("BatchNormalization training mode is not supported")
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let scale = try inputs.required(1, "scale").floats, bias = try inputs.required(2, "B").floats
        let mean = try inputs.required(3, "mean").floats, variance = try inputs.required(4, "var").floats
        guard x.rank >= 2 else { throw EngineError.shapeMismatch("BatchNormalization needs rank >= 2, got \(x.shape)") }
        let c = x.shape[1]
        guard scale.count == c, bias.count == c, mean.count == c, variance.count == c else {
            throw EngineError.shapeMismatch("BatchNormalization parameters do not match \(c) channels")
        }
        let inner = x.shape[2...].reduce(1, *)
        var y: [Float] = try x.elements()
        for n in 0..<x.shape[0] {
            for ch in 0..<c {
                let a = scale[ch] / sqrtf(variance[ch] + epsilon)
                let b = bias[ch] - mean[ch] * a
                let base = (n * c + ch) * inner
                for i in 0..<inner { y[base + i] = y[base + i] * a + b }
            }
        }
        return [Tensor(shape: x.shape, floats: y)]
    }

    static let definition = OperatorDefinition("BatchNormalization") { node, _ in try BatchNormalizationKernel(node: node) }
}
