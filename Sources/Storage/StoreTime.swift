// Timestamps as the store writes them: local time of the configured zone,
// `YYYY-MM-DD HH:MM:SS.ffffff`, the text form of MySQL's DATETIME(6), which sorts by time.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Formats instants as store timestamps in one time zone.
public struct StoreTime: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone = .current) {
        self.timeZone = timeZone
    }

    /// `2026-11-26 16:52:45.768635` in the store's zone.
    public func string(from date: Date) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let shifted = date.timeIntervalSince1970 + Double(offset)
        var whole = shifted.rounded(.down)
        var micros = Int(((shifted - whole) * 1_000_000).rounded())
        if micros >= 1_000_000 { micros -= 1_000_000; whole += 1 }
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
    }

    /// The local day of `date` in the store's zone, `YYYY-MM-DD` (the key of per-day counts).
    public func day(of date: Date) -> String { String(string(from: date).prefix(10)) }

    /// `date` (default now) as ISO-8601 with the zone's offset, as the API writes times.
    public func iso8601(of date: Date = Date()) -> String { iso8601(string(from: date)) }

    /// Converts a store timestamp to ISO-8601 with the zone's offset, for the API:
    /// `2026-11-26 16:52:45.768635` -> `2026-11-26T16:52:45.768635+09:00`.
    public func iso8601(_ stored: String) -> String {
        guard stored.count >= 19 else { return stored }
        let isoLocal = stored.replacingOccurrences(of: " ", with: "T")
        // The wall time read as if it were UTC is off by the zone's offset; correct once with the
        // offset found there, then take the offset at the corrected instant (exact except in the
        // hour a daylight-saving change skips or repeats).
        let asUTC = Self.approximateDate(stored) ?? Date()
        let firstGuess = timeZone.secondsFromGMT(for: asUTC)
        let offset = timeZone.secondsFromGMT(for: asUTC.addingTimeInterval(-Double(firstGuess)))
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return isoLocal + String(format: "%@%02d:%02d", sign, magnitude / 3600, (magnitude % 3600) / 60)
    }

    private static func approximateDate(_ stored: String) -> Date? {
        let digits = stored.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard digits.count >= 6 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(digits[0] - 1900)
        parts.tm_mon = Int32(digits[1] - 1)
        parts.tm_mday = Int32(digits[2])
        parts.tm_hour = Int32(digits[3])
        parts.tm_min = Int32(digits[4])
        parts.tm_sec = Int32(digits[5])
        return Date(timeIntervalSince1970: Double(timegm(&parts)))
    }
}
