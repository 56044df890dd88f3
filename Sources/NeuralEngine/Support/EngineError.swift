// EngineError is the single error type thrown by NeuralEngine. A private code
// enum classifies the failure (malformed protobuf, invalid model, unsupported
// operator, bad input, runtime shape problems, I/O) and static constructors
// build each case with a human-readable message, so callers can simply print
// `error.description` and tests can match on its text.

public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Code: String, Sendable, Equatable {
        case malformedProtobuf = "malformed protobuf"
        case invalidModel = "invalid model"
        case unsupportedOperator = "unsupported operator"
        case unsupportedFeature = "unsupported feature"
        case invalidInput = "invalid input"
        case invalidArgument = "invalid argument"
        case shapeMismatch = "shape mismatch"
        case typeMismatch = "type mismatch"
        case io = "I/O error"
        case invalidNPY = "invalid NPY file"
        case node = "node failure"
    }

    private let code: Code
    /// Human readable detail message (without the category prefix).
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        switch code {
        case .unsupportedOperator, .node: return message
        default: return "\(code.rawValue): \(message)"
        }
    }

    /// Short category name ("malformed protobuf", "unsupported operator", ...).
    public var category: String { code.rawValue }

    // MARK: - Constructors

    static func malformedProtobuf(_ message: String) -> EngineError { .init(.malformedProtobuf, message) }
    static func invalidModel(_ message: String) -> EngineError { .init(.invalidModel, message) }
    static func unsupportedOperator(_ op: String, domain: String = "", opset: Int, node: String) -> EngineError {
        let d = (domain.isEmpty || domain == "ai.onnx") ? "" : " in domain '\(domain)'"
        return .init(.unsupportedOperator, "unsupported operator '\(op)'\(d) (opset \(opset)) at node '\(node)'")
    }
    static func unsupportedFeature(_ message: String) -> EngineError { .init(.unsupportedFeature, message) }
    static func invalidInput(_ message: String) -> EngineError { .init(.invalidInput, message) }
    static func invalidArgument(_ message: String) -> EngineError { .init(.invalidArgument, message) }
    static func shapeMismatch(_ message: String) -> EngineError { .init(.shapeMismatch, message) }
    static func typeMismatch(_ message: String) -> EngineError { .init(.typeMismatch, message) }
    static func io(_ message: String) -> EngineError { .init(.io, message) }
    static func invalidNPY(_ message: String) -> EngineError { .init(.invalidNPY, message) }

    /// Wraps an error raised while loading or running a node with the node's identity.
    static func atNode(_ name: String, op: String, _ underlying: Error) -> EngineError {
        let inner = (underlying as? EngineError)?.description ?? String(describing: underlying)
        return .init(.node, "\(op) node '\(name)': \(inner)")
    }
}
