// Why the line could not inspect a frame or a board, in the line's own words. Routes map each
// code to an HTTP status (`APIError(_:)` in Routes/LineErrorMapping.swift); nothing here knows
// HTTP, so the pipeline can be driven and tested without a server.

/// An inspection the line refused or could not finish.
public struct InspectionLineError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        /// The camera id is not one of the configured cameras.
        case unknownCamera = "unknown_camera"
        /// No configured camera films this side of the board (`/predict_dual` needs both).
        case noCameraForSide = "no_camera_for_side"
        /// The frame is not base64, or not a JPEG the decoder reads.
        case undecodableFrame = "undecodable_frame"
        /// The frame has more pixels than the configured limit.
        case frameTooLarge = "frame_too_large"
        /// The inference queue is full: retry shortly.
        case busy
        /// The model cannot run (stopped, warm-up failed, detector error).
        case inferenceUnavailable = "inference_unavailable"
        /// The store refused the write: nothing of this request was acknowledged.
        case storeUnavailable = "store_unavailable"
    }

    public let code: Code
    /// A short message for the client.
    public let message: String
    /// What the lower layer said, when there is more to tell.
    public let detail: String?

    public var description: String { detail.map { "\(message): \($0)" } ?? message }

    static func unknownCamera(_ id: String, configured: [String]) -> InspectionLineError {
        InspectionLineError(code: .unknownCamera, message: "Unknown camera_id '\(id.prefix(64))' (configured: \(configured.joined(separator: ", ")))",
                            detail: nil)
    }

    static func noCameraForSide(_ side: String, configured: [String]) -> InspectionLineError {
        InspectionLineError(code: .noCameraForSide,
                            message: "No configured camera films the \(side) side (cameras: \(configured.joined(separator: ", ")))", detail: nil)
    }

    static func undecodableFrame(_ detail: String) -> InspectionLineError {
        InspectionLineError(code: .undecodableFrame, message: "Failed to decode frame", detail: detail)
    }

    static func frameTooLarge(_ detail: String) -> InspectionLineError {
        InspectionLineError(code: .frameTooLarge, message: "Frame too large", detail: detail)
    }

    static let busy = InspectionLineError(code: .busy, message: "Server busy: inference queue is full, retry shortly", detail: nil)

    static func inferenceUnavailable(_ detail: String) -> InspectionLineError {
        InspectionLineError(code: .inferenceUnavailable, message: "Inference unavailable", detail: detail)
    }

    static func storeUnavailable(_ what: String, _ detail: String) -> InspectionLineError {
        InspectionLineError(code: .storeUnavailable, message: "Database unavailable: the \(what) was not stored, retry the request", detail: detail)
    }
}
