// Errors of the store, with a short label for metrics.

import Foundation

/// Why the store could not do what was asked.
public struct StoreError: Error, CustomStringConvertible {
    private enum Code {
        case imageWrite
        case unavailable
        case invalidArgument
    }

    private let code: Code
    public let description: String
    private var errorNumber: Int32 = 0

    /// The database cannot be reached (a journaled store keeps the write locally).
    public var isUnavailable: Bool { code == .unavailable }

    /// An image could not be written because the disk (or the user's quota) is full.
    public var isDiskFull: Bool { code == .imageWrite && (errorNumber == ENOSPC || errorNumber == EDQUOT) }

    public var label: String {
        switch code {
        case .imageWrite: "image_write"
        case .unavailable: "unavailable"
        case .invalidArgument: "invalid_argument"
        }
    }

    static func imageWrite(path: String, errno: Int32) -> StoreError {
        StoreError(code: .imageWrite, description: "could not write image \(path): \(String(cString: strerror(errno)))", errorNumber: errno)
    }

    public static func unavailable(_ detail: String) -> StoreError {
        StoreError(code: .unavailable, description: "database unavailable: \(detail)")
    }

    public static func invalidArgument(_ detail: String) -> StoreError {
        StoreError(code: .invalidArgument, description: detail)
    }
}
