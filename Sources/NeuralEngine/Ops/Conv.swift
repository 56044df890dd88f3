// Conv: grouped, strided, dilated, padded 1-D/2-D convolution with optional
// bias. Attributes (kernel_shape, strides, dilations, pads, auto_pad, group)
// are resolved against the input and weight shapes into Conv2DParams (1-D is
// run as 2-D with height 1). `run` uses the direct depthwise kernel
// (ConvDepthwise) when C/group == 1, the packed AVX-512 kernel (ConvPacked)
// for group 1, and im2col + sgemm (ConvGemm) for other grouped convolutions;
// `reference` is the plain loop definition kept for testing and as the
// semantic specification. A fusion pass may attach an activation that is
// applied in the output epilogue.
//
// x: (N, C, H, W), w: (M, C/group, kH, kW), b: (M) -> y: (N, M, oH, oW)

struct ConvKernel: Kernel {
    let window: WindowAttributes
    let group: Int
    let activation: FusedActivation
    /// Weights repacked for ConvPacked on first use (normally an initializer).
    let weightCache = ConvPackedWeightCache()

    init(node: Node) throws {
        window = try WindowAttributes(node.attributes)
        group = try node.attributes.int("group", default: 1)
        activation = node.fusedActivation
        guard group >= 1 else { throw EngineError.invalidModel("Conv group must be >= 1") }
    }

    init(window: WindowAttributes, group: Int, activation: FusedActivation = .none) {
        self.window = window
        self.group = group
        self.activation = activation
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X"), w = try inputs.required(1, "W")
        let b = inputs.optional(2)
        let (p, outShape) = try params(x: x.shape, w: w.shape)
        let xs: [Float] = try x.elements(), ws: [Float] = try w.elements()
        let bs: [Float]? = try b.map { try $0.elements() }
        if let bs, bs.count != p.outChannels {
            throw EngineError.shapeMismatch("Conv bias has \(bs.count) values for \(p.outChannels) output channels")
        }
        let y: [Float]
        if ConvDepthwise.canRunFast(p) {
            y = ConvDepthwise.runFast(x: xs, w: ws, bias: bs, p, activation: activation, context: context)
        } else if ConvDepthwise.canRun(p) {
            y = ConvDepthwise.run(x: xs, w: ws, bias: bs, p, activation: activation, pool: context.pool)
        } else if ConvPacked.canRun(p) {
            y = ConvPacked.run(x: xs, w: ws, bias: bs, p, activation: activation, context: context, cache: weightCache)
        } else {
            y = ConvGemm.run(x: xs, w: ws, bias: bs, p, activation: activation, context: context)
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    /// Validates shapes and resolves the convolution geometry.
    func params(x: [Int], w: [Int]) throws -> (Conv2DParams, [Int]) {
        guard x.count == 4 || x.count == 3, w.count == x.count else {
            throw EngineError.unsupportedFeature("Conv supports 1-D and 2-D convolutions only (input \(x), weight \(w))")
        }
        let spatialIn = Array(x[2...]), spatialK = Array(w[2...])
        if let ks = window.kernelShape, ks != spatialK {
            throw EngineError.shapeMismatch("Conv kernel_shape \(ks) does not match weight shape \(w)")
        }
        let (c, m) = (x[1], w[0])
        guard c % group == 0, m % group == 0, w[1] == c / group else {
            throw EngineError.shapeMismatch("Conv input \(x), weight \(w) and group \(group) are inconsistent")
        }
        let g = try window.resolve(input: spatialIn, kernel: spatialK)
        let is1D = x.count == 3
        let p = Conv2DParams(
            batch: x[0], inChannels: c, inH: is1D ? 1 : x[2], inW: x[x.count - 1],
            outChannels: m, kernelH: is1D ? 1 : w[2], kernelW: w[w.count - 1], group: group,
            strideH: is1D ? 1 : g.strides[0], strideW: g.strides[g.strides.count - 1],
            dilationH: is1D ? 1 : g.dilations[0], dilationW: g.dilations[g.dilations.count - 1],
            padTop: is1D ? 0 : g.padBegin[0], padLeft: g.padBegin[g.padBegin.count - 1],
            outH: is1D ? 1 : g.output[0], outW: g.output[g.output.count - 1])
        return (p, [x[0], m] + g.output)
    }

    /// Direct-loop reference convolution.
    static func reference(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams,
                          activation: FusedActivation = .none) -> [Float] {
        let cg = p.inChannelsPerGroup, mg = p.outChannelsPerGroup
        var y = [Float](repeating: 0, count: p.batch * p.outChannels * p.outSpatial)
        for n in 0..<p.batch {
            for m in 0..<p.outChannels {
                let g = m / mg
                for oh in 0..<p.outH {
                    for ow in 0..<p.outW {
                        var acc: Float = bias?[m] ?? 0
                        for ci in 0..<cg {
                            let c = g * cg + ci
                            for kh in 0..<p.kernelH {
                                let ih = oh * p.strideH - p.padTop + kh * p.dilationH
                                if ih < 0 || ih >= p.inH { continue }
                                for kw in 0..<p.kernelW {
                                    let iw = ow * p.strideW - p.padLeft + kw * p.dilationW
                                    if iw < 0 || iw >= p.inW { continue }
                                    let xv = x[((n * p.inChannels + c) * p.inH + ih) * p.inW + iw]
                                    let wv = w[((m * cg + ci) * p.kernelH + kh) * p.kernelW + kw]
                                    acc += xv * wv
                                }
                            }
                        }
                        y[((n * p.outChannels + m) * p.outH + oh) * p.outW + ow] = activation.apply(acc)
                    }
                }
            }
        }
        return y
    }

    static let definition = OperatorDefinition("Conv") { node, _ in try ConvKernel(node: node) }
}
