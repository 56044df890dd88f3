// How the line's refusals reach a client: each `InspectionLineError` code as an HTTP status,
// with Retry-After where waiting helps (the camera client retries on 503).

import Hummingbird

extension APIError {
    init(_ error: InspectionLineError) {
        switch error.code {
        case .unknownCamera, .noCameraForSide, .undecodableFrame:
            self.init(.badRequest, error.message, detail: error.detail)
        case .frameTooLarge:
            self.init(.contentTooLarge, error.message, detail: error.detail)
        case .busy:
            self.init(.serviceUnavailable, error.message, detail: error.detail, headers: [.retryAfter: "1"])
        case .inferenceUnavailable:
            self.init(.serviceUnavailable, error.message, detail: error.detail, headers: [.retryAfter: "5"])
        case .storeUnavailable:
            self.init(.serviceUnavailable, error.message, detail: error.detail, headers: [.retryAfter: "2"])
        }
    }
}
