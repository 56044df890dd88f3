// The epilogue applied after a convolution/GEMM: per-output-channel bias add
// followed by an optional fused activation (ReLU, Sigmoid, SiLU), done in a
// single pass over the output so fused graphs touch memory once.

import Foundation

extension FusedActivation {
    @inline(__always)
    func apply(_ v: Float) -> Float {
        switch self {
        case .none: return v
        case .relu: return Swift.max(v, 0)
        case .sigmoid: return VectorMath.sigmoid(v)
        case .silu: return VectorMath.silu(v)
        }
    }
}

enum ActivationEpilogue {
    /// y[c, i] = act(y[c, i] + bias[c]) for `channels` rows of `length` elements,
    /// split over the pool's threads by channel.
    static func apply(_ y: UnsafeMutablePointer<Float>, channels: Int, length: Int,
                      bias: UnsafePointer<Float>?, activation: FusedActivation, pool: WorkerPool) {
        if bias == nil && activation == .none { return }
        let cost = activation == .none || activation == .relu ? 1 : 16
        pool.forEachChunk(count: channels, minChunk: Swift.max(1, 16_384 / Swift.max(length * cost, 1))) { range in
            applyRows(y, range: range, length: length, bias: bias, activation: activation)
        }
    }

    private static func applyRows(_ y: UnsafeMutablePointer<Float>, range: Range<Int>, length: Int,
                                  bias: UnsafePointer<Float>?, activation: FusedActivation) {
        for c in range {
            let row = y + c * length
            let b = bias?[c] ?? 0
            switch activation {
            case .none:
                for i in 0..<length { row[i] += b }
            case .relu:
                for i in 0..<length { row[i] = Swift.max(row[i] + b, 0) }
            case .sigmoid:
                VectorMath.applySigmoid(row, count: length, bias: b)
            case .silu:
                VectorMath.applySiLU(row, count: length, bias: b)
            }
        }
    }
}
