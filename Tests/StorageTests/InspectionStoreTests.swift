// One suite for every store engine: each test runs against an in-memory SQLite database, a
// SQLite file and, when PCB_TEST_MYSQL_URL names a server (`make test` starts a private
// MariaDB and sets it), a fresh MySQL/MariaDB database.

import Foundation
import Inspection
@testable import Storage
import Testing

/// The MySQL/MariaDB server of the test run, if any.
let testMySQLURL = ProcessInfo.processInfo.environment["PCB_TEST_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqliteMemory, sqliteFile, mariadb
    var testDescription: String { rawValue }

    /// The engines under test in this run.
    static var allCases: [StoreKind] { testMySQLURL == nil ? [.sqliteMemory, .sqliteFile] : [.sqliteMemory, .sqliteFile, .mariadb] }

    func make(timeZone: TimeZone = TimeZone(identifier: "Asia/Seoul")!, diskGuard: DiskSpaceGuard? = nil) throws -> (any InspectionStore, String) {
        let directory = NSTemporaryDirectory() + "pcb-store-" + UUID().uuidString
        let images = DefectImageFolder(directory: directory + "/images", diskGuard: diskGuard)
        switch self {
        case .sqliteMemory: return (try SQLiteInspectionStore(inMemoryWith: images, timeZone: timeZone), directory)
        case .sqliteFile: return (try SQLiteInspectionStore(path: directory + "/pcb.sqlite", images: images, timeZone: timeZone), directory)
        case .mariadb:
            let url = try freshMySQLDatabase()
            return (try MySQLInspectionStore(url: url, images: images, timeZone: timeZone), directory)
        }
    }
}

/// A new, empty database on the test server (each test gets its own).
func freshMySQLDatabase() throws -> MySQLURL {
    var url = try MySQLURL(testMySQLURL ?? "")
    let admin = try MariaDBConnection(url)
    url.database = "pcb_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
    try admin.simple("CREATE DATABASE \(url.database) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return url
}

@Suite struct StoreEnginesUnderTest {
    @Test(.enabled(if: testMySQLURL == nil, "PCB_TEST_MYSQL_URL is set: the MariaDB engine runs in every store test"))
    func mariadbEngineNeedsAServer() {
        // `swift test` alone has no MariaDB; `make test` starts a private one
        // (scripts/mariadb-test-instance.sh) and sets PCB_TEST_MYSQL_URL. Record that it was left out.
        withKnownIssue("MariaDB store tests not run: PCB_TEST_MYSQL_URL is not set (run `make test`)") {
            #expect(testMySQLURL != nil)
        }
    }
}

func newInspection(_ category: CategoryCode, at date: Date = Date(), camera: String = "left", requestId: String? = nil,
                   image: [UInt8]? = nil) -> NewInspection {
    let labels: [CategoryCode: String] = [.normal: "정상", .componentDefect: "부품불량", .solderDefect: "납땜불량", .discard: "폐기"]
    return NewInspection(
        cameraId: camera, category: category, defectType: labels[category]!, confidence: 0.87654, inspectionTime: date,
        captureTimestamp: "2026-11-26T16:52:45.768635",
        boxes: category == .normal ? [] : [DetectedDefect(className: "short", confidence: 0.87654, x1: 1, y1: 2, x2: 3, y2: 4)],
        gpio: GPIOSignal(pin: 27, durationMs: 500), requestId: requestId, inferenceTimeMs: 12.5,
        anomalyScore: category == .normal ? nil : 31.25, image: image)
}

/// 2026-11-26 10:00 in Seoul (UTC+9), plus `days` and `hours`.
func seoul(day: Int = 26, hour: Int = 10) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Asia/Seoul")!
    return calendar.date(from: DateComponents(year: 2026, month: 11, day: day, hour: hour))!
}

@Suite struct InspectionStoreTests {
    @Test(arguments: StoreKind.allCases)
    func migrationCreatesSeedConfigAndIsRepeatable(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        try await store.migrate()
        let config = try await store.configValues()
        #expect(config["fps"] == "10")
        #expect(config["jpeg_quality"] == "85")
        #expect(config["defect_threshold"] == "0.70")
        #expect(config["gpio_duration_ms"] == "500")
        #expect(config["max_image_retention_days"] == "90")
        #expect(config["alert_defect_rate_threshold"] == "10.0")
        #expect(config["server_url"] != nil)
        #expect(await store.isReachable())
    }

    @Test(arguments: StoreKind.allCases)
    func savedInspectionRoundTrips(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let saved = try await store.saveInspection(newInspection(.solderDefect, at: seoul(), image: [0xFF, 0xD8, 0xFF, 0xD9]))
        #expect(!saved.wasDuplicate)
        let record = try #require(try await store.inspection(id: saved.record.id))
        #expect(record.cameraId == "left")
        #expect(record.category == .solderDefect)
        #expect(record.defectType == "납땜불량")
        #expect(record.confidence == 0.8765)  // DECIMAL(5,4)
        #expect(record.inspectionTime == "2026-11-26 10:00:00.000000")
        #expect(record.captureTimestamp == "2026-11-26T16:52:45.768635")
        #expect(record.boxes.first?.className == "short")
        #expect(record.gpio == GPIOSignal(pin: 27, durationMs: 500))
        #expect(record.inferenceTimeMs == 12.5)
        #expect(record.anomalyScore == 31.25)
        #expect(try await store.saveInspection(newInspection(.normal, at: seoul())).record.anomalyScore == nil)
        let path = try #require(record.imagePath)
        #expect(FileManager.default.contents(atPath: path) == Data([0xFF, 0xD8, 0xFF, 0xD9]))
        #expect(path.hasSuffix(".jpg"))
        #expect(path.contains("left_solder_defect_20261126_100000_"))
    }

    @Test(arguments: StoreKind.allCases)
    func imageNamesAreUniqueWithinOneSecond(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        var paths: Set<String> = []
        for _ in 0..<20 {
            let saved = try await store.saveInspection(newInspection(.discard, at: seoul(), image: [0xFF, 0xD8]))
            paths.insert(try #require(saved.record.imagePath))
        }
        #expect(paths.count == 20)
    }

    @Test(arguments: StoreKind.allCases)
    func requestIdMakesSavesIdempotent(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let first = try await store.saveInspection(newInspection(.discard, requestId: "r-1", image: [1, 2, 3]))
        let second = try await store.saveInspection(newInspection(.discard, requestId: "r-1", image: [1, 2, 3]))
        #expect(second.wasDuplicate)
        #expect(second.record.id == first.record.id)
        #expect(try await store.inspections(page: 1, limit: 10).total == 1)
        #expect(try await store.inspection(requestId: "r-1")?.id == first.record.id)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/images")
        #expect(files.count == 1, "a duplicate must not leave a second image: \(files)")
    }

    @Test(arguments: StoreKind.allCases)
    func pagingIsNewestFirst(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        for hour in [9, 11, 10, 12, 8] {
            _ = try await store.saveInspection(newInspection(.normal, at: seoul(hour: hour)))
        }
        let first = try await store.inspections(page: 1, limit: 2)
        #expect(first.total == 5)
        #expect(first.rows.map { $0.inspectionTime.dropFirst(11).prefix(2) } == ["12", "11"])
        let last = try await store.inspections(page: 3, limit: 2)
        #expect(last.rows.map { $0.inspectionTime.dropFirst(11).prefix(2) } == ["08"])
        #expect(try await store.inspections(page: 4, limit: 2).rows.isEmpty)
        #expect(try await store.inspections(page: Int.max, limit: 1000).rows.isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func statisticsUseInclusiveLocalDates(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        // 25th 23:59 local, 26th 00:00 .. 23:00 local, 27th 00:30 local
        _ = try await store.saveInspection(newInspection(.discard, at: seoul(day: 25, hour: 23).addingTimeInterval(59 * 60)))
        _ = try await store.saveInspection(newInspection(.normal, at: seoul(day: 26, hour: 0)))
        _ = try await store.saveInspection(newInspection(.componentDefect, at: seoul(day: 26, hour: 12)))
        _ = try await store.saveInspection(newInspection(.solderDefect, at: seoul(day: 26, hour: 23)))
        _ = try await store.saveInspection(newInspection(.normal, at: seoul(day: 27, hour: 0).addingTimeInterval(30 * 60)))
        let day = CalendarDay("2026-11-26")!
        let stats = try await store.statistics(from: day, through: day)
        #expect(stats.total == 3)
        #expect(stats.counts[.normal] == 1)
        #expect(stats.counts[.componentDefect] == 1)
        #expect(stats.counts[.solderDefect] == 1)
        #expect(stats.counts[.discard] == nil)
        #expect(abs(stats.defectRatePercent - 200.0 / 3.0) < 1e-9)
        let span = try await store.statistics(from: CalendarDay("2026-11-25")!, through: CalendarDay("2026-11-27")!)
        #expect(span.total == 5)
        #expect(try await store.statistics(from: CalendarDay("2026-12-01")!, through: CalendarDay("2026-12-31")!).total == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func boardsLinkTheirInspections(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let left = try await store.saveInspection(newInspection(.componentDefect, camera: "left")).record
        let right = try await store.saveInspection(newInspection(.normal, camera: "right")).record
        let board = try await store.saveBoard(NewBoard(
            boardKey: "B-42", category: .componentDefect, defectType: "부품불량", confidence: 0.9, gpio: GPIOSignal(pin: 17, durationMs: 500),
            decidedAt: seoul(), leftInspectionId: left.id, rightInspectionId: right.id))
        #expect(try await store.board(id: board.id) == board)
        #expect(try await store.inspection(id: left.id)?.boardId == board.id)
        #expect(try await store.inspection(id: right.id)?.boardId == board.id)
        let failSafe = try await store.saveBoard(NewBoard(
            boardKey: "B-43", category: .discard, defectType: "폐기", confidence: 1, gpio: GPIOSignal(pin: 22, durationMs: 500),
            decidedAt: seoul(), leftInspectionId: nil, rightInspectionId: nil, failSafe: true, note: "right side missing"))
        #expect(try await store.board(id: failSafe.id)?.failSafe == true)
        #expect(try await store.board(id: 999) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func systemLogsKeepLevelSourceAndDetails(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        try await store.appendLog(SystemLogEntry(level: "INFO", source: "server", message: "started"))
        try await store.appendLog(SystemLogEntry(level: "ERROR", source: "server", message: "추론 오류", details: #"{"code": 7}"#))
        let logs = try await store.recentLogs(limit: 10)
        #expect(logs.map(\.level) == ["ERROR", "INFO"])
        #expect(logs[0].message == "추론 오류")
        #expect(logs[0].details == #"{"code": 7}"#)
        #expect(logs[0].createdAt != nil)
    }

    @Test(arguments: StoreKind.allCases)
    func provenanceIsStoredWithInspectionsAndBoards(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let provenance = Provenance(model: Provenance.fileId(name: "m.onnx", bytes: [1, 2, 3]), calibration: "m.calibration.json@0123456789abcdef",
                                    policy: "pcb_defects.yaml@fedcba9876543210", serverVersion: "9.9.9")
        var inspection = newInspection(.solderDefect, at: seoul())
        inspection.provenance = provenance
        let saved = try await store.saveInspection(inspection)
        #expect(saved.record.provenance == provenance)
        #expect(try await store.inspection(id: saved.record.id)?.provenance == provenance)
        #expect(try await store.inspections(page: 1, limit: 5).rows.first?.provenance == provenance)
        var board = NewBoard(boardKey: "b", category: .solderDefect, defectType: "납땜불량", confidence: 0.9, gpio: GPIOSignal(pin: 27, durationMs: 500),
                             decidedAt: seoul(), leftInspectionId: saved.record.id, rightInspectionId: nil)
        board.provenance = provenance
        let stored = try await store.saveBoard(board)
        #expect(try await store.board(id: stored.id)?.provenance == provenance)
        // Rows from before provenance was kept read as nil.
        let old = try await store.saveInspection(newInspection(.normal, at: seoul()))
        #expect(try await store.inspection(id: old.record.id)?.provenance == nil)
    }

    @Test func fileIdsAreNameAndSixteenHexDigits() {
        #expect(Provenance.fileId(name: "a.onnx", bytes: []) == "a.onnx@cbf29ce484222325")
        #expect(Provenance.fileId(name: "a.onnx", bytes: [0x61]) == "a.onnx@af63dc4c8601ec8c")
        #expect(Provenance.fileId(name: "a", bytes: [1]) != Provenance.fileId(name: "a", bytes: [2]))
    }

    @Test(arguments: StoreKind.allCases)
    func logRetentionDeletesOnlyOlderRows(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        try await store.appendLog(SystemLogEntry(level: "INFO", source: "server", message: "old", createdAt: "2026-01-02 03:04:05.000000"))
        try await store.appendLog(SystemLogEntry(level: "INFO", source: "server", message: "new"))
        let deleted = try await store.deleteLogs(before: Date().addingTimeInterval(-86_400))
        #expect(deleted == 1)
        #expect(try await store.recentLogs(limit: 10).map(\.message) == ["new"])
    }

    @Test(arguments: StoreKind.allCases)
    func aLowDiskStoresTheRowWithoutItsImageAndResumes(kind: StoreKind) async throws {
        let free = FreeSpace(bytes: 10 << 20)
        let diskGuard = DiskSpaceGuard(directory: "/", minimumFreeBytes: 50 << 20, interval: .zero, freeSpace: { _ in free.bytes })
        let (store, directory) = try kind.make(diskGuard: diskGuard)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let low = try await store.saveInspection(newInspection(.discard, at: seoul(), image: [0xFF, 0xD8]))
        #expect(low.record.imagePath == nil)
        #expect(try await store.inspection(id: low.record.id)?.category == .discard)
        #expect(diskGuard.status == DiskSpaceGuard.Status(freeBytes: 10 << 20, low: true, imagesSkipped: 1))
        free.bytes = 100 << 20
        let resumed = try await store.saveInspection(newInspection(.discard, at: seoul(), image: [0xFF, 0xD8]))
        let path = try #require(resumed.record.imagePath)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(diskGuard.status.low == false)
    }

    @Test func fileStoreKeepsDataAcrossReopen() async throws {
        let directory = NSTemporaryDirectory() + "pcb-store-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try SQLiteInspectionStore(path: directory + "/pcb.sqlite", images: nil)
            try await store.migrate()
            _ = try await store.saveInspection(newInspection(.discard, requestId: "keep-me"))
        }
        let reopened = try SQLiteInspectionStore(path: directory + "/pcb.sqlite", images: nil)
        try await reopened.migrate()
        #expect(try await reopened.inspection(requestId: "keep-me")?.category == .discard)
    }

    @Test func isoOffsetFollowsDaylightSavingTime() {
        let time = StoreTime(timeZone: TimeZone(identifier: "America/New_York")!)
        // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
        #expect(time.iso8601("2026-03-08 01:30:00.000000") == "2026-03-08T01:30:00.000000-05:00")
        #expect(time.iso8601("2026-03-08 03:30:00.000000") == "2026-03-08T03:30:00.000000-04:00")
        #expect(time.iso8601("2026-03-08 06:59:00.000000") == "2026-03-08T06:59:00.000000-04:00")
    }

    @Test(arguments: StoreKind.allCases)
    func statisticsUpToTheLastRepresentableDay(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        _ = try await store.saveInspection(newInspection(.normal, at: seoul()))
        #expect(try await store.statistics(from: CalendarDay("2026-01-01")!, through: CalendarDay("9999-12-31")!).total == 1)
    }

    @Test func storeTimeFormatsLocalTimeWithOffset() {
        let time = StoreTime(timeZone: TimeZone(identifier: "Asia/Seoul")!)
        let text = time.string(from: seoul(hour: 16).addingTimeInterval(52 * 60 + 45.768635))
        #expect(text == "2026-11-26 16:52:45.768635")
        #expect(time.iso8601(text) == "2026-11-26T16:52:45.768635+09:00")
    }
}

/// Free space a test sets by hand.
final class FreeSpace: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(bytes: Int64) { value = bytes }
    var bytes: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

@Suite struct DefectImageFolderTests {
    @Test func retentionRemovesOnlyImagesOlderThanTheCutoff() throws {
        let directory = NSTemporaryDirectory() + "pcb-images-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = DefectImageFolder(directory: directory)
        try folder.prepare()
        let old = try folder.write([0xFF, 0xD8], name: "old.jpg")
        let recent = try folder.write([0xFF, 0xD8], name: "recent.jpg")
        let other = directory + "/notes.txt"
        FileManager.default.createFile(atPath: other, contents: Data("keep".utf8))
        let tenDaysAgo = Date().addingTimeInterval(-10 * 86_400)
        for path in [old, other] { try FileManager.default.setAttributes([.modificationDate: tenDaysAgo], ofItemAtPath: path) }
        #expect(folder.removeImages(olderThan: Date().addingTimeInterval(-7 * 86_400)) == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: recent) && FileManager.default.fileExists(atPath: other))
    }

    @Test func onlyNoSpaceAndQuotaErrorsCountAsADiskFull() {
        let error = StoreError.imageWrite(path: "/dev/full", errno: ENOSPC)
        #expect(error.isDiskFull)
        #expect(!StoreError.imageWrite(path: "/x", errno: EACCES).isDiskFull)
    }
}

@Suite struct DiskSpaceGuardTests {
    @Test func writesBetweenTwoMeasurementsCountAgainstTheMinimum() {
        // One measurement an hour: only the guard's own accounting can see the burst.
        let diskGuard = DiskSpaceGuard(directory: "/", minimumFreeBytes: 50 << 20, interval: .seconds(3600), freeSpace: { _ in 100 << 20 })
        #expect(diskGuard.admitsImage())
        diskGuard.recordWritten(bytes: 40 << 20)
        #expect(diskGuard.admitsImage())
        diskGuard.recordWritten(bytes: 20 << 20)
        #expect(!diskGuard.admitsImage())
        #expect(diskGuard.status == DiskSpaceGuard.Status(freeBytes: 40 << 20, low: true, imagesSkipped: 1))
    }

    @Test func aZeroMinimumNeverHoldsImagesBack() {
        let diskGuard = DiskSpaceGuard(directory: "/", minimumFreeBytes: 0, interval: .zero, freeSpace: { _ in 0 })
        #expect(diskGuard.admitsImage() && !diskGuard.status.low)
    }
}
