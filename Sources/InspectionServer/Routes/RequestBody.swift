// Reading request bodies: media type (415), size limit (413), JSON object (400), typed fields (400).
//
// A body over the limit is read to its end and dropped (up to a bound) before the 413 goes out
// with `Connection: close`: clients such as Python's urllib send the whole body before they
// read, and would otherwise wait on a server that stopped reading until their own timeout.
// The fields themselves are read by `JSONFields` (no HTTP, so the fuzzer runs it alone).

import Foundation
import Hummingbird

/// A request's JSON object body (`JSONFields`) whose refusals are 400s with their message.
struct JSONObjectBody {
    let fields: JSONFields

    /// Checks the media type, collects at most `limit` bytes and parses them as a JSON object.
    static func read(_ request: Request, limit: Int) async throws -> JSONObjectBody {
        try requireJSON(request)
        let data = try await BoundedBody.collect(request, limit: limit)
        do {
            return JSONObjectBody(fields: try JSONFields(parsing: data))
        } catch {
            throw APIError.badRequest(error.message)
        }
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

    /// A string field; nil when absent or null; 400 when of another type.
    func string(_ key: String) throws -> String? {
        do { return try fields.string(key) } catch { throw APIError.badRequest(error.message) }
    }

    /// A boolean field; nil when absent or null; 400 when of another type.
    func boolean(_ key: String) throws -> Bool? {
        do { return try fields.boolean(key) } catch { throw APIError.badRequest(error.message) }
    }

    /// An identifier that may be sent as a string or a whole number (board ids).
    func identifier(_ key: String) throws -> String? {
        do { return try fields.identifier(key) } catch { throw APIError.badRequest(error.message) }
    }
}

/// A request body read up to a limit (JSON here, a golden board's JPEG in ReferenceController).
enum BoundedBody {
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
        // Drop the rest so the client, still sending, gets to read the answer. A body beyond the
        // bound is answered at once; one that stalls is closed by the request timeout
        // (RequestGuardHandler). `Connection: close` tells the client not to reuse the connection.
        let bound = max(4 * limit, 64 << 20)
        let deadline = ContinuousClock.now + .seconds(10)
        while received <= bound, ContinuousClock.now < deadline, let chunk = try await iterator.next() {
            received += chunk.readableBytes
        }
        let size = declared.map { "of \($0) bytes " } ?? ""
        throw APIError(.contentTooLarge, "Request body \(size)exceeds the limit of \(limit) bytes", headers: [.connection: "close"])
    }
}
