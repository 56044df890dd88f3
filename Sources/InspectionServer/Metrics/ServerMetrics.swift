// What `GET /metrics` reports, in Prometheus' text format: requests by endpoint and status,
// inspections and boards by category, per-stage latency histograms, and gauges read at scrape
// time (queue depth, model state, camera last-frame ages, journal backlog). Metrics are
// swift-metrics types on a PrometheusMetricsFactory over this server's own registry: no
// global bootstrap, so every `buildApplication` (and every test) has its own.

import Foundation
import Hummingbird
import Metrics
import Prometheus
import Synchronization

/// The server's metrics.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// The model label last reported by `pcb_model_info` (set back to 0 when another serves).
    private let reportedModel = Mutex<String?>(nil)
    private let reportedPrecision = Mutex<String?>(nil)

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2500, 5000].map { .milliseconds($0) }
        self.factory = factory
    }

    /// The endpoint label of a path: the route template, never a raw path (bounded cardinality).
    static func endpoint(of path: String) -> String {
        let known = ["/health", "/predict", "/predict_dual", "/api/inspections", "/api/statistics", "/api/system-status",
                     "/openapi.yaml", "/metrics", "/", "/live/snapshot", "/ws/live", "/api/reference"]
        if known.contains(path) { return path }
        if path.hasPrefix("/api/defect-images/") { return "/api/defect-images/{id}" }
        if path.hasPrefix("/api/anomaly-maps/") { return "/api/anomaly-maps/{id}" }
        if path.hasPrefix("/live/frames/") { return "/live/frames/{id}" }
        if path.hasPrefix("/api/reference/") { return "/api/reference/{camera}" }
        if path.hasPrefix("/dashboard/") { return "/dashboard/{file}" }
        return "other"
    }

    func request(path: String, method: String, status: Int) {
        Counter(label: "pcb_http_requests_total",
                dimensions: [("endpoint", Self.endpoint(of: path)), ("method", method), ("status", String(status))],
                factory: factory).increment()
    }

    func inspection(camera: String, category: String) {
        Counter(label: "pcb_inspections_total", dimensions: [("camera", camera), ("category", category)], factory: factory).increment()
    }

    /// A frame whose camera has a golden board but that did not register to it.
    func referenceUnregistered(camera: String) {
        Counter(label: "pcb_reference_unregistered_total", dimensions: [("camera", camera)], factory: factory).increment()
    }

    /// Boxes suppressed because their region matched the golden board.
    func referenceSuppressed(camera: String, count: Int) {
        Counter(label: "pcb_reference_suppressed_boxes_total", dimensions: [("camera", camera)], factory: factory).increment(by: count)
    }

    /// Anomaly firings not counted because every cell fired on matched the golden board.
    func referenceAnomalyVetted(camera: String) {
        Counter(label: "pcb_reference_anomaly_vetted_total", dimensions: [("camera", camera)], factory: factory).increment()
    }

    func board(category: String, failSafe: Bool) {
        Counter(label: "pcb_boards_total", dimensions: [("category", category), ("fail_safe", failSafe ? "true" : "false")],
                factory: factory).increment()
    }

    /// One frame's stage times (decode, queue, model, store, total), milliseconds.
    func stages(_ times: [(String, Double)]) {
        for (stage, ms) in times where ms.isFinite && ms >= 0 {
            Metrics.Timer(label: "pcb_stage_duration_seconds", dimensions: [("stage", stage)], factory: factory)
                .recordNanoseconds(Int64(ms * 1_000_000))
        }
    }

    func gauge(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }

    /// `pcb_model_info{model="name@fingerprint"} 1` for the model serving now, 0 for the one before.
    func modelInUse(_ model: String) {
        info("pcb_model_info", "model", model, last: reportedModel)
    }

    /// `pcb_precision_info{precision="bf16"} 1` for the precision serving now (a reload may
    /// change it), 0 for the one before.
    func precisionInUse(_ precision: String) {
        info("pcb_precision_info", "precision", precision, last: reportedPrecision)
    }

    private func info(_ name: String, _ label: String, _ value: String, last: borrowing Mutex<String?>) {
        let previous = last.withLock { reported -> String? in
            defer { reported = value }
            return reported == value ? nil : reported
        }
        if let previous { gauge(name, [(label, previous)], 0) }
        gauge(name, [(label, value)], 1)
    }

    /// The text exposition.
    func render() -> [UInt8] { registry.emitToBuffer() }
}

/// Counts every request by endpoint, method and status (errors included, as answered).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(path: request.uri.path, method: request.method.rawValue, status: Int(response.status.code))
            return response
        } catch let error as HTTPResponseError {
            metrics.request(path: request.uri.path, method: request.method.rawValue, status: Int(error.status.code))
            throw error
        } catch {
            metrics.request(path: request.uri.path, method: request.method.rawValue, status: 500)
            throw error
        }
    }
}
