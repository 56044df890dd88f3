// A small pool of MariaDB connections. Each call takes a connection, runs its blocking work on
// a dispatch thread (never on the caller's event loop or the cooperative pool), and gives the
// connection back. A connection that lost its server is dropped; the next call connects
// afresh, so the store recovers by itself after MySQL restarts.

import Dispatch
import Foundation

final class MariaDBPool: @unchecked Sendable {
    let url: MySQLURL
    let maxConnections: Int
    private let lock = NSLock()
    private var idle: [MariaDBConnection] = []
    private var permits: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private let queue = DispatchQueue(label: "pcb.storage.mariadb", attributes: .concurrent)

    init(url: MySQLURL, maxConnections: Int = 4) {
        self.url = url
        self.maxConnections = maxConnections
        permits = maxConnections
    }

    /// Runs `body` with a connection of its own. Errors of a lost connection are rethrown as
    /// `StoreError.unavailable`; the connection is not reused.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (MariaDBConnection) throws -> T) async throws -> T {
        await acquire()
        let reused = takeIdle()
        let url = url
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                var connection: MariaDBConnection? = nil
                do {
                    // A connection idle for a while may have lost its server: ping before trusting it.
                    if let reused, ProcessInfo.processInfo.systemUptime - reused.lastUsed < 1 || reused.ping() {
                        connection = reused
                    } else {
                        connection = try MariaDBConnection(url)
                    }
                    let result = try body(connection!)
                    self.release(connection)
                    continuation.resume(returning: result)
                } catch let error as MySQLError where error.isConnectionLost {
                    self.release(nil)
                    continuation.resume(throwing: StoreError.unavailable("\(self.url): \(error)"))
                } catch {
                    self.release(connection)
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `body` on a connection of its own, outside the pool, with long timeouts (migrations
    /// that rebuild a large table). Errors are mapped as in `withConnection`.
    func withDedicatedConnection<T: Sendable>(readWriteTimeout: UInt32, _ body: @escaping @Sendable (MariaDBConnection) throws -> T) async throws -> T {
        let url = url
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    let connection = try MariaDBConnection(url, readWriteTimeout: readWriteTimeout)
                    continuation.resume(returning: try body(connection))
                } catch let error as MySQLError where error.isConnectionLost {
                    continuation.resume(throwing: StoreError.unavailable("\(url): \(error)"))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func acquire() async {
        let mustWait: Bool = lock.withLock {
            if permits > 0 { permits -= 1; return false }
            return true
        }
        guard mustWait else { return }
        await withCheckedContinuation { continuation in
            let granted: Bool = lock.withLock {
                // A permit may have come back between the check above and now.
                if permits > 0 { permits -= 1; return true }
                waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func takeIdle() -> MariaDBConnection? {
        lock.withLock { idle.popLast() }
    }

    /// Returns the permit, and the connection when it is still good.
    private func release(_ connection: MariaDBConnection?) {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            if let connection { idle.append(connection) }
            if !waiters.isEmpty { return waiters.removeFirst() }
            permits += 1
            return nil
        }
        waiter?.resume()
    }
}
