// `pcb engine bench` with the real binary and a real model: one JSON line with the latency
// figures, whether freed activations were kept in the heap, and the page faults a timed run took;
// `--no-heap-retention` leaves glibc's defaults (what the benchmarks compare against).

import Foundation
import Testing

@Suite struct EngineBenchEndToEndTests {
    let fixtureModel = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path

    func bench(_ extra: [String]) throws -> [String: Any] {
        let result = try run(try pcbExecutable().path, ["engine", "bench", "--model", fixtureModel, "--runs", "3", "--warmup", "1",
                                                        "--height", "64", "--width", "64"] + extra)
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(result.output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }

    @Test func reportsHeapRetentionAndPageFaults() throws {
        let kept = try bench([])
        #if canImport(Glibc)
        #expect(kept["heap_retention"] as? Bool == true, "\(kept)")
        #endif
        let defaults = try bench(["--no-heap-retention"])
        #expect(defaults["heap_retention"] as? Bool == false, "\(defaults)")
        for figures in [kept, defaults] {
            let median = try #require(figures["median_ms"] as? Double), faults = try #require(figures["page_faults_per_run"] as? Int)
            #expect(median > 0 && faults >= 0 && (figures["peak_rss_mb"] as? Double ?? 0) > 0, "\(figures)")
        }
    }
}
