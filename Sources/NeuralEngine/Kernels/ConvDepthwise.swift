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

    static func run(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation, threads: Int = 1) -> [Float] {
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
                    Parallel.forEachChunk(count: p.batch * p.outChannels, threads: threads,
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
                                                         activation: activation, threads: threads)
                            }
                        } else {
                            ActivationEpilogue.apply(yi, channels: p.outChannels, length: n, bias: nil,
                                                     activation: activation, threads: threads)
                        }
                    }
                }
            }
        }
        return y
    }
}
