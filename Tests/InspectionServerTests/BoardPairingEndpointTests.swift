import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import InspectionServer

@Suite struct BoardPairingEndpointTests {
    func request(_ camera: String, _ colour: (UInt8, UInt8, UInt8), board: String? = nil, wait: Bool? = nil) -> [String: Any] {
        var body = seedRequest(camera: camera, colour: colour)
        body["board_id"] = board
        body["wait_for_board"] = wait
        return body
    }

    @Test func secondSideGetsTheBoardVerdictByPriority() async throws {
        let server = try TestServer()
        try await server.run { client in
            let left = try await client.postJSON("/predict", request("left", Frames.blue, board: "B-1")).json
            #expect(left["board"] == nil)
            let right = try await client.postJSON("/predict", request("right", Frames.red, board: "B-1")).json
            let board = try #require(right["board"] as? [String: Any])
            #expect(board["final_defect_type"] as? String == "폐기")
            #expect(board["final_category"] as? String == "discard")
            #expect(board["board_key"] as? String == "B-1")
            #expect(board["fail_safe"] as? Bool == false)
            #expect((board["gpio_signal"] as? [String: Any])?["pin"] as? Int == 22)
            let boardId = try #require(board["board_id"] as? Int)
            let stored = try #require(try await server.store.board(id: Int64(boardId)))
            #expect(stored.leftInspectionId == Int64(left["inspection_id"] as! Int))
            #expect(stored.rightInspectionId == Int64(right["inspection_id"] as! Int))
        }
    }

    @Test func leftCameraCanWaitForTheBoardVerdict() async throws {
        try await TestServer().run { client in
            // Given the left Pi asks to hold its response until the board is decided,
            let left = Task { try await client.postJSON("/predict", request("left", Frames.green, board: "B-2", wait: true)) }
            try await Task.sleep(for: .milliseconds(200))
            // when the right side arrives,
            let right = try await client.postJSON("/predict", request("right", Frames.blue, board: "B-2"))
            #expect(right.status == .ok)
            // then the left response carries the board's verdict.
            let board = try #require(try await left.value.json["board"] as? [String: Any])
            #expect(board["final_category"] as? String == "component_defect")
            #expect((board["gpio_signal"] as? [String: Any])?["pin"] as? Int == 17)
        }
    }

    @Test func missingSideGivesTheFailSafeVerdictAtTheDeadline() async throws {
        let server = try TestServer { $0.pairingDeadlineSeconds = 0.3 }
        try await server.run { client in
            let started = ContinuousClock.now
            let left = try await client.postJSON("/predict", request("left", Frames.green, board: "B-3", wait: true)).json
            let waited = ContinuousClock.now - started
            let board = try #require(left["board"] as? [String: Any])
            #expect(board["fail_safe"] as? Bool == true)
            #expect(board["missing_side"] as? String == "right")
            #expect(board["final_category"] as? String == "discard")
            // Only the deadline can decide this board (no right side ever comes); the bound is
            // generous because a loaded test machine delays the 50 ms deadline tick by seconds.
            #expect(waited < .seconds(30), "held \(waited), the deadline is 0.3 s")
            let logs = try await server.store.recentLogs(limit: 10)
            #expect(logs.contains { $0.source == "pairing" && $0.message.contains("B-3") })
        }
    }

    @Test func sidesWithoutBoardIdsPairByCaptureTime() async throws {
        try await TestServer().run { client in
            var left = request("left", Frames.green)
            var right = request("right", Frames.yellow)
            left["timestamp"] = "2026-11-26T16:52:45.100000"
            right["timestamp"] = "2026-11-26T16:52:45.300000"
            _ = try await client.postJSON("/predict", left)
            let board = try #require(try await client.postJSON("/predict", right).json["board"] as? [String: Any])
            #expect(board["final_category"] as? String == "normal")
            #expect((board["board_key"] as? String)?.hasPrefix("auto-") == true)
        }
    }

    @Test func waitForBoardMustBeABoolean() async throws {
        try await TestServer().run { client in
            var body = request("left", Frames.green)
            body["wait_for_board"] = "yes"
            let response = try await client.postJSON("/predict", body)
            #expect(response.status == .badRequest)
            #expect(response.errorMessage == "Field 'wait_for_board' must be true or false")
        }
    }

    @Test func numericBoardIdsAreIdsAndNumbersAreNotBooleans() async throws {
        try await TestServer().run { client in
            var body = request("left", Frames.green)
            body["board_id"] = 1
            let small = try await client.postJSON("/predict", body)
            #expect(small.status == .ok)
            body["board_id"] = 9_007_199_254_740_993 as Int64
            #expect(try await client.postJSON("/predict", body).status == .ok)
            body["board_id"] = true
            #expect(try await client.postJSON("/predict", body).errorMessage == "Field 'board_id' must be a string or a whole number")
            body["board_id"] = 1.5
            #expect(try await client.postJSON("/predict", body).status == .badRequest)
            body["board_id"] = nil
            body["wait_for_board"] = 1
            #expect(try await client.postJSON("/predict", body).errorMessage == "Field 'wait_for_board' must be true or false")
        }
    }
}
