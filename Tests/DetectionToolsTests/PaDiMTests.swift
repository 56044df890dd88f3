// PaDiM: AUROC on hand-made cases, the Gaussian fit and its whitening, the embedding's
// pooling, position tolerance, the .padim file (round trip and damaged files), and a fit and
// score on a real (fixture) detector's backbone in the detection run.

import Foundation
import ImageKit
import Inspection
import NeuralEngine
import Testing
@testable import Detection
@testable import DetectionTools

@Suite struct PaDiMTests {
    @Test func aurocOnKnownCases() {
        #expect(areaUnderROC(normal: [1, 2, 3], defective: [4, 5]) == 1)
        #expect(areaUnderROC(normal: [4, 5], defective: [1, 2, 3]) == 0)
        #expect(areaUnderROC(normal: [1, 1], defective: [1, 1]) == 0.5)
        // 3 of the 4 (defective, normal) pairs are ordered right.
        #expect(areaUnderROC(normal: [1, 3], defective: [2, 4]) == 0.75)
        #expect(areaUnderROC(normal: [], defective: [1]).isNaN)
    }

    @Test func inverseCholeskyWhitens() throws {
        // Sigma = [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt 2]].
        let inverse = try PaDiMFitter.inverseCholesky([4, 2, 2, 3], 2)
        let expected: [Double] = [0.5, 0, -0.5 / 2.0.squareRoot(), 1 / 2.0.squareRoot()]
        for (a, b) in zip(inverse, expected) { #expect(abs(a - b) < 1e-12) }
        #expect(throws: DetectionError.self) { try PaDiMFitter.inverseCholesky([1, 2, 2, 1], 2) }
    }

    /// A model fitted on embeddings `base(cell) + noise`, 2 channels, a 3x3 grid.
    func fittedModel(radius: Int, base: (Int) -> (Float, Float)) throws -> PaDiMModel {
        var fitter = PaDiMFitter(cells: 9, dimension: 2)
        var state: UInt64 = 1
        func noise() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 0.2 - 0.1
        }
        for _ in 0..<200 {
            var embedding: [Float] = []
            for cell in 0..<9 { let (a, b) = base(cell); embedding += [a + noise(), b + noise()] }
            fitter.add(embedding)
        }
        let (means, whiteners) = try fitter.finish()
        return PaDiMModel(layers: ["x"], layerStrides: [16], gridStride: 16, gridHeight: 3, gridWidth: 3, inputHeight: 48,
                          inputWidth: 48, channels: [0, 1], radius: radius, threshold: 5, thresholdRule: "test", fittedImages: 200,
                          means: means, whiteners: whiteners)
    }

    @Test func normalEmbeddingsScoreLowAndOutliersHigh() throws {
        let model = try fittedModel(radius: 0) { cell in (Float(cell), -Float(cell)) }
        #expect(abs(model.means[4 * 2] - 4) < 0.05)
        let normal = (0..<9).flatMap { [Float($0), -Float($0)] }
        var outlier = normal
        outlier[4 * 2] += 3   // cell 4, channel 0: 3 units off (noise sd is about 0.06)
        let (map, score) = model.score(outlier)
        #expect(model.score(normal).score < 1)
        #expect(score > 10)
        #expect(map.firstIndex(of: score) == 4, "the map points at the anomalous cell")
    }

    @Test func neighbourhoodToleratesAShiftedBoard() throws {
        // A feature only at cell (1, 1) of the normal boards...
        let pattern = { (cell: Int) -> (Float, Float) in cell == 4 ? (5, 5) : (0, 0) }
        let strict = try fittedModel(radius: 0, base: pattern)
        let tolerant = try fittedModel(radius: 1, base: pattern)
        // ...seen one cell to the right, as on a board shifted by one cell.
        var shifted = [Float](repeating: 0, count: 18)
        shifted[5 * 2] = 5
        shifted[5 * 2 + 1] = 5
        #expect(strict.score(shifted).score > 10, "plain PaDiM fires on a shifted normal board")
        #expect(tolerant.score(shifted).score < 1, "the neighbourhood finds the feature one cell over")
        // A feature no normal board has anywhere still fires.
        var defect = [Float](repeating: 0, count: 18)
        defect[0] = -4
        #expect(tolerant.score(defect).score > 10)
    }

    @Test func mixtureIsPositionFree() throws {
        // Normal cells show one of two local patterns, anywhere: (0, 0) or (5, 5), plus noise.
        var vectors: [Float] = []
        var state: UInt64 = 7
        for i in 0..<400 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let jitter = Float(state >> 40) / Float(1 << 24) * 0.2 - 0.1
            let centre: Float = i % 2 == 0 ? 0 : 5
            vectors += [centre + jitter, centre - jitter]
        }
        let mixture = try PaDiMMixture.fit(vectors, count: 400, dimension: 2, components: 2, seed: 1)
        #expect(mixture.components == 2)
        let model = PaDiMModel(layers: ["x"], layerStrides: [16], gridStride: 16, gridHeight: 2, gridWidth: 2, inputHeight: 32,
                               inputWidth: 32, channels: [0, 1], radius: 0, components: mixture.components, threshold: 5,
                               thresholdRule: "test", fittedImages: 1, means: mixture.means, whiteners: mixture.whiteners)
        // Either pattern at any position is normal; a third one is not.
        #expect(model.score([5, 5, 0, 0, 0, 0, 5, 5]).score < 2)
        let (map, score) = model.score([5, 5, 0, 0, 2.5, 2.5, 5, 5])
        #expect(score > 10 && map.firstIndex(of: score) == 2)
        let read = try PaDiMModel(bytes: try model.encoded(detector: "x"))
        #expect(read.components == 2 && read.gaussianCount == 2 && read.means == model.means)
        #expect(throws: DetectionError.self) { try PaDiMMixture.fit(vectors, count: 3, dimension: 2, components: 2, seed: 1) }
    }

    @Test func embedderPoolsFinerMapsAndRepeatsCoarserOnes() throws {
        // Input 16x16, grid stride 8 (2x2 cells). Layer a: stride 4 (4x4 map, 1 channel), layer
        // b: stride 16 (1x1 map, 1 channel).
        let a = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map(Float.init))
        let b = Tensor(shape: [1, 1, 1, 1], floats: [7])
        let embedder = PaDiMEmbedder(layers: ["a", "b"], gridStride: 8, channels: [0, 1])
        let e = try embedder.embed(["a": a, "b": b], inputHeight: 16, inputWidth: 16)
        #expect(e.height == 2 && e.width == 2 && e.strides == [4, 16])
        // Cell (0, 0) averages a[0, 1, 4, 5] = 2.5; every cell gets b's 7.
        #expect(e.values == [2.5, 7, 4.5, 7, 10.5, 7, 12.5, 7])
        #expect(throws: DetectionError.self) { try embedder.embed(["a": a], inputHeight: 16, inputWidth: 16) }
        let channels = PaDiMEmbedder.chooseChannels(total: 224, count: 64, seed: 3)
        #expect(channels.count == 64 && Set(channels).count == 64 && channels == channels.sorted() && channels.last! < 224)
        #expect(channels == PaDiMEmbedder.chooseChannels(total: 224, count: 64, seed: 3))
    }

    @Test func fileRoundTripsAndDamagedFilesAreRefused() throws {
        let model = try fittedModel(radius: 1) { cell in (Float(cell), 1) }
        let bytes = try model.encoded(detector: "test.onnx")
        let read = try PaDiMModel(bytes: bytes)
        #expect(read.means == model.means)
        // Only the lower triangle is stored; the upper one is zero by construction.
        #expect(read.whiteners == model.whiteners)
        #expect((read.layers, read.gridWidth, read.radius, read.threshold, read.channels) == (model.layers, 3, 1, 5, [0, 1]))

        func refusal(_ damaged: [UInt8]) -> String {
            do { _ = try PaDiMModel(bytes: damaged, name: "f.padim"); return "accepted" } catch { return "\(error)" }
        }
        #expect(refusal(Array(bytes.dropLast(4))).contains("f.padim: expected"))
        #expect(refusal([UInt8](repeating: 0, count: 40)).contains("bad magic"))
        var version = bytes
        version[8] = 9
        #expect(refusal(version).contains("format version 9"))
        #expect(refusal(Array(bytes.prefix(20))).contains("truncated header"))
        // Damaged header values are refused before any size is computed from them.
        func withHeader(_ change: (String) -> String) -> [UInt8] {
            let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
            let json = Array(change(String(decoding: bytes[16..<(16 + length)], as: UTF8.self)).utf8)
            var out = Array(bytes[0..<12])
            withUnsafeBytes(of: UInt32(json.count).littleEndian) { out.append(contentsOf: $0) }
            return out + json + bytes[(16 + length)...]
        }
        for (field, damaged) in [("\"grid_stride\":16", "\"grid_stride\":0"), ("\"channels\":[0,1]", "\"channels\":[-1,1]"),
                                 ("\"grid_height\":3", "\"grid_height\":1099511627776"), ("\"radius\":1", "\"radius\":-1"),
                                 ("\"components\":0", "\"components\":-3"), ("\"input_height\":48", "\"input_height\":16")] {
            let text = String(decoding: withHeader { $0 }, as: UTF8.self)
            #expect(text.contains(field), "header lacks \(field)")
            #expect(refusal(withHeader { $0.replacingOccurrences(of: field, with: damaged) }).contains("inconsistent header"), "\(damaged)")
        }
    }

    @Test func fitsAndScoresOnTheDetectorsOwnBackbone() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = repository.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path
        let detector = try YOLODetector(path: path, threads: 1, inputSize: (64, 64))
        func board(_ k: Int, spot: Bool = false) -> RGBImage {
            var image = RGBImage(width: 64, height: 64, fill: (30, 120, 60))
            for y in 0..<64 where (y / 8) % 2 == 0 { for x in 0..<64 { image.pixels[(y * 64 + x) * 3 + 1] = UInt8(140 + k % 5) } }
            if spot { for y in 30..<38 { for x in 30..<38 { image.pixels[(y * 64 + x) * 3] = 250 } } }
            return image
        }
        var options = PaDiMFitOptions()
        options.channels = 8
        options.align = false   // 64x64 is too small a frame to register; see the registered fit below
        var ticks = 0
        let model = try PaDiMModel.fit(detector: detector, count: 10, load: { board($0) }, options: options) { _, _ in ticks += 1 }
        #expect(ticks == 10)
        #expect(model.fittedImages == 9 && model.gridWidth == 4 && model.gridHeight == 4 && model.layerStrides == [4, 8, 16])
        let scorer = PaDiMScorer(model: try PaDiMModel(bytes: try model.encoded(detector: "fixture")))
        try scorer.check(detector: detector)
        // The file keeps the detector's fingerprint; fitted on another detector file, it is refused.
        let fingerprint = try #require(model.detectorFingerprint)
        #expect(scorer.model.detectorFingerprint == fingerprint)
        var foreign = model
        foreign.detectorFingerprint = "0123456789abcdef"
        let refusal = #expect(throws: DetectionError.self) { try PaDiMScorer(model: foreign).check(detector: detector) }
        #expect("\(refusal.map { $0 } as Any)".contains("fitted on another detector file"), "\(String(describing: refusal))")
        var older = model
        older.detectorFingerprint = nil   // files written before the fingerprint was kept
        try PaDiMScorer(model: older).check(detector: detector)
        let layers = Set(model.layers)
        let normal = try scorer.score(try detector.analyze([board(2)], capturing: layers)[0], frame: board(2))
        let spotted = try scorer.score(try detector.analyze([board(2, spot: true)], capturing: layers)[0], frame: board(2, spot: true))
        #expect(normal.map.count == 16 && normal.score.isFinite)
        #expect(spotted.score > normal.score, "a red square no normal board has scores higher")
        // A frame of another size is refused, not mis-scored.
        let other = try detector.analyze([RGBImage(width: 128, height: 64, fill: (0, 0, 0))], capturing: layers)[0]
        #expect(throws: DetectionError.self) { try scorer.score(other, frame: RGBImage(width: 128, height: 64, fill: (0, 0, 0))) }

        // A false-alarm rate puts the threshold below the highest held-out score: with 5 boards
        // held out and a rate of 0.4, two of them lie above it.
        options.holdOutFraction = 0.5
        let strict = try PaDiMModel.fit(detector: detector, count: 10, load: { board($0) }, options: options)
        options.falseAlarmRate = 0.4
        let lenient = try PaDiMModel.fit(detector: detector, count: 10, load: { board($0) }, options: options)
        #expect(lenient.threshold < strict.threshold, "\(lenient.threshold) vs \(strict.threshold)")
        #expect(strict.thresholdRule.hasPrefix("highest image score of 5 held-out") && lenient.thresholdRule.contains("2 of 5 held-out"))
    }

    @Test func registeredFitScoresAMovedNormalBoardAsNormal() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = repository.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path
        let detector = try YOLODetector(path: path, threads: 1, inputSize: (128, 128))
        // Given normal boards of one product, each photographed in a slightly different pose...
        let product = BoardRegistrationTests.board(width: 128, height: 128, seed: 5)
        func photo(_ k: Int, spot: Bool = false) -> RGBImage {
            let pose = AffineMap.pose(degrees: Double(k % 5 - 2) * 0.6, scale: 1 + Double(k % 3 - 1) * 0.01,
                                      shiftX: Double(k % 7 - 3) * 0.8, shiftY: Double(k % 4 - 2) * 0.9, centreX: 64, centreY: 64)
            var image = BoardRegistrationTests.photograph(product, through: pose)
            if spot {
                for y in 56..<72 { for x in 56..<72 { (image.pixels[(y * 128 + x) * 3], image.pixels[(y * 128 + x) * 3 + 1]) = (250, 250) } }
            }
            return image
        }
        var options = PaDiMFitOptions()
        options.channels = 8
        options.gridStride = 16
        options.radius = 0
        options.registrationFactor = 1
        let model = try PaDiMModel.fit(detector: detector, count: 30, load: { photo($0) }, options: options)
        #expect(model.registration != nil && model.edgeMargin == PaDiMDefaults.edgeMargin)
        // The outer ring of cells is always too close to the edge to be fitted.
        let unscored = (0..<model.cellCount).filter { model.whiteners[$0 * model.dimension * model.dimension] == 0 }
        #expect(unscored.contains(0) && !unscored.contains(3 * model.gridWidth + 3))
        // When a new board in another pose is scored, it stays below one with a red square no board has.
        let read = try PaDiMModel(bytes: try model.encoded(detector: "fixture"))
        #expect(read.registration?.reference == model.registration?.reference && read.edgeMargin == model.edgeMargin)
        let scorer = PaDiMScorer(model: read)
        let layers = Set(model.layers)
        let moved = photo(31), spotted = photo(31, spot: true)
        let normal = try scorer.finding(try detector.analyze([moved], capturing: layers)[0], frame: moved)
        let defect = try scorer.finding(try detector.analyze([spotted], capturing: layers)[0], frame: spotted)
        #expect(defect.score > 1.5 * normal.score, "normal \(normal.score), spotted \(defect.score)")
        #expect(normal.placement != nil)
        // The highest cell of the spotted board covers the square.
        let hottest = defect.map.firstIndex(of: defect.score)!
        #expect(DefectRegions.covers(cell: defect.cell(hottest), [(56, 56, 72, 72)]))
    }

    @Test func registeredEmbeddingAtTheIdentityIsThePooledOneAndMarksTheEdge() throws {
        // Input 32x32 (a 32x32 frame), grid 8: layer a at stride 4 (8x8), layer b at stride 8 (4x4).
        let a = Tensor(shape: [1, 1, 8, 8], floats: (0..<64).map(Float.init))
        let b = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) * 10 })
        let embedder = PaDiMEmbedder(layers: ["a", "b"], gridStride: 8, channels: [0, 1])
        let plain = try embedder.embed(["a": a, "b": b], inputHeight: 32, inputWidth: 32)
        let letterbox = LetterboxTransform(frameWidth: 32, frameHeight: 32, targetWidth: 32, targetHeight: 32, stride: 8, rectangular: true)
        let registered = try embedder.embed(["a": a, "b": b], transform: letterbox, registration: .identity, margin: 4)
        #expect(registered.values == plain.values)
        // With a margin of 4 px only the four inner cells lie wholly on the frame.
        #expect(registered.observed.enumerated().filter(\.element).map(\.offset) == [5, 6, 9, 10])
        // Shifted by one map cell of b (8 px) to the right, each cell reads its right neighbour.
        let shifted = try embedder.embed(["a": a, "b": b], transform: letterbox,
                                         registration: AffineMap(a: 1, b: 0, c: 0, d: 1, tx: 8, ty: 0), margin: 0)
        #expect(shifted.values[5 * 2 + 1] == plain.values[6 * 2 + 1] && shifted.values[5 * 2] == plain.values[6 * 2])
        #expect(!shifted.observed[7] && shifted.observed[6])
    }

    @Test func unscoredAndUnobservedCellsReadZero() throws {
        var model = try fittedModel(radius: 0) { cell in (Float(cell), 1) }
        let normal: [Float] = (0..<9).flatMap { [Float($0), 1] }
        var outlier = normal
        outlier[0] = 50
        #expect(model.score(outlier).score > 10)
        var observed = [Bool](repeating: true, count: 9)
        observed[0] = false
        #expect(model.score(outlier, observed: observed).score < 1, "a cell off the frame is not scored")
        for k in 0..<4 { model.whiteners[k] = 0 }
        #expect(model.score(outlier).score < 1, "a cell the fit left out is not scored")
    }

    @Test func versionOneFilesStillLoad() throws {
        let model = try fittedModel(radius: 1) { cell in (Float(cell), 1) }
        var bytes = try model.encoded(detector: "test.onnx")
        #expect(bytes[8] == 2)
        bytes[8] = 1
        let read = try PaDiMModel(bytes: bytes)
        #expect(read.means == model.means && read.registration == nil)
    }
}

@Suite struct DefectRegionsTests {
    @Test func findsYOLONovelAndDeepPCBAnnotations() throws {
        let root = NSTemporaryDirectory() + "pcb-regions-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for folder in ["set/images/train", "set/labels/train", "set/novel", "deeppcb/g1/g1", "deeppcb/g1/g1_not"] {
            try fm.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        try "2 0.5 0.5 0.25 0.5\n".write(toFile: root + "/set/labels/train/a.txt", atomically: true, encoding: .utf8)
        try "burn 10 20 30 40\n".write(toFile: root + "/set/novel/a.txt", atomically: true, encoding: .utf8)
        try "1 2 3 4 1\n5,6,7,8,3\n".write(toFile: root + "/deeppcb/g1/g1_not/0001.txt", atomically: true, encoding: .utf8)
        for file in ["set/images/train/a.jpg", "set/images/train/b.jpg", "deeppcb/g1/g1/0001_test.jpg"] {
            fm.createFile(atPath: root + "/" + file, contents: Data())
        }
        // A link to the DeepPCB image (as eval folders are made) still finds its annotation.
        try fm.createSymbolicLink(atPath: root + "/link_test.jpg", withDestinationPath: root + "/deeppcb/g1/g1/0001_test.jpg")

        let a = try #require(DefectRegions.boxes(forImage: root + "/set/images/train/a.jpg", width: 200, height: 100))
        #expect(a.count == 2)
        #expect(a[0] == (75, 25, 125, 75) && a[1] == (10, 20, 30, 40))
        #expect(DefectRegions.boxes(forImage: root + "/set/images/train/b.jpg", width: 200, height: 100) == nil)
        let deep = try #require(DefectRegions.boxes(forImage: root + "/link_test.jpg", width: 640, height: 640))
        #expect(deep.count == 2 && deep[1] == (5, 6, 7, 8))

        #expect(DefectRegions.covers(cell: (0, 0, 16, 16), [(8, 8, 24, 24)]))        // a quarter of the cell
        #expect(!DefectRegions.covers(cell: (0, 0, 16, 16), [(15, 15, 40, 40)]))     // a corner only
        #expect(DefectRegions.covers(cell: (0, 0, 16, 16), [(4, 4, 6, 6)]))          // a small defect inside
    }
}

@Suite struct BundledModelTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func deepPCBDetectorAndItsAnomalyModelLoadTogether() throws {
        let detector = try YOLODetector(path: Self.repository.appendingPathComponent("models/pcb_deeppcb_yolov8n.onnx").path)
        #expect(detector.classNames == ["open_circuit", "short", "mouse_bite", "spur", "spurious_copper", "pin_hole"])
        #expect(detector.metadata.imageSize.map { [$0.height, $0.width] } == [448, 448])
        let anomaly = try PaDiMModel(path: Self.repository.appendingPathComponent("models/anomaly/deeppcb_mixture32.padim").path)
        #expect(anomaly.components == 32 && anomaly.gridWidth == 28 && anomaly.inputWidth == 448)
        #expect(anomaly.detectorFingerprint != nil, "the bundled anomaly model names the detector it was fitted on")
        let hybrid = try HybridDetector(detector: detector, anomaly: anomaly, threads: 1)
        #expect(hybrid.modelDescription.contains("PaDiM (28x28 grid, mixture of 32"))
        // Every class is mapped by the shipped policy.
        let policy = try DefectPolicy.load(yaml: String(contentsOf: Self.repository.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8))
        try policy.validate(modelClasses: detector.classNames)
    }
}
