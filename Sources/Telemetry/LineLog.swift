// The log of every `pcb` process (server, camera, virtual line): each line to standard output
// and, for the server, to a rotating file (`<data_dir>/logs/server.log`, 10 MB x 5 as in the
// seed: server.log.1 ... server.log.5).
//
// Logging must never stop the process: a full disk, a closed pipe or a removed log folder only
// drops lines (counted in `LogWriteFailures`), because a line server that dies for want of a
// log line loses boards. Writes therefore go through POSIX `write(2)`, whose errors are
// returned, not Foundation's `FileHandle.write`, which traps on them.

import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines that could not be written, process-wide (shown in `/metrics`).
public enum LogWriteFailures {
    private static let count = Atomic<Int>(0)

    /// Lines dropped since the process started.
    public static var dropped: Int { count.load(ordering: .relaxed) }

    static func record() { count.add(1, ordering: .relaxed) }
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes; false on any error.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var written = 0
        while written < buffer.count {
            let result = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += result
        }
        return true
    }
}

/// A size-rotated log file shared by all loggers of the process.
public final class RotatingLogFile: Sendable {
    private struct State {
        var fd: Int32
        var size: Int
    }

    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private let state: Mutex<State>

    /// Opens (appending) or creates the file and its folder.
    public init(path: String, maxBytes: Int = 10_000_000, keep: Int = 5) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = Self.openForAppend(path)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        var status = stat()
        let size = fstat(fd, &status) == 0 ? Int(status.st_size) : 0
        state = Mutex(State(fd: fd, size: size))
    }

    deinit {
        state.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    /// Appends one line, rotating first when it would pass `maxBytes`; a line that cannot be
    /// written is dropped and counted.
    public func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        state.withLock { state in
            if state.size + bytes.count > maxBytes && state.size > 0 { rotate(&state) }
            // Reopened here after a failed rotation or a removed folder, so logging resumes by itself.
            if state.fd < 0 { state.fd = Self.openForAppend(path) }
            guard state.fd >= 0, writeAll(state.fd, bytes) else {
                LogWriteFailures.record()
                return
            }
            state.size += bytes.count
        }
    }

    private static func openForAppend(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    }

    private func rotate(_ state: inout State) {
        if state.fd >= 0 { close(state.fd) }
        let files = FileManager.default
        try? files.removeItem(atPath: "\(path).\(keep)")
        if keep > 1 {
            for index in stride(from: keep - 1, through: 1, by: -1) where files.fileExists(atPath: "\(path).\(index)") {
                try? files.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
            }
        }
        try? files.moveItem(atPath: path, toPath: "\(path).1")
        state.fd = Self.openForAppend(path)
        state.size = 0
    }
}

/// A swift-log handler writing `2026-11-26T16:52:45.768+09:00 INFO label: message key=value`
/// to standard output and, when given, to a rotating file.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let file: RotatingLogFile?

    public init(label: String, level: Logger.Level, file: RotatingLogFile?) {
        self.label = label
        self.logLevel = level
        self.file = file
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // One event is one line: a client's CR/LF in a board id must not forge a second entry.
        let line = LogText.escaped("\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(label): \(event.message)\(fields)")
        // Written and flushed per line: stdout is fully buffered when it is a pipe (systemd,
        // docker, tests), and a log that arrives minutes late is no log.
        let written = Self.standardOutput.withLock { _ in writeAll(STDOUT_FILENO, Array((line + "\n").utf8)) }
        if !written { LogWriteFailures.record() }
        file?.write(line)
    }

    private static let standardOutput = Mutex(())

    /// Made once: a formatter per line cost more than the rest of the line.
    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .current)

    private static func timestamp() -> String { Date().formatted(timestampStyle) }
}

/// Text from clients made safe for one log line.
public enum LogText {
    /// `text` with control characters (CR, LF, tab, ESC, DEL, ...) written as `\n`, `\r`,
    /// `\t` or `\u{1b}`, so a line of the log is always one event and no terminal escape runs.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else { result.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
