// The live dashboard for operators: its static files (`dashboard/` in the repository, read
// once at start, no external CDN), the current snapshot as JSON, the JPEGs of recent frames,
// and `/ws/live`, which pushes a snapshot whenever the line moves.

import Foundation
import Hummingbird
import HummingbirdWebSocket

/// `/`, `/dashboard/{file}`, `/live/snapshot`, `/live/frames/{id}`.
struct DashboardController<Context: RequestContext>: Sendable {
    let live: LiveFeed
    let files: DashboardFiles

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get("/", use: index)
            .get("/dashboard/{file}", use: file)
            .get("/live/snapshot", use: snapshot)
            .get("/live/frames/{id}", use: frame)
    }

    @Sendable func index(_ request: Request, context: Context) async throws -> Response {
        try files.response(for: "index.html")
    }

    @Sendable func file(_ request: Request, context: Context) async throws -> Response {
        try files.response(for: context.parameters.get("file") ?? "")
    }

    @Sendable func snapshot(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.make(await live.snapshot())
    }

    /// The JPEG a camera sent for a recent inspection (any category), while it is in the feed.
    @Sendable func frame(_ request: Request, context: Context) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = Int64(text) else {
            throw APIError.badRequest("Invalid inspection id: expected an integer")
        }
        guard let jpeg = live.frameJPEG(inspectionId: id) else {
            throw APIError(.notFound, "Frame \(id) is not among the recent frames of the live feed")
        }
        // An inspection's frame never changes.
        return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=3600, immutable"],
                        body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
    }
}

/// The dashboard's files, read from one folder at start.
struct DashboardFiles: Sendable {
    /// File name -> (content type, bytes).
    let files: [String: (type: String, bytes: [UInt8])]
    let directory: String

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
    ]

    /// Reads the folder's files whose type is known (no subfolders); an absent folder serves 404s.
    init(directory: String) {
        self.directory = directory
        var files: [String: (type: String, bytes: [UInt8])] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let type = Self.contentTypes[(name as NSString).pathExtension.lowercased()],
                  let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name))
            else { continue }
            files[name] = (type, [UInt8](data))
        }
        self.files = files
    }

    var isEmpty: Bool { files.isEmpty }

    func response(for name: String) throws -> Response {
        guard let file = files[name] else {
            throw APIError(.notFound, files.isEmpty
                ? "Dashboard files not found (\(directory) in the working directory, or `dashboard:` in the config)"
                : "No dashboard file '\(name.prefix(64))'")
        }
        // Revalidated on every load, so a new server version's files are never stale.
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}

extension LiveFeed {
    /// Serves one `/ws/live` connection: the current snapshot at once, then every published
    /// one, until the browser closes the socket or the server shuts down. Messages from the
    /// browser are read and ignored (pings and closes are answered by the WebSocket layer).
    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let (id, updates) = subscribe()
        defer { unsubscribe(id) }
        try await outbound.write(.text(await snapshotJSON()))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await _ in inbound {}
            }
            group.addTask {
                for await text in updates {
                    try await outbound.write(.text(text))
                }
            }
            // Whichever ends first (browser gone, or the feed finished at shutdown) ends both.
            try await group.next()
            group.cancelAll()
        }
    }
}
