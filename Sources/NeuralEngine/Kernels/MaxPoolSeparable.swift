// Separable max pooling for undilated windows: max over a k_h x k_w window
// equals the max over k_h rows of per-row maxima over k_w columns, so each
// plane is reduced horizontally into a (inH x outW) buffer and then
// vertically, costing k_h + k_w instead of k_h * k_w comparisons per output
// (SPPF's 5x5 pools are 2.5x cheaper). Padding positions never win; NaN
// propagates like in the reference kernel.
//
// Stride 1 (SPPF) runs each plane as long flat loops instead of one short loop
// per row and tap: the plane is copied into a -inf-bordered grid whose rows are
// as wide as the windows need, so the horizontal pass is one loop over the whole
// grid (columns past outW are junk and dropped) and the vertical pass one loop
// over rows kH apart. SPPF's planes are 20 x 20: per-row loops were 8x slower
// than ONNX Runtime's pooling.

enum MaxPoolSeparable {
    /// Planes are shared among the pool's threads.
    static func compute(_ x: [Float], _ p: Conv2DParams, pool: WorkerPool = .serial) -> [Float] {
        let planes = p.batch * p.inChannels
        let total = planes * p.outSpatial
        if total == 0 { return [] }
        if p.strideH == 1 && p.strideW == 1 { return computeStride1(x, p, pool: pool) }
        var y = [Float](repeating: 0, count: total)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                pool.forEachChunk(count: planes, minChunk: Swift.max(1, 65_536 / Swift.max(p.inH * p.inW * p.kernelW, 1))) { range in
                    let r = UnsafeMutablePointer<Float>.allocate(capacity: p.inH * p.outW)
                    defer { r.deallocate() }
                    for plane in range {
                        let src = xb.baseAddress! + plane * p.inH * p.inW
                        // Horizontal pass: r[ih, ow] = max over valid kw, one
                        // tap at a time across the row (vectorisable selects).
                        for ih in 0..<p.inH {
                            let line = src + ih * p.inW
                            let out = r + ih * p.outW
                            for ow in 0..<p.outW { out[ow] = -Float.infinity }
                            for kw in 0..<p.kernelW {
                                let off = kw - p.padLeft
                                // Valid ow: 0 <= ow * strideW + off < inW.
                                let lo = Swift.min(p.outW, off >= 0 ? 0 : (-off + p.strideW - 1) / p.strideW)
                                let hi = Swift.max(lo, Swift.min(p.outW, p.inW - off <= 0 ? 0 : (p.inW - off + p.strideW - 1) / p.strideW))
                                let s = line + off
                                if p.strideW == 1 {
                                    for ow in lo..<hi {
                                        let v = s[ow], m = out[ow]
                                        out[ow] = v > m || v != v ? v : m
                                    }
                                } else {
                                    for ow in lo..<hi {
                                        let v = s[ow * p.strideW], m = out[ow]
                                        out[ow] = v > m || v != v ? v : m
                                    }
                                }
                            }
                        }
                        // Vertical pass.
                        let dst = yb.baseAddress! + plane * p.outSpatial
                        for oh in 0..<p.outH {
                            let start = oh * p.strideH - p.padTop
                            let lo = Swift.max(start, 0), hi = Swift.min(start + p.kernelH, p.inH)
                            let out = dst + oh * p.outW
                            for ow in 0..<p.outW { out[ow] = -Float.infinity }
                            var ih = lo
                            while ih < hi {
                                let line = r + ih * p.outW
                                for ow in 0..<p.outW {
                                    let v = line[ow], m = out[ow]
                                    out[ow] = v > m || v != v ? v : m
                                }
                                ih += 1
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Stride 1 in both directions, through a -inf-bordered copy of each plane.
    static func computeStride1(_ x: [Float], _ p: Conv2DParams, pool: WorkerPool) -> [Float] {
        let planes = p.batch * p.inChannels
        // The grid: every row and column a window reaches, input or padding.
        let gridH = p.outH + p.kernelH - 1, gridW = p.outW + p.kernelW - 1
        let gridCount = gridH * gridW
        return [Float](unsafeUninitializedCapacity: planes * p.outSpatial) { yb, initialized in
            x.withUnsafeBufferPointer { xb in
                pool.forEachChunk(count: planes, minChunk: Swift.max(1, 16_384 / Swift.max(gridCount * (p.kernelH + p.kernelW), 1))) { range in
                    // The grid with kernelW - 1 columns of slack, the horizontal maxima over it, and
                    // the vertical maxima over those (rows gridW apart; columns past outW are junk).
                    let columnsCount = (p.outH - 1) * gridW + p.outW
                    let grid = UnsafeMutablePointer<Float>.allocate(capacity: gridCount + p.kernelW)
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: gridCount)
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: columnsCount)
                    defer { grid.deallocate(); rows.deallocate(); columns.deallocate() }
                    grid.initialize(repeating: -.infinity, count: gridCount + p.kernelW)
                    // The input's rows and columns inside the grid (the rest stays -inf).
                    let r0 = Swift.max(0, p.padTop), r1 = Swift.min(gridH, p.padTop + p.inH)
                    let c0 = Swift.max(0, p.padLeft), c1 = Swift.min(gridW, p.padLeft + p.inW)
                    for plane in range {
                        let src = xb.baseAddress! + plane * p.inH * p.inW
                        for r in r0..<r1 {
                            let line = src + (r - p.padTop) * p.inW - p.padLeft
                            (grid + r * gridW + c0).update(from: line + c0, count: Swift.max(0, c1 - c0))
                        }
                        // One tap at a time over the whole grid: long loops that vectorise.
                        rows.update(from: grid, count: gridCount)
                        for j in 1..<Swift.max(p.kernelW, 1) {
                            let shifted = grid + j
                            for i in 0..<gridCount {
                                let v = shifted[i], m = rows[i]
                                rows[i] = v > m || v != v ? v : m
                            }
                        }
                        columns.update(from: rows, count: columnsCount)
                        for t in 1..<Swift.max(p.kernelH, 1) {
                            let below = rows + t * gridW
                            for i in 0..<columnsCount {
                                let v = below[i], m = columns[i]
                                columns[i] = v > m || v != v ? v : m
                            }
                        }
                        let dst = yb.baseAddress! + plane * p.outSpatial
                        for oh in 0..<p.outH { (dst + oh * p.outW).update(from: columns + oh * gridW, count: p.outW) }
                    }
                }
            }
            initialized = planes * p.outSpatial
        }
    }
}
