// Fitting a PaDiM model from a folder of normal boards on a detector's backbone: embeddings of
// every board (registered to the first one for a per-position model), a Gaussian per cell or
// a shared mixture, and the threshold from held-out boards.

import Detection
import Foundation
import ImageKit
import Inspection
import SeededRandom

/// How to fit.
public struct PaDiMFitOptions: Sendable {
    public var layers = PaDiMDefaults.layers
    /// nil: 8 px for a registered per-position model, 16 otherwise.
    public var gridStride: Int? = nil
    public var channels = PaDiMDefaults.channels
    /// nil: 0 for a registered per-position model, 1 otherwise.
    public var radius: Int? = nil
    public var seed: UInt64 = 0
    /// Share of the normal boards kept out of the fit to choose the threshold.
    public var holdOutFraction = 0.1
    /// Share of the held-out normal boards allowed above the threshold: 0 puts it at the highest
    /// held-out score; 0.02 at the 98th percentile (more defects caught, some false alarms).
    public var falseAlarmRate = 0.0
    /// 0: a Gaussian per grid cell. K > 0: a mixture of K Gaussians shared by all positions.
    public var components = 0
    /// Cell embeddings sampled for the mixture's k-means, over all boards.
    public var mixtureSamples = 60_000
    /// Register every board to the first one before embedding (per-position models only).
    public var align = true
    /// With `align`: input pixels a cell must keep from the frame edge to be fitted and scored.
    public var edgeMargin = PaDiMDefaults.edgeMargin
    /// With `align`: the reduction of the registration's reference picture.
    public var registrationFactor = 4

    public init() {}
}

extension PaDiMModel {
    /// Fits on normal boards. `load(i)` gives board i of `count`; every board must letterbox to
    /// the same input size. The threshold is the highest score among the held-out boards.
    public static func fit(detector: YOLODetector, count: Int, load: (Int) throws -> RGBImage, options: PaDiMFitOptions,
                           progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> PaDiMModel {
        guard count >= 3 else { throw DetectionError.anomaly("need at least 3 normal boards to fit, got \(count)") }
        for layer in options.layers where !detector.computesValue(named: layer) {
            throw DetectionError.anomaly("the detector's graph has no value '\(layer)'")
        }
        // Board 0 sets the embedding, the grid and (registered models) the reference pose.
        var run = try PaDiMFitRun(first: try load(0), count: count, detector: detector, options: options)
        progress(1, count)
        for index in 1..<count {
            try run.add(try load(index), index: index)
            progress(index + 1, count)
        }
        return try run.finish()
    }
}

/// One fit in progress: the choices made from the options and the first board, and what the
/// boards added so far contributed.
private struct PaDiMFitRun {
    struct Embedding {
        var values: [Float]
        var height: Int
        var width: Int
        var strides: [Int]
        /// Cells inside the frame after registration (nil without registration).
        var observed: [Bool]?
    }

    let detector: YOLODetector
    let options: PaDiMFitOptions
    let count: Int
    /// Per-position model registered to board 0 (`align` without a mixture).
    let aligned: Bool
    let gridStride: Int
    let radius: Int
    let heldOut: Int
    /// Every `step`-th board is held out, so both parts cover the whole folder.
    let step: Int
    let heldOutIndices: Set<Int>
    let embedder: PaDiMEmbedder
    let registration: BoardRegistration?
    /// The letterboxed input size every board must have, and the grid it gives.
    let inputHeight: Int
    let inputWidth: Int
    let grid: (height: Int, width: Int, strides: [Int])
    /// Per-cell sums of the per-position model (nil for a mixture). Mutated in place: it holds
    /// cells x d x d doubles, which a copy per board would cost dearly.
    var fitter: PaDiMFitter?
    /// The mixture's samples: cell embeddings drawn from every fitted board.
    var samples: [Float] = []
    var sampleCount = 0
    var random: SplitMix64
    var heldOutEmbeddings: [(values: [Float], observed: [Bool]?)] = []

    init(first image: RGBImage, count: Int, detector: YOLODetector, options: PaDiMFitOptions) throws {
        self.detector = detector
        self.options = options
        self.count = count
        aligned = options.align && options.components == 0
        gridStride = options.gridStride ?? (aligned ? PaDiMDefaults.alignedGridStride : PaDiMDefaults.gridStride)
        radius = options.radius ?? (aligned ? PaDiMDefaults.alignedRadius : PaDiMDefaults.radius)
        heldOut = max(1, Int((Double(count) * options.holdOutFraction).rounded()))
        step = max(1, count / heldOut)
        heldOutIndices = Set((0..<heldOut).map { [step] in $0 * step })
        let analysis = try detector.analyze([image], capturing: Set(options.layers))[0]
        let total = options.layers.reduce(0) { $0 + (analysis.features[$1]?.shape[1] ?? 0) }
        embedder = PaDiMEmbedder(layers: options.layers, gridStride: gridStride,
                                 channels: PaDiMEmbedder.chooseChannels(total: total, count: options.channels, seed: options.seed))
        registration = aligned ? try BoardRegistration(reference: image, factor: options.registrationFactor) : nil
        let embedding = try Self.embed(analysis, image: image, embedder: embedder, registration: registration, options: options)
        inputHeight = analysis.transform.inputHeight
        inputWidth = analysis.transform.inputWidth
        grid = (embedding.height, embedding.width, embedding.strides)
        // Per-cell statistics only for the per-position model (cells x d x d doubles).
        fitter = options.components == 0
            ? PaDiMFitter(cells: embedding.height * embedding.width, dimension: embedder.channels.count) : nil
        random = SplitMix64(seed: options.seed ^ 0x5A5A)
        absorb(embedding, index: 0)
    }

    mutating func add(_ image: RGBImage, index: Int) throws {
        let analysis = try detector.analyze([image], capturing: Set(options.layers))[0]
        let t = analysis.transform
        guard (t.inputHeight, t.inputWidth) == (inputHeight, inputWidth) else {
            throw DetectionError.anomaly("board \(index) letterboxes to \(t.inputWidth)x\(t.inputHeight), the first to \(inputWidth)x\(inputHeight): fit on frames of one size")
        }
        absorb(try Self.embed(analysis, image: image, embedder: embedder, registration: registration, options: options), index: index)
    }

    private static func embed(_ analysis: YOLODetector.Analysis, image: RGBImage, embedder: PaDiMEmbedder,
                              registration: BoardRegistration?, options: PaDiMFitOptions) throws -> Embedding {
        let t = analysis.transform
        if let registration {
            let map = try registration.register(image).map
            let e = try embedder.embed(analysis.features, transform: t, registration: map, margin: options.edgeMargin)
            return Embedding(values: e.values, height: e.height, width: e.width, strides: e.strides, observed: e.observed)
        }
        let e = try embedder.embed(analysis.features, inputHeight: t.inputHeight, inputWidth: t.inputWidth)
        return Embedding(values: e.values, height: e.height, width: e.width, strides: e.strides, observed: nil)
    }

    /// Held out for the threshold, or added to the statistics.
    private mutating func absorb(_ embedding: Embedding, index: Int) {
        if heldOutIndices.contains(index) {
            heldOutEmbeddings.append((embedding.values, embedding.observed))
            return
        }
        let d = embedder.channels.count
        if options.components > 0 {
            let cells = embedding.height * embedding.width
            let perBoard = max(1, options.mixtureSamples / max(1, count - heldOut))
            for _ in 0..<min(perBoard, cells) {
                let cell = random.below(cells)
                samples += embedding.values[(cell * d)..<((cell + 1) * d)]
                sampleCount += 1
            }
        } else if let observed = embedding.observed {
            embedding.values.withUnsafeBufferPointer { e in
                guard let base = e.baseAddress else { return }
                for cell in observed.indices where observed[cell] { fitter?.add(base + cell * d, toCell: cell) }
            }
        } else {
            fitter?.add(embedding.values)
        }
    }

    /// The fitted model, its threshold set from the held-out boards.
    func finish() throws -> PaDiMModel {
        var components = 0
        let (means, whiteners): ([Float], [Float])
        if let fitter {
            // A registered cell is fitted where at least half the boards show it whole.
            (means, whiteners) = try fitter.finish(minimumSamples: aligned ? (count - heldOut + 1) / 2 : 2)
        } else {
            let mixture = try PaDiMMixture.fit(samples, count: sampleCount, dimension: embedder.channels.count,
                                               components: options.components, seed: options.seed)
            (means, whiteners, components) = (mixture.means, mixture.whiteners, mixture.components)
        }
        var model = PaDiMModel(
            layers: options.layers, layerStrides: grid.strides, gridStride: gridStride, gridHeight: grid.height,
            gridWidth: grid.width, inputHeight: inputHeight, inputWidth: inputWidth,
            channels: embedder.channels, radius: radius, components: components, threshold: 0, thresholdRule: "",
            fittedImages: count - heldOut,
            means: means, whiteners: whiteners, registration: registration, edgeMargin: aligned ? options.edgeMargin : 0)
        let scores = heldOutEmbeddings.map { model.score($0.values, observed: $0.observed).score }
        let sorted = scores.sorted()
        let allowed = min(sorted.count - 1, Int((Double(sorted.count) * min(max(options.falseAlarmRate, 0), 1)).rounded(.down)))
        model.detectorFingerprint = FileManager.default.contents(atPath: detector.modelFile.path).map(OperatingPoint.fingerprint)
        model.threshold = sorted.isEmpty ? 0 : sorted[sorted.count - 1 - allowed]
        model.thresholdRule = allowed == 0
            ? "highest image score of \(scores.count) held-out normal boards (every \(step)th of \(count))"
            : "image score with \(allowed) of \(scores.count) held-out normal boards above it (false-alarm rate \(options.falseAlarmRate); every \(step)th of \(count))"
        return model
    }
}
