// Golden boards on a running server: taught by PUT /api/reference (a JPEG, or a recent frame),
// refused when unusable, shown and forgotten; /predict then reports the boxes the golden
// board suppressed. The fake detector always reports its box at (10, 20)-(30, 40) for a frame
// with a red centre, so a frame that differs from the golden board only at its centre has
// that box over an unchanged region: suppressed. An anomaly model's firing is vetted the same way.

import Detection
import Foundation
import Hummingbird
import HummingbirdTesting
import ImageKit
import Inspection
import Simulation
import Testing
@testable import InspectionServer

@Suite struct ReferenceEndpointTests {
    /// A defect-free rendered board (320x240), and the same picture with a red patch at its centre.
    static let golden: RGBImage = BoardRenderer(seed: 9, config: RenderConfig(width: 320, height: 240, defectRate: 0)).render(index: 0).image
    static var goldenJPEG: [UInt8] { try! Frames.codec.encode(golden, quality: 92) }
    static var redCentre: String {
        var image = golden
        for y in 110..<130 { for x in 150..<170 { let i = (y * image.width + x) * 3; image.pixels[i] = 230; image.pixels[i + 1] = 20; image.pixels[i + 2] = 20 } }
        return Data(try! Frames.codec.encode(image, quality: 92)).base64EncodedString()
    }

    func put(_ client: some TestClientProtocol, _ uri: String, _ body: [UInt8], token: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "image/jpeg"]
        if let token { headers[.authorization] = "Bearer " + token }
        return try await client.execute(uri: uri, method: .put, headers: headers, body: ByteBuffer(bytes: body))
    }

    @Test func taughtGoldenBoardSuppressesBoxesOverUnchangedRegions() async throws {
        try await TestServer().run { client in
            // Before: the red centre's box counts (spurious copper: discard).
            var request = seedRequest()
            request["frame"] = Self.redCentre
            let before = try await client.postJSON("/predict", request).json
            #expect(before["category"] as? String == "discard")
            #expect(before["suppressed_boxes"] == nil && before["reference"] == nil)

            let taught = try await put(client, "/api/reference/left", Self.goldenJPEG)
            #expect(taught.status == .ok, "\(taught.json)")
            #expect(taught.json["cameras"] as? [String] == ["left"])
            let shown = try await client.get("/api/reference/left")
            #expect(shown.status == .ok && [UInt8](Data(buffer: shown.body)) == Self.goldenJPEG)
            #expect(try await client.get("/api/reference/right").status == .notFound)

            // After: the box lies where the frame matches the golden board, so it is suppressed.
            let after = try await client.postJSON("/predict", request).json
            #expect(after["category"] as? String == "normal", "\(after)")
            let reference = try #require(after["reference"] as? [String: Any])
            #expect(reference["registered"] as? Bool == true)
            let suppressed = try #require(after["suppressed_boxes"] as? [[String: Any]])
            #expect(suppressed.count == 1 && suppressed[0]["class"] as? String == "spurious_copper")
            #expect((suppressed[0]["reason"] as? String)?.contains("matches the golden board") == true)
            #expect((after["stage_times_ms"] as? [String: Any])?["reference_ms"] is Double)
            let metrics = String(decoding: Data(buffer: try await client.get("/metrics").body), as: UTF8.self)
            #expect(metrics.contains("pcb_reference_suppressed_boxes_total"))

            // The right camera has no golden board: its box counts.
            var right = request
            right["camera_id"] = "right"
            #expect(try await client.postJSON("/predict", right).json["category"] as? String == "discard")

            // Forgotten: the detector alone again.
            #expect(try await client.execute(uri: "/api/reference/left", method: .delete).status == .ok)
            #expect(try await client.postJSON("/predict", request).json["category"] as? String == "discard")
        }
    }

    @Test func aRecentFrameCanBeTaught() async throws {
        try await TestServer().run { client in
            var request = seedRequest(camera: "right")
            request["frame"] = Data(Self.goldenJPEG).base64EncodedString()
            let id = try #require(try await client.postJSON("/predict", request).json["inspection_id"] as? Int)
            let taught = try await client.execute(uri: "/api/reference?inspection_id=\(id)", method: .put)
            #expect(taught.status == .ok, "\(taught.json)")
            #expect(taught.json["cameras"] as? [String] == ["right"])
            #expect(try await client.get("/api/reference/right").status == .ok)
            #expect(try await client.execute(uri: "/api/reference?inspection_id=999999", method: .put).status == .notFound)
        }
    }

    @Test func unusableGoldenBoardsAreRefusedAndTheOldOneKept() async throws {
        try await TestServer().run { client in
            #expect(try await put(client, "/api/reference", Self.goldenJPEG).status == .ok)
            let notJPEG = try await put(client, "/api/reference/left", Array("not a picture".utf8))
            #expect(notJPEG.status == .badRequest && notJPEG.errorMessage?.contains("not a JPEG") == true)
            let flat = try await put(client, "/api/reference/left", Frames.jpeg(Frames.green, width: 320, height: 240))
            #expect(flat.status == .unprocessableContent && flat.errorMessage == "Golden board refused", "\(flat.json)")
            #expect(try await put(client, "/api/reference/nobody", Self.goldenJPEG).status == .notFound)
            // A camera whose latest frame is another size refuses it.
            _ = try await client.postJSON("/predict", seedRequest(camera: "left"))   // a 64x48 frame
            let otherSize = try await put(client, "/api/reference/left", Self.goldenJPEG)
            #expect(otherSize.status == .unprocessableContent && otherSize.errorMessage?.contains("sends 64x48") == true, "\(otherSize.json)")
            // The board taught first is still in use.
            #expect([UInt8](Data(buffer: try await client.get("/api/reference/left").body)) == Self.goldenJPEG)
        }
    }

    @Test func teachingNeedsTheTokenWhenOneIsSet() async throws {
        let server = try TestServer { $0.apiToken = "s3cret" }
        try await server.run { client in
            let anonymous = try await put(client, "/api/reference/left", Self.goldenJPEG)
            #expect(anonymous.status == .unauthorized)
            let deletion = try await client.execute(uri: "/api/reference/left", method: .delete)
            #expect(deletion.status == .unauthorized)
            let authorised = try await put(client, "/api/reference/left", Self.goldenJPEG, token: "s3cret")
            #expect(authorised.status == .ok)
        }
    }

    @Test func anAnomalyFiringOverAnUnchangedRegionDoesNotCount() async throws {
        var server = try TestServer()
        server.detector = TopRightAnomalyDetector()
        try await server.run { client in
            #expect(try await put(client, "/api/reference/left", Self.goldenJPEG).status == .ok)
            // The golden board itself: the anomaly model fires on its top-right cell, which
            // matches the golden board, so the firing does not count.
            var request = seedRequest()
            request["frame"] = Data(Self.goldenJPEG).base64EncodedString()
            let unchanged = try await client.postJSON("/predict", request).json
            #expect(unchanged["anomaly_fired"] as? Bool == true && unchanged["category"] as? String == "normal", "\(unchanged)")
            #expect((unchanged["reference"] as? [String: Any])?["anomaly_vetted"] as? Bool == true, "\(unchanged)")
            let metrics = String(decoding: Data(buffer: try await client.get("/metrics").body), as: UTF8.self)
            #expect(metrics.contains("pcb_reference_anomaly_vetted_total"))
            // A red patch inside that cell: the firing stands (the policy's anomaly category).
            var changed = Self.golden
            for y in 40..<60 { for x in 220..<240 { let i = (y * changed.width + x) * 3; changed.pixels[i] = 230; changed.pixels[i + 1] = 20; changed.pixels[i + 2] = 20 } }
            request["frame"] = Data(try Frames.codec.encode(changed, quality: 92)).base64EncodedString()
            let patched = try await client.postJSON("/predict", request).json
            #expect(patched["category"] as? String == "discard", "\(patched)")
            #expect((patched["reference"] as? [String: Any])?["anomaly_vetted"] as? Bool == false, "\(patched)")
            // The right camera has no golden board: the firing counts as the model said.
            request["camera_id"] = "right"
            request["frame"] = Data(Self.goldenJPEG).base64EncodedString()
            let alone = try await client.postJSON("/predict", request).json
            #expect(alone["category"] as? String == "discard" && alone["reference"] == nil, "\(alone)")
        }
    }
}

/// No boxes; an anomaly model (fake) that always fires on the top-right cell of a 2 x 2 grid.
private struct TopRightAnomalyDetector: DefectDetector {
    var classNames: [String] { ColourDetector().classNames }
    var maxBatchSize: Int { 2 }
    var modelDescription: String { "anomaly-fake" }

    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] { frames.map { _ in [] } }

    func inspect(_ frames: [RGBImage]) throws -> [FrameFindings] {
        frames.map { frame in
            FrameFindings(boxes: [], anomaly: AnomalyFinding(
                score: 40, threshold: 20, map: [10, 40, 10, 10], gridWidth: 2, gridHeight: 2,
                originX: 0, originY: 0, cellWidth: Double(frame.width) / 2, cellHeight: Double(frame.height) / 2))
        }
    }
}
