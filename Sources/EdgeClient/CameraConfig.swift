// Configuration of `pcb camera`, parsed once: defaults < configs/camera.yaml <
// PCB_CAMERA_<KEY> environment < flags (the seed's `--camera_id --camera_index --server_url --fps`).

import Foundation
import Yams

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

    /// Applies the layers in order: `fileText` (YAML) < `environment` (`PCB_CAMERA_*`) < `flags`.
    public static func load(fileText: String?, fileName: String = "camera.yaml", environment: [String: String],
                            flags: [String: String]) throws(CameraConfigError) -> CameraConfig {
        var config = CameraConfig()
        if let fileText {
            for (key, value) in try fileValues(fileText, fileName: fileName) {
                try config.apply(key: key, value: value, source: "\(fileName): ")
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("PCB_CAMERA_") {
            try config.apply(key: String(name.dropFirst(11)).lowercased(), value: value, source: "environment \(name): ")
        }
        for (key, value) in flags.sorted(by: { $0.key < $1.key }) {
            try config.apply(key: key, value: value, source: "--\(key): ")
        }
        try config.validate()
        return config
    }

    private mutating func apply(key: String, value: String, source: String) throws(CameraConfigError) {
        func fail(_ message: String) -> CameraConfigError { CameraConfigError(source + key + ": " + message) }
        func number(_ range: ClosedRange<Double>) throws(CameraConfigError) -> Double {
            guard let v = Double(value), range.contains(v) else { throw fail("expected a number in \(range.lowerBound)...\(range.upperBound), got '\(value)'") }
            return v
        }
        func whole(_ range: ClosedRange<Int>) throws(CameraConfigError) -> Int {
            guard let v = Int(value), range.contains(v) else { throw fail("expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(value)'") }
            return v
        }
        func flag() throws(CameraConfigError) -> Bool {
            switch value.lowercased() {
            case "true", "yes", "1", "on": return true
            case "false", "no", "0", "off": return false
            default: throw fail("expected true or false, got '\(value)'")
            }
        }
        switch key {
        case "camera_id":
            guard !value.isEmpty, value.count <= 32 else { throw fail("expected a camera name such as left or right") }
            cameraId = value
        case "server_url":
            guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw fail("expected a URL such as http://192.168.0.10:5000, got '\(value)'")
            }
            serverURL = value
        case "fps": fps = try number(0.1...60)
        case "source":
            guard let s = Source(rawValue: value) else { throw fail("expected v4l2, folder or synthetic, got '\(value)'") }
            self.source = s
        case "camera_index": cameraIndex = try whole(0...63)
        case "device": device = value.isEmpty ? nil : value
        case "folder": folder = value.isEmpty ? nil : value
        case "synthetic_seed":
            guard let v = UInt64(value) else { throw fail("expected a whole number, got '\(value)'") }
            syntheticSeed = v
        case "width": width = try whole(16...8192)
        case "height": height = try whole(16...8192)
        case "jpeg_quality": jpegQuality = try whole(1...100)
        case "timeout_s": timeoutSeconds = try number(0.1...120)
        case "api_token": apiToken = value.isEmpty ? nil : value
        case "gpio":
            switch value {
            case "off", "false", "none": gpio = .off
            case "dry-run": gpio = .dryRun
            case let path where path.hasPrefix("/dev/"): gpio = .chip(path)
            default: throw fail("expected off, dry-run or a GPIO chip such as /dev/gpiochip0, got '\(value)'")
            }
        case "policy": policyPath = value
        case "wait_for_board": waitForBoard = value == "auto" ? nil : try flag()
        case "verdict_timeout_s": verdictTimeoutSeconds = try number(0.1...60)
        case "triggered": triggered = try flag()
        case "log_level":
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
                throw fail("expected trace, debug, info, notice, warning, error or critical, got '\(value)'")
            }
            logLevel = value
        default:
            throw CameraConfigError("\(source)unknown setting '\(key)' (known: \(Self.knownKeys.joined(separator: ", ")))")
        }
    }

    static let knownKeys = ["api_token", "camera_id", "camera_index", "device", "folder", "fps", "gpio", "height", "jpeg_quality",
                            "log_level", "policy", "server_url", "source", "synthetic_seed", "timeout_s", "triggered",
                            "verdict_timeout_s", "wait_for_board", "width"]

    private func validate() throws(CameraConfigError) {
        if source == .folder && folder == nil { throw CameraConfigError("source folder needs folder: <path>") }
        if width % 2 != 0 { throw CameraConfigError("width must be even (YUYV cameras send pixel pairs)") }
    }

    private static func fileValues(_ text: String, fileName: String) throws(CameraConfigError) -> [(String, String)] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw CameraConfigError("\(fileName): not valid YAML: \(error)") }
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw CameraConfigError("\(fileName): the top level must be a mapping") }
        var values: [(String, String)] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else { continue }
            guard let scalar = valueNode.scalar else {
                throw CameraConfigError("\(fileName) line \((valueNode.mark?.line ?? 0)): \(key) must be a single value")
            }
            if scalar.string == "null" || scalar.string == "~" || (scalar.string.isEmpty && scalar.style == .plain) { continue }
            values.append((key, scalar.string))
        }
        return values
    }
}

/// A camera setting that could not be used, naming where it came from.
public struct CameraConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
