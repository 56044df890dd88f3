// Board pairing on the server: feeds each stored side into the pure
// `BoardPairingStateMachine`, carries out its actions (store the board, log late or retried
// sides) and answers requests that wait for their board's verdict.
//
// The left Raspberry Pi learns a board's verdict in the response of its own /predict: when
// the right side is already in, the board is decided at once; with `wait_for_board: true`
// the response is held until the right side arrives or the pairing deadline passes (then the
// fail-safe verdict), never longer. A `Service` ticks the deadlines.

import Foundation
import Inspection
import Logging
import ServiceLifecycle
import Storage

/// A decided board, and its stored record (nil when the database refused it: the verdict
/// still goes to the sorter, a fail-safe board must never wait on a database).
public struct DecidedBoard: Sendable {
    public var stored: StoredBoard?
    public var decision: BoardDecision
}

/// What became of an arriving side.
public enum PairingOutcome: Sendable {
    /// Its board is decided and stored.
    case decided(DecidedBoard)
    /// It waits for the other side until the deadline.
    case waiting
    /// A late or repeated side: no board, no verdict.
    case ignored
}

/// Pairs sides into boards, stores each board once, and wakes requests waiting for a board.
public actor BoardPairingService: Service {
    private var machine: BoardPairingStateMachine
    private let store: any InspectionStore
    private let logger: Logger
    /// Requests waiting for the board of an inspection id.
    private var waiters: [Int64: [CheckedContinuation<DecidedBoard?, Never>]] = [:]
    /// Boards decided recently, by inspection id, for waiters that arrive after the decision.
    private var recent: [Int64: DecidedBoard] = [:]
    private var recentOrder: [Int64] = []

    private let metrics: ServerMetrics?
    private let live: LiveFeed?
    private var provenance: Provenance?

    public init(policy: DefectPolicy, configuration: BoardPairingStateMachine.Configuration, store: any InspectionStore,
                metrics: ServerMetrics? = nil, live: LiveFeed? = nil, provenance: Provenance? = nil, logger: Logger) {
        machine = BoardPairingStateMachine(policy: policy, configuration: configuration)
        self.provenance = provenance
        self.store = store
        self.metrics = metrics
        self.live = live
        self.logger = logger
    }

    private static let origin = ContinuousClock.now

    /// What the boards decided from now on are recorded as judged by (a model reload).
    func use(provenance: Provenance?) {
        self.provenance = provenance
    }

    /// The policy boards are decided by from now on (a policy reload).
    func use(policy: DefectPolicy) {
        machine.use(policy: policy)
    }

    /// Seconds on the monotonic clock of the pairing deadlines (immune to clock steps).
    nonisolated static func now() -> Double {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// A side was stored: pairs it and says what became of it.
    public func sideArrived(_ side: SideResult) async -> PairingOutcome {
        let actions = machine.sideArrived(side, now: Self.now())
        await carryOut(actions)
        if let board = recent[side.inspectionId] { return .decided(board) }
        if case .wait = actions.last { return .waiting }
        return .ignored
    }

    /// Waits for the board of a side that is `.waiting`: it is decided when the other side
    /// arrives or, at the latest, at the pairing deadline.
    public func board(of inspectionId: Int64) async -> DecidedBoard? {
        if let decided = recent[inspectionId] { return decided }
        return await withCheckedContinuation { continuation in
            waiters[inspectionId, default: []].append(continuation)
        }
    }

    /// The stored record of a recently decided board of `inspectionId`; when the database
    /// refused it at the decision, stores it now (a retried request). nil when the board is
    /// not among the recent ones or still cannot be stored.
    public func storedBoard(of inspectionId: Int64) async -> StoredBoard? {
        guard let decided = recent[inspectionId] else { return nil }
        if let stored = decided.stored { return stored }
        guard let stored = try? await save(decided.decision) else { return nil }
        for id in [decided.decision.left?.inspectionId, decided.decision.right?.inspectionId].compactMap({ $0 }) {
            recent[id]?.stored = stored
        }
        return stored
    }

    /// Decides the boards whose deadline has passed.
    public func tick() async {
        await carryOut(machine.tick(now: Self.now()))
    }

    /// Ticks deadlines every 50 ms until graceful shutdown, then decides what is left.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(50))
            await tick()
        }
        await carryOut(machine.tick(now: .infinity))
    }

    private func carryOut(_ actions: [BoardPairingStateMachine.Action]) async {
        for action in actions {
            switch action {
            case .decide(let decision):
                await store(decision)
            case .wait:
                break
            case .ignoreLateSide(let key, let side):
                logger.warning("side arrived after its board was decided; no second verdict",
                               metadata: ["board": "\(key)", "side": "\(side.side.rawValue)", "inspection": "\(side.inspectionId)"])
            case .ignoreDuplicateSide(let key, let side):
                logger.warning("same side of a waiting board arrived twice; keeping the first",
                               metadata: ["board": "\(key)", "side": "\(side.side.rawValue)", "inspection": "\(side.inspectionId)"])
            }
        }
    }

    private func store(_ decision: BoardDecision) async {
        let verdict = decision.verdict
        metrics?.board(category: verdict.category.code.rawValue, failSafe: decision.isFailSafe)
        let note = Self.note(decision)
        do {
            let stored = try await save(decision)
            if let missing = decision.missingSide {
                logger.warning("board decided fail-safe", metadata: [
                    "board": "\(decision.boardKey)", "missing": "\(missing.rawValue)", "category": "\(verdict.category.code.rawValue)"])
                try? await self.store.appendLog(SystemLogEntry(
                    level: "WARNING", source: "pairing", message: "board \(decision.boardKey): \(note ?? "fail-safe")"))
            }
            finish(DecidedBoard(stored: stored, decision: decision))
        } catch {
            // The verdict still reaches the sorter; only the record is missing.
            logger.error("could not store board \(decision.boardKey): \(error)")
            finish(DecidedBoard(stored: nil, decision: decision))
        }
    }

    private func save(_ decision: BoardDecision) async throws -> StoredBoard {
        let verdict = decision.verdict
        var board = NewBoard(
            boardKey: decision.boardKey, category: verdict.category.code, defectType: verdict.category.label,
            confidence: verdict.confidence, gpio: verdict.category.gpio, decidedAt: Date(),
            leftInspectionId: decision.left?.inspectionId, rightInspectionId: decision.right?.inspectionId,
            failSafe: decision.isFailSafe, note: Self.note(decision))
        board.provenance = provenance
        return try await store.saveBoard(board)
    }

    private static func note(_ decision: BoardDecision) -> String? {
        decision.missingSide.map { "\($0.rawValue) side missing at the pairing deadline: fail-safe verdict" }
    }

    private func finish(_ board: DecidedBoard) {
        let decision = board.decision
        live?.boardDecided(LiveBoard.Decision(
            boardId: board.stored?.id, boardKey: decision.boardKey, category: decision.verdict.category, failSafe: decision.isFailSafe,
            missingSide: decision.missingSide?.rawValue, leftInspectionId: decision.left?.inspectionId,
            rightInspectionId: decision.right?.inspectionId))
        for id in [board.decision.left?.inspectionId, board.decision.right?.inspectionId].compactMap({ $0 }) {
            recent[id] = board
            recentOrder.append(id)
            for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: board) }
        }
        if recentOrder.count > 1024 {
            for id in recentOrder.prefix(recentOrder.count - 1024) { recent.removeValue(forKey: id) }
            recentOrder.removeFirst(recentOrder.count - 1024)
        }
    }
}
