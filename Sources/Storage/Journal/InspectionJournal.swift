// The local journal of a networked store: results the database could not take yet, in
// arrival order, in a SQLite file written with synchronous=FULL (so an answered frame survives
// a power cut), plus the map from the provisional ids handed out during an outage to the ids
// the database gave on replay.

import Foundation
import GRDB
import Inspection

/// A pending write, as kept in the journal.
enum JournalEntry: Sendable {
    case inspection(NewInspection)
    case board(NewBoard)
    case log(SystemLogEntry)
}

final class InspectionJournal: Sendable {
    private let database: DatabaseQueue

    init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS pending (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    image BLOB,
                    request_id TEXT UNIQUE
                );
                CREATE TABLE IF NOT EXISTS id_map (provisional INTEGER PRIMARY KEY, kind TEXT NOT NULL, real INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS dead_letter (
                    seq INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    image BLOB,
                    request_id TEXT,
                    reason TEXT NOT NULL,
                    moved_at TEXT NOT NULL DEFAULT (datetime('now'))
                );
                """)
        }
    }

    /// Entries waiting for the database.
    func pendingCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending") ?? 0 }
    }

    /// Appends an entry; returns its sequence number (the provisional id is its negative).
    func append(_ entry: JournalEntry) throws -> Int64 {
        let (kind, payload, image, requestId) = try Self.encode(entry)
        return try database.write { db in
            try db.execute(sql: "INSERT INTO pending (kind, payload, image, request_id) VALUES (?, ?, ?, ?)",
                           arguments: [kind, payload, image, requestId])
            return db.lastInsertedRowID
        }
    }

    /// The journaled inspection with this request id, with its sequence number.
    func inspection(requestId: String) throws -> (seq: Int64, inspection: NewInspection)? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, payload, image FROM pending WHERE request_id = ?", arguments: [requestId]),
                  case .inspection(let inspection) = try Self.decode(kind: "inspection", payload: row["payload"], image: row["image"]) else {
                return nil
            }
            return (row["seq"], inspection)
        }
    }

    /// The oldest entries, in order; one that cannot be decoded comes as its error, so the
    /// replay moves it aside instead of stopping at it.
    func oldest(limit: Int) throws -> [(seq: Int64, entry: Result<JournalEntry, any Error>)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, kind, payload, image FROM pending ORDER BY seq LIMIT ?", arguments: [limit]).map { row in
                let kind: String = row["kind"] ?? ""
                let payload: Data = row["payload"] ?? Data()
                let image: Data? = row["image"]
                return (row["seq"], Result { try Self.decode(kind: kind, payload: payload, image: image) })
            }
        }
    }

    /// Moves an entry the database refused for good (not an outage: a value it rejects) aside,
    /// so the entries behind it are not held up; it stays in `dead_letter` for an operator.
    func deadLetter(seq: Int64, reason: String) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO dead_letter (seq, kind, payload, image, request_id, reason)
                SELECT seq, kind, payload, image, request_id, ? FROM pending WHERE seq = ?
                """, arguments: [reason, seq])
            try db.execute(sql: "DELETE FROM pending WHERE seq = ?", arguments: [seq])
        }
    }

    /// Bytes the waiting entries hold (payloads and JPEGs).
    func storedBytes() throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT IFNULL(SUM(LENGTH(payload) + IFNULL(LENGTH(image), 0)), 0) FROM pending") ?? 0
        }
    }

    /// Drops the JPEGs of the oldest waiting entries until the entries hold at most `limit`
    /// bytes or no JPEG is left; rows are never dropped. Returns how many JPEGs went.
    func shedImages(toFit limit: Int) throws -> Int {
        try database.write { db in
            var total = try Int.fetchOne(db, sql: "SELECT IFNULL(SUM(LENGTH(payload) + IFNULL(LENGTH(image), 0)), 0) FROM pending") ?? 0
            var shed = 0
            let rows = try Row.fetchAll(db, sql: "SELECT seq, LENGTH(image) AS size FROM pending WHERE image IS NOT NULL ORDER BY seq")
            for row in rows where total > limit {
                try db.execute(sql: "UPDATE pending SET image = NULL WHERE seq = ?", arguments: [row["seq"] as Int64])
                total -= row["size"] as Int
                shed += 1
            }
            return shed
        }
    }

    /// Overwrites an entry's payload with bytes no decoder reads (tests of the replay).
    func damagePayload(ofRequestId requestId: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE pending SET payload = ? WHERE request_id = ?", arguments: [Data("{not json".utf8), requestId])
        }
    }

    /// Entries moved aside so far.
    func deadLetterCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letter") ?? 0 }
    }

    /// Removes a replayed entry and remembers the id the database gave it.
    func replayed(seq: Int64, kind: String, realId: Int64?) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM pending WHERE seq = ?", arguments: [seq])
            if let realId {
                try db.execute(sql: "INSERT OR REPLACE INTO id_map (provisional, kind, real) VALUES (?, ?, ?)", arguments: [-seq, kind, realId])
            }
            // A board decided just after the replay may still name a provisional id: keep the
            // recent mappings (pruned, not cleared).
            try db.execute(sql: "DELETE FROM id_map WHERE provisional > ?", arguments: [-seq + 100_000])
        }
    }

    /// The database id of a provisional (negative) id of an inspection or a board, once replayed.
    func realId(of provisional: Int64, kind: String) throws -> Int64? {
        try database.read { db in
            try Int64.fetchOne(db, sql: "SELECT real FROM id_map WHERE provisional = ? AND kind = ?", arguments: [provisional, kind])
        }
    }

    // MARK: Encoding

    private struct InspectionPayload: Codable {
        var cameraId: String, category: CategoryCode, defectType: String, confidence: Float, inspectionTime: Double
        var captureTimestamp: String?, boxes: [DetectedDefect], gpio: GPIOSignal, requestId: String?, inferenceTimeMs: Double?
        /// Absent in entries journaled before anomaly scores existed.
        var anomalyScore: Double?
        var anomalyMap: String?
        /// Absent in entries journaled before provenance was kept.
        var provenance: Provenance?
        /// Absent in entries journaled before frames were kept for labelling.
        var labelReason: LabellingReason?
    }

    private struct BoardPayload: Codable {
        var boardKey: String, category: CategoryCode, defectType: String, confidence: Float, gpio: GPIOSignal, decidedAt: Double
        var leftInspectionId: Int64?, rightInspectionId: Int64?, failSafe: Bool, note: String?
        var provenance: Provenance?
    }

    private struct LogPayload: Codable {
        var level: String, source: String, message: String, details: String?, createdAt: String?
    }

    private static func encode(_ entry: JournalEntry) throws -> (String, Data, Data?, String?) {
        let encoder = JSONEncoder()
        switch entry {
        case .inspection(let i):
            let payload = InspectionPayload(
                cameraId: i.cameraId, category: i.category, defectType: i.defectType, confidence: i.confidence,
                inspectionTime: i.inspectionTime.timeIntervalSince1970, captureTimestamp: i.captureTimestamp, boxes: i.boxes,
                gpio: i.gpio, requestId: i.requestId, inferenceTimeMs: i.inferenceTimeMs, anomalyScore: i.anomalyScore,
                anomalyMap: i.anomalyMap?.jsonText, provenance: i.provenance, labelReason: i.labelReason)
            return ("inspection", try encoder.encode(payload), i.image.map { Data($0) }, i.requestId)
        case .board(let b):
            let payload = BoardPayload(
                boardKey: b.boardKey, category: b.category, defectType: b.defectType, confidence: b.confidence, gpio: b.gpio,
                decidedAt: b.decidedAt.timeIntervalSince1970, leftInspectionId: b.leftInspectionId,
                rightInspectionId: b.rightInspectionId, failSafe: b.failSafe, note: b.note, provenance: b.provenance)
            return ("board", try encoder.encode(payload), nil, nil)
        case .log(let l):
            let payload = LogPayload(level: l.level, source: l.source, message: l.message, details: l.details, createdAt: l.createdAt)
            return ("log", try encoder.encode(payload), nil, nil)
        }
    }

    private static func decode(kind: String, payload: Data, image: Data?) throws -> JournalEntry {
        let decoder = JSONDecoder()
        switch kind {
        case "inspection":
            let p = try decoder.decode(InspectionPayload.self, from: payload)
            var inspection = NewInspection(
                cameraId: p.cameraId, category: p.category, defectType: p.defectType, confidence: p.confidence,
                inspectionTime: Date(timeIntervalSince1970: p.inspectionTime), captureTimestamp: p.captureTimestamp,
                boxes: p.boxes, gpio: p.gpio, requestId: p.requestId, inferenceTimeMs: p.inferenceTimeMs,
                anomalyScore: p.anomalyScore, anomalyMap: StoredAnomalyMap(jsonText: p.anomalyMap), image: image.map { [UInt8]($0) })
            inspection.provenance = p.provenance
            inspection.labelReason = p.labelReason
            return .inspection(inspection)
        case "board":
            let p = try decoder.decode(BoardPayload.self, from: payload)
            var board = NewBoard(
                boardKey: p.boardKey, category: p.category, defectType: p.defectType, confidence: p.confidence, gpio: p.gpio,
                decidedAt: Date(timeIntervalSince1970: p.decidedAt), leftInspectionId: p.leftInspectionId,
                rightInspectionId: p.rightInspectionId, failSafe: p.failSafe, note: p.note)
            board.provenance = p.provenance
            return .board(board)
        default:
            let p = try decoder.decode(LogPayload.self, from: payload)
            return .log(SystemLogEntry(level: p.level, source: p.source, message: p.message, details: p.details, createdAt: p.createdAt))
        }
    }
}
