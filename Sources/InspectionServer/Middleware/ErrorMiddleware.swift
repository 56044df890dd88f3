// Turns every error into the seed's `{"error": "..."}` body: `APIError` as it is, Hummingbird's
// own errors (unknown route, method not allowed, body too large) with their status, and
// anything unexpected into a logged 500 that is also written to `system_logs`.

import Hummingbird
import Logging
import Storage

struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: any InspectionStore
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            if error.status.code >= 500 {
                logger.error("\(request.method) \(request.uri.path) -> \(error.status.code): \(error)")
                try? await store.appendLog(SystemLogEntry(level: "ERROR", source: "server", message: "\(request.method) \(request.uri.path): \(error)"))
            }
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let message: String = switch error.status {
            case .notFound: "Not found: \(request.method) \(request.uri.path)"
            case .methodNotAllowed: "Method \(request.method) not allowed on \(request.uri.path)"
            case .contentTooLarge: "Request body too large"
            default: error.body ?? error.status.reasonPhrase
            }
            return try APIError(error.status, message).response(from: request, context: context)
        } catch {
            logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            try? await store.appendLog(SystemLogEntry(level: "ERROR", source: "server", message: "\(request.method) \(request.uri.path): \(error)"))
            return try APIError(.internalServerError, "Internal server error").response(from: request, context: context)
        }
    }
}
