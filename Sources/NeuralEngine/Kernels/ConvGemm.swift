// Optimised 2-D convolution: for each image and group, lower the input to an
// im2col matrix (skipped for 1x1/stride-1/unpadded convolutions, whose input
// already is the right-hand matrix) and multiply by the weight matrix with
// OpenBLAS sgemm, then apply bias + fused activation in one epilogue pass.
// The im2col buffer lives in the session's ExecutionContext scratch space.

enum ConvGemm {
    static func run(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams,
                    activation: FusedActivation, context: ExecutionContext) -> [Float] {
        let outCount = p.batch * p.outChannels * p.outSpatial
        if outCount == 0 { return [] }
        let mg = p.outChannelsPerGroup, cg = p.inChannelsPerGroup, k = p.patchSize, n = p.outSpatial
        let pointwise = p.isPointwise
        return [Float](unsafeUninitializedCapacity: outCount) { ybuf, initialized in
            let y = ybuf.baseAddress!
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    context.withScratch(count: pointwise ? 0 : k * n) { col in
                        for img in 0..<p.batch {
                            for g in 0..<p.group {
                                let xg = xb.baseAddress! + (img * p.inChannels + g * cg) * p.inH * p.inW
                                let bMatrix: UnsafePointer<Float>
                                if pointwise {
                                    bMatrix = xg
                                } else {
                                    Im2Col.lower(xg, channels: cg, p, into: col)
                                    bMatrix = UnsafePointer(col)
                                }
                                let yg = y + (img * p.outChannels + g * mg) * n
                                let wg = wb.baseAddress! + g * mg * k
                                if k == 0 {
                                    yg.update(repeating: 0, count: mg * n)
                                } else {
                                    BLAS.sgemm(m: mg, n: n, k: k, a: wg, lda: k, b: bMatrix, ldb: n, c: yg, ldc: n)
                                }
                            }
                            let yi = y + img * p.outChannels * n
                            if let bias {
                                bias.withUnsafeBufferPointer { bb in
                                    ActivationEpilogue.apply(yi, channels: p.outChannels, length: n,
                                                             bias: bb.baseAddress!, activation: activation, pool: context.pool)
                                }
                            } else {
                                ActivationEpilogue.apply(yi, channels: p.outChannels, length: n,
                                                         bias: nil, activation: activation, pool: context.pool)
                            }
                        }
                    }
                }
            }
            initialized = outCount
        }
    }
}
