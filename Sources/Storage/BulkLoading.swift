// Loading many inspections at once, for benchmarks (`pcb bench store` fills a database with a
// year of history to time the monitoring queries). Not used by the server: its writes go
// through `saveInspection`, one durable transaction each.

import Foundation
import Inspection

/// A store that can take many inspections in one transaction (no images, no duplicate checks).
public protocol BulkLoadable: InspectionStore {
    func bulkInsert(_ inspections: [NewInspection]) async throws
}

extension SQLiteInspectionStore: BulkLoadable {}
extension MySQLInspectionStore: BulkLoadable {}

extension JournaledInspectionStore {
    /// The store behind the journal, for bulk loading.
    public var primaryStore: any InspectionStore { primaryForBulk }
}

/// Synthetic history: `count` inspections spread evenly over the `days` days ending at `end`
/// (golden-ratio steps, so any prefix of the sequence covers the whole span).
public func syntheticHistory(count: Int, days: Int, end: Date, startIndex: Int = 0) -> [NewInspection] {
    let span = Double(days) * 86_400
    let categories: [(CategoryCode, String)] = [(.normal, "정상"), (.componentDefect, "부품불량"), (.solderDefect, "납땜불량"), (.discard, "폐기")]
    return (0..<count).map { k in
        let index = startIndex + k
        let (category, label) = index % 10 < 7 ? categories[0] : categories[1 + index % 3]
        return NewInspection(
            cameraId: index % 2 == 0 ? "left" : "right", category: category, defectType: label, confidence: 0.9,
            inspectionTime: end.addingTimeInterval(-span * (Double(index) * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1)),
            boxes: category == .normal ? [] : [DetectedDefect(className: "short", confidence: 0.9, x1: 10, y1: 10, x2: 30, y2: 30)],
            gpio: GPIOSignal(pin: 23, durationMs: 300), inferenceTimeMs: 20)
    }
}
