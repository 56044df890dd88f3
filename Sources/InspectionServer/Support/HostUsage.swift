// CPU and memory use of the server machine, read from /proc (Linux), for `/api/system-status`.

import Foundation
import Synchronization

/// Samples /proc/stat and /proc/meminfo; CPU use is measured between two calls.
final class HostUsage: Sendable {
    private let previous = Mutex<(busy: UInt64, total: UInt64)?>(nil)

    /// Percent of CPU time busy since the previous call (or since boot on the first).
    func cpuPercent() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return 0 }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 4 else { return 0 }
        let total = values.reduce(0, +)
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        let busy = total - idle
        let delta = previous.withLock { last -> (UInt64, UInt64) in
            defer { last = (busy, total) }
            guard let last, total > last.total else { return (busy, total) }
            return (busy &- last.busy, total - last.total)
        }
        guard delta.1 > 0 else { return 0 }
        return (Double(delta.0) / Double(delta.1) * 1000).rounded() / 10
    }

    /// Percent of memory in use (MemTotal - MemAvailable).
    func memoryPercent() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return 0 }
        var fields: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2 { fields[String(parts[0].dropLast())] = Double(parts[1]) }
        }
        guard let total = fields["MemTotal"], let available = fields["MemAvailable"], total > 0 else { return 0 }
        return ((total - available) / total * 1000).rounded() / 10
    }
}
