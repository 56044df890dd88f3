// The defect policy: which category each model class belongs to, which category wins,
// and the sorter signal of each. Loaded from `data/pcb_defects.yaml` (see
// `DefectPolicy+YAML.swift`) and validated once at start; pure logic afterwards.

/// Maps detections to verdicts by the configured priority (discard > solder > component > normal).
///
/// ```swift
/// let policy = try DefectPolicy.load(yaml: text, fileName: "pcb_defects.yaml")
/// let verdict = policy.judge(boxes)          // one frame
/// let board = policy.combine([left, right])  // both sides of a board
/// ```
public struct DefectPolicy: Sendable, Equatable {
    /// Boxes below this confidence are not detections (classes without their own threshold).
    public var confidenceThreshold: Float
    /// Per-class thresholds of a calibrated operating point (`OperatingPoint`), overriding
    /// `confidenceThreshold` for their classes.
    public var classThresholds: [String: Float] = [:]
    /// Categories in priority order: the first one present wins.
    public private(set) var categoriesByPriority: [DefectCategory]
    /// Model class name -> category code.
    public private(set) var classCategories: [String: CategoryCode]
    /// Verdict for a board whose second side never arrived.
    public var failSafeCategory: CategoryCode
    /// Verdict category of a frame whose anomaly score is above the anomaly model's threshold.
    public var anomalyCategory: CategoryCode = .discard

    public init(
        confidenceThreshold: Float,
        categoriesByPriority: [DefectCategory],
        classCategories: [String: CategoryCode],
        failSafeCategory: CategoryCode
    ) throws(PolicyError) {
        self.confidenceThreshold = confidenceThreshold
        self.categoriesByPriority = categoriesByPriority
        self.classCategories = classCategories
        self.failSafeCategory = failSafeCategory
        try validate()
    }

    /// The category with this code (every code is present after validation).
    public func category(_ code: CategoryCode) -> DefectCategory {
        categoriesByPriority.first { $0.code == code }!
    }

    /// The category whose wire label is `label`, if any.
    public func category(label: String) -> DefectCategory? {
        categoriesByPriority.first { $0.label == label }
    }

    /// Rank of a category: 0 is the highest priority.
    public func rank(_ code: CategoryCode) -> Int {
        categoriesByPriority.firstIndex { $0.code == code }!
    }

    /// The verdict for one frame with the anomaly model's say: when it fired, the anomaly
    /// category joins the boxes' categories and the highest priority wins as usual.
    public func judge(_ detections: [DetectedDefect], anomalyFired: Bool) -> SideVerdict {
        var verdict = judge(detections)
        if anomalyFired, rank(anomalyCategory) < rank(verdict.category.code) {
            verdict.category = category(anomalyCategory)
            if verdict.boxes.isEmpty { verdict.confidence = 1.0 }
        }
        return verdict
    }

    /// The confidence a box of `className` needs to count.
    public func threshold(for className: String) -> Float {
        classThresholds[className] ?? confidenceThreshold
    }

    /// The lowest threshold of any class: what a detector must keep for `judge` to decide.
    public var lowestThreshold: Float {
        classThresholds.values.reduce(confidenceThreshold, min)
    }

    /// The verdict for one frame: the highest-priority category among the boxes at or above
    /// their class's threshold; confidence is the highest box confidence (1.0 when nothing was found).
    public func judge(_ detections: [DetectedDefect]) -> SideVerdict {
        let kept = detections.filter { $0.confidence >= threshold(for: $0.className) }
        guard let best = kept.map(\.confidence).max() else {
            return SideVerdict(category: category(.normal), confidence: 1.0, boxes: [])
        }
        // An unmapped class cannot happen after `validate(modelClasses:)`; if a detector
        // still reports one, treat it as the fail-safe category rather than as normal.
        let codes = kept.map { classCategories[$0.className] ?? failSafeCategory }
        return SideVerdict(category: category(highestPriority(codes)), confidence: best, boxes: kept)
    }

    /// The category that wins among `codes` (normal when empty).
    public func highestPriority(_ codes: some Sequence<CategoryCode>) -> CategoryCode {
        var best = CategoryCode.normal
        for code in codes where rank(code) < rank(best) { best = code }
        return best
    }

    /// The verdict for several sides of one board: priority over the sides; confidence of the
    /// winning category's sides (the highest among them).
    public func combine(_ sides: [SideVerdict]) -> SideVerdict {
        let winner = highestPriority(sides.map(\.category.code))
        let confidence = sides.filter { $0.category.code == winner }.map(\.confidence).max() ?? 1.0
        return SideVerdict(category: category(winner), confidence: confidence, boxes: sides.flatMap(\.boxes))
    }

    /// Refuses a model whose classes are not all mapped by this policy.
    public func validate(modelClasses: [String]) throws(PolicyError) {
        let unmapped = modelClasses.filter { classCategories[$0] == nil }
        if !unmapped.isEmpty {
            throw .unmappedModelClasses(unmapped, known: classCategories.keys.sorted())
        }
    }

    private func validate() throws(PolicyError) {
        guard (0...1).contains(confidenceThreshold) else {
            throw .invalid("confidence_threshold must be between 0 and 1, got \(confidenceThreshold)", line: nil)
        }
        for code in CategoryCode.allCases where !categoriesByPriority.contains(where: { $0.code == code }) {
            throw .invalid("category '\(code.rawValue)' is not defined (the line needs all of \(CategoryCode.allCases.map(\.rawValue)))", line: nil)
        }
        var pins: [Int: CategoryCode] = [:]
        var labels: Set<String> = []
        for category in categoriesByPriority {
            if let other = pins[category.gpio.pin] {
                throw .invalid("GPIO pin \(category.gpio.pin) is given to both '\(other.rawValue)' and '\(category.code.rawValue)'", line: nil)
            }
            pins[category.gpio.pin] = category.code
            if !labels.insert(category.label).inserted {
                throw .invalid("label '\(category.label)' is used by two categories", line: nil)
            }
        }
    }
}
