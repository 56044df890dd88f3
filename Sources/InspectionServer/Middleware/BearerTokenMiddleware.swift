// Optional shared-secret protection of every endpoint that changes something (POST, PUT,
// DELETE: inspections, golden boards): when the server has an API token, such requests must
// carry `Authorization: Bearer <token>`. GET endpoints (the Windows app's monitoring API,
// /health) stay open, as in the seed.

import Hummingbird

struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .put, .delete, .patch].contains(request.method) else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let expected = "Bearer " + token
        guard constantTimeEquals(header, expected) else {
            throw APIError(.unauthorized, header.isEmpty ? "Missing API token: send Authorization: Bearer <token>" : "Invalid API token",
                           headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }

    private func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<min(x.count, y.count) { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
