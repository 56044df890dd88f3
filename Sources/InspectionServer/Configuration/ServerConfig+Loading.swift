// Builds a `ServerConfig` from the file, the environment and the flags.

import Foundation
import Yams

/// A configuration value that could not be used, naming where it came from.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
}

extension ServerConfig {
    /// Every key the layers understand, with how to apply its text value.
    static let keys: [String: @Sendable (inout ServerConfig, String) throws -> Void] = [
        "host": { $0.host = $1 },
        "port": { $0.port = try integer($1, "port", 0...65_535) },
        "data_dir": { $0.dataDirectory = $1 },
        "model": { $0.modelPath = $1 },
        "anomaly": { $0.anomalyPath = $1.isEmpty ? nil : $1 },
        "database": { $0.databaseURL = $1.isEmpty ? nil : $1 },
        "api_token": { $0.apiToken = $1.isEmpty ? nil : $1 },
        "policy": { $0.policyPath = $1 },
        "openapi": { $0.openAPIPath = $1 },
        "dashboard": { $0.dashboardDirectory = $1 },
        "cameras": { config, value in
            let cameras = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !cameras.isEmpty else { throw ConfigError(description: "cameras: give at least one camera id") }
            config.cameras = cameras
        },
        "max_body_bytes": { $0.maxBodyBytes = try integer($1, "max_body_bytes", 1024...1_073_741_824) },
        "max_image_pixels": { $0.maxImagePixels = try integer($1, "max_image_pixels", 1...500_000_000) },
        "queue_capacity": { $0.queueCapacity = try integer($1, "queue_capacity", 1...10_000) },
        "inference_threads": { $0.inferenceThreads = try integer($1, "inference_threads", 1...256) },
        "camera_offline_after_s": {
            guard let seconds = Double($1), seconds > 0 else { throw ConfigError(description: "camera_offline_after_s: expected a positive number, got '\($1)'") }
            $0.cameraOfflineAfterSeconds = seconds
        },
        "pairing_window_s": { $0.pairingWindowSeconds = try seconds($1, "pairing_window_s") },
        "pairing_deadline_s": { $0.pairingDeadlineSeconds = try seconds($1, "pairing_deadline_s") },
        "log_level": { config, value in
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
                throw ConfigError(description: "log_level: expected trace, debug, info, notice, warning, error or critical, got '\(value)'")
            }
            config.logLevel = value
        },
        "log_to_file": { $0.logToFile = try boolean($1, "log_to_file") },
        "sqlite_synchronous": { config, value in
            guard value == "full" || value == "normal" else { throw ConfigError(description: "sqlite_synchronous: expected full or normal, got '\(value)'") }
            config.sqliteSynchronous = value
        },
    ]

    /// Applies the layers in order: `file` (YAML text) < `environment` (`PCB_*`) < `flags`.
    ///
    /// - Parameters:
    ///   - fileText: contents of the YAML file, if one is used.
    ///   - fileName: for error messages.
    ///   - environment: the process environment; only `PCB_<KEY>` variables are read.
    ///   - flags: values given on the command line, by key (`data_dir`, not `--data-dir`).
    public static func load(fileText: String?, fileName: String = "server.yaml", environment: [String: String],
                            flags: [String: String]) throws -> ServerConfig {
        var config = ServerConfig()
        if let fileText {
            for (key, value) in try fileValues(fileText, fileName: fileName) {
                try apply(key: key, value: value, to: &config, source: "\(fileName): ")
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("PCB_") {
            let key = name.dropFirst(4).lowercased()
            guard keys[key] != nil else { continue }  // other PCB_ variables belong to other commands
            try apply(key: key, value: value, to: &config, source: "environment \(name): ")
        }
        for (key, value) in flags.sorted(by: { $0.key < $1.key }) {
            try apply(key: key, value: value, to: &config, source: "--\(key.replacingOccurrences(of: "_", with: "-")): ")
        }
        return config
    }

    private static func apply(key: String, value: String, to config: inout ServerConfig, source: String) throws {
        guard let setter = keys[key] else {
            throw ConfigError(description: "\(source)unknown setting '\(key)' (known: \(keys.keys.sorted().joined(separator: ", ")))")
        }
        do {
            try setter(&config, value)
        } catch let error as ConfigError {
            throw ConfigError(description: source + error.description)
        }
    }

    /// The file's top-level mapping as key -> text (lists become comma-separated).
    private static func fileValues(_ text: String, fileName: String) throws -> [(String, String)] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ConfigError(description: "\(fileName): not valid YAML: \(error)") }
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw ConfigError(description: "\(fileName): the top level must be a mapping") }
        var values: [(String, String)] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else { continue }
            if let list = valueNode.sequence {
                values.append((key, list.compactMap { $0.scalar?.string }.joined(separator: ",")))
            } else if let scalar = valueNode.scalar {
                // `null`/`~` mean "use the default".
                if scalar.string == "null" || scalar.string == "~" || (scalar.string.isEmpty && scalar.style == .plain) { continue }
                values.append((key, scalar.string))
            } else {
                throw ConfigError(description: "\(fileName) line \(valueNode.mark?.line ?? 0): \(key) must be a value or a list")
            }
        }
        return values
    }

    private static func integer(_ text: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigError(description: "\(key): expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    private static func seconds(_ text: String, _ key: String) throws -> Double {
        guard let value = Double(text), value > 0, value <= 60 else {
            throw ConfigError(description: "\(key): expected seconds between 0 and 60, got '\(text)'")
        }
        return value
    }

    private static func boolean(_ text: String, _ key: String) throws -> Bool {
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw ConfigError(description: "\(key): expected true or false, got '\(text)'")
        }
    }
}
