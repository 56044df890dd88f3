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
        return [Tensor(shape: x.shape, floats: SoftmaxKernel.compute(xs, outer: outer, len: len, inner: inner, log: log, pool: context.pool))]
    }

    /// Softmax over the middle index of an (outer, len, inner) view, shared among the pool's
    /// threads by outer index (inner == 1) or by inner column. The loops run on raw pointers
    /// along contiguous memory so that LLVM vectorises them (exp is VectorMath's, ~1e-7
    /// relative error).
    static func compute(_ x: [Float], outer: Int, len: Int, inner: Int, log: Bool, pool: WorkerPool = .serial) -> [Float] {
        if x.isEmpty || len == 0 { return [Float](repeating: 0, count: x.count) }
        var maxes = [Float](repeating: 0, count: inner)
        var sums = [Float](repeating: 0, count: inner)
        return [Float](unsafeUninitializedCapacity: x.count) { buf, initialized in
            let yb = buf.baseAddress!
            x.withUnsafeBufferPointer { xbuf in
                maxes.withUnsafeMutableBufferPointer { mb in
                    sums.withUnsafeMutableBufferPointer { sb in
                        let xb = xbuf.baseAddress!, mx = mb.baseAddress!, sm = sb.baseAddress!
                        if inner == 1 {
                            pool.forEachChunk(count: outer, minChunk: Swift.max(1, 8_192 / len)) { range in
                                for o in range { row(xb + o * len, yb + o * len, len: len, log: log) }
                            }
                            return
                        }
                        for o in 0..<outer {
                            let xo = xb + o * len * inner, yo = yb + o * len * inner
                            pool.forEachChunk(count: inner, minChunk: Swift.max(16, 8_192 / len)) { range in
                                columns(xo, yo, len: len, inner: inner, range, maxes: mx, sums: sm, log: log)
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// One contiguous row of `len` values. Reductions run in 16 lanes (strict FP math would
    /// keep scalar reductions from vectorising).
    private static func row(_ xo: UnsafePointer<Float>, _ yo: UnsafeMutablePointer<Float>, len: Int, log: Bool) {
        typealias V = SIMD16<Float>
        var mv = V(repeating: -.infinity), j = 0
        while j + 16 <= len {
            let v = UnsafeRawPointer(xo + j).loadUnaligned(as: V.self)
            mv.replace(with: v, where: v .> mv)
            j += 16
        }
        var m = -Float.infinity
        for l in 0..<16 { m = Swift.max(m, mv[l]) }
        while j < len { m = Swift.max(m, xo[j]); j += 1 }
        for j in 0..<len { yo[j] = VectorMath.exp(xo[j] - m) }
        var sv = V(), i = 0
        while i + 16 <= len {
            sv += UnsafeRawPointer(yo + i).loadUnaligned(as: V.self)
            i += 16
        }
        var sum: Float = 0
        for l in 0..<16 { sum += sv[l] }
        while i < len { sum += yo[i]; i += 1 }
        if log {
            let ls = logf(sum)
            for j in 0..<len { yo[j] = xo[j] - m - ls }
        } else {
            for j in 0..<len { yo[j] = yo[j] / sum }
        }
    }

    /// Columns `range` of a (len, inner) block, normalised down each column; `maxes` and
    /// `sums` are inner-long scratch of which only `range` is touched.
    private static func columns(_ xo: UnsafePointer<Float>, _ yo: UnsafeMutablePointer<Float>, len: Int, inner: Int,
                                _ range: Range<Int>, maxes mx: UnsafeMutablePointer<Float>,
                                sums sm: UnsafeMutablePointer<Float>, log: Bool) {
        for k in range { mx[k] = -.infinity; sm[k] = 0 }
        for j in 0..<len {
            let row = xo + j * inner
            for k in range { mx[k] = Swift.max(mx[k], row[k]) }
        }
        for j in 0..<len {
            let row = xo + j * inner, out = yo + j * inner
            for k in range {
                let e = VectorMath.exp(row[k] - mx[k])
                out[k] = e
                sm[k] += e
            }
        }
        if log { for k in range { sm[k] = logf(sm[k]) } }
        for j in 0..<len {
            let row = xo + j * inner, out = yo + j * inner
            if log {
                for k in range { out[k] = row[k] - mx[k] - sm[k] }
            } else {
                for k in range { out[k] = out[k] / sm[k] }
            }
        }
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
