// One box found by a detector, in the pixel coordinates of the frame it came from.

/// A detector's box: class name, confidence and corners in frame pixels.
public struct DetectedDefect: Sendable, Equatable, Codable {
    public var className: String
    public var confidence: Float
    public var x1: Float
    public var y1: Float
    public var x2: Float
    public var y2: Float

    public init(className: String, confidence: Float, x1: Float, y1: Float, x2: Float, y2: Float) {
        self.className = className
        self.confidence = confidence
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    // The seed's wire names: {x1, y1, x2, y2, confidence, class}.
    enum CodingKeys: String, CodingKey {
        case x1, y1, x2, y2, confidence
        case className = "class"
    }
}
