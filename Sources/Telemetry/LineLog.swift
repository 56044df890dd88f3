// The log of every `pcb` process (server, camera, virtual line): each line to standard output
// and, for the server, to a rotating file (`<data_dir>/logs/server.log`, 10 MB x 5 as in the
// seed: server.log.1 ... server.log.5).

import Foundation
import Logging
import Synchronization

/// A size-rotated log file shared by all loggers of the process.
public final class RotatingLogFile: Sendable {
    private struct State {
        var handle: FileHandle?
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
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let size = Int(try handle.seekToEnd())
        state = Mutex(State(handle: handle, size: size))
    }

    /// Appends one line, rotating first when it would pass `maxBytes`.
    public func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        state.withLock { state in
            if state.size + data.count > maxBytes && state.size > 0 { rotate(&state) }
            state.handle?.write(data)
            state.size += data.count
        }
    }

    private func rotate(_ state: inout State) {
        try? state.handle?.close()
        let files = FileManager.default
        try? files.removeItem(atPath: "\(path).\(keep)")
        if keep > 1 {
            for index in stride(from: keep - 1, through: 1, by: -1) where files.fileExists(atPath: "\(path).\(index)") {
                try? files.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
            }
        }
        try? files.moveItem(atPath: path, toPath: "\(path).1")
        files.createFile(atPath: path, contents: nil)
        state.handle = try? FileHandle(forWritingTo: URL(fileURLWithPath: path))
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
        let line = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(label): \(event.message)\(fields)"
        // Written and flushed per line: stdout is fully buffered when it is a pipe (systemd,
        // docker, tests), and a log that arrives minutes late is no log.
        let bytes = Data((line + "\n").utf8)
        Self.standardOutput.withLock { _ in FileHandle.standardOutput.write(bytes) }
        file?.write(line)
    }

    private static let standardOutput = Mutex(())

    /// Made once: a formatter per line cost more than the rest of the line.
    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .current)

    private static func timestamp() -> String { Date().formatted(timestampStyle) }
}
