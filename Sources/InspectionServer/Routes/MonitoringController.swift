// The monitoring API the Windows app reads (docs/CONTRACT.md, "Monitoring API"), and /health.

import Foundation
import Hummingbird
import ImageKit
import Inspection
import Storage
import Telemetry

/// `/health`, `/api/inspections`, `/api/statistics`, `/api/defect-images/{id}`, `/api/system-status`.
struct MonitoringController<Context: RequestContext>: Sendable {
    let store: any InspectionStore
    let worker: InferenceWorker
    let cameras: CameraRegistry
    let hostUsage: HostUsage
    let storeTime: StoreTime
    let cameraOfflineAfterSeconds: Double
    /// docs/openapi.yaml as read at start (nil when the file is not there).
    let openAPIDocument: [UInt8]?
    let metrics: ServerMetrics
    /// The data disk's free-space guard (nil in memory-only tests).
    let diskGuard: DiskSpaceGuard?
    let connectionLimits: ConnectionLimits?
    /// What judges the frames now (its provenance is shown by /api/system-status).
    let reloader: ModelReloader

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get("/health", use: health)
            .get("/api/inspections", use: inspections)
            .get("/api/statistics", use: statistics)
            .get("/api/defect-images/{id}", use: defectImage)
            .get("/api/anomaly-maps/{id}", use: anomalyMap)
            .get("/api/system-status", use: systemStatus)
            .get("/openapi.yaml", use: openAPI)
            .get("/metrics", use: prometheus)
    }

    /// Prometheus text format; gauges are read now, counters and histograms kept as they happen.
    @Sendable func prometheus(_ request: Request, context: Context) async throws -> Response {
        metrics.gauge("pcb_model_ready", [], worker.isReady ? 1 : 0)
        if let model = await reloader.provenance?.model { metrics.modelInUse(model) }
        metrics.precisionInUse(worker.precision.rawValue)
        metrics.gauge("pcb_inference_queue_depth", [], Double(worker.queueDepth))
        metrics.gauge("pcb_database_online", [], await store.isReachable() ? 1 : 0)
        metrics.gauge("pcb_journal_pending", [], Double(store.backlog.pending))
        metrics.gauge("pcb_log_lines_dropped", [], Double(LogWriteFailures.dropped))
        if let limits = connectionLimits {
            metrics.gauge("pcb_http_connections_open", [], Double(limits.openConnections))
            metrics.gauge("pcb_http_bodies_in_flight", [], Double(limits.bodiesInFlight))
            metrics.gauge("pcb_http_refused_over_limit", [], Double(limits.refused))
            metrics.gauge("pcb_http_request_timeouts", [], Double(limits.timedOut))
        }
        if let disk = diskGuard?.status {
            metrics.gauge("pcb_disk_low", [], disk.low ? 1 : 0)
            metrics.gauge("pcb_disk_free_bytes", [], Double(disk.freeBytes ?? -1))
            metrics.gauge("pcb_images_skipped_low_disk", [], Double(disk.imagesSkipped))
        }
        for id in cameras.cameras {
            // -1 until the camera's first frame.
            metrics.gauge("pcb_camera_last_frame_age_seconds", [("camera", id)], cameras.secondsSinceLastFrame(id) ?? -1)
            metrics.gauge("pcb_camera_online", [("camera", id)], cameras.isOnline(id, window: cameraOfflineAfterSeconds) ? 1 : 0)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }

    /// The OpenAPI 3.1 description of this API.
    @Sendable func openAPI(_ request: Request, context: Context) async throws -> Response {
        guard let document = openAPIDocument else {
            throw APIError(.notFound, "API description not found (docs/openapi.yaml in the working directory, or `openapi:` in the config)")
        }
        return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }

    struct Health: Encodable {
        let status: String
        let timestamp: String
        let model_ready: Bool
        let model: String
        /// The number format of the detector's convolutions.
        let precision: String
        /// The mirror images each frame is also run on (none, horizontal, both).
        let test_time_flips: String
        let model_error: String?
        let database_online: Bool
        /// Results waiting in the local journal for the database (MySQL outages); 0 on SQLite.
        let journal_pending: Int
        let queue_depth: Int
        let disk: DiskState?
    }

    /// The data disk as the guard last saw it.
    struct DiskState: Encodable {
        /// Below the minimum: images are not saved (verdicts and rows still are).
        let low: Bool
        let free_mb: Int?
        let min_free_mb: Int
        let images_skipped: Int

        init?(_ diskGuard: DiskSpaceGuard?) {
            guard let diskGuard else { return nil }
            let status = diskGuard.status
            low = status.low
            free_mb = status.freeBytes.map { Int($0 >> 20) }
            min_free_mb = Int(diskGuard.minimumFreeBytes >> 20)
            images_skipped = status.imagesSkipped
        }
    }

    /// 200 `{"status": "ok", ...}` once the model is warmed up; 503 `{"status": "starting"}` before.
    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        let ready = worker.isReady
        let failure = worker.failure
        let body = Health(
            status: ready ? "ok" : (failure == nil ? "starting" : "error"), timestamp: storeTime.iso8601(of: Date()), model_ready: ready,
            model: worker.modelDescription, precision: worker.precision.rawValue,
            test_time_flips: worker.flips.rawValue, model_error: failure, database_online: await store.isReachable(),
            journal_pending: store.backlog.pending, queue_depth: worker.queueDepth, disk: DiskState(diskGuard))
        return JSONResponse.make(body, status: ready ? .ok : .serviceUnavailable)
    }

    struct InspectionRow: Encodable {
        let id: Int64
        let camera_id: String
        let defect_type: String
        let category: String
        let confidence: Double
        let inspection_time: String
        let image_path: String?
        /// True when the row names an image that is gone (deleted by the image retention).
        let image_expired: Bool?
        let board_id: Int64?
        /// The anomaly model's score (extension; absent without one).
        let anomaly_score: Double?
        /// What judged it (extension; absent for rows stored before provenance was kept).
        let model: String?
        let calibration: String?
        let policy: String?
        let server_version: String?

        init(_ record: StoredInspection, storeTime: StoreTime) {
            id = record.id
            camera_id = record.cameraId
            defect_type = record.defectType
            category = record.category.rawValue
            confidence = rounded(record.confidence, 4)
            inspection_time = storeTime.iso8601(record.inspectionTime)
            image_path = record.imagePath
            image_expired = record.imagePath.map { !FileManager.default.fileExists(atPath: $0) }
            board_id = record.boardId
            anomaly_score = record.anomalyScore
            model = record.provenance?.model
            calibration = record.provenance?.calibration
            policy = record.provenance?.policy
            server_version = record.provenance?.serverVersion
        }
    }

    /// Which rows of a range operators reviewed and what they found (the latest review of each).
    struct ReviewTotals: Encodable {
        let reviewed: Int
        let confirmed: Int
        /// Good frames or boards the machine rejected.
        let false_calls: Int
        /// Bad frames or boards the machine passed.
        let escapes: Int
        let wrong_category: Int

        init(_ counts: ReviewCounts) {
            reviewed = counts.reviewed
            confirmed = counts.confirmed
            false_calls = counts.falseCalls
            escapes = counts.escapes
            wrong_category = counts.wrongCategory
        }
    }

    struct Pagination: Encodable {
        let page: Int
        let limit: Int
        let total: Int
        let total_pages: Int
    }

    struct InspectionList: Encodable {
        let status = "ok"
        let data: [InspectionRow]
        let pagination: Pagination
    }

    /// `?page=1&limit=50`, newest first.
    @Sendable func inspections(_ request: Request, context: Context) async throws -> Response {
        let page = try positiveInteger(request, "page", default: 1, max: 10_000_000)
        let limit = try positiveInteger(request, "limit", default: 50, max: 1000)
        let result = try await store.inspections(page: page, limit: limit)
        let rows = result.rows.map { InspectionRow($0, storeTime: storeTime) }
        return JSONResponse.make(InspectionList(data: rows, pagination: Pagination(
            page: page, limit: limit, total: result.total, total_pages: (result.total + limit - 1) / limit)))
    }

    struct Statistics: Encodable {
        let total_inspections: Int
        let normal_count: Int
        let component_defect_count: Int
        let solder_defect_count: Int
        let discard_count: Int
        let defect_rate: Double
        let start_date: String
        let end_date: String
        /// Operator reviews of the frames and boards of these days (extension).
        let reviews: Reviews
    }

    struct Reviews: Encodable {
        let frames: ReviewTotals
        let boards: ReviewTotals
    }

    struct StatisticsBody: Encodable {
        let status = "ok"
        let data: Statistics
    }

    /// `?start_date=YYYY-MM-DD&end_date=YYYY-MM-DD`, both inclusive; a missing date defaults
    /// to the other one, or to today when both are missing.
    @Sendable func statistics(_ request: Request, context: Context) async throws -> Response {
        let startText = request.uri.queryParameters["start_date"].map(String.init)
        let endText = request.uri.queryParameters["end_date"].map(String.init)
        func day(_ text: String?, _ name: String) throws -> CalendarDay? {
            guard let text, !text.isEmpty else { return nil }
            guard let day = CalendarDay(text) else {
                throw APIError.badRequest("Invalid \(name) '\(text.prefix(40))': expected a date as YYYY-MM-DD")
            }
            return day
        }
        let today = CalendarDay(storeTime.day(of: Date()))!
        let start = try day(startText, "start_date")
        let end = try day(endText, "end_date")
        let from = start ?? end ?? today
        let through = end ?? start ?? today
        guard from <= through else {
            throw APIError.badRequest("start_date \(from) is after end_date \(through)")
        }
        let stats = try await store.statistics(from: from, through: through)
        return JSONResponse.make(StatisticsBody(data: Statistics(
            total_inspections: stats.total, normal_count: stats.counts[.normal] ?? 0,
            component_defect_count: stats.counts[.componentDefect] ?? 0, solder_defect_count: stats.counts[.solderDefect] ?? 0,
            discard_count: stats.counts[.discard] ?? 0, defect_rate: rounded(stats.defectRatePercent, 2),
            start_date: from.description, end_date: through.description,
            reviews: Reviews(frames: ReviewTotals(stats.frameReviews), boards: ReviewTotals(stats.boardReviews)))))
    }

    /// The stored JPEG of an inspection.
    @Sendable func defectImage(_ request: Request, context: Context) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("Invalid inspection id: expected a positive whole number")
        }
        guard let record = try await store.inspection(id: id), let path = record.imagePath else {
            throw APIError(.notFound, "Image not found")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Self.imageGone(id) }
        return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The stored image of a non-normal inspection with the anomaly model's heat map over it.
    @Sendable func anomalyMap(_ request: Request, context: Context) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("Invalid inspection id: expected a positive whole number")
        }
        guard let record = try await store.inspection(id: id) else { throw APIError(.notFound, "Inspection not found") }
        guard let map = record.anomalyMap, let path = record.imagePath else {
            throw APIError(.notFound, "No anomaly map for inspection \(id): kept only for non-normal inspections inspected with an anomaly model")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Self.imageGone(id) }
        let codec = JPEGCodec()
        let overlay: [UInt8]
        do {
            overlay = try codec.encode(AnomalyOverlay.render(try codec.decode([UInt8](data)), map), quality: 85)
        } catch {
            throw APIError(.internalServerError, "Stored image of inspection \(id) cannot be drawn on", detail: "\(error)")
        }
        return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: .init(byteBuffer: ByteBuffer(bytes: overlay)))
    }

    struct SystemStatus: Encodable {
        let server_online: Bool
        let database_online: Bool
        let raspberry_pi_1_online: Bool
        let raspberry_pi_2_online: Bool
        let server_cpu_usage: Double
        let server_memory_usage: Double
        let server_gpu_usage: Double
        let last_update: String
        let model_ready: Bool
        let queue_depth: Int
        let cameras: [CameraStatus]
        let disk: DiskState?
        /// What judges the frames now: `name@fingerprint` of the model, calibration and policy files.
        let model_id: String?
        let calibration_id: String?
        let policy_id: String?
        let server_version: String
    }

    struct CameraStatus: Encodable {
        let camera_id: String
        let online: Bool
        let last_frame_age_s: Double?
        let frames_per_second: Double?
    }

    /// Server, database and camera liveness. Pi 1 is the first configured camera (left),
    /// Pi 2 the second (right); a camera is online when its last frame is recent.
    @Sendable func systemStatus(_ request: Request, context: Context) async throws -> Response {
        let statuses = cameras.cameras.map { id -> CameraStatus in
            let sighting = cameras.sighting(id)
            return CameraStatus(
                camera_id: id, online: cameras.isOnline(id, window: cameraOfflineAfterSeconds),
                last_frame_age_s: cameras.secondsSinceLastFrame(id).map { rounded($0, 2) },
                frames_per_second: sighting.map { rounded($0.framesPerSecond, 2) })
        }
        let provenance = await reloader.provenance
        return JSONResponse.make(SystemStatus(
            server_online: true, database_online: await store.isReachable(),
            raspberry_pi_1_online: statuses.first?.online ?? false,
            raspberry_pi_2_online: statuses.count > 1 ? statuses[1].online : false,
            server_cpu_usage: hostUsage.cpuPercent(), server_memory_usage: hostUsage.memoryPercent(),
            server_gpu_usage: 0, last_update: storeTime.iso8601(of: Date()), model_ready: worker.isReady, queue_depth: worker.queueDepth,
            cameras: statuses, disk: DiskState(diskGuard), model_id: provenance?.model, calibration_id: provenance?.calibration,
            policy_id: provenance?.policy, server_version: ServerVersion.current))
    }

    /// A row's image whose file is gone: removed by the image retention (or by hand).
    static func imageGone(_ id: Int64) -> APIError {
        APIError(.gone, "Image of inspection \(id) expired: removed by the image retention (max_image_retention_days)")
    }

    private func positiveInteger(_ request: Request, _ name: String, default value: Int, max: Int) throws -> Int {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init), !text.isEmpty else { return value }
        guard let number = Int(text), number >= 1, number <= max else {
            throw APIError.badRequest("Invalid \(name) '\(text.prefix(20))': expected a whole number from 1 to \(max)")
        }
        return number
    }

}
