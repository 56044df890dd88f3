// Changing the model of a running line (admin scope when the server has tokens):
//   POST /api/admin/reload     {"model": PATH, "anomaly": PATH|null, "policy": PATH, "reference": PATH | {CAMERA: PATH}}
//                              (keys optional; missing ones keep the serving file; no body: read
//                              the serving model files again) -> 200 with the new model's id
//   POST /api/admin/rollback   back to the set (model, anomaly model, policy) that served before
// Model, anomaly and golden-board files must lie in model_dir, a policy file there or in the
// configured policy's folder. Refusals keep the old set serving: 400 (unknown key, a path
// outside those folders), 422 (a file that cannot serve: unreadable, truncated, classes the
// policy does not map, a calibration made for other classes, a failed warm-up, a golden board
// that does not fit), 409 (another reload in progress, nothing to roll back). A golden board
// is checked before the model switches and taught after it (also PUT /api/reference).

import Foundation
import Hummingbird

struct AdminController<Context: RequestContext>: Sendable {
    let reloader: ModelReloader
    /// Teaches golden boards given as `reference` (the checks of PUT /api/reference).
    let references: ReferenceController<Context>
    let maxBodyBytes: Int

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .post("/api/admin/reload", use: reload)
            .post("/api/admin/rollback", use: rollback)
    }

    struct Answer: Encodable {
        let status = "ok"
        /// The model now serving, `name@fingerprint`.
        let model: String
        let description: String
        /// The one it replaced.
        let previous: String
        /// Cameras whose golden board was taught by this reload.
        let golden_boards: [String]?
    }

    @Sendable func reload(_ request: Request, context: Context) async throws -> Response {
        let data = try await BoundedBody.collect(request, limit: maxBodyBytes)
        var model: String?
        var anomaly: String??
        var policy: String?
        var reference: [String: String]?
        if !data.isEmpty {
            try JSONObjectBody.requireJSON(request)
            let fields: JSONFields
            do { fields = try JSONFields(parsing: data) } catch { throw APIError.badRequest(error.message) }
            for key in fields.fields.keys.sorted() where !["model", "anomaly", "policy", "reference"].contains(key) {
                throw APIError.badRequest("Unknown key '\(key.prefix(40))': expected model, anomaly, policy, reference")
            }
            do {
                model = try fields.string("model")
                if let value = fields.fields["anomaly"] { anomaly = .some(value is NSNull ? nil : try fields.string("anomaly")) }
                policy = try fields.string("policy")
                reference = try Self.referencePaths(fields, cameras: references.cameras.cameras)
            } catch {
                throw APIError.badRequest(error.message)
            }
        }
        // Golden boards are read and checked first, so a bad one changes nothing.
        var boards: [(entry: GoldenBoards.Entry, cameras: [String])] = []
        for (camera, path) in (reference ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard reloader.isInsideModelFolder(path) else {
                throw APIError.badRequest("Reload refused: golden board \(path) is outside the model folder (model_dir)")
            }
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw APIError(.unprocessableContent, "Reload refused: cannot read the golden board \(path)")
            }
            let targets = camera == "*" ? references.cameras.cameras : [camera]
            boards.append((try references.prepare([UInt8](bytes), for: targets, source: "reload \(path)"), targets))
        }
        let onlyReference = reference != nil && model == nil && anomaly == nil && policy == nil
        let outcome: ModelReloader.Outcome
        do {
            outcome = onlyReference ? try await reloader.serving() : try await reloader.reload(model: model, anomaly: anomaly, policy: policy)
        } catch {
            throw Self.apiError(error)
        }
        for board in boards { references.goldens.set(board.entry, for: board.cameras) }
        if !boards.isEmpty {
            await reloader.record("golden boards taught by reload: \(boards.flatMap(\.cameras).joined(separator: ", "))")
        }
        return JSONResponse.make(Self.answer(outcome, golden: boards.isEmpty ? nil : boards.flatMap(\.cameras)))
    }

    /// `reference`: one path for every camera, or {camera: path} for configured cameras.
    private static func referencePaths(_ fields: JSONFields, cameras: [String]) throws(JSONFieldError) -> [String: String]? {
        guard let value = fields.fields["reference"], !(value is NSNull) else { return nil }
        if let path = value as? String { return ["*": path] }
        guard let byCamera = value as? [String: Any], !byCamera.isEmpty else {
            throw JSONFieldError("Field 'reference' must be a path, or an object of camera id -> path")
        }
        var paths: [String: String] = [:]
        for (camera, path) in byCamera {
            guard cameras.contains(camera) else {
                throw JSONFieldError("Field 'reference': unknown camera '\(camera.prefix(40))' (configured: \(cameras.joined(separator: ", ")))")
            }
            guard let text = path as? String else { throw JSONFieldError("Field 'reference': the path of '\(camera.prefix(40))' must be a string") }
            paths[camera] = text
        }
        return paths
    }

    @Sendable func rollback(_ request: Request, context: Context) async throws -> Response {
        do {
            return JSONResponse.make(Self.answer(try await reloader.rollback()))
        } catch {
            throw Self.apiError(error)
        }
    }

    private static func answer(_ outcome: ModelReloader.Outcome, golden: [String]? = nil) -> Answer {
        Answer(model: outcome.model, description: outcome.description, previous: outcome.previous, golden_boards: golden)
    }

    private static func apiError(_ error: ReloadError) -> APIError {
        switch error.code {
        case .badRequest: APIError.badRequest("Reload refused: \(error.description)")
        case .unusable: APIError(.unprocessableContent, "Reload refused, the serving model is kept: \(error.description)")
        case .busy, .nothingToRollBack: APIError(.conflict, "Reload refused: \(error.description)")
        }
    }
}
