// The journal's logic against a primary store that can be switched off (a real SQLite store
// behind a switch). The same behaviour against a real MariaDB that is killed and restarted is
// Tests/EndToEndTests/DatabaseOutageEndToEndTests.swift.

import Foundation
import Inspection
@testable import Storage
import Testing

/// A real store whose database can be made unreachable.
final class SwitchableStore: InspectionStore, @unchecked Sendable {
    let inner: SQLiteInspectionStore
    private let lock = NSLock()
    private var _down = false
    var down: Bool {
        get { lock.withLock { _down } }
        set { lock.withLock { _down = newValue } }
    }

    init() throws { inner = try SQLiteInspectionStore(inMemoryWith: nil) }

    private func check() throws { if down { throw StoreError.unavailable("switched off") } }
    func migrate() async throws { try check(); try await inner.migrate() }
    /// Request ids the database refuses for good (a value it rejects, not an outage).
    var refused: Set<String> = []
    func saveInspection(_ i: NewInspection) async throws -> SavedInspection {
        try check()
        if let id = i.requestId, refused.contains(id) { throw StoreError.invalidArgument("value rejected: \(id)") }
        return try await inner.saveInspection(i)
    }
    func inspection(id: Int64) async throws -> StoredInspection? { try check(); return try await inner.inspection(id: id) }
    func inspection(requestId: String) async throws -> StoredInspection? { try check(); return try await inner.inspection(requestId: requestId) }
    func inspections(page: Int, limit: Int) async throws -> InspectionPage { try check(); return try await inner.inspections(page: page, limit: limit) }
    func statistics(from: CalendarDay, through: CalendarDay) async throws -> InspectionStatistics { try check(); return try await inner.statistics(from: from, through: through) }
    func saveBoard(_ b: NewBoard) async throws -> StoredBoard { try check(); return try await inner.saveBoard(b) }
    func board(id: Int64) async throws -> StoredBoard? { try check(); return try await inner.board(id: id) }
    func appendLog(_ e: SystemLogEntry) async throws { try check(); try await inner.appendLog(e) }
    func recentLogs(limit: Int) async throws -> [SystemLogEntry] { try check(); return try await inner.recentLogs(limit: limit) }
    func configValues() async throws -> [String: String] { try check(); return try await inner.configValues() }
    func deleteLogs(before cutoff: Date) async throws -> Int { try check(); return try await inner.deleteLogs(before: cutoff) }
    func saveReview(_ r: NewReview, images: [Int64: [UInt8]]) async throws -> StoredReview? {
        try check(); return try await inner.saveReview(r, images: images)
    }
    func reviews(of subject: ReviewSubject) async throws -> [StoredReview] { try check(); return try await inner.reviews(of: subject) }
    func labellingFrames(since: CalendarDay?, afterId: Int64, limit: Int) async throws -> [LabellingFrame] {
        try check(); return try await inner.labellingFrames(since: since, afterId: afterId, limit: limit)
    }
    func isReachable() async -> Bool { down ? false : await inner.isReachable() }
}

@Suite struct JournaledInspectionStoreTests {
    func board(_ left: Int64?, _ right: Int64?) -> NewBoard {
        NewBoard(boardKey: "k\(left ?? 0)", category: .solderDefect, defectType: "납땜불량", confidence: 0.9,
                 gpio: GPIOSignal(pin: 27, durationMs: 500), decidedAt: Date(), leftInspectionId: left, rightInspectionId: right)
    }

    @Test func outageIsJournaledAndReplayedInOrderExactlyOnce() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        let store = try JournaledInspectionStore(primary: primary, journalPath: path)
        try await store.migrate()

        // Given a database that answers, a save goes straight to it.
        let first = try await store.saveInspection(newInspection(.normal, requestId: "a"))
        let online = await store.isReachable()
        #expect(first.record.id > 0 && store.pendingCount == 0 && online)

        // When it goes away, saves are still acknowledged (journaled, provisional ids),
        primary.down = true
        let left = try await store.saveInspection(newInspection(.solderDefect, camera: "left", requestId: "b"))
        let right = try await store.saveInspection(newInspection(.normal, camera: "right"))
        #expect(left.record.id < 0 && right.record.id < 0)
        let stored = try await store.saveBoard(board(left.record.id, right.record.id))
        #expect(stored.id < 0)
        try await store.appendLog(SystemLogEntry(level: "WARNING", source: "test", message: "during the outage"))
        // a retry of a journaled request is recognised,
        let retry = try await store.saveInspection(newInspection(.solderDefect, camera: "left", requestId: "b"))
        #expect(retry.wasDuplicate && retry.record.id == left.record.id)
        #expect(store.pendingCount == 4)
        #expect(await store.isReachable() == false)
        // and a replay while it is still down writes nothing and loses nothing.
        await #expect(throws: StoreError.self) { try await store.replayJournal() }
        #expect(store.pendingCount == 4)

        // Then, once it is back, the replay writes everything once, in order, with real links.
        primary.down = false
        let written = try await store.replayJournal().written
        let backOnline = await store.isReachable()
        #expect(written == 4 && store.pendingCount == 0 && backOnline)
        let page = try await primary.inner.inspections(page: 1, limit: 10)
        #expect(page.total == 3)
        let replayedLeft = try #require(try await primary.inner.inspection(requestId: "b"))
        #expect(replayedLeft.category == .solderDefect && replayedLeft.boardId != nil)
        let boardRow = try #require(try await primary.inner.board(id: replayedLeft.boardId!))
        #expect(boardRow.leftInspectionId == replayedLeft.id && boardRow.rightInspectionId != nil && boardRow.rightInspectionId! > 0)
        #expect(try await primary.inner.recentLogs(limit: 5).contains { $0.message == "during the outage" })
        // Provisional ids still find their records after the replay.
        #expect(try await store.inspection(id: left.record.id)?.id == replayedLeft.id)
        // A second replay has nothing to do; a save goes straight to the database again.
        #expect(try await store.replayJournal().written == 0)
        #expect(try await store.saveInspection(newInspection(.normal)).record.id > 0)
    }

    @Test func anUndecodableEntryIsDeadLetteredAndTheReplayGoesOn() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        try await primary.migrate()
        primary.down = true
        do {
            let store = try JournaledInspectionStore(primary: primary, journalPath: path)
            try await store.migrate()
            _ = try await store.saveInspection(newInspection(.normal, requestId: "before"))
            _ = try await store.saveInspection(newInspection(.normal, requestId: "after"))
        }
        // Given the first entry's payload is damaged on disk (a bad sector, a hand edit),
        let journal = try InspectionJournal(path: path)
        try journal.damagePayload(ofRequestId: "before")
        primary.down = false
        let store = try JournaledInspectionStore(primary: primary, journalPath: path)
        try await store.migrate()
        // when the journal is replayed, then the damaged entry goes aside and the rest is written.
        let outcome = try await store.replayJournal()
        #expect(outcome.written == 1 && outcome.deadLettered.count == 1)
        #expect(store.pendingCount == 0 && store.deadLetterCount == 1)
        #expect(try await primary.inspection(requestId: "after") != nil)
    }

    @Test func provenanceSurvivesTheJournal() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        let store = try JournaledInspectionStore(primary: primary, journalPath: path)
        try await store.migrate()
        primary.down = true
        let provenance = Provenance(model: "m.onnx@0000000000000001", calibration: nil, policy: "p.yaml@0000000000000002", serverVersion: "1.2.3")
        var inspection = newInspection(.discard, requestId: "traced")
        inspection.provenance = provenance
        let saved = try await store.saveInspection(inspection)
        var board = board(saved.record.id, nil)
        board.provenance = provenance
        _ = try await store.saveBoard(board)
        primary.down = false
        #expect(try await store.replayJournal().written == 2)
        let replayed = try #require(try await primary.inspection(requestId: "traced"))
        #expect(replayed.provenance == provenance)
        #expect(try await primary.board(id: try #require(replayed.boardId))?.provenance == provenance)
    }

    @Test func aFullJournalShedsTheOldestJPEGsButKeepsEveryRow() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        // Room for about 20 of the 64 JPEGs of 10 KB.
        let store = try JournaledInspectionStore(primary: primary, journalPath: path, maxBytes: 200_000)
        try await store.migrate()
        primary.down = true
        for k in 0..<64 {
            _ = try await store.saveInspection(newInspection(.discard, requestId: "r\(k)", image: [UInt8](repeating: UInt8(k), count: 10_000)))
        }
        #expect(store.pendingCount == 64)
        let journal = try InspectionJournal(path: path)
        #expect(try journal.storedBytes() <= 200_000 + 32 * 11_000)
        let entries = try journal.oldest(limit: 100).map { try $0.entry.get() }
        let images = entries.map { entry -> Bool in
            if case .inspection(let inspection) = entry { return inspection.image != nil }
            return false
        }
        #expect(images.count == 64)
        #expect(images.prefix(10).allSatisfy { !$0 }, "the oldest JPEGs go first")
        #expect(images.suffix(5).allSatisfy { $0 }, "the newest are kept")
    }

    @Test func aLowDiskJournalsTheRowWithoutItsJPEG() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        let diskGuard = DiskSpaceGuard(directory: "/", minimumFreeBytes: 1 << 30, interval: .zero, freeSpace: { _ in 1 << 20 })
        let store = try JournaledInspectionStore(primary: primary, journalPath: path, diskGuard: diskGuard)
        try await store.migrate()
        primary.down = true
        _ = try await store.saveInspection(newInspection(.discard, requestId: "low", image: [0xFF, 0xD8, 0xFF]))
        #expect(store.pendingCount == 1 && diskGuard.status.imagesSkipped == 1)
        primary.down = false
        #expect(try await store.replayJournal().written == 1)
        let replayed = try #require(try await primary.inspection(requestId: "low"))
        #expect(replayed.category == .discard && replayed.imagePath == nil)
    }

    @Test func replayInterruptedAfterTheDatabaseCommittedStoresNothingTwice() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        try await primary.migrate()
        primary.down = true
        do {
            let store = try JournaledInspectionStore(primary: primary, journalPath: path)
            try await store.migrate()  // the database is down at start: the server starts anyway
            #expect(store.migrationPending)
            for k in 0..<5 { _ = try await store.saveInspection(newInspection(.normal, requestId: "r\(k)")) }
        }
        // Given the database took the first two rows but the journal still lists them (a crash
        // between the commit and the journal's delete), and the server restarts,
        primary.down = false
        for k in 0..<2 { _ = try await primary.saveInspection(newInspection(.normal, requestId: "r\(k)")) }
        let restarted = try JournaledInspectionStore(primary: primary, journalPath: path)
        #expect(restarted.pendingCount == 5)
        // when the journal is replayed, then each request is stored exactly once.
        try await restarted.migrate()
        #expect(try await restarted.replayJournal().written == 5)
        #expect(try await primary.inspections(page: 1, limit: 50).total == 5)
    }

    @Test func anEntryTheDatabaseRefusesIsSetAsideAndTheRestFlows() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        try await primary.migrate()
        primary.down = true
        let store = try JournaledInspectionStore(primary: primary, journalPath: path)
        for k in 0..<4 { _ = try await store.saveInspection(newInspection(.normal, requestId: "d\(k)")) }
        // Given the database back but refusing one of the journaled rows for good,
        primary.down = false
        primary.refused = ["d1"]
        // when the journal is replayed, then that row is moved aside and the others are written.
        let outcome = try await store.replayJournal()
        #expect(outcome.written == 3 && outcome.deadLettered.count == 1, "\(outcome)")
        #expect(store.pendingCount == 0 && store.deadLetterCount == 1)
        #expect(try await primary.inspections(page: 1, limit: 10).total == 3)
    }

    @Test func journaledWritesSurviveARestart() async throws {
        let path = NSTemporaryDirectory() + "pcb-journal-" + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let primary = try SwitchableStore()
        try await primary.migrate()
        primary.down = true
        let store = try JournaledInspectionStore(primary: primary, journalPath: path)
        _ = try await store.saveInspection(newInspection(.discard, requestId: "x", image: [0xFF, 0xD8, 0xFF, 0xD9]))
        // The journal file alone carries the result and its image into the next process.
        let reopened = try InspectionJournal(path: path)
        let entries = try reopened.oldest(limit: 10)
        guard case .inspection(let inspection) = try #require(entries.first).entry.get() else { Issue.record("\(entries)"); return }
        #expect(inspection.requestId == "x" && inspection.category == .discard && inspection.image == [0xFF, 0xD8, 0xFF, 0xD9])
        #expect(inspection.anomalyScore == 31.25)
    }
}

@Suite struct MySQLUnreachableTests {
    /// A port nothing listens on (bound, then released).
    func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func noServerIsAnErrorNotACrash() async throws {
        let url = try MySQLURL("mysql://pcb:secret@127.0.0.1:\(try closedPort())/pcb_inspection")
        let store = try MySQLInspectionStore(url: url, images: nil)
        #expect(await store.isReachable() == false)
        await #expect(throws: StoreError.self) { try await store.migrate() }
        do {
            _ = try await store.saveInspection(newInspection(.normal))
            Issue.record("a save without a database succeeded")
        } catch let error as StoreError {
            #expect(error.isUnavailable && error.description.contains("***"), "\(error)")
            #expect(!error.description.contains("secret"), "the password must not reach logs: \(error)")
        }
    }

    @Test(arguments: ["postgres://u:p@h/db", "mysql://h/db", "mysql://u:p@h", "mysql://u:p@/db", "not a url"])
    func badURLsAreRefusedWithoutThePassword(text: String) {
        do {
            _ = try MySQLURL(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(!error.description.contains(":p@"), "\(error)")
        }
    }

    @Test func urlPartsAndDefaults() throws {
        let url = try MySQLURL("mysql://pcb:p%40ss@db.local/pcb_inspection")
        #expect(url.user == "pcb" && url.password == "p@ss" && url.host == "db.local" && url.port == 3306 && url.database == "pcb_inspection")
        #expect(url.description == "mysql://pcb:***@db.local:3306/pcb_inspection")
    }
}
