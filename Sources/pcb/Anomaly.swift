// `pcb anomaly fit` and `pcb anomaly eval`: PaDiM on the detector's backbone (issue 8).

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import ImageKit
import Telemetry

struct Anomaly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit and evaluate the PaDiM anomaly model that runs beside the detector.",
        subcommands: [AnomalyFit.self, AnomalyEval.self, AnomalyBench.self])
}

/// JPEG files under a folder (recursively) whose file name matches a shell-style glob.
enum GlobbedImages {
    static func list(_ folder: String, glob: String?) throws -> [String] {
        try list([folder], glob: glob)
    }

    static func list(_ folders: [String], glob: String?) throws -> [String] {
        let files = try ImageFiles.expand(folders)
        guard let glob else { return files }
        return files.filter { fnmatch(glob, ($0 as NSString).lastPathComponent, 0) == 0 }
    }

    static func load(_ path: String, codec: JPEGCodec) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        do { return try codec.decode([UInt8](data)) } catch { throw ValidationError("\(path): \(error)") }
    }
}

struct AnomalyFit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Fit PaDiM on normal boards and write a .padim file.")

    @Option(help: "The detector (ONNX) whose backbone gives the features.") var model: String
    @Option(help: "Folder of normal (defect-free) board images, searched recursively.") var normal: String
    @Option(name: .customLong("normal-glob"), help: "Only files whose name matches, e.g. '*_temp.jpg' (DeepPCB templates).")
    var normalGlob: String?
    @Option(help: "Output file, e.g. models/anomaly/line.padim.") var out: String
    @Option(help: "Backbone layers (graph value names), comma separated.") var layers = PaDiMDefaults.layers.joined(separator: ",")
    @Option(name: .customLong("grid-stride"), help: "Grid cell size in input pixels; default 8 with registration, 16 without or for a mixture.")
    var gridStride: Int?
    @Option(help: "Random channels kept.") var channels = PaDiMDefaults.channels
    @Option(help: "Neighbourhood in cells searched for the closest Gaussian (shift tolerance); default 0 with registration, 1 without.")
    var radius: Int?
    @Flag(name: .customLong("no-align"), help: "Do not register boards to the first one (then rely on --radius for shifts).")
    var noAlign = false
    @Option(name: .customLong("edge-margin"), help: "With registration: input pixels a cell must keep from the frame edge to be scored.")
    var edgeMargin = PaDiMDefaults.edgeMargin
    @Option(help: "Seed of the channel subset.") var seed: UInt64 = 0
    @Option(help: "0: a Gaussian per grid cell (boards of one layout). K: K Gaussians shared by every position (images of different layouts, e.g. DeepPCB).")
    var mixture = 0
    @Option(name: .customLong("false-alarm-rate"), help: "Share of held-out normal boards allowed above the threshold (0: the highest held-out score).")
    var falseAlarmRate = 0.0
    @Option(help: "Engine threads.") var threads = 2

    func validate() throws {
        guard (0..<1).contains(falseAlarmRate) else { throw ValidationError("--false-alarm-rate must be within 0..<1") }
        guard (1...256).contains(gridStride ?? 16) else { throw ValidationError("--grid-stride must be within 1...256") }
        guard (1...1024).contains(channels) else { throw ValidationError("--channels must be within 1...1024") }
        guard (0...64).contains(radius ?? 0) else { throw ValidationError("--radius must be within 0...64") }
        guard (0...1024).contains(edgeMargin) else { throw ValidationError("--edge-margin must be within 0...1024") }
        guard (0...4096).contains(mixture) else { throw ValidationError("--mixture must be within 0...4096") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let detector = try YOLODetector(path: model, threads: threads)
        let files = try GlobbedImages.list(normal, glob: normalGlob)
        guard files.count >= 3 else { throw ValidationError("need at least 3 normal images in \(normal), found \(files.count)") }
        var options = PaDiMFitOptions()
        options.layers = layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        options.gridStride = gridStride
        options.channels = channels
        options.align = !noAlign
        options.edgeMargin = edgeMargin
        options.radius = radius
        options.seed = seed
        options.components = max(0, mixture)
        options.falseAlarmRate = falseAlarmRate
        let codec = JPEGCodec()
        let started = Date()
        let fitted = try PaDiMModel.fit(detector: detector, count: files.count, load: { try GlobbedImages.load(files[$0], codec: codec) },
                                        options: options) { done, total in
            if done % 10 == 0 || done == total {
                FileHandle.standardError.write(Data(String(format: "fit: %d/%d boards, %.0f s\n", done, total, Date().timeIntervalSince(started)).utf8))
            }
        }
        try fitted.write(to: out, detector: (model as NSString).lastPathComponent)
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print("wrote \(out): \(fitted.fittedImages) boards fitted, grid \(fitted.gridWidth)x\(fitted.gridHeight), \(fitted.dimension) channels, \(fitted.components > 0 ? "mixture of \(fitted.components) Gaussians" : fitted.registration != nil ? "registered to board 1, radius \(fitted.radius)" : "radius \(fitted.radius)"), threshold \(fitted.threshold) (\(fitted.thresholdRule)), \(size / 1024) KiB")
    }
}

struct AnomalyEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Image AUROC of a .padim model on normal vs defective boards.")

    @Option(help: "The detector (ONNX) the anomaly model was fitted on.") var model: String
    @Option(help: "The .padim file.") var anomaly: String
    @Option(help: "Folder of normal boards (repeat for several).") var normal: [String]
    @Option(help: "Folder of defective boards (repeat for several, e.g. trained and unknown defect kinds).") var defective: [String]
    @Option(name: .customLong("normal-glob"), help: "Only normal files whose name matches, e.g. '*_temp.jpg'.") var normalGlob: String?
    @Option(name: .customLong("defective-glob"), help: "Only defective files whose name matches, e.g. '*_test.jpg'.") var defectiveGlob: String?
    @Option(help: "Engine threads.") var threads = 2
    @Option(help: "Score with this neighbourhood (cells) instead of the file's (to compare; the file's threshold was chosen for its own).")
    var radius: Int?
    @Flag(help: "Print the result as one JSON line last.") var json = false
    @Option(name: .customLong("scores-out"), help: "Also write every image's score as CSV (path,set,score).") var scoresOut: String?

    func validate() throws {
        guard !normal.isEmpty, !defective.isEmpty else { throw ValidationError("give at least one --normal and one --defective folder") }
    }

    func run() async throws {
        let detector = try YOLODetector(path: model, threads: threads)
        var fitted = try PaDiMModel(path: anomaly)
        if let radius { fitted.radius = max(0, radius) }
        let scorer = PaDiMScorer(model: fitted, threads: threads)
        try scorer.check(detector: detector)
        let codec = JPEGCodec()
        let layers = Set(scorer.model.layers)
        var rows = ["path,set,score"]
        // Cell-level localisation: every map cell of the normal boards is negative; on a
        // defective board with annotations, cells covering a defect are positive, the rest negative.
        var cellNegatives: [Float] = [], cellPositives: [Float] = []
        var annotatedBoards = 0
        func scores(_ folders: [String], _ glob: String?, _ label: String) throws -> [Float] {
            let files = try GlobbedImages.list(folders, glob: glob)
            guard !files.isEmpty else {
                throw ValidationError("no images in \(folders.joined(separator: ", "))\(glob.map { " matching \($0)" } ?? "")")
            }
            var result: [Float] = []
            for (index, file) in files.enumerated() {
                let image = try GlobbedImages.load(file, codec: codec)
                let analysis = try detector.analyze([image], capturing: layers)[0]
                let finding = try scorer.finding(analysis, frame: image)
                result.append(finding.score)
                let boxes = label == "normal" ? [] : DefectRegions.boxes(forImage: file, width: image.width, height: image.height)
                if let boxes {
                    if label != "normal" { annotatedBoards += 1 }
                    for (index, value) in finding.map.enumerated() {
                        if DefectRegions.covers(cell: finding.cell(index), boxes) { cellPositives.append(value) } else { cellNegatives.append(value) }
                    }
                }
                rows.append("\(file),\(label),\(result.last!)")
                if (index + 1) % 20 == 0 || index + 1 == files.count {
                    FileHandle.standardError.write(Data("eval: \(label) \(index + 1)/\(files.count)\n".utf8))
                }
            }
            return result
        }
        let normalScores = try scores(normal, normalGlob, "normal")
        let defectiveScores = try scores(defective, defectiveGlob, "defective")
        if let scoresOut { try (rows.joined(separator: "\n") + "\n").write(toFile: scoresOut, atomically: true, encoding: .utf8) }
        let auroc = areaUnderROC(normal: normalScores, defective: defectiveScores)
        let threshold = scorer.model.threshold
        let falsePositive = Double(normalScores.filter { $0 > threshold }.count) / Double(normalScores.count)
        let truePositive = Double(defectiveScores.filter { $0 > threshold }.count) / Double(defectiveScores.count)
        // The threshold that would best separate these sets (Youden's J), for comparison.
        let candidates = Set(normalScores + defectiveScores).sorted()
        var best = (j: -1.0, threshold: threshold)
        for t in candidates {
            let tpr = Double(defectiveScores.filter { $0 > t }.count) / Double(defectiveScores.count)
            let fpr = Double(normalScores.filter { $0 > t }.count) / Double(normalScores.count)
            if tpr - fpr > best.j { best = (tpr - fpr, t) }
        }
        func r(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }
        print("normal boards: \(normalScores.count), scores \(r(Double(normalScores.min() ?? 0)))...\(r(Double(normalScores.max() ?? 0)))")
        print("defective boards: \(defectiveScores.count), scores \(r(Double(defectiveScores.min() ?? 0)))...\(r(Double(defectiveScores.max() ?? 0)))")
        print("image AUROC \(r(auroc))")
        print("model threshold \(r(Double(threshold))) (\(scorer.model.thresholdRule)): TPR \(r(truePositive)), FPR \(r(falsePositive))")
        print("best threshold on this data (Youden's J) \(r(Double(best.threshold))): J \(r(best.j))")
        let pixelAUROC = cellPositives.isEmpty ? nil : areaUnderROC(normal: cellNegatives, defective: cellPositives)
        if let pixelAUROC {
            print("cell-level AUROC \(r(pixelAUROC)) (\(cellPositives.count) defect cells on \(annotatedBoards) annotated boards, \(cellNegatives.count) other cells)")
        } else {
            print("cell-level AUROC: no annotations found for the defective boards")
        }
        if json {
            let line: [String: Any] = [
                "image_auroc": r(auroc), "threshold": r(Double(threshold)), "threshold_rule": scorer.model.thresholdRule,
                "tpr_at_threshold": r(truePositive), "fpr_at_threshold": r(falsePositive),
                "youden_threshold": r(Double(best.threshold)), "youden_j": r(best.j),
                "normal_images": normalScores.count, "defective_images": defectiveScores.count,
                "pixel_auroc": pixelAUROC.map(r) ?? NSNull() as Any,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}

struct AnomalyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Median latency of the detector alone and with the anomaly model, on the same frames.")

    @Option(help: "The detector (ONNX).") var model: String
    @Option(help: "The .padim file.") var anomaly: String
    @Option(help: "Folder of frames.") var images: String
    @Option(help: "Frames used (the first N).") var count = 20
    @Option(help: "Rounds over the frames (interleaved).") var rounds = 3
    @Option(help: "Engine threads.") var threads = 1

    func run() async throws {
        let detector = try YOLODetector(path: model, threads: threads)
        let scorer = PaDiMScorer(model: try PaDiMModel(path: anomaly), threads: threads)
        try scorer.check(detector: detector)
        let codec = JPEGCodec()
        let frames = try GlobbedImages.list(images, glob: nil).prefix(count).map { try GlobbedImages.load($0, codec: codec) }
        guard !frames.isEmpty else { throw ValidationError("no frames in \(images)") }
        let layers = Set(scorer.model.layers)
        func milliseconds(_ body: () throws -> Void) rethrows -> Double {
            let start = ContinuousClock.now
            try body()
            let (s, a) = (ContinuousClock.now - start).components
            return Double(s) * 1000 + Double(a) / 1e15
        }
        _ = try detector.detect([frames[0]])
        _ = try scorer.score(detector.analyze([frames[0]], capturing: layers)[0], frame: frames[0])
        var alone: [Double] = [], both: [Double] = [], scoring: [Double] = [], registering: [Double] = []
        for _ in 0..<rounds {
            for frame in frames {
                alone.append(try milliseconds { _ = try detector.detect([frame]) })
                var analysis: YOLODetector.Analysis? = nil
                let total = try milliseconds {
                    analysis = try detector.analyze([frame], capturing: layers)[0]
                    scoring.append(try milliseconds { _ = try scorer.score(analysis!, frame: frame) })
                }
                both.append(total)
                if let registration = scorer.model.registration {
                    registering.append(try milliseconds { _ = try registration.register(frame) })
                }
            }
        }
        func median(_ values: [Double]) -> Double { (Percentiles(values).median * 100).rounded() / 100 }
        let size = (try? FileManager.default.attributesOfItem(atPath: anomaly)[.size] as? Int) ?? 0
        let line: [String: Any] = [
            "detector_ms": median(alone), "detector_plus_anomaly_ms": median(both), "anomaly_scoring_ms": median(scoring),
            "added_fraction": ((median(both) / median(alone) - 1) * 1000).rounded() / 1000, "frames": frames.count, "rounds": rounds,
            "threads": threads, "anomaly_file_mb": (Double(size) / 104_857.6).rounded() / 10,
            "registration_ms": registering.isEmpty ? NSNull() as Any : median(registering),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
    }
}
