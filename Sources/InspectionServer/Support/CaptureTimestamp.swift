// Parses the capture time a camera sends. The seed's client sends Python's
// `datetime.now().isoformat()`: local time, microseconds, no offset
// (`2026-11-26T16:52:45.768635`). An offset (`Z`, `+09:00`, `+0900`) is accepted too.

import Foundation

/// ISO-8601 capture timestamps, strictly checked.
enum CaptureTimestamp {
    /// The instant, or nil when the text is not an ISO-8601 date-time. Without an offset the
    /// time is taken in `localZone` (the camera and server share the factory's zone).
    static func parse(_ text: String, localZone: TimeZone = .current) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes.count <= 40 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                let b = bytes[i]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard let year = number(0..<4), bytes[4] == 45, let month = number(5..<7), bytes[7] == 45, let day = number(8..<10),
              bytes[10] == 84 || bytes[10] == 32 || bytes[10] == 116,
              let hour = number(11..<13), bytes[13] == 58, let minute = number(14..<16), bytes[16] == 58,
              let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60  // Python never writes a leap second
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 46 || bytes[index] == 44 {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
        }
        var offsetSeconds: Int? = nil
        if index < bytes.count {
            let sign = bytes[index]
            if sign == 90 || sign == 122 {  // Z
                guard index + 1 == bytes.count else { return nil }
                offsetSeconds = 0
            } else if sign == 43 || sign == 45 {
                let rest = bytes.count - index - 1
                let hours: Int?, minutes: Int?
                if rest == 5, bytes[index + 3] == 58 {
                    hours = number((index + 1)..<(index + 3)); minutes = number((index + 4)..<(index + 6))
                } else if rest == 4 {
                    hours = number((index + 1)..<(index + 3)); minutes = number((index + 3)..<(index + 5))
                } else if rest == 2 {
                    hours = number((index + 1)..<(index + 3)); minutes = 0
                } else { return nil }
                guard let hours, let minutes, hours < 24, minutes < 60 else { return nil }
                offsetSeconds = (hours * 3600 + minutes * 60) * (sign == 45 ? -1 : 1)
            } else {
                return nil
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = offsetSeconds.flatMap { TimeZone(secondsFromGMT: $0) } ?? localZone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        // Calendar rolls impossible dates over (Feb 30 -> Mar 2): the day must survive.
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(fraction)
    }
}
