// Decoding of the YOLOv8/YOLO11 detection head and class-wise non-maximum suppression, with
// Ultralytics' defaults and rules (conf 0.25 strict, IoU 0.7, at most 300 boxes).
//
// The raw output of one image, `(4 + nc, N)` with N anchor points (8400 at 640x640):
//
//          anchor 0   anchor 1   ...   anchor N-1
//   row 0   cx         cx               cx          box centre x   (input pixels)
//   row 1   cy         cy               cy          box centre y
//   row 2   w          w                w           box width
//   row 3   h          h                h           box height
//   row 4   score c0   score c0         score c0    class scores, already sigmoid
//   ...
//   row 3+nc score c(nc-1)
//
// The layout is column-per-candidate, so a candidate's values are `N` floats apart.

/// A candidate box in model-input pixels.
public struct RawDetection: Sendable, Equatable {
    public var x1: Float, y1: Float, x2: Float, y2: Float
    public var score: Float
    public var classIndex: Int
}

/// Ultralytics-compatible post-processing of one image's `(4 + nc, N)` output.
public struct YOLOPostprocessor: Sendable {
    public var confidenceThreshold: Float = 0.25
    public var iouThreshold: Float = 0.7
    public var maxDetections = 300
    /// Keep every (box, class) pair above the threshold, not only each box's best class
    /// (what Ultralytics does when it validates).
    public var multiLabel = false
    /// Candidates kept before NMS (Ultralytics' `max_nms`).
    public var maxCandidates = 30_000

    public init(confidenceThreshold: Float = 0.25, iouThreshold: Float = 0.7, maxDetections: Int = 300, multiLabel: Bool = false) {
        self.confidenceThreshold = confidenceThreshold
        self.iouThreshold = iouThreshold
        self.maxDetections = maxDetections
        self.multiLabel = multiLabel
    }

    /// Boxes that survive the threshold and class-wise NMS, highest score first.
    /// - Parameters:
    ///   - output: `(4 + classCount) * anchors` floats of one image.
    // output: (4 + nc, N) -> [RawDetection] (<= maxDetections)
    public func process(_ output: UnsafeBufferPointer<Float>, classCount: Int, anchors: Int) -> [RawDetection] {
        precondition(output.count >= (4 + classCount) * anchors)
        var candidates: [RawDetection] = []
        for a in 0..<anchors {
            var best: Float = -1
            var bestClass = 0
            for c in 0..<classCount {
                let s = output[(4 + c) * anchors + a]
                if multiLabel {
                    if s > confidenceThreshold, let found = box(output, anchors, a, s, c) { candidates.append(found) }
                } else if s > best {
                    best = s
                    bestClass = c
                }
            }
            if !multiLabel && best > confidenceThreshold, let found = box(output, anchors, a, best, bestClass) {
                candidates.append(found)
            }
        }
        // Stable sort by score, highest first, as torch's argsort(descending) on ties keeps... any
        // order; ties are rare with real scores.
        candidates.sort { $0.score > $1.score }
        if candidates.count > maxCandidates { candidates.removeLast(candidates.count - maxCandidates) }
        return suppress(candidates)
    }

    /// The candidate's box, or nil when the model produced a non-finite value (never a box).
    private func box(_ output: UnsafeBufferPointer<Float>, _ anchors: Int, _ a: Int, _ score: Float, _ c: Int) -> RawDetection? {
        let cx = output[a], cy = output[anchors + a], w = output[2 * anchors + a], h = output[3 * anchors + a]
        guard cx.isFinite, cy.isFinite, w.isFinite, h.isFinite, score.isFinite else { return nil }
        return RawDetection(x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: score, classIndex: c)
    }

    /// Greedy NMS within each class over score-sorted candidates.
    func suppress(_ sorted: [RawDetection]) -> [RawDetection] {
        var kept: [RawDetection] = []
        var keptByClass: [Int: [Int]] = [:]
        for candidate in sorted {
            let others = keptByClass[candidate.classIndex, default: []]
            if others.contains(where: { iou(kept[$0], candidate) > iouThreshold }) { continue }
            keptByClass[candidate.classIndex, default: []].append(kept.count)
            kept.append(candidate)
            if kept.count == maxDetections { break }
        }
        return kept
    }

    func iou(_ a: RawDetection, _ b: RawDetection) -> Float {
        let width = max(0, min(a.x2, b.x2) - max(a.x1, b.x1))
        let height = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
        let intersection = width * height
        let union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection
        return union > 0 ? intersection / union : 0
    }
}
