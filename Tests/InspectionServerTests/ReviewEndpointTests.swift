// Operator reviews over HTTP, the detail endpoints, review counts in /api/statistics, and the
// frames the line keeps for labelling (the sampler in the line, GET /api/labelling).

import Detection
import Foundation
import Hummingbird
import HummingbirdTesting
import ImageKit
import Inspection
import Storage
import Testing
@testable import InspectionServer

/// One box of `className` at `confidence` on every frame (a model unsure of what it sees).
struct UnsureDetector: DefectDetector {
    var className = "short"
    var confidence: Float
    var classNames: [String] { ColourDetector().classNames }
    var maxBatchSize: Int { 2 }
    var modelDescription: String { "unsure-fake" }

    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] {
        frames.map { _ in [DetectedDefect(className: className, confidence: confidence, x1: 4, y1: 4, x2: 20, y2: 16)] }
    }

    func warmUp() throws {}
}

@Suite struct ReviewEndpointTests {
    func review(_ client: any TestClientProtocol, _ path: String, _ body: [String: Any], token: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer " + token }
        return try await client.postJSON(path, body, headers: headers)
    }

    func authorized(_ client: any TestClientProtocol, _ path: String, token: String? = nil) async throws -> TestResponse {
        try await client.execute(uri: path, method: .get, headers: token.map { [.authorization: "Bearer " + $0] } ?? [:])
    }

    @Test func anOperatorCorrectsAFalseCallAndStatisticsCountIt() async throws {
        let server = try TestServer()
        try await server.run { client in
            try await client.waitUntilReady()
            let posted = try await client.postJSON("/predict", seedRequest(colour: Frames.red))
            let id = try #require(posted.json["inspection_id"] as? Int)
            let answer = try await review(client, "/api/inspections/\(id)/review",
                                          ["verdict": "normal", "operator": "kim", "classes": ["spurious_copper"], "note": "dust on the lens"])
            #expect(answer.status == .created)
            let data = try #require(answer.json["data"] as? [String: Any])
            #expect(data["machine_category"] as? String == "discard" && data["verdict"] as? String == "normal")
            #expect(data["agrees"] as? Bool == false && data["operator"] as? String == "kim")

            let detail = try await client.get("/api/inspections/\(id)")
            #expect(detail.status == .ok)
            let body = try #require(detail.json["data"] as? [String: Any])
            #expect((body["inspection"] as? [String: Any])?["category"] as? String == "discard", "the machine's verdict stays")
            #expect((body["reviews"] as? [[String: Any]])?.count == 1)
            #expect(body["label_reason"] as? String == "review")
            #expect((body["boxes"] as? [[String: Any]])?.first?["class"] as? String == "spurious_copper")

            let stats = try await client.get("/api/statistics")
            let reviews = try #require((stats.json["data"] as? [String: Any])?["reviews"] as? [String: Any])
            let frames = try #require(reviews["frames"] as? [String: Any])
            #expect(frames["reviewed"] as? Int == 1 && frames["false_calls"] as? Int == 1 && frames["escapes"] as? Int == 0)
        }
    }

    @Test func aWrongNormalVerdictKeepsTheFrameWithItsPictureFromTheLiveFeed() async throws {
        let server = try TestServer { $0.labelling = .off }
        try await server.run { client in
            try await client.waitUntilReady()
            let posted = try await client.postJSON("/predict", seedRequest(colour: Frames.green))
            let id = try #require(posted.json["inspection_id"] as? Int)
            #expect(try await server.store.inspection(id: Int64(id))?.imagePath == nil, "a normal frame's picture is not stored")
            let answer = try await review(client, "/api/inspections/\(id)/review", ["verdict": "solder_defect", "operator": "lee"])
            #expect(answer.status == .created)
            let stored = try #require(try await server.store.inspection(id: Int64(id)))
            #expect(stored.labelReason == .review)
            let image = try await client.get("/api/defect-images/\(id)")
            #expect(image.status == .ok && Array(Data(buffer: image.body).prefix(2)) == [0xFF, 0xD8])
            let kept = try await client.get("/api/labelling")
            let rows = try #require(kept.json["data"] as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["reason"] as? String == "review")
            #expect((rows[0]["review"] as? [String: Any])?["verdict"] as? String == "solder_defect")
            #expect((kept.json["classes"] as? [String])?.first == "missing_component")
        }
    }

    @Test func boardsAreReviewedToo() async throws {
        let server = try TestServer()
        try await server.run { client in
            try await client.waitUntilReady()
            _ = try await client.postJSON("/predict", seedRequest(camera: "left").merging(["board_id": "B-1"]) { $1 })
            let right = try await client.postJSON("/predict", seedRequest(camera: "right").merging(["board_id": "B-1"]) { $1 })
            let boardId = try #require((right.json["board"] as? [String: Any])?["board_id"] as? Int)
            let answer = try await review(client, "/api/boards/\(boardId)/review", ["verdict": "normal", "operator": "park"])
            #expect(answer.status == .created && (answer.json["data"] as? [String: Any])?["agrees"] as? Bool == true)
            let detail = try await client.get("/api/boards/\(boardId)")
            #expect(((detail.json["data"] as? [String: Any])?["reviews"] as? [[String: Any]])?.count == 1)
            let stats = try await client.get("/api/statistics")
            let boards = ((stats.json["data"] as? [String: Any])?["reviews"] as? [String: Any])?["boards"] as? [String: Any]
            #expect(boards?["reviewed"] as? Int == 1 && boards?["confirmed"] as? Int == 1)
        }
    }

    @Test func badReviewsAreRefusedWithTheirReason() async throws {
        let server = try TestServer()
        try await server.run { client in
            try await client.waitUntilReady()
            let posted = try await client.postJSON("/predict", seedRequest(colour: Frames.red))
            let id = try #require(posted.json["inspection_id"] as? Int)
            let path = "/api/inspections/\(id)/review"
            let cases: [([String: Any], String)] = [
                ([:], "verdict"),
                (["verdict": "broken", "operator": "kim"], "verdict"),
                (["verdict": "normal"], "operator"),
                (["verdict": "normal", "operator": "   "], "operator"),
                (["verdict": "normal", "operator": 7], "operator"),
                (["verdict": "normal", "operator": "kim", "classes": "short"], "classes"),
                (["verdict": "normal", "operator": "kim", "classes": ["cat"]], "not a class"),
                (["verdict": "normal", "operator": "kim", "note": String(repeating: "x", count: 2001)], "note"),
                (["verdict": "normal", "operator": "kim", "score": 1], "Unknown key"),
            ]
            for (body, words) in cases {
                let answer = try await review(client, path, body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.errorMessage?.contains(words) == true, "\(body): \(answer.errorMessage ?? "")")
            }
            #expect(try await client.postRaw(path, "{not json").status == .badRequest)
            let text = try await client.execute(uri: path, method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}"))
            #expect(text.status == .unsupportedMediaType)
            #expect(try await review(client, "/api/inspections/999999/review", ["verdict": "normal", "operator": "kim"]).status == .notFound)
            #expect(try await review(client, "/api/boards/999999/review", ["verdict": "normal", "operator": "kim"]).status == .notFound)
            #expect(try await review(client, "/api/inspections/abc/review", ["verdict": "normal", "operator": "kim"]).status == .badRequest)
            #expect(try await client.get("/api/inspections/999999").status == .notFound)
            #expect(try await client.get("/api/labelling?since=yesterday").status == .badRequest)
            #expect(try await client.get("/api/labelling?limit=0").status == .badRequest)
            #expect(try await server.store.reviews(of: .inspection(Int64(id))).isEmpty, "nothing stored by a refused review")
        }
    }

    @Test func reviewsNeedTheAdminScopeAndReadsTheReadScope() async throws {
        let server = try TestServer {
            $0.readToken = "reader"
            $0.writeToken = "camera"
            $0.adminToken = "operator"
        }
        try await server.run { client in
            try await client.waitUntilReady()
            let posted = try await client.postJSON("/predict", seedRequest(colour: Frames.red), headers: [.authorization: "Bearer camera"])
            let id = try #require(posted.json["inspection_id"] as? Int)
            let body: [String: Any] = ["verdict": "normal", "operator": "kim"]
            #expect(try await review(client, "/api/inspections/\(id)/review", body).status == .unauthorized)
            #expect(try await review(client, "/api/inspections/\(id)/review", body, token: "reader").status == .unauthorized)
            #expect(try await review(client, "/api/inspections/\(id)/review", body, token: "camera").status == .unauthorized)
            #expect(try await review(client, "/api/inspections/\(id)/review", body, token: "operator").status == .created)
            #expect(try await authorized(client, "/api/inspections/\(id)").status == .unauthorized)
            #expect(try await authorized(client, "/api/inspections/\(id)", token: "reader").status == .ok)
            #expect(try await authorized(client, "/api/labelling").status == .unauthorized)
            #expect(try await authorized(client, "/api/labelling", token: "reader").status == .ok)
        }
    }

    @Test func theLineKeepsFramesNearTheThresholdWithTheirPicture() async throws {
        // The shipped policy's threshold is 0.25: a box at 0.2 is not a detection (the frame is
        // normal) but close enough for the sampler; at 0.05 it is neither.
        var unsure = try TestServer { $0.labelling = LabellingRule(nearMargin: 0.1, normalShare: 0, maxPerDay: 100) }
        unsure.detector = UnsureDetector(confidence: 0.2)
        let server = unsure
        try await server.run { client in
            try await client.waitUntilReady()
            let posted = try await client.postJSON("/predict", seedRequest())
            #expect(posted.json["category"] as? String == "normal")
            #expect((posted.json["boxes"] as? [Any])?.isEmpty == true, "a box under its threshold is never reported")
            let id = Int64(try #require(posted.json["inspection_id"] as? Int))
            let stored = try #require(try await server.store.inspection(id: id))
            #expect(stored.labelReason == .nearThreshold && stored.imagePath != nil && stored.boxes.isEmpty)
        }
        var sure = try TestServer { $0.labelling = LabellingRule(nearMargin: 0.1, normalShare: 0, maxPerDay: 100) }
        sure.detector = UnsureDetector(confidence: 0.05)
        let quiet = sure
        try await quiet.run { client in
            try await client.waitUntilReady()
            let posted = try await client.postJSON("/predict", seedRequest())
            let id = Int64(try #require(posted.json["inspection_id"] as? Int))
            let stored = try #require(try await quiet.store.inspection(id: id))
            #expect(stored.labelReason == nil && stored.imagePath == nil)
        }
    }

    @Test func aShareOfNormalFramesIsKept() async throws {
        let server = try TestServer { $0.labelling = LabellingRule(nearMargin: 0, normalShare: 0.5, maxPerDay: 100) }
        try await server.run { client in
            try await client.waitUntilReady()
            for _ in 0..<4 { _ = try await client.postJSON("/predict", seedRequest()) }
            let kept = try await client.get("/api/labelling")
            let rows = try #require(kept.json["data"] as? [[String: Any]])
            #expect(rows.count == 2 && rows.allSatisfy { $0["reason"] as? String == "normal_sample" })
        }
    }
}
