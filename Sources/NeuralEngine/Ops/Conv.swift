// Conv: grouped, strided, dilated, padded 1-D/2-D convolution with optional
// bias. Attributes (kernel_shape, strides, dilations, pads, auto_pad, group)
// are resolved against the input and weight shapes into Conv2DParams (1-D is
// run as 2-D with height 1). `run` uses the direct depthwise kernel
// (ConvDepthwise) when C/group == 1, the packed AVX-512 kernel (ConvPacked)
// for group 1, and im2col + sgemm (ConvGemm) for other grouped convolutions;
// `reference` is the plain loop definition kept for testing and as the
// semantic specification. Fusion passes may attach an activation that is
// applied in the output epilogue, and fold in a Concat along channels
// (ConcatConvFusion): X is then its leading inputs joined, read in place by a
// pointwise convolution of one image and joined into one tensor otherwise; and
// fold in a Split along channels (ConvSplitFusion): the packed kernel then
// writes each part as its own output.
//
// x: (N, C, H, W), w: (M, C/group, kH, kW), b: (M) -> y: (N, M, oH, oW)

struct ConvKernel: Kernel {
    let window: WindowAttributes
    let group: Int
    let activation: FusedActivation
    /// Leading inputs joined along channels into X (0: X is the first input).
    let concatInputs: Int
    /// Channels of each output when a Split is fused in (empty: one output).
    let splitOutputs: [Int]
    /// Weights repacked for ConvPacked on first use (normally an initializer).
    let weightCache = ConvPackedWeightCache()

    init(node: Node) throws {
        window = try WindowAttributes(node.attributes)
        group = try node.attributes.int("group", default: 1)
        activation = node.fusedActivation
        concatInputs = node.concatInputs
        splitOutputs = node.splitOutputs
        guard group >= 1 else { throw EngineError.invalidModel("Conv group must be >= 1") }
    }

    init(window: WindowAttributes, group: Int, activation: FusedActivation = .none) {
        self.window = window
        self.group = group
        self.activation = activation
        concatInputs = 0
        splitOutputs = []
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let joined = Swift.max(concatInputs, 1)
        let w = try inputs.required(joined, "W")
        let b = inputs.optional(joined + 1)
        let sources = try (0..<joined).map { try inputs.required($0, "X") }
        let xShape = try Self.joinedShape(sources.map(\.shape))
        let (p, outShape) = try params(x: xShape, w: w.shape)
        let ws: [Float] = try w.elements()
        let bs: [Float]? = try b.map { try $0.elements() }
        if let bs, bs.count != p.outChannels {
            throw EngineError.shapeMismatch("Conv bias has \(bs.count) values for \(p.outChannels) output channels")
        }
        let parts: [[Float]] = try sources.map { try $0.elements() }
        let packed = !ConvDepthwise.canRun(p) && ConvPacked.canRun(p)
        if packed && (parts.count == 1 || (p.isPointwise && p.batch == 1)) && (parts.count > 1 || !splitOutputs.isEmpty) {
            // Joined sources read where they lie, parts written where they belong.
            let ys = ConvPacked.run(sources: parts, w: ws, bias: bs, p, activation: activation, context: context, cache: weightCache,
                                    split: splitOutputs)
            let sizes = splitOutputs.isEmpty ? [p.outChannels] : splitOutputs
            return zip(ys, sizes).map { y, size in
                var shape = outShape
                shape[1] = size
                return Tensor(shape: shape, floats: y)
            }
        }
        let xs = parts.count == 1 ? parts[0] : Self.join(parts, shapes: sources.map(\.shape))
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
        return splitOutputs.isEmpty ? [Tensor(shape: outShape, floats: y)] : try Self.cut(y, shape: outShape, into: splitOutputs)
    }

    /// y cut along axis 1 into parts of `sizes` channels (what the fused Split would have made).
    static func cut(_ y: [Float], shape: [Int], into sizes: [Int]) throws -> [Tensor] {
        guard sizes.reduce(0, +) == shape[1] else {
            throw EngineError.shapeMismatch("Conv's split outputs \(sizes) do not add up to its \(shape[1]) channels")
        }
        let batch = shape[0], inner = shape[2...].reduce(1, *)
        var first = 0
        return sizes.map { size in
            var part: [Float] = []
            part.reserveCapacity(batch * size * inner)
            for image in 0..<batch {
                let start = (image * shape[1] + first) * inner
                part.append(contentsOf: y[start..<(start + size * inner)])
            }
            first += size
            var partShape = shape
            partShape[1] = size
            return Tensor(shape: partShape, floats: part)
        }
    }

    /// The shape of tensors joined along axis 1 (all other dimensions equal).
    static func joinedShape(_ shapes: [[Int]]) throws -> [Int] {
        var joined = shapes[0]
        for shape in shapes.dropFirst() {
            guard shape.count == joined.count, shape.count >= 2,
                  zip(shape, joined).enumerated().allSatisfy({ $0.offset == 1 || $0.element.0 == $0.element.1 }) else {
                throw EngineError.shapeMismatch("Conv's joined inputs \(shapes) differ outside the channel axis")
            }
            joined[1] += shape[1]
        }
        return joined
    }

    /// Arrays of tensors joined along axis 1 into one (what the fused Concat would have made).
    static func join(_ parts: [[Float]], shapes: [[Int]]) -> [Float] {
        let batch = shapes[0][0]
        var out: [Float] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for image in 0..<batch {
            for part in parts {
                let block = part.count / Swift.max(batch, 1)
                out.append(contentsOf: part[(image * block)..<((image + 1) * block)])
            }
        }
        return out
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
