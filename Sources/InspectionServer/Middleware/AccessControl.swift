// Who may do what. With no token configured the server is open (a line on its own network, as
// in the seed). With any token, every endpoint needs one except liveness (`/health`) and the
// dashboard's static files (whose data then needs a token too). Three scopes:
//   read   GET/HEAD of /api/*, /live/*, /metrics, /openapi.yaml and the /ws/live upgrade
//   write  POST /predict, /predict_dual (cameras)
//   admin  everything that changes the line's set-up or its record (PUT/DELETE /api/reference,
//          /api/admin/*, operator reviews: POST /api/inspections/{id}/review, /api/boards/{id}/review)
// `api_token` grants every scope; `read_token` read; `write_token` write; `admin_token` admin and
// read (an operator at the dashboard teaching a golden board also watches it). A token comes as
// `Authorization: Bearer <token>`, or, for reads only (an <img> or a WebSocket cannot set
// headers), as the `access_token` query parameter. Comparison is constant-time.

import Hummingbird

/// What a request does, for the token it needs.
public enum AccessScope: String, Sendable, CaseIterable {
    case open, read, write, admin

    /// The scope of `method` on `path` (a pure function of the route table above).
    public static func of(method: HTTPRequest.Method, path: String) -> AccessScope {
        if method == .options { return .open }  // CORS preflights carry no credentials
        let isRead = method == .get || method == .head
        if isRead && (path == "/health" || path == "/" || path.hasPrefix("/dashboard/")) { return .open }
        if method == .post && (path == "/predict" || path == "/predict_dual") { return .write }
        if path.hasPrefix("/api/admin/") { return .admin }
        return isRead ? .read : .admin
    }
}

/// The configured tokens and what each grants.
public struct AccessTokens: Sendable {
    private let all: String?
    private let byScope: [AccessScope: String]

    /// No token at all: every endpoint is open.
    public var isOpen: Bool { all == nil && byScope.isEmpty }

    /// Refuses a configuration that leaves a scope without any token that grants it.
    public init(_ config: ServerConfig) throws {
        all = config.apiToken
        var scoped: [AccessScope: String] = [:]
        scoped[.read] = config.readToken
        scoped[.write] = config.writeToken
        scoped[.admin] = config.adminToken
        byScope = scoped
        if all == nil, !scoped.isEmpty {
            let missing = [AccessScope.read, .write, .admin].filter { scoped[$0] == nil && !($0 == .read && scoped[.admin] != nil) }
            if !missing.isEmpty {
                throw ConfigError(description: "tokens: nothing would grant \(missing.map(\.rawValue).joined(separator: ", ")); set api_token, or each of read_token, write_token and admin_token")
            }
        }
    }

    /// Whether `token` may do what `scope` needs.
    public func grants(_ token: String?, _ scope: AccessScope) -> Bool {
        if scope == .open || isOpen { return true }
        guard let token, !token.isEmpty else { return false }
        var granted = false
        // Every candidate is compared (constant-time each), so timing does not tell which matched.
        if let all { granted = Self.constantTimeEquals(token, all) || granted }
        if let own = byScope[scope] { granted = Self.constantTimeEquals(token, own) || granted }
        if scope == .read, let admin = byScope[.admin] { granted = Self.constantTimeEquals(token, admin) || granted }
        return granted
    }

    /// The token of a request: the bearer header, or for reads the `access_token` parameter.
    static func token(of request: Request, scope: AccessScope) -> String? {
        token(authorization: request.headers[.authorization], scope: scope,
              accessToken: request.uri.queryParameters["access_token"].map(String.init))
    }

    /// The token from an `Authorization` header (empty when it is not a bearer token), else,
    /// for reads only, from the `access_token` parameter.
    static func token(authorization: String?, scope: AccessScope, accessToken: @autoclosure () -> String?) -> String? {
        if let authorization {
            return authorization.hasPrefix("Bearer ") ? String(authorization.dropFirst("Bearer ".count)) : ""
        }
        return scope == .read ? accessToken() : nil
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return difference == 0
    }
}

/// Answers 401 to a request whose token does not grant its scope.
struct AccessControlMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let scope = AccessScope.of(method: request.method, path: request.uri.path)
        let token = AccessTokens.token(of: request, scope: scope)
        guard tokens.grants(token, scope) else {
            throw APIError(.unauthorized,
                           token == nil ? "Missing API token: send Authorization: Bearer <token> (\(scope.rawValue) scope)"
                                        : "Invalid API token for the \(scope.rawValue) scope",
                           headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }
}
