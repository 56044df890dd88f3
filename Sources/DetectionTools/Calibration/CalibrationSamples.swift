// The calibration set as the calibrator reads it: each image of a dataset split run once
// through the model as the server runs it (its letterbox, its NMS: one class per box), kept
// as its true category and its best box confidence per class.

import Detection
import Foundation
import ImageKit
import Inspection

extension CalibrationSample {
    /// Runs `modelPath` over `split` of `dataset`.
    ///
    /// - Parameters:
    ///   - flips: mirror images each image is also run on (recorded in the operating point).
    ///   - floor: boxes below this confidence are not kept (the lowest threshold worth trying).
    ///   - progress: (done, total) after every image.
    public static func collect(modelPath: String, dataset: YOLODataset, split: String, policy: DefectPolicy, threads: Int,
                               imageSize: Int? = nil, flips: TestTimeFlips = .none, floor: Float = 0.01,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> (samples: [CalibrationSample], classNames: [String]) {
        let images = try dataset.imagePaths(split: split)
        let model: EvaluationModel
        do {
            model = try EvaluationModel(path: modelPath, threads: threads, flips: flips,
                                        postprocessor: YOLOPostprocessor(confidenceThreshold: floor, iouThreshold: 0.7))
        } catch {
            throw EvaluationError.model("cannot load \(modelPath): \(error)")
        }
        var options = EvaluationOptions()
        options.letterbox = .serving
        options.imageSize = imageSize
        let codec = JPEGCodec()
        var samples: [CalibrationSample] = []
        for (index, path) in images.enumerated() {
            guard let data = FileManager.default.contents(atPath: path) else { throw EvaluationError.dataset("cannot read \(path)") }
            let frame: RGBImage
            do { frame = try codec.decode([UInt8](data)) } catch { throw EvaluationError.dataset("\(path): \(error)") }
            let labels = try dataset.labels(forImage: path).filter { $0.classIndex < dataset.names.count }
            let truth = policy.judge(labels.map {
                DetectedDefect(className: dataset.names[$0.classIndex], confidence: 1, x1: 0, y1: 0, x2: 1, y2: 1)
            }).category.code
            var best = [Float](repeating: 0, count: model.classNames.count)
            let geometry = model.geometry(frameWidth: frame.width, frameHeight: frame.height, options: options)
            for box in try model.predict(frame, geometry: geometry) where box.classIndex < best.count {
                best[box.classIndex] = max(best[box.classIndex], box.score)
            }
            samples.append(CalibrationSample(truth: truth, bestScores: best))
            progress(index + 1, images.count)
        }
        return (samples, model.classNames)
    }
}
