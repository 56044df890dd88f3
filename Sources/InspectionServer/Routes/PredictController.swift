// POST /predict (one camera frame) and POST /predict_dual (both sides in one request), with
// the seed's request and response bodies (docs/CONTRACT.md, "HTTP API"). The routes only read
// the body's fields, hand them to the `InspectionLine` and write its answer; the line's errors
// become HTTP statuses in `APIError(_: InspectionLineError)`.

import Foundation
import Hummingbird
import Logging

/// The inspection endpoints the cameras call.
struct PredictController<Context: RequestContext>: Sendable {
    let line: InspectionLine
    let maxBodyBytes: Int

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
        guard let frame = try body.string("frame"), !frame.isEmpty else {
            throw APIError.badRequest("No frame data")
        }
        guard let cameraId = try body.string("camera_id") else {
            throw APIError.badRequest("Field 'camera_id' is required (one of: \(line.cameraIds.joined(separator: ", ")))")
        }
        let timestamp = try body.string("timestamp")
        let submission = SideSubmission(
            cameraId: cameraId, frameBase64: frame, timestamp: timestamp, captureDate: try timestamp.map(Self.captureDate),
            boardId: try body.identifier("board_id"), requestId: try body.identifier("request_id"),
            waitForBoard: try body.boolean("wait_for_board") ?? false)
        let side: InspectedSide
        do {
            side = try await line.inspectSide(submission, receivedAt: received)
        } catch {
            throw APIError(error)
        }
        return JSONResponse.make(WireSideResult(side, includeBoard: true))
    }

    /// `{frame_left, frame_right}` -> both sides judged as one batch, and the board verdict.
    @Sendable func predictDual(_ request: Request, context: Context) async throws -> Response {
        let received = ContinuousClock.Instant.now
        let body = try await JSONObjectBody.read(request, limit: maxBodyBytes)
        guard let left = try body.string("frame_left"), !left.isEmpty,
              let right = try body.string("frame_right"), !right.isEmpty
        else { throw APIError.badRequest("Missing frame data") }
        let timestamp = try body.string("timestamp")
        let submission = BoardSubmission(
            leftBase64: left, rightBase64: right, timestamp: timestamp, captureDate: try timestamp.map(Self.captureDate),
            boardId: try body.identifier("board_id"), requestId: try body.identifier("request_id"))
        let board: InspectedBoard
        do {
            board = try await line.inspectBoard(submission, receivedAt: received)
        } catch {
            throw APIError(error)
        }
        return JSONResponse.make(WireDualResult(board))
    }

    /// The capture time of a `timestamp` field, or 400 when it is not ISO-8601.
    private static func captureDate(_ text: String) throws -> Date {
        guard let date = CaptureTimestamp.parse(text) else {
            throw APIError.badRequest("Field 'timestamp' must be an ISO-8601 date-time such as 2026-11-26T16:52:45.768635")
        }
        return date
    }
}
