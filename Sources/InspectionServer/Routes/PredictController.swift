// POST /predict (one camera frame) and POST /predict_dual (both sides in one request),
// with the seed's request and response bodies (docs/CONTRACT.md, "HTTP API").

import Foundation
import Hummingbird
import ImageKit
import Inspection
import Logging
import Storage

/// The inspection endpoints the cameras call.
struct PredictController<Context: RequestContext>: Sendable {
    let inspector: FrameInspector
    let decoder: FrameDecoder
    let cameras: CameraRegistry
    let pairing: BoardPairingService
    let maxBodyBytes: Int
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .post("/predict", use: predict)
            .post("/predict_dual", use: predictDual)
    }

    /// `{camera_id, frame, timestamp, board_id?, request_id?, wait_for_board?}` -> one side's
    /// verdict, and the board's verdict once both sides (or the deadline) decided it.
    @Sendable func predict(_ request: Request, context: Context) async throws -> Response {
        let received = ContinuousClock.Instant.now
        let body = try await JSONObjectBody.read(request, limit: maxBodyBytes)
        guard let frameText = try body.string("frame"), !frameText.isEmpty else {
            throw APIError.badRequest("No frame data")
        }
        guard let cameraId = try body.string("camera_id") else {
            throw APIError.badRequest("Field 'camera_id' is required (one of: \(cameras.cameras.joined(separator: ", ")))")
        }
        guard cameras.isConfigured(cameraId) else {
            throw APIError.badRequest("Unknown camera_id '\(cameraId.prefix(64))' (configured: \(cameras.cameras.joined(separator: ", ")))")
        }
        let timestamp = try body.string("timestamp")
        let captureDate = try timestamp.map(Self.captureDate)
        let boardId = try body.identifier("board_id")
        let requestId = try body.identifier("request_id")
        let waitForBoard = try body.boolean("wait_for_board") ?? false

        if let requestId, let existing = try? await inspector.store.inspection(requestId: requestId) {
            logger.info("retried request answered from the store", metadata: ["request_id": "\(requestId)"])
            return JSONResponse.make(WireSideResult(existing, timestamp: timestamp, duplicate: true, stages: nil))
        }

        let decodeStart = ContinuousClock.Instant.now
        let decoded = try decoder.decode(base64: frameText)
        let decodeMs = (ContinuousClock.Instant.now - decodeStart).milliseconds
        cameras.frameArrived(from: cameraId)

        let frame = FrameInspector.Frame(cameraId: cameraId, jpeg: decoded.jpeg, image: decoded.image, timestamp: timestamp,
                                         requestId: requestId, decodeMs: decodeMs)
        let result = try await inspector.inspect([frame], receivedAt: received)[0]
        var board: DecidedBoard? = nil
        if !result.duplicate, let side = cameras.side(of: cameraId) {
            // Capture times are compared only with each other: the cameras' clocks, or the
            // server's wall clock for a frame sent without a timestamp.
            let captureTime = (captureDate ?? Date()).timeIntervalSince1970
            let outcome = await pairing.sideArrived(SideResult(
                side: side, inspectionId: result.record.id, boardId: boardId, captureTime: captureTime, verdict: result.verdict))
            switch outcome {
            case .decided(let decided): board = decided
            case .waiting where waitForBoard: board = await pairing.board(of: result.record.id)
            case .waiting, .ignored: break
            }
        }
        logger.info("inspected", metadata: [
            "camera": "\(cameraId)", "category": "\(result.verdict.category.code.rawValue)",
            "confidence": "\(rounded(Double(result.verdict.confidence), 3))", "boxes": "\(result.verdict.boxes.count)",
            "model_ms": "\(result.stages.model_ms)", "id": "\(result.record.id)",
        ])
        var response = WireSideResult(result.record, timestamp: timestamp, duplicate: result.duplicate, stages: result.stages,
                                      anomaly: result.anomaly)
        response.board = board.map(WireBoard.init)
        return JSONResponse.make(response)
    }

    /// `{frame_left, frame_right}` -> both sides judged as one batch, and the board verdict.
    @Sendable func predictDual(_ request: Request, context: Context) async throws -> Response {
        let received = ContinuousClock.Instant.now
        let body = try await JSONObjectBody.read(request, limit: maxBodyBytes)
        guard let leftText = try body.string("frame_left"), !leftText.isEmpty,
              let rightText = try body.string("frame_right"), !rightText.isEmpty
        else { throw APIError.badRequest("Missing frame data") }
        let timestamp = try body.string("timestamp")
        _ = try timestamp.map(Self.captureDate)
        let boardKey = try body.identifier("board_id") ?? UUID().uuidString.lowercased()
        // A retried dual request (same request_id) stores neither side nor the board again.
        let requestId = try body.identifier("request_id")

        let decodeStart = ContinuousClock.Instant.now
        let left = try decoder.decode(base64: leftText)
        let right = try decoder.decode(base64: rightText)
        let decodeMs = (ContinuousClock.Instant.now - decodeStart).milliseconds / 2

        let results = try await inspector.inspect([
            .init(cameraId: "left", jpeg: left.jpeg, image: left.image, timestamp: timestamp,
                  requestId: requestId.map { "\($0)/left" }, decodeMs: decodeMs),
            .init(cameraId: "right", jpeg: right.jpeg, image: right.image, timestamp: timestamp,
                  requestId: requestId.map { "\($0)/right" }, decodeMs: decodeMs),
        ], receivedAt: received)
        let board = inspector.policy.combine(results.map(\.verdict))
        let stored: StoredBoard
        do {
            if results.allSatisfy(\.duplicate), let boardId = results[0].record.boardId,
               let existing = try await inspector.store.board(id: boardId) {
                stored = existing
            } else {
                stored = try await inspector.store.saveBoard(NewBoard(
                boardKey: boardKey, category: board.category.code, defectType: board.category.label, confidence: board.confidence,
                gpio: board.category.gpio, decidedAt: Date(), leftInspectionId: results[0].record.id,
                rightInspectionId: results[1].record.id))
            }
        } catch {
            logger.error("could not store board: \(error)")
            throw APIError(.serviceUnavailable, "Database unavailable: the board was not stored, retry the request",
                           detail: "\(error)", headers: [.retryAfter: "2"])
        }
        if !results.allSatisfy(\.duplicate) {
            inspector.live?.boardDecided(LiveBoard.Decision(
                boardId: stored.id, boardKey: boardKey, category: board.category, failSafe: false, missingSide: nil,
                leftInspectionId: results[0].record.id, rightInspectionId: results[1].record.id))
        }
        logger.info("board inspected", metadata: ["board": "\(boardKey)", "category": "\(board.category.code.rawValue)"])
        return JSONResponse.make(WireDualResult(
            final_defect_type: board.category.label, final_category: board.category.code.rawValue,
            confidence: rounded(Double(board.confidence), 4),
            gpio_signal: WireGPIOSignal(board.category.gpio),
            board_id: stored.id,
            left: WireSideResult(results[0].record, timestamp: timestamp, duplicate: results[0].duplicate, stages: results[0].stages,
                                 anomaly: results[0].anomaly),
            right: WireSideResult(results[1].record, timestamp: timestamp, duplicate: results[1].duplicate, stages: results[1].stages,
                                  anomaly: results[1].anomaly)))
    }

    /// The capture time of a `timestamp` field, or 400 when it is not ISO-8601.
    private static func captureDate(_ text: String) throws -> Date {
        guard let date = CaptureTimestamp.parse(text) else {
            throw APIError.badRequest("Field 'timestamp' must be an ISO-8601 date-time such as 2026-11-26T16:52:45.768635")
        }
        return date
    }
}
