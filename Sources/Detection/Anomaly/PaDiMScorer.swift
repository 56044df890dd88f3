// PaDiM beside the YOLO detector: scoring a frame from the maps captured in its detection run
// (no second backbone pass). Fitting lives in DetectionTools (`PaDiMModel.fit`).

import Foundation
import ImageKit
import Inspection
import NeuralEngine

/// Scores frames with a fitted PaDiM model on a detector's backbone.
public struct PaDiMScorer: Sendable {
    public let model: PaDiMModel
    public let embedder: PaDiMEmbedder
    /// Workers for the distance map (the detector's thread count).
    public var threads: Int

    public init(model: PaDiMModel, threads: Int = 1) {
        self.model = model
        self.threads = threads
        embedder = PaDiMEmbedder(layers: model.layers, gridStride: model.gridStride, channels: model.channels)
    }

    /// Checks that the detector computes every layer the model reads.
    public func check(detector: YOLODetector) throws {
        for layer in model.layers where !detector.computesValue(named: layer) {
            throw DetectionError.anomaly("the detector's graph has no value '\(layer)': fit the anomaly model on this detector")
        }
        // A retrained detector keeps its graph but not its features.
        if let expected = model.detectorFingerprint, let bytes = FileManager.default.contents(atPath: detector.modelFile.path) {
            let actual = OperatingPoint.fingerprint(bytes)
            guard actual == expected else {
                throw DetectionError.anomaly("it was fitted on another detector file (fingerprint \(expected)), not \(detector.modelFile.fileName) "
                    + "(\(actual)): fit it again on this detector (pcb anomaly fit --model \(detector.modelFile.path) ...)")
            }
        }
    }

    /// The anomaly of one analysed frame with the map placed on the frame (for the server,
    /// the dashboard and localisation scores). `frame` is the picture analysed: a model fitted
    /// with registration aligns it to its reference board first.
    public func finding(_ analysis: YOLODetector.Analysis, frame: RGBImage) throws -> AnomalyFinding {
        let scored = try score(analysis, frame: frame)
        let t = analysis.transform, cell = Double(model.gridStride) / t.scale
        // Grid cell coordinates -> reference frame pixels -> this frame's pixels.
        let gridToReference = AffineMap(a: cell, b: 0, c: 0, d: cell, tx: -Double(t.padLeft) / t.scale, ty: -Double(t.padTop) / t.scale)
        let placement = gridToReference.then(scored.registration)
        return AnomalyFinding(
            score: scored.score, threshold: model.threshold, map: scored.map, gridWidth: model.gridWidth, gridHeight: model.gridHeight,
            originX: placement.tx, originY: placement.ty, cellWidth: cell * scored.registration.zoom, cellHeight: cell * scored.registration.zoom,
            placement: model.registration == nil ? nil : placement)
    }

    /// The anomaly of one analysed frame: per-cell map (grid rows), image score, whether it is
    /// above the model's threshold, and the registration used (the identity without one).
    public func score(_ analysis: YOLODetector.Analysis, frame: RGBImage) throws -> (map: [Float], score: Float, anomalous: Bool, registration: AffineMap) {
        let t = analysis.transform
        guard t.inputHeight == model.inputHeight, t.inputWidth == model.inputWidth else {
            throw DetectionError.anomaly("frame letterboxes to \(t.inputWidth)x\(t.inputHeight), the anomaly model was fitted at \(model.inputWidth)x\(model.inputHeight)")
        }
        var registration = AffineMap.identity
        let values: [Float], observed: [Bool]?, height: Int, width: Int
        if let reference = model.registration {
            registration = try reference.register(frame).map
            let e = try embedder.embed(analysis.features, transform: t, registration: registration, margin: model.edgeMargin, threads: threads)
            (values, observed, height, width) = (e.values, e.observed, e.height, e.width)
        } else {
            let e = try embedder.embed(analysis.features, inputHeight: t.inputHeight, inputWidth: t.inputWidth)
            (values, observed, height, width) = (e.values, nil, e.height, e.width)
        }
        guard height == model.gridHeight, width == model.gridWidth else {
            throw DetectionError.anomaly("embedding grid \(width)x\(height) differs from the model's \(model.gridWidth)x\(model.gridHeight)")
        }
        let (map, score) = model.score(values, observed: observed, threads: threads)
        return (map, score, score > model.threshold, registration)
    }
}

extension YOLODetector {
    /// Whether the optimised graph computes a value of this name (it can be captured).
    public func computesValue(named name: String) -> Bool { modelFile.session.hasValue(named: name) }
}
