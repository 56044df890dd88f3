// The golden boards of the line's cameras: each camera sees its own view of the product, so
// each has its own known-good picture. Given at start (`reference:`), taught to a running
// server (`PUT /api/reference`), swapped between frames without a pause: a frame is checked
// against the board that was current when it arrived.

import Detection
import Foundation
import Synchronization

/// Golden boards by camera id.
final class GoldenBoards: Sendable {
    /// One camera's golden board and the picture it was made from.
    struct Entry: Sendable {
        var board: GoldenBoard
        var jpeg: [UInt8]
        var taughtAt: Date
        /// Where it came from: a file, a request, or a recent inspection.
        var source: String
    }

    private let entries: Mutex<[String: Entry]>
    private let lastFailureLog = Mutex<ContinuousClock.Instant?>(nil)

    init(_ initial: [String: Entry] = [:]) {
        entries = Mutex(initial)
    }

    func entry(for cameraId: String) -> Entry? { entries.withLock { $0[cameraId] } }

    var cameras: [String] { entries.withLock { $0.keys.sorted() } }

    func set(_ entry: Entry, for cameraIds: [String]) {
        entries.withLock { table in for id in cameraIds { table[id] = entry } }
    }

    /// Forgets the golden boards of `cameraIds`; says how many there were.
    @discardableResult
    func remove(_ cameraIds: [String]) -> Int {
        entries.withLock { table in cameraIds.reduce(0) { $0 + (table.removeValue(forKey: $1) == nil ? 0 : 1) } }
    }

    /// True at most once a minute: a line of frames that do not register is logged, not flooded.
    func mayLogFailure(now: ContinuousClock.Instant = .now) -> Bool {
        lastFailureLog.withLock { last in
            if let previous = last, now - previous < .seconds(60) { return false }
            last = now
            return true
        }
    }
}
