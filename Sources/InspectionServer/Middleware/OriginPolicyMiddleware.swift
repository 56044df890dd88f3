// Which web pages may call the API from a browser (CORS). By default none but the server's own
// (the dashboard is same-origin and needs no CORS): a preflight from any other origin is
// refused with 403 and no response carries Access-Control-Allow-* headers, so a page elsewhere
// cannot read the history or post JSON. `cors_origins` lists the origins allowed (`*` for any).
// POSTs must be `application/json` (PredictController), so a cross-site form or `text/plain`
// POST, which browsers send without a preflight, is refused too.

import Hummingbird

struct OriginPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowed: [String]

    func allows(_ origin: String) -> Bool { allowed.contains("*") || allowed.contains(origin) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let isPreflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        if isPreflight {
            guard allows(origin) else {
                throw APIError(.forbidden, "Origin \(origin.prefix(100)) is not allowed (cors_origins in the server config)")
            }
            return Response(status: .noContent, headers: corsHeaders(origin).merging([
                .accessControlAllowMethods: "GET, HEAD, POST, PUT, DELETE, OPTIONS",
                .accessControlAllowHeaders: "Authorization, Content-Type, Accept",
                .accessControlMaxAge: "600",
            ]))
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError where allows(origin) {
            // Errors carry the headers too, so an allowed page can read why it was refused.
            var answer = try error.response(from: request, context: context)
            answer.headers.append(contentsOf: corsHeaders(origin))
            return answer
        }
        if allows(origin) { response.headers.append(contentsOf: corsHeaders(origin)) }
        return response
    }

    private func corsHeaders(_ origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: origin, .vary: "Origin"]
    }
}

private extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var result = self
        result.append(contentsOf: other)
        return result
    }
}
