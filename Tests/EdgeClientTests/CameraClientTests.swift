// The camera client against a local HTTP server: pacing, slow and busy servers, a server that
// goes away and comes back, and the left Pi's one pulse per board. The server here is a small
// stand-in for `pcb serve` that answers in the seed's format (the real server runs against the
// real client in Tests/EndToEndTests, `pcb simulate line`).

import AsyncHTTPClient
import Foundation
import Hummingbird
import Inspection
import Logging
import NIOCore
import Testing
@testable import EdgeClient

/// What the stand-in server saw and how it answers.
actor StandInServer {
    enum Answer: Sendable {
        case inspected(board: GPIOSignal?)
        case status(Int, retryAfter: Int?)
        case delayed(Double)
    }

    struct Received: Sendable {
        var sequence: Int
        var cameraId: String
        var waitForBoard: Bool
        var at: Double
    }

    private(set) var received: [Received] = []
    private(set) var maxConcurrent = 0
    private var concurrent = 0
    /// How to answer the request with this sequence number.
    var answer: @Sendable (Int) -> Answer = { _ in .inspected(board: nil) }
    private var task: Task<Void, Error>?
    private(set) var port = 0

    func setAnswer(_ answer: @escaping @Sendable (Int) -> Answer) { self.answer = answer }

    /// Starts listening on 127.0.0.1:`port` (0: any free port); returns the port.
    @discardableResult
    func start(port: Int = 0) async throws -> Int {
        let router = Router()
        router.post("/predict") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 8 << 20)
            let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
            let requestId = object["request_id"] as? String ?? ""
            let sequence = Int(requestId.split(separator: "-").last ?? "") ?? -1
            let answer = await self.arrived(Received(sequence: sequence, cameraId: object["camera_id"] as? String ?? "",
                                                     waitForBoard: object["wait_for_board"] as? Bool ?? false,
                                                     at: MonotonicClock().now))
            defer { Task { await self.left() } }
            switch answer {
            case .inspected(let board): return Self.json(200, Self.reply(board: board))
            case .delayed(let seconds):
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return Self.json(200, Self.reply(board: nil))
            case .status(let code, let retryAfter):
                var response = Self.json(code, #"{"error": "stand-in refusal"}"#)
                if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
                return response
            }
        }
        let started = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { channel in started.continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: Logger(label: "stand-in", factory: { _ in SwiftLogNoOpLogHandler() }))
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = started.stream.makeAsyncIterator()
        self.port = await iterator.next() ?? 0
        return self.port
    }

    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        task = nil
    }

    private func arrived(_ request: Received) -> Answer {
        received.append(request)
        concurrent += 1
        maxConcurrent = max(maxConcurrent, concurrent)
        return answer(request.sequence)
    }

    private func left() { concurrent -= 1 }

    static func reply(board: GPIOSignal?) -> String {
        let boardJSON = board.map {
            #", "board": {"board_key": "b", "final_defect_type": "x", "final_category": "solder_defect", "gpio_signal": {"pin": \#($0.pin), "action": "HIGH", "duration_ms": \#($0.durationMs)}, "fail_safe": false}"#
        } ?? ""
        return #"{"status": "ok", "camera_id": "left", "defect_type": "정상", "category": "normal", "confidence": 1.0, "boxes": [], "inference_time_ms": 3.0, "gpio_signal": {"pin": 23, "action": "HIGH", "duration_ms": 300}, "inspection_id": 1\#(boardJSON)}"#
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

@Suite(.serialized) struct CameraClientTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let discard = GPIOSignal(pin: 22, durationMs: 500)
    let solder = GPIOSignal(pin: 27, durationMs: 500)
    let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xD9]

    func frames(_ count: Int, fps: Double, startIn seconds: Double = 0.2) -> ListFrameSource {
        ListFrameSource(items: Array(repeating: .init(jpeg: jpeg), count: count), start: MonotonicClock().now + seconds, fps: fps)
    }

    func client(port: Int, http: HTTPClient, source: ListFrameSource, fps: Double, actuator: (any GPIOActuator)? = nil,
                triggered: Bool = false, timeout: Double = 5) -> CameraClient {
        CameraClient(configuration: .init(cameraId: "left", fps: fps, waitForBoard: actuator != nil, everyFrameIsABoard: triggered,
                                          verdictTimeout: 2),
                     source: source,
                     uploader: FrameUploader(serverURL: "http://127.0.0.1:\(port)", cameraId: "left", timeoutSeconds: timeout, client: http),
                     actuator: actuator, failSafe: discard, logger: logger)
    }

    @Test func sendsAtMostFpsAndOneAtATime() async throws {
        let server = StandInServer()
        let port = try await server.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        // Given a 30 fps camera for one second and a client limited to 5 fps
        let camera = client(port: port, http: http, source: frames(30, fps: 30), fps: 5)
        try await camera.run()
        try await http.shutdown()
        await server.stop()
        // Then frames went at most 5 a second (a loaded machine may send fewer, never more),
        // never two at once, and the rest were skipped
        let received = await server.received
        let stats = await camera.statistics
        #expect(received.count >= 2 && received.count <= 7, "\(received.count) requests")
        // Sends are 0.2 s apart; arrival times jitter by more than 0.1 s on a loaded machine (one
        // request delayed, the next on time), and without pacing the gaps would be milliseconds.
        for (a, b) in zip(received, received.dropFirst()) {
            #expect(b.at - a.at >= 0.05, "two sends \(b.at - a.at) s apart at 5 fps")
        }
        #expect(await server.maxConcurrent == 1)
        #expect(stats.sent == received.count && stats.skipped == 30 - received.count)
        #expect(received.allSatisfy { $0.cameraId == "left" && !$0.waitForBoard })
    }

    @Test func slowServerSkipsFramesAndTheNewestGoesNext() async throws {
        let server = StandInServer()
        let port = try await server.start()
        await server.setAnswer { _ in .delayed(0.4) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let camera = client(port: port, http: http, source: frames(20, fps: 20), fps: 20)
        try await camera.run()
        try await http.shutdown()
        await server.stop()
        let sequences = await server.received.map(\.sequence)
        #expect(sequences.count >= 2 && sequences.count <= 10, "a 0.4 s server cannot take 20 frames in a second: \(sequences)")
        #expect(sequences == sequences.sorted())
        #expect(sequences.last == 19, "the last frame captured is sent once the server answers: \(sequences)")
        #expect(await server.maxConcurrent == 1)
    }

    @Test func reconnectsWithBackoffWhenTheServerComesBack() async throws {
        // A free port with nothing on it yet.
        let probe = StandInServer()
        let port = try await probe.start()
        await probe.stop()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let camera = client(port: port, http: http, source: frames(40, fps: 20, startIn: 0), fps: 20, timeout: 1)
        let run = Task { try await camera.run() }
        // The server comes up 1.2 s into a 2 s capture.
        try await Task.sleep(for: .milliseconds(1200))
        let server = StandInServer()
        try await server.start(port: port)
        try await run.value
        try await http.shutdown()
        await server.stop()
        let stats = await camera.statistics
        // AsyncHTTPClient keeps retrying a refused connection until the request's deadline (1 s
        // here), then the client pauses 0.5 s, 1 s, ...: a few attempts while down, not one per frame.
        #expect(stats.unreachable >= 1 && stats.unreachable <= 3, "\(stats)")
        #expect(stats.inspected >= 1, "frames flow again after the server is back: \(stats)")
    }

    @Test func busyServerRetryAfterIsHonoured() async throws {
        let server = StandInServer()
        let port = try await server.start()
        await server.setAnswer { sequence in sequence == 0 ? .status(503, retryAfter: 1) : .inspected(board: nil) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let camera = client(port: port, http: http, source: frames(30, fps: 20, startIn: 0), fps: 20)
        try await camera.run()
        try await http.shutdown()
        await server.stop()
        let received = await server.received
        try #require(received.count >= 2)
        let gap = received[1].at - received[0].at
        #expect(gap >= 0.95, "the second request came \(gap) s after a 503 with Retry-After: 1")
        #expect(await camera.statistics.busy == 1)
    }

    @Test func leftCameraPulsesEveryBoardExactlyOnce() async throws {
        let server = StandInServer()
        let port = try await server.start()
        let solder = solder
        // Boards 2, 5, 8, 11 are refused (400): no verdict can come, they fail safe.
        await server.setAnswer { sequence in sequence % 3 == 2 ? .status(400, retryAfter: nil) : .inspected(board: solder) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let actuator = DryRunActuator(logger: logger)
        let camera = client(port: port, http: http, source: frames(12, fps: 10), fps: 10, actuator: actuator, triggered: true)
        try await camera.run()
        try await http.shutdown()
        await server.stop()
        let pulses = await actuator.pulses
        #expect(pulses.map(\.board).sorted() == Array(0..<12))
        for pulse in pulses {
            if pulse.board % 3 == 2 {
                #expect(pulse.failSafe && pulse.signal == discard, "board \(pulse.board)")
            } else {
                #expect(!pulse.failSafe && pulse.signal == solder, "board \(pulse.board)")
            }
        }
        #expect(await server.received.allSatisfy(\.waitForBoard))
    }

    /// Frames 0, 1 and 4 only: 2 and 3 were lost between the camera and the client.
    struct GappySource: FrameSource {
        func frames() -> AsyncThrowingStream<CapturedFrame, Error> {
            AsyncThrowingStream { continuation in
                let clock = MonotonicClock()
                for sequence in [0, 1, 4] {
                    continuation.yield(CapturedFrame(sequence: sequence, jpeg: [0xFF, 0xD8, 0xFF, 0xD9], captureTime: Date(), capturedAt: clock.now))
                }
                continuation.finish()
            }
        }
    }

    @Test func triggeredBoardsLostBeforeTheClientStillFailSafe() async throws {
        let server = StandInServer()
        let port = try await server.start()
        let solder = solder
        await server.setAnswer { _ in .inspected(board: solder) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let actuator = DryRunActuator(logger: logger)
        let camera = CameraClient(
            configuration: .init(cameraId: "left", fps: 100, waitForBoard: true, everyFrameIsABoard: true, verdictTimeout: 2),
            source: GappySource(),
            uploader: FrameUploader(serverURL: "http://127.0.0.1:\(port)", cameraId: "left", client: http),
            actuator: actuator, failSafe: discard, logger: logger)
        try await camera.run()
        try await http.shutdown()
        await server.stop()
        let pulses = await actuator.pulses
        #expect(pulses.map(\.board).sorted() == [0, 1, 2, 3, 4], "\(pulses.map(\.board))")
        #expect(pulses.filter { [2, 3].contains($0.board) }.allSatisfy { $0.failSafe && $0.signal == discard })
    }

    @Test func triggeredBoardsSkippedForASlowServerStillGetTheFailSafePulse() async throws {
        let server = StandInServer()
        let port = try await server.start()
        await server.setAnswer { _ in .delayed(0.35) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let actuator = DryRunActuator(logger: logger)
        let camera = client(port: port, http: http, source: frames(10, fps: 10), fps: 10, actuator: actuator, triggered: true)
        try await camera.run()
        try await http.shutdown()
        await server.stop()
        let pulses = await actuator.pulses
        let stats = await camera.statistics
        #expect(pulses.map(\.board).sorted() == Array(0..<10), "one pulse per board: \(pulses.map(\.board))")
        #expect(stats.skipped > 0 && pulses.filter(\.failSafe).count >= stats.skipped, "\(stats)")
    }
}
