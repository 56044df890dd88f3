// Direct depthwise convolution for groups with a single input channel
// (C/group == 1, e.g. YOLO11's DWConv and the attention block's positional
// conv). im2col + sgemm would degenerate into one tiny matrix-vector product
// per channel, so instead each kernel tap is accumulated as a scaled, shifted
// row (contiguous when stride is 1), followed by the usual bias + activation
// epilogue.

enum ConvDepthwise {
    static func canRun(_ p: Conv2DParams) -> Bool {
        p.inChannelsPerGroup == 1 && p.group > 1
    }

    static func run(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation, pool: WorkerPool) -> [Float] {
        let n = p.outSpatial
        let total = p.batch * p.outChannels * n
        if total == 0 { return [] }
        let mg = p.outChannelsPerGroup
        let taps = p.kernelH * p.kernelW
        var y = [Float](repeating: 0, count: total)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    let yBase = yb.baseAddress!
                    pool.forEachChunk(count: p.batch * p.outChannels,
                                      minChunk: Swift.max(1, 32_768 / Swift.max(n * taps, 1))) { range in
                        for index in range {
                            let img = index / p.outChannels, m = index % p.outChannels
                            let plane = xb.baseAddress! + (img * p.inChannels + m / mg) * p.inH * p.inW
                            let out = yBase + index * n
                            let wm = wb.baseAddress! + m * taps
                            for kh in 0..<p.kernelH {
                                for kw in 0..<p.kernelW {
                                    let wv = wm[kh * p.kernelW + kw]
                                    let offW = kw * p.dilationW - p.padLeft
                                    let owLo = Swift.min(p.outW, offW >= 0 ? 0 : (-offW + p.strideW - 1) / p.strideW)
                                    let owHi = Swift.max(owLo, Swift.min(p.outW, p.inW - offW <= 0 ? 0 : (p.inW - offW + p.strideW - 1) / p.strideW))
                                    for oh in 0..<p.outH {
                                        let ih = oh * p.strideH - p.padTop + kh * p.dilationH
                                        if ih < 0 || ih >= p.inH { continue }
                                        let src = plane + ih * p.inW + offW
                                        let dst = out + oh * p.outW
                                        if p.strideW == 1 {
                                            for ow in owLo..<owHi { dst[ow] += wv * src[ow] }
                                        } else {
                                            for ow in owLo..<owHi { dst[ow] += wv * src[ow * p.strideW] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    for img in 0..<p.batch {
                        let yi = yBase + img * p.outChannels * n
                        if let bias {
                            bias.withUnsafeBufferPointer { bb in
                                ActivationEpilogue.apply(yi, channels: p.outChannels, length: n, bias: bb.baseAddress!,
                                                         activation: activation, pool: pool)
                            }
                        } else {
                            ActivationEpilogue.apply(yi, channels: p.outChannels, length: n, bias: nil,
                                                     activation: activation, pool: pool)
                        }
                    }
                }
            }
        }
        return y
    }

    /// Fast path for stride-1, undilated depthwise convolutions: each plane
    /// is copied zero-padded into per-worker scratch, then every 16-pixel run
    /// of an output row accumulates all kH x kW taps in a register before one
    /// store with bias and the fused activation (no read-modify-write passes).
    static func canRunFast(_ p: Conv2DParams) -> Bool {
        canRun(p) && p.strideH == 1 && p.strideW == 1 && p.dilationH == 1 && p.dilationW == 1
            && p.kernelH * p.kernelW <= 49
    }

    static func runFast(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation,
                        context: ExecutionContext) -> [Float] {
        let n = p.outSpatial
        let planes = p.batch * p.outChannels
        if planes * n == 0 { return [] }
        let mg = p.outChannelsPerGroup, taps = p.kernelH * p.kernelW
        // Padded plane: rows cover every tap of every output row; columns too,
        // plus 16 floats so the last (partial) vector of a row stays inside.
        let pw = p.outW + p.kernelW - 1 + 16, ph = p.outH + p.kernelH - 1
        let planeFloats = (ph * pw + 16 + 15) & ~15
        let workers = Swift.max(1, Swift.min(context.threads, planes, planes * n * taps / 100_000))
        return context.floats(planes * n) { y in
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    context.withScratch(count: workers * planeFloats) { scratch in
                        context.pool.run(workers) { wi in
                            let pad = scratch + wi * planeFloats, tail = pad + ph * pw
                            for index in (planes * wi / workers)..<(planes * (wi + 1) / workers) {
                                let img = index / p.outChannels, m = index % p.outChannels
                                let src = xb.baseAddress! + (img * p.inChannels + m / mg) * p.inH * p.inW
                                // Zero-padded copy: pad[r][q] = x[r - padTop][q - padLeft].
                                pad.update(repeating: 0, count: ph * pw)
                                for r in 0..<ph {
                                    let ih = r - p.padTop
                                    if ih < 0 || ih >= p.inH { continue }
                                    let lo = Swift.max(0, p.padLeft), n0 = Swift.max(0, Swift.min(p.inW, pw - lo))
                                    let d = pad + r * pw + lo, s = src + ih * p.inW
                                    for q in 0..<n0 { d[q] = s[q] }
                                }
                                let wm = wb.baseAddress! + m * taps
                                let b = bias?[m] ?? 0
                                let out = y + index * n
                                for oh in 0..<p.outH {
                                    let dstRow = out + oh * p.outW
                                    var ow = 0
                                    // Four independent accumulators hide the FMA latency.
                                    while ow + 64 <= p.outW {
                                        var a0 = SIMD16<Float>(repeating: b), a1 = a0, a2 = a0, a3 = a0
                                        for ky in 0..<p.kernelH {
                                            let line = pad + (oh + ky) * pw + ow
                                            for kx in 0..<p.kernelW {
                                                let wv = SIMD16<Float>(repeating: wm[ky * p.kernelW + kx])
                                                let l = UnsafeRawPointer(line + kx)
                                                a0 = a0.addingProduct(wv, l.loadUnaligned(as: SIMD16<Float>.self))
                                                a1 = a1.addingProduct(wv, l.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                                                a2 = a2.addingProduct(wv, l.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
                                                a3 = a3.addingProduct(wv, l.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
                                            }
                                        }
                                        let d = UnsafeMutableRawPointer(dstRow + ow)
                                        d.storeBytes(of: a0, as: SIMD16<Float>.self)
                                        d.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
                                        d.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self)
                                        d.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self)
                                        activation.applyFused(dstRow + ow, count: 64)
                                        ow += 64
                                    }
                                    while ow < p.outW {
                                        var acc = SIMD16<Float>(repeating: b)
                                        for ky in 0..<p.kernelH {
                                            let line = pad + (oh + ky) * pw + ow
                                            for kx in 0..<p.kernelW {
                                                let v = UnsafeRawPointer(line + kx).loadUnaligned(as: SIMD16<Float>.self)
                                                acc = acc.addingProduct(SIMD16<Float>(repeating: wm[ky * p.kernelW + kx]), v)
                                            }
                                        }
                                        let count = Swift.min(16, p.outW - ow)
                                        let dst = dstRow + ow
                                        if count == 16 {
                                            UnsafeMutableRawPointer(dst).storeBytes(of: acc, as: SIMD16<Float>.self)
                                        } else {
                                            UnsafeMutableRawPointer(tail).storeBytes(of: acc, as: SIMD16<Float>.self)
                                            for i in 0..<count { dst[i] = tail[i] }
                                        }
                                        activation.applyFused(dst, count: count)
                                        ow += 16
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
