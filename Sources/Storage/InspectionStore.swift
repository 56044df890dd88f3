// The store protocol: every query the server and the monitoring API make.
//
// One implementation per database engine (SQLite via GRDB, MySQL/MariaDB via Connector/C), and the
// same test suite runs against each. All methods are async and safe to call from any task.

import Foundation
import Inspection

/// The line's history: inspections, boards, system configuration and logs.
public protocol InspectionStore: Sendable {
    /// Creates or upgrades the schema through the numbered migrations.
    func migrate() async throws

    /// Stores an inspection (and its image, if any) durably before returning. A second save
    /// with the same `requestId` stores nothing and returns the first record.
    func saveInspection(_ inspection: NewInspection) async throws -> SavedInspection

    func inspection(id: Int64) async throws -> StoredInspection?
    func inspection(requestId: String) async throws -> StoredInspection?

    /// Page `page` (1-based) of `limit` inspections, newest first.
    func inspections(page: Int, limit: Int) async throws -> InspectionPage

    /// Counts of inspections whose time falls on the days `from` through `through` (inclusive),
    /// and of the latest reviews of the frames and boards of those days.
    func statistics(from: CalendarDay, through: CalendarDay) async throws -> InspectionStatistics

    /// Stores a board verdict and links its inspections to it.
    func saveBoard(_ board: NewBoard) async throws -> StoredBoard
    func board(id: Int64) async throws -> StoredBoard?

    /// Appends an operator's review; the machine's verdict and earlier reviews stay as they
    /// are. When the operator disagrees, the subject's frames are kept for labelling
    /// (`label_reason` = review), and a frame stored without its JPEG (a normal one) gets the
    /// JPEG from `images` (by inspection id) when given there. nil when the subject is not stored.
    func saveReview(_ review: NewReview, images: [Int64: [UInt8]]) async throws -> StoredReview?

    /// The reviews of one frame or board, oldest first.
    func reviews(of subject: ReviewSubject) async throws -> [StoredReview]

    /// Frames kept for labelling whose image is stored, inspected on the local day `since` or later, in id
    /// order after `afterId` (pages of `limit`), each with its own latest review.
    func labellingFrames(since: CalendarDay?, afterId: Int64, limit: Int) async throws -> [LabellingFrame]

    func appendLog(_ entry: SystemLogEntry) async throws
    func recentLogs(limit: Int) async throws -> [SystemLogEntry]
    /// Deletes `system_logs` rows created before `cutoff` (retention); returns how many.
    @discardableResult
    func deleteLogs(before cutoff: Date) async throws -> Int

    /// `system_config` as key -> value.
    func configValues() async throws -> [String: String]

    /// Whether the database answers a trivial query right now (and, for a journaled store,
    /// nothing waits for it).
    func isReachable() async -> Bool

    /// Writes accepted but not yet in the database (a local outage journal). Cheap to read:
    /// the server reads it for every `/health`, `/metrics` and dashboard snapshot.
    var backlog: StoreBacklog { get }

    /// Writes the backlog to the database, oldest first, until it is empty or the database is
    /// unreachable again (then throws `StoreError.unavailable` and keeps the rest). The server
    /// calls it every half second while `backlog.needsReplay`; calls never overlap.
    @discardableResult
    func replayBacklog() async throws -> BacklogReplay
}

/// What waits for the database.
public struct StoreBacklog: Sendable, Equatable {
    /// Journaled writes not yet replayed.
    public var pending: Int
    /// Writes the database refused for good, kept aside (the journal's `dead_letter` table).
    public var deadLettered: Int
    /// The schema still has to be migrated (the database was down at start).
    public var migrationPending: Bool

    public init(pending: Int = 0, deadLettered: Int = 0, migrationPending: Bool = false) {
        self.pending = pending
        self.deadLettered = deadLettered
        self.migrationPending = migrationPending
    }

    /// Nothing waits: a store that writes straight to its database.
    public static let none = StoreBacklog()

    /// Whether `replayBacklog()` has work to do.
    public var needsReplay: Bool { pending > 0 || migrationPending }
}

/// What one replay of the backlog did.
public struct BacklogReplay: Sendable {
    /// Entries written to the database.
    public var written = 0
    /// Entries the database refused for good (kept aside), with the reason.
    public var deadLettered: [String] = []

    public init(written: Int = 0, deadLettered: [String] = []) {
        self.written = written
        self.deadLettered = deadLettered
    }
}

extension InspectionStore {
    /// Stores that write straight to their database have no backlog.
    public var backlog: StoreBacklog { .none }
    @discardableResult
    public func replayBacklog() async throws -> BacklogReplay { BacklogReplay() }
}
