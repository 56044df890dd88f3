// The gate pins through the Linux GPIO character device (`/dev/gpiochipN`, v2 uAPI; on a
// Raspberry Pi the BCM numbers are the line offsets of the main chip: gpiochip0 on a Pi 4,
// gpiochip4 on a Pi 5 before kernel 6.6.45, gpiochip0 after). All policy pins are requested at
// start as outputs driven LOW and held until exit, when they are driven LOW and released.

import CLinuxIO
import Inspection
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Pulses GPIO lines of one chip.
public actor LinuxGPIOActuator: GPIOActuator {
    private let chipPath: String
    private var requestFD: Int32
    private let bitOfPin: [Int: Int]
    /// When each HIGH pin goes LOW (monotonic seconds).
    private var highUntil: [Int: Double] = [:]
    private let clock: MonotonicClock
    private let logger: Logger

    /// Requests `pins` of `chipPath` as outputs, all LOW.
    public init(chipPath: String, pins: [Int], logger: Logger, clock: MonotonicClock = MonotonicClock()) throws(GPIOError) {
        let unique = Array(Set(pins)).sorted()
        guard !unique.isEmpty, unique.count <= Int(clinuxio_gpio_lines_max()) else {
            throw GPIOError("a line request holds 1 to \(clinuxio_gpio_lines_max()) pins, not \(unique.count)")
        }
        guard unique.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else { throw GPIOError("pin numbers must be 0...65535") }
        let chip = open(chipPath, O_RDWR | O_CLOEXEC)
        guard chip >= 0 else { throw GPIOError.system("cannot open \(chipPath)", code: errno) }
        defer { close(chip) }  // the line request keeps its own descriptor
        let offsets = unique.map { UInt32($0) }
        let fd = offsets.withUnsafeBufferPointer {
            clinuxio_gpio_request_outputs(chip, $0.baseAddress, UInt32($0.count), "pcb-camera")
        }
        guard fd >= 0 else { throw GPIOError.system("cannot request pins \(unique) of \(chipPath) as outputs", code: -fd) }
        self.chipPath = chipPath
        self.requestFD = fd
        self.bitOfPin = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
        self.clock = clock
        self.logger = logger
    }

    public func pulse(_ signal: GPIOSignal, board: Int, failSafe: Bool) async throws(GPIOError) {
        guard let bit = bitOfPin[signal.pin] else { throw .unknownPin(signal.pin) }
        try set(bit: bit, high: true)
        let end = clock.now + Double(signal.durationMs) / 1000
        highUntil[signal.pin] = max(highUntil[signal.pin] ?? 0, end)
        logger.info("GPIO: pin \(signal.pin) HIGH for \(signal.durationMs) ms (board \(board)\(failSafe ? ", fail-safe" : ""))")
        Task { await self.lowerWhenDue(pin: signal.pin, bit: bit) }
    }

    public func shutdown() async {
        guard requestFD >= 0 else { return }
        let all = bitOfPin.count == 64 ? UInt64.max : (UInt64(1) << UInt64(bitOfPin.count)) - 1
        _ = clinuxio_gpio_set_values(requestFD, 0, all)
        close(requestFD)
        requestFD = -1
        highUntil.removeAll()
    }

    private func lowerWhenDue(pin: Int, bit: Int) async {
        while let end = highUntil[pin] {
            let wait = end - clock.now
            if wait <= 0 {
                highUntil[pin] = nil
                do { try set(bit: bit, high: false) } catch {
                    logger.error("GPIO: cannot drive pin \(pin) LOW: \(error)")
                }
                return
            }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
        }
    }

    private func set(bit: Int, high: Bool) throws(GPIOError) {
        guard requestFD >= 0 else { throw GPIOError("\(chipPath): lines already released") }
        let mask = UInt64(1) << UInt64(bit)
        let r = clinuxio_gpio_set_values(requestFD, high ? mask : 0, mask)
        if r < 0 { throw GPIOError.system("cannot set a line of \(chipPath)", code: -r) }
    }
}
