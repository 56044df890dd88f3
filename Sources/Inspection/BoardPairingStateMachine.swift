// Pairs the left and right camera results of one board and decides the board.
//
// The two Raspberry Pis post their frames separately. A board is keyed by the `board_id` the
// cameras send when they know it; otherwise a side is paired with the waiting opposite side
// whose capture time is within `pairingWindow`. When both sides are in, the board is decided
// by the policy's priority over both sides. A side still alone at its deadline yields the
// configured fail-safe verdict, explicitly, never silently dropped. A side that arrives after
// its board was decided, or a second copy of a side (a retry), changes nothing.
//
// Pure: no clocks, no I/O. Callers pass the current time (seconds on a monotonic clock) with
// each event and carry out the returned actions (store the board, send the GPIO signal, log).
// Capture times are only compared with each other, so they may come from the cameras' clocks.

/// Which camera a result comes from.
public enum BoardSide: String, Sendable, Equatable, CaseIterable {
    case left, right

    public var opposite: BoardSide { self == .left ? .right : .left }
}

/// One side's result as the pairing sees it.
public struct SideResult: Sendable, Equatable {
    public var side: BoardSide
    /// The stored inspection of this side.
    public var inspectionId: Int64
    /// The board id sent by the camera, if any.
    public var boardId: String?
    /// Capture time in seconds on the same clock as `now` (used when there is no board id).
    public var captureTime: Double
    public var verdict: SideVerdict

    public init(side: BoardSide, inspectionId: Int64, boardId: String?, captureTime: Double, verdict: SideVerdict) {
        self.side = side
        self.inspectionId = inspectionId
        self.boardId = boardId
        self.captureTime = captureTime
        self.verdict = verdict
    }
}

/// A decided board.
public struct BoardDecision: Sendable, Equatable {
    /// The camera's board id, or a generated `auto-N` key.
    public var boardKey: String
    public var left: SideResult?
    public var right: SideResult?
    /// The board's verdict: priority over both sides (a missing side counts as fail-safe).
    public var verdict: SideVerdict
    /// The side that never arrived, when the verdict is the fail-safe one.
    public var missingSide: BoardSide?

    public var isFailSafe: Bool { missingSide != nil }
}

/// Pairing of left and right results into boards.
public struct BoardPairingStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// Longest capture-time difference of two sides of one board without a board id.
        public var pairingWindow: Double
        /// Longest wait for the second side, from the first side's arrival.
        public var deadline: Double
        /// Boards remembered after their decision, to recognise late and retried sides.
        public var rememberDecided: Int

        public init(pairingWindow: Double = 0.5, deadline: Double = 2.0, rememberDecided: Int = 256) {
            self.pairingWindow = pairingWindow
            self.deadline = deadline
            self.rememberDecided = rememberDecided
        }
    }

    /// What the caller must do.
    public enum Action: Sendable, Equatable {
        /// Store the board and send its GPIO signal (once per board).
        case decide(BoardDecision)
        /// The side was put aside to wait for the other one until `deadline`.
        case wait(boardKey: String, deadline: Double)
        /// A side of an already decided board arrived (late, or a retry): log it, no signal.
        case ignoreLateSide(boardKey: String, side: SideResult)
        /// The same side of a waiting board arrived again: log it, keep the first one.
        case ignoreDuplicateSide(boardKey: String, side: SideResult)
    }

    private struct Waiting: Sendable {
        let key: String
        /// True when `key` is the cameras' board id, false for a generated key: the two never
        /// match each other, whatever a camera sends.
        let keyFromCamera: Bool
        let arrivedAt: Double
        var sides: [BoardSide: SideResult]
    }

    /// A board decided without its second side and without a board id: a late side whose
    /// capture time matches must not start a board of its own.
    private struct FailedWithoutID: Sendable {
        let key: String
        let missing: BoardSide
        let captureTime: Double
    }

    public let configuration: Configuration
    /// Decides boards and the fail-safe; replaced by a policy reload (boards still waiting are
    /// decided by the policy in force when their second side or deadline comes).
    public private(set) var policy: DefectPolicy
    private var waiting: [Waiting] = []
    private var decidedKeys: [String] = []
    private var decidedInspections: Set<Int64> = []
    private var failedWithoutID: [FailedWithoutID] = []
    private var nextAutoKey = 1

    public init(policy: DefectPolicy, configuration: Configuration = Configuration()) {
        self.policy = policy
        self.configuration = configuration
    }

    /// Decides every board from now on with `policy`.
    public mutating func use(policy: DefectPolicy) {
        self.policy = policy
    }

    /// Boards waiting for their second side.
    public var waitingCount: Int { waiting.count }

    /// The earliest deadline among waiting boards: call `tick(now:)` then.
    public var nextDeadline: Double? { waiting.map { $0.arrivedAt + configuration.deadline }.min() }

    /// A side's result arrived at `now`.
    public mutating func sideArrived(_ result: SideResult, now: Double) -> [Action] {
        var actions = tick(now: now)
        if decidedInspections.contains(result.inspectionId) {
            actions.append(.ignoreLateSide(boardKey: result.boardId ?? "unknown", side: result))
            return actions
        }
        if let id = result.boardId, decidedKeys.contains(id) {
            actions.append(.ignoreLateSide(boardKey: id, side: result))
            return actions
        }
        if result.boardId == nil, let late = failedWithoutID.first(where: {
            $0.missing == result.side && abs($0.captureTime - result.captureTime) <= configuration.pairingWindow
        }) {
            actions.append(.ignoreLateSide(boardKey: late.key, side: result))
            return actions
        }
        if let index = partnerIndex(for: result) {
            if waiting[index].sides[result.side] != nil {
                actions.append(.ignoreDuplicateSide(boardKey: waiting[index].key, side: result))
                return actions
            }
            var board = waiting.remove(at: index)
            board.sides[result.side] = result
            actions.append(.decide(decide(board, missing: nil)))
            return actions
        }
        let key = result.boardId ?? nextKey()
        waiting.append(Waiting(key: key, keyFromCamera: result.boardId != nil, arrivedAt: now, sides: [result.side: result]))
        actions.append(.wait(boardKey: key, deadline: now + configuration.deadline))
        return actions
    }

    /// Decides, with the fail-safe verdict, every board whose deadline has passed.
    public mutating func tick(now: Double) -> [Action] {
        var actions: [Action] = []
        while let index = waiting.firstIndex(where: { now >= $0.arrivedAt + configuration.deadline }) {
            let board = waiting.remove(at: index)
            let present = board.sides.keys.first ?? .left
            actions.append(.decide(decide(board, missing: present.opposite)))
        }
        return actions
    }

    /// The waiting board this result completes: the same board id; else the oldest board
    /// missing this side whose capture time is within the window, where at most one of the two
    /// sides carries an id (one camera configured with board ids and the other without still
    /// pairs by time; two different ids never pair).
    private func partnerIndex(for result: SideResult) -> Int? {
        if let id = result.boardId, let index = waiting.firstIndex(where: { $0.keyFromCamera && $0.key == id }) {
            return index
        }
        return waiting.firstIndex { board in
            guard board.sides[result.side] == nil, let other = board.sides[result.side.opposite],
                  other.boardId == nil || result.boardId == nil else { return false }
            return abs(other.captureTime - result.captureTime) <= configuration.pairingWindow
        }
    }

    private mutating func decide(_ board: Waiting, missing: BoardSide?) -> BoardDecision {
        var sides = board.sides.values.map(\.verdict)
        if missing != nil {
            let failSafe = policy.category(policy.failSafeCategory)
            sides.append(SideVerdict(category: failSafe, confidence: 1.0, boxes: []))
        }
        remember(board)
        return BoardDecision(boardKey: board.key, left: board.sides[.left], right: board.sides[.right],
                             verdict: policy.combine(sides), missingSide: missing)
    }

    private mutating func remember(_ board: Waiting) {
        if !board.keyFromCamera, board.sides.count == 1, let present = board.sides.values.first {
            failedWithoutID.append(FailedWithoutID(key: board.key, missing: present.side.opposite, captureTime: present.captureTime))
            if failedWithoutID.count > configuration.rememberDecided { failedWithoutID.removeFirst() }
        }
        guard board.keyFromCamera else {
            for side in board.sides.values { decidedInspections.insert(side.inspectionId) }
            return
        }
        decidedKeys.append(board.key)
        for side in board.sides.values { decidedInspections.insert(side.inspectionId) }
        if decidedKeys.count > configuration.rememberDecided {
            decidedKeys.removeFirst(decidedKeys.count - configuration.rememberDecided)
        }
        if decidedInspections.count > 4 * configuration.rememberDecided {
            decidedInspections.removeAll(keepingCapacity: true)  // old retries are caught by the store's request ids
        }
    }

    private mutating func nextKey() -> String {
        defer { nextAutoKey += 1 }
        return "auto-\(nextAutoKey)"
    }
}
