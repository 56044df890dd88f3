// Which frames the line keeps for labelling: the data a better model is trained on. Pure
// logic; the server keeps one sampler behind a lock and stores each chosen frame's JPEG.
//
//   near_threshold  the frame's deciding box is within `nearMargin` of its class threshold,
//                   above or below: the model was unsure of this verdict
//   normal_sample   one normal frame in every 1/normalShare (a steady look at good boards)
//   review          an operator said the verdict was wrong (chosen by the review, not here)
//
// At most `maxPerDay` frames a local day are chosen here, so the sample stays bounded
// whatever the line's rate (reviews are not counted: people make them one at a time).

/// Why a frame was kept for labelling (stored as `label_reason`).
public enum LabellingReason: String, Sendable, Codable, CaseIterable {
    case nearThreshold = "near_threshold"
    case normalSample = "normal_sample"
    case review
}

/// The sampling rates (`label_*` keys of the server's configuration).
public struct LabellingRule: Sendable, Equatable {
    /// A box this close to its class threshold (either side) makes the frame worth labelling; 0 turns it off.
    public var nearMargin: Float
    /// Share of normal frames kept (0...1); 0 turns it off.
    public var normalShare: Double
    /// Most frames chosen per local day.
    public var maxPerDay: Int

    public init(nearMargin: Float = 0.1, normalShare: Double = 0.01, maxPerDay: Int = 200) {
        self.nearMargin = nearMargin
        self.normalShare = normalShare
        self.maxPerDay = maxPerDay
    }

    /// The defaults of `pcb serve`.
    public static let standard = LabellingRule()
    /// Keeps nothing.
    public static let off = LabellingRule(nearMargin: 0, normalShare: 0, maxPerDay: 0)
}

/// Chooses frames for labelling, one call per judged frame.
public struct LabellingSampler: Sendable {
    public let rule: LabellingRule
    private var day = ""
    private var chosenToday = 0
    private var normalsSinceKept = 0

    public init(rule: LabellingRule) {
        self.rule = rule
    }

    /// The reason to keep this frame, or nil. `boxes` are the detector's boxes the verdict was
    /// judged from, including those below their threshold; `threshold` gives each class's.
    public mutating func choose(boxes: [DetectedDefect], category: CategoryCode, threshold: (String) -> Float,
                                day today: String) -> LabellingReason? {
        if today != day {
            day = today
            chosenToday = 0
        }
        guard chosenToday < rule.maxPerDay else { return nil }
        var reason: LabellingReason? = nil
        if rule.nearMargin > 0, let margin = Self.decidingMargin(boxes, threshold: threshold), abs(margin) <= rule.nearMargin {
            reason = .nearThreshold
        } else if category == .normal, rule.normalShare > 0 {
            normalsSinceKept += 1
            if Double(normalsSinceKept) >= 1 / min(rule.normalShare, 1) {
                normalsSinceKept = 0
                reason = .normalSample
            }
        }
        if reason != nil { chosenToday += 1 }
        return reason
    }

    /// How far the frame's deciding box is above (positive) or below (negative) its class
    /// threshold: the box with the largest margin, the one that would flip the verdict last.
    public static func decidingMargin(_ boxes: [DetectedDefect], threshold: (String) -> Float) -> Float? {
        boxes.map { $0.confidence - threshold($0.className) }.max()
    }
}
