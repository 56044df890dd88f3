// `--gpio dry-run`: no hardware. Each pulse is logged and recorded (the virtual line reads the
// record to check one pulse per board).

import Inspection
import Logging

/// An actuator that only logs and remembers its pulses.
public actor DryRunActuator: GPIOActuator {
    private let logger: Logger
    private let clock: MonotonicClock
    /// Every pulse so far, in order.
    public private(set) var pulses: [PulseRecord] = []

    public init(logger: Logger, clock: MonotonicClock = MonotonicClock()) {
        self.logger = logger
        self.clock = clock
    }

    public func pulse(_ signal: GPIOSignal, board: Int, failSafe: Bool) async throws(GPIOError) {
        pulses.append(PulseRecord(board: board, signal: signal, failSafe: failSafe, at: clock.now))
        logger.info("GPIO dry-run: pin \(signal.pin) HIGH for \(signal.durationMs) ms (board \(board)\(failSafe ? ", fail-safe" : ""))")
    }

    public func shutdown() async {}
}
