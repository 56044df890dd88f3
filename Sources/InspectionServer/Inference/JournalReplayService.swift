// Replays the MySQL store's local journal: every half second, while results wait in it, try to
// write them to the database. Logs when an outage starts and when the journal is drained.

import Hummingbird
import Logging
import ServiceLifecycle
import Storage

/// The background half of `JournaledInspectionStore`.
struct JournalReplayService: Service {
    let store: JournaledInspectionStore
    let logger: Logger
    var interval: Duration = .milliseconds(500)

    func run() async throws {
        var outage = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let pending = store.pendingCount
            if pending > 0 || store.migrationPending {
                if !outage {
                    outage = true
                    logger.warning("database unreachable: results go to the local journal (\(pending) waiting) and are replayed when it is back")
                }
                do {
                    let written = try await store.replayJournal()
                    if store.pendingCount == 0 {
                        outage = false
                        logger.notice("database back: \(written) journaled writes replayed, journal empty")
                        try? await store.appendLog(SystemLogEntry(level: "WARNING", source: "storage",
                                                                  message: "database outage over: \(written) journaled writes replayed"))
                    }
                } catch {
                    logger.debug("journal replay: database still unreachable: \(error)")
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
