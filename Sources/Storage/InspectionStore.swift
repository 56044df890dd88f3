// The store protocol: every query the server and the monitoring API make.
//
// One implementation per database engine (SQLite via GRDB, MySQL/MariaDB via Connector/C), and the
// same test suite runs against each. All methods are async and safe to call from any task.

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

    /// Counts of inspections whose time falls on the days `from` through `through` (inclusive).
    func statistics(from: CalendarDay, through: CalendarDay) async throws -> InspectionStatistics

    /// Stores a board verdict and links its inspections to it.
    func saveBoard(_ board: NewBoard) async throws -> StoredBoard
    func board(id: Int64) async throws -> StoredBoard?

    func appendLog(_ entry: SystemLogEntry) async throws
    func recentLogs(limit: Int) async throws -> [SystemLogEntry]

    /// `system_config` as key -> value.
    func configValues() async throws -> [String: String]

    /// Whether the database answers a trivial query right now.
    func isReachable() async -> Bool
}
