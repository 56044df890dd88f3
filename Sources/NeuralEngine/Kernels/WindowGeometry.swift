// WindowGeometry resolves the spatial geometry shared by Conv and the pooling
// operators: per-axis kernel extent, stride, dilation, begin/end padding and
// output size, honouring ONNX auto_pad (NOTSET / SAME_UPPER / SAME_LOWER /
// VALID) and ceil_mode. Conv2DParams packages the fully resolved 2-D
// convolution problem consumed by both the reference and the GEMM kernels.

struct WindowAttributes: Sendable {
    var kernelShape: [Int]?
    var strides: [Int]?
    var dilations: [Int]?
    var pads: [Int]?
    var autoPad: String
    var ceilMode: Bool

    init(_ a: NodeAttributes) throws {
        kernelShape = try a.ints("kernel_shape")
        strides = try a.ints("strides")
        dilations = try a.ints("dilations")
        pads = try a.ints("pads")
        autoPad = try a.string("auto_pad", default: "NOTSET")
        ceilMode = try a.int("ceil_mode", default: 0) != 0
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", ""].contains(autoPad) else {
            throw EngineError.unsupportedFeature("auto_pad '\(autoPad)' is not supported")
        }
    }

    /// Resolves geometry for spatial input sizes `input` and kernel sizes `kernel`.
    func resolve(input: [Int], kernel: [Int]) throws -> WindowGeometry {
        let r = input.count
        let strides = self.strides ?? Array(repeating: 1, count: r)
        let dilations = self.dilations ?? Array(repeating: 1, count: r)
        guard kernel.count == r, strides.count == r, dilations.count == r else {
            throw EngineError.invalidArgument("kernel/strides/dilations rank does not match \(r) spatial dims")
        }
        let limit = 1 << 24
        guard strides.allSatisfy({ $0 >= 1 && $0 < limit }), dilations.allSatisfy({ $0 >= 1 && $0 < limit }),
              kernel.allSatisfy({ $0 >= 1 && $0 < limit }), (pads ?? []).allSatisfy({ $0 < limit }) else {
            throw EngineError.invalidArgument("kernel \(kernel), strides \(strides) and dilations \(dilations) must be positive")
        }
        var g = WindowGeometry(input: input, kernel: kernel, strides: strides, dilations: dilations,
                               padBegin: Array(repeating: 0, count: r), padEnd: Array(repeating: 0, count: r),
                               output: Array(repeating: 0, count: r))
        for i in 0..<r {
            let extent = (kernel[i] - 1) * dilations[i] + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                let out = (input[i] + strides[i] - 1) / strides[i]
                let total = Swift.max(0, (out - 1) * strides[i] + extent - input[i])
                let small = total / 2
                g.padBegin[i] = autoPad == "SAME_UPPER" ? small : total - small
                g.padEnd[i] = total - g.padBegin[i]
                g.output[i] = out
                continue
            case "VALID":
                break
            default:
                if let pads {
                    guard pads.count == 2 * r else { throw EngineError.invalidArgument("pads \(pads) must have \(2 * r) values") }
                    guard pads.allSatisfy({ $0 >= 0 }) else { throw EngineError.invalidArgument("negative pads \(pads)") }
                    g.padBegin[i] = pads[i]
                    g.padEnd[i] = pads[r + i]
                }
            }
            let span = input[i] + g.padBegin[i] + g.padEnd[i] - extent
            guard span >= 0 else {
                throw EngineError.shapeMismatch("kernel extent \(extent) exceeds padded input size \(input[i] + g.padBegin[i] + g.padEnd[i])")
            }
            var out = (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1
            // A window must start inside the input or the begin padding.
            if ceilMode && (out - 1) * strides[i] >= input[i] + g.padBegin[i] { out -= 1 }
            g.output[i] = out
        }
        return g
    }
}

struct WindowGeometry: Sendable, Equatable {
    var input: [Int]
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var output: [Int]
}

/// A fully resolved 2-D (grouped, dilated, strided, padded) convolution.
struct Conv2DParams: Sendable, Equatable {
    var batch: Int, inChannels: Int, inH: Int, inW: Int
    var outChannels: Int, kernelH: Int, kernelW: Int, group: Int
    var strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
    var padTop: Int, padLeft: Int
    var outH: Int, outW: Int

    var inChannelsPerGroup: Int { inChannels / group }
    var outChannelsPerGroup: Int { outChannels / group }
    /// Rows of the im2col matrix per group (= columns of the weight matrix).
    var patchSize: Int { inChannelsPerGroup * kernelH * kernelW }
    var outSpatial: Int { outH * outW }
    var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && outH == inH && outW == inW
    }
}
