// Separable max pooling for undilated windows: max over a k_h x k_w window
// equals the max over k_h rows of per-row maxima over k_w columns, so each
// plane is reduced horizontally into a (inH x outW) buffer and then
// vertically, costing k_h + k_w instead of k_h * k_w comparisons per output
// (SPPF's 5x5 pools are 2.5x cheaper). Padding positions never win; NaN
// propagates like in the reference kernel.

enum MaxPoolSeparable {
    /// Planes are shared among the pool's threads.
    static func compute(_ x: [Float], _ p: Conv2DParams, pool: WorkerPool = .serial) -> [Float] {
        let planes = p.batch * p.inChannels
        let total = planes * p.outSpatial
        if total == 0 { return [] }
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
}
