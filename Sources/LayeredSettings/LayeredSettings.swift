// The one layered configuration loader of every `pcb` command that has settings (`serve`,
// `camera`): built-in defaults < a YAML file < `PREFIX_<KEY>` environment variables < flags.
// Every layer speaks the same snake_case keys, and every mistake names its layer
// ("server.yaml: ...", "environment PCB_PORT: ...", "--log-level: ...").
//
// Why not apple/swift-configuration: it reads only the keys a program asks for, so a typo in
// the file (`prot: 5001`) would be silently ignored, and its errors name the key but not the
// layer the value came from. A line's settings file must refuse what it does not understand.

import Foundation
import Yams

/// A setting that could not be used; `description` names where it came from.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// How to read the settings of one configuration type `Config`.
public struct SettingsTable<Config>: Sendable {
    /// Applies one key's text value to the configuration; throws a message without the key.
    public typealias Setter = @Sendable (inout Config, String) throws -> Void

    public struct Key: Sendable {
        let apply: Setter
        /// Whether a YAML list is accepted (given to the setter joined by commas).
        let acceptsList: Bool

        /// A key that takes one value.
        public static func value(_ apply: @escaping Setter) -> Key { Key(apply: apply, acceptsList: false) }
        /// A key that takes a comma-separated value or, in the file, a YAML list.
        public static func list(_ apply: @escaping Setter) -> Key { Key(apply: apply, acceptsList: true) }
    }

    public let keys: [String: Key]
    /// `PCB_` for the server, `PCB_CAMERA_` for the camera.
    public let environmentPrefix: String
    /// Environment variables with the prefix but an unknown key: skipped when they may belong
    /// to another command (the server skips `PCB_CAMERA_*`), refused otherwise.
    public let skipsUnknownEnvironment: Bool
    /// How a key is spelled as a flag in messages (`data_dir` -> `--data-dir`).
    public let flagSpelling: @Sendable (String) -> String

    public init(keys: [String: Key], environmentPrefix: String, skipsUnknownEnvironment: Bool,
                flagSpelling: @escaping @Sendable (String) -> String) {
        self.keys = keys
        self.environmentPrefix = environmentPrefix
        self.skipsUnknownEnvironment = skipsUnknownEnvironment
        self.flagSpelling = flagSpelling
    }


    /// Applies the layers in order to `defaults`: `fileText` (YAML) < `environment` < `flags`.
    ///
    /// - Parameters:
    ///   - fileText: contents of the YAML file, if one is used; `fileName` names it in messages.
    ///   - environment: the process environment; only variables with the prefix are read.
    ///   - flags: values given on the command line, by key (`data_dir`, not `--data-dir`).
    public func load(_ defaults: Config, fileText: String?, fileName: String, environment: [String: String],
                     flags: [String: String]) throws(SettingsError) -> Config {
        var config = defaults
        if let fileText {
            for (key, value) in try fileValues(fileText, fileName: fileName) {
                try apply(key: key, value: value, to: &config, source: "\(fileName): ")
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(environmentPrefix) {
            let key = String(name.dropFirst(environmentPrefix.count)).lowercased()
            if keys[key] == nil && skipsUnknownEnvironment { continue }
            try apply(key: key, value: value, to: &config, source: "environment \(name): ")
        }
        for (key, value) in flags.sorted(by: { $0.key < $1.key }) {
            try apply(key: key, value: value, to: &config, source: flagSpelling(key) + ": ")
        }
        return config
    }

    private func apply(key: String, value: String, to config: inout Config, source: String) throws(SettingsError) {
        guard let entry = keys[key] else {
            throw SettingsError("\(source)unknown setting '\(key)' (known: \(keys.keys.sorted().joined(separator: ", ")))")
        }
        do {
            try entry.apply(&config, value)
        } catch {
            throw SettingsError("\(source)\(key): \(error)")
        }
    }

    /// The file's top-level mapping as (key, text) in file order; `null`/`~`/empty mean "use
    /// the default" and are left out.
    private func fileValues(_ text: String, fileName: String) throws(SettingsError) -> [(String, String)] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw SettingsError("\(fileName): not valid YAML: \(error)") }
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw SettingsError("\(fileName): the top level must be a mapping") }
        var values: [(String, String)] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else { continue }
            let line = (valueNode.mark?.line).map { " line \($0)" } ?? ""
            if let list = valueNode.sequence {
                guard keys[key]?.acceptsList ?? true else { throw SettingsError("\(fileName)\(line): \(key) must be a single value") }
                values.append((key, list.compactMap { $0.scalar?.string }.joined(separator: ",")))
            } else if let scalar = valueNode.scalar {
                if scalar.string == "null" || scalar.string == "~" || (scalar.string.isEmpty && scalar.style == .plain) { continue }
                values.append((key, scalar.string))
            } else {
                throw SettingsError("\(fileName)\(line): \(key) must be a value or a list")
            }
        }
        return values
    }
}

/// The value types settings share, with one message each.
public enum SettingValue {
    public static func integer(_ text: String, _ range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw SettingsError("expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    public static func number(_ text: String, _ range: ClosedRange<Double>) throws(SettingsError) -> Double {
        guard let value = Double(text), range.contains(value) else {
            throw SettingsError("expected a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    public static func boolean(_ text: String) throws(SettingsError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw SettingsError("expected true or false, got '\(text)'")
        }
    }

    /// A swift-log level name.
    public static func logLevel(_ text: String) throws(SettingsError) -> String {
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(text) else {
            throw SettingsError("expected trace, debug, info, notice, warning, error or critical, got '\(text)'")
        }
        return text
    }

    /// Comma-separated, trimmed, empty items dropped.
    public static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
