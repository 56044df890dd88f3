// `pcb camera`: the camera client of one Raspberry Pi (the seed's webcam client, in Swift).

import ArgumentParser
import AsyncHTTPClient
import EdgeClient
import Foundation
import Inspection
import Logging
import Telemetry

struct Camera: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a camera client: capture, post frames to the server, drive the sorter's GPIO (left Pi).",
        discussion: """
            Settings come from configs/camera.yaml (or --config), then PCB_CAMERA_* environment variables, \
            then these flags; later ones win. The seed's flags work unchanged:
              pcb camera --camera_id left --camera_index 0 --server_url http://192.168.0.10:5000 --fps 10
            Frame sources: a V4L2 webcam (default), --source folder --folder DIR, or --source synthetic.
            GPIO: --gpio /dev/gpiochip0 (the left Pi), --gpio dry-run (log only), --gpio off.
            """)

    @Option(help: "YAML configuration file (default: configs/camera.yaml when present).") var config: String?
    @Option(name: [.customLong("camera_id"), .customLong("camera-id")], help: "left or right.") var cameraId: String?
    @Option(name: [.customLong("camera_index"), .customLong("camera-index")], help: "V4L2 camera: /dev/video<N>.") var cameraIndex: Int?
    @Option(name: [.customLong("server_url"), .customLong("server-url")], help: "e.g. http://192.168.0.10:5000") var serverURL: String?
    @Option(help: "Frames sent per second at most (default 10).") var fps: Double?
    @Option(help: "v4l2, folder or synthetic.") var source: String?
    @Option(help: "V4L2 device path (instead of --camera_index).") var device: String?
    @Option(help: "Folder of JPEG frames (--source folder).") var folder: String?
    @Option(help: "off, dry-run, or a GPIO chip such as /dev/gpiochip0.") var gpio: String?
    @Option(name: .customLong("api-token"), help: "Bearer token of the server.") var apiToken: String?
    @Option(help: "Defect policy file: GPIO pins and the fail-safe category (default data/pcb_defects.yaml).") var policy: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["camera_id"] = cameraId
        flags["camera_index"] = cameraIndex.map(String.init)
        flags["server_url"] = serverURL
        flags["fps"] = fps.map { String($0) }
        flags["source"] = source
        flags["device"] = device
        flags["folder"] = folder
        flags["gpio"] = gpio
        flags["api_token"] = apiToken
        flags["policy"] = policy
        flags["log_level"] = logLevel
        let file = try ConfigFile(explicit: config, defaultPath: "configs/camera.yaml")
        let settings: CameraConfig
        do {
            settings = try CameraConfig.load(fileText: file.text, fileName: file.path ?? "", environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, file: nil) }
        let logger = Logger(label: "pcb.camera.\(settings.cameraId)")

        let policy = try PolicyFiles.policy(settings.policyPath)
        let frameSource: any FrameSource
        switch settings.source {
        case .v4l2: frameSource = V4L2FrameSource(devicePath: settings.devicePath, width: settings.width, height: settings.height, quality: settings.jpegQuality)
        case .folder: frameSource = try FolderFrameSource(folder: settings.folder ?? ".", fps: settings.fps)
        case .synthetic: frameSource = SyntheticFrameSource(seed: settings.syntheticSeed, fps: settings.fps, width: settings.width, height: settings.height, quality: settings.jpegQuality)
        }
        let actuator: (any GPIOActuator)?
        switch settings.gpio {
        case .off: actuator = nil
        case .dryRun: actuator = DryRunActuator(logger: logger)
        case .chip(let path): actuator = try LinuxGPIOActuator(chipPath: path, pins: policy.gpioPins, logger: logger)
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let uploader = FrameUploader(serverURL: settings.serverURL, cameraId: settings.cameraId, token: settings.apiToken,
                                     timeoutSeconds: settings.timeoutSeconds, client: http)
        let client = CameraClient(
            configuration: .init(cameraId: settings.cameraId, fps: settings.fps, waitForBoard: settings.effectiveWaitForBoard,
                                 everyFrameIsABoard: settings.triggered, verdictTimeout: settings.verdictTimeoutSeconds),
            source: frameSource, uploader: uploader, actuator: actuator,
            failSafe: policy.category(policy.failSafeCategory).gpio, logger: logger)
        logger.info("camera \(settings.cameraId): \(settings.source.rawValue) source, \(settings.fps) fps -> \(uploader.predictURL), GPIO \(settings.gpio)")

        // SIGINT/SIGTERM (systemd stop) end the run; pins go LOW and the HTTP client closes either way.
        let run = Task { try await client.run() }
        let signals = stopOnSignals { run.cancel() }
        defer { signals.forEach { $0.cancel() } }
        var failure: Error? = nil
        do { try await run.value } catch is CancellationError {} catch { failure = error }
        await actuator?.shutdown()
        try? await http.shutdown()
        let stats = await client.statistics
        logger.info("camera \(settings.cameraId) stopped: captured \(stats.captured), sent \(stats.sent), skipped \(stats.skipped), inspected \(stats.inspected), pulses \(stats.pulses) (fail-safe \(stats.failSafePulses))")
        if let failure { throw failure }
    }

}

/// Calls `stop` once on SIGINT or SIGTERM.
func stopOnSignals(_ stop: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: stop)
        source.resume()
        return source
    }
}
