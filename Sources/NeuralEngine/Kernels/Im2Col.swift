// im2col lowering for 2-D convolution: writes, for one image and one group of
// input channels, the (C/group * kH * kW) x (oH * oW) patch matrix whose
// product with the (M/group) x (C/group * kH * kW) weight matrix is the
// convolution output. Row r = (c, kh, kw), column = (oh, ow); padding
// positions are zero. The valid output-column range per kernel tap is
// computed once so the inner loops carry no bounds checks.

enum Im2Col {
    static func lower(_ x: UnsafePointer<Float>, channels: Int, _ p: Conv2DParams, into col: UnsafeMutablePointer<Float>) {
        let n = p.outSpatial
        for c in 0..<channels {
            let plane = x + c * p.inH * p.inW
            for kh in 0..<p.kernelH {
                for kw in 0..<p.kernelW {
                    let row = col + ((c * p.kernelH + kh) * p.kernelW + kw) * n
                    let offW = kw * p.dilationW - p.padLeft
                    // Valid ow: 0 <= ow * strideW + offW < inW.
                    let owLo = Swift.min(p.outW, offW >= 0 ? 0 : (-offW + p.strideW - 1) / p.strideW)
                    let owHi = Swift.max(owLo, Swift.min(p.outW, p.inW - offW <= 0 ? 0 : (p.inW - offW + p.strideW - 1) / p.strideW))
                    for oh in 0..<p.outH {
                        let dst = row + oh * p.outW
                        let ih = oh * p.strideH - p.padTop + kh * p.dilationH
                        if ih < 0 || ih >= p.inH {
                            dst.update(repeating: 0, count: p.outW)
                            continue
                        }
                        let src = plane + ih * p.inW + offW
                        if owLo > 0 { dst.update(repeating: 0, count: owLo) }
                        if p.strideW == 1 {
                            (dst + owLo).update(from: src + owLo, count: owHi - owLo)
                        } else {
                            var ow = owLo
                            while ow < owHi {
                                dst[ow] = src[ow * p.strideW]
                                ow += 1
                            }
                        }
                        if owHi < p.outW { (dst + owHi).update(repeating: 0, count: p.outW - owHi) }
                    }
                }
            }
        }
    }
}
