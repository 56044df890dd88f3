// Replays the store's backlog (the MySQL store's local outage journal): every half second,
// while writes wait in it, try to write them to the database. Logs when an outage starts and
// when the backlog is drained. A store without a backlog never has work here.

import Logging
import ServiceLifecycle
import Storage

/// The background half of a store with a backlog (`JournaledInspectionStore`).
struct StoreBacklogService: Service {
    let store: any InspectionStore
    let logger: Logger
    var interval: Duration = .milliseconds(500)

    func run() async throws {
        var outage = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let backlog = store.backlog
            if backlog.needsReplay {
                if !outage {
                    outage = true
                    logger.warning("database unreachable: results go to the local journal (\(backlog.pending) waiting) and are replayed when it is back")
                }
                do {
                    let outcome = try await store.replayBacklog()
                    for refusal in outcome.deadLettered {
                        logger.error("database refused a journaled write, kept aside in journal.sqlite (dead_letter): \(refusal)")
                    }
                    if !store.backlog.needsReplay {
                        outage = false
                        logger.notice("database back: \(outcome.written) journaled writes replayed, journal empty")
                        try? await store.appendLog(SystemLogEntry(
                            level: outcome.deadLettered.isEmpty ? "WARNING" : "ERROR", source: "storage",
                            message: "database outage over: \(outcome.written) journaled writes replayed, \(outcome.deadLettered.count) refused (dead_letter)"))
                    }
                } catch let error as StoreError where error.isUnavailable {
                    logger.debug("journal replay: database still unreachable: \(error)")
                } catch {
                    logger.error("journal replay failed: \(error)")
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
