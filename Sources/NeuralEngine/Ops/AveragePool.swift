// AveragePool: sliding-window mean over the spatial dims. With
// count_include_pad = 0 (default) the divisor counts only real input
// elements; with 1 it counts every position inside the padded input.
//
// x: (N, C, H, W) -> y: (N, C, oH, oW)

struct AveragePoolKernel: Kernel {
    let window: WindowAttributes
    let countIncludePad: Bool

    init(node: Node) throws {
        window = try WindowAttributes(node.attributes)
        countIncludePad = try node.attributes.int("count_include_pad", default: 0) != 0
        guard window.kernelShape != nil else { throw EngineError.invalidModel("AveragePool requires 'kernel_shape'") }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let (p, outShape) = try PoolGeometry.resolve(x.shape, window, op: "AveragePool")
        let pe = try PoolGeometry.padEnd(x.shape, window)
        let xs: [Float] = try x.elements()
        let planes = p.batch * p.inChannels
        var y = [Float](repeating: 0, count: planes * p.outSpatial)
        for plane in 0..<planes {
            let base = plane * p.inH * p.inW
            for oh in 0..<p.outH {
                for ow in 0..<p.outW {
                    var sum: Float = 0
                    var count = 0, padded = 0
                    for kh in 0..<p.kernelH {
                        let ih = oh * p.strideH - p.padTop + kh * p.dilationH
                        let inPaddedH = ih >= -p.padTop && ih < p.inH + pe.h
                        for kw in 0..<p.kernelW {
                            let iw = ow * p.strideW - p.padLeft + kw * p.dilationW
                            if inPaddedH && iw >= -p.padLeft && iw < p.inW + pe.w { padded += 1 }
                            if ih < 0 || ih >= p.inH || iw < 0 || iw >= p.inW { continue }
                            sum += xs[base + ih * p.inW + iw]
                            count += 1
                        }
                    }
                    let divisor = countIncludePad ? padded : count
                    y[plane * p.outSpatial + oh * p.outW + ow] = divisor > 0 ? sum / Float(divisor) : 0
                }
            }
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    static let definition = OperatorDefinition("AveragePool") { node, _ in try AveragePoolKernel(node: node) }
}
