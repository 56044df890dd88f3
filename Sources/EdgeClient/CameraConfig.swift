// Configuration of `pcb camera`, parsed once: defaults < configs/camera.yaml <
// PCB_CAMERA_<KEY> environment < flags (the seed's `--camera_id --camera_index --server_url --fps`).

import Foundation
import LayeredSettings

/// Everything one camera client needs to know.
public struct CameraConfig: Sendable, Equatable {
    /// Where frames come from.
    public enum Source: String, Sendable, Equatable { case v4l2, folder, synthetic }
    /// What drives the gate pins.
    public enum GPIOMode: Sendable, Equatable {
        case off
        case dryRun
        case chip(String)
    }

    /// "left" or "right" (the server's `cameras` list).
    public var cameraId = "left"
    public var serverURL = "http://127.0.0.1:5000"
    /// Frames sent per second at most.
    public var fps = 10.0
    public var source = Source.v4l2
    /// V4L2: `/dev/video<cameraIndex>` unless `device` is given.
    public var cameraIndex = 0
    public var device: String? = nil
    public var folder: String? = nil
    public var syntheticSeed: UInt64 = 1
    public var width = 640
    public var height = 480
    public var jpegQuality = 85
    public var timeoutSeconds = 5.0
    public var apiToken: String? = nil
    public var gpio = GPIOMode.off
    public var policyPath = "data/pcb_defects.yaml"
    /// nil: true exactly when this camera drives GPIO.
    public var waitForBoard: Bool? = nil
    public var verdictTimeoutSeconds = 3.0
    /// Every captured frame is a board (a triggered line): skipped frames get a fail-safe pulse.
    public var triggered = false
    public var logLevel = "info"

    public init() {}

    /// The V4L2 device path.
    public var devicePath: String { device ?? "/dev/video\(cameraIndex)" }
    /// Whether the response should carry the board verdict.
    public var effectiveWaitForBoard: Bool { waitForBoard ?? (gpio != .off) }

    typealias Table = SettingsTable<CameraConfig>

    /// Every key the layers understand, with how to apply its text value.
    static let settings = Table(
        keys: [
            "camera_id": .value { config, value in
                guard !value.isEmpty, value.count <= 32 else { throw SettingsError("expected a camera name such as left or right") }
                config.cameraId = value
            },
            "server_url": .value { config, value in
                guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                    throw SettingsError("expected a URL such as http://192.168.0.10:5000, got '\(value)'")
                }
                config.serverURL = value
            },
            "fps": .value { $0.fps = try SettingValue.number($1, 0.1...60) },
            "source": .value { config, value in
                guard let source = Source(rawValue: value) else { throw SettingsError("expected v4l2, folder or synthetic, got '\(value)'") }
                config.source = source
            },
            "camera_index": .value { $0.cameraIndex = try SettingValue.integer($1, 0...63) },
            "device": .value { $0.device = $1.isEmpty ? nil : $1 },
            "folder": .value { $0.folder = $1.isEmpty ? nil : $1 },
            "synthetic_seed": .value { config, value in
                guard let seed = UInt64(value) else { throw SettingsError("expected a whole number, got '\(value)'") }
                config.syntheticSeed = seed
            },
            "width": .value { $0.width = try SettingValue.integer($1, 16...8192) },
            "height": .value { $0.height = try SettingValue.integer($1, 16...8192) },
            "jpeg_quality": .value { $0.jpegQuality = try SettingValue.integer($1, 1...100) },
            "timeout_s": .value { $0.timeoutSeconds = try SettingValue.number($1, 0.1...120) },
            "api_token": .value { $0.apiToken = $1.isEmpty ? nil : $1 },
            "gpio": .value { config, value in
                switch value {
                case "off", "false", "none": config.gpio = .off
                case "dry-run": config.gpio = .dryRun
                case let path where path.hasPrefix("/dev/"): config.gpio = .chip(path)
                default: throw SettingsError("expected off, dry-run or a GPIO chip such as /dev/gpiochip0, got '\(value)'")
                }
            },
            "policy": .value { $0.policyPath = $1 },
            "wait_for_board": .value { $0.waitForBoard = $1 == "auto" ? nil : try SettingValue.boolean($1) },
            "verdict_timeout_s": .value { $0.verdictTimeoutSeconds = try SettingValue.number($1, 0.1...60) },
            "triggered": .value { $0.triggered = try SettingValue.boolean($1) },
            "log_level": .value { $0.logLevel = try SettingValue.logLevel($1) },
        ],
        environmentPrefix: "PCB_CAMERA_", skipsUnknownEnvironment: false,
        // The seed's own flag names: --camera_id, --server_url, --fps.
        flagSpelling: { "--" + $0 })

    /// Applies the layers in order: `fileText` (YAML) < `environment` (`PCB_CAMERA_*`) < `flags`.
    public static func load(fileText: String?, fileName: String = "camera.yaml", environment: [String: String],
                            flags: [String: String]) throws(CameraConfigError) -> CameraConfig {
        let config: CameraConfig
        do {
            config = try settings.load(CameraConfig(), fileText: fileText, fileName: fileName, environment: environment, flags: flags)
        } catch {
            throw CameraConfigError(error.description)
        }
        try config.validate()
        return config
    }

    private func validate() throws(CameraConfigError) {
        if source == .folder && folder == nil { throw CameraConfigError("source folder needs folder: <path>") }
        if width % 2 != 0 { throw CameraConfigError("width must be even (YUYV cameras send pixel pairs)") }
    }
}

/// A camera setting that could not be used, naming where it came from.
public struct CameraConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
