import Testing
@testable import EdgeClient

@Suite struct CapturePacingStateMachineTests {
    @Test func sendsAtMostFpsFramesASecond() {
        var pacing = CapturePacingStateMachine(configuration: .init(framesPerSecond: 10))
        var sent: [Int] = []
        // A 30 fps camera, a server that answers in 5 ms.
        for frame in 0..<90 {
            let now = Double(frame) / 30
            for action in pacing.tick(now: now) + pacing.frameCaptured(frame, now: now) {
                if case .send(let f) = action {
                    sent.append(f)
                    _ = pacing.requestFinished(.answered, now: now + 0.005)
                }
            }
        }
        #expect(sent.count >= 29 && sent.count <= 31, "\(sent.count) frames in 3 s at 10 fps")
    }

    @Test func slowServerNeverBuildsABacklogNewestWins() {
        var pacing = CapturePacingStateMachine(configuration: .init(framesPerSecond: 10))
        #expect(pacing.frameCaptured(0, now: 0) == [.send(frame: 0)])
        // While frame 0 is in flight for 1 s, frames 1...9 arrive; each replaces the one before.
        var dropped: [Int] = []
        for frame in 1...9 {
            for case .drop(let f) in pacing.frameCaptured(frame, now: Double(frame) / 10) { dropped.append(f) }
        }
        #expect(dropped == Array(1...8))
        // When the slow answer comes, the newest frame goes at once.
        #expect(pacing.requestFinished(.answered, now: 1.0) == [.send(frame: 9)])
    }

    @Test func unreachableServerBacksOffExponentiallyAndRecovers() {
        var pacing = CapturePacingStateMachine(configuration: .init(framesPerSecond: 10, initialBackoff: 0.5, maxBackoff: 4))
        var now = 0.0
        _ = pacing.frameCaptured(0, now: now)
        var pauses: [Double] = []
        for frame in 1...6 {
            _ = pacing.requestFinished(.unreachable, now: now)
            _ = pacing.frameCaptured(frame, now: now)
            let wake = pacing.nextWakeUp!
            pauses.append(wake - now)
            now = wake
            #expect(pacing.tick(now: now) == [.send(frame: frame)])
        }
        #expect(pauses == [0.5, 1, 2, 4, 4, 4])
        #expect(pacing.consecutiveFailures == 6)
        _ = pacing.requestFinished(.answered, now: now)
        #expect(pacing.consecutiveFailures == 0)
        #expect(pacing.frameCaptured(7, now: now + 0.1) == [.send(frame: 7)])
    }

    @Test func busyServerIsGivenItsRetryAfter() {
        var pacing = CapturePacingStateMachine()
        _ = pacing.frameCaptured(0, now: 0)
        _ = pacing.requestFinished(.busy(retryAfter: 1), now: 0.2)
        #expect(pacing.frameCaptured(1, now: 0.5).isEmpty)
        #expect(pacing.nextWakeUp == 1.2)
        #expect(pacing.tick(now: 1.2) == [.send(frame: 1)])
        #expect(pacing.consecutiveFailures == 0)
    }
}
