// Packed direct-GEMM convolution for group-1 2-D convolutions (any kernel
// size, stride, dilation and padding). It replaces im2col + sgemm with one
// register-blocked AVX-512 micro-kernel:
//
//   y[m, p] = act(bias[m] + sum_k W[m, k] * B[k, p]),  k = (c, ky, kx), p = (oh, ow)
//
// * SIMD lanes run along output pixels: a micro-tile is `mr` (8) output
//   channels x `nr` (48 = 3 x SIMD16) pixels held in 24 accumulators; each K
//   step loads 3 pixel vectors and broadcasts 8 weights (folded into FMAs).
// * Weights are packed once per weight tensor into [mTile][K][mr] panels
//   (zero-padded to a multiple of mr) and cached on the kernel
//   (ConvPackedWeights).
// * B is packed per 48-pixel block into a [K][48] panel with im2col fused into
//   the packing (zero fill for padding, rows wrap across output rows), so no
//   full im2col matrix exists. For 1x1/stride-1/unpadded convolutions full
//   blocks are read straight from the input (row stride = pixel count).
// * The epilogue (bias + fused activation) runs on the accumulators before the
//   single store of each output tile.
// * Threads split the (image, pixel block, M-tile group) units; each worker
//   packs into its own slice of the session scratch buffer.

import Dispatch
import Foundation

/// Weights repacked for ConvPacked, tied to the array they were made from.
final class ConvPackedWeights: @unchecked Sendable {
    static let mr = 8

    /// The source array, retained so that its storage (whose address identifies
    /// it) can neither be freed and reused nor mutated in place.
    let source: [Float]
    let m: Int, k: Int, mTiles: Int
    /// [mTiles][k][mr] floats.
    let panels: UnsafeMutablePointer<Float>

    init(_ w: [Float], m: Int, k: Int) {
        let mr = Self.mr
        source = w
        self.m = m
        self.k = k
        mTiles = (m + mr - 1) / mr
        let count = Swift.max(mTiles * k * mr, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        panels = raw.bindMemory(to: Float.self, capacity: count)
        panels.initialize(repeating: 0, count: count)
        w.withUnsafeBufferPointer { wb in
            for mt in 0..<mTiles {
                let panel = panels + mt * k * mr
                for r in 0..<Swift.min(mr, m - mt * mr) {
                    let row = wb.baseAddress! + (mt * mr + r) * k
                    for kk in 0..<k { panel[kk * mr + r] = row[kk] }
                }
            }
        }
    }

    deinit { panels.deallocate() }

    func matches(_ w: [Float], m: Int, k: Int) -> Bool {
        guard self.m == m, self.k == k, w.count == source.count else { return false }
        let a = w.withUnsafeBufferPointer { $0.baseAddress }
        let b = source.withUnsafeBufferPointer { $0.baseAddress }
        return a == b
    }
}

/// One-entry cache of packed weights, owned by a Conv kernel. Weight inputs are
/// normally initializers, so after the first run every run hits.
final class ConvPackedWeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entry: ConvPackedWeights?

    func packed(_ w: [Float], m: Int, k: Int) -> ConvPackedWeights {
        lock.lock()
        defer { lock.unlock() }
        if let e = entry, e.matches(w, m: m, k: k) { return e }
        let e = ConvPackedWeights(w, m: m, k: k)
        entry = e
        return e
    }
}

enum ConvPacked {
    static let mr = ConvPackedWeights.mr
    static let nr = 48

    static func canRun(_ p: Conv2DParams) -> Bool {
        p.group == 1 && p.patchSize > 0
    }

    static func run(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation,
                    context: ExecutionContext, cache: ConvPackedWeightCache? = nil) -> [Float] {
        let outCount = p.batch * p.outChannels * p.outSpatial
        if outCount == 0 { return [] }
        let m = p.outChannels, k = p.patchSize
        let weights = cache?.packed(w, m: m, k: k) ?? ConvPackedWeights(w, m: m, k: k)
        return run(x: x, weights: weights, bias: bias, p, activation: activation, context: context)
    }

    /// Layout of the prepared input: per channel, sh x sw phase planes of
    /// hs x ws floats (zero padded), so that every kernel tap reads a
    /// contiguous run along the flattened "virtual" output grid of width ws.
    struct Layout {
        let direct: Bool              // 1x1/stride 1/no padding: read x itself
        let sh: Int, sw: Int, hs: Int, ws: Int
        var phaseSize: Int { hs * ws }
        var channelStride: Int { sh * sw * hs * ws }
        /// Virtual pixels to compute: rows of ws, the last one cut at outW.
        let virtualPixels: Int
        /// Floats of the prepared image including read-over slack.
        let preparedCount: Int

        init(_ p: Conv2DParams) {
            direct = p.isPointwise
            sh = p.strideH
            sw = p.strideW
            if direct {
                hs = p.inH
                ws = p.inW
                preparedCount = 0
            } else {
                hs = p.outH + ((p.kernelH - 1) * p.dilationH) / p.strideH
                ws = p.outW + ((p.kernelW - 1) * p.dilationW) / p.strideW
                preparedCount = p.inChannels * p.strideH * p.strideW * hs * ws + 2 * ws + 2 * ConvPacked.nr
            }
            virtualPixels = (p.outH - 1) * ws + p.outW
        }

        /// Offset of B row k = (c, ky, kx) in the prepared image.
        func offsets(_ p: Conv2DParams) -> [Int] {
            var o: [Int] = []
            o.reserveCapacity(p.patchSize)
            for c in 0..<p.inChannels {
                for ky in 0..<p.kernelH {
                    for kx in 0..<p.kernelW {
                        if direct { o.append(c * hs * ws); continue }
                        let dy = ky * p.dilationH, dx = kx * p.dilationW
                        o.append(c * channelStride + ((dy % sh) * sw + dx % sw) * phaseSize + (dy / sh) * ws + dx / sw)
                    }
                }
            }
            return o
        }
    }

    static func run(x: [Float], weights: ConvPackedWeights, bias: [Float]?, _ p: Conv2DParams,
                    activation: FusedActivation, context: ExecutionContext) -> [Float] {
        let outCount = p.batch * p.outChannels * p.outSpatial
        if outCount == 0 { return [] }
        let k = p.patchSize, mTiles = weights.mTiles
        let layout = Layout(p)
        let offsets = layout.offsets(p)
        let blocks = (layout.virtualPixels + nr - 1) / nr
        let threads = context.threads
        // Split M tiles into groups when there are few pixel blocks per thread, so
        // that every worker gets a fair share.
        var mGroups = 1
        while blocks * mGroups < 8 * threads && mGroups < mTiles && threads > 1 { mGroups += 1 }
        let units = blocks * mGroups
        let macs = Double(k) * Double(layout.virtualPixels) * Double(mTiles * mr)
        let workers = Swift.max(1, Swift.min(threads, units, Int(macs / 2e5)))
        // Per worker: a [K][nr] panel (for the tail block of direct reads) and
        // an mr x nr tile for partial stores.
        let panelFloats = ((layout.direct ? k * nr : 0) + mr * nr + 15) & ~15
        let biasFloats = (mTiles * mr + 15) & ~15
        let packedOffsets = (0..<k).map { $0 * nr }
        return [Float](unsafeUninitializedCapacity: outCount) { ybuf, initialized in
            let y = ybuf.baseAddress!
            x.withUnsafeBufferPointer { xb in
                offsets.withUnsafeBufferPointer { ob in
                    packedOffsets.withUnsafeBufferPointer { pob in
                        let scratchCount = biasFloats + workers * panelFloats + layout.preparedCount + 16
                        context.withScratch(count: scratchCount) { scratch in
                            // 64-byte align the worker panels.
                            let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) + 63) & ~63)!
                            let biasPadded = aligned
                            biasPadded.initialize(repeating: 0, count: biasFloats)
                            if let bias { for i in 0..<p.outChannels { biasPadded[i] = bias[i] } }
                            let panelBase = aligned + biasFloats
                            let prepared = panelBase + workers * panelFloats
                            let inPlane = p.inChannels * p.inH * p.inW, outPlane = p.outChannels * p.outSpatial
                            for img in 0..<p.batch {
                                let xi = xb.baseAddress! + inPlane * img
                                let source: UnsafePointer<Float>
                                if layout.direct {
                                    source = xi
                                } else {
                                    prepare(xi, p, layout, into: prepared, threads: threads)
                                    source = UnsafePointer(prepared)
                                }
                                let job = Job(p: p, layout: layout, k: k, mTiles: mTiles, mGroups: mGroups,
                                              activation: activation, a: UnsafePointer(weights.panels),
                                              bias: UnsafePointer(biasPadded), b: source,
                                              offsets: ob.baseAddress!, packedOffsets: pob.baseAddress!,
                                              y: y + outPlane * img)
                                forEachWorker(workers) { wi in
                                    let lo = units * wi / workers, hi = units * (wi + 1) / workers
                                    job.run(units: lo..<hi, panel: panelBase + wi * panelFloats)
                                }
                            }
                        }
                    }
                }
            }
            initialized = outCount
        }
    }

    /// Runs body(0..<workers) concurrently (inline for one worker).
    static func forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 { body(0); return }
        withoutActuallyEscaping(body) { escapable in
            let task = UncheckedSendableBox(escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { w in task.value(w) }
        }
    }

    /// Writes the zero-padded, stride-phase-split copy of one image:
    /// dst[c][py][px][r][q] = x[c][r * sh + py - padTop][q * sw + px - padLeft].
    static func prepare(_ x: UnsafePointer<Float>, _ p: Conv2DParams, _ l: Layout, into dst: UnsafeMutablePointer<Float>, threads: Int) {
        let planes = p.inChannels * l.sh * l.sw
        let inH = p.inH, inW = p.inW, sh = l.sh, sw = l.sw, hs = l.hs, ws = l.ws
        Parallel.forEachChunk(count: planes, threads: threads, minChunk: Swift.max(1, 65_536 / Swift.max(l.phaseSize, 1))) { range in
            for plane in range {
                let c = plane / (sh * sw), py = (plane / sw) % sh, px = plane % sw
                let src = x + c * inH * inW
                let out = dst + plane * l.phaseSize
                let off = px - p.padLeft
                // Valid q: 0 <= q * sw + off < inW.
                let qLo = Swift.min(ws, off >= 0 ? 0 : (-off + sw - 1) / sw)
                let qHi = Swift.max(qLo, Swift.min(ws, inW - off <= 0 ? 0 : (inW - off + sw - 1) / sw))
                for r in 0..<hs {
                    let row = out + r * ws
                    let ih = r * sh + py - p.padTop
                    if ih < 0 || ih >= inH {
                        for q in 0..<ws { row[q] = 0 }
                        continue
                    }
                    for q in 0..<qLo { row[q] = 0 }
                    let s = src + ih * inW + off
                    if sw == 1 {
                        for q in qLo..<qHi { row[q] = s[q] }
                    } else if sw == 2 {
                        for q in qLo..<qHi { row[q] = s[2 * q] }
                    } else {
                        for q in qLo..<qHi { row[q] = s[q * sw] }
                    }
                    for q in qHi..<ws { row[q] = 0 }
                }
            }
        }
        // Slack read by the last block's junk lanes.
        (dst + planes * l.phaseSize).update(repeating: 0, count: l.preparedCount - planes * l.phaseSize)
    }

    struct Job {
        let p: Conv2DParams
        let layout: Layout
        let k: Int, mTiles: Int, mGroups: Int
        let activation: FusedActivation
        let a: UnsafePointer<Float>
        let bias: UnsafePointer<Float>
        let b: UnsafePointer<Float>
        let offsets: UnsafePointer<Int>
        let packedOffsets: UnsafePointer<Int>
        let y: UnsafeMutablePointer<Float>

        func run(units: Range<Int>, panel: UnsafeMutablePointer<Float>) {
            let tile = panel + (layout.direct ? k * nr : 0)
            let n = p.outSpatial, outW = p.outW, ws = layout.ws, vp = layout.virtualPixels
            var packedBlock = -1
            for u in units {
                let block = u / mGroups, group = u % mGroups
                let v0 = block * nr
                let count = Swift.min(nr, vp - v0)
                var base = b + v0, offs = offsets
                if layout.direct && count < nr {
                    // The tail block would read past the input: copy it.
                    if packedBlock != block {
                        for kk in 0..<k {
                            let src = b + offsets[kk] + v0, dst = panel + kk * nr
                            for j in 0..<count { dst[j] = src[j] }
                            for j in count..<nr { dst[j] = 0 }
                        }
                        packedBlock = block
                    }
                    base = UnsafePointer(panel)
                    offs = packedOffsets
                }
                // Where the block lands in y: one contiguous run, or scattered rows.
                let oh0 = v0 / ws, ow0 = v0 % ws
                let contiguous = ws == outW ? count == nr : ow0 + nr <= outW
                let t0 = mTiles * group / mGroups, t1 = mTiles * (group + 1) / mGroups
                for mt in t0..<t1 {
                    let rows = Swift.min(mr, p.outChannels - mt * mr)
                    let yt = y + mt * mr * n
                    if contiguous && rows == mr {
                        ConvPacked.microKernel(k: k, a: a + mt * k * mr, b: base, offsets: offs, bias: bias + mt * mr,
                                               out: yt + oh0 * outW + ow0, ldo: n, activation: activation)
                    } else {
                        ConvPacked.microKernel(k: k, a: a + mt * k * mr, b: base, offsets: offs, bias: bias + mt * mr,
                                               out: tile, ldo: nr, activation: activation)
                        for r in 0..<rows {
                            let src = tile + r * nr, dst = yt + r * n
                            var j = 0, oh = oh0, ow = ow0
                            while j < count {
                                let run = Swift.min(ws - ow, count - j)
                                let valid = Swift.max(0, Swift.min(run, outW - ow))
                                let d = dst + oh * outW + ow, s = src + j
                                for i in 0..<valid { d[i] = s[i] }
                                j += run
                                oh += 1
                                ow = 0
                            }
                        }
                    }
                }
            }
        }
    }

    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// One mr x nr output tile: out[r * ldo + j] = act(bias[r] + sum_k a[k][r] * b[offsets[k] + j]).
    @inline(never)
    static func microKernel(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                            bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ldo ld: Int,
                            activation: FusedActivation) {
        var c00 = V(), c01 = V(), c02 = V()
        var c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V()
        var c30 = V(), c31 = V(), c32 = V()
        var c40 = V(), c41 = V(), c42 = V()
        var c50 = V(), c51 = V(), c52 = V()
        var c60 = V(), c61 = V(), c62 = V()
        var c70 = V(), c71 = V(), c72 = V()
        var ap = a
        for kk in 0..<k {
            let bp = b + offsets[kk]
            let b0 = load(bp), b1 = load(bp + 16), b2 = load(bp + 32)
            var w = V(repeating: ap[0])
            c00 = c00.addingProduct(w, b0); c01 = c01.addingProduct(w, b1); c02 = c02.addingProduct(w, b2)
            w = V(repeating: ap[1])
            c10 = c10.addingProduct(w, b0); c11 = c11.addingProduct(w, b1); c12 = c12.addingProduct(w, b2)
            w = V(repeating: ap[2])
            c20 = c20.addingProduct(w, b0); c21 = c21.addingProduct(w, b1); c22 = c22.addingProduct(w, b2)
            w = V(repeating: ap[3])
            c30 = c30.addingProduct(w, b0); c31 = c31.addingProduct(w, b1); c32 = c32.addingProduct(w, b2)
            w = V(repeating: ap[4])
            c40 = c40.addingProduct(w, b0); c41 = c41.addingProduct(w, b1); c42 = c42.addingProduct(w, b2)
            w = V(repeating: ap[5])
            c50 = c50.addingProduct(w, b0); c51 = c51.addingProduct(w, b1); c52 = c52.addingProduct(w, b2)
            w = V(repeating: ap[6])
            c60 = c60.addingProduct(w, b0); c61 = c61.addingProduct(w, b1); c62 = c62.addingProduct(w, b2)
            w = V(repeating: ap[7])
            c70 = c70.addingProduct(w, b0); c71 = c71.addingProduct(w, b1); c72 = c72.addingProduct(w, b2)
            ap += 8
        }
        let bv0 = V(repeating: bias[0]), bv1 = V(repeating: bias[1]), bv2 = V(repeating: bias[2]), bv3 = V(repeating: bias[3])
        let bv4 = V(repeating: bias[4]), bv5 = V(repeating: bias[5]), bv6 = V(repeating: bias[6]), bv7 = V(repeating: bias[7])
        store(c00 + bv0, out); store(c01 + bv0, out + 16); store(c02 + bv0, out + 32)
        store(c10 + bv1, out + ld); store(c11 + bv1, out + ld + 16); store(c12 + bv1, out + ld + 32)
        store(c20 + bv2, out + 2 * ld); store(c21 + bv2, out + 2 * ld + 16); store(c22 + bv2, out + 2 * ld + 32)
        store(c30 + bv3, out + 3 * ld); store(c31 + bv3, out + 3 * ld + 16); store(c32 + bv3, out + 3 * ld + 32)
        store(c40 + bv4, out + 4 * ld); store(c41 + bv4, out + 4 * ld + 16); store(c42 + bv4, out + 4 * ld + 32)
        store(c50 + bv5, out + 5 * ld); store(c51 + bv5, out + 5 * ld + 16); store(c52 + bv5, out + 5 * ld + 32)
        store(c60 + bv6, out + 6 * ld); store(c61 + bv6, out + 6 * ld + 16); store(c62 + bv6, out + 6 * ld + 32)
        store(c70 + bv7, out + 7 * ld); store(c71 + bv7, out + 7 * ld + 16); store(c72 + bv7, out + 7 * ld + 32)
        switch activation {
        case .none: break
        case .relu: activateRelu(out, ld)
        case .sigmoid: activateSigmoid(out, ld)
        case .silu: activateSiLU(out, ld)
        }
    }

    // Activations applied in place to an mr x nr tile just stored (L1-hot),
    // with the formulas of VectorMath evaluated on 16 lanes at once.

    // Written as scalar loops over fixed-size rows so that LLVM vectorises
    // them (with FMAs) into zmm code.

    static func activateRelu(_ out: UnsafeMutablePointer<Float>, _ ld: Int) {
        for r in 0..<mr {
            let row = out + r * ld
            for i in 0..<nr { row[i] = Swift.max(row[i], 0) }
        }
    }

    static func activateSigmoid(_ out: UnsafeMutablePointer<Float>, _ ld: Int) {
        for r in 0..<mr {
            let row = out + r * ld
            for i in 0..<nr { row[i] = 1 / (1 + VectorMath.expFused(-row[i])) }
        }
    }

    static func activateSiLU(_ out: UnsafeMutablePointer<Float>, _ ld: Int) {
        for r in 0..<mr {
            let row = out + r * ld
            for i in 0..<nr {
                let v = row[i]
                row[i] = v / (1 + VectorMath.expFused(-v))
            }
        }
    }
}

extension VectorMath {
    /// `exp` with the same range reduction and polynomial, evaluated with fused
    /// multiply-adds (slightly more accurate, and half the vector operations
    /// once LLVM vectorises the calling loop).
    @inline(__always)
    static func expFused(_ x: Float) -> Float {
        var c = x < -87.3 ? -87.3 : x
        c = c > 88.3 ? 88.3 : c
        let magic: Float = 12_582_912  // 1.5 * 2^23: adding it rounds to an integer
        let t = magic.addingProduct(c, 1.442_695_04)
        let n = t - magic
        // Cody-Waite split of ln 2 keeps r accurate.
        var r = c.addingProduct(n, -0.693_359_375)
        r = r.addingProduct(n, 2.121_944_40e-4)
        var p = Float(1.398_199_95e-3).addingProduct(r, 1.987_569_15e-4)
        p = Float(8.333_451_91e-3).addingProduct(p, r)
        p = Float(4.166_579_59e-2).addingProduct(p, r)
        p = Float(1.666_666_55e-1).addingProduct(p, r)
        p = Float(5.000_000_12e-1).addingProduct(p, r)
        let er = (r + 1).addingProduct(p * r, r)
        let ni = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        return er * Float(bitPattern: UInt32(bitPattern: (ni &+ 127) &<< 23))
    }
}
