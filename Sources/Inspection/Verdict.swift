// The decision for one side of a board (one camera frame) and for a whole board.

/// What the policy decided for one frame.
public struct SideVerdict: Sendable, Equatable {
    public var category: DefectCategory
    /// Highest box confidence, 1.0 when nothing was found.
    public var confidence: Float
    /// Every box above the threshold, minor ones included.
    public var boxes: [DetectedDefect]

    public init(category: DefectCategory, confidence: Float, boxes: [DetectedDefect]) {
        self.category = category
        self.confidence = confidence
        self.boxes = boxes
    }
}
