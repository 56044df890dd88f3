// `pcb eval`'s engine: runs an Ultralytics ONNX detector through NeuralEngine over a YOLO
// dataset split and measures it as `yolo val` does, plus the line's board verdicts.
//
//   image ──JPEG──► letterbox (InputGeometry) ──► model ──► decode + NMS (conf 0.001,
//   multi-label, IoU 0.7, 300 boxes) ──► match vs labels in input pixels ──► DetectionStatistics
//                                                     └──► frame pixels ──► policy.judge ──► verdict confusion

import Detection
import Foundation
import ImageKit
import Inspection
import NeuralEngine

/// Settings of one evaluation (defaults are `yolo val`'s).
public struct EvaluationOptions: Sendable {
    /// Prediction confidence threshold (`conf`).
    public var confidence: Float = 0.001
    /// NMS IoU threshold (`yolo val iou=`).
    public var nmsIoU: Float = 0.7
    /// IoU threshold of the headline precision/recall and the PR curve (Ultralytics: 0.5).
    public var headlineIoU: Float = 0.5
    /// Boxes kept per image; raised to the most objects in one image, as Ultralytics does.
    public var maxDetections = 300
    /// `imgsz` for dynamic-size models (fixed-size models use their input shape); nil: the
    /// export's `imgsz`, the size `pcb serve` letterboxes to (640 when the export has none).
    public var imageSize: Int?
    public var letterbox: EvaluationLetterbox = .validation
    public var threads = 1
    /// The convolutions' number format (`pcb eval --precision`).
    public var precision: Precision = .fp32
    /// Mirror images each image is also run on, outputs averaged (the operating point's).
    public var flips: TestTimeFlips = .none

    public init() {}
}

/// The outcome of an evaluation.
public struct EvaluationResult: Sendable {
    public var metrics: DetectionMetrics
    /// Model class names (the per-class rows use these).
    public var classNames: [String]
    public var verdicts: VerdictConfusion?
    public var images: Int
    public var instances: Int
    /// Wall time of the whole loop and of inference alone.
    public var seconds: Double
    public var inferenceSeconds: Double
    public var modelPath: String
    public var dataPath: String
    public var split: String
    public var options: EvaluationOptions
    /// Input shape of the first image (height, width), for the report.
    public var inputShape: (height: Int, width: Int)
    public var modelDescription: String
    public var warnings: [String]
    /// Images the anomaly model fired on, when the verdicts are the hybrid ones.
    public var anomalyFired: Int? = nil
    /// What the golden boards did, when the verdicts were checked against them.
    public var golden: GoldenSummary? = nil

    public var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
}

/// What the golden-board check did over an evaluation.
public struct GoldenSummary: Sendable, Equatable {
    /// Boxes dropped because their region matched the image's golden board.
    public var suppressedBoxes = 0
    /// Images that did not register to their golden board.
    public var unregistered = 0
    /// Images the `perImage` folder had no golden board for.
    public var withoutGolden = 0
    /// Anomaly firings not counted: every cell fired on matched the golden board.
    public var anomalyVetted = 0
}

/// An Ultralytics detection ONNX model on NeuralEngine, fed with `InputGeometry` inputs.
public final class EvaluationModel: @unchecked Sendable {
    public var classNames: [String] { model.classNames }
    public var metadata: UltralyticsMetadata { model.metadata }
    /// Fixed input (height, width), nil when height and width are dynamic.
    public var fixedInput: (height: Int, width: Int)? { model.fixedInput }
    public var fixedBatch: Int? { model.fixedBatch }
    public var postprocessor: YOLOPostprocessor
    public let description: String
    private let model: YOLOModelFile

    public init(path: String, threads: Int, precision: Precision = .fp32, flips: TestTimeFlips = .none, postprocessor: YOLOPostprocessor) throws {
        model = try YOLOModelFile(path: path, threads: threads, precision: precision, flips: flips)
        self.postprocessor = postprocessor
        description = "\(model.fileName) (\(model.classNames.count) classes, \(model.fixedInput.map { "\($0.width)x\($0.height)" } ?? "dynamic") input\(flips.descriptionSuffix))"
    }

    /// The `imgsz` a dynamic-size model runs at: the option, else the export's, else 640.
    public func imageSize(_ options: EvaluationOptions) -> (height: Int, width: Int) {
        options.imageSize.map { ($0, $0) } ?? model.exportedImageSize
    }

    /// The input geometry of an image.
    public func geometry(frameWidth: Int, frameHeight: Int, options: EvaluationOptions) -> InputGeometry {
        switch options.letterbox {
        case .validation:
            let (height, width) = fixedInput ?? imageSize(options)
            return .validation(frameWidth: frameWidth, frameHeight: frameHeight, imageSize: max(height, width), fixedInput: fixedInput,
                               stride: metadata.stride)
        case .serving:
            let target = fixedInput ?? imageSize(options)
            return .serving(frameWidth: frameWidth, frameHeight: frameHeight, target: target, stride: metadata.stride,
                            dynamicSize: fixedInput == nil)
        }
    }

    /// NMS output in input pixels, highest score first.
    public func predict(_ frame: RGBImage, geometry: InputGeometry) throws -> [RawDetection] {
        try predict(frame, geometry: geometry, also: nil).boxes
    }

    /// NMS output of one model run under `postprocessor` and, when given, under a second one
    /// (the server's, for the verdicts), both in input pixels.
    public func predict(_ frame: RGBImage, geometry: InputGeometry, also second: YOLOPostprocessor?) throws
        -> (boxes: [RawDetection], second: [RawDetection]) {
        let batch = fixedBatch ?? 1
        var values = geometry.input(from: frame)
        if batch > 1 { values += [Float](repeating: Float(114) / 255, count: (batch - 1) * values.count) }
        let output = try model.run(Tensor(shape: [batch, 3, geometry.inputHeight, geometry.inputWidth], floats: values))
        let anchors = output.shape[2]
        let floats = output.floats
        let classCount = classNames.count
        return floats.withUnsafeBufferPointer { buffer in
            let first = UnsafeBufferPointer(rebasing: buffer[0..<((4 + classCount) * anchors)])
            return (postprocessor.process(first, classCount: classCount, anchors: anchors),
                    second?.process(first, classCount: classCount, anchors: anchors) ?? [])
        }
    }
}

/// Progress of a running evaluation.
public struct EvaluationProgress: Sendable {
    public var done: Int
    public var total: Int
    public var elapsed: Double
    public var imagesPerSecond: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
}

/// The golden boards an evaluation's images are checked against.
public enum GoldenReferences: Sendable {
    /// One product: every image is a view of this board (`pcb eval --reference`).
    case one(GoldenBoard)
    /// A golden board per image, in a folder, under the image's file name (`pcb eval --references`):
    /// a set of many products, such as DeepPCB's pairs. An image without one is judged by the
    /// detector alone.
    case perImage(folder: String, tolerance: GoldenTolerance = GoldenTolerance())

    /// How the warnings name them.
    var name: String {
        switch self {
        case .one: return "golden board"
        case .perImage(let folder, _): return "golden boards of \(folder)"
        }
    }

    /// The golden board of the image at `path`; nil when the folder has none for it. `last` is
    /// the board prepared for the image before: images that share a golden file (links to one
    /// template, as a pair's tested and repaired boards do) take it without preparing it again.
    func board(forImage path: String, last: inout (file: String, board: GoldenBoard)?) throws -> GoldenBoard? {
        switch self {
        case .one(let board): return board
        case .perImage(let folder, let tolerance):
            let goldenPath = (folder as NSString).appendingPathComponent((path as NSString).lastPathComponent)
            guard FileManager.default.fileExists(atPath: goldenPath) else { return nil }
            let file = URL(fileURLWithPath: goldenPath).resolvingSymlinksInPath().path
            if let last, last.file == file { return last.board }
            guard let data = FileManager.default.contents(atPath: goldenPath) else { throw EvaluationError.dataset("cannot read \(goldenPath)") }
            let board: GoldenBoard
            do { board = try GoldenBoard(reference: try JPEGCodec().decode([UInt8](data)), tolerance: tolerance) } catch {
                throw EvaluationError.dataset("golden board \(goldenPath): \(error)")
            }
            last = (file, board)
            return board
        }
    }
}

/// Evaluates a model on a dataset split.
public struct DetectionEvaluator {
    public var options: EvaluationOptions

    public init(options: EvaluationOptions = EvaluationOptions()) {
        self.options = options
    }

    /// Runs the evaluation.
    /// - Parameters:
    ///   - policy: judges board verdicts; nil skips the verdict confusion.
    ///   - progress: called after every image.
    ///   - reference: the golden boards the images are views of: the verdicts count only boxes
    ///     over regions that differ from an image's golden board, as the server does.
    ///   - anomaly: the detector with its anomaly model, as `pcb serve --anomaly` loads it: a
    ///     frame it fires on is judged with the policy's anomaly category (the hybrid verdict).
    ///     Its own boxes are not used; the verdicts' boxes stay the evaluated model's.
    public func evaluate(modelPath: String, dataset: YOLODataset, split: String, policy: DefectPolicy?, reference: GoldenReferences? = nil,
                         anomaly: HybridDetector? = nil,
                         progress: (EvaluationProgress) -> Void = { _ in }) throws -> EvaluationResult {
        guard (0...1).contains(options.headlineIoU) else { throw EvaluationError.invalid("--iou must be between 0 and 1") }
        let images = try dataset.imagePaths(split: split)
        var labels: [[LabelBox]] = []
        labels.reserveCapacity(images.count)
        for image in images { labels.append(try dataset.labels(forImage: image)) }

        var postprocessor = YOLOPostprocessor(confidenceThreshold: options.confidence, iouThreshold: options.nmsIoU,
                                              maxDetections: options.maxDetections, multiLabel: true)
        // Ultralytics raises max_det to the most objects in one image when that is larger.
        postprocessor.maxDetections = max(options.maxDetections, labels.map(\.count).max() ?? 0)
        let model: EvaluationModel
        do { model = try EvaluationModel(path: modelPath, threads: options.threads, precision: options.precision, flips: options.flips,
                                                 postprocessor: postprocessor) } catch let error as EvaluationError {
            throw error
        } catch {
            throw EvaluationError.model("cannot load \(modelPath): \(error)")
        }

        var warnings: [String] = []
        if model.classNames.count < dataset.names.count {
            warnings.append("the model has \(model.classNames.count) classes, the dataset \(dataset.names.count): labels of classes the model cannot predict are skipped (as Ultralytics does)")
        }
        if Array(dataset.names.prefix(model.classNames.count)) != model.classNames {
            warnings.append("the model's class names differ from the dataset's; metrics pair classes by index")
        }
        if let policy {
            let unmapped = model.classNames.filter { policy.classCategories[$0] == nil }
            if !unmapped.isEmpty {
                warnings.append("the policy does not map \(unmapped.joined(separator: ", ")); such boxes count as '\(policy.failSafeCategory.rawValue)'")
            }
        }

        // The headline IoU is a column of the matching; a value off the standard grid is appended.
        var thresholds = DetectionMatching.standardThresholds
        var headlineColumn = thresholds.firstIndex { abs($0 - options.headlineIoU) < 1e-6 } ?? -1
        if headlineColumn < 0 {
            thresholds.append(options.headlineIoU)
            headlineColumn = thresholds.count - 1
        }
        var statistics = DetectionStatistics(thresholds: thresholds)
        var confusion = policy.map { _ in VerdictConfusion() }
        // Verdicts come from the boxes the server would act on: its NMS (one class per box) at
        // the policy's thresholds (calibrated per class or not), not the validator's
        // multi-label list at `conf`.
        let serving = policy.map { YOLOPostprocessor(confidenceThreshold: $0.lowestThreshold, iouThreshold: options.nmsIoU) }
        let codec = JPEGCodec()
        let start = Date()
        var inferenceSeconds = 0.0
        var firstInput: (Int, Int) = (0, 0)
        var golden = GoldenSummary(), anomalies = 0
        var lastGolden: (file: String, board: GoldenBoard)? = nil
        for (index, path) in images.enumerated() {
            guard let data = FileManager.default.contents(atPath: path) else { throw EvaluationError.dataset("cannot read \(path)") }
            let frame: RGBImage
            do { frame = try codec.decode([UInt8](data)) } catch {
                let ext = (path as NSString).pathExtension.lowercased()
                throw EvaluationError.dataset(ext == "jpg" || ext == "jpeg"
                    ? "\(path): \(error)" : "\(path): only JPEG images can be evaluated (\(error))")
            }
            let geometry = model.geometry(frameWidth: frame.width, frameHeight: frame.height, options: options)
            if index == 0 { firstInput = (geometry.inputHeight, geometry.inputWidth) }
            let inferenceStart = Date()
            let (raw, servingBoxes) = try model.predict(frame, geometry: geometry, also: serving)
            inferenceSeconds += Date().timeIntervalSince(inferenceStart)

            let truth = labels[index].filter { $0.classIndex < model.classNames.count }
            let predictions = raw.map { EvaluationBox(x1: $0.x1, y1: $0.y1, x2: $0.x2, y2: $0.y2, classIndex: $0.classIndex, confidence: $0.score) }
            statistics.add(predictions: predictions, groundTruth: truth.map(geometry.inputBox))

            if let policy {
                let truthDefects = truth.map { label in
                    DetectedDefect(className: dataset.names[label.classIndex], confidence: 1,
                                   x1: (label.cx - label.w / 2) * Float(frame.width), y1: (label.cy - label.h / 2) * Float(frame.height),
                                   x2: (label.cx + label.w / 2) * Float(frame.width), y2: (label.cy + label.h / 2) * Float(frame.height))
                }
                let predicted = servingBoxes.map { box in
                    let (x1, y1, x2, y2) = geometry.frameBox(x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2)
                    return DetectedDefect(className: model.classNames[box.classIndex], confidence: box.score, x1: x1, y1: y1, x2: x2, y2: y2)
                }
                let finding = try anomaly?.inspect([frame]).first?.anomaly
                let fired = finding?.fired ?? false
                if fired { anomalies += 1 }
                let board = try reference?.board(forImage: path, last: &lastGolden)
                if reference != nil, board == nil { golden.withoutGolden += 1 }
                let counted = board.map { $0.check(predicted, in: frame, anomalyCells: fired ? finding?.firedCells ?? [] : []) }
                if let counted, !counted.registered { golden.unregistered += 1 }
                golden.suppressedBoxes += counted?.suppressed.count ?? 0
                if counted?.anomalyVetted == true { golden.anomalyVetted += 1 }
                confusion?.add(truth: policy.judge(truthDefects).category.code,
                               predicted: policy.judge(counted?.keptBoxes ?? predicted, anomalyFired: counted?.anomalyCounts(fired: fired) ?? fired).category.code)
            }
            progress(EvaluationProgress(done: index + 1, total: images.count, elapsed: Date().timeIntervalSince(start)))
        }
        let metrics = statistics.compute(headlineColumn: headlineColumn)
        if let anomaly, policy != nil {
            warnings.append("hybrid verdicts: the anomaly model (\(anomaly.modelDescription)) fired on \(anomalies) of \(images.count) images")
        }
        if let reference, policy != nil {
            let missing = golden.withoutGolden > 0 ? "; \(golden.withoutGolden) had no golden board (judged by the detector alone)" : ""
            let vetted = anomaly != nil ? "; \(golden.anomalyVetted) anomaly firings not counted (every cell fired on matched)" : ""
            warnings.append("\(reference.name): \(golden.suppressedBoxes) boxes suppressed over unchanged regions; \(golden.unregistered) of \(images.count) images did not register to it (judged by the detector alone)\(missing)\(vetted)")
        }
        return EvaluationResult(
            metrics: metrics, classNames: model.classNames, verdicts: confusion, images: images.count,
            instances: statistics.targetClasses.count, seconds: Date().timeIntervalSince(start), inferenceSeconds: inferenceSeconds,
            modelPath: modelPath, dataPath: dataset.yamlPath, split: split, options: options, inputShape: firstInput,
            modelDescription: model.description, warnings: warnings, anomalyFired: anomaly != nil && policy != nil ? anomalies : nil,
            golden: reference != nil && policy != nil ? golden : nil)
    }
}

/// Board verdicts: ground-truth category (policy on the labels) against predicted category.
public struct VerdictConfusion: Sendable, Equatable {
    /// Row and column order.
    public static let categories: [CategoryCode] = [.normal, .componentDefect, .solderDefect, .discard]
    /// counts[truth][predicted], indexes into `categories`.
    public private(set) var counts: [[Int]] = Array(repeating: Array(repeating: 0, count: 4), count: 4)

    public init() {}

    public mutating func add(truth: CategoryCode, predicted: CategoryCode) {
        counts[Self.categories.firstIndex(of: truth)!][Self.categories.firstIndex(of: predicted)!] += 1
    }

    /// False calls, escapes and wrong categories of these verdicts.
    public var outcomes: VerdictOutcomes {
        var outcomes = VerdictOutcomes()
        for (i, truth) in Self.categories.enumerated() {
            for (j, predicted) in Self.categories.enumerated() where counts[i][j] > 0 {
                outcomes.add(truth: truth, verdict: predicted, count: counts[i][j])
            }
        }
        return outcomes
    }

    public var total: Int { counts.joined().reduce(0, +) }
    public var correct: Int { (0..<4).reduce(0) { $0 + counts[$1][$1] } }
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
}
