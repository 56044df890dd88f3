// Errors of image decoding and encoding, safe to show to a client.

/// Why an image could not be read or written.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case notJPEG
        case corrupt
        case tooLarge
        case emptyImage
        case encodeFailed
    }

    private let code: Code
    public let description: String

    /// Short, stable name for metrics labels.
    public var label: String {
        switch code {
        case .notJPEG: "not_jpeg"
        case .corrupt: "corrupt"
        case .tooLarge: "too_large"
        case .emptyImage: "empty"
        case .encodeFailed: "encode_failed"
        }
    }

    static func notJPEG() -> ImageError { ImageError(code: .notJPEG, description: "data is not a JPEG image") }
    static func corrupt(_ detail: String) -> ImageError { ImageError(code: .corrupt, description: "JPEG data is corrupt or truncated: \(detail)") }
    static func tooLarge(width: Int, height: Int, limit: Int) -> ImageError {
        ImageError(code: .tooLarge, description: "image of \(width)x\(height) pixels exceeds the limit of \(limit) pixels")
    }
    static func emptyImage() -> ImageError { ImageError(code: .emptyImage, description: "image has no pixels") }
    static func encodeFailed(_ detail: String) -> ImageError { ImageError(code: .encodeFailed, description: "JPEG encoding failed: \(detail)") }
}
