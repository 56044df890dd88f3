// One frame (or one pair of frames) through the line: detector -> policy -> store.
//
// Routes decode the request and hand decoded frames here; this type knows nothing of HTTP
// except the `APIError`s it throws for conditions a client must see (queue full, database
// down), so the whole pipeline can be read in one place.

import Detection
import Foundation
import Hummingbird
import ImageKit
import Inspection
import Logging
import Storage

/// Runs frames through the model, judges them with the policy and stores the results.
struct FrameInspector: Sendable {
    let worker: InferenceWorker
    let policy: DefectPolicy
    let store: any InspectionStore
    let metrics: ServerMetrics?
    /// The live dashboard's feed (nil in tests that do not need it).
    var live: LiveFeed? = nil
    let logger: Logger

    /// A frame ready for inspection.
    struct Frame: Sendable {
        var cameraId: String
        var jpeg: [UInt8]
        var image: RGBImage
        var timestamp: String?
        var requestId: String?
        var decodeMs: Double
    }

    /// A judged and stored frame.
    struct Inspected: Sendable {
        var record: StoredInspection
        var verdict: SideVerdict
        var duplicate: Bool
        var stages: WireStageTimes
        /// The anomaly model's finding (nil without one).
        var anomaly: AnomalyFinding?
    }

    /// The anomaly map as the history keeps it.
    static func mapJSON(_ finding: AnomalyFinding) -> String? {
        (try? JSONEncoder().encode(LiveAnomaly(finding))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Inspects frames as one model batch (two for the sides of a board) and stores each.
    func inspect(_ frames: [Frame], receivedAt: ContinuousClock.Instant) async throws -> [Inspected] {
        let outcome: InferenceOutcome
        do {
            outcome = try await worker.submit(frames.map(\.image))
        } catch let error as InferenceError where error.isQueueFull {
            throw APIError(.serviceUnavailable, "Server busy: inference queue is full, retry shortly", headers: [.retryAfter: "1"])
        } catch let error as InferenceError {
            throw APIError(.serviceUnavailable, "Inference unavailable", detail: error.description, headers: [.retryAfter: "5"])
        }
        var results: [Inspected] = []
        for (index, (frame, boxes)) in zip(frames, outcome.detections).enumerated() {
            let anomaly = index < outcome.anomalies.count ? outcome.anomalies[index] : nil
            let verdict = policy.judge(boxes, anomalyFired: anomaly?.fired ?? false)
            let storeStart = ContinuousClock.Instant.now
            let saved: SavedInspection
            do {
                saved = try await store.saveInspection(NewInspection(
                    cameraId: frame.cameraId, category: verdict.category.code, defectType: verdict.category.label,
                    confidence: verdict.confidence, inspectionTime: Date(), captureTimestamp: frame.timestamp,
                    boxes: verdict.boxes, gpio: verdict.category.gpio, requestId: frame.requestId,
                    inferenceTimeMs: rounded(outcome.modelMs, 3), anomalyScore: anomaly.map { rounded(Double($0.score), 4) },
                    anomalyMap: verdict.category.code == .normal ? nil : anomaly.flatMap(Self.mapJSON),
                    image: verdict.category.code == .normal ? nil : frame.jpeg))
            } catch {
                logger.error("could not store inspection: \(error)", metadata: ["camera": "\(frame.cameraId)"])
                throw APIError(.serviceUnavailable, "Database unavailable: the result was not stored, retry the request",
                               detail: "\(error)", headers: [.retryAfter: "2"])
            }
            let storeMs = (ContinuousClock.Instant.now - storeStart).milliseconds
            let stages = WireStageTimes(
                decode_ms: rounded(frame.decodeMs, 3), queue_ms: rounded(outcome.queueMs, 3), model_ms: rounded(outcome.modelMs, 3),
                store_ms: rounded(storeMs, 3), total_ms: rounded((ContinuousClock.Instant.now - receivedAt).milliseconds, 3))
            if !saved.wasDuplicate {
                metrics?.inspection(camera: frame.cameraId, category: verdict.category.code.rawValue)
                metrics?.stages(stages.named)
                live?.inspected(saved.record, jpeg: frame.jpeg, width: frame.image.width, height: frame.image.height, stages: stages,
                                anomaly: anomaly)
            }
            results.append(Inspected(record: saved.record, verdict: verdict, duplicate: saved.wasDuplicate, stages: stages, anomaly: anomaly))
        }
        return results
    }
}
