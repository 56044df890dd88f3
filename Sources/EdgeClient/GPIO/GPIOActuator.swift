// The sorter's gate pins, driven by the left Raspberry Pi: a pulse sets a pin HIGH for its
// duration (the policy's GPIO table), then LOW. A pulse on a pin that is already HIGH extends
// it to the later end. Two implementations: `LinuxGPIOActuator` (the GPIO character device)
// and `DryRunActuator` (logs and records, for laptops and the virtual line).

import Inspection
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One pulse as it was carried out.
public struct PulseRecord: Sendable, Equatable {
    /// The board (camera frame sequence number) the pulse is for.
    public var board: Int
    public var signal: GPIOSignal
    public var failSafe: Bool
    /// Seconds on the client's monotonic clock (`MonotonicClock.now`) when the pin went HIGH.
    public var at: Double

    public init(board: Int, signal: GPIOSignal, failSafe: Bool, at: Double) {
        self.board = board
        self.signal = signal
        self.failSafe = failSafe
        self.at = at
    }
}

/// Drives the gate pins.
public protocol GPIOActuator: Sendable {
    /// Sets `signal.pin` HIGH now and LOW after `signal.durationMs`; returns when it is HIGH.
    func pulse(_ signal: GPIOSignal, board: Int, failSafe: Bool) async throws(GPIOError)
    /// Every pin LOW, lines released. Called once on exit.
    func shutdown() async
}

/// The pins of every category in a policy: what an actuator must be able to drive.
extension DefectPolicy {
    public var gpioPins: [Int] {
        Array(Set(categoriesByPriority.map(\.gpio.pin))).sorted()
    }
}

/// Errors of the GPIO side, with errno where the kernel refused.
public struct GPIOError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func system(_ what: String, code: Int32) -> GPIOError {
        GPIOError("\(what): \(String(cString: strerror(code))) (errno \(code))")
    }
    static func unknownPin(_ pin: Int) -> GPIOError {
        GPIOError("pin \(pin) is not one of the policy's GPIO pins")
    }
}
