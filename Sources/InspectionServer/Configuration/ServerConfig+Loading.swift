// Builds a `ServerConfig` from the file, the environment and the flags, through the shared
// layered loader (LayeredSettings): the keys below are the whole vocabulary of `pcb serve`.

import Foundation
import LayeredSettings
import NeuralEngine

/// A configuration value that could not be used, naming where it came from.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
}

extension ServerConfig {
    typealias Table = SettingsTable<ServerConfig>

    /// Every key the layers understand, with how to apply its text value.
    static let settings = Table(
        keys: [
            "host": .value { $0.host = $1 },
            "port": .value { $0.port = try SettingValue.integer($1, 0...65_535) },
            "data_dir": .value { $0.dataDirectory = $1 },
            "model": .value { $0.modelPath = $1 },
            "model_dir": .value { $0.modelDirectory = $1.isEmpty ? nil : $1 },
            "anomaly": .value { $0.anomalyPath = $1.isEmpty ? nil : $1 },
            "calibration": .value { $0.calibrationPath = $1.isEmpty ? nil : $1 },
            // `F.jpg` for every camera, or `left=L.jpg,right=R.jpg`.
            "reference": .list { config, value in
                var paths: [String: String] = [:]
                for item in SettingValue.list(value) {
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty { paths[parts[0]] = parts[1] } else { paths["*"] = item }
                }
                config.referencePaths = paths
            },
            "database": .value { $0.databaseURL = $1.isEmpty ? nil : $1 },
            "api_token": .value { $0.apiToken = $1.isEmpty ? nil : $1 },
            "read_token": .value { $0.readToken = $1.isEmpty ? nil : $1 },
            "write_token": .value { $0.writeToken = $1.isEmpty ? nil : $1 },
            "admin_token": .value { $0.adminToken = $1.isEmpty ? nil : $1 },
            "tls_cert": .value { $0.tlsCertificatePath = $1.isEmpty ? nil : $1 },
            "tls_key": .value { $0.tlsKeyPath = $1.isEmpty ? nil : $1 },
            "cors_origins": .list { $0.corsOrigins = SettingValue.list($1) },
            "policy": .value { $0.policyPath = $1 },
            "openapi": .value { $0.openAPIPath = $1 },
            "dashboard": .value { $0.dashboardDirectory = $1 },
            "cameras": .list { config, value in
                let cameras = SettingValue.list(value)
                guard !cameras.isEmpty else { throw SettingsError("give at least one camera id") }
                config.cameras = cameras
            },
            "max_body_bytes": .value { $0.maxBodyBytes = try SettingValue.integer($1, 1024...1_073_741_824) },
            "max_image_pixels": .value { $0.maxImagePixels = try SettingValue.integer($1, 1...500_000_000) },
            "idle_timeout_s": .value { $0.idleTimeoutSeconds = try SettingValue.integer($1, 1...86_400) },
            "request_timeout_s": .value { $0.requestTimeoutSeconds = try SettingValue.integer($1, 1...3_600) },
            "max_connections": .value { $0.maxConnections = try SettingValue.integer($1, 1...1_000_000) },
            "max_bodies_in_flight": .value { $0.maxBodiesInFlight = try SettingValue.integer($1, 1...100_000) },
            "queue_capacity": .value { $0.queueCapacity = try SettingValue.integer($1, 1...10_000) },
            "precision": .value { config, value in
                let names = ["auto"] + Precision.allCases.map(\.rawValue)
                guard names.contains(value.lowercased()) else {
                    throw SettingsError("expected \(names.joined(separator: ", ")), got '\(value)'")
                }
                config.precision = value.lowercased()
            },
            "inference_threads": .value { $0.inferenceThreads = try SettingValue.integer($1, 1...256) },
            "camera_offline_after_s": .value { config, value in
                guard let seconds = Double(value), seconds > 0 else { throw SettingsError("expected a positive number, got '\(value)'") }
                config.cameraOfflineAfterSeconds = seconds
            },
            "pairing_window_s": .value { $0.pairingWindowSeconds = try seconds($1) },
            "pairing_deadline_s": .value { $0.pairingDeadlineSeconds = try seconds($1) },
            "log_level": .value { $0.logLevel = try SettingValue.logLevel($1) },
            "log_to_file": .value { $0.logToFile = try SettingValue.boolean($1) },
            "min_free_disk_mb": .value { $0.minFreeDiskMB = try SettingValue.integer($1, 0...10_000_000) },
            "max_image_retention_days": .value { $0.imageRetentionDays = try SettingValue.integer($1, 0...36_500) },
            "journal_max_mb": .value { $0.journalMaxMB = try SettingValue.integer($1, 1...1_000_000) },
            "log_retention_days": .value { $0.logRetentionDays = try SettingValue.integer($1, 0...36_500) },
            "label_near_margin": .value { $0.labelling.nearMargin = Float(try fraction($1)) },
            "label_normal_share": .value { $0.labelling.normalShare = try fraction($1) },
            "label_max_per_day": .value { $0.labelling.maxPerDay = try SettingValue.integer($1, 0...1_000_000) },
            "sqlite_synchronous": .value { config, value in
                guard value == "full" || value == "normal" else { throw SettingsError("expected full or normal, got '\(value)'") }
                config.sqliteSynchronous = value
            },
        ],
        // Other PCB_ variables belong to other commands (PCB_CAMERA_* to `pcb camera`).
        environmentPrefix: "PCB_", skipsUnknownEnvironment: true,
        flagSpelling: { "--" + $0.replacingOccurrences(of: "_", with: "-") })

    /// Applies the layers in order: `file` (YAML text) < `environment` (`PCB_*`) < `flags`.
    ///
    /// - Parameters:
    ///   - fileText: contents of the YAML file, if one is used.
    ///   - fileName: for error messages.
    ///   - environment: the process environment; only `PCB_<KEY>` variables are read.
    ///   - flags: values given on the command line, by key (`data_dir`, not `--data-dir`).
    public static func load(fileText: String?, fileName: String = "server.yaml", environment: [String: String],
                            flags: [String: String]) throws -> ServerConfig {
        do {
            return try settings.load(ServerConfig(), fileText: fileText, fileName: fileName, environment: environment, flags: flags)
        } catch {
            throw ConfigError(description: error.description)
        }
    }

    private static func fraction(_ text: String) throws(SettingsError) -> Double {
        guard let value = Double(text), (0...1).contains(value) else {
            throw SettingsError("expected a number from 0 to 1, got '\(text)'")
        }
        return value
    }

    private static func seconds(_ text: String) throws(SettingsError) -> Double {
        guard let value = Double(text), value > 0, value <= 60 else {
            throw SettingsError("expected seconds between 0 and 60, got '\(text)'")
        }
        return value
    }
}
