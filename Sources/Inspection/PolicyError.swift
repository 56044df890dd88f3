// Errors of the defect policy file, always naming the file line where one is known.

/// A policy file that cannot be used, with a message that names the problem and its line.
public struct PolicyError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case invalid
        case unmappedModelClasses
    }

    private let code: Code
    public let message: String
    /// 1-based line in the policy file, when known.
    public let line: Int?

    public var description: String {
        if let line { return "line \(line): \(message)" }
        return message
    }

    static func invalid(_ message: String, line: Int?) -> PolicyError {
        PolicyError(code: .invalid, message: message, line: line)
    }

    static func unmappedModelClasses(_ classes: [String], known: [String]) -> PolicyError {
        PolicyError(
            code: .unmappedModelClasses,
            message: "the model outputs class(es) \(classes.joined(separator: ", ")) that the policy does not map to a category; add them under `classes:` (mapped: \(known.joined(separator: ", ")))",
            line: nil)
    }

    /// The same error, with the file name in front: `pcb_defects.yaml line 12: ...`.
    public func located(in file: String) -> PolicyError {
        PolicyError(code: code, message: line.map { "\(file) line \($0): \(message)" } ?? "\(file): \(message)", line: nil)
    }
}
