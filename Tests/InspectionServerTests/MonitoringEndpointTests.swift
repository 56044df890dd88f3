import Foundation
import Detection
import ImageKit
import Hummingbird
import HummingbirdTesting
import Inspection
import Storage
import Testing
@testable import InspectionServer

@Suite struct MonitoringEndpointTests {
    @Test func healthIsOkOnceTheModelIsWarm() async throws {
        try await TestServer().run { client in
            try await client.waitUntilReady()
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(response.json["status"] as? String == "ok")
            #expect(response.json["timestamp"] is String)
            #expect(response.json["database_online"] as? Bool == true)
            #expect(response.json["precision"] as? String == "fp32")
            #expect(response.json["test_time_flips"] as? String == "none")
            let metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains(#"pcb_precision_info{precision="fp32"} 1"#), "\(metrics.prefix(300))")
        }
    }

    @Test func healthIs503UntilWarmedUp() async throws {
        let gate = Gate()
        var server = try TestServer()
        server.detector = SlowWarmUp(gate: gate)
        try await server.run { client in
            let response = try await client.get("/health")
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["status"] as? String == "starting")
            gate.release()
            try await client.waitUntilReady()
            #expect(try await client.get("/health").status == .ok)
        }
    }

    @Test func inspectionsArePagedNewestFirst() async throws {
        let server = try TestServer()
        try await server.run { client in
            for colour in [Frames.green, Frames.red, Frames.blue] {
                #expect(try await client.postJSON("/predict", seedRequest(colour: colour)).status == .ok)
            }
            let first = try await client.get("/api/inspections?page=1&limit=2").json
            #expect(first["status"] as? String == "ok")
            let rows = try #require(first["data"] as? [[String: Any]])
            #expect(rows.map { $0["defect_type"] as? String } == ["부품불량", "폐기"])
            let row = rows[0]
            for key in ["id", "camera_id", "defect_type", "confidence", "inspection_time"] {
                #expect(row[key] != nil, "missing \(key)")
            }
            #expect(row.keys.contains("image_path"))
            let pagination = try #require(first["pagination"] as? [String: Any])
            #expect(pagination["page"] as? Int == 1)
            #expect(pagination["limit"] as? Int == 2)
            #expect(pagination["total"] as? Int == 3)
            #expect(pagination["total_pages"] as? Int == 2)
            let second = try await client.get("/api/inspections?page=2&limit=2").json
            #expect((second["data"] as? [[String: Any]])?.map { $0["defect_type"] as? String } == ["정상"])
            let beyond = try await client.get("/api/inspections?page=9").json
            #expect((beyond["data"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: ["page=0", "page=-1", "page=abc", "limit=0", "limit=5000", "limit=1.5", "page=99999999999999999999"])
    func badPagingIs400(query: String) async throws {
        try await TestServer().run { client in
            let response = try await client.get("/api/inspections?\(query)")
            #expect(response.status == .badRequest)
            #expect(response.errorMessage?.hasPrefix("Invalid") == true)
        }
    }

    @Test func statisticsCountEachCategoryOverInclusiveDates() async throws {
        let server = try TestServer()
        try await server.run { client in
            for colour in [Frames.green, Frames.green, Frames.red, Frames.blue, Frames.yellow] {
                _ = try await client.postJSON("/predict", seedRequest(colour: colour))
            }
            let today = String(StoreTime().string(from: Date()).prefix(10))
            let body = try await client.get("/api/statistics?start_date=\(today)&end_date=\(today)").json
            #expect(body["status"] as? String == "ok")
            let data = try #require(body["data"] as? [String: Any])
            #expect(data["total_inspections"] as? Int == 5)
            #expect(data["normal_count"] as? Int == 3)
            #expect(data["component_defect_count"] as? Int == 1)
            #expect(data["solder_defect_count"] as? Int == 0)
            #expect(data["discard_count"] as? Int == 1)
            #expect(data["defect_rate"] as? Double == 40.0)
            let none = try await client.get("/api/statistics?start_date=2020-01-01&end_date=2020-12-31").json
            #expect((none["data"] as? [String: Any])?["total_inspections"] as? Int == 0)
            #expect((none["data"] as? [String: Any])?["defect_rate"] as? Double == 0)
        }
    }

    @Test(arguments: ["start_date=2026-13-01", "start_date=26-11-01", "end_date=2026-02-30", "start_date=yesterday",
                      "start_date=2026-11-20&end_date=2026-11-01"])
    func badDatesAre400(query: String) async throws {
        try await TestServer().run { client in
            let response = try await client.get("/api/statistics?\(query)")
            #expect(response.status == .badRequest)
            #expect(response.errorMessage != nil)
        }
    }

    @Test func defectImageErrors() async throws {
        try await TestServer().run { client in
            let normal = try await client.postJSON("/predict", seedRequest()).json
            let id = try #require(normal["inspection_id"] as? Int)
            let noImage = try await client.get("/api/defect-images/\(id)")
            #expect(noImage.status == .notFound)
            #expect(noImage.errorMessage == "Image not found")
            #expect(try await client.get("/api/defect-images/999999").errorMessage == "Image not found")
            #expect(try await client.get("/api/defect-images/abc").status == .badRequest)
        }
    }

    @Test func everyRowAndTheSystemStatusNameWhatJudged() async throws {
        try await TestServer().run { client in
            _ = try await client.postJSON("/predict", seedRequest(colour: Frames.red))
            let row = try #require((try await client.get("/api/inspections").json["data"] as? [[String: Any]])?.first)
            #expect(row["model"] as? String == "colour.onnx@00000000000000c0")
            #expect(row["policy"] as? String == "pcb_defects.yaml@00000000000000aa")
            #expect(row["server_version"] as? String == ServerVersion.current)
            let status = try await client.get("/api/system-status").json
            #expect(status["model_id"] as? String == "colour.onnx@00000000000000c0")
            #expect(status["server_version"] as? String == ServerVersion.current)
        }
    }

    @Test func anImageRemovedByTheRetentionIsReportedExpired() async throws {
        try await TestServer().run { client in
            let defect = try await client.postJSON("/predict", seedRequest(colour: Frames.red)).json
            let id = try #require(defect["inspection_id"] as? Int)
            #expect(try await client.get("/api/defect-images/\(id)").status == .ok)
            let row = try #require((try await client.get("/api/inspections").json["data"] as? [[String: Any]])?.first)
            #expect(row["image_expired"] as? Bool == false)
            // The retention deletes the file; the row stays and says so.
            try FileManager.default.removeItem(atPath: try #require(row["image_path"] as? String))
            let expired = try await client.get("/api/defect-images/\(id)")
            #expect(expired.status == .gone)
            #expect(expired.errorMessage?.contains("expired") == true)
            let after = try #require((try await client.get("/api/inspections").json["data"] as? [[String: Any]])?.first)
            #expect(after["image_expired"] as? Bool == true && after["id"] as? Int == id)
        }
    }

    @Test func systemStatusReportsCameraLiveness() async throws {
        // A window far longer than the test: on a loaded machine (the whole suite on two cores)
        // the status request can come more than the default 10 s after the frame.
        try await TestServer { $0.cameraOfflineAfterSeconds = 3_600 }.run { client in
            let before = try await client.get("/api/system-status").json
            #expect(before["server_online"] as? Bool == true)
            #expect(before["database_online"] as? Bool == true)
            #expect(before["raspberry_pi_1_online"] as? Bool == false)
            _ = try await client.postJSON("/predict", seedRequest(camera: "left"))
            let after = try await client.get("/api/system-status").json
            #expect(after["raspberry_pi_1_online"] as? Bool == true)
            #expect(after["raspberry_pi_2_online"] as? Bool == false)
            for key in ["server_cpu_usage", "server_memory_usage", "server_gpu_usage"] {
                #expect(after[key] is Double || after[key] is Int, "missing \(key)")
            }
            #expect(after["last_update"] is String)
        }
    }

    @Test func unknownRouteIsJSON404() async throws {
        try await TestServer().run { client in
            let response = try await client.get("/nope")
            #expect(response.status == .notFound)
            #expect(response.errorMessage != nil)
        }
    }
}

@Suite struct AccessTests {
    @Test func oneTokenProtectsEveryEndpointButHealthAndTheDashboardPage() async throws {
        try await TestServer { $0.apiToken = "s3cret" }.run { client in
            let missing = try await client.postJSON("/predict", seedRequest())
            #expect(missing.status == .unauthorized)
            #expect(missing.errorMessage?.contains("Missing API token") == true)
            let wrong = try await client.postJSON("/predict", seedRequest(), headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let right = try await client.postJSON("/predict", seedRequest(), headers: [.authorization: "Bearer s3cret"])
            #expect(right.status == .ok)
            for path in ["/api/inspections", "/api/statistics", "/api/system-status", "/metrics", "/live/snapshot", "/openapi.yaml"] {
                #expect(try await client.get(path).status == .unauthorized, "\(path)")
                let granted = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer s3cret"])
                #expect(granted.status != .unauthorized, "\(path)")
            }
            #expect(try await client.get("/api/inspections?access_token=s3cret").status == .ok)
            #expect(try await client.get("/health").status == .ok)
            #expect(try await client.get("/").status != .unauthorized)
        }
    }

    @Test func scopedTokensGrantOnlyTheirScope() async throws {
        let server = try TestServer { config in
            config.readToken = "reader"
            config.writeToken = "camera"
            config.adminToken = "operator"
        }
        try await server.run { client in
            func get(_ token: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/api/inspections", method: .get, headers: [.authorization: "Bearer " + token]).status
            }
            func post(_ token: String) async throws -> HTTPResponse.Status {
                try await client.postJSON("/predict", seedRequest(), headers: [.authorization: "Bearer " + token]).status
            }
            func forget(_ token: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/api/reference", method: .delete, headers: [.authorization: "Bearer " + token]).status
            }
            let reads = [try await get("reader"), try await get("operator"), try await get("camera")]
            #expect(reads == [.ok, .ok, .unauthorized])
            let writes = [try await post("camera"), try await post("reader"), try await post("operator")]
            #expect(writes == [.ok, .unauthorized, .unauthorized])
            let admin = [try await forget("reader"), try await forget("camera"), try await forget("operator")]
            #expect(admin[0] == .unauthorized && admin[1] == .unauthorized && admin[2] != .unauthorized)
            // A write token is never read from the address (it would end up in logs and history).
            #expect(try await client.postJSON("/predict?access_token=camera", seedRequest()).status == .unauthorized)
        }
    }

    @Test func tokensThatLeaveAScopeUnreachableAreRefusedAtStart() throws {
        var config = ServerConfig()
        config.readToken = "reader"
        #expect(throws: ConfigError.self) { try AccessTokens(config) }
        config.apiToken = "all"
        #expect(throws: Never.self) { try AccessTokens(config) }
    }

    @Test func scopeOfEachRoute() {
        #expect(AccessScope.of(method: .get, path: "/health") == .open)
        #expect(AccessScope.of(method: .get, path: "/dashboard/dashboard.js") == .open)
        #expect(AccessScope.of(method: .options, path: "/predict") == .open)
        #expect(AccessScope.of(method: .get, path: "/ws/live") == .read)
        #expect(AccessScope.of(method: .get, path: "/api/reference/left") == .read)
        #expect(AccessScope.of(method: .post, path: "/predict_dual") == .write)
        #expect(AccessScope.of(method: .put, path: "/api/reference") == .admin)
        #expect(AccessScope.of(method: .post, path: "/api/admin/reload") == .admin)
        #expect(AccessScope.of(method: .post, path: "/api/inspections") == .admin)
    }

    @Test func noCORSHeadersByDefaultAndPreflightsRefused() async throws {
        try await TestServer().run { client in
            let response = try await client.execute(uri: "/api/statistics", method: .get, headers: [.origin: "http://elsewhere.example"])
            #expect(response.status == .ok && response.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.execute(uri: "/predict", method: .options, headers: [
                .origin: "http://elsewhere.example", .accessControlRequestMethod: "POST",
            ])
            #expect(preflight.status == .forbidden && preflight.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func listedOriginsGetCORSHeadersOnAnswersAndErrors() async throws {
        try await TestServer { $0.corsOrigins = ["http://monitor.local"] }.run { client in
            let response = try await client.execute(uri: "/api/statistics?start_date=bad", method: .get, headers: [.origin: "http://monitor.local"])
            #expect(response.status == .badRequest)
            #expect(response.headers[.accessControlAllowOrigin] == "http://monitor.local")
            let preflight = try await client.execute(uri: "/predict", method: .options, headers: [
                .origin: "http://monitor.local", .accessControlRequestMethod: "POST",
            ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("POST") == true)
            let other = try await client.execute(uri: "/api/statistics", method: .get, headers: [.origin: "http://elsewhere.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func fullQueueAnswers503WithRetryAfter() async throws {
        let gate = Gate()
        var server = try TestServer { $0.queueCapacity = 1 }
        server.detector = ColourDetector(gate: gate)
        try await server.run { client in
            // Given a model stuck on the first frame,
            let first = Task { try await client.postJSON("/predict", seedRequest()) }
            while gate.arrivals == 0 { try await Task.sleep(for: .milliseconds(5)) }
            // when two more frames arrive for the one free place in the queue (posted together:
            // which one gets the place is up to the scheduler, not a sleep in the test),
            let (finished, finishing) = AsyncStream.makeStream(of: TestResponse.self)
            let post: @Sendable () async throws -> TestResponse = {
                do {
                    let response = try await client.postJSON("/predict", seedRequest())
                    finishing.yield(response)
                    return response
                } catch {
                    finishing.finish()
                    throw error
                }
            }
            let second = Task { try await post() }
            let third = Task { try await post() }
            // one of them is refused at once, while the model is still stuck,
            var firstFinished = finished.makeAsyncIterator()
            let refused = try #require(await firstFinished.next())
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(refused.errorMessage?.contains("queue is full") == true)
            // and the waiting ones complete once the model moves on.
            gate.release()
            #expect(try await first.value.status == .ok)
            let statuses = [try await second.value.status, try await third.value.status]
            #expect(statuses.filter { $0 == .ok }.count == 1 && statuses.contains(.serviceUnavailable), "\(statuses)")
        }
    }
}

/// A detector whose warm-up waits at a gate.
struct SlowWarmUp: DefectDetector {
    let gate: Gate
    var classNames: [String] { ColourDetector().classNames }
    var maxBatchSize: Int { 2 }
    var modelDescription: String { "slow-warm-up" }
    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] { try ColourDetector().detect(frames) }
    func warmUp() throws { gate.pass() }
}
