// Reading request bodies: media type (415), size limit (413), JSON object (400), typed fields (400).
//
// A body over the limit is read to its end and dropped (up to a bound) before the 413 goes out
// with `Connection: close`: clients such as Python's urllib send the whole body before they
// read, and would otherwise wait on a server that stopped reading until their own timeout.
//
// Fields are read from a JSON object by hand rather than through Codable so that each wrong
// input gets its own clear message: which field, what was expected.

import Foundation
import Hummingbird

/// A parsed JSON object body with typed accessors that fail with 400 and a clear message.
struct JSONObjectBody {
    let fields: [String: Any]

    /// Checks the media type, collects at most `limit` bytes and parses them as a JSON object.
    static func read(_ request: Request, limit: Int) async throws -> JSONObjectBody {
        try requireJSON(request)
        let data = try await collect(request, limit: limit)
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

    /// 415 unless the body is declared JSON (`application/json`, parameters allowed): a
    /// cross-site page can send `text/plain` or a form without a CORS preflight, never JSON.
    static func requireJSON(_ request: Request) throws {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            throw APIError(.unsupportedMediaType,
                           "Content-Type must be application/json (got \(type.map { "'\($0.prefix(60))'" } ?? "none"))")
        }
    }

    /// The body's bytes, at most `limit`; past it, 413 once the rest is drained (bounded).
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        var data = Data()
        if let declared, declared <= limit { data.reserveCapacity(declared) }
        var received = 0
        var iterator = request.body.makeAsyncIterator()
        while let chunk = try await iterator.next() {
            received += chunk.readableBytes
            if received > limit { break }
            chunk.withUnsafeReadableBytes { data.append(contentsOf: $0) }
        }
        guard received > limit else { return data }
        // Drop the rest so the client, still sending, gets to read the answer; a body beyond
        // the bound or slower than the deadline is cut off (the connection closes either way).
        let bound = max(4 * limit, 64 << 20)
        let deadline = ContinuousClock.now + .seconds(10)
        while received <= bound, ContinuousClock.now < deadline, let chunk = try await iterator.next() {
            received += chunk.readableBytes
        }
        let size = declared.map { "of \($0) bytes " } ?? ""
        throw APIError(.contentTooLarge, "Request body \(size)exceeds the limit of \(limit) bytes", headers: [.connection: "close"])
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
