import Foundation
@testable import InspectionServer
import Logging
import Storage
import Testing

@Suite struct HousekeepingTests {
    func store(images: DefectImageFolder) async throws -> SQLiteInspectionStore {
        let store = try SQLiteInspectionStore(inMemoryWith: images)
        try await store.migrate()
        return store
    }

    @Test func retentionFollowsTheSeedsConfigRowUnlessTheConfigSaysOtherwise() async throws {
        let directory = NSTemporaryDirectory() + "pcb-housekeeping-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let images = DefectImageFolder(directory: directory)
        let store = try await store(images: images)
        let old = try images.write([0xFF, 0xD8], name: "old.jpg")
        let recent = try images.write([0xFF, 0xD8], name: "recent.jpg")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-100 * 86_400)], ofItemAtPath: old)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-40 * 86_400)], ofItemAtPath: recent)
        try await store.appendLog(SystemLogEntry(level: "INFO", source: "test", message: "ancient", createdAt: "2020-01-01 00:00:00.000000"))

        // The seed's row says 90 days: only the 100-day-old image goes, and the 2020 log row.
        let byRow = HousekeepingService(store: store, images: images, imageRetentionDays: nil, logRetentionDays: 90, logger: Logger(label: "test"))
        #expect(await byRow.effectiveImageRetentionDays() == 90)
        let first = await byRow.applyRetention()
        #expect(first.images == 1 && first.logs == 1)
        #expect(!FileManager.default.fileExists(atPath: old) && FileManager.default.fileExists(atPath: recent))

        // 30 days from the config file wins over the row; 0 keeps everything.
        let keepAll = HousekeepingService(store: store, images: images, imageRetentionDays: 0, logRetentionDays: 0, logger: Logger(label: "test"))
        #expect(await keepAll.applyRetention() == (0, 0))
        let byConfig = HousekeepingService(store: store, images: images, imageRetentionDays: 30, logRetentionDays: 90, logger: Logger(label: "test"))
        #expect(await byConfig.applyRetention().images == 1)
        #expect(!FileManager.default.fileExists(atPath: recent))
    }
}
