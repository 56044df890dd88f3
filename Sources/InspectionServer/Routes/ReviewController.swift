// Operators' word on the machine's verdicts, and the history of one frame or board:
//   POST /api/inspections/{id}/review  {"verdict": CATEGORY, "operator": NAME, "classes": [..]?, "note": TEXT?}
//   POST /api/boards/{id}/review       the same for a board's verdict
//   GET  /api/inspections/{id}         the inspection with its boxes, labelling reason and reviews
//   GET  /api/boards/{id}              the board with its reviews
// A review is appended (201); the machine's verdict is never changed. `verdict` is the category
// code the operator says is right (normal, component_defect, solder_defect, discard); a verdict
// that differs from the machine's keeps the frame(s) for labelling, with the JPEG of a recent
// normal frame taken from the live feed (its picture is not stored otherwise). Reviews change
// the record, so they need the admin scope when the server has tokens.

import Foundation
import Hummingbird
import Inspection
import Storage

struct ReviewController<Context: RequestContext>: Sendable {
    let store: any InspectionStore
    let live: LiveFeed
    /// The serving policy's class names are what a review's `classes` may name.
    let reloader: ModelReloader
    let storeTime: StoreTime
    let maxBodyBytes: Int

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .post("/api/inspections/{id}/review", use: reviewInspection)
            .post("/api/boards/{id}/review", use: reviewBoard)
            .get("/api/inspections/{id}", use: inspection)
            .get("/api/boards/{id}", use: board)
    }

    struct ReviewAnswer: Encodable {
        let status = "ok"
        let data: ReviewWire
    }

    @Sendable func reviewInspection(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.id(context, "inspection")
        let jpeg = live.frameJPEG(inspectionId: id)
        return try await review(.inspection(id), request: request, images: jpeg.map { [id: $0] } ?? [:])
    }

    @Sendable func reviewBoard(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.id(context, "board")
        var images: [Int64: [UInt8]] = [:]
        if let board = try await readStore({ try await store.board(id: id) }) {
            for side in [board.leftInspectionId, board.rightInspectionId].compactMap({ $0 }) {
                images[side] = live.frameJPEG(inspectionId: side)
            }
        }
        return try await review(.board(id), request: request, images: images)
    }

    private func review(_ subject: ReviewSubject, request: Request, images: [Int64: [UInt8]]) async throws -> Response {
        let body = try await JSONObjectBody.read(request, limit: maxBodyBytes)
        let review = try parse(body.fields, subject: subject, knownClasses: await reloader.policyClasses)
        guard let stored = try await readStore({ try await store.saveReview(review, images: images) }) else {
            throw APIError(.notFound, "\(subject.kind == "board" ? "Board" : "Inspection") \(subject.id) not found")
        }
        return JSONResponse.make(ReviewAnswer(data: ReviewWire(stored, storeTime: storeTime)), status: .created)
    }

    /// The review a body describes; 400 with the field's problem otherwise.
    func parse(_ fields: JSONFields, subject: ReviewSubject, knownClasses: Set<String>) throws -> NewReview {
        for key in fields.fields.keys.sorted() where !["verdict", "classes", "note", "operator"].contains(key) {
            throw APIError.badRequest("Unknown key '\(key.prefix(40))': expected verdict, operator, classes, note")
        }
        do {
            guard let verdictText = try fields.string("verdict") else {
                throw JSONFieldError("Field 'verdict' is required: one of \(CategoryCode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let verdict = CategoryCode(rawValue: verdictText) else {
                throw JSONFieldError("Field 'verdict' must be one of \(CategoryCode.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(verdictText.prefix(40))')")
            }
            guard let name = try fields.string("operator")?.trimmingCharacters(in: .whitespaces), (1...64).contains(name.count) else {
                throw JSONFieldError("Field 'operator' is required: who reviews, 1 to 64 characters")
            }
            let note = try fields.string("note")
            if let note, note.count > 2000 { throw JSONFieldError("Field 'note' must be at most 2000 characters") }
            let classes = try fields.stringList("classes", maxCount: 32, maxLength: 64) ?? []
            if let unknown = classes.first(where: { !knownClasses.contains($0) }) {
                throw JSONFieldError("Field 'classes': '\(unknown.prefix(40))' is not a class of the model (known: \(knownClasses.sorted().joined(separator: ", ")))")
            }
            return NewReview(subject: subject, verdict: verdict, classes: classes, note: note?.isEmpty == true ? nil : note,
                             operatorName: name)
        } catch let error as JSONFieldError {
            throw APIError.badRequest(error.message)
        }
    }

    struct InspectionDetail: Encodable {
        let status = "ok"
        let data: Detail

        struct Detail: Encodable {
            let inspection: MonitoringController<Context>.InspectionRow
            let boxes: [DetectedDefect]
            let label_reason: String?
            let reviews: [ReviewWire]
        }
    }

    @Sendable func inspection(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.id(context, "inspection")
        guard let record = try await readStore({ try await store.inspection(id: id) }) else {
            throw APIError(.notFound, "Inspection \(id) not found")
        }
        let reviews = try await readStore { try await store.reviews(of: .inspection(id)) }
        return JSONResponse.make(InspectionDetail(data: .init(
            inspection: .init(record, storeTime: storeTime), boxes: record.boxes, label_reason: record.labelReason?.rawValue,
            reviews: reviews.map { ReviewWire($0, storeTime: storeTime) })))
    }

    struct BoardDetail: Encodable {
        let status = "ok"
        let data: Detail

        struct Detail: Encodable {
            let id: Int64
            let board_key: String
            let category: String
            let defect_type: String
            let confidence: Double
            let decided_at: String
            let fail_safe: Bool
            let left_inspection_id: Int64?
            let right_inspection_id: Int64?
            let model: String?
            let reviews: [ReviewWire]
        }
    }

    @Sendable func board(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.id(context, "board")
        guard let board = try await readStore({ try await store.board(id: id) }) else { throw APIError(.notFound, "Board \(id) not found") }
        let reviews = try await readStore { try await store.reviews(of: .board(id)) }
        return JSONResponse.make(BoardDetail(data: .init(
            id: board.id, board_key: board.boardKey, category: board.category.rawValue, defect_type: board.defectType,
            confidence: rounded(board.confidence, 4), decided_at: storeTime.iso8601(board.decidedAt), fail_safe: board.failSafe,
            left_inspection_id: board.leftInspectionId, right_inspection_id: board.rightInspectionId, model: board.provenance?.model,
            reviews: reviews.map { ReviewWire($0, storeTime: storeTime) })))
    }

    private static func id(_ context: Context, _ what: String) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("Invalid \(what) id: expected a positive whole number")
        }
        return id
    }

    /// A store call whose outage is a 503 (the operator can send the review again).
    private func readStore<T>(_ call: () async throws -> T) async throws -> T {
        do { return try await call() } catch let error as StoreError where error.isUnavailable {
            throw APIError(.serviceUnavailable, "Database unavailable: try again shortly", detail: error.description,
                           headers: [.retryAfter: "5"])
        }
    }
}

/// A review as the API writes it (and `pcb dataset export --url` reads it).
public struct ReviewWire: Codable, Sendable {
    public let id: Int64
    public let subject: String
    public let subject_id: Int64
    /// The machine's category when the review was made.
    public let machine_category: String
    public let verdict: String
    public let agrees: Bool
    public let classes: [String]
    public let note: String?
    public let `operator`: String
    public let reviewed_at: String

    init(_ review: StoredReview, storeTime: StoreTime) {
        id = review.id
        subject = review.subject.kind
        subject_id = review.subject.id
        machine_category = review.machineCategory.rawValue
        verdict = review.verdict.rawValue
        agrees = review.confirmsMachine
        classes = review.classes
        note = review.note
        self.operator = review.operatorName
        reviewed_at = storeTime.iso8601(review.reviewedAt)
    }
}
