// What keeps a server that runs for months from filling its disk: at start and every hour it
// deletes defect images older than the image retention (the rows stay; the API then says the
// image expired) and `system_logs` rows older than the log retention; every few seconds it
// watches the disk guard and says once, in the log and in `system_logs`, when image saving
// stops for want of space and when it resumes.

import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Retention and the disk watch, beside the HTTP server.
struct HousekeepingService: Service {
    let store: any InspectionStore
    let images: DefectImageFolder?
    /// nil: the seed's `system_config` row `max_image_retention_days`, read at each pass.
    let imageRetentionDays: Int?
    let logRetentionDays: Int
    let logger: Logger
    var retentionInterval: Duration = .seconds(3600)
    var watchInterval: Duration = .seconds(5)

    /// The seed's default for `max_image_retention_days` when neither the config nor the row says.
    static let defaultImageRetentionDays = 90

    func run() async throws {
        var lastRetention: ContinuousClock.Instant?
        var diskWasLow = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            if lastRetention.map({ now - $0 >= retentionInterval }) ?? true {
                lastRetention = now
                await applyRetention()
            }
            if let diskGuard = images?.diskGuard {
                let status = diskGuard.status
                if status.low != diskWasLow {
                    diskWasLow = status.low
                    await reportDisk(status, minimum: diskGuard.minimumFreeBytes)
                }
            }
            try? await Task.sleep(for: watchInterval)
        }
    }

    /// One retention pass; returns the images and log rows removed.
    @discardableResult
    func applyRetention(now: Date = Date()) async -> (images: Int, logs: Int) {
        var removedImages = 0, removedLogs = 0
        let days = await effectiveImageRetentionDays()
        if let images, days > 0 {
            removedImages = images.removeImages(olderThan: now.addingTimeInterval(-Double(days) * 86_400))
            if removedImages > 0 { logger.info("retention: removed \(removedImages) images older than \(days) days") }
        }
        if logRetentionDays > 0 {
            do {
                removedLogs = try await store.deleteLogs(before: now.addingTimeInterval(-Double(logRetentionDays) * 86_400))
            } catch {
                logger.debug("log retention skipped: \(error)")
            }
        }
        return (removedImages, removedLogs)
    }

    /// The configured retention, else the store's `system_config` row, else the seed's 90 days.
    func effectiveImageRetentionDays() async -> Int {
        if let imageRetentionDays { return imageRetentionDays }
        let row = try? await store.configValues()["max_image_retention_days"]
        return row.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { max(0, $0) } ?? Self.defaultImageRetentionDays
    }

    private func reportDisk(_ status: DiskSpaceGuard.Status, minimum: Int64) async {
        let free = status.freeBytes.map { "\($0 >> 20) MB free" } ?? "free space unknown"
        let message = status.low
            ? "data disk low (\(free), minimum \(minimum >> 20) MB): images are not saved; verdicts and rows still are"
            : "data disk has room again (\(free)): images are saved again"
        if status.low { logger.warning("\(message)") } else { logger.notice("\(message)") }
        try? await store.appendLog(SystemLogEntry(level: status.low ? "WARNING" : "INFO", source: "storage", message: message))
    }
}
