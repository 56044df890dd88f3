// Reading request bodies: size limit (413), JSON object (400), typed fields (400).
//
// Fields are read from a JSON object by hand rather than through Codable so that each wrong
// input gets its own clear message: which field, what was expected.

import Foundation
import Hummingbird

/// A parsed JSON object body with typed accessors that fail with 400 and a clear message.
struct JSONObjectBody {
    let fields: [String: Any]

    /// Collects at most `limit` bytes and parses them as a JSON object.
    static func read(_ request: Request, limit: Int) async throws -> JSONObjectBody {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError(.contentTooLarge, "Request body of \(length) bytes exceeds the limit of \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "Request body exceeds the limit of \(limit) bytes")
        }
        let data = buffer.withUnsafeReadableBytes { Data($0) }
        guard !data.isEmpty else { throw APIError.badRequest("Request body is empty; expected a JSON object") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw APIError.badRequest("Request body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw APIError.badRequest("Request body must be a JSON object")
        }
        return JSONObjectBody(fields: object)
    }

    /// A string field; nil when absent or null; 400 when of another type.
    func string(_ key: String) throws -> String? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw APIError.badRequest("Field '\(key)' must be a string")
        }
        return text
    }

    /// The type JSONSerialization gives `true`/`false`. Foundation bridges the numbers 0 and 1
    /// to `Bool` as well, so `value is Bool` cannot tell `1` from `true`; the type can.
    private static let jsonBooleanType: Any.Type = {
        let parsed = try? JSONSerialization.jsonObject(with: Data("[true]".utf8)) as? [Any]
        return parsed.map { type(of: $0[0]) } ?? Bool.self
    }()

    static func isJSONBoolean(_ value: Any) -> Bool { type(of: value) == jsonBooleanType }

    /// A boolean field; nil when absent or null; 400 when of another type.
    func boolean(_ key: String) throws -> Bool? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard Self.isJSONBoolean(value), let flag = value as? Bool else {
            throw APIError.badRequest("Field '\(key)' must be true or false")
        }
        return flag
    }

    /// An identifier that may be sent as a string or a whole number (board ids).
    func identifier(_ key: String) throws -> String? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        if let text = value as? String {
            guard !text.isEmpty, text.utf8.count <= 128 else { throw APIError.badRequest("Field '\(key)' must be 1 to 128 characters") }
            return text
        }
        // Whole numbers only, read exactly (no detour through Double, which merges ids above 2^53).
        if !Self.isJSONBoolean(value), let number = value as? NSNumber, number.stringValue == String(number.int64Value) {
            return String(number.int64Value)
        }
        throw APIError.badRequest("Field '\(key)' must be a string or a whole number")
    }
}
