// Packed direct-GEMM convolution for group-1 2-D convolutions (any kernel
// size, stride, dilation and padding), replacing im2col + sgemm:
//
//   y[m, p] = act(bias[m] + sum_k W[m, k] * B[k, p]),  k = (c, ky, kx), p = (oh, ow)
//
// * Micro-kernel: SIMD lanes run along output pixels. A tile is 8 output
//   channels x 48 pixels (3 x SIMD16 = 24 accumulators; 32- and 16-pixel
//   variants for row tails). Each K step loads the pixel vectors of B row k
//   at b + offsets[k] and broadcasts 8 weights into FMAs; no calls, bounds
//   checks or reference counting in the loop (checked in the assembly).
// * Channel tiles (AVX-512, fp32): on maps whose rows are not a multiple of 16
//   pixels (YOLO's 20- and 40-pixel maps), pixel tiles would also compute each
//   row's junk columns and the block tails (448 lanes for 400 pixels on
//   20 x 20). There the lanes run along 32 output channels instead, over up
//   to 12 pixels of one row broadcast from the prepared input, so only real
//   pixels are computed; the tile is transposed in registers before the store.
//   The same FMAs in the same order: the two tiles agree to the last bit.
// * Weights are packed once per weight tensor into [mTile][K][8] panels
//   (zero-padded to a multiple of 8 channels) and cached on the Conv kernel
//   (ConvPackedWeightCache), keyed by the identity of the weight array.
// * B is never materialised as an im2col matrix. Pointwise convolutions read
//   x directly (B row k = channel plane k). Other convolutions read a
//   zero-padded, stride-phase-split copy of a chunk of input rows (see
//   Layout), written into an L2-sized per-worker scratch region; every
//   kernel tap is then a contiguous run, also for stride 2.
// * Epilogue: bias add, store, then the fused activation (ReLU, sigmoid,
//   SiLU with an FMA exp) on the L1-hot tile.
// * bf16 and int8 (ConvInt8.swift) reuse the blocks and the threading; int8
//   quantises the prepared rows (or, pointwise, x once) into planes of
//   channel quads that its tile reads in place.
// * Fused graph nodes: the B rows of a pointwise convolution may lie in
//   several arrays (a folded Concat: offsets from the first), and the M
//   tiles may write into several outputs (a folded Split: tileOutputs).
// * The micro-kernel is chosen per CPU (KernelDispatch): the AVX-512 or AVX2
//   one in CKernels, or the portable Swift one below (their reference). The
//   AVX-512 set also copies the prepared rows with AVX-512 (PrepareAVX512.c).
// * Threads: each worker takes a band of output rows (pointwise: a range of
//   pixel blocks, also splitting M tiles when blocks are few) and uses its
//   own region of the session scratch buffer, so no per-run allocations
//   besides the output.

import CKernels
import Foundation

/// Weights repacked for ConvPacked, tied to the array they were made from.
final class ConvPackedWeights: @unchecked Sendable {
    static let mr = 8

    /// The source array, retained so that its storage (whose address identifies
    /// it) can neither be freed and reused nor mutated in place.
    let source: [Float]
    let m: Int, k: Int, mTiles: Int
    /// [mTiles][k][mr] floats; for channel tiles, [channel blocks][k][32] (the last block 16 or
    /// 32 wide, zero-padded).
    let panels: UnsafeMutablePointer<Float>
    /// Whether the panels are laid out for the channel tiles (ConvPacked.usesChannelTiles).
    let channelTiles: Bool
    /// The same weights as bf16 pairs of consecutive K, [mTiles][(k + 1) / 2][mr][2] (an odd
    /// K's partner 0), when made for a bf16 session. Set once, in init.
    private(set) var bf16Panels: UnsafeMutablePointer<UInt16>? = nil
    /// The same weights as s8 quads with the epilogue's factors for one input quantisation,
    /// when made for an int8 convolution.
    let int8: Int8Factors?

    /// An int8 convolution's weights and, for its input's quantisation, each output channel's
    /// share of the zero point (correction) and its scale back to fp32.
    struct Int8Factors {
        let weights: Int8ConvWeights
        let input: ActivationQuantization
        let correction: [Int32]
        let scale: [Float]

        init(_ w: [Float], m: Int, k: Int, taps: Int, input: ActivationQuantization) {
            weights = Int8ConvWeights(w, m: m, channels: k / taps, taps: taps)
            self.input = input
            correction = weights.rowSums.map { input.zeroPoint &* $0 }
            scale = weights.scales.map { $0 * input.scale }
        }
    }

    /// `taps` (kernel height x width) orders the int8 quads; K is channels x taps.
    init(_ w: [Float], m: Int, k: Int, taps: Int = 1, bf16: Bool = false, int8 input: ActivationQuantization? = nil,
         channelTiles: Bool = false) {
        int8 = input.map { Int8Factors(w, m: m, k: k, taps: taps, input: $0) }
        let mr = Self.mr
        source = w
        self.m = m
        self.k = k
        self.channelTiles = channelTiles
        mTiles = (m + mr - 1) / mr
        let count = Swift.max(channelTiles ? (m + 15) / 16 * 16 * k : mTiles * k * mr, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        panels = raw.bindMemory(to: Float.self, capacity: count)
        panels.initialize(repeating: 0, count: count)
        w.withUnsafeBufferPointer { wb in
            if channelTiles {
                for block in 0..<Self.channelBlocks(m) {
                    let (c0, width) = Self.channelBlock(block, m: m)
                    let panel = panels + c0 * k
                    for c in 0..<Swift.min(width, m - c0) {
                        let row = wb.baseAddress! + (c0 + c) * k
                        for kk in 0..<k { panel[kk * width + c] = row[kk] }
                    }
                }
                return
            }
            for mt in 0..<mTiles {
                let panel = panels + mt * k * mr
                for r in 0..<Swift.min(mr, m - mt * mr) {
                    let row = wb.baseAddress! + (mt * mr + r) * k
                    for kk in 0..<k { panel[kk * mr + r] = row[kk] }
                }
            }
        }
        if bf16 {
            let pairs = (k + 1) / 2, count = Swift.max(mTiles * pairs * mr * 2, 1)
            let halves = UnsafeMutableRawPointer.allocate(byteCount: count * 2, alignment: 64).bindMemory(to: UInt16.self, capacity: count)
            halves.initialize(repeating: 0, count: count)
            for mt in 0..<mTiles {
                let panel = panels + mt * k * mr, out = halves + mt * pairs * mr * 2
                for kk in 0..<k {
                    for r in 0..<mr { out[(kk / 2) * mr * 2 + r * 2 + kk % 2] = Self.bf16(panel[kk * mr + r]) }
                }
            }
            bf16Panels = halves
        }
    }

    /// Output channels per channel tile (two zmm).
    static let channelBlockWidth = 32

    static func channelBlocks(_ m: Int) -> Int { (m + channelBlockWidth - 1) / channelBlockWidth }

    /// Channel block b's first channel and its width in the panels (32, or 16 for a last block
    /// of at most 16 channels).
    static func channelBlock(_ b: Int, m: Int) -> (first: Int, width: Int) {
        let first = b * channelBlockWidth
        return (first, m - first <= 16 ? 16 : channelBlockWidth)
    }

    deinit {
        panels.deallocate()
        bf16Panels?.deallocate()
    }

    /// `value` rounded to the nearest bf16 (ties to even), as the CPU's conversion does.
    static func bf16(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    func matches(_ w: [Float], m: Int, k: Int, taps: Int, bf16: Bool, int8 input: ActivationQuantization?,
                 channelTiles: Bool) -> Bool {
        guard self.m == m, self.k == k, w.count == source.count, (bf16Panels != nil) == bf16, int8?.input == input,
              self.channelTiles == channelTiles,
              int8.map({ $0.weights.taps == taps }) ?? true else { return false }
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

    func packed(_ w: [Float], m: Int, k: Int, taps: Int = 1, bf16: Bool = false, int8: ActivationQuantization? = nil,
                channelTiles: Bool = false) -> ConvPackedWeights {
        lock.lock()
        defer { lock.unlock() }
        if let e = entry, e.matches(w, m: m, k: k, taps: taps, bf16: bf16, int8: int8, channelTiles: channelTiles) { return e }
        let e = ConvPackedWeights(w, m: m, k: k, taps: taps, bf16: bf16, int8: int8, channelTiles: channelTiles)
        entry = e
        return e
    }
}

enum ConvPacked {
    static let mr = ConvPackedWeights.mr
    static let nr = 48
    /// Prepared input per band chunk: small enough to stay in L2 (1 MB on
    /// Zen 5) while its blocks run; 512 KB measured best of 128 KB-whole band.
    static let chunkBytes = 512 * 1024

    static func canRun(_ p: Conv2DParams) -> Bool {
        p.group == 1 && p.patchSize > 0
    }

    /// Whether an fp32 convolution runs channel tiles (lanes along output channels) instead of
    /// pixel tiles: on maps whose rows are not a multiple of 16 pixels wide, where pixel tiles
    /// run over each row's junk columns and the last block's spare lanes (448 lanes for the 400
    /// pixels of a 20 x 20 map), with the AVX-512 kernels (the only set that has them).
    static func usesChannelTiles(_ p: Conv2DParams, kernels: KernelSet) -> Bool {
        kernels == .avx512 && !p.isPointwise && p.outW % 16 != 0
    }

    static func run(x: [Float], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation,
                    context: ExecutionContext, cache: ConvPackedWeightCache? = nil) -> [Float] {
        run(sources: [x], w: w, bias: bias, p, activation: activation, context: context, cache: cache)
    }

    /// The convolution of the sources joined along channels (a fused Concat): more than one
    /// source only for a pointwise convolution of one image, whose B rows are the sources'
    /// channel planes where they lie.
    static func run(sources: [[Float]], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation,
                    context: ExecutionContext, cache: ConvPackedWeightCache? = nil) -> [Float] {
        run(sources: sources, w: w, bias: bias, p, activation: activation, context: context, cache: cache, split: [])[0]
    }

    /// The same with the output channels cut into consecutive outputs of `split` channels each
    /// (a fused Split; each size but the last a multiple of mr, so no tile straddles two outputs;
    /// empty: one output).
    static func run(sources: [[Float]], w: [Float], bias: [Float]?, _ p: Conv2DParams, activation: FusedActivation,
                    context: ExecutionContext, cache: ConvPackedWeightCache?, split: [Int]) -> [[Float]] {
        precondition(sources.count == 1 || (p.isPointwise && p.batch == 1), "joined sources need a pointwise convolution of one image")
        let outCount = p.batch * p.outChannels * p.outSpatial
        if outCount == 0 { return (split.isEmpty ? [0] : split).map { _ in [] } }
        let m = p.outChannels, k = p.patchSize
        if context.calibration != nil { for x in sources { record(x, context: context) } }
        let bf16 = context.precision == .bf16
        // int8 where a calibration gave this convolution's input range; fp32 elsewhere.
        let int8 = context.precision == .int8 ? context.int8Inputs[context.currentNode] : nil
        let taps = p.kernelH * p.kernelW
        let channelTiles = !bf16 && int8 == nil && usesChannelTiles(p, kernels: context.kernels)
        let weights = cache?.packed(w, m: m, k: k, taps: taps, bf16: bf16, int8: int8, channelTiles: channelTiles)
            ?? ConvPackedWeights(w, m: m, k: k, taps: taps, bf16: bf16, int8: int8, channelTiles: channelTiles)
        return run(sources: sources, weights: weights, bias: bias, p, activation: activation, context: context, split: split)
    }

    /// Widens the calibration's range of the running node's input by x's values.
    static func record(_ x: [Float], context: ExecutionContext) {
        var low = Float.infinity, high = -Float.infinity
        for v in x where v.isFinite {
            low = Swift.min(low, v)
            high = Swift.max(high, v)
        }
        guard low <= high else { return }
        let node = context.currentNode
        let seen = context.calibration?[node].map { Swift.min($0.lowerBound, low)...Swift.max($0.upperBound, high) } ?? low...high
        context.calibration?[node] = seen
    }

    /// Geometry of the prepared input and of the pixel blocks.
    ///
    /// Each worker owns a band of output rows and prepares, chunk by chunk and
    /// into its own scratch region, the input rows a chunk reads: per input
    /// channel, sh x sw phase planes of `rows + rymax` rows of ws floats (zero
    /// padded), so that every kernel tap reads a contiguous run along the
    /// flattened "virtual" output grid of row pitch ws >= outW (columns
    /// outW..<ws are junk). Pointwise convolutions read x itself (ws = outW)
    /// and split pixel blocks instead of rows. Pixel blocks of up to nr pixels
    /// are row-aligned when outW is a multiple of 16 (no junk computed, direct
    /// stores), else cut from the flattened virtual grid (junk lanes are
    /// computed and dropped when the tile is scattered into y).
    struct Layout {
        let direct: Bool
        let sh: Int, sw: Int, ws: Int
        let outW: Int
        let rymax: Int, rxmax: Int
        let rowAligned: Bool
        let blocksPerRow: Int
        /// Row-aligned rows of 48k + 16 pixels end in two 32-pixel blocks
        /// instead of 48 + 16 (the 16-wide kernel is a third slower).
        let splitTail: Bool

        init(_ p: Conv2DParams) {
            direct = p.isPointwise
            sh = p.strideH
            sw = p.strideW
            outW = p.outW
            rymax = direct ? 0 : ((p.kernelH - 1) * p.dilationH) / p.strideH
            rxmax = direct ? 0 : ((p.kernelW - 1) * p.dilationW) / p.strideW
            ws = direct ? p.inW : p.outW + rxmax
            rowAligned = !direct && p.outW % 16 == 0
            blocksPerRow = (p.outW + ConvPacked.nr - 1) / ConvPacked.nr
            splitTail = p.outW % ConvPacked.nr == 16 && p.outW > ConvPacked.nr
        }

        /// Floats of a prepared band of `rows` output rows, with read-over slack; in int8, words
        /// (one per pixel and channel quad).
        func preparedCount(rows: Int, _ p: Conv2DParams, int8: Bool = false) -> Int {
            direct ? 0 : planes(p, int8: int8) * sh * sw * (rows + rymax) * ws + 2 * ws + 2 * ConvPacked.nr
        }

        /// Planes of prepared input per phase: the input channels, or in int8 their quads.
        func planes(_ p: Conv2DParams, int8: Bool) -> Int {
            int8 ? (p.inChannels + 3) / 4 : p.inChannels
        }

        /// Bytes of one prepared output row (all its phase planes).
        func rowBytes(_ p: Conv2DParams, int8: Bool) -> Int {
            planes(p, int8: int8) * sh * sw * ws * 4
        }

        /// Pixel blocks covering `rows` output rows.
        func blockCount(rows: Int) -> Int {
            rowAligned ? rows * blocksPerRow : ((rows - 1) * ws + outW + ConvPacked.nr - 1) / ConvPacked.nr
        }

        /// Block b of a band of `rows` output rows: first virtual pixel, pixel
        /// count, and the offset of its first pixel from the band's first
        /// output pixel when the block can be stored there directly (whole
        /// vectors, one contiguous run), else nil.
        func block(_ b: Int, rows: Int) -> (v0: Int, count: Int, out: Int?) {
            if rowAligned {
                let oh = b / blocksPerRow, seg = b % blocksPerRow
                var ow0 = seg * ConvPacked.nr, count = Swift.min(ConvPacked.nr, outW - ow0)
                if splitTail && seg >= blocksPerRow - 2 {
                    ow0 = (blocksPerRow - 2) * ConvPacked.nr + (seg - (blocksPerRow - 2)) * 32
                    count = 32
                }
                return (oh * ws + ow0, count, oh * outW + ow0)
            }
            let v0 = b * ConvPacked.nr
            let count = Swift.min(ConvPacked.nr, (rows - 1) * ws + outW - v0)
            let oh = v0 / ws, ow0 = v0 % ws
            let contiguous = count % 16 == 0 && (ws == outW || ow0 + count <= outW)
            return (v0, count, contiguous ? oh * outW + ow0 : nil)
        }

        /// Offset of B row k = (c, ky, kx) in a band prepared for `rows`
        /// output rows (or in x for direct reads); in int8, of quad (c4, ky, kx) in pixels.
        func offsets(_ p: Conv2DParams, rows: Int, int8: Bool = false, into o: UnsafeMutablePointer<Int>) {
            let planeRows = direct ? p.inH : rows + rymax
            let phaseSize = planeRows * ws, channelStride = sh * sw * phaseSize
            var i = 0
            for c in 0..<planes(p, int8: int8) {
                for ky in 0..<p.kernelH {
                    for kx in 0..<p.kernelW {
                        let dy = ky * p.dilationH, dx = kx * p.dilationW
                        o[i] = direct ? c * phaseSize
                            : c * channelStride + ((dy % sh) * sw + dx % sw) * phaseSize + (dy / sh) * ws + dx / sw
                        i += 1
                    }
                }
            }
        }
    }

    static func run(x: [Float], weights: ConvPackedWeights, bias: [Float]?, _ p: Conv2DParams,
                    activation: FusedActivation, context: ExecutionContext) -> [Float] {
        run(sources: [x], weights: weights, bias: bias, p, activation: activation, context: context, split: [])[0]
    }

    static func run(sources: [[Float]], weights: ConvPackedWeights, bias: [Float]?, _ p: Conv2DParams,
                    activation: FusedActivation, context: ExecutionContext, split: [Int]) -> [[Float]] {
        let sizes = split.isEmpty ? [p.outChannels] : split
        precondition(sizes.reduce(0, +) == p.outChannels && sizes.dropLast().allSatisfy { $0 % mr == 0 },
                     "split outputs must cover the output channels in multiples of \(mr)")
        let outCount = p.batch * p.outChannels * p.outSpatial
        if outCount == 0 { return sizes.map { _ in [] } }
        let k = p.patchSize, mTiles = weights.mTiles
        let layout = Layout(p)
        let threads = context.threads
        let macs = Double(k) * Double(p.outSpatial) * Double(mTiles * mr)
        var workers = Swift.max(1, Swift.min(threads, Int(macs / 2e5)))
        // Direct reads split pixel blocks, and M tiles too when blocks are few;
        // prepared inputs split output rows.
        let directBlocks = layout.direct ? layout.blockCount(rows: p.outH) : 0
        var mGroups = 1
        if layout.direct {
            while directBlocks * mGroups < 8 * workers && mGroups < mTiles && workers > 1 { mGroups += 1 }
            workers = Swift.min(workers, directBlocks * mGroups)
        } else {
            workers = Swift.min(workers, p.outH)
        }
        let int8 = weights.int8 != nil
        let rowBytes = layout.rowBytes(p, int8: int8)
        let bandRows = Swift.min((p.outH + workers - 1) / workers, Swift.max(1, chunkBytes / Swift.max(rowBytes, 1)))
        // Per worker: offsets (2 x K ints), a [K][nr] panel for the tail block of
        // direct reads, an mr x nr tile for scattered stores, and the band's
        // prepared input.
        let offsetFloats = (2 * k * MemoryLayout<Int>.stride / 4 + 15) & ~15
        // bf16: each pixel block's B rows as bf16 pairs, [(k + 1) / 2][vectors][32] halves.
        let bPanelFloats = weights.bf16Panels == nil ? 0 : (((k + 1) / 2) * nr + 15) & ~15
        let workerFloats = offsetFloats + bPanelFloats
            + (((layout.direct && !int8 ? k * nr : 0) + mr * nr + layout.preparedCount(rows: bandRows, p, int8: int8) + 15) & ~15)
        let biasFloats = (mTiles * mr + 31) & ~31
        // int8 pointwise: x quantised once into quad planes of n words each, shared by the workers,
        // with slack for a tail block's read-over.
        let quadPlanes = layout.planes(p, int8: true), n = p.inH * p.inW
        let sharedFloats = int8 && layout.direct ? (quadPlanes * n + nr + 15) & ~15 : 0
        // Joined sources: each input channel plane's distance from the first source's start, in
        // floats (planes of different arrays; the kernels read b + offsets[k], so any distance works).
        let channelFloats = sources.count > 1 ? (p.inChannels * MemoryLayout<Int>.stride / 4 + 15) & ~15 : 0
        // Where each M tile's rows go, per image: its output's plane of its first channel.
        let tileFloats = (mTiles * MemoryLayout<UnsafeMutablePointer<Float>>.stride / 4 + 15) & ~15
        let firstChannels = sizes.indices.map { sizes[..<$0].reduce(0, +) }
        return context.floats(sizes.map { p.batch * $0 * p.outSpatial }) { outputs in
            withBaseAddresses(sources) { bases in
              Int8Tiles.with(weights.int8) { int8Tiles in
                context.withScratch(count: biasFloats + tileFloats + channelFloats + sharedFloats + workers * workerFloats + 16) { scratch in
                    // 64-byte align the worker regions.
                    let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) + 63) & ~63)!
                    let biasPadded = aligned
                    biasPadded.initialize(repeating: 0, count: biasFloats)
                    if let bias { for i in 0..<p.outChannels { biasPadded[i] = bias[i] } }
                    let tileOutputs = UnsafeMutableRawPointer(aligned + biasFloats)
                        .bindMemory(to: UnsafeMutablePointer<Float>.self, capacity: mTiles)
                    let channelOffsets = UnsafeMutableRawPointer(aligned + biasFloats + tileFloats)
                        .bindMemory(to: Int.self, capacity: p.inChannels)
                    if channelFloats > 0 {
                        var c = 0
                        for (source, base) in zip(sources, bases) {
                            let distance = (Int(bitPattern: base) - Int(bitPattern: bases[0])) / MemoryLayout<Float>.stride
                            for j in 0..<(source.count / n) { channelOffsets[c + j] = distance + j * n }
                            c += source.count / n
                        }
                    }
                    let shared = UnsafeMutableRawPointer(aligned + biasFloats + tileFloats + channelFloats)
                        .bindMemory(to: UInt32.self, capacity: sharedFloats)
                    let regions = aligned + biasFloats + tileFloats + channelFloats + sharedFloats
                    let inPlane = p.inChannels * p.inH * p.inW, plane = p.outSpatial
                    for img in 0..<p.batch {
                        for mt in 0..<mTiles {
                            let j = firstChannels.lastIndex { $0 <= mt * mr }!
                            tileOutputs[mt] = outputs[j] + (img * sizes[j] + mt * mr - firstChannels[j]) * plane
                        }
                        let job = Job(p: p, layout: layout, k: k, mTiles: mTiles, mGroups: mGroups,
                                      activation: activation, kernels: context.kernels, a: UnsafePointer(weights.panels),
                                      channelTiles: weights.channelTiles,
                                      a16: weights.bf16Panels.map { UnsafePointer($0) }, int8: int8Tiles,
                                      bias: UnsafePointer(biasPadded), x: bases[0] + inPlane * img,
                                      channelOffsets: channelFloats > 0 ? UnsafePointer(channelOffsets) : nil,
                                      xq: sharedFloats > 0 ? UnsafePointer(shared) : nil, tileOutputs: UnsafePointer(tileOutputs))
                        if sharedFloats > 0 {
                            // Quantise x once (pixel ranges per worker), then run its blocks.
                            let quantizers = Swift.max(1, Swift.min(workers, n / 256))
                            context.pool.run(quantizers) { wi in
                                let lo = (n * wi / quantizers) & ~15, hi = wi == quantizers - 1 ? n : (n * (wi + 1) / quantizers) & ~15
                                job.quantizeDirect(pixels: lo..<hi, into: shared)
                            }
                            let zero = int8Tiles!.input.zeroWord
                            (shared + quadPlanes * n).initialize(repeating: zero, count: sharedFloats - quadPlanes * n)
                        }
                        context.pool.run(workers) { wi in
                            let region = regions + wi * workerFloats
                            let offsets = UnsafeMutableRawPointer(region).bindMemory(to: Int.self, capacity: 2 * k)
                            let packedB = bPanelFloats == 0 ? nil
                                : UnsafeMutableRawPointer(region + offsetFloats).bindMemory(to: UInt16.self, capacity: 2 * bPanelFloats)
                            let work = region + offsetFloats + bPanelFloats
                            if layout.direct {
                                let units = directBlocks * mGroups
                                job.runDirect(units: units * wi / workers..<units * (wi + 1) / workers,
                                              offsets: offsets, packedB: packedB, work: work)
                            } else {
                                let oh0 = p.outH * wi / workers, oh1 = p.outH * (wi + 1) / workers
                                if oh0 < oh1 { job.runBand(rows: oh0..<oh1, offsets: offsets, packedB: packedB, work: work) }
                            }
                        }
                    }
                }
              }
            }
        }
    }

    /// The pointers an int8 tile reads: weights as s8 quads, per output channel the zero
    /// point's share and the scale back to fp32, and the input's quantisation.
    struct Int8Tiles {
        let a: UnsafePointer<Int8>
        let correction: UnsafePointer<Int32>
        let scale: UnsafePointer<Float>
        let input: ActivationQuantization
        /// Quads per output channel (K in quads).
        let quads: Int

        /// Calls body with the pointers of `factors` (nil for a convolution that is not int8).
        static func with<R>(_ factors: ConvPackedWeights.Int8Factors?, _ body: (Int8Tiles?) -> R) -> R {
            guard let factors else { return body(nil) }
            return factors.weights.quads.withUnsafeBufferPointer { a in
                factors.correction.withUnsafeBufferPointer { correction in
                    factors.scale.withUnsafeBufferPointer { scale in
                        body(Int8Tiles(a: a.baseAddress!, correction: correction.baseAddress!, scale: scale.baseAddress!,
                                       input: factors.input, quads: factors.weights.quadCount))
                    }
                }
            }
        }
    }

    struct Job {
        let p: Conv2DParams
        let layout: Layout
        let k: Int, mTiles: Int, mGroups: Int
        let activation: FusedActivation
        let kernels: KernelSet
        let a: UnsafePointer<Float>
        /// Whether `a` holds channel-tile panels, run by runChannelTiles.
        let channelTiles: Bool
        /// The weights as bf16 pairs, in a bf16 session.
        let a16: UnsafePointer<UInt16>?
        /// The weights as s8 quads and the epilogue's factors, for an int8 convolution.
        let int8: Int8Tiles?
        let bias: UnsafePointer<Float>
        let x: UnsafePointer<Float>
        /// Joined sources (pointwise only): input channel c's plane is at x + channelOffsets[c].
        let channelOffsets: UnsafePointer<Int>?
        /// int8 pointwise: x as quad planes of outSpatial words (quantizeDirect).
        let xq: UnsafePointer<UInt32>?
        /// Per M tile, where its first row's output plane starts.
        let tileOutputs: UnsafePointer<UnsafeMutablePointer<Float>>

        /// Pointwise convolution: B rows are x's channel planes; units are
        /// (pixel block, M-tile group) pairs.
        func runDirect(units: Range<Int>, offsets: UnsafeMutablePointer<Int>, packedB: UnsafeMutablePointer<UInt16>?,
                       work: UnsafeMutablePointer<Float>) {
            layout.offsets(p, rows: p.outH, int8: xq != nil, into: offsets)
            if let channelOffsets, xq == nil { offsets.update(from: channelOffsets, count: k) }
            let packedOffsets = offsets + k
            for kk in 0..<k { packedOffsets[kk] = kk * nr }
            let panel = work, tile = work + (xq == nil ? k * nr : 0)
            var packedBlock = -1
            for u in units {
                let block = u / mGroups, group = u % mGroups
                let (v0, count, outOffset) = layout.block(block, rows: p.outH)
                var base = UnsafeRawPointer(x + v0), offs = UnsafePointer(offsets)
                if let xq {
                    // The quad planes have slack after the last one: no copy for the tail block.
                    base = UnsafeRawPointer(xq + v0)
                } else if count < nr {
                    // The tail block would read past the input: copy it.
                    if packedBlock != block {
                        for kk in 0..<k {
                            let src = x + offsets[kk] + v0, dst = panel + kk * nr
                            for j in 0..<count { dst[j] = src[j] }
                            for j in count..<nr { dst[j] = 0 }
                        }
                        packedBlock = block
                    }
                    base = UnsafeRawPointer(panel)
                    offs = UnsafePointer(packedOffsets)
                }
                let t0 = mTiles * group / mGroups, t1 = mTiles * (group + 1) / mGroups
                tiles(t0..<t1, base: base, offsets: offs, packedB: packedB, v0: v0, count: count, outOffset: outOffset,
                      pixels: 0, rows: p.outH, tile: tile)
            }
        }

        /// Output rows `band` of a prepared-input convolution, in chunks of
        /// rows whose prepared input (about 512 KB) is rewritten into the same
        /// scratch region for every chunk, so it stays in L2 between being
        /// written and read.
        func runBand(rows band: Range<Int>, offsets: UnsafeMutablePointer<Int>, packedB: UnsafeMutablePointer<UInt16>?,
                     work: UnsafeMutablePointer<Float>) {
            let rowBytes = layout.rowBytes(p, int8: int8 != nil)
            let chunk = Swift.max(1, ConvPacked.chunkBytes / Swift.max(rowBytes, 1))
            var lo = band.lowerBound
            var offsetRows = -1
            while lo < band.upperBound {
                let hi = Swift.min(band.upperBound, lo + chunk)
                if hi - lo != offsetRows {
                    layout.offsets(p, rows: hi - lo, int8: int8 != nil, into: offsets)
                    offsetRows = hi - lo
                }
                runChunk(rows: lo..<hi, offsets: offsets, packedB: packedB, work: work)
                lo = hi
            }
        }

        /// One chunk: prepare its input rows, then run its pixel blocks.
        func runChunk(rows band: Range<Int>, offsets: UnsafeMutablePointer<Int>, packedB: UnsafeMutablePointer<UInt16>?,
                      work: UnsafeMutablePointer<Float>) {
            let rows = band.count, ws = layout.ws
            let planeRows = rows + layout.rymax
            let tile = work, prepared = work + mr * nr
            let total = layout.preparedCount(rows: rows, p, int8: int8 != nil)
            let used = layout.planes(p, int8: int8 != nil) * layout.sh * layout.sw * planeRows * ws
            if let int8 {
                let words = UnsafeMutableRawPointer(prepared).bindMemory(to: UInt32.self, capacity: total)
                (words + used).update(repeating: int8.input.zeroWord, count: total - used)
                prepareQuadRows(0..<planeRows, firstRow: band.lowerBound, planeRows: planeRows, quantization: int8.input,
                                into: words)
            } else {
                (prepared + used).update(repeating: 0, count: total - used)
                prepareRows(0..<planeRows, firstRow: band.lowerBound, planeRows: planeRows, into: prepared)
            }
            if channelTiles {
                runChannelTiles(rows: band, prepared: prepared, offsets: offsets, tile: tile)
                return
            }
            for block in 0..<layout.blockCount(rows: rows) {
                let (v0, count, outOffset) = layout.block(block, rows: rows)
                tiles(0..<mTiles, base: UnsafeRawPointer(prepared + v0), offsets: offsets, packedB: packedB, v0: v0, count: count,
                      outOffset: outOffset, pixels: band.lowerBound * p.outW, rows: rows, tile: tile)
            }
        }

        /// A prepared chunk in channel tiles: per block of 32 output channels (its weights stay in
        /// L2 while the chunk's rows run), each output row cut into tiles of at most 12 pixels.
        func runChannelTiles(rows band: Range<Int>, prepared: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                             tile: UnsafeMutablePointer<Float>) {
            let m = p.outChannels, outW = p.outW, ws = layout.ws, plane = p.outSpatial
            let perRow = (outW + ConvPacked.channelTilePixels - 1) / ConvPacked.channelTilePixels
            for block in 0..<ConvPackedWeights.channelBlocks(m) {
                let (c0, width) = ConvPackedWeights.channelBlock(block, m: m)
                let channels = Swift.min(width, m - c0)
                let ab = a + c0 * k, bb = bias + c0
                // The block's channels are consecutive planes of one output unless a fused Split
                // cuts it; then its tiles go through `tile` ([32][12]) to each output.
                let first = tileOutputs[c0 / mr]
                let direct = (0..<(channels + mr - 1) / mr).allSatisfy { tileOutputs[c0 / mr + $0] == first + $0 * mr * plane }
                for r in 0..<band.count {
                    let pixel = (band.lowerBound + r) * outW
                    for t in 0..<perRow {
                        let ow0 = outW * t / perRow, ow1 = outW * (t + 1) / perRow
                        let b = prepared + r * ws + ow0
                        let out = direct ? first + pixel + ow0 : tile
                        let ld = direct ? plane : ConvPacked.channelTilePixels
                        ConvPacked.channelTileKernel(vectors: width / 16, pixels: ow1 - ow0, k: k, a: ab, b: b, offsets: offsets,
                                                     bias: bb, out: out, ld: ld, channels: channels, activation: activation)
                        if direct { continue }
                        for c in 0..<channels {
                            let dst = tileOutputs[(c0 + c) / mr] + ((c0 + c) % mr) * plane + pixel + ow0
                            for j in 0..<(ow1 - ow0) { dst[j] = tile[c * ld + j] }
                        }
                    }
                }
            }
        }

        /// Computes M tiles `range` of one pixel block and stores them.
        @inline(__always)
        /// `base` is the block's first pixel: a float of B, or in int8 a word of the quad planes
        /// (one word per pixel, so the pixel offsets are the same).
        func tiles(_ range: Range<Int>, base raw: UnsafeRawPointer, offsets: UnsafePointer<Int>, packedB: UnsafeMutablePointer<UInt16>?,
                   v0: Int, count: Int, outOffset: Int?, pixels: Int, rows: Int, tile: UnsafeMutablePointer<Float>) {
            let n = p.outSpatial, outW = p.outW, ws = layout.ws
            let vectors = (count + 15) / 16
            let base = raw.assumingMemoryBound(to: Float.self)
            // bf16: the block's B rows are rounded to bf16 pairs once, for all its M tiles.
            let b16: UnsafePointer<UInt16>? = a16 == nil || range.isEmpty ? nil : packedB.map { packed in
                ck_pack_bf16_block(Int32(vectors), k, base, offsets, packed)
                return UnsafePointer(packed)
            }
            for mt in range {
                let valid = Swift.min(mr, p.outChannels - mt * mr)
                let yt = tileOutputs[mt] + pixels
                let at = a + mt * k * mr, bt = bias + mt * mr
                let at16 = a16.map { $0 + mt * ((k + 1) / 2) * mr * 2 }
                let out = outOffset != nil && valid == mr ? yt + outOffset! : tile
                let ld = outOffset != nil && valid == mr ? n : nr
                if let int8 {
                    ConvInt8.tileVNNI(vectors: vectors, quads: int8.quads, a: int8.a + mt * int8.quads * mr * 4,
                                      b: raw.assumingMemoryBound(to: UInt8.self), offsets: offsets,
                                      correction: int8.correction + mt * mr, scale: int8.scale + mt * mr, bias: bt,
                                      out: out, ld: ld, activation: activation)
                } else {
                    ConvPacked.tileKernel(vectors, k: k, a: at, a16: at16, b16: b16, b: base, offsets: offsets, bias: bt,
                                          out: out, ld: ld, activation: activation, kernels: kernels)
                }
                if out != tile { continue }
                if let outOffset {
                    for r in 0..<valid {
                        let src = tile + r * nr, dst = yt + r * n + outOffset
                        for j in 0..<count { dst[j] = src[j] }
                    }
                    continue
                }
                // Scatter the valid lanes row run by row run.
                let oh0 = v0 / ws, ow0 = v0 % ws
                for r in 0..<valid {
                    let src = tile + r * nr, dst = yt + r * n
                    var j = 0, oh = oh0, ow = ow0
                    while j < count {
                        let run = Swift.min(ws - ow, count - j)
                        let live = Swift.max(0, Swift.min(run, outW - ow))
                        let d = dst + oh * outW + ow, s = src + j
                        for i in 0..<live { d[i] = s[i] }
                        j += run
                        oh += 1
                        ow = 0
                    }
                }
            }
        }

        /// int8 pointwise: pixels `range` of x quantised into quad planes of outSpatial words.
        func quantizeDirect(pixels range: Range<Int>, into xq: UnsafeMutablePointer<UInt32>) {
            guard let int8, !range.isEmpty else { return }
            let n = p.outSpatial
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 4) { rows in
                for c4 in 0..<layout.planes(p, int8: true) {
                    for j in 0..<4 {
                        let c = 4 * c4 + j
                        rows[j] = c < p.inChannels ? x + (channelOffsets?[c] ?? c * n) + range.lowerBound : nil
                    }
                    ConvInt8.quantizeQuadsVNNI(rows: UnsafePointer(rows.baseAddress!), stride: 1, count: range.count,
                                               quantization: int8.input, into: xq + c4 * n + range.lowerBound)
                }
            }
        }

        /// prepareRows in int8: the planes hold channel quads (plane (c4, py, px) word q holds
        /// channels 4·c4...4·c4 + 3 of the pixel prepareRows puts at q), quantised once; the
        /// padding is the zero point.
        func prepareQuadRows(_ range: Range<Int>, firstRow: Int, planeRows: Int, quantization: ActivationQuantization,
                             into dst: UnsafeMutablePointer<UInt32>) {
            let sh = layout.sh, sw = layout.sw, ws = layout.ws, inH = p.inH, inW = p.inW
            let phaseSize = planeRows * ws, zero = quantization.zeroWord
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 4) { rows in
                for c4 in 0..<layout.planes(p, int8: true) {
                    for r in range {
                        for py in 0..<sh {
                            let planes = dst + (c4 * sh + py) * sw * phaseSize
                            let ih = (firstRow + r) * sh + py - p.padTop
                            for px in 0..<sw {
                                let row = planes + px * phaseSize + r * ws
                                if ih < 0 || ih >= inH {
                                    row.update(repeating: zero, count: ws)
                                    continue
                                }
                                // Valid q satisfy 0 <= q * sw + px - padLeft < inW.
                                let off = px - p.padLeft
                                let qLo = Swift.min(ws, off >= 0 ? 0 : (-off + sw - 1) / sw)
                                let qHi = Swift.max(qLo, Swift.min(ws, inW - off <= 0 ? 0 : (inW - off + sw - 1) / sw))
                                row.update(repeating: zero, count: qLo)
                                (row + qHi).update(repeating: zero, count: ws - qHi)
                                if qLo == qHi { continue }
                                for j in 0..<4 {
                                    let c = 4 * c4 + j
                                    rows[j] = c < p.inChannels ? x + (c * inH + ih) * inW + off + qLo * sw : nil
                                }
                                ConvInt8.quantizeQuadsVNNI(rows: UnsafePointer(rows.baseAddress!), stride: sw, count: qHi - qLo,
                                                           quantization: quantization, into: row + qLo)
                            }
                        }
                    }
                }
            }
        }

        /// Fills rows `range` of every phase plane of a band starting at output
        /// row `firstRow`: plane (c, py, px) row r, column q holds
        /// x[c][(firstRow + r) * sh + py - padTop][q * sw + px - padLeft] (0 outside).
        func prepareRows(_ range: Range<Int>, firstRow: Int, planeRows: Int, into dst: UnsafeMutablePointer<Float>) {
            let sh = layout.sh, sw = layout.sw, ws = layout.ws, inH = p.inH, inW = p.inW
            let phaseSize = planeRows * ws
            // Column ranges per phase: valid q satisfy 0 <= q * sw + px - padLeft < inW.
            let deinterleave = sw == 2 && p.padLeft <= 1 && (p.padLeft + inW + 1) / 2 <= ws
            // AVX-512 row copies where the kernels are AVX-512 (the same floats either way).
            let avx512 = kernels == .avx512
            for c in 0..<p.inChannels {
                let src = x + c * inH * inW
                for r in range {
                    for py in 0..<sh {
                        let planes = dst + (c * sh + py) * sw * phaseSize
                        let ih = (firstRow + r) * sh + py - p.padTop
                        if ih < 0 || ih >= inH {
                            for px in 0..<sw {
                                let row = planes + px * phaseSize + r * ws
                                for q in 0..<ws { row[q] = 0 }
                            }
                            continue
                        }
                        let line = src + ih * inW
                        for px in 0..<sw {
                            let row = planes + px * phaseSize + r * ws
                            let off = px - p.padLeft
                            let qLo = Swift.min(ws, off >= 0 ? 0 : (-off + sw - 1) / sw)
                            let qHi = Swift.max(qLo, Swift.min(ws, inW - off <= 0 ? 0 : (inW - off + sw - 1) / sw))
                            if sw == 1 && avx512 {
                                ck_pad_row_avx512(row, line + off, qLo, qHi, ws)
                                continue
                            }
                            for q in 0..<qLo { row[q] = 0 }
                            for q in qHi..<ws { row[q] = 0 }
                            if sw == 1 {
                                let s = line + off
                                for q in qLo..<qHi { row[q] = s[q] }
                            } else if !deinterleave {
                                let s = line + off
                                for q in qLo..<qHi { row[q] = s[q * sw] }
                            }
                        }
                        if deinterleave {
                            // Input column iw lands in phase (iw + padLeft) % 2 at
                            // q = (iw + padLeft) / 2: one pass fills both phases.
                            let even = planes + r * ws, odd = even + phaseSize
                            let ea = p.padLeft == 0 ? even : odd     // receives iw = 0, 2, 4, ...
                            let ob = p.padLeft == 0 ? odd : even + 1 // receives iw = 1, 3, 5, ...
                            let pairs = inW / 2
                            if avx512 {
                                ck_deinterleave_avx512(ea, ob, line, pairs)
                            } else {
                                for q in 0..<pairs {
                                    ea[q] = line[2 * q]
                                    ob[q] = line[2 * q + 1]
                                }
                            }
                            if inW % 2 == 1 { ea[pairs] = line[inW - 1] }
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

    /// Runs the 8 x (16 * vectors) micro-kernel of `kernels`, in bf16 when the weights (`a16`)
    /// and the block (`b16`) are given as bf16 pairs.
    @inline(__always)
    static func tileKernel(_ vectors: Int, k: Int, a: UnsafePointer<Float>, a16: UnsafePointer<UInt16>? = nil,
                           b16: UnsafePointer<UInt16>? = nil, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                           bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ld: Int, activation: FusedActivation,
                           kernels: KernelSet) {
        if let a16, let b16 {
            ck_conv_tile_avx512bf16(Int32(vectors), k, a16, b16, bias, out, ld, activation.kernelCode)
            return
        }
        switch kernels {
        case .avx512:
            ck_conv_tile_avx512(Int32(vectors), k, a, b, offsets, bias, out, ld, activation.kernelCode)
            return
        case .avx2:
            ck_conv_tile_avx2(Int32(vectors), k, a, b, offsets, bias, out, ld, activation.kernelCode)
            return
        case .portable: break
        }
        switch vectors {
        case 3: kernel8x48(k: k, a: a, b: b, offsets: offsets, bias: bias, out: out, ld: ld, activation: activation)
        case 2: kernel8x32(k: k, a: a, b: b, offsets: offsets, bias: bias, out: out, ld: ld, activation: activation)
        default: kernel8x16(k: k, a: a, b: b, offsets: offsets, bias: bias, out: out, ld: ld, activation: activation)
        }
    }

    /// Pixels per channel tile, at most (12 pixels x 2 vectors: 24 accumulators).
    static let channelTilePixels = 12

    /// The channel tile (`pixels` consecutive pixels x 16 * `vectors` output channels, the first
    /// `channels` stored): the AVX-512 kernel. Only the AVX-512 set runs channel tiles
    /// (usesChannelTiles); `channelTileReference` is its portable twin.
    @inline(__always)
    static func channelTileKernel(vectors: Int, pixels: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                  offsets: UnsafePointer<Int>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                  ld: Int, channels: Int, activation: FusedActivation) {
        ck_conv_ctile_avx512(Int32(vectors), Int32(pixels), k, a, b, offsets, bias, out, ld, Int32(channels), activation.kernelCode)
    }

    /// The channel tile in Swift, the AVX-512 kernel's reference:
    ///   out[c * ld + j] = act(bias[c] + sum_k a[k * 16 * vectors + c] * b[offsets[k] + j]),
    /// summed from zero in K order with fused multiply-adds, as every tile is.
    static func channelTileReference(vectors: Int, pixels: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                     offsets: UnsafePointer<Int>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                     ld: Int, channels: Int, activation: FusedActivation) {
        let width = 16 * vectors
        for c in 0..<channels {
            for j in 0..<pixels {
                var sum: Float = 0
                for kk in 0..<k { sum = sum.addingProduct(b[offsets[kk] + j], a[kk * width + c]) }
                out[c * ld + j] = sum + bias[c]
            }
            activation.applyFused(out + c * ld, count: pixels)
        }
    }

    /// 8 x 48 tile: out[r * ld + j] = bias[r] + sum_k a[k * 8 + r] * b[offsets[k] + j], then the activation.
    @inline(never)
    static func kernel8x48(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                            bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ld: Int, activation: FusedActivation) {
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
        let bv0 = V(repeating: bias[0]), o0 = out
        store(c00 + bv0, o0); store(c01 + bv0, o0 + 16); store(c02 + bv0, o0 + 32)
        let bv1 = V(repeating: bias[1]), o1 = out + ld
        store(c10 + bv1, o1); store(c11 + bv1, o1 + 16); store(c12 + bv1, o1 + 32)
        let bv2 = V(repeating: bias[2]), o2 = out + 2 * ld
        store(c20 + bv2, o2); store(c21 + bv2, o2 + 16); store(c22 + bv2, o2 + 32)
        let bv3 = V(repeating: bias[3]), o3 = out + 3 * ld
        store(c30 + bv3, o3); store(c31 + bv3, o3 + 16); store(c32 + bv3, o3 + 32)
        let bv4 = V(repeating: bias[4]), o4 = out + 4 * ld
        store(c40 + bv4, o4); store(c41 + bv4, o4 + 16); store(c42 + bv4, o4 + 32)
        let bv5 = V(repeating: bias[5]), o5 = out + 5 * ld
        store(c50 + bv5, o5); store(c51 + bv5, o5 + 16); store(c52 + bv5, o5 + 32)
        let bv6 = V(repeating: bias[6]), o6 = out + 6 * ld
        store(c60 + bv6, o6); store(c61 + bv6, o6 + 16); store(c62 + bv6, o6 + 32)
        let bv7 = V(repeating: bias[7]), o7 = out + 7 * ld
        store(c70 + bv7, o7); store(c71 + bv7, o7 + 16); store(c72 + bv7, o7 + 32)
        activate(out, ld, vectors: 3, activation)
    }

    /// 8 x 32 tile: out[r * ld + j] = bias[r] + sum_k a[k * 8 + r] * b[offsets[k] + j], then the activation.
    @inline(never)
    static func kernel8x32(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                            bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ld: Int, activation: FusedActivation) {
        var c00 = V(), c01 = V()
        var c10 = V(), c11 = V()
        var c20 = V(), c21 = V()
        var c30 = V(), c31 = V()
        var c40 = V(), c41 = V()
        var c50 = V(), c51 = V()
        var c60 = V(), c61 = V()
        var c70 = V(), c71 = V()
        var ap = a
        for kk in 0..<k {
            let bp = b + offsets[kk]
            let b0 = load(bp), b1 = load(bp + 16)
            var w = V(repeating: ap[0])
            c00 = c00.addingProduct(w, b0); c01 = c01.addingProduct(w, b1)
            w = V(repeating: ap[1])
            c10 = c10.addingProduct(w, b0); c11 = c11.addingProduct(w, b1)
            w = V(repeating: ap[2])
            c20 = c20.addingProduct(w, b0); c21 = c21.addingProduct(w, b1)
            w = V(repeating: ap[3])
            c30 = c30.addingProduct(w, b0); c31 = c31.addingProduct(w, b1)
            w = V(repeating: ap[4])
            c40 = c40.addingProduct(w, b0); c41 = c41.addingProduct(w, b1)
            w = V(repeating: ap[5])
            c50 = c50.addingProduct(w, b0); c51 = c51.addingProduct(w, b1)
            w = V(repeating: ap[6])
            c60 = c60.addingProduct(w, b0); c61 = c61.addingProduct(w, b1)
            w = V(repeating: ap[7])
            c70 = c70.addingProduct(w, b0); c71 = c71.addingProduct(w, b1)
            ap += 8
        }
        let bv0 = V(repeating: bias[0]), o0 = out
        store(c00 + bv0, o0); store(c01 + bv0, o0 + 16)
        let bv1 = V(repeating: bias[1]), o1 = out + ld
        store(c10 + bv1, o1); store(c11 + bv1, o1 + 16)
        let bv2 = V(repeating: bias[2]), o2 = out + 2 * ld
        store(c20 + bv2, o2); store(c21 + bv2, o2 + 16)
        let bv3 = V(repeating: bias[3]), o3 = out + 3 * ld
        store(c30 + bv3, o3); store(c31 + bv3, o3 + 16)
        let bv4 = V(repeating: bias[4]), o4 = out + 4 * ld
        store(c40 + bv4, o4); store(c41 + bv4, o4 + 16)
        let bv5 = V(repeating: bias[5]), o5 = out + 5 * ld
        store(c50 + bv5, o5); store(c51 + bv5, o5 + 16)
        let bv6 = V(repeating: bias[6]), o6 = out + 6 * ld
        store(c60 + bv6, o6); store(c61 + bv6, o6 + 16)
        let bv7 = V(repeating: bias[7]), o7 = out + 7 * ld
        store(c70 + bv7, o7); store(c71 + bv7, o7 + 16)
        activate(out, ld, vectors: 2, activation)
    }

    /// 8 x 16 tile: out[r * ld + j] = bias[r] + sum_k a[k * 8 + r] * b[offsets[k] + j], then the activation.
    @inline(never)
    static func kernel8x16(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                            bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, ld: Int, activation: FusedActivation) {
        var c00 = V()
        var c10 = V()
        var c20 = V()
        var c30 = V()
        var c40 = V()
        var c50 = V()
        var c60 = V()
        var c70 = V()
        var ap = a
        for kk in 0..<k {
            let bp = b + offsets[kk]
            let b0 = load(bp)
            var w = V(repeating: ap[0])
            c00 = c00.addingProduct(w, b0)
            w = V(repeating: ap[1])
            c10 = c10.addingProduct(w, b0)
            w = V(repeating: ap[2])
            c20 = c20.addingProduct(w, b0)
            w = V(repeating: ap[3])
            c30 = c30.addingProduct(w, b0)
            w = V(repeating: ap[4])
            c40 = c40.addingProduct(w, b0)
            w = V(repeating: ap[5])
            c50 = c50.addingProduct(w, b0)
            w = V(repeating: ap[6])
            c60 = c60.addingProduct(w, b0)
            w = V(repeating: ap[7])
            c70 = c70.addingProduct(w, b0)
            ap += 8
        }
        let bv0 = V(repeating: bias[0]), o0 = out
        store(c00 + bv0, o0)
        let bv1 = V(repeating: bias[1]), o1 = out + ld
        store(c10 + bv1, o1)
        let bv2 = V(repeating: bias[2]), o2 = out + 2 * ld
        store(c20 + bv2, o2)
        let bv3 = V(repeating: bias[3]), o3 = out + 3 * ld
        store(c30 + bv3, o3)
        let bv4 = V(repeating: bias[4]), o4 = out + 4 * ld
        store(c40 + bv4, o4)
        let bv5 = V(repeating: bias[5]), o5 = out + 5 * ld
        store(c50 + bv5, o5)
        let bv6 = V(repeating: bias[6]), o6 = out + 6 * ld
        store(c60 + bv6, o6)
        let bv7 = V(repeating: bias[7]), o7 = out + 7 * ld
        store(c70 + bv7, o7)
        activate(out, ld, vectors: 1, activation)
    }

    /// Applies the activation in place to the first 16 * vectors columns of
    /// an mr-row tile just stored (L1-hot).
    @inline(__always)
    static func activate(_ out: UnsafeMutablePointer<Float>, _ ld: Int, vectors: Int, _ activation: FusedActivation) {
        if activation == .none { return }
        for r in 0..<mr { activation.applyFused(out + r * ld, count: 16 * vectors) }
    }
}

extension FusedActivation {
    /// The activation's code in CKernels (CK_ACT_*).
    var kernelCode: Int32 {
        switch self {
        case .none: Int32(CK_ACT_NONE)
        case .relu: Int32(CK_ACT_RELU)
        case .sigmoid: Int32(CK_ACT_SIGMOID)
        case .silu: Int32(CK_ACT_SILU)
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
