import Testing
@testable import Inspection

@Suite struct BoardPairingStateMachineTests {
    let policy: DefectPolicy
    init() throws { policy = try DefectPolicy.load(yaml: try shippedPolicyText()) }

    func side(_ s: BoardSide, _ id: Int64, board: String? = nil, at time: Double, _ classes: [String] = []) -> SideResult {
        SideResult(side: s, inspectionId: id, boardId: board, captureTime: time, verdict: policy.judge(classes.map { box($0, 0.9) }))
    }

    func decisions(_ actions: [BoardPairingStateMachine.Action]) -> [BoardDecision] {
        actions.compactMap { if case .decide(let d) = $0 { return d } else { return nil } }
    }

    @Test func bothSidesWithABoardIdAreDecidedByPriority() {
        var machine = BoardPairingStateMachine(policy: policy)
        let first = machine.sideArrived(side(.left, 1, board: "B1", at: 10, ["missing_component"]), now: 10)
        #expect(first == [.wait(boardKey: "B1", deadline: 12)])
        let second = decisions(machine.sideArrived(side(.right, 2, board: "B1", at: 10.1, ["short"]), now: 10.2))
        #expect(second.count == 1)
        #expect(second[0].verdict.category.code == .solderDefect)
        #expect(second[0].left?.inspectionId == 1 && second[0].right?.inspectionId == 2)
        #expect(!second[0].isFailSafe)
        #expect(machine.waitingCount == 0)
    }

    @Test func withoutIdsSidesPairByCaptureTimeWithinTheWindow() {
        var machine = BoardPairingStateMachine(policy: policy, configuration: .init(pairingWindow: 0.3, deadline: 2))
        _ = machine.sideArrived(side(.left, 1, at: 10.0), now: 10.0)
        _ = machine.sideArrived(side(.left, 2, at: 11.0), now: 11.0)
        // The right side of the second board: 0.1 s from board 2, 1.1 s from board 1.
        let decided = decisions(machine.sideArrived(side(.right, 3, at: 11.1, ["damaged_pad"]), now: 11.2))
        #expect(decided.map(\.left?.inspectionId) == [2])
        #expect(decided[0].verdict.category.code == .discard)
        #expect(machine.waitingCount == 1)
    }

    @Test func oneCameraWithIdsAndOneWithoutStillPairByTime() {
        var machine = BoardPairingStateMachine(policy: policy, configuration: .init(pairingWindow: 0.3, deadline: 2))
        // Given the left Pi sends board ids and the right one does not,
        _ = machine.sideArrived(side(.left, 1, board: "B7", at: 10.0), now: 10.0)
        let decided = decisions(machine.sideArrived(side(.right, 2, at: 10.1, ["short"]), now: 10.1))
        // then the sides pair by capture time, and the other way round too.
        #expect(decided.count == 1 && decided[0].left?.inspectionId == 1 && decided[0].right?.inspectionId == 2)
        _ = machine.sideArrived(side(.right, 3, at: 20.0), now: 20.0)
        #expect(decisions(machine.sideArrived(side(.left, 4, board: "B8", at: 20.05), now: 20.1)).count == 1)
        // Two different ids never pair, however close in time.
        _ = machine.sideArrived(side(.left, 5, board: "B9", at: 30.0), now: 30.0)
        #expect(decisions(machine.sideArrived(side(.right, 6, board: "B10", at: 30.0), now: 30.0)).isEmpty)
        #expect(machine.waitingCount == 2)
    }

    @Test func outOfOrderArrivalStillPairs() {
        var machine = BoardPairingStateMachine(policy: policy)
        _ = machine.sideArrived(side(.right, 5, board: "B9", at: 3), now: 3)
        let decided = decisions(machine.sideArrived(side(.left, 4, board: "B9", at: 3), now: 3.5))
        #expect(decided.first?.verdict.category.code == .normal)
        #expect(decided.first?.left?.inspectionId == 4)
    }

    @Test func missingSideGetsTheFailSafeVerdictAtTheDeadline() {
        var machine = BoardPairingStateMachine(policy: policy, configuration: .init(deadline: 2))
        _ = machine.sideArrived(side(.left, 1, board: "B1", at: 0), now: 0)
        #expect(machine.nextDeadline == 2)
        #expect(machine.tick(now: 1.9).isEmpty)
        let decided = decisions(machine.tick(now: 2.0))
        #expect(decided.count == 1)
        #expect(decided[0].missingSide == .right)
        #expect(decided[0].verdict.category.code == .discard)  // the shipped fail-safe
        #expect(decided[0].left?.inspectionId == 1 && decided[0].right == nil)
        #expect(machine.nextDeadline == nil)
    }

    @Test func lateSideAfterFailSafeCreatesNoSecondBoard() {
        var machine = BoardPairingStateMachine(policy: policy, configuration: .init(deadline: 1))
        _ = machine.sideArrived(side(.left, 1, board: "B1", at: 0), now: 0)
        let actions = machine.sideArrived(side(.right, 2, board: "B1", at: 0.1), now: 5)
        #expect(decisions(actions).count == 1)  // the fail-safe of B1, decided by the time check first
        #expect(actions.contains(.ignoreLateSide(boardKey: "B1", side: side(.right, 2, board: "B1", at: 0.1))))
        #expect(machine.waitingCount == 0)
    }

    @Test func retriedSidesNeverDecideTwice() {
        var machine = BoardPairingStateMachine(policy: policy)
        let left = side(.left, 1, board: "B1", at: 0)
        _ = machine.sideArrived(left, now: 0)
        #expect(machine.sideArrived(left, now: 0.1) == [.ignoreDuplicateSide(boardKey: "B1", side: left)])
        #expect(decisions(machine.sideArrived(side(.right, 2, board: "B1", at: 0), now: 0.2)).count == 1)
        // A retry of an already decided side (same inspection) is ignored.
        #expect(decisions(machine.sideArrived(left, now: 0.3)).isEmpty)
        #expect(machine.waitingCount == 0)
    }

    @Test func oneDecisionPerBoardOverALongRun() {
        var machine = BoardPairingStateMachine(policy: policy, configuration: .init(pairingWindow: 0.2, deadline: 1))
        var decided: [BoardDecision] = []
        var id: Int64 = 0
        // 100 boards 0.5 s apart; every 10th board loses its right side.
        for board in 0..<100 {
            let t = Double(board) * 0.5
            id += 1
            decided += decisions(machine.sideArrived(side(.left, id, at: t), now: t))
            if board % 10 != 9 {
                id += 1
                decided += decisions(machine.sideArrived(side(.right, id, at: t + 0.05), now: t + 0.1))
            }
        }
        decided += decisions(machine.tick(now: 1000))
        #expect(decided.count == 100)
        #expect(decided.filter(\.isFailSafe).count == 10)
        #expect(Set(decided.map(\.boardKey)).count == 100)
    }

    @Test func lateSideWithoutIdsDoesNotStartASecondBoard() {
        var machine = BoardPairingStateMachine(policy: policy, configuration: .init(pairingWindow: 0.5, deadline: 2))
        _ = machine.sideArrived(side(.left, 1, at: 0), now: 0)
        // The right side, captured with the left one, arrives after the deadline.
        let actions = machine.sideArrived(side(.right, 2, at: 0.1), now: 2.1)
        #expect(decisions(actions).count == 1)  // the left's fail-safe
        #expect(actions.last == .ignoreLateSide(boardKey: "auto-1", side: side(.right, 2, at: 0.1)))
        #expect(machine.waitingCount == 0)
        #expect(decisions(machine.tick(now: 100)).isEmpty)
    }

    @Test func generatedKeysNeverMatchCameraBoardIds() {
        var machine = BoardPairingStateMachine(policy: policy)
        _ = machine.sideArrived(side(.left, 1, at: 0), now: 0)  // waits as auto-1
        let actions = machine.sideArrived(side(.right, 2, board: "auto-1", at: 5), now: 0.1)
        #expect(decisions(actions).isEmpty)
        #expect(machine.waitingCount == 2)
    }
}
