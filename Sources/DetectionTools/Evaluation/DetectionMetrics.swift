// Detection metrics exactly as Ultralytics' DetectionValidator computes them (8.4.x):
// `match_predictions`, `ap_per_class`, `compute_ap` and `smooth` of ultralytics/utils/metrics.py,
// reimplemented.
//
// Per image: every prediction (highest confidence first) is matched, at each IoU threshold
// separately, to the best not-yet-claimed ground-truth box of its class; it is a true positive
// at that threshold when that IoU reaches it. Over the dataset, per class with ground truth:
//
//   sort predictions by confidence, descending
//   recall    = cumulative TP / ground-truth count        precision = cumulative TP / rank
//   envelope  = running max of precision from the right  (sentinels r 0 -> p 1, r end -> p 0)
//   AP        = trapezoid integral of the envelope sampled at recall 0, 0.01, ..., 1 (101 points)
//
// mAP averages over the classes present in the ground truth (a class never predicted counts 0).
// Precision and recall are reported at the confidence where the class-mean F1 curve, smoothed
// by a box filter, peaks.

/// A box in model-input pixels with a class and (for predictions) a confidence.
public struct EvaluationBox: Sendable, Equatable {
    public var x1: Float, y1: Float, x2: Float, y2: Float
    public var classIndex: Int
    public var confidence: Float

    public init(x1: Float, y1: Float, x2: Float, y2: Float, classIndex: Int, confidence: Float = 1) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
        self.classIndex = classIndex
        self.confidence = confidence
    }
}

/// IoU-threshold grid and per-image matching.
public enum DetectionMatching {
    /// `torch.linspace(0.5, 0.95, 10)` in float32 (the literals are exact).
    public static let standardThresholds: [Float] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]

    /// Ultralytics' `box_iou`: float32, `inter / (area1 + area2 - inter + 1e-7)`.
    public static func iou(_ a: EvaluationBox, _ b: EvaluationBox) -> Float {
        let w = max(min(a.x2, b.x2) - max(a.x1, b.x1), 0)
        let h = max(min(a.y2, b.y2) - max(a.y1, b.y1), 0)
        let intersection = w * h
        let union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection
        return intersection / (union + 1e-7)
    }

    /// Which predictions are correct at each threshold (`match_predictions`, greedy variant).
    ///
    /// - Parameters:
    ///   - predictions: in descending confidence order (as NMS returns them).
    ///   - groundTruth: the image's objects.
    /// - Returns: `predictions.count` rows of `thresholds.count` flags.
    public static func match(predictions: [EvaluationBox], groundTruth: [EvaluationBox],
                             thresholds: [Float] = standardThresholds) -> [[Bool]] {
        let t = thresholds.count
        var correct = [[Bool]](repeating: [Bool](repeating: false, count: t), count: predictions.count)
        guard !predictions.isEmpty, !groundTruth.isEmpty, let lowest = thresholds.min() else { return correct }
        // claimed[g][k]: ground truth g already matched at threshold k.
        var claimed = [[Bool]](repeating: [Bool](repeating: false, count: t), count: groundTruth.count)
        var column = [Float](repeating: 0, count: groundTruth.count)
        for (j, prediction) in predictions.enumerated() {
            var any = false
            for (g, truth) in groundTruth.enumerated() {
                // IoU with a box of another class is zero.
                column[g] = truth.classIndex == prediction.classIndex ? iou(truth, prediction) : 0
                if column[g] >= lowest { any = true }
            }
            if !any { continue }
            for k in 0..<t {
                // Best unclaimed ground truth at this threshold; the first one on ties (argmax).
                var best = 0
                var bestValue: Float = -1
                for g in 0..<groundTruth.count {
                    let value: Float = claimed[g][k] ? 0 : column[g]
                    if value > bestValue {
                        bestValue = value
                        best = g
                    }
                }
                if bestValue >= thresholds[k] {
                    correct[j][k] = true
                    claimed[best][k] = true
                }
            }
        }
        return correct
    }
}

/// Everything `ap_per_class` needs, gathered image by image.
public struct DetectionStatistics: Sendable {
    /// IoU thresholds of the `correct` columns.
    public let thresholds: [Float]
    public private(set) var correct: [[Bool]] = []
    public private(set) var confidences: [Float] = []
    public private(set) var predictedClasses: [Int] = []
    public private(set) var targetClasses: [Int] = []
    /// Per class: images that contain it.
    public private(set) var imagesPerClass: [Int: Int] = [:]
    public private(set) var imageCount = 0

    public init(thresholds: [Float] = DetectionMatching.standardThresholds) {
        self.thresholds = thresholds
    }

    /// Adds one image: its predictions (descending confidence) and ground truth, same coordinates.
    public mutating func add(predictions: [EvaluationBox], groundTruth: [EvaluationBox]) {
        imageCount += 1
        correct += DetectionMatching.match(predictions: predictions, groundTruth: groundTruth, thresholds: thresholds)
        confidences += predictions.map(\.confidence)
        predictedClasses += predictions.map(\.classIndex)
        targetClasses += groundTruth.map(\.classIndex)
        for c in Set(groundTruth.map(\.classIndex)) { imagesPerClass[c, default: 0] += 1 }
    }

    /// Adds precomputed rows (tests).
    public mutating func add(correct rows: [[Bool]], confidences: [Float], predictedClasses: [Int], targetClasses: [Int]) {
        precondition(rows.count == confidences.count && rows.count == predictedClasses.count)
        imageCount += 1
        correct += rows
        self.confidences += confidences
        self.predictedClasses += predictedClasses
        self.targetClasses += targetClasses
        for c in Set(targetClasses) { imagesPerClass[c, default: 0] += 1 }
    }
}

/// AP, precision and recall of one class that has ground truth.
public struct ClassMetrics: Sendable {
    public var classIndex: Int
    /// AP at every threshold of the statistics.
    public var ap: [Double]
    /// Ground-truth objects and images containing the class.
    public var instances: Int
    public var images: Int
    /// At the max-mean-F1 confidence and the headline IoU.
    public var precision: Double
    public var recall: Double
    /// Precision envelope at recall `DetectionMetrics.curveRecall` (headline IoU).
    public var precisionCurve: [Double]

    public var ap50: Double { ap[0] }
    /// Mean AP over the ten standard thresholds (the first ten columns).
    public var ap50to95: Double { ap.prefix(10).reduce(0, +) / Double(min(ap.count, 10)) }
}

/// The dataset-level result.
public struct DetectionMetrics: Sendable {
    /// Classes with ground truth, ascending index.
    public var classes: [ClassMetrics]
    /// Recall axis of the precision curves (1000 points, 0...1).
    public var curveRecall: [Double]
    /// Confidence where the smoothed mean F1 peaks (P and R are read there).
    public var bestConfidence: Double
    /// IoU threshold of `precision`, `recall` and the curves.
    public var headlineIoU: Float
    /// Column of `ClassMetrics.ap` at `headlineIoU`.
    public var headlineColumn: Int

    public var map50: Double { mean(classes.map(\.ap50)) }
    public var map50to95: Double { mean(classes.map(\.ap50to95)) }
    public var precision: Double { mean(classes.map(\.precision)) }
    public var recall: Double { mean(classes.map(\.recall)) }
    /// Class-mean AP at the headline IoU.
    public var mapHeadline: Double { mean(classes.map { $0.ap[headlineColumn] }) }
    /// Class-mean precision curve.
    public var meanPrecisionCurve: [Double] {
        guard !classes.isEmpty else { return [Double](repeating: 0, count: curveRecall.count) }
        return (0..<curveRecall.count).map { i in classes.reduce(0) { $0 + $1.precisionCurve[i] } / Double(classes.count) }
    }

    private func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
}

extension DetectionStatistics {
    /// `ap_per_class`: AP per class and threshold, P and R at the best mean F1.
    /// - Parameter headlineColumn: the threshold column for P, R and the precision curve (0: IoU 0.5).
    public func compute(headlineColumn: Int = 0) -> DetectionMetrics {
        let x = APMath.linspace(0, 1, 1000)
        // Sort by confidence, descending (stable; numpy's quicksort order on exact ties is unspecified).
        let order = confidences.indices.sorted { confidences[$0] > confidences[$1] }
        let t = thresholds.count
        var instances: [Int: Int] = [:]
        for c in targetClasses { instances[c, default: 0] += 1 }
        let classIndexes = instances.keys.sorted()

        var results: [ClassMetrics] = []
        var pCurves: [[Double]] = [], rCurves: [[Double]] = []
        for c in classIndexes {
            let nl = instances[c]!
            let rows = order.filter { predictedClasses[$0] == c }
            var ap = [Double](repeating: 0, count: t)
            var pCurve = [Double](repeating: 0, count: x.count), rCurve = pCurve, precisionCurve = pCurve
            if !rows.isEmpty {
                let negativeConfidence = rows.map { -Double(confidences[$0]) }
                var recall = [[Double]](repeating: [], count: t), precision = recall
                for k in 0..<t {
                    var tp = 0
                    recall[k].reserveCapacity(rows.count)
                    precision[k].reserveCapacity(rows.count)
                    for (rank, row) in rows.enumerated() {
                        if correct[row][k] { tp += 1 }
                        recall[k].append(Double(tp) / (Double(nl) + 1e-16))
                        precision[k].append(Double(tp) / Double(rank + 1))
                    }
                }
                let minusX = x.map { -$0 }
                rCurve = APMath.interp(minusX, negativeConfidence, recall[headlineColumn], left: 0)
                pCurve = APMath.interp(minusX, negativeConfidence, precision[headlineColumn], left: 1)
                for k in 0..<t {
                    let (value, envelope, recallAxis) = APMath.averagePrecision(recall: recall[k], precision: precision[k])
                    ap[k] = value
                    if k == headlineColumn { precisionCurve = APMath.interp(x, recallAxis, envelope) }
                }
            }
            pCurves.append(pCurve)
            rCurves.append(rCurve)
            results.append(ClassMetrics(classIndex: c, ap: ap, instances: nl, images: imagesPerClass[c] ?? 0,
                                        precision: 0, recall: 0, precisionCurve: precisionCurve))
        }
        var best = 0
        if !results.isEmpty {
            let meanF1 = (0..<x.count).map { i in
                var sum = 0.0
                for ci in results.indices {
                    let p = pCurves[ci][i], r = rCurves[ci][i]
                    sum += 2 * p * r / (p + r + 1e-16)
                }
                return sum / Double(results.count)
            }
            best = APMath.argmax(APMath.smooth(meanF1, fraction: 0.1))
            for ci in results.indices {
                results[ci].precision = pCurves[ci][best]
                results[ci].recall = rCurves[ci][best]
            }
        }
        return DetectionMetrics(classes: results, curveRecall: x, bestConfidence: x[best],
                                headlineIoU: thresholds[headlineColumn], headlineColumn: headlineColumn)
    }
}

/// The numeric pieces of `ap_per_class`, with numpy's semantics.
public enum APMath {
    /// `np.linspace(start, stop, count)`: `start + i * step`, the last value exactly `stop`.
    public static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }

    /// `np.interp(x, xp, fp, left, right)` for non-decreasing `xp`: linear between the last
    /// `xp[j] <= x` and the next point, `fp[j]` where `xp[j] == x`, `left`/`right` outside.
    public static func interp(_ x: [Double], _ xp: [Double], _ fp: [Double], left: Double? = nil, right: Double? = nil) -> [Double] {
        precondition(xp.count == fp.count && !xp.isEmpty)
        let n = xp.count
        let leftValue = left ?? fp[0], rightValue = right ?? fp[n - 1]
        return x.map { value in
            if value > xp[n - 1] { return rightValue }
            if value < xp[0] { return leftValue }
            // Last j with xp[j] <= value.
            var low = 0, high = n
            while low < high {
                let mid = (low + high) / 2
                if value >= xp[mid] { low = mid + 1 } else { high = mid }
            }
            let j = low - 1
            if j == n - 1 || xp[j] == value { return fp[j] }
            let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
            return slope * (value - xp[j]) + fp[j]
        }
    }

    /// `compute_ap`: 101-point interpolated AP of one recall/precision curve, with the precision
    /// envelope and the recall axis it is defined on (sentinels included).
    public static func averagePrecision(recall: [Double], precision: [Double]) -> (ap: Double, envelope: [Double], recall: [Double]) {
        let mrec = [0.0] + recall + [recall.last ?? 1.0, 1.0]
        var mpre = [1.0] + precision + [0.0, 0.0]
        if mpre.count > 1 {
            for i in stride(from: mpre.count - 2, through: 0, by: -1) { mpre[i] = max(mpre[i], mpre[i + 1]) }
        }
        let x = linspace(0, 1, 101)
        let y = interp(x, mrec, mpre)
        return (trapezoid(y, x), mpre, mrec)
    }

    /// `np.trapezoid(y, x)`.
    public static func trapezoid(_ y: [Double], _ x: [Double]) -> Double {
        guard y.count > 1 else { return 0 }
        var sum = 0.0
        for i in 0..<(y.count - 1) { sum += (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2 }
        return sum
    }

    /// Ultralytics' `smooth`: box filter `round(n * fraction * 2) / 2 * 2 + 1` wide, ends padded
    /// with the end values.
    public static func smooth(_ y: [Double], fraction: Double) -> [Double] {
        guard !y.isEmpty else { return y }
        let width = Int((Double(y.count) * fraction * 2).rounded(.toNearestOrEven)) / 2 + 1
        let half = width / 2
        let padded = [Double](repeating: y[0], count: half) + y + [Double](repeating: y[y.count - 1], count: half)
        let weight = 1.0 / Double(width)
        return (0..<(padded.count - width + 1)).map { start in
            var sum = 0.0
            for i in start..<(start + width) { sum += padded[i] * weight }
            return sum
        }
    }

    /// Index of the first maximum.
    public static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
