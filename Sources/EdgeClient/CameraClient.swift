// One camera of the line (`pcb camera`): frames from a source, paced by
// `CapturePacingStateMachine`, posted by `FrameUploader`; on the left Pi, board verdicts drive
// the gate pins through `VerdictWatchdogStateMachine` (exactly one pulse per board, fail-safe
// when no verdict comes). This actor is the thin I/O layer: it owns the two state machines and
// carries out their actions.

import Foundation
import Inspection
import Logging

/// Runs one camera until its source ends or the task is cancelled.
public actor CameraClient {
    public struct Configuration: Sendable {
        public var cameraId: String
        /// Frames sent per second at most (the seed's `--fps`).
        public var fps: Double
        /// Ask the server to hold the response until the board is decided (the left Pi).
        public var waitForBoard: Bool
        /// Every captured frame is a board (a triggered line, the virtual line): a frame that is
        /// skipped still gets a (fail-safe) pulse. Off for free-running capture, where only the
        /// frames actually sent are boards.
        public var everyFrameIsABoard: Bool
        /// Seconds a board may wait for its verdict before the fail-safe pulse.
        public var verdictTimeout: Double

        public init(cameraId: String, fps: Double = 10, waitForBoard: Bool = false, everyFrameIsABoard: Bool = false,
                    verdictTimeout: Double = 3) {
            self.cameraId = cameraId
            self.fps = fps
            self.waitForBoard = waitForBoard
            self.everyFrameIsABoard = everyFrameIsABoard
            self.verdictTimeout = verdictTimeout
        }
    }

    /// Counters for logs and the virtual line.
    public struct Statistics: Sendable, Equatable {
        public var captured = 0
        public var sent = 0
        public var skipped = 0
        public var inspected = 0
        public var refused = 0
        public var busy = 0
        public var unreachable = 0
        public var pulses = 0
        public var failSafePulses = 0
        public var lateVerdicts = 0
    }

    private let configuration: Configuration
    private let source: any FrameSource
    private let uploader: FrameUploader
    private let actuator: (any GPIOActuator)?
    private let logger: Logger
    private let clock = MonotonicClock()
    private var pacing: CapturePacingStateMachine
    private var watchdog: VerdictWatchdogStateMachine?
    private var held: [Int: CapturedFrame] = [:]
    private var inFlight = 0
    private let runId = UUID().uuidString.prefix(8).lowercased()
    public private(set) var statistics = Statistics()

    /// - Parameters:
    ///   - actuator: the gate pins (left Pi only); nil on the right Pi.
    ///   - failSafe: the pulse for boards without a verdict (the policy's fail-safe category).
    public init(configuration: Configuration, source: any FrameSource, uploader: FrameUploader,
                actuator: (any GPIOActuator)?, failSafe: GPIOSignal, logger: Logger) {
        self.configuration = configuration
        self.source = source
        self.uploader = uploader
        self.actuator = actuator
        self.logger = logger
        pacing = CapturePacingStateMachine(configuration: .init(framesPerSecond: configuration.fps))
        if actuator != nil {
            watchdog = VerdictWatchdogStateMachine(timeout: configuration.verdictTimeout, failSafe: failSafe)
        }
    }

    /// Captures and sends until the source ends (then waits for the last answers and pulses) or
    /// the calling task is cancelled. Throws when the source fails (a camera unplugged).
    public func run() async throws {
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                await self?.tick()
            }
        }
        defer { ticker.cancel() }
        do {
            for try await frame in source.frames() {
                try Task.checkCancellation()
                captured(frame)
            }
            // The source is done: let what is in flight, held or awaited finish.
            while inFlight > 0 || !held.isEmpty || (watchdog?.pending ?? 0) > 0 {
                try Task.checkCancellation()
                try await Task.sleep(for: .milliseconds(5))
            }
        } catch {
            // Stopped (camera failed, service stopped): boards still waiting get their
            // fail-safe pulse now; none is left unjudged.
            await failSafeEverythingPending(reason: "camera client stopping: \(error)")
            throw error
        }
    }

    private func failSafeEverythingPending(reason: String) async {
        guard var watchdog, let actuator else { return }
        let actions = watchdog.expireAll(reason: reason)
        self.watchdog = watchdog
        for case .pulse(let board, let signal, let failSafe, _) in actions {
            statistics.pulses += 1
            statistics.failSafePulses += 1
            logger.warning("\(configuration.cameraId) #\(board): fail-safe pulse on pin \(signal.pin): \(reason)")
            try? await actuator.pulse(signal, board: board, failSafe: failSafe)
        }
    }

    private var lastSequence: Int?

    private func captured(_ frame: CapturedFrame) {
        // A triggered board whose frame the stream dropped before it reached us still fails safe.
        if configuration.everyFrameIsABoard, let last = lastSequence, frame.sequence > last + 1 {
            for missing in (last + 1)..<frame.sequence {
                watchdog?.triggered(board: missing, now: frame.capturedAt)
                if let actions = watchdog?.verdictLost(board: missing, reason: "frame lost before it could be sent") { carryOut(actions) }
            }
        }
        lastSequence = max(lastSequence ?? frame.sequence, frame.sequence)
        statistics.captured += 1
        held[frame.sequence] = frame
        if configuration.everyFrameIsABoard { watchdog?.triggered(board: frame.sequence, now: frame.capturedAt) }
        perform(pacing.frameCaptured(frame.sequence, now: clock.now))
    }

    private func tick() {
        let now = clock.now
        perform(pacing.tick(now: now))
        if let actions = watchdog?.tick(now: now) { carryOut(actions) }
    }

    private func perform(_ actions: [CapturePacingStateMachine.Action]) {
        for action in actions {
            switch action {
            case .drop(let sequence):
                held[sequence] = nil
                statistics.skipped += 1
                if configuration.everyFrameIsABoard, let actions = watchdog?.verdictLost(board: sequence, reason: "frame skipped: the server is slow or away") {
                    carryOut(actions)
                }
            case .send(let sequence):
                guard let frame = held.removeValue(forKey: sequence) else { continue }
                statistics.sent += 1
                inFlight += 1
                if !configuration.everyFrameIsABoard { watchdog?.triggered(board: sequence, now: frame.capturedAt) }
                let requestId = "\(configuration.cameraId)-\(runId)-\(sequence)"
                let uploader = uploader, wait = configuration.waitForBoard
                let clock = clock
                Task.detached {
                    let started = clock.now
                    let result = await uploader.post(frame, requestId: requestId, waitForBoard: wait)
                    await self.finished(sequence, result, seconds: clock.now - started)
                }
            }
        }
    }

    private func finished(_ sequence: Int, _ result: UploadResult, seconds: Double) {
        inFlight -= 1
        let ms = Int((seconds * 1000).rounded())
        var lost: String? = nil
        switch result {
        case .inspected(let reply):
            statistics.inspected += 1
            let board = reply.board.map { " board \($0.board_key): \($0.final_defect_type) (\($0.final_category))\($0.fail_safe ? " fail-safe" : "")" } ?? ""
            logger.info("\(configuration.cameraId) #\(sequence): \(reply.defect_type) \(String(format: "%.2f", reply.confidence)) in \(ms) ms\(board)")
            if let board = reply.board {
                if let actions = watchdog?.verdictArrived(board: sequence, signal: board.gpio_signal.gpio) { carryOut(actions) }
            } else if !configuration.waitForBoard {
                // Without board pairing the frame's own verdict is the board's (the seed's behaviour).
                if let actions = watchdog?.verdictArrived(board: sequence, signal: reply.gpio_signal.gpio) { carryOut(actions) }
            } else {
                lost = "the answer carried no board verdict"
            }
        case .refused(let status, let message):
            statistics.refused += 1
            logger.error("\(configuration.cameraId) #\(sequence): server refused the frame (\(status)): \(message)")
            lost = "server refused the frame (\(status))"
        case .busy(let status, let retryAfter, let message):
            statistics.busy += 1
            logger.warning("\(configuration.cameraId) #\(sequence): server busy (\(status)\(retryAfter.map { ", retry after \($0) s" } ?? "")): \(message)")
            lost = "server busy (\(status))"
        case .unreachable(let why):
            statistics.unreachable += 1
            let pause = pacing.consecutiveFailures
            logger.warning("\(configuration.cameraId) #\(sequence): server unreachable (\(why)); failures in a row: \(pause + 1)")
            lost = "server unreachable"
        }
        if let lost, let actions = watchdog?.verdictLost(board: sequence, reason: lost) { carryOut(actions) }
        perform(pacing.requestFinished(result.pacingOutcome, now: clock.now))
    }

    private func carryOut(_ actions: [VerdictWatchdogStateMachine.Action]) {
        guard let actuator else { return }
        for action in actions {
            switch action {
            case .pulse(let board, let signal, let failSafe, let reason):
                statistics.pulses += 1
                if failSafe {
                    statistics.failSafePulses += 1
                    logger.warning("\(configuration.cameraId) #\(board): fail-safe pulse on pin \(signal.pin): \(reason ?? "no verdict")")
                }
                Task {
                    do { try await actuator.pulse(signal, board: board, failSafe: failSafe) } catch {
                        self.logger.error("GPIO pulse for board \(board) failed: \(error)")
                    }
                }
            case .ignore(let board, let reason):
                statistics.lateVerdicts += 1
                logger.warning("\(configuration.cameraId) #\(board): \(reason)")
            }
        }
    }
}
