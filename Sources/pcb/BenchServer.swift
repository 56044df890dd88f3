// `pcb bench server`: the server's own cost per /predict, excluding the model.
//
// Posts the same 640x480 JPEG (quality 85) to a running `pcb serve` N times, one request at a
// time, and reports per request: the round trip seen by the client, and the overhead, that is
// the round trip minus the model time and queue wait the server reports in `stage_times_ms`.
// What remains is HTTP, JSON, base64, JPEG decode, policy, store insert and the response.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import ImageKit
import NIOCore
import SeededRandom
import Simulation
import Telemetry

struct BenchServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Measure per-/predict server overhead (everything but the model) against a running pcb serve.")

    @Option(help: "Base URL of the server.") var url = "http://127.0.0.1:5000"
    @Option(help: "Requests to send (sequentially).") var requests = 1000
    @Option(help: "Requests sent first and not counted.") var warmup = 20
    @Option(help: "JPEG to send (default: a generated 640x480 board-like picture at quality 85).") var frame: String?
    @Option(help: "camera_id to send.") var camera = "left"
    @Option(name: .customLong("api-token"), help: "Bearer token, if the server needs one.") var apiToken: String?

    func run() async throws {
        let jpeg: [UInt8]
        if let frame {
            guard let data = FileManager.default.contents(atPath: frame) else { throw ValidationError("cannot read \(frame)") }
            jpeg = [UInt8](data)
        } else {
            jpeg = try JPEGCodec().encode(BenchFrame.boardLike(width: 640, height: 480), quality: 85)
        }
        let base64 = Data(jpeg).base64EncodedString()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }

        var roundTrips: [Double] = []
        var overheads: [Double] = []
        var models: [Double] = []
        var stores: [Double] = []
        for index in 0..<(warmup + requests) {
            let body: [String: Any] = [
                "camera_id": camera, "frame": base64,
                "timestamp": ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: "Z", with: ""),
            ]
            var request = HTTPClientRequest(url: url + "/predict")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let apiToken { request.headers.add(name: "Authorization", value: "Bearer \(apiToken)") }
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            let start = ContinuousClock.Instant.now
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let elapsed = (ContinuousClock.Instant.now - start).components
            let roundTrip = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
            guard response.status == .ok,
                  let json = try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any],
                  let stages = json["stage_times_ms"] as? [String: Any],
                  let model = stages["model_ms"] as? Double, let queue = stages["queue_ms"] as? Double
            else {
                throw ValidationError("request \(index) failed: HTTP \(response.status.code) \(String(buffer: bytes).prefix(200))")
            }
            if index >= warmup {
                roundTrips.append(roundTrip)
                models.append(model)
                stores.append(stages["store_ms"] as? Double ?? 0)
                overheads.append(roundTrip - model - queue)
            }
        }
        func percentile(_ values: [Double], _ p: Double) -> Double { (Percentiles(values).value(at: p) * 1000).rounded() / 1000 }
        let summary: [String: Any] = [
            "requests": requests, "frame_bytes": jpeg.count,
            "overhead_median_ms": percentile(overheads, 50), "overhead_p99_ms": percentile(overheads, 99),
            "roundtrip_median_ms": percentile(roundTrips, 50), "roundtrip_p99_ms": percentile(roundTrips, 99),
            "model_median_ms": percentile(models, 50),
            "store_median_ms": percentile(stores, 50), "store_p99_ms": percentile(stores, 99),
        ]
        let line = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: line, as: UTF8.self))
    }
}

/// A deterministic board-like picture (green solder mask, copper traces, pads, noise) whose
/// JPEG size is close to a real camera frame's; a flat colour would compress to almost nothing.
enum BenchFrame {
    static func boardLike(width: Int, height: Int, seed: UInt64 = 42) -> RGBImage {
        var generator = SplitMix64(seed: seed)
        func next() -> UInt64 { generator.next() }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        func paint(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ colour: (Int, Int, Int)) {
            for y in max(0, y0)..<min(height, y1) {
                for x in max(0, x0)..<min(width, x1) {
                    let i = (y * width + x) * 3
                    pixels[i] = UInt8(colour.0); pixels[i + 1] = UInt8(colour.1); pixels[i + 2] = UInt8(colour.2)
                }
            }
        }
        paint(0, 0, width, height, (20, 90, 40))
        for _ in 0..<60 {  // traces
            let x = Int(next() % UInt64(width)), y = Int(next() % UInt64(height))
            if next() % 2 == 0 { paint(x, y, x + Int(next() % 200), y + 3, (190, 140, 60)) } else { paint(x, y, x + 3, y + Int(next() % 200), (190, 140, 60)) }
        }
        for _ in 0..<80 {  // pads and components
            let x = Int(next() % UInt64(width)), y = Int(next() % UInt64(height))
            let size = 4 + Int(next() % 20)
            paint(x, y, x + size, y + size, next() % 3 == 0 ? (30, 30, 30) : (200, 200, 190))
        }
        for i in 0..<pixels.count {  // sensor noise
            pixels[i] = UInt8(clamping: Int(pixels[i]) + Int(next() % 17) - 8)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
