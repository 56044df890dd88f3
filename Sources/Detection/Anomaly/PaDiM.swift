// PaDiM (Defard et al., 2020) on the detector's own backbone: defects the detector was never
// taught still stand out as features no normal board has at that place.
//
// Embedding: chosen backbone maps (by default the outputs of YOLOv8's C2f stages 2, 4 and 6,
// strides 4, 8 and 16) are brought onto one grid (finer maps average-pooled, coarser ones
// repeated or sampled; stride 8 for registered boards, 80x60 cells for a 640x480 frame, 16
// otherwise), concatenated, and a fixed random subset of channels is kept (default 64).
// Fit: per grid cell, the mean and covariance of the normal boards' embeddings, regularised
// with 0.01 I (no gradients). Score: per cell, the Mahalanobis distance of the embedding to
// that cell's Gaussian; the image score is the largest cell distance.
//
// Alignment: plain PaDiM compares each cell only with the same cell of the normal boards, so
// it needs boards registered to a few pixels. Conveyor boards shift and turn, so by default every
// frame is registered to a reference normal board (`BoardRegistration`: an affine fit) and the
// backbone maps are read where each reference cell lies in the frame; cells that fall off the
// frame are not scored. Without registration, each cell is compared with the Gaussians of the
// cells around it (`radius` cells: +-16 px at stride 16 for radius 1) and keeps the smallest
// distance: a shifted board still matches its own features one cell over, but so do subtle
// defects, which is why registration (radius 0) separates better.

import Foundation
import NeuralEngine
import SeededRandom

/// A fitted PaDiM model: where its features come from and the per-cell Gaussians.
public struct PaDiMModel: Sendable {
    /// The layers (graph value names) whose maps form the embedding.
    public var layers: [String]
    /// Stride of each layer's map in input pixels.
    public var layerStrides: [Int]
    /// Stride of the grid in input pixels, and its size in cells.
    public var gridStride: Int
    public var gridHeight: Int
    public var gridWidth: Int
    /// The model input (letterboxed) size the grid covers.
    public var inputHeight: Int
    public var inputWidth: Int
    /// Indices into the concatenated channels of `layers`, in order.
    public var channels: [Int]
    /// Neighbourhood (in cells) searched for the closest Gaussian.
    public var radius: Int
    /// 0: one Gaussian per grid cell (PaDiM). K > 0: K Gaussians shared by every position (a
    /// mixture fitted by k-means over all cells), for boards that are not one layout.
    public var components: Int = 0
    /// Image-score threshold above which a board is anomalous, and how it was chosen.
    public var threshold: Float
    public var thresholdRule: String
    /// Normal boards fitted on.
    public var fittedImages: Int
    /// Per cell: the mean (d floats).
    public var means: [Float]
    /// Per cell: L^-1 where Sigma = L L^T (d x d, lower triangular), so that the squared
    /// Mahalanobis distance is |L^-1 (x - mean)|^2.
    public var whiteners: [Float]
    /// The reference board frames are registered to before embedding (per-position models
    /// fitted with alignment); nil: cells are compared where they fall (use `radius`).
    public var registration: BoardRegistration? = nil
    /// With registration: how far (input pixels) a cell must stay inside the frame to be scored.
    public var edgeMargin: Double = 0
    /// Fingerprint (`OperatingPoint.fingerprint`) of the detector file whose backbone it was
    /// fitted on: its statistics mean nothing on another detector's features, even one with
    /// the same graph. nil in files written before it was recorded.
    public var detectorFingerprint: String? = nil

    public init(layers: [String], layerStrides: [Int], gridStride: Int, gridHeight: Int, gridWidth: Int, inputHeight: Int,
                inputWidth: Int, channels: [Int], radius: Int, components: Int = 0, threshold: Float, thresholdRule: String,
                fittedImages: Int, means: [Float], whiteners: [Float], registration: BoardRegistration? = nil, edgeMargin: Double = 0) {
        self.layers = layers
        self.layerStrides = layerStrides
        self.gridStride = gridStride
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.channels = channels
        self.radius = radius
        self.components = components
        self.threshold = threshold
        self.thresholdRule = thresholdRule
        self.fittedImages = fittedImages
        self.means = means
        self.whiteners = whiteners
        self.registration = registration
        self.edgeMargin = edgeMargin
    }

    public var dimension: Int { channels.count }
    public var cellCount: Int { gridHeight * gridWidth }
    /// How many Gaussians the model holds.
    public var gaussianCount: Int { components > 0 ? components : cellCount }
}

/// The default backbone layers of an Ultralytics YOLOv8/YOLO11 export.
public enum PaDiMDefaults {
    public static let layers = ["/model.2/cv2/act/Mul_output_0", "/model.4/cv2/act/Mul_output_0", "/model.6/cv2/act/Mul_output_0"]
    public static let gridStride = 16
    public static let channels = 64
    public static let radius = 1
    /// With registration the boards line up, so each cell is compared with its own Gaussian only,
    /// and a finer grid pays: small defects (pin holes, spurs) are diluted less in an 8 px cell.
    public static let alignedRadius = 0
    public static let alignedGridStride = 8
    /// Input pixels a registered cell must keep from the frame edge to be scored.
    public static let edgeMargin = 8.0
}

/// Turns captured backbone maps into per-cell embeddings.
public struct PaDiMEmbedder: Sendable {
    public let layers: [String]
    public let gridStride: Int
    public let channels: [Int]

    public init(layers: [String], gridStride: Int, channels: [Int]) {
        self.layers = layers
        self.gridStride = gridStride
        self.channels = channels
    }

    /// A fixed random subset of `count` of `total` channels (sorted), from `seed`.
    public static func chooseChannels(total: Int, count: Int, seed: UInt64) -> [Int] {
        var random = SplitMix64(seed: seed)
        var indices = Array(0..<total)
        for i in stride(from: total - 1, to: 0, by: -1) { indices.swapAt(i, random.below(i + 1)) }
        return Array(indices.prefix(min(count, total))).sorted()
    }

    /// The grid over an input of this size.
    func grid(inputHeight: Int, inputWidth: Int) throws -> (height: Int, width: Int) {
        guard gridStride > 0 else { throw DetectionError.anomaly("grid stride must be positive") }
        let gridH = inputHeight / gridStride, gridW = inputWidth / gridStride
        guard gridH > 0, gridW > 0 else { throw DetectionError.anomaly("input \(inputWidth)x\(inputHeight) is smaller than one grid cell") }
        return (gridH, gridW)
    }

    /// The captured map of each layer, checked: `[1, C, h, w]`, a stride that divides the input
    /// and divides or is a multiple of the grid stride.
    func layerMaps(_ maps: [String: Tensor], inputHeight: Int, inputWidth: Int) throws
        -> [(channels: Int, height: Int, width: Int, stride: Int, values: [Float])] {
        try layers.map { name in
            guard let map = maps[name], map.rank == 4, map.shape[0] == 1 else {
                throw DetectionError.anomaly("layer '\(name)' was not captured (is it in the model's graph?)")
            }
            let (c, h, w) = (map.shape[1], map.shape[2], map.shape[3])
            guard h > 0, inputHeight % h == 0, inputWidth / w == inputHeight / h else {
                throw DetectionError.anomaly("layer '\(name)' map \(w)x\(h) does not divide the input \(inputWidth)x\(inputHeight)")
            }
            let stride = inputHeight / h
            guard gridStride % stride == 0 || stride % gridStride == 0 else {
                throw DetectionError.anomaly("layer '\(name)' has stride \(stride), which does not divide or multiply the grid stride \(gridStride)")
            }
            return (c, h, w, stride, map.floats)
        }
    }

    /// The embedding of one frame: `cells x d` floats (cell-major), plus the grid size and the
    /// stride of each layer. Maps must be `[1, C, h, w]` over an input of `inputHeight x inputWidth`.
    public func embed(_ maps: [String: Tensor], inputHeight: Int, inputWidth: Int) throws -> (values: [Float], height: Int, width: Int, strides: [Int]) {
        let (gridH, gridW) = try grid(inputHeight: inputHeight, inputWidth: inputWidth)
        // Each layer pooled to the grid: [C_l][gridH * gridW].
        var pooled: [[Float]] = []
        var strides: [Int] = []
        var channelCount = 0
        for map in try layerMaps(maps, inputHeight: inputHeight, inputWidth: inputWidth) {
            let (c, h, w, stride) = (map.channels, map.height, map.width, map.stride)
            strides.append(stride)
            let values = map.values
            var out = [Float](repeating: 0, count: c * gridH * gridW)
            if stride >= gridStride {
                // A coarser map: each grid cell takes the value of the map cell it lies in.
                let up = stride / gridStride
                for ch in 0..<c {
                    for gy in 0..<gridH {
                        let row = ch * h * w + min(gy / up, h - 1) * w
                        for gx in 0..<gridW { out[(ch * gridH + gy) * gridW + gx] = values[row + min(gx / up, w - 1)] }
                    }
                }
            } else {
                // A finer map: the average of the map cells under each grid cell.
                let f = gridStride / stride
                let scale = 1 / Float(f * f)
                for ch in 0..<c {
                    let plane = ch * h * w
                    for gy in 0..<gridH {
                        for gx in 0..<gridW {
                            var sum: Float = 0
                            for dy in 0..<f {
                                let row = plane + (gy * f + dy) * w + gx * f
                                for dx in 0..<f { sum += values[row + dx] }
                            }
                            out[(ch * gridH + gy) * gridW + gx] = sum * scale
                        }
                    }
                }
            }
            pooled.append(out)
            channelCount += c
        }
        guard let last = channels.last, last < channelCount else {
            throw DetectionError.anomaly("the layers have \(channelCount) channels, the model file expects more")
        }
        // Which (layer, channel) each chosen index is.
        var sources: [(layer: Int, channel: Int)] = []
        var offsets: [Int] = []
        var running = 0
        for map in pooled { offsets.append(running); running += map.count / (gridH * gridW) }
        for index in channels {
            let layer = offsets.lastIndex { $0 <= index }!
            sources.append((layer, index - offsets[layer]))
        }
        let cells = gridH * gridW, d = channels.count
        var embedding = [Float](repeating: 0, count: cells * d)
        for (k, source) in sources.enumerated() {
            let base = source.channel * cells
            let map = pooled[source.layer]
            for cell in 0..<cells { embedding[cell * d + k] = map[base + cell] }
        }
        return (embedding, gridH, gridW, strides)
    }
}

extension PaDiMEmbedder {
    /// The embedding of a frame registered to the reference board: every grid cell of the
    /// reference's input is looked up where the registration puts it in this frame (bilinear
    /// samples of each map; finer maps averaged over the cell's sub-positions), so cell k always
    /// describes the same place on the board. `observed[k]` is false where the cell, widened by
    /// `margin` input pixels (the reach of the convolutions' zero padding), is not wholly on the
    /// frame in the reference or in this frame: its features describe the frame edge, not the board.
    /// - Parameters:
    ///   - registration: reference frame pixels -> this frame's pixels.
    ///   - transform: the letterbox of this frame (the reference was letterboxed the same way).
    ///   - threads: workers, each filling whole grid rows.
    public func embed(_ maps: [String: Tensor], transform t: LetterboxTransform, registration: AffineMap,
                      margin: Double, threads: Int = 1) throws -> (values: [Float], height: Int, width: Int, strides: [Int], observed: [Bool]) {
        let (gridH, gridW) = try grid(inputHeight: t.inputHeight, inputWidth: t.inputWidth)
        // Reference input pixels -> this frame's input pixels.
        let toFrame = AffineMap(a: 1 / t.scale, b: 0, c: 0, d: 1 / t.scale, tx: -Double(t.padLeft) / t.scale, ty: -Double(t.padTop) / t.scale)
        let toInput = AffineMap(a: t.scale, b: 0, c: 0, d: t.scale, tx: Double(t.padLeft), ty: Double(t.padTop))
        let warp = toFrame.then(registration).then(toInput)
        // Which cells lie wholly on the frame, in the reference and after the warp.
        let content = (x0: Double(t.padLeft), y0: Double(t.padTop), x1: Double(t.padLeft + t.scaledWidth), y1: Double(t.padTop + t.scaledHeight))
        func inside(_ p: (x: Double, y: Double)) -> Bool { p.x >= content.x0 && p.x <= content.x1 && p.y >= content.y0 && p.y <= content.y1 }
        var observed = [Bool](repeating: true, count: gridH * gridW)
        let g = Double(gridStride)
        for gy in 0..<gridH {
            for gx in 0..<gridW {
                let (x0, y0) = (Double(gx) * g - margin, Double(gy) * g - margin)
                let (x1, y1) = (Double(gx + 1) * g + margin, Double(gy + 1) * g + margin)
                func onFrame(_ x: Double, _ y: Double) -> Bool { inside((x, y)) && inside(warp.apply(x, y)) }
                observed[gy * gridW + gx] = onFrame(x0, y0) && onFrame(x1, y0) && onFrame(x0, y1) && onFrame(x1, y1)
            }
        }
        let shapes = try layerMaps(maps, inputHeight: t.inputHeight, inputWidth: t.inputWidth)
        let channelCount = shapes.reduce(0) { $0 + $1.channels }
        guard let last = channels.last, last < channelCount else {
            throw DetectionError.anomaly("the layers have \(channelCount) channels, the model file expects more")
        }
        let cells = gridH * gridW, d = channels.count
        var embedding = [Float](repeating: 0, count: cells * d)
        var offset = 0
        for shape in shapes {
            // The chosen channels of this layer and their places in the embedding.
            let chosen = channels.enumerated().filter { $0.element >= offset && $0.element < offset + shape.channels }
                .map { (slot: $0.offset, channel: $0.element - offset) }
            offset += shape.channels
            guard !chosen.isEmpty else { continue }
            let s = Double(shape.stride)
            // Sub-positions per cell: the map cells under it for a finer map, its centre otherwise.
            let f = max(1, gridStride / shape.stride)
            let step = g / Double(f)
            let weight = 1 / Float(f * f)
            let (mapW, mapH) = (shape.width, shape.height)
            let plane = mapH * mapW
            let workers = max(1, min(threads, gridH))
            shape.values.withUnsafeBufferPointer { values in
                embedding.withUnsafeMutableBufferPointer { out in
                    // Workers fill disjoint grid rows.
                    nonisolated(unsafe) let out = out.baseAddress!, values = values.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        for gy in (gridH * worker / workers)..<(gridH * (worker + 1) / workers) {
                            for gx in 0..<gridW {
                                let cell = out + (gy * gridW + gx) * d
                                for sy in 0..<f {
                                    for sx in 0..<f {
                                        let (u, v) = warp.apply(Double(gx) * g + (Double(sx) + 0.5) * step, Double(gy) * g + (Double(sy) + 0.5) * step)
                                        // Map coordinates with cell centres at integers, clamped to the map.
                                        let mx = min(max(u / s - 0.5, 0), Double(mapW - 1)), my = min(max(v / s - 0.5, 0), Double(mapH - 1))
                                        let x0 = min(Int(mx), max(0, mapW - 2)), y0 = min(Int(my), max(0, mapH - 2))
                                        let x1 = min(x0 + 1, mapW - 1), y1 = min(y0 + 1, mapH - 1)
                                        let ax = Float(mx - Double(x0)), ay = Float(my - Double(y0))
                                        let w00 = (1 - ax) * (1 - ay) * weight, w01 = ax * (1 - ay) * weight
                                        let w10 = (1 - ax) * ay * weight, w11 = ax * ay * weight
                                        let i00 = y0 * mapW + x0, i01 = y0 * mapW + x1, i10 = y1 * mapW + x0, i11 = y1 * mapW + x1
                                        for (slot, channel) in chosen {
                                            let base = values + channel * plane
                                            cell[slot] += w00 * base[i00] + w01 * base[i01] + w10 * base[i10] + w11 * base[i11]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (embedding, gridH, gridW, shapes.map(\.stride), observed)
    }
}
