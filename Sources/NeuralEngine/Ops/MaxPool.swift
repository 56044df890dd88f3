// MaxPool: sliding-window maximum over the spatial dims of an NCHW (or NCW)
// tensor with kernel_shape, strides, pads, dilations, auto_pad and ceil_mode.
// Padding never wins (it behaves as -inf). The optional Indices output is not
// supported and is rejected at load if the graph uses it. Undilated pools run
// on the separable kernel (MaxPoolSeparable); `reference` is the plain loop.
//
// x: (N, C, H, W) -> y: (N, C, oH, oW)

struct MaxPoolKernel: Kernel {
    let window: WindowAttributes

    init(node: Node) throws {
        window = try WindowAttributes(node.attributes)
        guard window.kernelShape != nil else { throw EngineError.invalidModel("MaxPool requires 'kernel_shape'") }
        if node.outputs.count > 1 && node.outputs[1] != nil {
            throw EngineError.unsupportedFeature("MaxPool Indices output is not supported")
        }
        if try node.attributes.int("storage_order", default: 0) != 0 {
            throw EngineError.unsupportedFeature("MaxPool storage_order = 1 is not supported")
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let (p, outShape) = try PoolGeometry.resolve(x.shape, window, op: "MaxPool")
        let xs: [Float] = try x.elements()
        let y = p.dilationH == 1 && p.dilationW == 1 ? MaxPoolSeparable.compute(xs, p, pool: context.pool) : MaxPoolKernel.reference(xs, p)
        return [Tensor(shape: outShape, floats: y)]
    }

    /// Direct-loop reference: maximum over each (dilated) window.
    static func reference(_ x: [Float], _ p: Conv2DParams) -> [Float] {
        let planes = p.batch * p.inChannels
        var y = [Float](repeating: 0, count: planes * p.outSpatial)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                for plane in 0..<planes {
                    let src = xb.baseAddress! + plane * p.inH * p.inW
                    let dst = yb.baseAddress! + plane * p.outSpatial
                    for oh in 0..<p.outH {
                        for ow in 0..<p.outW {
                            var m = -Float.infinity
                            for kh in 0..<p.kernelH {
                                let ih = oh * p.strideH - p.padTop + kh * p.dilationH
                                if ih < 0 || ih >= p.inH { continue }
                                for kw in 0..<p.kernelW {
                                    let iw = ow * p.strideW - p.padLeft + kw * p.dilationW
                                    if iw < 0 || iw >= p.inW { continue }
                                    let v = src[ih * p.inW + iw]
                                    if v > m || v.isNaN { m = v }
                                }
                            }
                            dst[oh * p.outW + ow] = m
                        }
                    }
                }
            }
        }
        return y
    }

    static let definition = OperatorDefinition("MaxPool") { node, _ in try MaxPoolKernel(node: node) }
}

/// Shape resolution shared by the pooling kernels (1-D and 2-D).
enum PoolGeometry {
    static func resolve(_ x: [Int], _ window: WindowAttributes, op: String) throws -> (Conv2DParams, [Int]) {
        guard x.count == 4 || x.count == 3, let k = window.kernelShape, k.count == x.count - 2 else {
            throw EngineError.unsupportedFeature("\(op) supports 1-D and 2-D pooling only (input \(x), kernel \(window.kernelShape ?? []))")
        }
        let g = try window.resolve(input: Array(x[2...]), kernel: k)
        let is1D = x.count == 3
        let p = Conv2DParams(
            batch: x[0], inChannels: x[1], inH: is1D ? 1 : x[2], inW: x[x.count - 1],
            outChannels: x[1], kernelH: is1D ? 1 : k[0], kernelW: k[k.count - 1], group: x[1],
            strideH: is1D ? 1 : g.strides[0], strideW: g.strides[g.strides.count - 1],
            dilationH: is1D ? 1 : g.dilations[0], dilationW: g.dilations[g.dilations.count - 1],
            padTop: is1D ? 0 : g.padBegin[0], padLeft: g.padBegin[g.padBegin.count - 1],
            outH: is1D ? 1 : g.output[0], outW: g.output[g.output.count - 1])
        return (p, [x[0], x[1]] + g.output)
    }

    /// End padding of the resolved geometry, needed by AveragePool's divisor.
    static func padEnd(_ x: [Int], _ window: WindowAttributes) throws -> (h: Int, w: Int) {
        let g = try window.resolve(input: Array(x[2...]), kernel: window.kernelShape!)
        return (x.count == 3 ? 0 : g.padEnd[0], g.padEnd[g.padEnd.count - 1])
    }
}
