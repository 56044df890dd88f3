// Assembles the inspection server: configuration -> dependencies -> components -> router and
// services. `ServerDependencies.load(config)` opens what a real server needs (policy file,
// model, database); tests pass their own. `buildApplication` builds the line's components
// (`ServerComponents`) once, then `buildRouter` and the background services over them.

import Detection
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import ImageKit
import Inspection
import Logging
import NeuralEngine
import NIOSSL
import ServiceLifecycle
import Storage

/// What the server runs on: the policy, the detector and the store.
public struct ServerDependencies: Sendable {
    public var policy: DefectPolicy
    public var detector: any DefectDetector
    public var store: any InspectionStore
    public var storeTime: StoreTime
    /// Golden boards to start with: camera id (`*` for every camera) -> JPEG bytes.
    public var references: [String: [UInt8]]
    /// The defect images' folder (retention) and its free-space guard; none in memory-only tests.
    public var images: DefectImageFolder?
    /// What judges the frames (model, calibration, policy, server version), stored with each verdict.
    public var provenance: Provenance?
    /// The policy as read from its file, before the calibration (a reload applies the new model's).
    public var basePolicy: DefectPolicy?
    /// Why the detector's convolutions run in the precision they do (`precision: auto` reads
    /// the model's accuracy record), for the start-up log.
    public var precisionNote = ""

    public init(policy: DefectPolicy, detector: any DefectDetector, store: any InspectionStore, storeTime: StoreTime = StoreTime(),
                references: [String: [UInt8]] = [:], images: DefectImageFolder? = nil, provenance: Provenance? = nil) {
        self.provenance = provenance
        self.policy = policy
        self.detector = detector
        self.store = store
        self.storeTime = storeTime
        self.references = references
        self.images = images
    }
}

/// Builds the application for `config` on `dependencies`: the components of the line, then
/// the router over them and the background services, all wired at construction.
///
/// ```swift
/// let app = try await buildApplication(config, dependencies: try await .load(config), logger: logger)
/// try await app.runService()
/// ```
public func buildApplication(_ config: ServerConfig, dependencies: ServerDependencies, logger: Logger) async throws -> some ApplicationProtocol {
    let components = try await ServerComponents.assemble(config, dependencies: dependencies, logger: logger)
    if !config.bindsLoopbackOnly && components.tokens.isOpen {
        logger.warning("listening on \(config.host) without an API token: anyone who can reach port \(config.port) can post frames and read the history; set --api-token or PCB_API_TOKEN")
    }
    try? await dependencies.store.appendLog(SystemLogEntry(
        level: "INFO", source: "server", message: "server starting on \(config.host):\(config.port) with \(dependencies.detector.modelDescription)"))
    var server = HTTPServerBuilder.guardedHTTP1WebSocket(webSocketRouter: buildWebSocketRouter(components), limits: components.connectionLimits,
                                                         tokens: components.tokens)
    if let tls = try tlsConfiguration(config) {
        server = try .tls(server, tlsConfiguration: tls)
        logger.info("HTTPS with \(config.tlsCertificatePath ?? "")")
    }
    return Application(
        router: buildRouter(config, components, logger: logger),
        server: server,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "pcb-inspection"),
        services: components.services,
        logger: logger)
}

/// HTTPS from the configured PEM files, nil for plain HTTP; refuses half a pair or a file it cannot read.
func tlsConfiguration(_ config: ServerConfig) throws -> TLSConfiguration? {
    switch (config.tlsCertificatePath, config.tlsKeyPath) {
    case (nil, nil):
        return nil
    case (let certificate?, let key?):
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            guard !chain.isEmpty else { throw ConfigError(description: "TLS: no certificate in \(certificate)") }
            return TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(description: "TLS: cannot use the certificate \(certificate) and key \(key): \(error)")
        }
    default:
        throw ConfigError(description: "TLS needs both tls_cert and tls_key (PEM files)")
    }
}

/// The parts of a running server, built once from the configuration and the dependencies.
struct ServerComponents: Sendable {
    let line: InspectionLine
    let worker: InferenceWorker
    let pairing: BoardPairingService
    let live: LiveFeed
    let cameras: CameraRegistry
    let goldens: GoldenBoards
    let metrics: ServerMetrics
    let store: any InspectionStore
    let storeTime: StoreTime
    let housekeeping: HousekeepingService
    let tokens: AccessTokens
    let connectionLimits: ConnectionLimits
    let reloader: ModelReloader
    let configuredModel: ModelReloader.Files
    /// The policy file SIGHUP reads again.
    let configuredPolicy: String
    let logger: Logger

    var diskGuard: DiskSpaceGuard? { housekeeping.images?.diskGuard }

    /// Checks that the policy maps the model's classes, migrates the store, and builds the line.
    static func assemble(_ config: ServerConfig, dependencies: ServerDependencies, logger: Logger) async throws -> ServerComponents {
        let tokens = try AccessTokens(config)
        logger.notice("the detector's convolutions run in \(dependencies.detector.precision)",
                    metadata: dependencies.precisionNote.isEmpty ? nil : ["why": "\(dependencies.precisionNote)"])
        let judging = JudgingSet(policy: dependencies.policy, provenance: dependencies.provenance)
        // Which thresholds judge the boards: a calibration beside the model is read by default.
        logger.notice("verdicts at \(judging.thresholdsNote)")
        try dependencies.policy.validate(modelClasses: dependencies.detector.classNames)
        try await dependencies.store.migrate()
        let store = dependencies.store
        let worker = InferenceWorker(detector: dependencies.detector, judging: judging, capacity: config.queueCapacity, logger: logger)
        let cameras = CameraRegistry(cameras: config.cameras)
        let goldens = GoldenBoards(try goldenBoards(dependencies.references, cameras: config.cameras))
        let metrics = ServerMetrics()
        let today = CalendarDay(dependencies.storeTime.day(of: Date()))!
        let live = LiveFeed(
            policy: dependencies.policy, cameras: cameras, storeTime: dependencies.storeTime,
            cameraOfflineAfterSeconds: config.cameraOfflineAfterSeconds,
            today: try? await store.statistics(from: today, through: today),
            status: {
                LiveSnapshot.Status(modelReady: worker.isReady, model: worker.modelDescription, databaseOnline: await store.isReachable(),
                                    queueDepth: worker.queueDepth, journalPending: store.backlog.pending,
                                    precision: worker.precision.rawValue, flips: worker.flips.rawValue,
                                    diskLow: dependencies.images?.diskGuard?.status.low ?? false)
            })
        let pairing = BoardPairingService(
            policy: dependencies.policy,
            configuration: .init(pairingWindow: config.pairingWindowSeconds, deadline: config.pairingDeadlineSeconds),
            store: store, metrics: metrics, live: live, provenance: dependencies.provenance, logger: logger)
        let line = InspectionLine(
            decoder: FrameDecoder(codec: JPEGCodec(maxPixels: config.maxImagePixels)), worker: worker,
            store: store, pairing: pairing, cameras: cameras, goldens: goldens, labelling: LabellingPicker(rule: config.labelling),
            storeTime: dependencies.storeTime, live: live, metrics: metrics, logger: logger)
        let reloader = ModelReloader(
            worker: worker, pairing: pairing, live: live, basePolicy: dependencies.basePolicy ?? dependencies.policy,
            policyId: dependencies.provenance?.policy ?? "", policyPath: config.policyPath, calibrationOff: config.calibrationPath == "none",
            threads: config.inferenceThreads, precision: config.precision, marginBelow: config.labelling.nearMargin,
            modelFolder: config.modelDirectory ?? (config.modelPath as NSString).deletingLastPathComponent,
            files: .init(model: config.modelPath, anomaly: config.anomalyPath),
            judging: judging, store: store, logger: logger)
        let housekeeping = HousekeepingService(
            store: store, images: dependencies.images, imageRetentionDays: config.imageRetentionDays,
            logRetentionDays: config.logRetentionDays, logger: logger)
        return ServerComponents(line: line, worker: worker, pairing: pairing, live: live, cameras: cameras, goldens: goldens,
                                metrics: metrics, store: store, storeTime: dependencies.storeTime, housekeeping: housekeeping,
                                tokens: tokens, connectionLimits: ConnectionLimits(
                                    maxConnections: config.maxConnections, maxBodiesInFlight: config.maxBodiesInFlight,
                                    requestTimeout: .seconds(Int64(config.requestTimeoutSeconds)),
                                    idleTimeout: .seconds(Int64(config.idleTimeoutSeconds))),
                                reloader: reloader,
                                configuredModel: .init(model: config.modelPath, anomaly: config.anomalyPath),
                                configuredPolicy: config.policyPath,
                                logger: logger)
    }

    /// The starting golden boards by camera; refuses a picture that cannot serve as one.
    static func goldenBoards(_ references: [String: [UInt8]], cameras: [String]) throws -> [String: GoldenBoards.Entry] {
        var entries: [String: GoldenBoards.Entry] = [:]
        // `*` (every camera) first, so a camera's own golden board replaces it.
        for (camera, jpeg) in references.sorted(by: { ($0.key == "*" ? 0 : 1, $0.key) < ($1.key == "*" ? 0 : 1, $1.key) }) {
            guard camera == "*" || cameras.contains(camera) else {
                throw ConfigError(description: "reference: unknown camera '\(camera)' (configured: \(cameras.joined(separator: ", ")))")
            }
            let board: GoldenBoard
            do { board = try GoldenBoard(reference: try JPEGCodec().decode(jpeg)) } catch {
                throw ConfigError(description: "reference for \(camera == "*" ? "every camera" : "camera '\(camera)'"): \(error)")
            }
            let entry = GoldenBoards.Entry(board: board, jpeg: jpeg, taughtAt: Date(), source: "configuration")
            for id in camera == "*" ? cameras : [camera] { entries[id] = entry }
        }
        return entries
    }

    /// What runs beside the HTTP server until shutdown.
    var services: [any Service] {
        [worker, pairing, live, StoreBacklogService(store: store, logger: logger), housekeeping,
         ReloadSignalService(reloader: reloader, configured: configuredModel, configuredPolicy: configuredPolicy, logger: logger)]
    }
}

/// The HTTP routes and their middleware.
func buildRouter(_ config: ServerConfig, _ components: ServerComponents, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    // The origin policy first (outermost), so error responses carry its headers too.
    router.add(middleware: OriginPolicyMiddleware(allowed: config.corsOrigins))
    router.add(middleware: MetricsMiddleware(metrics: components.metrics))
    router.add(middleware: ErrorMiddleware(store: components.store, logger: logger))
    router.add(middleware: AccessControlMiddleware(tokens: components.tokens))
    router.addRoutes(PredictController(line: components.line, maxBodyBytes: config.maxBodyBytes).endpoints)
    router.addRoutes(MonitoringController(
        store: components.store, worker: components.worker, cameras: components.cameras, hostUsage: HostUsage(),
        storeTime: components.storeTime, cameraOfflineAfterSeconds: config.cameraOfflineAfterSeconds,
        openAPIDocument: FileManager.default.contents(atPath: config.openAPIPath).map { [UInt8]($0) },
        metrics: components.metrics, diskGuard: components.diskGuard, connectionLimits: components.connectionLimits,
        reloader: components.reloader).endpoints)
    let dashboardFiles = DashboardFiles(directory: config.dashboardDirectory)
    if dashboardFiles.isEmpty {
        logger.warning("no dashboard files in \(config.dashboardDirectory): / answers 404 (set `dashboard:` in the config)")
    }
    router.addRoutes(DashboardController(live: components.live, files: dashboardFiles).endpoints)
    let references = ReferenceController<BasicRequestContext>(goldens: components.goldens, cameras: components.cameras,
                                                               live: components.live, maxBodyBytes: config.maxBodyBytes)
    router.addRoutes(AdminController(reloader: components.reloader, references: references, maxBodyBytes: config.maxBodyBytes).endpoints)
    router.addRoutes(ReviewController(store: components.store, live: components.live, reloader: components.reloader,
                                      storeTime: components.storeTime, maxBodyBytes: config.maxBodyBytes).endpoints)
    router.addRoutes(LabellingController(store: components.store, worker: components.worker, storeTime: components.storeTime).endpoints)
    router.addRoutes(references.endpoints)
    return router
}

/// The live feed's WebSocket, upgraded by its own small router. An upgrade without a token that
/// grants reads is answered 401 before it gets here (WebSocketAccessHandler); the check below
/// stays so the router never upgrades one on its own.
func buildWebSocketRouter(_ components: ServerComponents) -> Router<BasicWebSocketRequestContext> {
    let router = Router(context: BasicWebSocketRequestContext.self)
    let live = components.live
    let tokens = components.tokens
    router.ws("/ws/live", shouldUpgrade: { request, _ in
        tokens.grants(AccessTokens.token(of: request, scope: .read), .read) ? .upgrade([:]) : .dontUpgrade
    }) { inbound, outbound, _ in
        try await live.serve(inbound: inbound, outbound: outbound)
    }
    return router
}

extension ServerDependencies {
    /// Opens the policy file, the model and the database named by `config`.
    public static func load(_ config: ServerConfig) async throws -> ServerDependencies {
        let policyText: String
        do {
            policyText = try String(contentsOfFile: config.policyPath, encoding: .utf8)
        } catch {
            throw ConfigError(description: "cannot read the defect policy file \(config.policyPath): \(error.localizedDescription)")
        }
        let basePolicy = try DefectPolicy.load(yaml: policyText, fileName: config.policyPath)
        let (detector, judging, precisionNote) = try ModelLoader.loadSet(
            model: config.modelPath, anomaly: config.anomalyPath, calibration: config.calibrationPath, basePolicy: basePolicy,
            policyId: Provenance.fileId(name: (config.policyPath as NSString).lastPathComponent, bytes: Array(policyText.utf8)),
            threads: config.inferenceThreads, precision: config.precision, marginBelow: config.labelling.nearMargin)
        var references: [String: [UInt8]] = [:]
        for (camera, path) in config.referencePaths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError(description: "cannot read the golden board \(path) (--reference)")
            }
            references[camera] = [UInt8](data)
        }
        let storeTime = StoreTime()
        let images = DefectImageFolder(
            directory: (config.dataDirectory as NSString).appendingPathComponent("images"),
            diskGuard: DiskSpaceGuard(directory: config.dataDirectory, minimumFreeBytes: Int64(config.minFreeDiskMB) << 20))
        let store = try openStore(config, images: images, storeTime: storeTime)
        var dependencies = ServerDependencies(policy: judging.policy, detector: detector, store: store, storeTime: storeTime,
                                              references: references, images: images, provenance: judging.provenance)
        dependencies.basePolicy = basePolicy
        dependencies.precisionNote = precisionNote
        return dependencies
    }

    static func openStore(_ config: ServerConfig, images: DefectImageFolder, storeTime: StoreTime) throws -> any InspectionStore {
        let url = config.effectiveDatabaseURL
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        if url == "sqlite::memory:" {
            return try SQLiteInspectionStore(inMemoryWith: images, timeZone: storeTime.timeZone)
        }
        if url.hasPrefix("sqlite:") {
            return try SQLiteInspectionStore(
                path: String(url.dropFirst("sqlite:".count)), images: images, timeZone: storeTime.timeZone,
                durability: config.sqliteSynchronous == "normal" ? .normal : .full)
        }
        if url.hasPrefix("mysql://") {
            do {
                // Nothing lost while MySQL is away: results wait in a local journal and are replayed.
                let mysql = try MySQLInspectionStore(url: try MySQLURL(url), images: images, timeZone: storeTime.timeZone)
                return try JournaledInspectionStore(
                    primary: mysql, journalPath: (config.dataDirectory as NSString).appendingPathComponent("journal.sqlite"),
                    diskGuard: images.diskGuard, maxBytes: config.journalMaxMB << 20)
            } catch let error as StoreError {
                throw ConfigError(description: error.description)
            }
        }
        throw ConfigError(description: "database '\(MySQLURL.redacted(url))': expected sqlite:PATH, sqlite::memory: or mysql://user:password@host:3306/db")
    }
}
