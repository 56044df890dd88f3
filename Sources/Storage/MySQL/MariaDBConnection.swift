// One connection to MySQL/MariaDB through MariaDB Connector/C, with parameterized statements
// only (`MYSQL_STMT`: the SQL text never contains a value). Blocking: used by one thread at a
// time, always from `MariaDBPool`, never on an event loop.
//
// Results come back as text (every column bound as a string), which is how DATETIME(6) and
// DECIMAL(5,4) keep exactly the values the SQLite store keeps.

import CMariaDB
import Foundation

/// A value bound to a `?` of a statement.
enum MySQLValue: Sendable {
    case int(Int64)
    case double(Double)
    case text(String)
    case null

    init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    init(_ value: Double?) { self = value.map { .double($0) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

/// A result row: column name -> text (nil for NULL).
struct MySQLRow: Sendable {
    var values: [String: String?]

    func string(_ column: String) -> String? { values[column] ?? nil }
    func int64(_ column: String) -> Int64? { string(column).flatMap { Int64($0) } }
    func int(_ column: String) -> Int? { string(column).flatMap { Int($0) } }
    func double(_ column: String) -> Double? { string(column).flatMap { Double($0) } }
}

/// An error reported by the server or the client library.
struct MySQLError: Error, CustomStringConvertible {
    let code: UInt32
    let message: String
    var description: String { "MySQL error \(code): \(message)" }

    /// The database cannot take the statement now but may later: the connection is refused,
    /// lost or killed, the server is shutting down, full, read-only after a failover, or the
    /// statement lost a deadlock. The write is journaled and retried; the connection dropped.
    var isConnectionLost: Bool { Self.unavailableCodes.contains(code) }

    static let unavailableCodes: Set<UInt32> = [
        2002, 2003, 2005, 2006, 2011, 2013, 2026, 2055,  // client: cannot connect, host unknown, gone away, lost, TLS
        1040, 1053, 1205, 1213, 1290, 1927, 4031,        // server: too many connections, shutdown, lock wait, deadlock, read-only, killed, idle disconnect
    ]
    /// ER_DUP_ENTRY: a unique key refused the row.
    var isDuplicateKey: Bool { code == 1062 }
}

final class MariaDBConnection: @unchecked Sendable {
    private let handle: UnsafeMutablePointer<MYSQL>
    /// Monotonic seconds of the last successful use (the pool pings connections idle for long).
    var lastUsed = ProcessInfo.processInfo.systemUptime

    /// Connects, with utf8mb4 and short timeouts so a dead server is noticed in seconds.
    /// - Parameter readWriteTimeout: seconds a statement may wait for the server: short, so a
    ///   silently dead network is noticed within a camera's 5 s request (migrations use a long one).
    init(_ url: MySQLURL, connectTimeout: UInt32 = 3, readWriteTimeout: UInt32 = 3) throws {
        guard let handle = mysql_init(nil) else { throw MySQLError(code: 2008, message: "out of memory") }
        self.handle = handle
        var connect = connectTimeout, io = readWriteTimeout
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &connect)
        mysql_options(handle, MYSQL_OPT_READ_TIMEOUT, &io)
        mysql_options(handle, MYSQL_OPT_WRITE_TIMEOUT, &io)
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        guard mysql_real_connect(handle, url.host, url.user, url.password, url.database, UInt32(url.port), nil, 0) != nil else {
            // No mysql_close here: every stored property is set, so deinit runs and closes it.
            throw MySQLError(code: mysql_errno(handle), message: String(cString: mysql_error(handle)))
        }
    }

    deinit { mysql_close(handle) }

    /// Whether the server still answers (a cheap round trip).
    func ping() -> Bool { mysql_ping(handle) == 0 }

    /// Runs a statement that returns no rows; gives the affected row count and the AUTO_INCREMENT id.
    @discardableResult
    func execute(_ sql: String, _ parameters: [MySQLValue] = []) throws -> (affected: UInt64, insertId: Int64) {
        try withStatement(sql, parameters) { statement in
            (mysql_stmt_affected_rows(statement), Int64(mysql_stmt_insert_id(statement)))
        }
    }

    /// Runs a query and returns every row.
    func query(_ sql: String, _ parameters: [MySQLValue] = []) throws -> [MySQLRow] {
        try withStatement(sql, parameters) { statement in try Self.fetchAll(statement) }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try simple("START TRANSACTION")
        do {
            let result = try body()
            try simple("COMMIT")
            return result
        } catch {
            try? simple("ROLLBACK")
            throw error
        }
    }

    /// A statement without parameters (DDL, transaction control), through the text protocol.
    func simple(_ sql: String) throws {
        guard mysql_real_query(handle, sql, UInt(sql.utf8.count)) == 0 else { throw lastError() }
        // Statements such as SELECT GET_LOCK(...) return a result that must be read.
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
        if mysql_errno(handle) != 0 { throw lastError() }
    }

    private func lastError() -> MySQLError {
        MySQLError(code: mysql_errno(handle), message: String(cString: mysql_error(handle)))
    }

    private func withStatement<T>(_ sql: String, _ parameters: [MySQLValue], _ body: (UnsafeMutablePointer<MYSQL_STMT>) throws -> T) throws -> T {
        guard let statement = mysql_stmt_init(handle) else { throw lastError() }
        defer { mysql_stmt_close(statement) }
        func statementError() -> MySQLError {
            MySQLError(code: mysql_stmt_errno(statement), message: String(cString: mysql_stmt_error(statement)))
        }
        guard mysql_stmt_prepare(statement, sql, UInt(sql.utf8.count)) == 0 else { throw statementError() }
        let expected = Int(mysql_stmt_param_count(statement))
        guard expected == parameters.count else {
            throw MySQLError(code: 0, message: "statement takes \(expected) values, got \(parameters.count): \(sql)")
        }
        // Parameter buffers live until the statement has run.
        var storage: [UnsafeMutableRawPointer] = []
        defer { storage.forEach { $0.deallocate() } }
        var binds = [MYSQL_BIND](repeating: MYSQL_BIND(), count: parameters.count)
        for (i, value) in parameters.enumerated() {
            switch value {
            case .int(let v):
                let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                p.storeBytes(of: v, as: Int64.self)
                storage.append(p)
                binds[i].buffer_type = MYSQL_TYPE_LONGLONG
                binds[i].buffer = p
            case .double(let v):
                let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                p.storeBytes(of: v, as: Double.self)
                storage.append(p)
                binds[i].buffer_type = MYSQL_TYPE_DOUBLE
                binds[i].buffer = p
            case .text(let v):
                let bytes = Array(v.utf8)
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
                bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                storage.append(p)
                binds[i].buffer_type = MYSQL_TYPE_STRING
                binds[i].buffer = p
                binds[i].buffer_length = UInt(bytes.count)
            case .null:
                binds[i].buffer_type = MYSQL_TYPE_NULL
            }
        }
        if !binds.isEmpty {
            guard binds.withUnsafeMutableBufferPointer({ mysql_stmt_bind_param(statement, $0.baseAddress) }) == 0 else {
                throw statementError()
            }
        }
        guard mysql_stmt_execute(statement) == 0 else { throw statementError() }
        let result = try body(statement)
        lastUsed = ProcessInfo.processInfo.systemUptime
        return result
    }

    private static func fetchAll(_ statement: UnsafeMutablePointer<MYSQL_STMT>) throws -> [MySQLRow] {
        func statementError() -> MySQLError {
            MySQLError(code: mysql_stmt_errno(statement), message: String(cString: mysql_stmt_error(statement)))
        }
        guard let metadata = mysql_stmt_result_metadata(statement) else { return [] }
        defer { mysql_free_result(metadata) }
        var updateMaxLength: my_bool = 1
        mysql_stmt_attr_set(statement, STMT_ATTR_UPDATE_MAX_LENGTH, &updateMaxLength)
        guard mysql_stmt_store_result(statement) == 0 else { throw statementError() }
        defer { mysql_stmt_free_result(statement) }

        let count = Int(mysql_num_fields(metadata))
        let fields = mysql_fetch_fields(metadata)!
        var names: [String] = []
        var buffers: [UnsafeMutableRawPointer] = []
        let lengths = UnsafeMutablePointer<UInt>.allocate(capacity: count)
        let nulls = UnsafeMutablePointer<my_bool>.allocate(capacity: count)
        defer {
            buffers.forEach { $0.deallocate() }
            lengths.deallocate()
            nulls.deallocate()
        }
        var binds = [MYSQL_BIND](repeating: MYSQL_BIND(), count: count)
        for i in 0..<count {
            names.append(String(cString: fields[i].name))
            let capacity = Int(fields[i].max_length) + 1
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
            buffers.append(buffer)
            binds[i].buffer_type = MYSQL_TYPE_STRING
            binds[i].buffer = buffer
            binds[i].buffer_length = UInt(capacity)
            binds[i].length = lengths + i
            binds[i].is_null = nulls + i
        }
        guard binds.withUnsafeMutableBufferPointer({ mysql_stmt_bind_result(statement, $0.baseAddress) }) == 0 else {
            throw statementError()
        }
        var rows: [MySQLRow] = []
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            guard status == 0 || status == MYSQL_DATA_TRUNCATED else { throw statementError() }
            var values: [String: String?] = [:]
            for i in 0..<count {
                if nulls[i] != 0 {
                    values[names[i]] = .some(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(start: buffers[i], count: min(Int(lengths[i]), Int(binds[i].buffer_length)))
                    values[names[i]] = String(decoding: bytes, as: UTF8.self)
                }
            }
            rows.append(MySQLRow(values: values))
        }
        return rows
    }
}
