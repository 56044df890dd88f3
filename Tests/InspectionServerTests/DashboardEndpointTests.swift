// The live dashboard's server side: its files at /, the snapshot it renders, the recent
// frames' JPEGs, and the /ws/live WebSocket pushing snapshots as frames arrive.

import Detection
import Foundation
import Hummingbird
import ImageKit
import Inspection
import HummingbirdTesting
import HummingbirdWSTesting
import Synchronization
import Testing
@testable import InspectionServer

@Suite struct DashboardEndpointTests {
    static let repositoryDashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("dashboard").path

    func board(_ camera: String, _ colour: (UInt8, UInt8, UInt8), _ key: String) -> [String: Any] {
        var body = seedRequest(camera: camera, colour: colour)
        body["board_id"] = key
        return body
    }

    @Test func dashboardPageAndFilesAreServedWithoutExternalLinks() async throws {
        let server = try TestServer { $0.dashboardDirectory = Self.repositoryDashboard }
        try await server.run { client in
            let page = try await client.get("/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains(#"<meta charset="utf-8">"#))
            // Offline line: nothing from another host.
            #expect(!html.contains("http://") && !html.contains("https://"), "the page must not load from a CDN")
            let script = try await client.get("/dashboard/dashboard.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: script.body).contains("/ws/live"))
            #expect(try await client.get("/dashboard/dashboard.css").status == .ok)
            #expect(try await client.get("/dashboard/../Package.swift").status == .notFound)
            #expect(try await client.get("/dashboard/missing.js").errorMessage == "No dashboard file 'missing.js'")
        }
    }

    @Test func missingDashboardFolderAnswers404WithDirections() async throws {
        let server = try TestServer { $0.dashboardDirectory = "/nonexistent/dashboard" }
        try await server.run { client in
            let page = try await client.get("/")
            #expect(page.status == .notFound)
            #expect(page.errorMessage?.contains("Dashboard files not found (/nonexistent/dashboard") == true)
        }
    }

    @Test func snapshotCountsFramesAndBoardsAndListsBothSides() async throws {
        try await TestServer().run { client in
            // Given a component board (left blue) and a normal board,
            _ = try await client.postJSON("/predict", board("left", Frames.blue, "B-1"))
            _ = try await client.postJSON("/predict", board("right", Frames.green, "B-1"))
            _ = try await client.postJSON("/predict", board("left", Frames.green, "B-2"))
            _ = try await client.postJSON("/predict", board("right", Frames.green, "B-2"))

            // the snapshot counts four frames today, one of them defective,
            let response = try await client.get("/live/snapshot")
            #expect(response.status == .ok)
            let snapshot = response.json
            #expect(snapshot["type"] as? String == "snapshot")
            let today = try #require(snapshot["today"] as? [String: Any])
            #expect(today["total"] as? Int == 4)
            #expect((today["counts"] as? [String: Int])?["component_defect"] == 1)
            #expect((today["counts"] as? [String: Int])?["normal"] == 3)
            #expect(today["defect_rate"] as? Double == 25)
            // two boards, newest first, each with both sides' pictures and boxes,
            let boards = try #require(snapshot["boards"] as? [String: Any])
            #expect(boards["total"] as? Int == 2)
            #expect((boards["counts"] as? [String: Int])?["component_defect"] == 1)
            let recent = try #require(snapshot["recent_boards"] as? [[String: Any]])
            #expect(recent.map { $0["board_key"] as? String } == ["B-2", "B-1"])
            let defective = recent[1]
            #expect(defective["label"] as? String == "부품불량")
            let left = try #require((defective["left"] as? [String: Any])?["frame"] as? [String: Any])
            #expect(left["camera_id"] as? String == "left")
            #expect(left["width"] as? Int == 64 && left["height"] as? Int == 48)
            let box = try #require((left["boxes"] as? [[String: Any]])?.first)
            #expect(box["class"] as? String == "missing_component")
            #expect((snapshot["class_categories"] as? [String: String])?["missing_component"] == "component_defect")
            // and the picture is the JPEG the camera sent.
            let image = try await client.get(try #require(left["image_url"] as? String))
            #expect(image.status == .ok)
            #expect(image.headers[.contentType] == "image/jpeg")
            #expect([UInt8](buffer: image.body) == Frames.jpeg(Frames.blue))
            // Latency percentiles cover every stage of the four frames.
            let latency = try #require(snapshot["latency_ms"] as? [String: [String: Any]])
            #expect(Set(latency.keys) == ["decode", "queue", "model", "store", "total"])
            #expect(latency["total"]?["count"] as? Int == 4)
            let cameras = try #require(snapshot["cameras"] as? [[String: Any]])
            #expect(cameras.map { $0["frames"] as? Int } == [2, 2])
            let history = try #require(snapshot["defect_rate_history"] as? [String: Any])
            let points = try #require(history["points"] as? [[String: Any]])
            #expect(points.map { $0["total"] as? Int ?? 0 }.reduce(0, +) == 4)
            #expect(points.map { $0["defective"] as? Int ?? 0 }.reduce(0, +) == 1)
        }
    }

    @Test func todaysCountsStartFromTheStore() async throws {
        // Given a store that already holds today's frames (a restarted server),
        let server = try TestServer()
        try await server.run { client in
            _ = try await client.postJSON("/predict", seedRequest(camera: "left", colour: Frames.red))
        }
        // a new application on the same store starts from them.
        try await server.run { client in
            let today = try #require(try await client.get("/live/snapshot").json["today"] as? [String: Any])
            #expect(today["total"] as? Int == 1)
            #expect((today["counts"] as? [String: Int])?["discard"] == 1)
        }
    }

    @Test func unknownOrMalformedFrameIdsAreRefused() async throws {
        try await TestServer().run { client in
            #expect(try await client.get("/live/frames/abc").status == .badRequest)
            let missing = try await client.get("/live/frames/424242")
            #expect(missing.status == .notFound)
            #expect(missing.errorMessage == "Frame 424242 is not among the recent frames of the live feed")
        }
    }

    @Test func webSocketPushesASnapshotAtOnceAndAfterEachFrame() async throws {
        try await TestServer().run(.live) { client in
            let received = Mutex<[String]>([])
            try await client.ws("/ws/live") { inbound, outbound, _ in
                var posted = false
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message,
                          let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                    else { continue }
                    received.withLock { $0.append(text) }
                    let total = (json["today"] as? [String: Any])?["total"] as? Int
                    if !posted {
                        // The first snapshot comes before any frame; then a frame is posted.
                        posted = true
                        let response = try await client.postJSON("/predict", seedRequest(camera: "right", colour: Frames.blue))
                        #expect(response.status == .ok)
                    } else if total == 1 || received.withLock({ $0.count }) > 20 {
                        break  // pushed within a second or so; 20 snapshots without it is a failure
                    }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            let messages = received.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(messages.first.flatMap { ($0["today"] as? [String: Any])?["total"] as? Int } == 0)
            let last = try #require(messages.last)
            #expect((last["today"] as? [String: Any])?["total"] as? Int == 1)
            #expect((last["recent_frames"] as? [[String: Any]])?.first?["camera_id"] as? String == "right")
        }
    }

    @Test func percentilesAreNearestRank() {
        let p = LiveSnapshot.Percentiles((1...100).map(Double.init).shuffled())
        #expect((p.count, p.p50, p.p95, p.p99) == (100, 50, 95, 99))
        let one = LiveSnapshot.Percentiles([7.5])
        #expect((one.p50, one.p99) == (7.5, 7.5))
        let none = LiveSnapshot.Percentiles([])
        #expect((none.count, none.p50) == (0, 0))
    }

    @Test func ringBufferKeepsTheLatestValues() {
        var ring = RingBuffer(capacity: 3)
        for value in [1.0, 2, .nan, 3, 4, 5] { ring.append(value) }
        #expect(ring.values.sorted() == [3, 4, 5])
    }
}

/// A detector with an anomaly model beside it (fake): a white frame centre is an anomaly the
/// boxes do not explain.
struct AnomalousColourDetector: DefectDetector {
    let boxes = ColourDetector()
    var classNames: [String] { boxes.classNames }
    var maxBatchSize: Int { 2 }
    var modelDescription: String { "colour-fake + anomaly-fake" }

    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] { try boxes.detect(frames) }

    func inspect(_ frames: [RGBImage]) throws -> [FrameFindings] {
        try zip(frames, boxes.detect(frames)).map { frame, found in
            let i = ((frame.height / 2) * frame.width + frame.width / 2) * 3
            let white = frame.pixels[i] > 200 && frame.pixels[i + 1] > 200 && frame.pixels[i + 2] > 200
            return FrameFindings(boxes: found, anomaly: AnomalyFinding(
                score: white ? 40 : 10, threshold: 20, map: [10, white ? 40 : 10, 10, 10], gridWidth: 2, gridHeight: 2,
                originX: 0, originY: 0, cellWidth: Double(frame.width) / 2, cellHeight: Double(frame.height) / 2))
        }
    }
}

@Suite struct AnomalyEndpointTests {
    @Test func anAnomalyTheDetectorMissesDiscardsTheFrameAndShowsItsMap() async throws {
        var server = try TestServer()
        server.detector = AnomalousColourDetector()
        try await server.run { client in
            // Given a frame the detector finds nothing in but the anomaly model flags,
            let white = (UInt8(250), UInt8(250), UInt8(250))
            let flagged = try await client.postJSON("/predict", seedRequest(camera: "left", colour: white)).json
            // then the side is discarded by the policy's anomaly category, with the score,
            #expect(flagged["category"] as? String == "discard")
            #expect(flagged["anomaly_score"] as? Double == 40)
            #expect(flagged["anomaly_threshold"] as? Double == 20)
            #expect(flagged["anomaly_fired"] as? Bool == true)
            #expect((flagged["boxes"] as? [Any])?.isEmpty == true)
            // and a normal one stays normal, its score reported.
            let normal = try await client.postJSON("/predict", seedRequest(camera: "right", colour: Frames.green)).json
            #expect(normal["category"] as? String == "normal")
            #expect(normal["anomaly_fired"] as? Bool == false)
            // The live feed carries the map for the dashboard's heat map.
            let frames = try #require(try await client.get("/live/snapshot").json["recent_frames"] as? [[String: Any]])
            let anomaly = try #require(frames.last?["anomaly"] as? [String: Any])
            #expect(anomaly["fired"] as? Bool == true)
            #expect(anomaly["map"] as? [Double] == [10, 40, 10, 10])
            #expect(anomaly["cell_w"] as? Double == 32)
            // The history keeps the score, and the discarded frame's heat map over its image.
            let rows = try #require(try await client.get("/api/inspections").json["data"] as? [[String: Any]])
            #expect(Set(rows.compactMap { $0["anomaly_score"] as? Double }) == [40, 10])
            let flaggedId = try #require(flagged["inspection_id"] as? Int)
            let heat = try await client.get("/api/anomaly-maps/\(flaggedId)")
            #expect(heat.status == .ok && heat.headers[.contentType] == "image/jpeg")
            let drawn = try JPEGCodec().decode([UInt8](buffer: heat.body))
            // The hot cell (top right, 40 against a threshold of 20) turned red; the cold one did not.
            let hot = (10 * 64 + 48) * 3, cold = (10 * 64 + 10) * 3
            #expect(drawn.pixels[hot + 1] < 180 && drawn.pixels[cold + 1] > 220, "\(drawn.pixels[hot + 1]) \(drawn.pixels[cold + 1])")
            let normalId = try #require(normal["inspection_id"] as? Int)
            let none = try await client.get("/api/anomaly-maps/\(normalId)")
            #expect(none.status == .notFound)
            #expect(none.errorMessage?.contains("kept only for non-normal inspections") == true)
            #expect(try await client.get("/api/anomaly-maps/x").status == .badRequest)
        }
    }

    @Test func withoutAnAnomalyModelNoAnomalyFieldsAppear() async throws {
        try await TestServer().run { client in
            let body = try await client.postJSON("/predict", seedRequest()).json
            #expect(body["anomaly_score"] == nil && body["anomaly_fired"] == nil)
        }
    }
}
