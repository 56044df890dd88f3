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

    /// In place on `count` consecutive floats, as the convolution kernels fuse it: with the FMA
    /// exp (VectorMath.expFused) that every kernel set's tiles use, so they agree bit for bit.
    /// One plain loop per case, so that LLVM vectorises each (with FMAs).
    @inline(__always)
    func applyFused(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: break
        case .relu: for i in 0..<count { p[i] = Swift.max(p[i], 0) }
        case .sigmoid: for i in 0..<count { p[i] = 1 / (1 + VectorMath.expFused(-p[i])) }
        case .silu:
            for i in 0..<count {
                let v = p[i]
                p[i] = v / (1 + VectorMath.expFused(-v))
            }
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
