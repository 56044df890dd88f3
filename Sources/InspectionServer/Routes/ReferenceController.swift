// Golden boards of a running line: teach (`PUT`), show (`GET`) and forget (`DELETE`) the
// known-good picture each camera's frames are checked against (Line/GoldenBoards).
//
//   PUT /api/reference[/{camera}]       body: the JPEG (Content-Type image/jpeg)
//   PUT /api/reference[/{camera}]?inspection_id=N   a recent frame of the live feed (the dashboard's "teach")
//   GET /api/reference/{camera}         the JPEG in use, 404 without one
//   DELETE /api/reference[/{camera}]    frames are judged by the detector alone again
//
// Without `{camera}` the request is about every configured camera (a PUT from a recent frame:
// that frame's camera). A golden board that cannot be used is refused and the old one kept:
// not a JPEG (400), no detail to register on or too small (422), another size than the
// camera's frames or a picture the camera's latest frame does not register to (422).

import Detection
import Foundation
import Hummingbird
import ImageKit

struct ReferenceController<Context: RequestContext>: Sendable {
    let goldens: GoldenBoards
    let cameras: CameraRegistry
    let live: LiveFeed
    let maxBodyBytes: Int

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .put("/api/reference", use: teach)
            .put("/api/reference/{camera}", use: teach)
            .get("/api/reference/{camera}", use: show)
            .delete("/api/reference", use: forget)
            .delete("/api/reference/{camera}", use: forget)
    }

    struct Taught: Encodable {
        let status = "ok"
        let cameras: [String]
        let width: Int
        let height: Int
        let source: String
    }

    @Sendable func teach(_ request: Request, context: Context) async throws -> Response {
        var targets = try targetCameras(context)
        let jpeg: [UInt8]
        let source: String
        if let text = request.uri.queryParameters["inspection_id"] {
            guard let id = Int64(String(text)), let frame = live.frame(inspectionId: id) else {
                throw APIError(.notFound, "Inspection \(text.prefix(20)) is not among the recent frames of the live feed")
            }
            if context.parameters.get("camera") == nil { targets = [frame.cameraId] }
            (jpeg, source) = (frame.jpeg, "inspection \(id)")
        } else {
            jpeg = [UInt8](try await BoundedBody.collect(request, limit: maxBodyBytes))
            source = "PUT /api/reference"
        }
        let entry = try prepare(jpeg, for: targets, source: source)
        goldens.set(entry, for: targets)
        return JSONResponse.make(Taught(cameras: targets, width: entry.board.width, height: entry.board.height, source: source))
    }

    /// A golden board for `targets` from `jpeg`, checked (readable, with detail to register on,
    /// fitting each camera's latest frame) but not yet in use: `goldens.set` puts it there.
    func prepare(_ jpeg: [UInt8], for targets: [String], source: String) throws -> GoldenBoards.Entry {
        let codec = JPEGCodec()
        let image: RGBImage
        do { image = try codec.decode(jpeg) } catch {
            throw APIError.badRequest("Golden board is not a JPEG the server can read", detail: "\(error)")
        }
        let board: GoldenBoard
        do { board = try GoldenBoard(reference: image) } catch {
            throw APIError(.unprocessableContent, "Golden board refused", detail: "\(error)")
        }
        for camera in targets {
            try checkAgainstLatestFrame(board, camera: camera, codec: codec)
        }
        return GoldenBoards.Entry(board: board, jpeg: jpeg, taughtAt: Date(), source: source)
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let camera = try targetCameras(context)[0]
        guard let entry = goldens.entry(for: camera) else { throw APIError(.notFound, "Camera '\(camera)' has no golden board") }
        return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: .init(byteBuffer: ByteBuffer(bytes: entry.jpeg)))
    }

    @Sendable func forget(_ request: Request, context: Context) async throws -> Response {
        let targets = try targetCameras(context)
        let removed = goldens.remove(targets)
        return JSONResponse.make(["status": "ok", "removed": "\(removed)"])
    }

    /// The camera of the path, else every configured camera; 404 for an unknown one.
    private func targetCameras(_ context: Context) throws -> [String] {
        guard let camera = context.parameters.get("camera") else { return cameras.cameras }
        guard cameras.isConfigured(camera) else {
            throw APIError(.notFound, "Unknown camera '\(camera.prefix(64))' (configured: \(cameras.cameras.joined(separator: ", ")))")
        }
        return [camera]
    }

    /// Refuses a golden board the camera's latest frame (if one is in the live feed) does not fit.
    private func checkAgainstLatestFrame(_ board: GoldenBoard, camera: String, codec: JPEGCodec) throws {
        guard let latest = live.latestFrameJPEG(camera: camera), let frame = try? codec.decode(latest) else { return }
        guard frame.width == board.width, frame.height == board.height else {
            throw APIError(.unprocessableContent, "Golden board refused: it is \(board.width)x\(board.height), camera '\(camera)' sends \(frame.width)x\(frame.height)")
        }
        let check = board.check([], in: frame)
        guard check.registered else {
            throw APIError(.unprocessableContent, "Golden board refused: camera '\(camera)''s latest frame does not register to it (another product?)",
                           detail: check.failure)
        }
    }
}
