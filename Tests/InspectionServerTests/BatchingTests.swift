import Detection
import Foundation
import Hummingbird
import HummingbirdTesting
import ImageKit
import Inspection
import Synchronization
import Testing
@testable import InspectionServer

/// Records how many frames each detector call received.
final class RecordingDetector: DefectDetector, @unchecked Sendable {
    let inner: ColourDetector
    private let calls = Mutex<[Int]>([])

    init(gate: Gate? = nil) { inner = ColourDetector(gate: gate) }

    var classNames: [String] { inner.classNames }
    var maxBatchSize: Int { 2 }
    var modelDescription: String { "recording" }
    var batchSizes: [Int] { calls.withLock { $0 } }

    func detect(_ frames: [RGBImage]) throws -> [[DetectedDefect]] {
        calls.withLock { $0.append(frames.count) }
        return try inner.detect(frames)
    }

    func warmUp() throws {}
}

@Suite struct BatchingTests {
    @Test func dualRunsBothSidesAsOneBatchOfTwo() async throws {
        let detector = RecordingDetector()
        var server = try TestServer()
        server.detector = detector
        try await server.run { client in
            let response = try await client.postJSON("/predict_dual", [
                "frame_left": Frames.base64(Frames.green), "frame_right": Frames.base64(Frames.blue),
            ])
            #expect(response.status == .ok)
        }
        #expect(detector.batchSizes == [2])
    }

    @Test func framesWaitingTogetherRunAsOneBatch() async throws {
        // Given a model busy with a first frame,
        let gate = Gate()
        let detector = RecordingDetector(gate: gate)
        var server = try TestServer()
        server.detector = detector
        try await server.run { client in
            let first = Task { try await client.postJSON("/predict", seedRequest(camera: "left")) }
            while gate.arrivals == 0 { try await Task.sleep(for: .milliseconds(5)) }
            // when the left and right frames of the next board arrive meanwhile,
            let second = Task { try await client.postJSON("/predict", seedRequest(camera: "left")) }
            let third = Task { try await client.postJSON("/predict", seedRequest(camera: "right")) }
            for _ in 0..<200 where try await client.get("/health").json["queue_depth"] as? Int != 2 {
                try await Task.sleep(for: .milliseconds(5))
            }
            gate.release()
            for task in [first, second, third] { #expect(try await task.value.status == .ok) }
        }
        // then the two waiting frames ran as one batch.
        #expect(detector.batchSizes == [1, 2])
    }
}
