import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import InspectionServer

@Suite struct MetricsEndpointTests {
    @Test func prometheusTextCountsRequestsInspectionsStagesAndGauges() async throws {
        // A camera stays online for the whole test even on a loaded machine.
        let server = try TestServer { $0.cameraOfflineAfterSeconds = 600 }
        try await server.run { client in
            try await client.waitUntilReady()
            // Given two good frames (a defect and a normal one) and one bad request,
            #expect(try await client.postJSON("/predict", seedRequest(colour: Frames.red)).status == .ok)
            #expect(try await client.postJSON("/predict", seedRequest(camera: "right", colour: Frames.green)).status == .ok)
            #expect(try await client.postRaw("/predict", "{not json").status == .badRequest)
            _ = try await client.get("/api/defect-images/12345")
            _ = try await client.get("/live/frames/67890")
            // when Prometheus scrapes,
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            // then requests are counted by endpoint and status (route templates, not raw paths),
            #expect(text.contains(#"pcb_http_requests_total{endpoint="/predict",method="POST",status="200"} 2"#), "\(text)")
            #expect(text.contains(#"pcb_http_requests_total{endpoint="/predict",method="POST",status="400"} 1"#), "\(text)")
            #expect(text.contains(#"endpoint="/api/defect-images/{id}""#), "\(text)")
            #expect(text.contains(#"pcb_http_requests_total{endpoint="/live/frames/{id}",method="GET",status="404"} 1"#), "\(text)")
            #expect(!text.contains("12345") && !text.contains("67890"))
            // inspections by camera and category, latency per stage as histograms,
            #expect(text.contains(#"pcb_inspections_total{camera="left",category=""#), "\(text)")
            #expect(text.contains(#"pcb_inspections_total{camera="right",category=""#), "\(text)")
            for stage in ["decode", "queue", "model", "store", "total"] {
                #expect(text.contains(#"pcb_stage_duration_seconds_count{stage="\#(stage)"} 2"#), "stage \(stage): \(text)")
            }
            #expect(text.contains(#"pcb_stage_duration_seconds_bucket{stage="model",le="0.05"}"#), "\(text)")
            // and the gauges read at scrape time.
            #expect(text.contains("pcb_model_ready 1"), "\(text)")
            #expect(text.contains("pcb_inference_queue_depth 0"), "\(text)")
            #expect(text.contains("pcb_database_online 1"), "\(text)")
            #expect(text.contains(#"pcb_camera_online{camera="left"} 1"#), "\(text)")
            #expect(text.contains(#"pcb_camera_last_frame_age_seconds{camera="right"}"#), "\(text)")
        }
    }
}
