// The production store: MySQL or MariaDB through MariaDB Connector/C, the seed's schema, the
// same numbered migrations and the same behaviour as the SQLite store (one test suite runs
// against both). Every statement is parameterized; blocking calls run on the pool's threads.

import Foundation
import Inspection

/// `InspectionStore` on MySQL/MariaDB.
///
/// ```swift
/// let store = try MySQLInspectionStore(url: MySQLURL("mysql://pcb:secret@db:3306/pcb_inspection"),
///                                      images: DefectImageFolder(directory: "var/images"))
/// try await store.migrate()
/// ```
public final class MySQLInspectionStore: InspectionStore {
    private let pool: MariaDBPool
    private let images: DefectImageFolder?
    private let time: StoreTime

    public init(url: MySQLURL, images: DefectImageFolder?, timeZone: TimeZone = .current, maxConnections: Int = 4) throws {
        pool = MariaDBPool(url: url, maxConnections: maxConnections)
        self.images = images
        time = StoreTime(timeZone: timeZone)
        try images?.prepare()
    }

    public func migrate() async throws {
        // Its own connection with long timeouts: rebuilding a large table may take minutes.
        try await pool.withDedicatedConnection(readWriteTimeout: 900) { db in
            // One server migrates at a time; the others wait here (up to 10 minutes).
            let locked = try db.query("SELECT GET_LOCK('pcb_schema_migrations', 600) AS locked").first?.int("locked")
            guard locked == 1 else { throw StoreError.unavailable("could not take the migration lock") }
            defer { _ = try? db.query("SELECT RELEASE_LOCK('pcb_schema_migrations') AS released") }
            try db.simple("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id VARCHAR(64) NOT NULL PRIMARY KEY,
                    applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                ) \(MySQLSchema.table)
                """)
            let applied = Set(try db.query("SELECT id FROM schema_migrations").compactMap { $0.string("id") })
            for migration in MySQLSchema.migrations where !applied.contains(migration.id) {
                for statement in migration.statements {
                    do { try db.simple(statement) } catch let error as MySQLError where MySQLSchema.alreadyApplied.contains(error.code) {}
                }
                try db.transaction {
                    if migration.id == "001_seed_schema" {
                        for row in seedSystemConfig {
                            try db.execute("INSERT IGNORE INTO system_config (config_key, config_value, description) VALUES (?, ?, ?)",
                                           [.text(row.key), .text(row.value), .text(row.description)])
                        }
                    }
                    try db.execute("INSERT INTO schema_migrations (id) VALUES (?)", [.text(migration.id)])
                }
            }
        }
    }

    public func saveInspection(_ inspection: NewInspection) async throws -> SavedInspection {
        if let requestId = inspection.requestId, let existing = try await self.inspection(requestId: requestId) {
            return SavedInspection(record: existing, wasDuplicate: true)
        }
        let localTime = time.string(from: inspection.inspectionTime)
        let boxesJSON = String(decoding: try JSONEncoder().encode(inspection.boxes), as: UTF8.self)
        let imagePath = try images?.write(imageOf: inspection, localTime: localTime)
        let confidence = decimal54(inspection.confidence)
        do {
            let outcome: (StoredInspection, Bool) = try await pool.withConnection { db in
                do {
                    return try db.transaction {
                        let (_, id) = try db.execute("""
                            INSERT INTO inspections (camera_id, defect_type, confidence, inspection_time, image_path, boxes,
                                gpio_pin, gpio_duration_ms, category, capture_time, request_id, inference_time_ms, anomaly_score,
                                anomaly_map, label_reason)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, [.text(inspection.cameraId), .text(inspection.defectType), .double(confidence), .text(localTime),
                                  MySQLValue(imagePath), .text(boxesJSON), MySQLValue(inspection.gpio.pin),
                                  MySQLValue(inspection.gpio.durationMs), .text(inspection.category.rawValue),
                                  MySQLValue(inspection.captureTimestamp), MySQLValue(inspection.requestId),
                                  MySQLValue(inspection.inferenceTimeMs), MySQLValue(inspection.anomalyScore),
                                  MySQLValue(inspection.anomalyMap?.jsonText),
                                  MySQLValue(imagePath == nil ? nil : inspection.labelReason?.rawValue)])
                        if let provenance = inspection.provenance { try Self.record(provenance, table: "inspections", id: id, db) }
                        try db.execute(MySQLSchema.countInspection, [.text(String(localTime.prefix(10))), .text(inspection.category.rawValue), .int(1)])
                        if let imagePath {
                            try db.execute("INSERT INTO defect_images (inspection_id, image_path, file_size, created_at) VALUES (?, ?, ?, ?)",
                                           [.int(id), .text(imagePath), MySQLValue(inspection.image?.count), .text(localTime)])
                        }
                        let stored = StoredInspection(id: id, inspection, inspectionTime: localTime, imagePath: imagePath)
                        return (stored, false)
                    }
                } catch let error as MySQLError where error.isDuplicateKey && inspection.requestId != nil {
                    // Two retries raced past the first check: the other one's row stands.
                    guard let row = try db.query("SELECT * FROM inspections WHERE request_id = ?", [MySQLValue(inspection.requestId)]).first else {
                        throw error
                    }
                    return (try Self.inspection(from: row), true)
                }
            }
            if outcome.1, let imagePath { images?.remove(path: imagePath) }
            return SavedInspection(record: outcome.0, wasDuplicate: outcome.1)
        } catch let error as StoreError where error.isUnavailable {
            // The connection broke: the row may have been committed and point at the image, so
            // the file stays (an orphan at worst, never a dangling reference).
            throw error
        } catch {
            if let imagePath { images?.remove(path: imagePath) }
            throw error
        }
    }

    public func bulkInsert(_ inspections: [NewInspection]) async throws {
        let time = time
        for chunk in stride(from: 0, to: inspections.count, by: 1000).map({ Array(inspections[$0..<min($0 + 1000, inspections.count)]) }) {
            var values: [MySQLValue] = []
            for i in chunk {
                values += [.text(i.cameraId), .text(i.defectType), .double(decimal54(i.confidence)), .text(time.string(from: i.inspectionTime)),
                           .text(String(decoding: try JSONEncoder().encode(i.boxes), as: UTF8.self)), MySQLValue(i.gpio.pin),
                           MySQLValue(i.gpio.durationMs), .text(i.category.rawValue), MySQLValue(i.captureTimestamp),
                           MySQLValue(i.requestId), MySQLValue(i.inferenceTimeMs)]
            }
            let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            let sql = """
                INSERT INTO inspections (camera_id, defect_type, confidence, inspection_time, boxes, gpio_pin, gpio_duration_ms,
                    category, capture_time, request_id, inference_time_ms) VALUES \(placeholders)
                """
            let parameters = values
            var perDay: [String: Int] = [:]
            for i in chunk { perDay[time.day(of: i.inspectionTime) + "|" + i.category.rawValue, default: 0] += 1 }
            let counts = perDay.map { key, n in (key.split(separator: "|").map(String.init), n) }
            try await pool.withConnection { db in
                try db.transaction {
                    _ = try db.execute(sql, parameters)
                    for (parts, n) in counts { try db.execute(MySQLSchema.countInspection, [.text(parts[0]), .text(parts[1]), .int(Int64(n))]) }
                }
            }
        }
    }

    public func inspection(id: Int64) async throws -> StoredInspection? {
        try await pool.withConnection { db in
            try db.query("SELECT * FROM inspections WHERE id = ?", [.int(id)]).first.map(Self.inspection(from:))
        }
    }

    public func inspection(requestId: String) async throws -> StoredInspection? {
        try await pool.withConnection { db in
            try db.query("SELECT * FROM inspections WHERE request_id = ?", [.text(requestId)]).first.map(Self.inspection(from:))
        }
    }

    public func inspections(page: Int, limit: Int) async throws -> InspectionPage {
        guard page >= 1, limit >= 1 else { throw StoreError.invalidArgument("page and limit must be positive") }
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
        return try await pool.withConnection { db in
            let total = try db.query("SELECT COUNT(*) AS n FROM inspections").first?.int("n") ?? 0
            if overflow || offset >= total { return InspectionPage(rows: [], total: total) }
            // Deferred join: the page's ids come from the (inspection_time, id) index alone; only
            // those rows are read, so a deep page costs an index scan, not thousands of row reads.
            let rows = try db.query("""
                SELECT i.* FROM inspections i
                JOIN (SELECT id FROM inspections ORDER BY inspection_time DESC, id DESC LIMIT ? OFFSET ?) page ON page.id = i.id
                ORDER BY i.inspection_time DESC, i.id DESC
                """, [.int(Int64(limit)), .int(Int64(offset))])
            return InspectionPage(rows: try rows.map(Self.inspection(from:)), total: total)
        }
    }

    public func statistics(from: CalendarDay, through: CalendarDay) async throws -> InspectionStatistics {
        // Whole local days: the per-day counts answer in O(days), whatever the number of rows.
        return try await pool.withConnection { db in
            var counts: [CategoryCode: Int] = [:]
            var total = 0
            for row in try db.query("""
                SELECT category, SUM(n) AS n FROM inspection_daily_counts
                WHERE day >= ? AND day <= ? GROUP BY category
                """, [.text(from.description), .text(through.description)]) {
                let n = row.int("n") ?? 0
                total += n
                if let code = row.string("category").flatMap(CategoryCode.init(rawValue:)) { counts[code, default: 0] += n }
            }
            let reviews = try db.query("""
                SELECT r.* FROM reviews r JOIN (
                    SELECT MAX(id) AS id FROM reviews WHERE item_day >= ? AND item_day <= ? GROUP BY subject_kind, subject_id) latest
                ON latest.id = r.id
                """, [.text(from.description), .text(through.description)]).map(Self.review(from:))
            return InspectionStatistics(total: total, counts: counts,
                                        frameReviews: ReviewCounts(latest: reviews.filter { $0.subject.kind == "inspection" }),
                                        boardReviews: ReviewCounts(latest: reviews.filter { $0.subject.kind == "board" }))
        }
    }

    public func saveReview(_ review: NewReview, images: [Int64: [UInt8]]) async throws -> StoredReview? {
        guard let target = try await pool.withConnection({ db in try Self.reviewTarget(review.subject, db) }) else { return nil }
        let plan = ReviewPlan(review, target: target, time: time)
        let written = try plan.writeMissingImages(images, to: self.images)
        let sizes = written.keys.reduce(into: [Int64: Int]()) { $0[$1] = images[$1]?.count }
        do {
            return try await pool.withConnection { db in
                try db.transaction {
                    let (_, id) = try db.execute("""
                        INSERT INTO reviews (subject_kind, subject_id, machine_category, verdict, classes, note, operator, item_day, reviewed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, [.text(review.subject.kind), .int(review.subject.id), .text(target.machineCategory.rawValue),
                              .text(review.verdict.rawValue), MySQLValue(plan.classesJSON), MySQLValue(review.note),
                              .text(review.operatorName), .text(plan.itemDay), .text(plan.reviewedAt)])
                    for frame in plan.framesToKeep {
                        try db.execute("UPDATE inspections SET label_reason = ? WHERE id = ?", [.text(LabellingReason.review.rawValue), .int(frame.id)])
                        if let path = written[frame.id] {
                            try db.execute("UPDATE inspections SET image_path = ? WHERE id = ?", [.text(path), .int(frame.id)])
                            try db.execute("INSERT INTO defect_images (inspection_id, image_path, file_size, created_at) VALUES (?, ?, ?, ?)",
                                           [.int(frame.id), .text(path), MySQLValue(sizes[frame.id]), .text(plan.reviewedAt)])
                        }
                    }
                    return plan.stored(id: id)
                }
            }
        } catch let error as StoreError where error.isUnavailable {
            throw error  // the review may have been committed: its images stay
        } catch {
            for path in written.values { self.images?.remove(path: path) }
            throw error
        }
    }

    public func reviews(of subject: ReviewSubject) async throws -> [StoredReview] {
        try await pool.withConnection { db in
            try db.query("SELECT * FROM reviews WHERE subject_kind = ? AND subject_id = ? ORDER BY id",
                         [.text(subject.kind), .int(subject.id)]).map(Self.review(from:))
        }
    }

    public func labellingFrames(since: CalendarDay?, afterId: Int64, limit: Int) async throws -> [LabellingFrame] {
        let from = since?.description ?? "1000-01-01"
        return try await pool.withConnection { db in
            let rows = try db.query("""
                SELECT * FROM inspections WHERE label_reason IS NOT NULL AND image_path IS NOT NULL AND id > ? AND inspection_time >= ?
                ORDER BY id LIMIT ?
                """, [.int(afterId), .text(from), .int(Int64(limit))])
            return try rows.map { row in
                let inspection = try Self.inspection(from: row)
                let review = try db.query("""
                    SELECT * FROM reviews WHERE subject_kind = 'inspection' AND subject_id = ? ORDER BY id DESC LIMIT 1
                    """, [.int(inspection.id)]).first.map(Self.review(from:))
                return LabellingFrame(inspection: inspection, review: review)
            }
        }
    }

    /// The machine's verdict of a subject and its frames, read before a review is stored.
    private static func reviewTarget(_ subject: ReviewSubject, _ db: MariaDBConnection) throws -> ReviewTarget? {
        func frame(_ id: Int64?) throws -> ReviewTarget.Frame? {
            guard let id, let row = try db.query("SELECT id, camera_id, category, image_path, inspection_time FROM inspections WHERE id = ?",
                                                 [.int(id)]).first else { return nil }
            return ReviewTarget.Frame(id: row.int64("id") ?? id, cameraId: row.string("camera_id") ?? "", category: row.string("category") ?? "normal",
                                      imagePath: row.string("image_path"), time: row.string("inspection_time") ?? "")
        }
        switch subject {
        case .inspection(let id):
            guard let only = try frame(id) else { return nil }
            return ReviewTarget(machineCategory: CategoryCode(rawValue: only.category) ?? .normal, itemTime: only.time, frames: [only])
        case .board(let id):
            guard let row = try db.query("SELECT category, decided_at, left_inspection_id, right_inspection_id FROM boards WHERE id = ?",
                                         [.int(id)]).first else { return nil }
            return ReviewTarget(machineCategory: row.string("category").flatMap(CategoryCode.init(rawValue:)) ?? .discard,
                                itemTime: row.string("decided_at") ?? "",
                                frames: try [frame(row.int64("left_inspection_id")), frame(row.int64("right_inspection_id"))].compactMap { $0 })
        }
    }

    private static func review(from row: MySQLRow) throws -> StoredReview {
        try ReviewTarget.review(id: row.int64("id") ?? 0, kind: row.string("subject_kind") ?? "", subjectId: row.int64("subject_id") ?? 0,
                                machineCategory: row.string("machine_category") ?? "", verdict: row.string("verdict") ?? "",
                                classes: row.string("classes"), note: row.string("note"), operatorName: row.string("operator") ?? "",
                                reviewedAt: row.string("reviewed_at") ?? "")
    }

    public func saveBoard(_ board: NewBoard) async throws -> StoredBoard {
        let decidedAt = time.string(from: board.decidedAt)
        let confidence = decimal54(board.confidence)
        return try await pool.withConnection { db in
            try db.transaction {
                let (_, id) = try db.execute("""
                    INSERT INTO boards (board_key, category, defect_type, confidence, gpio_pin, gpio_duration_ms, decided_at,
                        left_inspection_id, right_inspection_id, fail_safe, note)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(board.boardKey), .text(board.category.rawValue), .text(board.defectType), .double(confidence),
                          MySQLValue(board.gpio.pin), MySQLValue(board.gpio.durationMs), .text(decidedAt),
                          MySQLValue(board.leftInspectionId), MySQLValue(board.rightInspectionId),
                          .int(board.failSafe ? 1 : 0), MySQLValue(board.note)])
                if let provenance = board.provenance { try Self.record(provenance, table: "boards", id: id, db) }
                for inspectionId in [board.leftInspectionId, board.rightInspectionId].compactMap({ $0 }) {
                    try db.execute("UPDATE inspections SET board_id = ? WHERE id = ?", [.int(id), .int(inspectionId)])
                }
                return StoredBoard(id: id, board, decidedAt: decidedAt)
            }
        }
    }

    public func board(id: Int64) async throws -> StoredBoard? {
        try await pool.withConnection { db in
            guard let row = try db.query("SELECT * FROM boards WHERE id = ?", [.int(id)]).first else { return nil }
            return StoredBoard(
                id: row.int64("id") ?? id, boardKey: row.string("board_key") ?? "",
                category: row.string("category").flatMap(CategoryCode.init(rawValue:)) ?? .discard,
                defectType: row.string("defect_type") ?? "", confidence: row.double("confidence") ?? 0,
                gpio: GPIOSignal(pin: row.int("gpio_pin") ?? 0, durationMs: row.int("gpio_duration_ms") ?? 0),
                decidedAt: row.string("decided_at") ?? "", leftInspectionId: row.int64("left_inspection_id"),
                rightInspectionId: row.int64("right_inspection_id"), failSafe: row.int("fail_safe") == 1, note: row.string("note"),
                provenance: Self.provenance(from: row))
        }
    }

    public func appendLog(_ entry: SystemLogEntry) async throws {
        let createdAt = entry.createdAt ?? time.string(from: Date())
        try await pool.withConnection { db in
            try db.execute("INSERT INTO system_logs (log_level, source, message, details, created_at) VALUES (?, ?, ?, ?, ?)",
                           [.text(entry.level), .text(entry.source), .text(entry.message), MySQLValue(entry.details), .text(createdAt)])
        }
    }

    public func recentLogs(limit: Int) async throws -> [SystemLogEntry] {
        try await pool.withConnection { db in
            try db.query("SELECT * FROM system_logs ORDER BY id DESC LIMIT ?", [.int(Int64(limit))]).map { row in
                SystemLogEntry(level: row.string("log_level") ?? "", source: row.string("source") ?? "",
                               message: row.string("message") ?? "", details: row.string("details"), createdAt: row.string("created_at"))
            }
        }
    }

    @discardableResult
    public func deleteLogs(before cutoff: Date) async throws -> Int {
        let limit = time.string(from: cutoff)
        return try await pool.withConnection { db in
            Int(try db.execute("DELETE FROM system_logs WHERE created_at < ?", [.text(limit)]).affected)
        }
    }

    public func configValues() async throws -> [String: String] {
        try await pool.withConnection { db in
            var values: [String: String] = [:]
            for row in try db.query("SELECT config_key, config_value FROM system_config") {
                if let key = row.string("config_key") { values[key] = row.string("config_value") ?? "" }
            }
            return values
        }
    }

    public func isReachable() async -> Bool {
        (try? await pool.withConnection { db in try db.query("SELECT 1 AS one").first?.int("one") }) == 1
    }

    private static func inspection(from row: MySQLRow) throws -> StoredInspection {
        let boxes = try row.string("boxes").map { try JSONDecoder().decode([DetectedDefect].self, from: Data($0.utf8)) } ?? []
        return StoredInspection(
            id: row.int64("id") ?? 0, cameraId: row.string("camera_id") ?? "",
            category: row.string("category").flatMap(CategoryCode.init(rawValue:)) ?? .normal,
            defectType: row.string("defect_type") ?? "", confidence: row.double("confidence") ?? 0,
            inspectionTime: row.string("inspection_time") ?? "", captureTimestamp: row.string("capture_time"),
            imagePath: row.string("image_path"), boxes: boxes,
            gpio: GPIOSignal(pin: row.int("gpio_pin") ?? 0, durationMs: row.int("gpio_duration_ms") ?? 0),
            requestId: row.string("request_id"), boardId: row.int64("board_id"), inferenceTimeMs: row.double("inference_time_ms"),
            anomalyScore: row.double("anomaly_score"), anomalyMap: StoredAnomalyMap(jsonText: row.string("anomaly_map")),
            provenance: provenance(from: row), labelReason: row.string("label_reason").flatMap(LabellingReason.init(rawValue:)))
    }

    private static func provenance(from row: MySQLRow) -> Provenance? {
        Provenance(model: row.string("model_id"), calibration: row.string("calibration_id"), policy: row.string("policy_id"),
                   serverVersion: row.string("server_version"))
    }

    /// The provenance columns of a row just inserted (same transaction).
    private static func record(_ provenance: Provenance, table: String, id: Int64, _ db: MariaDBConnection) throws {
        try db.execute("UPDATE \(table) SET model_id = ?, calibration_id = ?, policy_id = ?, server_version = ? WHERE id = ?",
                       [.text(provenance.model), MySQLValue(provenance.calibration), .text(provenance.policy), .text(provenance.serverVersion), .int(id)])
    }
}

/// A confidence as MySQL's DECIMAL(5,4) keeps it, so both engines store the same value.
func decimal54(_ value: Float) -> Double { (Double(value) * 10_000).rounded() / 10_000 }
