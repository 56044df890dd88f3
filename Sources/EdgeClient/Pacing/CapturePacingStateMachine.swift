// When the camera client sends a frame: at most `fps` frames a second, one request in flight,
// and never a backlog. Capture never waits for the server: while a request is in flight the
// newest frame is held (older held frames are dropped: newest wins) and sent when the request
// ends. When the server is unreachable, sending pauses with exponential backoff and resumes
// with the newest frame once the pause is over.
//
// Pure: callers pass the time (seconds, monotonic) and carry out the returned actions
// (encode and post a frame, drop one, log). The I/O layer lives beside it (camera sources,
// HTTP uploader); this file has none.

/// Pacing and reconnect decisions of one camera client.
public struct CapturePacingStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// Frames sent per second at most (the seed's `--fps`, default 10).
        public var framesPerSecond: Double
        /// First pause after a failed request, doubled on each failure up to `maxBackoff`.
        public var initialBackoff: Double
        public var maxBackoff: Double

        public init(framesPerSecond: Double = 10, initialBackoff: Double = 0.5, maxBackoff: Double = 30) {
            self.framesPerSecond = framesPerSecond
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }
    }

    /// What the caller must do.
    public enum Action: Sendable, Equatable {
        /// Encode and post this frame now.
        case send(frame: Int)
        /// This frame will not be sent (a newer one replaced it, or it came too soon).
        case drop(frame: Int)
    }

    /// How a request ended.
    public enum Outcome: Sendable, Equatable {
        /// The server answered (any status it chose, including 4xx: the frame was seen).
        case answered
        /// The server answered 503 or 429: busy, retry after the given seconds if any.
        case busy(retryAfter: Double?)
        /// No answer: connection refused, reset, or timed out.
        case unreachable
    }

    public let configuration: Configuration
    private var inFlight: Int?
    private var held: Int?
    private var lastSendAt: Double = -.infinity
    private var pausedUntil: Double = -.infinity
    private var failures = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Seconds between two sends.
    public var interval: Double { 1 / max(0.001, configuration.framesPerSecond) }
    /// Failed requests in a row.
    public var consecutiveFailures: Int { failures }
    /// When the next held frame may go, if one waits for the clock (call `tick` then).
    public var nextWakeUp: Double? {
        guard held != nil, inFlight == nil else { return nil }
        return max(pausedUntil, lastSendAt + interval)
    }

    /// The camera produced frame `frame` at `now`.
    public mutating func frameCaptured(_ frame: Int, now: Double) -> [Action] {
        var actions: [Action] = []
        if let older = held { actions.append(.drop(frame: older)) }
        held = frame
        actions += sendIfPossible(now: now)
        return actions
    }

    /// The request of the frame in flight ended at `now`.
    public mutating func requestFinished(_ outcome: Outcome, now: Double) -> [Action] {
        inFlight = nil
        switch outcome {
        case .answered:
            failures = 0
            pausedUntil = -.infinity
        case .busy(let retryAfter):
            failures = 0
            pausedUntil = now + (retryAfter ?? configuration.initialBackoff)
        case .unreachable:
            failures += 1
            let pause = min(configuration.maxBackoff, configuration.initialBackoff * Double(1 << min(failures - 1, 30)))
            pausedUntil = now + pause
        }
        return sendIfPossible(now: now)
    }

    /// Time passed: sends the held frame if its moment has come.
    public mutating func tick(now: Double) -> [Action] {
        sendIfPossible(now: now)
    }

    /// Capture times jitter and float sums round: a frame due "at" the next slot may be stamped
    /// a hair early. Without this slack a 30 fps camera paced to 10 fps would send only 7.5.
    private static let slack = 0.001

    private mutating func sendIfPossible(now: Double) -> [Action] {
        guard inFlight == nil, let frame = held, now >= pausedUntil,
              now + Self.slack >= lastSendAt + interval else { return [] }
        held = nil
        inFlight = frame
        lastSendAt = now
        return [.send(frame: frame)]
    }
}
