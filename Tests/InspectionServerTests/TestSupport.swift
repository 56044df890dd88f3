// Test helpers: a fake detector that reads the frame's colour (fakes live in tests only),
// frame builders, and an application factory on an in-memory store.

import Detection
import Foundation
import Hummingbird
import HummingbirdTesting
import ImageKit
import Inspection
import Logging
import Storage
import Testing
@testable import InspectionServer

/// Reports one box whose class depends on the frame's centre colour: red -> spurious_copper
/// (discard), blue -> missing_component, yellow -> mouse_bite (minor), anything else nothing.
struct ColourDetector: DefectDetector {
    var classNames: [String] { ["missing_component", "open_circuit", "short", "cold_joint", "solder_bridge",
                                "insufficient_solder", "damaged_pad", "spurious_copper", "mouse_bite", "spur", "pin_hole"] }
    var maxBatchSize: Int { 2 }
    var modelDescription: String { "colour-fake" }
    /// Held while detecting, so tests can make the model slow.
    var gate: Gate? = nil

    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] {
        gate?.pass()
        return frames.map { frame in
            let i = ((frame.height / 2) * frame.width + frame.width / 2) * 3
            let (r, g, b) = (Int(frame.pixels[i]), Int(frame.pixels[i + 1]), Int(frame.pixels[i + 2]))
            let name: String? =
                r > 180 && g < 80 && b < 80 ? "spurious_copper" :
                b > 180 && r < 80 && g < 80 ? "missing_component" :
                r > 180 && g > 180 && b < 80 ? "mouse_bite" : nil
            guard let name else { return [] }
            return [DetectedDefect(className: name, confidence: 0.9, x1: 10, y1: 20, x2: 30, y2: 40)]
        }
    }

    func warmUp() throws {}
}

/// A gate the detector waits at until the test opens it.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var open = false
    private(set) var waiting = 0

    func pass() {
        condition.lock()
        waiting += 1
        while !open { condition.wait() }
        condition.unlock()
    }

    func release() {
        condition.lock()
        open = true
        condition.broadcast()
        condition.unlock()
    }

    var arrivals: Int { condition.lock(); defer { condition.unlock() }; return waiting }
}

enum Frames {
    static let codec = JPEGCodec()

    static func jpeg(_ colour: (UInt8, UInt8, UInt8), width: Int = 64, height: Int = 48) -> [UInt8] {
        try! codec.encode(RGBImage(width: width, height: height, fill: colour), quality: 90)
    }

    static func base64(_ colour: (UInt8, UInt8, UInt8)) -> String { Data(jpeg(colour)).base64EncodedString() }

    static let green = (UInt8(30), UInt8(140), UInt8(60))
    static let red = (UInt8(230), UInt8(20), UInt8(20))
    static let blue = (UInt8(20), UInt8(20), UInt8(230))
    static let yellow = (UInt8(230), UInt8(230), UInt8(20))
}

func shippedPolicy() throws -> DefectPolicy {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try DefectPolicy.load(yaml: String(contentsOf: root.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8))
}

struct TestServer {
    var config = ServerConfig()
    var detector: any DefectDetector = ColourDetector()
    var provenance: Provenance? = Provenance(model: "colour.onnx@00000000000000c0", calibration: nil, policy: "pcb_defects.yaml@00000000000000aa",
                                             serverVersion: ServerVersion.current)
    let imageDirectory: String
    let store: SQLiteInspectionStore

    init(configure: (inout ServerConfig) -> Void = { _ in }) throws {
        imageDirectory = NSTemporaryDirectory() + "pcb-test-images-" + UUID().uuidString
        store = try SQLiteInspectionStore(inMemoryWith: DefectImageFolder(directory: imageDirectory))
        config.port = 0
        config.host = "127.0.0.1"
        config.logToFile = false
        // Both sides of a test's board are posted one after the other, but a loaded CI machine
        // running every suite at once has taken over 2 s (the shipped deadline) between them and
        // decided the board fail-safe. Tests of the deadline itself set their own.
        config.pairingDeadlineSeconds = 60
        configure(&config)
    }

    /// Runs `body` against the application: through the router alone (default), or on a live
    /// loopback server (`.live`, for WebSockets).
    func run<T>(_ testing: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(
            config, dependencies: ServerDependencies(policy: try shippedPolicy(), detector: detector, store: store, provenance: provenance),
            logger: logger)
        defer { try? FileManager.default.removeItem(atPath: imageDirectory) }
        return try await app.test(testing) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    func postJSON(_ uri: String, _ object: [String: Any], headers: HTTPFields = [:]) async throws -> TestResponse {
        let data = try JSONSerialization.data(withJSONObject: object)
        var fields = headers
        fields[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(bytes: data))
    }

    func postRaw(_ uri: String, _ text: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: text))
    }

    func get(_ uri: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .get)
    }

    /// Waits until /health says the model is warmed up; fails the test after `timeout`.
    func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last: HTTPResponse.Status = .serviceUnavailable
        while ContinuousClock.now < deadline {
            last = try await get("/health").status
            if last == .ok { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the server was not ready within \(timeout): /health answered \(last.code)")
        throw CancellationError()
    }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var errorMessage: String? { json["error"] as? String }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Data($0) }
    }
}

func seedRequest(camera: String = "left", colour: (UInt8, UInt8, UInt8) = Frames.green) -> [String: Any] {
    ["camera_id": camera, "frame": Frames.base64(colour), "timestamp": "2026-11-26T16:52:45.768635"]
}
