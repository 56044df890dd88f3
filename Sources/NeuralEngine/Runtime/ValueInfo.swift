// Public description of a graph input or output: its name and its shape,
// where each dimension is either a fixed size or a symbolic name (dynamic
// batch/height/width in exported models). Also carries the element type.

public enum Dimension: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)

    public var description: String {
        switch self {
        case .fixed(let n): return "\(n)"
        case .symbolic(let s): return s.isEmpty ? "?" : s
        }
    }

    /// The fixed size, or nil if symbolic.
    public var fixedValue: Int? {
        if case .fixed(let n) = self { return n }
        return nil
    }
}

public struct ValueInfo: Sendable {
    public let name: String
    public let shape: [Dimension]
    /// Element type declared in the model (nil if missing or not representable).
    public let elementType: ElementType?

    public init(name: String, shape: [Dimension], elementType: ElementType? = .float) {
        self.name = name
        self.shape = shape
        self.elementType = elementType
    }
}
