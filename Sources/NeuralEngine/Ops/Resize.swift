// Resize: nearest-neighbour or (multi-)linear resampling. Opset 10 takes
// (X, scales); opset >= 11 takes (X, roi, scales, sizes) where empty inputs
// mean "absent"; opset >= 18 adds `axes` and `keep_aspect_ratio_policy`.
// Output size is floor(in * scale) or `sizes`. Each output coordinate is
// mapped back with the coordinate_transformation_mode (half_pixel,
// asymmetric, align_corners, pytorch_half_pixel, tf_half_pixel_for_nn,
// half_pixel_symmetric) and then rounded by nearest_mode or interpolated
// linearly. Resampling is separable, so it is applied one axis at a time.
// Cubic mode, antialiasing and tf_crop_and_resize are not supported.
//
// x: (d_0, ..., d_r-1) -> y: (out_0, ..., out_r-1)

import Foundation

struct ResizeKernel: Kernel {
    enum Mode: String, Sendable { case nearest, linear }
    enum NearestMode: String, Sendable { case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil, simple }
    enum Transform: String, Sendable {
        case halfPixel = "half_pixel", asymmetric, alignCorners = "align_corners"
        case pytorchHalfPixel = "pytorch_half_pixel", tfHalfPixelForNN = "tf_half_pixel_for_nn"
        case halfPixelSymmetric = "half_pixel_symmetric"
    }

    let opset: Int
    let mode: Mode
    let nearestMode: NearestMode
    let transform: Transform
    let axes: [Int]?
    let aspectPolicy: String
    /// Scales fixed at load time (Upsample-7's attribute); overrides inputs.
    var fixedScales: [Float]? = nil
    /// Input index of the scales tensor (1 for Resize-10 / Upsample-9, 2 otherwise).
    var scalesInput: Int
    /// Input index of the sizes tensor, if the operator has one.
    var sizesInput: Int?

    init(mode: Mode, nearestMode: NearestMode, transform: Transform, scalesInput: Int) {
        self.opset = 10
        self.mode = mode
        self.nearestMode = nearestMode
        self.transform = transform
        self.axes = nil
        self.aspectPolicy = "stretch"
        self.scalesInput = scalesInput
        self.sizesInput = nil
    }

    init(node: Node, opset: Int) throws {
        let a = node.attributes
        self.opset = opset
        let m = try a.string("mode", default: "nearest")
        let mm = m == "bilinear" ? "linear" : m
        guard let mode = Mode(rawValue: mm) else { throw EngineError.unsupportedFeature("Resize mode '\(m)' is not supported") }
        self.mode = mode
        scalesInput = opset >= 11 ? 2 : 1
        sizesInput = opset >= 11 ? 3 : nil
        if opset >= 11 {
            let t = try a.string("coordinate_transformation_mode", default: "half_pixel")
            guard let tr = Transform(rawValue: t) else {
                throw EngineError.unsupportedFeature("Resize coordinate_transformation_mode '\(t)' is not supported")
            }
            transform = tr
            let n = try a.string("nearest_mode", default: "round_prefer_floor")
            guard let nm = NearestMode(rawValue: n), nm != .simple else {
                throw EngineError.unsupportedFeature("Resize nearest_mode '\(n)' is not supported")
            }
            nearestMode = nm
        } else {
            transform = .asymmetric
            nearestMode = .simple
        }
        if opset >= 18 {
            if try a.int("antialias", default: 0) != 0 { throw EngineError.unsupportedFeature("Resize antialias is not supported") }
            axes = try a.ints("axes")
            aspectPolicy = try a.string("keep_aspect_ratio_policy", default: "stretch")
            guard ["stretch", "not_larger", "not_smaller"].contains(aspectPolicy) else {
                throw EngineError.unsupportedFeature("Resize keep_aspect_ratio_policy '\(aspectPolicy)' is not supported")
            }
        } else {
            axes = nil
            aspectPolicy = "stretch"
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let r = x.rank
        let axes = try (self.axes ?? Array(0..<r)).map { try Shape.normalizeAxis($0, rank: r, op: "Resize") }
        var scales = [Float](repeating: 1, count: r)
        var outShape = x.shape
        let scalesT = fixedScales.map { Tensor(shape: [$0.count], floats: $0) } ?? inputs.nonEmpty(scalesInput)
        let sizesT = sizesInput.flatMap { inputs.nonEmpty($0) }
        if let sizesT {
            let sizes = try Shape.intList(sizesT, name: "sizes")
            guard sizes.count == axes.count else { throw EngineError.invalidArgument("Resize sizes \(sizes) do not match rank \(axes.count)") }
            if aspectPolicy == "stretch" {
                for (k, ax) in axes.enumerated() {
                    guard sizes[k] >= 0, sizes[k] < 1 << 31 else { throw EngineError.invalidArgument("Resize sizes \(sizes) are invalid") }
                    outShape[ax] = sizes[k]
                    scales[ax] = x.shape[ax] > 0 ? Float(sizes[k]) / Float(x.shape[ax]) : 1
                }
            } else {
                let ratios = axes.enumerated().map { Float($0.element == 0 ? 0 : sizes[$0.offset]) / Float(Swift.max(x.shape[$0.element], 1)) }
                let s = aspectPolicy == "not_larger" ? (ratios.min() ?? 1) : (ratios.max() ?? 1)
                for ax in axes {
                    let size = (s * Float(x.shape[ax])).rounded()
                    guard size.isFinite, size >= 0, size < Float(1 << 31) else {
                        throw EngineError.invalidArgument("Resize sizes \(sizes) are invalid")
                    }
                    scales[ax] = s
                    outShape[ax] = Int(size)
                }
            }
        } else if let scalesT {
            let s = scalesT.floats
            guard s.count == axes.count else { throw EngineError.invalidArgument("Resize scales \(s) do not match rank \(axes.count)") }
            for (k, ax) in axes.enumerated() {
                let size = Double(x.shape[ax]) * Double(s[k])
                guard s[k] > 0, size.isFinite, size < Double(1 << 31) else {
                    throw EngineError.invalidArgument("Resize scale \(s[k]) is invalid for axis size \(x.shape[ax])")
                }
                scales[ax] = s[k]
                outShape[ax] = Int(Float(x.shape[ax]) * s[k])
            }
        } else {
            throw EngineError.invalidArgument("Resize needs either scales or sizes")
        }
        guard outShape.allSatisfy({ $0 >= 0 }) else { throw EngineError.invalidArgument("Resize output shape \(outShape) is invalid") }
        _ = try Shape.checkedCount(outShape, what: "Resize output")
        var data: [Float] = try x.elements()
        var shape = x.shape
        // YOLO's upsampling: every pixel to a 2x2 block, in one pass (ResizeKernel.upsample2x).
        if r == 4, outShape[0] == shape[0], outShape[1] == shape[1], scales[0] == 1, scales[1] == 1,
           Self.doubles(taps(inLen: shape[2], outLen: outShape[2], scale: scales[2]), inLen: shape[2]),
           Self.doubles(taps(inLen: shape[3], outLen: outShape[3], scale: scales[3]), inLen: shape[3]) {
            return [Tensor(shape: outShape, floats: Self.upsample2x(data, planes: shape[0] * shape[1], height: shape[2],
                                                                    width: shape[3], pool: context.pool))]
        }
        for ax in 0..<r where outShape[ax] != shape[ax] || scales[ax] != 1 {
            let taps = self.taps(inLen: shape[ax], outLen: outShape[ax], scale: scales[ax])
            data = ResizeKernel.resample(data, shape: shape, axis: ax, outLen: outShape[ax], taps: taps, pool: context.pool)
            shape[ax] = outShape[ax]
        }
        return [Tensor(shape: shape, floats: data)]
    }

    /// One output position: blend of two input indexes along an axis.
    struct Tap: Sendable { var i0: Int; var i1: Int; var w1: Float }

    /// Input coordinate for output coordinate `x` along an axis.
    func sourceCoordinate(_ x: Int, inLen: Int, outLen: Int, scale: Float) -> Float {
        let xf = Float(x)
        switch transform {
        case .halfPixel: return (xf + 0.5) / scale - 0.5
        case .asymmetric: return xf / scale
        case .alignCorners: return outLen == 1 ? 0 : xf * Float(inLen - 1) / Float(outLen - 1)
        case .pytorchHalfPixel: return outLen > 1 ? (xf + 0.5) / scale - 0.5 : 0
        case .tfHalfPixelForNN: return (xf + 0.5) / scale
        case .halfPixelSymmetric:
            let adjustment = Float(outLen) / (scale * Float(inLen))
            let center = Float(inLen) / 2
            let offset = center * (1 - adjustment)
            return offset + (xf + 0.5) / scale - 0.5
        }
    }

    func taps(inLen: Int, outLen: Int, scale: Float) -> [Tap] {
        (0..<outLen).map { j in
            let xo = sourceCoordinate(j, inLen: inLen, outLen: outLen, scale: scale)
            switch mode {
            case .nearest:
                var i: Int
                switch nearestMode {
                case .roundPreferFloor:
                    let f = xo.rounded(.down)
                    i = Int(xo - f == 0.5 ? f : xo.rounded(.toNearestOrAwayFromZero))
                case .roundPreferCeil:
                    let f = xo.rounded(.down)
                    i = Int(xo - f == 0.5 ? f + 1 : xo.rounded(.toNearestOrAwayFromZero))
                case .floor: i = Int(xo.rounded(.down))
                case .ceil: i = Int(xo.rounded(.up))
                case .simple: i = scale < 1 ? Int(xo.rounded(.up)) : Int(xo)
                }
                i = Swift.min(Swift.max(i, 0), inLen - 1)
                return Tap(i0: i, i1: i, w1: 0)
            case .linear:
                let c = Swift.min(Swift.max(xo, 0), Float(inLen - 1))
                let i0 = Int(c.rounded(.down))
                let i1 = Swift.min(i0 + 1, inLen - 1)
                return Tap(i0: i0, i1: i1, w1: c - Float(i0))
            }
        }
    }

    /// Resamples `a` along `axis` to `outLen` using per-output taps; the outer index is shared
    /// among the pool's threads.
    static func resample(_ a: [Float], shape: [Int], axis: Int, outLen: Int, taps: [Tap], pool: WorkerPool = .serial) -> [Float] {
        let outer = shape[..<axis].reduce(1, *)
        let inLen = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let total = outer * outLen * inner
        if total == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: total) { buf, count in
            a.withUnsafeBufferPointer { src in
                let dst = buf.baseAddress!
                if inner == 1 {
                    // Innermost axis: a gather per output element (a copy call
                    // per element would dominate, e.g. YOLO's 2x upsampling).
                    let i0 = taps.map(\.i0), i1 = taps.map(\.i1), w1 = taps.map(\.w1)
                    let nearest = taps.allSatisfy { $0.w1 == 0 }
                    i0.withUnsafeBufferPointer { a0 in
                        i1.withUnsafeBufferPointer { a1 in
                            w1.withUnsafeBufferPointer { ww in
                                pool.forEachChunk(count: outer, minChunk: Swift.max(1, 16_384 / Swift.max(outLen, 1))) { range in
                                    for o in range {
                                        let s = src.baseAddress! + o * inLen, d = dst + o * outLen
                                        if nearest {
                                            for j in 0..<outLen { (d + j).initialize(to: s[a0[j]]) }
                                        } else {
                                            for j in 0..<outLen {
                                                (d + j).initialize(to: (1 - ww[j]) * s[a0[j]] + ww[j] * s[a1[j]])
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    count = total
                    return
                }
                pool.forEachChunk(count: outer, minChunk: Swift.max(1, 16_384 / Swift.max(outLen * inner, 1))) { range in
                    for o in range {
                        let s = src.baseAddress! + o * inLen * inner
                        let d = dst + o * outLen * inner
                        for (j, t) in taps.enumerated() {
                            let row = d + j * inner
                            let r0 = s + t.i0 * inner
                            if t.w1 == 0 {
                                row.initialize(from: r0, count: inner)
                            } else {
                                let r1 = s + t.i1 * inner
                                let w0 = 1 - t.w1, w1 = t.w1
                                for k in 0..<inner { (row + k).initialize(to: w0 * r0[k] + w1 * r1[k]) }
                            }
                        }
                    }
                }
            }
            count = total
        }
    }

    /// True when `taps` take output j from input j / 2 alone (nearest, exactly twice as long).
    static func doubles(_ taps: [Tap], inLen: Int) -> Bool {
        taps.count == 2 * inLen && taps.enumerated().allSatisfy { $0.element.i0 == $0.offset / 2 && $0.element.w1 == 0 }
    }

    /// Each of `planes` height x width planes upsampled 2x by repeating every pixel into a 2x2
    /// block: one output row of pairs, then copied to the row below. What `resample` along
    /// height and then width gives for such taps (its reference in ResizeSoftmaxMatMulTests).
    static func upsample2x(_ a: [Float], planes: Int, height: Int, width: Int, pool: WorkerPool = .serial) -> [Float] {
        let rows = planes * height, outWidth = 2 * width
        let total = rows * 2 * outWidth
        if total == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: total) { buf, count in
            a.withUnsafeBufferPointer { src in
                let dst = buf.baseAddress!
                pool.forEachChunk(count: rows, minChunk: Swift.max(1, 8_192 / Swift.max(outWidth, 1))) { range in
                    for row in range {
                        let s = src.baseAddress! + row * width, d = dst + row * 2 * outWidth
                        for x in 0..<width {
                            let v = s[x]
                            (d + 2 * x).initialize(to: v)
                            (d + 2 * x + 1).initialize(to: v)
                        }
                        (d + outWidth).initialize(from: d, count: outWidth)
                    }
                }
            }
            count = total
        }
    }

    static let definition = OperatorDefinition("Resize", since: 10) { node, opset in try ResizeKernel(node: node, opset: opset) }
}
