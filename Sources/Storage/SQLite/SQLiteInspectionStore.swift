// The embedded store: one SQLite file (WAL mode) through GRDB, or an in-memory database
// for tests. The default engine of `pcb serve`.

import Foundation
import GRDB
import Inspection

/// `InspectionStore` on SQLite.
///
/// ```swift
/// let store = try SQLiteInspectionStore(path: "var/pcb.sqlite", images: DefectImageFolder(directory: "var/images"))
/// try await store.migrate()
/// ```
public final class SQLiteInspectionStore: InspectionStore {
    /// How hard SQLite works to survive power loss.
    public enum Durability: String, Sendable {
        /// Every commit reaches the disk before the save returns (survives power loss).
        case full
        /// Commits survive a crash of the server, the last ones may be lost on power loss.
        case normal
    }

    private let database: any DatabaseWriter
    private let images: DefectImageFolder?
    private let time: StoreTime
    private let encoder = JSONEncoder()

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String, images: DefectImageFolder?, timeZone: TimeZone = .current, durability: Durability = .full) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        self.database = try DatabasePool(path: path, configuration: configuration)
        self.images = images
        self.time = StoreTime(timeZone: timeZone)
        try images?.prepare()
    }

    /// An in-memory database (tests).
    public init(inMemoryWith images: DefectImageFolder? = nil, timeZone: TimeZone = .current) throws {
        self.database = try DatabaseQueue()
        self.images = images
        self.time = StoreTime(timeZone: timeZone)
        try images?.prepare()
    }

    public func migrate() async throws {
        var migrator = DatabaseMigrator()
        for migration in SQLiteSchema.migrations {
            migrator.registerMigration(migration.id) { db in
                try db.execute(sql: migration.sql)
                if migration.id == "001_seed_schema" {
                    for row in seedSystemConfig {
                        try db.execute(
                            sql: "INSERT INTO system_config (config_key, config_value, description) VALUES (?, ?, ?)",
                            arguments: [row.key, row.value, row.description])
                    }
                }
            }
        }
        try migrator.migrate(database)
    }

    public func saveInspection(_ inspection: NewInspection) async throws -> SavedInspection {
        if let requestId = inspection.requestId, let existing = try await self.inspection(requestId: requestId) {
            return SavedInspection(record: existing, wasDuplicate: true)
        }
        let localTime = time.string(from: inspection.inspectionTime)
        // Encoded before the image is written, so a box that cannot be stored leaves no file behind.
        let boxesJSON = String(decoding: try encoder.encode(inspection.boxes), as: UTF8.self)
        let imagePath = try images?.write(imageOf: inspection, localTime: localTime)
        let confidence = decimal54(inspection.confidence)
        do {
            let outcome: (StoredInspection, Bool) = try await database.write { db in
                // Checked again inside the transaction: two retries may race past the first check.
                if let requestId = inspection.requestId,
                   let row = try Row.fetchOne(db, sql: "SELECT * FROM inspections WHERE request_id = ?", arguments: [requestId]) {
                    return (try Self.inspection(from: row), true)
                }
                try db.execute(sql: """
                    INSERT INTO inspections (camera_id, defect_type, confidence, inspection_time, image_path, boxes,
                        gpio_pin, gpio_duration_ms, category, capture_time, request_id, inference_time_ms, anomaly_score,
                        anomaly_map, label_reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [inspection.cameraId, inspection.defectType, confidence, localTime, imagePath, boxesJSON,
                                     inspection.gpio.pin, inspection.gpio.durationMs, inspection.category.rawValue,
                                     inspection.captureTimestamp, inspection.requestId, inspection.inferenceTimeMs,
                                     inspection.anomalyScore, inspection.anomalyMap?.jsonText,
                                     imagePath == nil ? nil : inspection.labelReason?.rawValue])
                let id = db.lastInsertedRowID
                if let provenance = inspection.provenance { try Self.record(provenance, table: "inspections", id: id, db) }
                try db.execute(sql: SQLiteSchema.countInspection,
                               arguments: [String(localTime.prefix(10)), inspection.category.rawValue, 1])
                if let imagePath {
                    try db.execute(sql: "INSERT INTO defect_images (inspection_id, image_path, file_size, created_at) VALUES (?, ?, ?, ?)",
                                   arguments: [id, imagePath, inspection.image?.count, localTime])
                }
                let stored = StoredInspection(id: id, inspection, inspectionTime: localTime, imagePath: imagePath)
                return (stored, false)
            }
            if outcome.1, let imagePath { images?.remove(path: imagePath) }
            return SavedInspection(record: outcome.0, wasDuplicate: outcome.1)
        } catch {
            if let imagePath { images?.remove(path: imagePath) }
            throw error
        }
    }

    public func bulkInsert(_ inspections: [NewInspection]) async throws {
        let rows = try inspections.map { i in
            (i, time.string(from: i.inspectionTime), String(decoding: try encoder.encode(i.boxes), as: UTF8.self))
        }
        try await database.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO inspections (camera_id, defect_type, confidence, inspection_time, boxes, gpio_pin, gpio_duration_ms,
                    category, capture_time, request_id, inference_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let count = try db.makeStatement(sql: SQLiteSchema.countInspection)
            for (i, localTime, boxes) in rows {
                try statement.execute(arguments: [i.cameraId, i.defectType, decimal54(i.confidence), localTime, boxes, i.gpio.pin,
                                                  i.gpio.durationMs, i.category.rawValue, i.captureTimestamp, i.requestId, i.inferenceTimeMs])
                try count.execute(arguments: [String(localTime.prefix(10)), i.category.rawValue, 1])
            }
        }
    }

    public func inspection(id: Int64) async throws -> StoredInspection? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM inspections WHERE id = ?", arguments: [id]).map(Self.inspection(from:))
        }
    }

    public func inspection(requestId: String) async throws -> StoredInspection? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM inspections WHERE request_id = ?", arguments: [requestId]).map(Self.inspection(from:))
        }
    }

    public func inspections(page: Int, limit: Int) async throws -> InspectionPage {
        guard page >= 1, limit >= 1 else { throw StoreError.invalidArgument("page and limit must be positive") }
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
        if overflow { return InspectionPage(rows: [], total: try await count()) }
        return try await database.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inspections") ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM inspections ORDER BY inspection_time DESC, id DESC LIMIT ? OFFSET ?",
                                        arguments: [limit, offset])
            return InspectionPage(rows: try rows.map(Self.inspection(from:)), total: total)
        }
    }

    private func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inspections") ?? 0 }
    }

    public func statistics(from: CalendarDay, through: CalendarDay) async throws -> InspectionStatistics {
        // Whole local days: the per-day counts answer in O(days), whatever the number of rows.
        return try await database.read { db in
            var counts: [CategoryCode: Int] = [:]
            var total = 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT category, SUM(n) AS n FROM inspection_daily_counts
                WHERE day >= ? AND day <= ? GROUP BY category
                """, arguments: [from.description, through.description])
            for row in rows {
                let n: Int = row["n"]
                total += n
                if let code = CategoryCode(rawValue: row["category"]) { counts[code, default: 0] += n }
            }
            let reviews = try Row.fetchAll(db, sql: """
                SELECT * FROM reviews WHERE id IN (
                    SELECT MAX(id) FROM reviews WHERE item_day >= ? AND item_day <= ? GROUP BY subject_kind, subject_id)
                """, arguments: [from.description, through.description]).map(Self.review(from:))
            return InspectionStatistics(total: total, counts: counts,
                                        frameReviews: ReviewCounts(latest: reviews.filter { $0.subject.kind == "inspection" }),
                                        boardReviews: ReviewCounts(latest: reviews.filter { $0.subject.kind == "board" }))
        }
    }

    public func saveReview(_ review: NewReview, images: [Int64: [UInt8]]) async throws -> StoredReview? {
        guard let target = try await database.read({ db in try Self.reviewTarget(review.subject, db) }) else { return nil }
        let plan = ReviewPlan(review, target: target, time: time)
        let written = try plan.writeMissingImages(images, to: self.images)
        do {
            return try await database.write { db in
                try db.execute(sql: """
                    INSERT INTO reviews (subject_kind, subject_id, machine_category, verdict, classes, note, operator, item_day, reviewed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [review.subject.kind, review.subject.id, target.machineCategory.rawValue, review.verdict.rawValue,
                                     plan.classesJSON, review.note, review.operatorName, plan.itemDay, plan.reviewedAt])
                let stored = plan.stored(id: db.lastInsertedRowID)
                for frame in plan.framesToKeep {
                    try db.execute(sql: "UPDATE inspections SET label_reason = ? WHERE id = ?",
                                   arguments: [LabellingReason.review.rawValue, frame.id])
                    if let path = written[frame.id] {
                        try db.execute(sql: "UPDATE inspections SET image_path = ? WHERE id = ?", arguments: [path, frame.id])
                        try db.execute(sql: "INSERT INTO defect_images (inspection_id, image_path, file_size, created_at) VALUES (?, ?, ?, ?)",
                                       arguments: [frame.id, path, images[frame.id]?.count, plan.reviewedAt])
                    }
                }
                return stored
            }
        } catch {
            for path in written.values { self.images?.remove(path: path) }
            throw error
        }
    }

    public func reviews(of subject: ReviewSubject) async throws -> [StoredReview] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reviews WHERE subject_kind = ? AND subject_id = ? ORDER BY id",
                             arguments: [subject.kind, subject.id]).map(Self.review(from:))
        }
    }

    public func labellingFrames(since: CalendarDay?, afterId: Int64, limit: Int) async throws -> [LabellingFrame] {
        let from = since?.description ?? ""
        return try await database.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM inspections WHERE label_reason IS NOT NULL AND image_path IS NOT NULL AND id > ? AND inspection_time >= ?
                ORDER BY id LIMIT ?
                """, arguments: [afterId, from, limit])
            return try rows.map { row in
                let inspection = try Self.inspection(from: row)
                let review = try Row.fetchOne(db, sql: """
                    SELECT * FROM reviews WHERE subject_kind = 'inspection' AND subject_id = ? ORDER BY id DESC LIMIT 1
                    """, arguments: [inspection.id]).map(Self.review(from:))
                return LabellingFrame(inspection: inspection, review: review)
            }
        }
    }

    /// The machine's verdict of a subject and its frames, read before a review is stored.
    private static func reviewTarget(_ subject: ReviewSubject, _ db: Database) throws -> ReviewTarget? {
        func frame(_ id: Int64?) throws -> ReviewTarget.Frame? {
            guard let id, let row = try Row.fetchOne(db, sql: "SELECT id, camera_id, category, image_path, inspection_time FROM inspections WHERE id = ?",
                                                     arguments: [id]) else { return nil }
            return ReviewTarget.Frame(id: row["id"], cameraId: row["camera_id"], category: row["category"], imagePath: row["image_path"],
                                      time: row["inspection_time"])
        }
        switch subject {
        case .inspection(let id):
            guard let only = try frame(id) else { return nil }
            return ReviewTarget(machineCategory: CategoryCode(rawValue: only.category) ?? .normal, itemTime: only.time, frames: [only])
        case .board(let id):
            guard let row = try Row.fetchOne(db, sql: "SELECT category, decided_at, left_inspection_id, right_inspection_id FROM boards WHERE id = ?",
                                             arguments: [id]) else { return nil }
            return ReviewTarget(machineCategory: CategoryCode(rawValue: row["category"]) ?? .discard, itemTime: row["decided_at"],
                                frames: try [frame(row["left_inspection_id"]), frame(row["right_inspection_id"])].compactMap { $0 })
        }
    }

    private static func review(from row: Row) throws -> StoredReview {
        try ReviewTarget.review(id: row["id"], kind: row["subject_kind"], subjectId: row["subject_id"], machineCategory: row["machine_category"],
                                verdict: row["verdict"], classes: row["classes"], note: row["note"], operatorName: row["operator"],
                                reviewedAt: row["reviewed_at"])
    }

    public func saveBoard(_ board: NewBoard) async throws -> StoredBoard {
        let decidedAt = time.string(from: board.decidedAt)
        let confidence = decimal54(board.confidence)
        return try await database.write { db in
            try db.execute(sql: """
                INSERT INTO boards (board_key, category, defect_type, confidence, gpio_pin, gpio_duration_ms, decided_at,
                    left_inspection_id, right_inspection_id, fail_safe, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [board.boardKey, board.category.rawValue, board.defectType, confidence, board.gpio.pin,
                                 board.gpio.durationMs, decidedAt, board.leftInspectionId, board.rightInspectionId,
                                 board.failSafe, board.note])
            let id = db.lastInsertedRowID
            if let provenance = board.provenance { try Self.record(provenance, table: "boards", id: id, db) }
            for inspectionId in [board.leftInspectionId, board.rightInspectionId].compactMap({ $0 }) {
                try db.execute(sql: "UPDATE inspections SET board_id = ? WHERE id = ?", arguments: [id, inspectionId])
            }
            return StoredBoard(id: id, board, decidedAt: decidedAt)
        }
    }

    public func board(id: Int64) async throws -> StoredBoard? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM boards WHERE id = ?", arguments: [id]) else { return nil }
            return StoredBoard(
                id: row["id"], boardKey: row["board_key"], category: CategoryCode(rawValue: row["category"]) ?? .discard,
                defectType: row["defect_type"], confidence: row["confidence"] ?? 0,
                gpio: GPIOSignal(pin: row["gpio_pin"] ?? 0, durationMs: row["gpio_duration_ms"] ?? 0),
                decidedAt: row["decided_at"], leftInspectionId: row["left_inspection_id"],
                rightInspectionId: row["right_inspection_id"], failSafe: row["fail_safe"], note: row["note"],
                provenance: Self.provenance(from: row))
        }
    }

    public func appendLog(_ entry: SystemLogEntry) async throws {
        let createdAt = entry.createdAt ?? time.string(from: Date())
        try await database.write { db in
            try db.execute(sql: "INSERT INTO system_logs (log_level, source, message, details, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [entry.level, entry.source, entry.message, entry.details, createdAt])
        }
    }

    public func recentLogs(limit: Int) async throws -> [SystemLogEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM system_logs ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                SystemLogEntry(level: row["log_level"], source: row["source"] ?? "", message: row["message"],
                               details: row["details"], createdAt: row["created_at"])
            }
        }
    }

    @discardableResult
    public func deleteLogs(before cutoff: Date) async throws -> Int {
        let limit = time.string(from: cutoff)
        return try await database.write { db in
            try db.execute(sql: "DELETE FROM system_logs WHERE created_at < ?", arguments: [limit])
            return db.changesCount
        }
    }

    public func configValues() async throws -> [String: String] {
        try await database.read { db in
            var values: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT config_key, config_value FROM system_config") {
                values[row["config_key"]] = row["config_value"] ?? ""
            }
            return values
        }
    }

    public func isReachable() async -> Bool {
        (try? await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    private static func inspection(from row: Row) throws -> StoredInspection {
        let boxesText: String? = row["boxes"]
        let boxes = try boxesText.map { try JSONDecoder().decode([DetectedDefect].self, from: Data($0.utf8)) } ?? []
        return StoredInspection(
            id: row["id"], cameraId: row["camera_id"], category: CategoryCode(rawValue: row["category"]) ?? .normal,
            defectType: row["defect_type"], confidence: row["confidence"] ?? 0, inspectionTime: row["inspection_time"],
            captureTimestamp: row["capture_time"], imagePath: row["image_path"], boxes: boxes,
            gpio: GPIOSignal(pin: row["gpio_pin"] ?? 0, durationMs: row["gpio_duration_ms"] ?? 0),
            requestId: row["request_id"], boardId: row["board_id"], inferenceTimeMs: row["inference_time_ms"],
            anomalyScore: row["anomaly_score"], anomalyMap: StoredAnomalyMap(jsonText: row["anomaly_map"]),
            provenance: provenance(from: row), labelReason: (row["label_reason"] as String?).flatMap(LabellingReason.init(rawValue:)))
    }

    private static func provenance(from row: Row) -> Provenance? {
        Provenance(model: row["model_id"], calibration: row["calibration_id"], policy: row["policy_id"], serverVersion: row["server_version"])
    }

    /// The provenance columns of a row just inserted (same transaction).
    private static func record(_ provenance: Provenance, table: String, id: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE \(table) SET model_id = ?, calibration_id = ?, policy_id = ?, server_version = ? WHERE id = ?",
                       arguments: [provenance.model, provenance.calibration, provenance.policy, provenance.serverVersion, id])
    }
}
