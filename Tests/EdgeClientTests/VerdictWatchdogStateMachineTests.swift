import Foundation
import Inspection
import Testing
@testable import EdgeClient

@Suite struct VerdictWatchdogStateMachineTests {
    let solder = GPIOSignal(pin: 27, durationMs: 500)
    let discard = GPIOSignal(pin: 22, durationMs: 500)

    @Test func verdictInTimeIsPulsedOnce() {
        var watchdog = VerdictWatchdogStateMachine(timeout: 3, failSafe: discard)
        watchdog.triggered(board: 1, now: 0)
        #expect(watchdog.verdictArrived(board: 1, signal: solder) == [.pulse(board: 1, signal: solder, failSafe: false, reason: nil)])
        // The same verdict again (a retried response) and the deadline passing move nothing.
        #expect(watchdog.verdictArrived(board: 1, signal: solder) == [.ignore(board: 1, reason: "verdict after the board was already pulsed")])
        #expect(watchdog.tick(now: 10).isEmpty)
        #expect(watchdog.pending == 0)
    }

    @Test func silenceFailsSafeAtTheDeadlineAndALateVerdictIsIgnored() {
        var watchdog = VerdictWatchdogStateMachine(timeout: 3, failSafe: discard)
        watchdog.triggered(board: 7, now: 1)
        #expect(watchdog.nextDeadline == 4)
        #expect(watchdog.tick(now: 3.9).isEmpty)
        // Given no verdict by the deadline, when time passes, then the fail-safe pin moves once.
        let actions = watchdog.tick(now: 4)
        #expect(actions.count == 1)
        guard case .pulse(7, discard, true, _) = actions.first else { Issue.record("\(actions)"); return }
        // The verdict that comes later is logged, not pulsed.
        guard case .ignore(7, _) = watchdog.verdictArrived(board: 7, signal: solder).first else { Issue.record("late verdict pulsed"); return }
        #expect(watchdog.tick(now: 100).isEmpty)
    }

    @Test func lostVerdictFailsSafeAtOnceAndOnlyOnce() {
        var watchdog = VerdictWatchdogStateMachine(timeout: 3, failSafe: discard)
        watchdog.triggered(board: 2, now: 0)
        #expect(watchdog.verdictLost(board: 2, reason: "server unreachable") == [.pulse(board: 2, signal: discard, failSafe: true, reason: "server unreachable")])
        #expect(watchdog.verdictLost(board: 2, reason: "again").isEmpty)
        #expect(watchdog.tick(now: 5).isEmpty)
    }

    @Test func untriggeredBoardsMoveNothingAndRetriggeringDoesNotResetTheDeadline() {
        var watchdog = VerdictWatchdogStateMachine(timeout: 2, failSafe: discard)
        guard case .ignore = watchdog.verdictArrived(board: 9, signal: solder).first else { Issue.record("pulsed an unknown board"); return }
        watchdog.triggered(board: 3, now: 0)
        watchdog.triggered(board: 3, now: 1.5)
        #expect(watchdog.nextDeadline == 2)
        // Out of order: board 4's verdict before board 3's deadline; both handled independently.
        watchdog.triggered(board: 4, now: 0.1)
        #expect(watchdog.verdictArrived(board: 4, signal: solder).count == 1)
        let due = watchdog.tick(now: 2.5)
        #expect(due == [.pulse(board: 3, signal: discard, failSafe: true, reason: "no verdict within 2.0 s")])
    }

    @Test func stoppingFailsSafeEveryWaitingBoard() {
        var watchdog = VerdictWatchdogStateMachine(timeout: 3, failSafe: discard)
        watchdog.triggered(board: 1, now: 0)
        watchdog.triggered(board: 2, now: 0.1)
        _ = watchdog.verdictArrived(board: 1, signal: solder)
        #expect(watchdog.expireAll(reason: "stopping") == [.pulse(board: 2, signal: discard, failSafe: true, reason: "stopping")])
        #expect(watchdog.pending == 0 && watchdog.tick(now: 10).isEmpty)
    }

    @Test func hundredBoardsGiveExactlyHundredPulses() {
        var watchdog = VerdictWatchdogStateMachine(timeout: 1, failSafe: discard)
        var pulses: [Int: Int] = [:]
        func count(_ actions: [VerdictWatchdogStateMachine.Action]) {
            for case .pulse(let board, _, _, _) in actions { pulses[board, default: 0] += 1 }
        }
        var rng = SystemRandomNumberGenerator()
        for board in 0..<100 {
            let now = Double(board) * 0.1
            watchdog.triggered(board: board, now: now)
            count(watchdog.tick(now: now))
            switch board % 4 {
            case 0: count(watchdog.verdictArrived(board: board, signal: solder))
            case 1: count(watchdog.verdictLost(board: board, reason: "refused"))
            case 2: break  // silence: the deadline decides
            default:  // a verdict, then a duplicate of it later
                count(watchdog.verdictArrived(board: board, signal: solder))
                count(watchdog.verdictArrived(board: board, signal: Bool.random(using: &rng) ? solder : discard))
            }
        }
        count(watchdog.tick(now: 100))
        #expect(pulses.count == 100)
        #expect(pulses.values.allSatisfy { $0 == 1 })
    }
}

@Suite struct VirtualLineScoreTests {
    @Test func countsPulsesPerBoardAndLatencyFromCapture() throws {
        let policy = try DefectPolicy.load(yaml: String(contentsOfFile: repositoryFile("data/pcb_defects.yaml"), encoding: .utf8))
        let line = VirtualLine(configuration: .init(serverURL: "http://x", boards: 4), policy: policy)
        let boards: [VirtualLine.Board] = [.normal, .solderDefect, .discard, .componentDefect].map {
            VirtualLine.Board(left: [], right: [], truth: $0)
        }
        let gpio = { (code: CategoryCode) in policy.category(code).gpio }
        // Board 0 right; board 1 (solder defect) sent to the normal gate: an escape; board 2 fail-safe (discard, which happens to be right),
        // then a duplicate; board 3 never pulsed.
        let pulses = [
            PulseRecord(board: 0, signal: gpio(.normal), failSafe: false, at: 10.1),
            PulseRecord(board: 1, signal: gpio(.normal), failSafe: false, at: 11.2),
            PulseRecord(board: 2, signal: gpio(.discard), failSafe: true, at: 13.0),
            PulseRecord(board: 2, signal: gpio(.solderDefect), failSafe: false, at: 13.5),
        ]
        let report = line.score(pulses: pulses, boards: boards, captureTime: { 10 + Double($0) })
        #expect(report == VirtualLine.Report(boards: 4, paired: 2, matching_ground_truth: 2, fail_safe: 1, duplicate_pulses: 1,
                                             missing_pulses: 1, latency_p50_ms: 200, latency_p99_ms: 1000,
                                             false_calls: 0, escapes: 1, wrong_category: 0))
        #expect(report.jsonLine.hasPrefix(#"{"boards": 4, "paired": 2, "#))
    }
}
