// The one error type routes throw: a status and a message, answered as `{"error": "..."}`,
// the seed's error body. Anything else that escapes a route is logged and becomes a 500.

import Foundation
import Hummingbird

/// An HTTP error answered as `{"error": message}` (plus `detail` when given).
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public var detail: String? = nil
    public var headers: HTTPFields = [:]

    public var description: String { detail.map { "\(message): \($0)" } ?? message }

    public init(_ status: HTTPResponse.Status, _ message: String, detail: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: String] = ["error": message]
        if let detail { body["detail"] = detail }
        return JSONResponse.make(body, status: status, headers: headers)
    }

    static func badRequest(_ message: String, detail: String? = nil) -> APIError { APIError(.badRequest, message, detail: detail) }
}

/// JSON responses with UTF-8 text and unescaped slashes.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        guard let data = try? encoder.encode(value) else {
            return Response(status: .internalServerError, headers: fields,
                            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"response encoding failed"}"#)))
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
