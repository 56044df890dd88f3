// The left Raspberry Pi's promise to the sorter: exactly one gate pulse per board. A board the
// camera triggered gets the server's verdict pulse when it arrives in time, and the fail-safe
// pulse (the policy's fail_safe_category, default discard) when it does not: the request
// failed, the frame was never sent, or no verdict came before the timeout. A verdict that
// comes after the fail-safe pulse, or twice, moves no gate.
//
// Pure: callers pass the time (seconds, monotonic) and carry out the returned actions.

import Inspection

/// One-pulse-per-board bookkeeping of the left camera client.
public struct VerdictWatchdogStateMachine: Sendable {
    /// What the caller must do.
    public enum Action: Sendable, Equatable {
        /// Pulse this signal for `board` (the server's verdict, or the fail-safe one).
        case pulse(board: Int, signal: GPIOSignal, failSafe: Bool, reason: String?)
        /// Nothing moves: a verdict for a board already pulsed (late, or repeated).
        case ignore(board: Int, reason: String)
    }

    /// Seconds a triggered board may wait for its verdict.
    public let timeout: Double
    /// The pulse for boards without a verdict in time.
    public let failSafe: GPIOSignal

    private var deadlines: [Int: Double] = [:]
    /// Boards already pulsed, newest last; bounded so a long shift does not grow memory.
    private var pulsed: Set<Int> = []
    private var pulsedOrder: [Int] = []
    private static let memory = 4096

    public init(timeout: Double, failSafe: GPIOSignal) {
        self.timeout = timeout
        self.failSafe = failSafe
    }

    /// Boards waiting for a verdict.
    public var pending: Int { deadlines.count }
    /// The earliest moment `tick` has work.
    public var nextDeadline: Double? { deadlines.values.min() }

    /// The camera captured board `board` at `now`: its verdict is due by `now + timeout`.
    public mutating func triggered(board: Int, now: Double) {
        guard !pulsed.contains(board), deadlines[board] == nil else { return }
        deadlines[board] = now + timeout
    }

    /// The server's verdict for `board` arrived.
    public mutating func verdictArrived(board: Int, signal: GPIOSignal) -> [Action] {
        if pulsed.contains(board) { return [.ignore(board: board, reason: "verdict after the board was already pulsed")] }
        guard deadlines.removeValue(forKey: board) != nil else {
            return [.ignore(board: board, reason: "verdict for a board never triggered")]
        }
        remember(board)
        return [.pulse(board: board, signal: signal, failSafe: false, reason: nil)]
    }

    /// No verdict can come for `board` (request failed, frame dropped): fail safe now.
    public mutating func verdictLost(board: Int, reason: String) -> [Action] {
        guard deadlines.removeValue(forKey: board) != nil else { return [] }
        remember(board)
        return [.pulse(board: board, signal: failSafe, failSafe: true, reason: reason)]
    }

    /// Time passed: boards past their deadline get the fail-safe pulse, oldest first.
    public mutating func tick(now: Double) -> [Action] {
        let due = deadlines.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        return due.map { board, _ in
            deadlines[board] = nil
            remember(board)
            return .pulse(board: board, signal: failSafe, failSafe: true, reason: "no verdict within \(timeout) s")
        }
    }

    /// The client is stopping: every board still waiting gets the fail-safe pulse now.
    public mutating func expireAll(reason: String) -> [Action] {
        let due = deadlines.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        deadlines.removeAll()
        return due.map { board, _ in
            remember(board)
            return .pulse(board: board, signal: failSafe, failSafe: true, reason: reason)
        }
    }

    private mutating func remember(_ board: Int) {
        pulsed.insert(board)
        pulsedOrder.append(board)
        if pulsedOrder.count > Self.memory {
            let forget = pulsedOrder.prefix(pulsedOrder.count - Self.memory)
            pulsed.subtract(forget)
            pulsedOrder.removeFirst(forget.count)
        }
    }
}
