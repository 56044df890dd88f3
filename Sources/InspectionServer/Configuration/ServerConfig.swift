// The server's whole configuration: one Sendable value, parsed once and passed down.
//
// Layers, later ones winning: built-in defaults < `configs/server.yaml` < `PCB_*`
// environment variables < command-line flags. Every layer speaks the same snake_case keys
// (`port`, `data_dir`, ...), so `PCB_DATA_DIR=/srv/pcb` and `--data-dir /srv/pcb` and
// `data_dir: /srv/pcb` in the file all mean the same thing.

import Foundation
import Inspection

/// Everything `pcb serve` can be told. Defaults are documented on each field.
public struct ServerConfig: Sendable, Equatable {
    /// Address to bind. Default `0.0.0.0` (all interfaces: cameras are on the network).
    public var host = "0.0.0.0"
    /// TCP port. Default 5000 (the seed's).
    public var port = 5000
    /// Where the SQLite file, defect images and logs live. Default `./var`.
    public var dataDirectory = "./var"
    /// ONNX detector. Default: the bundled synthetic-board model.
    public var modelPath = ServerConfig.bundledModelPath
    /// Per-class thresholds (`pcb calibrate`). Default nil: `<model>.calibration.json` beside
    /// the model when it exists, else the policy's one threshold; `none` for the policy's always.
    public var calibrationPath: String? = nil
    /// Golden boards (JPEGs of known-good boards) by camera id; `*` for every camera. None by
    /// default; also taught while running (`PUT /api/reference`).
    public var referencePaths: [String: String] = [:]
    /// The folder model files given to a reload must lie in. Default nil: the configured model's folder.
    public var modelDirectory: String? = nil
    /// A PaDiM anomaly model (`pcb anomaly fit`) run beside the detector; none by default.
    public var anomalyPath: String? = nil
    /// `sqlite:PATH`, `sqlite::memory:`, or `mysql://user:password@host:3306/db`. Default: SQLite in the data directory.
    public var databaseURL: String? = nil
    /// When set, every endpoint but `/health` and the dashboard's files requires
    /// `Authorization: Bearer <token>` (Middleware/AccessControl.swift); grants every scope.
    public var apiToken: String? = nil
    /// Tokens of one scope each: reads (Windows app, dashboard), writes (cameras), admin
    /// (golden boards, reloads; reads too). Without `api_token`, all three must be set.
    public var readToken: String? = nil
    public var writeToken: String? = nil
    public var adminToken: String? = nil
    /// HTTPS: a PEM certificate chain and its PEM private key (both or neither). Default none:
    /// plain HTTP (on a VPN, or behind a proxy that terminates TLS).
    public var tlsCertificatePath: String? = nil
    public var tlsKeyPath: String? = nil
    /// Origins whose pages may call the API from a browser (CORS); `*` for any. Default none:
    /// the same origin only (the dashboard).
    public var corsOrigins: [String] = []
    /// The defect policy file. Default `data/pcb_defects.yaml`.
    public var policyPath = "data/pcb_defects.yaml"
    /// The API description served at `/openapi.yaml`. Default `docs/openapi.yaml`.
    public var openAPIPath = "docs/openapi.yaml"
    /// The live dashboard's files, served at `/`. Default `dashboard`.
    public var dashboardDirectory = "dashboard"
    /// Camera ids accepted by `/predict`. Default `left`, `right`.
    public var cameras = ["left", "right"]
    /// Largest request body; larger ones get 413. Default 20 MiB.
    public var maxBodyBytes = 20 * 1024 * 1024
    /// Largest decoded frame in pixels; larger ones get 413. Default 40 megapixels.
    public var maxImagePixels = 40_000_000
    /// Seconds a connection may sit idle (between requests, or mid-request without a byte) before
    /// it is closed. Default 60.
    public var idleTimeoutSeconds = 60
    /// Seconds a request has to arrive whole (head and body) after its head. Default 30.
    public var requestTimeoutSeconds = 30
    /// Connections served at once; a request on one more gets 503. Default 1024.
    public var maxConnections = 1024
    /// Request bodies being received at once; one more gets 503 before it is read. Default 32.
    public var maxBodiesInFlight = 32
    /// Inference jobs that may wait; more get 503 with Retry-After. Default 8.
    public var queueCapacity = 8
    /// Number format of the detector's convolutions: `auto` (default: the fastest the CPU runs
    /// that passed the model's accuracy record `<model>.precision.json`, else fp32; resolved
    /// again for each model a reload brings), `fp32`, `bf16` (AVX512_BF16 CPUs) or `int8`
    /// (AVX512_VNNI CPUs, with `<model>.int8.json`); the last two are refused at start elsewhere.
    public var precision = "auto"
    /// Threads of the inference engine. Default: every core.
    public var inferenceThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Seconds without a frame after which a camera counts as offline. Default 10.
    public var cameraOfflineAfterSeconds = 10.0
    /// Longest capture-time difference between the two sides of one board sent without a
    /// `board_id`. Default 0.5 s.
    public var pairingWindowSeconds = 0.5
    /// Longest wait for a board's second side; then the fail-safe verdict. Default 2 s
    /// (the sorter allows 2.5 s).
    public var pairingDeadlineSeconds = 2.0
    /// Log level for stdout and the log file: trace, debug, info, notice, warning, error. Default info.
    public var logLevel = "info"
    /// Whether to write the rotating log file `<data_dir>/logs/server.log`. Default true.
    public var logToFile = true
    /// SQLite durability: `full` (survives power loss, default) or `normal`.
    public var sqliteSynchronous = "full"
    /// Below this much free space (MB) on the data disk, image files (defect images, journal
    /// JPEGs) are not written; verdicts and rows still are. Default 200; 0 turns the guard off.
    public var minFreeDiskMB = 200
    /// Days defect images are kept (then deleted, the rows kept). Default nil: the seed's
    /// `system_config` row `max_image_retention_days` (90), read again every hour; 0 keeps them forever.
    public var imageRetentionDays: Int? = nil
    /// Days `system_logs` rows are kept. Default 90; 0 keeps them forever.
    public var logRetentionDays = 90
    /// Size of the MySQL outage journal's waiting data (MB) past which the oldest JPEGs in it are
    /// dropped; rows are always kept. Default 1024.
    public var journalMaxMB = 1024
    /// Frames kept for labelling (their JPEG stored whatever the verdict): near a class
    /// threshold (`label_near_margin`, 0.1), a share of normal ones (`label_normal_share`, 0.01),
    /// at most `label_max_per_day` (200) a day; frames an operator marks wrong are always kept.
    public var labelling = LabellingRule.standard

    public static let bundledModelPath = "models/pcb_synthetic_yolov8n.onnx"

    public init() {}

    /// The database URL in effect.
    public var effectiveDatabaseURL: String {
        databaseURL ?? "sqlite:" + (dataDirectory as NSString).appendingPathComponent("pcb.sqlite")
    }

    /// Whether the bind address is reachable only from this machine.
    public var bindsLoopbackOnly: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
