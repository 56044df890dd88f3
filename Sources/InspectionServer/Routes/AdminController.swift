// Changing the model of a running line (admin scope when the server has tokens):
//   POST /api/admin/reload     {"model": PATH, "anomaly": PATH|null} (keys optional; none: read
//                              the serving files again) -> 200 with the new model's id
//   POST /api/admin/rollback   back to the set that served before the last reload
// Refusals keep the old set serving: 400 (unknown key, a path outside model_dir), 422 (a file
// that cannot serve: unreadable, truncated, classes the policy does not map, a calibration made
// for other classes, a failed warm-up), 409 (another reload in progress, nothing to roll back).
// The policy file and the golden boards are not reloaded here (restart; PUT /api/reference).

import Foundation
import Hummingbird

struct AdminController<Context: RequestContext>: Sendable {
    let reloader: ModelReloader
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
    }

    @Sendable func reload(_ request: Request, context: Context) async throws -> Response {
        let data = try await BoundedBody.collect(request, limit: maxBodyBytes)
        var model: String?
        var anomaly: String??
        if !data.isEmpty {
            try JSONObjectBody.requireJSON(request)
            let fields: JSONFields
            do { fields = try JSONFields(parsing: data) } catch { throw APIError.badRequest(error.message) }
            for key in fields.fields.keys.sorted() where !["model", "anomaly", "policy", "reference"].contains(key) {
                throw APIError.badRequest("Unknown key '\(key.prefix(40))': expected model, anomaly")
            }
            if fields.fields["policy"] != nil || fields.fields["reference"] != nil {
                throw APIError(.unprocessableContent,
                               "policy and reference are not reloaded: restart the server for a new policy; teach golden boards with PUT /api/reference")
            }
            do {
                model = try fields.string("model")
                if let value = fields.fields["anomaly"] { anomaly = .some(value is NSNull ? nil : try fields.string("anomaly")) }
            } catch {
                throw APIError.badRequest(error.message)
            }
        }
        do {
            return JSONResponse.make(Self.answer(try await reloader.reload(model: model, anomaly: anomaly)))
        } catch {
            throw Self.apiError(error)
        }
    }

    @Sendable func rollback(_ request: Request, context: Context) async throws -> Response {
        do {
            return JSONResponse.make(Self.answer(try await reloader.rollback()))
        } catch {
            throw Self.apiError(error)
        }
    }

    private static func answer(_ outcome: ModelReloader.Outcome) -> Answer {
        Answer(model: outcome.model, description: outcome.description, previous: outcome.previous)
    }

    private static func apiError(_ error: ReloadError) -> APIError {
        switch error.code {
        case .badRequest: APIError.badRequest("Reload refused: \(error.description)")
        case .unusable: APIError(.unprocessableContent, "Reload refused, the serving model is kept: \(error.description)")
        case .busy, .nothingToRollBack: APIError(.conflict, "Reload refused: \(error.description)")
        }
    }
}
