// The fields of a JSON object body, read by hand rather than through Codable so that each
// wrong input gets its own clear message: which field, what was expected. Foundation only (no
// HTTP): the routes map a `JSONFieldError` to 400, and fuzz/ runs this file on its own.

import Foundation

/// Why a body or one of its fields cannot be used, in words for the client.
struct JSONFieldError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A parsed JSON object with typed accessors.
struct JSONFields {
    let fields: [String: Any]

    /// Parses `data` as one JSON object.
    init(parsing data: Data) throws(JSONFieldError) {
        guard !data.isEmpty else { throw JSONFieldError("Request body is empty; expected a JSON object") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw JSONFieldError("Request body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else { throw JSONFieldError("Request body must be a JSON object") }
        fields = object
    }

    /// A string field; nil when absent or null; an error when of another type.
    func string(_ key: String) throws(JSONFieldError) -> String? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw JSONFieldError("Field '\(key)' must be a string")
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

    /// A boolean field; nil when absent or null; an error when of another type.
    func boolean(_ key: String) throws(JSONFieldError) -> Bool? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard Self.isJSONBoolean(value), let flag = value as? Bool else {
            throw JSONFieldError("Field '\(key)' must be true or false")
        }
        return flag
    }

    /// A list of strings, each 1 to `maxLength` characters, at most `maxCount`; nil when absent or null.
    func stringList(_ key: String, maxCount: Int, maxLength: Int) throws(JSONFieldError) -> [String]? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], list.count <= maxCount else {
            throw JSONFieldError("Field '\(key)' must be a list of at most \(maxCount) strings")
        }
        var strings: [String] = []
        for item in list {
            guard let text = item as? String, !text.isEmpty, text.count <= maxLength else {
                throw JSONFieldError("Field '\(key)' must hold strings of 1 to \(maxLength) characters")
            }
            strings.append(text)
        }
        return strings
    }

    /// An identifier that may be sent as a string or a whole number (board ids).
    func identifier(_ key: String) throws(JSONFieldError) -> String? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        if let text = value as? String {
            guard !text.isEmpty, text.utf8.count <= 128 else { throw JSONFieldError("Field '\(key)' must be 1 to 128 characters") }
            return text
        }
        // Whole numbers only, read exactly (no detour through Double, which merges ids above 2^53).
        if !Self.isJSONBoolean(value), let number = value as? NSNumber, number.stringValue == String(number.int64Value) {
            return String(number.int64Value)
        }
        throw JSONFieldError("Field '\(key)' must be a string or a whole number")
    }
}
