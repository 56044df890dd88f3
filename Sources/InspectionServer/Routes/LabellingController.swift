// Frames kept for labelling, for `pcb dataset export --url` (read scope):
//   GET /api/labelling?since=YYYY-MM-DD&after_id=N&limit=100
// Each row: the frame's verdict, its boxes (the label pre-fill), why it was kept, its own
// latest review, and where its JPEG is (`/api/defect-images/{id}`); `classes` are the serving
// model's class names, in label-index order. Pages go by id: ask again with `after_id` set to
// the last id until `data` is empty.

import Foundation
import Hummingbird
import Inspection
import Storage

struct LabellingController<Context: RequestContext>: Sendable {
    let store: any InspectionStore
    let worker: InferenceWorker
    let storeTime: StoreTime

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self).get("/api/labelling", use: list)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let parameters = request.uri.queryParameters
        var since: CalendarDay? = nil
        if let text = parameters["since"].map(String.init), !text.isEmpty {
            guard let day = CalendarDay(text) else {
                throw APIError.badRequest("Invalid since '\(text.prefix(40))': expected a date as YYYY-MM-DD")
            }
            since = day
        }
        let afterId = try Self.integer(parameters["after_id"].map(String.init), "after_id", default: 0, range: 0...Int64.max)
        let limit = try Self.integer(parameters["limit"].map(String.init), "limit", default: 100, range: 1...1000)
        let frames: [LabellingFrame]
        do { frames = try await store.labellingFrames(since: since, afterId: afterId, limit: Int(limit)) } catch let error as StoreError
            where error.isUnavailable {
            throw APIError(.serviceUnavailable, "Database unavailable: try again shortly", detail: error.description,
                           headers: [.retryAfter: "5"])
        }
        let rows = frames.map { frame in
            LabellingPage.Row(
                id: frame.inspection.id, camera_id: frame.inspection.cameraId,
                inspection_time: storeTime.iso8601(frame.inspection.inspectionTime), category: frame.inspection.category.rawValue,
                reason: frame.inspection.labelReason?.rawValue ?? "", boxes: frame.inspection.boxes,
                model: frame.inspection.provenance?.model, review: frame.review.map { ReviewWire($0, storeTime: storeTime) },
                image_url: "/api/defect-images/\(frame.inspection.id)")
        }
        return JSONResponse.make(LabellingPage(status: "ok", classes: worker.classNames, data: rows))
    }

    private static func integer(_ text: String?, _ name: String, default value: Int64, range: ClosedRange<Int64>) throws -> Int64 {
        guard let text, !text.isEmpty else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw APIError.badRequest("Invalid \(name) '\(text.prefix(20))': expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}

/// One page of `GET /api/labelling`, as the server writes it and `pcb dataset export --url` reads it.
public struct LabellingPage: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public let id: Int64
        public let camera_id: String
        public let inspection_time: String
        public let category: String
        public let reason: String
        public let boxes: [DetectedDefect]
        public let model: String?
        public let review: ReviewWire?
        public let image_url: String
    }

    public let status: String
    /// The serving model's class names, in label-index order.
    public let classes: [String]
    public let data: [Row]
}
