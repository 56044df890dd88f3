// `pcb serve`: runs the inspection server.

import ArgumentParser
import Foundation
import Detection
import Inspection
import InspectionServer
import NeuralEngine
import Logging
import Telemetry

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the inspection server (HTTP API for cameras, the Windows app and the dashboard).",
        discussion: """
            Settings come from the config file, then PCB_* environment variables (PCB_PORT, PCB_DATA_DIR, \
            PCB_MODEL, PCB_DATABASE, PCB_API_TOKEN, ...), then these flags; later ones win.
            """)

    @Option(help: "YAML configuration file (default: configs/server.yaml when present).")
    var config: String?
    @Option(help: "Address to bind (default 0.0.0.0).") var host: String?
    @Option(help: "TCP port (default 5000).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Folder for the SQLite file, defect images and logs (default ./var).")
    var dataDir: String?
    @Option(help: "ONNX detector (default: the bundled \(ServerConfig.bundledModelPath)).") var model: String?
    @Option(help: "PaDiM anomaly model (.padim from `pcb anomaly fit` on this detector) to run beside it.") var anomaly: String?
    @Option(help: "Golden board: a JPEG of a known-good board, for every camera (F.jpg) or per camera (left=L.jpg,right=R.jpg).")
    var reference: String?
    @Option(help: "Per-class thresholds (`pcb calibrate`; default: <model>.calibration.json beside the model if present; 'none').")
    var calibration: String?
    @Option(help: "sqlite:PATH, sqlite::memory: or mysql://user:password@host:3306/db (default: SQLite in the data dir).")
    var database: String?
    @Option(name: .customLong("api-token"), help: "Require 'Authorization: Bearer TOKEN' on every endpoint but /health and the dashboard page.")
    var apiToken: String?
    @Option(help: "Defect policy file (default data/pcb_defects.yaml).") var policy: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel: String?
    @Option(name: .customLong("threads"), help: "Inference threads (default: every core).") var threads: Int?
    @Option(help: "The detector's convolutions: auto (default: the fastest the CPU runs that passed the model's accuracy record <model>.precision.json, else fp32), fp32, bf16 (AVX512_BF16 CPUs), int8 (AVX512_VNNI CPUs, with the model's calibration <model>.int8.json).")
    var precision: String?
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "KEY=VALUE: any configs/server.yaml key (repeatable), e.g. --set min_free_disk_mb=500.", valueName: "key=value"))
    var settingsFlags: [String] = []

    func run() async throws {
        var flags: [String: String] = [:]
        for item in settingsFlags {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--set expects KEY=VALUE, got '\(item)'") }
            flags[parts[0]] = parts[1]
        }
        flags["host"] = host
        flags["port"] = port.map(String.init)
        flags["data_dir"] = dataDir
        flags["model"] = model
        flags["anomaly"] = anomaly
        flags["calibration"] = calibration
        flags["reference"] = reference
        flags["database"] = database
        flags["api_token"] = apiToken
        flags["policy"] = policy
        flags["log_level"] = logLevel
        flags["inference_threads"] = threads.map(String.init)
        flags["precision"] = precision

        // The program's own files are found from any working directory (InstalledFiles).
        let installed = InstalledFiles.forThisProcess()
        let file = try ConfigFile(explicit: config, defaultPath: installed.locate("configs/server.yaml"))
        let settings: ServerConfig
        do {
            settings = try ServerConfig.load(fileText: file.text, fileName: file.path ?? "", environment: ProcessInfo.processInfo.environment, flags: flags)
                .locatingFiles(installed)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }

        let logFile = settings.logToFile
            ? try RotatingLogFile(path: (settings.dataDirectory as NSString).appendingPathComponent("logs/server.log"))
            : nil
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, file: logFile) }
        let logger = Logger(label: "pcb.serve")

        do {
            let dependencies = try await ServerDependencies.load(settings)
            let app = try await buildApplication(settings, dependencies: dependencies, logger: logger)
            try await app.runService()
        } catch let error as ConfigError {
            logger.critical("cannot start: \(error.description)")
            throw ExitCode(2)
        } catch is CancellationError {
            return
        } catch let error as PolicyError {
            logger.critical("cannot start: \(error.description)")
            throw ExitCode(2)
        } catch let error as DetectionError {
            logger.critical("cannot start: model \(settings.modelPath): \(error.description)")
            throw ExitCode(2)
        } catch let error as EngineError {
            logger.critical("cannot start: model \(settings.modelPath): \(error.description)")
            throw ExitCode(2)
        }
    }
}
