import Foundation
import Testing
@testable import Telemetry

@Suite struct RotatingLogFileTests {
    @Test func rotatesAtTheSizeLimitAndKeepsFiveFiles() throws {
        let directory = NSTemporaryDirectory() + "pcb-log-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try RotatingLogFile(path: directory + "/server.log", maxBytes: 100, keep: 5)
        // 20 lines of 50 bytes: two lines per file, so ten files' worth; only five old ones are kept.
        for index in 0..<20 {
            log.write(String(format: "line %02d ", index) + String(repeating: "x", count: 41))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["server.log", "server.log.1", "server.log.2", "server.log.3", "server.log.4", "server.log.5"])
        let current = try String(contentsOfFile: directory + "/server.log", encoding: .utf8)
        #expect(current.hasPrefix("line 18") && current.contains("line 19"))
        let oldest = try String(contentsOfFile: directory + "/server.log.5", encoding: .utf8)
        #expect(oldest.hasPrefix("line 08"))
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.size] as? Int ?? 0
            #expect(size <= 100, "\(file) is \(size) bytes")
        }
    }

    @Test func appendsToAnExistingLog() throws {
        let directory = NSTemporaryDirectory() + "pcb-log-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try RotatingLogFile(path: directory + "/server.log").write("first")
        try RotatingLogFile(path: directory + "/server.log").write("second")
        #expect(try String(contentsOfFile: directory + "/server.log", encoding: .utf8) == "first\nsecond\n")
    }
}

@Suite struct LogFailureTests {
    @Test func aFullDiskDropsLinesInsteadOfStoppingTheProcess() throws {
        // /dev/full answers every write with ENOSPC, as a full data disk does.
        try #require(FileManager.default.fileExists(atPath: "/dev/full"))
        let log = try RotatingLogFile(path: "/dev/full")
        let before = LogWriteFailures.dropped
        log.write("a line the disk has no room for")
        log.write("and another")
        #expect(LogWriteFailures.dropped - before >= 2)
    }

    @Test func loggingResumesWhenItsRemovedFolderReturns() throws {
        let directory = NSTemporaryDirectory() + "pcb-log-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try RotatingLogFile(path: directory + "/server.log", maxBytes: 64, keep: 2)
        log.write(String(repeating: "a", count: 40))
        try FileManager.default.removeItem(atPath: directory)
        // The folder is gone: lines are dropped, not fatal.
        log.write(String(repeating: "b", count: 40))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        log.write(String(repeating: "c", count: 40))
        #expect(try String(contentsOfFile: directory + "/server.log", encoding: .utf8) == String(repeating: "c", count: 40) + "\n")
    }

    @Test func controlCharactersAreEscapedSoOneEventIsOneLine() {
        #expect(LogText.escaped("board\r\nINFO forged: entry") == "board\\r\\nINFO forged: entry")
        #expect(LogText.escaped("tab\there \u{1b}[31mred") == "tab\\there \\u{1b}[31mred")
        #expect(LogText.escaped("plain 한글 text") == "plain 한글 text")
    }
}
