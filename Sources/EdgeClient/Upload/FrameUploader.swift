// Posts one frame to the server's `/predict` as the seed's camera does (JSON with a base64 JPEG,
// 5 s timeout) plus the line's extensions: `request_id` (retries never count twice),
// `board_id` when known, and `wait_for_board` on the left Pi (the response then carries the
// board's verdict). Classifies how the request ended for the pacing state machine.

import AsyncHTTPClient
import Foundation
import Inspection
import NIOCore
import NIOHTTP1

/// The parts of a `/predict` response the camera uses.
public struct PredictReply: Decodable, Sendable {
    public struct Signal: Decodable, Sendable {
        public var pin: Int
        public var duration_ms: Int
        public var gpio: GPIOSignal { GPIOSignal(pin: pin, durationMs: duration_ms) }
    }
    public struct Board: Decodable, Sendable {
        public var board_key: String
        public var final_defect_type: String
        public var final_category: String
        public var gpio_signal: Signal
        public var fail_safe: Bool
        public var missing_side: String?
    }
    public var defect_type: String
    public var category: String?
    public var confidence: Double
    public var inspection_id: Int64?
    public var inference_time_ms: Double?
    public var gpio_signal: Signal
    public var board: Board?
}

/// How one upload ended.
public enum UploadResult: Sendable {
    /// 2xx with a readable body.
    case inspected(PredictReply)
    /// The server answered and refused the frame (4xx other than 429): sending it again will not help.
    case refused(status: Int, message: String)
    /// 503/429 (queue full), or a 5xx fault: try again later.
    case busy(status: Int, retryAfter: Double?, message: String)
    /// No answer: refused connection, reset, timeout.
    case unreachable(String)

    var pacingOutcome: CapturePacingStateMachine.Outcome {
        switch self {
        case .inspected, .refused: .answered
        case .busy(_, let retryAfter, _): .busy(retryAfter: retryAfter)
        case .unreachable: .unreachable
        }
    }
}

/// One camera's HTTP side.
public struct FrameUploader: Sendable {
    public let predictURL: String
    public let cameraId: String
    public let token: String?
    public let timeout: TimeAmount
    private let client: HTTPClient

    /// - Parameters:
    ///   - serverURL: e.g. `http://192.168.0.10:5000` (the seed's `--server_url`).
    public init(serverURL: String, cameraId: String, token: String? = nil, timeoutSeconds: Double = 5, client: HTTPClient) {
        var base = serverURL
        while base.hasSuffix("/") { base.removeLast() }
        predictURL = base + "/predict"
        self.cameraId = cameraId
        self.token = token
        timeout = .milliseconds(Int64(timeoutSeconds * 1000))
        self.client = client
    }

    /// The request body the seed's client sends, plus our optional fields.
    public func body(for frame: CapturedFrame, requestId: String, waitForBoard: Bool) -> [UInt8] {
        var object: [String: Any] = [
            "camera_id": cameraId,
            "frame": Data(frame.jpeg).base64EncodedString(),
            "timestamp": Self.timestamp(frame.captureTime),
            "request_id": requestId,
        ]
        if let board = frame.boardId { object["board_id"] = board }
        if waitForBoard { object["wait_for_board"] = true }
        return [UInt8]((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    /// Local time with microseconds and the zone's offset, e.g. `2026-11-26T16:52:45.768635+09:00`.
    public static func timestamp(_ date: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let whole = calendar.date(from: c) ?? date
        let micros = min(999_999, max(0, Int((date.timeIntervalSince(whole) * 1e6).rounded(.down))))
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d%@%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!,
                      c.second!, micros, sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
    }

    /// Posts `frame`; never throws (every ending is a result).
    public func post(_ frame: CapturedFrame, requestId: String, waitForBoard: Bool) async -> UploadResult {
        var request = HTTPClientRequest(url: predictURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: body(for: frame, requestId: requestId, waitForBoard: waitForBoard)))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 4 << 20)
            let data = Data(bytes.readableBytesView)
            let status = Int(response.status.code)
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"]
                ?? String(decoding: data.prefix(200), as: UTF8.self)
            switch status {
            case 200..<300:
                do { return .inspected(try JSONDecoder().decode(PredictReply.self, from: data)) } catch {
                    return .refused(status: status, message: "unreadable response: \(error)")
                }
            case 429, 500...:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init)
                return .busy(status: status, retryAfter: retryAfter, message: message)
            default:
                return .refused(status: status, message: message)
            }
        } catch {
            return .unreachable(String(describing: error))
        }
    }
}
