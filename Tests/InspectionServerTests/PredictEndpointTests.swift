import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import InspectionServer

@Suite struct PredictEndpointTests {
    @Test func normalFrameAnswersEverySeedField() async throws {
        try await TestServer().run { client in
            try await client.waitUntilReady()
            let response = try await client.postJSON("/predict", seedRequest())
            #expect(response.status == .ok)
            let body = response.json
            #expect(body["status"] as? String == "ok")
            #expect(body["camera_id"] as? String == "left")
            #expect(body["timestamp"] as? String == "2026-11-26T16:52:45.768635")
            #expect(body["defect_type"] as? String == "정상")
            #expect(body["category"] as? String == "normal")
            #expect(body["confidence"] as? Double == 1.0)
            #expect((body["boxes"] as? [Any])?.isEmpty == true)
            #expect(body["inference_time_ms"] is Double)
            let gpio = body["gpio_signal"] as? [String: Any]
            #expect(gpio?["pin"] as? Int == 23)
            #expect(gpio?["action"] as? String == "HIGH")
            #expect(gpio?["duration_ms"] as? Int == 300)
            #expect((body["inspection_id"] as? Int ?? 0) > 0)
            #expect(body["image_saved"] as? Bool == false)
        }
    }

    @Test func defectFrameIsStoredWithItsImage() async throws {
        let server = try TestServer()
        try await server.run { client in
            let response = try await client.postJSON("/predict", seedRequest(camera: "right", colour: Frames.red))
            #expect(response.status == .ok)
            let body = response.json
            #expect(body["defect_type"] as? String == "폐기")
            #expect(body["confidence"] as? Double == 0.9)
            let box = (body["boxes"] as? [[String: Any]])?.first
            #expect(box?["class"] as? String == "spurious_copper")
            #expect(box?["x1"] as? Double == 10)
            #expect(box?["y2"] as? Double == 40)
            #expect((body["gpio_signal"] as? [String: Any])?["pin"] as? Int == 22)
            let id = try #require(body["inspection_id"] as? Int)

            let image = try await client.get("/api/defect-images/\(id)")
            #expect(image.status == .ok)
            #expect(image.headers[.contentType] == "image/jpeg")
            #expect(Array(Data(buffer: image.body).prefix(2)) == [0xFF, 0xD8])
        }
    }

    @Test func minorDefectPassesAsNormalWithBoxes() async throws {
        try await TestServer().run { client in
            let body = try await client.postJSON("/predict", seedRequest(colour: Frames.yellow)).json
            #expect(body["defect_type"] as? String == "정상")
            #expect((body["boxes"] as? [[String: Any]])?.first?["class"] as? String == "mouse_bite")
            #expect(body["image_saved"] as? Bool == false)
        }
    }

    @Test func retriedRequestIdCreatesOneInspection() async throws {
        let server = try TestServer()
        try await server.run { client in
            var request = seedRequest(colour: Frames.blue)
            request["request_id"] = "cam-left-000123"
            let first = try await client.postJSON("/predict", request).json
            let second = try await client.postJSON("/predict", request).json
            #expect(first["inspection_id"] as? Int == second["inspection_id"] as? Int)
            #expect(first["duplicate"] as? Bool == false)
            #expect(second["duplicate"] as? Bool == true)
            #expect(second["defect_type"] as? String == "부품불량")
            let list = try await client.get("/api/inspections").json
            #expect((list["pagination"] as? [String: Any])?["total"] as? Int == 1)
        }
    }

    @Test func requestIdsAreScopedByCamera() async throws {
        try await TestServer().run { client in
            var left = seedRequest(camera: "left", colour: Frames.blue)
            left["request_id"] = "shared-7"
            var right = seedRequest(camera: "right", colour: Frames.green)
            right["request_id"] = "shared-7"
            let first = try await client.postJSON("/predict", left).json
            // The same id from the other camera is that camera's own frame, judged on its own.
            let other = try await client.postJSON("/predict", right).json
            #expect(other["duplicate"] as? Bool == false)
            #expect(other["inspection_id"] as? Int != first["inspection_id"] as? Int)
            #expect(other["defect_type"] as? String == "정상")
            // A retry from the first camera is still answered from its own record.
            let retry = try await client.postJSON("/predict", left).json
            #expect(retry["duplicate"] as? Bool == true && retry["inspection_id"] as? Int == first["inspection_id"] as? Int)
        }
    }

    @Test func bodiesThatAreNotDeclaredJSONAre415() async throws {
        try await TestServer().run { client in
            let body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: seedRequest()))
            for type in ["text/plain", "application/x-www-form-urlencoded"] {
                let response = try await client.execute(uri: "/predict", method: .post, headers: [.contentType: type], body: body)
                #expect(response.status == .unsupportedMediaType, "\(type)")
            }
            let missing = try await client.execute(uri: "/predict", method: .post, headers: [:], body: body)
            #expect(missing.status == .unsupportedMediaType)
            let withCharset = try await client.execute(uri: "/predict", method: .post,
                                                       headers: [.contentType: "application/json; charset=utf-8"], body: body)
            #expect(withCharset.status == .ok)
        }
    }

    @Test func timestampWithOffsetOrMissingIsAccepted() async throws {
        try await TestServer().run { client in
            var request = seedRequest()
            request["timestamp"] = "2026-11-26T16:52:45+09:00"
            #expect(try await client.postJSON("/predict", request).status == .ok)
            request["timestamp"] = nil
            let response = try await client.postJSON("/predict", request)
            #expect(response.status == .ok)
        }
    }

    @Test func dualRunsBothSidesAndDecidesTheBoard() async throws {
        let server = try TestServer()
        try await server.run { client in
            let response = try await client.postJSON("/predict_dual", [
                "frame_left": Frames.base64(Frames.blue), "frame_right": Frames.base64(Frames.red),
            ])
            #expect(response.status == .ok)
            let body = response.json
            #expect(body["status"] as? String == "ok")
            #expect(body["final_defect_type"] as? String == "폐기")
            let gpio = body["gpio_signal"] as? [String: Any]
            #expect(gpio?["pin"] as? Int == 22)
            #expect(gpio?["duration_ms"] as? Int == 500)
            #expect((body["left"] as? [String: Any])?["defect_type"] as? String == "부품불량")
            #expect((body["right"] as? [String: Any])?["defect_type"] as? String == "폐기")
            let boardId = try #require(body["board_id"] as? Int)
            let board = try #require(try await server.store.board(id: Int64(boardId)))
            #expect(board.category == .discard)
            let leftId = try #require((body["left"] as? [String: Any])?["inspection_id"] as? Int)
            #expect(board.leftInspectionId == Int64(leftId))
            #expect(try await server.store.inspection(id: Int64(leftId))?.boardId == Int64(boardId))
        }
    }

    @Test func retriedDualRequestStoresNothingTwice() async throws {
        let server = try TestServer()
        try await server.run { client in
            let body: [String: Any] = ["frame_left": Frames.base64(Frames.blue), "frame_right": Frames.base64(Frames.green),
                                       "request_id": "dual-77"]
            let first = try await client.postJSON("/predict_dual", body).json
            let second = try await client.postJSON("/predict_dual", body).json
            #expect(first["board_id"] as? Int == second["board_id"] as? Int)
            #expect((second["left"] as? [String: Any])?["duplicate"] as? Bool == true)
            #expect(try await server.store.inspections(page: 1, limit: 10).total == 2)
        }
    }

    @Test func dualUsesTheConfiguredCamerasAndCountsTheirFrames() async throws {
        // Given a line whose cameras are not called left and right
        let server = try TestServer { $0.cameras = ["cam-a", "cam-b"] }
        try await server.run { client in
            // When both sides come in one request
            let response = try await client.postJSON("/predict_dual", [
                "frame_left": Frames.base64(Frames.green), "frame_right": Frames.base64(Frames.yellow), "board_id": "B-9",
            ])
            #expect(response.status == .ok)
            let body = response.json
            // Then each side is stored under its configured camera, and the board under its id
            #expect((body["left"] as? [String: Any])?["camera_id"] as? String == "cam-a")
            #expect((body["right"] as? [String: Any])?["camera_id"] as? String == "cam-b")
            let boardId = try #require(body["board_id"] as? Int)
            let board = try #require(try await server.store.board(id: Int64(boardId)))
            #expect(board.boardKey == "B-9" && !board.failSafe)
            // And both cameras count as seen, and the board reaches the live feed like a paired one
            let snapshot = try await client.get("/live/snapshot").json
            let cameras = try #require(snapshot["cameras"] as? [[String: Any]])
            #expect(cameras.map { $0["camera_id"] as? String } == ["cam-a", "cam-b"])
            #expect(cameras.map { $0["frames"] as? Int } == [1, 1])
            let boards = try #require(snapshot["recent_boards"] as? [[String: Any]])
            #expect(boards.map { $0["board_key"] as? String } == ["B-9"])
            let metrics = String(decoding: Data(buffer: try await client.get("/metrics").body), as: UTF8.self)
            #expect(metrics.contains("pcb_boards_total"), "no board counter in /metrics")
        }
    }

    @Test func dualNeedsACameraForEachSide() async throws {
        try await TestServer { $0.cameras = ["only"] }.run { client in
            let response = try await client.postJSON("/predict_dual", [
                "frame_left": Frames.base64(Frames.green), "frame_right": Frames.base64(Frames.green),
            ])
            #expect(response.status == .badRequest)
            #expect(response.errorMessage?.hasPrefix("No configured camera films the right side") == true)
        }
    }

    @Test func dualWithAMissingFrameIsRefused() async throws {
        try await TestServer().run { client in
            let response = try await client.postJSON("/predict_dual", ["frame_left": Frames.base64(Frames.green)])
            #expect(response.status == .badRequest)
            #expect(response.errorMessage == "Missing frame data")
        }
    }
}

@Suite struct PredictBadInputTests {
    func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, _ message: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.errorMessage?.contains(message) == true, "\(response.json)", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    }

    @Test func missingOrEmptyFrame() async throws {
        try await TestServer().run { client in
            var request = seedRequest()
            request["frame"] = nil
            expectError(try await client.postJSON("/predict", request), .badRequest, "No frame data")
            request["frame"] = ""
            expectError(try await client.postJSON("/predict", request), .badRequest, "No frame data")
            request["frame"] = NSNull()
            expectError(try await client.postJSON("/predict", request), .badRequest, "No frame data")
        }
    }

    @Test func malformedBodies() async throws {
        try await TestServer().run { client in
            expectError(try await client.postRaw("/predict", "{\"camera_id\": \"left\", "), .badRequest, "not valid JSON")
            expectError(try await client.postRaw("/predict", "[1, 2, 3]"), .badRequest, "must be a JSON object")
            expectError(try await client.postRaw("/predict", ""), .badRequest, "empty")
            expectError(try await client.postRaw("/predict", "\u{00}\u{01}garbage"), .badRequest, "not valid JSON")
        }
    }

    @Test func wrongTypes() async throws {
        try await TestServer().run { client in
            var request = seedRequest()
            request["frame"] = 12345
            expectError(try await client.postJSON("/predict", request), .badRequest, "Field 'frame' must be a string")
            request = seedRequest()
            request["camera_id"] = 1
            expectError(try await client.postJSON("/predict", request), .badRequest, "Field 'camera_id' must be a string")
            request = seedRequest()
            request["timestamp"] = ["not", "a", "time"]
            expectError(try await client.postJSON("/predict", request), .badRequest, "Field 'timestamp' must be a string")
            request = seedRequest()
            request["request_id"] = true
            expectError(try await client.postJSON("/predict", request), .badRequest, "Field 'request_id' must be a string or a whole number")
        }
    }

    @Test func unknownOrMissingCamera() async throws {
        try await TestServer().run { client in
            expectError(try await client.postJSON("/predict", seedRequest(camera: "top")), .badRequest, "Unknown camera_id 'top'")
            var request = seedRequest()
            request["camera_id"] = nil
            expectError(try await client.postJSON("/predict", request), .badRequest, "Field 'camera_id' is required")
        }
    }

    @Test func badTimestamp() async throws {
        try await TestServer().run { client in
            for text in ["yesterday", "2026-13-01T00:00:00", "2026-02-30T10:00:00", "2026-11-26T16:52:60", "2026-11-26T16:52:45.768635+25:00"] {
                var request = seedRequest()
                request["timestamp"] = text
                expectError(try await client.postJSON("/predict", request), .badRequest, "Field 'timestamp' must be an ISO-8601")
            }
        }
    }

    @Test func badBase64AndNonJPEG() async throws {
        try await TestServer().run { client in
            var request = seedRequest()
            request["frame"] = "%%%% not base64 %%%%"
            expectError(try await client.postJSON("/predict", request), .badRequest, "Failed to decode frame")
            request["frame"] = Data("GIF89a this is not a jpeg".utf8).base64EncodedString()
            expectError(try await client.postJSON("/predict", request), .badRequest, "Failed to decode frame")
        }
    }

    @Test func truncatedJPEG() async throws {
        try await TestServer().run { client in
            let jpeg = Frames.jpeg(Frames.green, width: 320, height: 240)
            for cut in [jpeg.count / 2, 300, 20, 3] {
                var request = seedRequest()
                request["frame"] = Data(jpeg.prefix(cut)).base64EncodedString()
                expectError(try await client.postJSON("/predict", request), .badRequest, "Failed to decode frame")
            }
        }
    }

    @Test func giganticDimensionsAreRefusedBeforeDecoding() async throws {
        try await TestServer().run { client in
            var jpeg = Frames.jpeg(Frames.green)
            // Patch the SOF0 marker's height and width to 60000 x 60000.
            let sof = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
            jpeg[sof + 5] = 0xEA; jpeg[sof + 6] = 0x60
            jpeg[sof + 7] = 0xEA; jpeg[sof + 8] = 0x60
            var request = seedRequest()
            request["frame"] = Data(jpeg).base64EncodedString()
            expectError(try await client.postJSON("/predict", request), .contentTooLarge, "Frame too large")
        }
    }

    @Test func zeroPixelJPEG() async throws {
        try await TestServer().run { client in
            var jpeg = Frames.jpeg(Frames.green)
            let sof = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
            jpeg[sof + 5] = 0; jpeg[sof + 6] = 0
            var request = seedRequest()
            request["frame"] = Data(jpeg).base64EncodedString()
            expectError(try await client.postJSON("/predict", request), .badRequest, "Failed to decode frame")
        }
    }

    @Test func bodyOverTheLimit() async throws {
        try await TestServer { $0.maxBodyBytes = 4096 }.run { client in
            var request = seedRequest()
            request["frame"] = String(repeating: "A", count: 10_000)
            expectError(try await client.postJSON("/predict", request), .contentTooLarge, "exceeds the limit of 4096 bytes")
        }
    }

    @Test func nothingIsStoredForRefusedRequests() async throws {
        let server = try TestServer()
        try await server.run { client in
            _ = try await client.postRaw("/predict", "{")
            _ = try await client.postJSON("/predict", seedRequest(camera: "nope"))
            var request = seedRequest()
            request["frame"] = "AAAA"
            _ = try await client.postJSON("/predict", request)
            let page = try await server.store.inspections(page: 1, limit: 10)
            #expect(page.total == 0)
        }
    }
}
