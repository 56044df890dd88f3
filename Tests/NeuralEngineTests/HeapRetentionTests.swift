// HeapRetention: sessions ask for it by default, and glibc accepts the raised thresholds. What it
// saves is measured, not tested: `pcb engine bench` prints page faults per run, with and without
// `--no-heap-retention` (docs/PERFORMANCE.md, "Page faults").

import Testing
@testable import NeuralEngine

@Suite struct HeapRetentionTests {
    @Test func sessionsAskForItByDefault() {
        #expect(SessionOptions().heapRetention)
        #expect(SessionOptions(threads: 2, graphOptimizations: false).heapRetention)
    }

    @Test func glibcAcceptsTheThresholds() {
        #if canImport(Glibc)
        #expect(HeapRetention.activate(), "mallopt refused M_MMAP_THRESHOLD \(HeapRetention.mmapThreshold) or M_TRIM_THRESHOLD \(HeapRetention.trimThreshold)")
        #endif
    }
}
