// Seconds since an arbitrary start, never going back (CLOCK_MONOTONIC): pacing, deadlines and
// latencies are measured on it, never on the wall clock, which NTP may step.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The camera client's clock.
public struct MonotonicClock: Sendable {
    public init() {}

    public var now: Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
