// Nothing lost when the database goes away: a networked store (MySQL/MariaDB) behind a local
// journal. While the database answers, writes go straight to it. When a write finds it
// unreachable, that write and every later one go to the journal (durable before the camera
// gets its answer) until `replayJournal()` has written them all to the database, in order.
// Replaying is idempotent: every inspection carries a request id (one is made up when the
// camera sent none), so a replay interrupted after the database committed stores nothing twice.
//
// During an outage inspections get provisional ids (negative numbers); boards decided then
// refer to them, and the replay maps them to the database's ids. Reads (history, statistics)
// need the database and fail with `StoreError.unavailable` until it is back.

import Foundation
import Inspection

/// `InspectionStore` that survives outages of its primary store.
public final class JournaledInspectionStore: InspectionStore {
    private let primary: any InspectionStore
    private let journal: InspectionJournal
    private let state = JournalState()
    private let diskGuard: DiskSpaceGuard?
    private let maxBytes: Int

    /// - Parameters:
    ///   - primary: the networked store (e.g. `MySQLInspectionStore`).
    ///   - journalPath: the local journal file (created if needed; kept across restarts).
    ///   - diskGuard: when the disk is low, inspections are journaled without their JPEG.
    ///   - maxBytes: past this much waiting data, the oldest entries' JPEGs are dropped (rows
    ///     are kept whatever the size): a long outage fills the journal with rows, not pictures.
    public init(primary: any InspectionStore, journalPath: String, diskGuard: DiskSpaceGuard? = nil,
                maxBytes: Int = 1 << 30) throws {
        self.primary = primary
        self.diskGuard = diskGuard
        self.maxBytes = maxBytes
        journal = try InspectionJournal(path: journalPath)
        state.setPending(try journal.pendingCount())
    }

    var primaryForBulk: any InspectionStore { primary }

    /// Writes waiting in the journal.
    public var pendingCount: Int { state.pending }
    /// Entries the database refused for good, kept aside in the journal's `dead_letter` table.
    public var deadLetterCount: Int { (try? journal.deadLetterCount()) ?? 0 }
    /// Whether the schema still has to be migrated (the database was down at start).
    public var migrationPending: Bool { state.needsMigration }

    public var backlog: StoreBacklog {
        StoreBacklog(pending: pendingCount, deadLettered: deadLetterCount, migrationPending: migrationPending)
    }

    public func migrate() async throws {
        do {
            try await primary.migrate()
            state.needsMigration = false
        } catch let error as StoreError where error.isUnavailable {
            // Start anyway: the line keeps inspecting into the journal; the replay migrates first.
            state.needsMigration = true
        }
    }

    public func saveInspection(_ inspection: NewInspection) async throws -> SavedInspection {
        var inspection = inspection
        if inspection.requestId == nil { inspection.requestId = "srv-" + UUID().uuidString.lowercased() }
        if let requestId = inspection.requestId, let journaled = try journal.inspection(requestId: requestId) {
            return SavedInspection(record: Self.provisionalRecord(journaled.inspection, seq: journaled.seq), wasDuplicate: true)
        }
        if state.pending == 0 && !state.needsMigration {
            do { return try await primary.saveInspection(inspection) } catch let error as StoreError where error.isUnavailable {}
        }
        // The row matters more than its picture: a low disk keeps the journal to rows.
        if inspection.image != nil, let diskGuard, !diskGuard.admitsImage() { inspection.image = nil }
        let seq = try append(.inspection(inspection))
        return SavedInspection(record: Self.provisionalRecord(inspection, seq: seq), wasDuplicate: false)
    }

    public func saveBoard(_ board: NewBoard) async throws -> StoredBoard {
        var resolved = board
        resolved.leftInspectionId = try resolve(board.leftInspectionId)
        resolved.rightInspectionId = try resolve(board.rightInspectionId)
        // A side still in the journal (a provisional id without a database id yet): the board
        // waits in the journal behind it.
        let sidesStored = [resolved.leftInspectionId, resolved.rightInspectionId].allSatisfy { ($0 ?? 0) >= 0 }
        if state.pending == 0 && !state.needsMigration && sidesStored {
            do { return try await primary.saveBoard(resolved) } catch let error as StoreError where error.isUnavailable {}
        }
        let seq = try append(.board(board))
        return StoredBoard(id: -seq, board, decidedAt: "")
    }

    public func appendLog(_ entry: SystemLogEntry) async throws {
        if state.pending == 0 && !state.needsMigration {
            do { return try await primary.appendLog(entry) } catch let error as StoreError where error.isUnavailable {}
        }
        _ = try append(.log(entry))
    }

    public func inspection(id: Int64) async throws -> StoredInspection? {
        if id < 0 {
            guard let real = try journal.realId(of: id, kind: "inspection") else { return nil }
            return try await primary.inspection(id: real)
        }
        return try await primary.inspection(id: id)
    }

    public func inspection(requestId: String) async throws -> StoredInspection? {
        if let journaled = try journal.inspection(requestId: requestId) {
            return Self.provisionalRecord(journaled.inspection, seq: journaled.seq)
        }
        return try await primary.inspection(requestId: requestId)
    }

    public func inspections(page: Int, limit: Int) async throws -> InspectionPage { try await primary.inspections(page: page, limit: limit) }

    public func statistics(from: CalendarDay, through: CalendarDay) async throws -> InspectionStatistics {
        try await primary.statistics(from: from, through: through)
    }

    public func board(id: Int64) async throws -> StoredBoard? {
        if id < 0 {
            guard let real = try journal.realId(of: id, kind: "board") else { return nil }
            return try await primary.board(id: real)
        }
        return try await primary.board(id: id)
    }

    /// Reviews need the database (an operator can send one again); a provisional id is
    /// reviewed once its frame or board is replayed.
    public func saveReview(_ review: NewReview, images: [Int64: [UInt8]]) async throws -> StoredReview? {
        var resolved = review
        switch review.subject {
        case .inspection(let id) where id < 0:
            guard let real = try journal.realId(of: id, kind: "inspection") else { throw Self.notReplayedYet(review.subject) }
            resolved.subject = .inspection(real)
        case .board(let id) where id < 0:
            guard let real = try journal.realId(of: id, kind: "board") else { throw Self.notReplayedYet(review.subject) }
            resolved.subject = .board(real)
        default: break
        }
        var byRealId: [Int64: [UInt8]] = [:]
        for (id, jpeg) in images { byRealId[(try? resolve(id)) ?? id] = jpeg }
        return try await primary.saveReview(resolved, images: byRealId)
    }

    public func reviews(of subject: ReviewSubject) async throws -> [StoredReview] { try await primary.reviews(of: subject) }

    public func labellingFrames(since: CalendarDay?, afterId: Int64, limit: Int) async throws -> [LabellingFrame] {
        try await primary.labellingFrames(since: since, afterId: afterId, limit: limit)
    }

    private static func notReplayedYet(_ subject: ReviewSubject) -> StoreError {
        .unavailable("\(subject.kind) \(subject.id) is still in the outage journal: review it once the database has it")
    }

    public func recentLogs(limit: Int) async throws -> [SystemLogEntry] { try await primary.recentLogs(limit: limit) }
    public func configValues() async throws -> [String: String] { try await primary.configValues() }
    /// In the database only: logs journaled during an outage are newer than any cutoff anyway.
    @discardableResult
    public func deleteLogs(before cutoff: Date) async throws -> Int { try await primary.deleteLogs(before: cutoff) }

    /// Online only when the database answers and nothing waits in the journal.
    public func isReachable() async -> Bool {
        state.pending == 0 && !state.needsMigration ? await primary.isReachable() : false
    }

    @discardableResult
    public func replayBacklog() async throws -> BacklogReplay { try await replayJournal() }

    /// Replays in batches of `batch` entries (`replayBacklog()` with the default).
    @discardableResult
    public func replayJournal(batch: Int = 200) async throws -> BacklogReplay {
        var outcome = BacklogReplay()
        guard state.beginReplay() else { return outcome }
        defer { state.endReplay() }
        if state.needsMigration {
            try await primary.migrate()
            state.needsMigration = false
        }
        while true {
            let entries = try journal.oldest(limit: batch)
            if entries.isEmpty { break }
            for (seq, decoded) in entries {
                var realId: Int64? = nil
                let kind: String
                do {
                    switch try decoded.get() {
                    case .inspection(let inspection):
                        kind = "inspection"
                        realId = try await primary.saveInspection(inspection).record.id
                    case .board(var board):
                        kind = "board"
                        // Its sides came before it in the journal, so their ids are mapped by now;
                        // an id that is not (a side that was never stored) is left out, not invented.
                        board.leftInspectionId = try resolve(board.leftInspectionId).flatMap { $0 < 0 ? nil : $0 }
                        board.rightInspectionId = try resolve(board.rightInspectionId).flatMap { $0 < 0 ? nil : $0 }
                        realId = try await primary.saveBoard(board).id
                    case .log(let entry):
                        kind = "log"
                        try await primary.appendLog(entry)
                    }
                } catch let error as StoreError where error.isUnavailable {
                    throw error
                } catch {
                    try journal.deadLetter(seq: seq, reason: String(describing: error))
                    state.addPending(-1)
                    outcome.deadLettered.append("journal entry \(seq): \(error)")
                    continue
                }
                try journal.replayed(seq: seq, kind: kind, realId: realId)
                state.addPending(-1)
                outcome.written += 1
            }
        }
        return outcome
    }

    /// The database id of an inspection's provisional id once replayed; other ids unchanged.
    private func resolve(_ id: Int64?) throws -> Int64? {
        guard let id, id < 0 else { return id }
        return try journal.realId(of: id, kind: "inspection") ?? id
    }

    private func append(_ entry: JournalEntry) throws -> Int64 {
        let seq = try journal.append(entry)
        state.addPending(1)
        // The size is summed every 32 appends (a scan of the journal), not at each one.
        if state.countAppend() % 32 == 0, try journal.storedBytes() > maxBytes {
            _ = try journal.shedImages(toFit: maxBytes)
        }
        return seq
    }

    private static func provisionalRecord(_ i: NewInspection, seq: Int64) -> StoredInspection {
        StoredInspection(id: -seq, i, inspectionTime: "", imagePath: nil)
    }
}

/// Mutable flags of the journaled store, behind a lock. The pending count moves by +1/-1 with
/// each append and replay, so a count read by one task never overwrites another's change.
private final class JournalState: @unchecked Sendable {
    private let lock = NSLock()
    private var _pending = 0
    private var _needsMigration = false
    private var replaying = false
    private var appends = 0

    var pending: Int { lock.withLock { _pending } }
    func addPending(_ delta: Int) { lock.withLock { _pending = max(0, _pending + delta) } }
    func setPending(_ value: Int) { lock.withLock { _pending = value } }
    var needsMigration: Bool {
        get { lock.withLock { _needsMigration } }
        set { lock.withLock { _needsMigration = newValue } }
    }
    func beginReplay() -> Bool { lock.withLock { replaying ? false : { replaying = true; return true }() } }
    func endReplay() { lock.withLock { replaying = false } }
    /// Appends since start, this one included.
    func countAppend() -> Int { lock.withLock { appends += 1; return appends } }
}
