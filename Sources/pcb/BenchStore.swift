// `pcb bench store`: the monitoring queries and the per-result write on a large history, for
// each database engine (SQLite file, MySQL/MariaDB).

import ArgumentParser
import Foundation
import Inspection
import Storage
import Telemetry

struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Time /api/statistics and /api/inspections queries and single saves on a store filled to N inspections.",
        discussion: """
            Fills the database (once; later runs reuse the rows) with synthetic inspections spread over --days days \
            ending today, then prints one JSON line of median and p99 milliseconds per query.
            Example: pcb bench store --database mysql://pcb:secret@127.0.0.1:3306/pcb_bench --rows 1000000
            """)

    @Option(help: "sqlite:PATH or mysql://user:password@host:port/db.") var database = "sqlite:.cache/bench/pcb.sqlite"
    @Option(help: "Inspections the history should hold.") var rows = 1_000_000
    @Option(help: "Days the history spans (ending today).") var days = 365
    @Option(help: "Timed runs of each query.") var runs = 20
    @Option(help: "Single saves to time (one durable transaction each).") var saves = 200

    func run() async throws {
        let store: any BulkLoadable
        if database.hasPrefix("sqlite:") {
            store = try SQLiteInspectionStore(path: String(database.dropFirst(7)), images: nil)
        } else {
            store = try MySQLInspectionStore(url: try MySQLURL(database), images: nil)
        }
        try await store.migrate()
        let now = Date()
        var have = try await store.inspections(page: 1, limit: 1).total
        if have < rows {
            let started = Date()
            while have < rows {
                let batch = min(50_000, rows - have)
                try await store.bulkInsert(syntheticHistory(count: batch, days: days, end: now, startIndex: have))
                have += batch
                FileHandle.standardError.write(Data("filled \(have)/\(rows) inspections (\(Int(Date().timeIntervalSince(started))) s)\n".utf8))
            }
        }
        func day(_ date: Date) -> CalendarDay {
            let c = Calendar.current.dateComponents([.year, .month, .day], from: date)
            return CalendarDay(year: c.year!, month: c.month!, day: c.day!)!
        }
        let today = day(now), monthAgo = day(now.addingTimeInterval(-29 * 86_400))
        let yearAgo = day(now.addingTimeInterval(-Double(days) * 86_400))

        func time(_ body: () async throws -> Void) async throws -> [String: Double] {
            try await body()  // warm the caches once
            var samples: [Double] = []
            for _ in 0..<runs {
                let start = ContinuousClock.now
                try await body()
                samples.append(milliseconds(ContinuousClock.now - start))
            }
            return summary(samples)
        }
        var result: [String: Any] = ["database": MySQLURL.redacted(database), "inspections": have]
        var checked = 0
        result["statistics_one_day"] = try await time { checked = try await store.statistics(from: today, through: today).total }
        result["statistics_30_days"] = try await time { checked = try await store.statistics(from: monthAgo, through: today).total }
        result["statistics_all_days"] = try await time { checked = try await store.statistics(from: yearAgo, through: today).total }
        guard checked > 0 else { throw ValidationError("statistics over the whole history counted nothing") }
        result["inspections_page_1"] = try await time { _ = try await store.inspections(page: 1, limit: 50) }
        result["inspections_page_1000"] = try await time { _ = try await store.inspections(page: 1000, limit: 50) }
        var saveSamples: [Double] = []
        let run = UUID().uuidString.prefix(8)
        for k in 0..<saves {
            var inspection = syntheticHistory(count: 1, days: 1, end: Date(), startIndex: k)[0]
            inspection.requestId = "bench-\(run)-\(k)"
            let start = ContinuousClock.now
            _ = try await store.saveInspection(inspection)
            saveSamples.append(milliseconds(ContinuousClock.now - start))
        }
        result["save_inspection"] = summary(saveSamples)
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    private func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    private func summary(_ samples: [Double]) -> [String: Double] {
        let percentiles = Percentiles(samples)
        func at(_ p: Double) -> Double { (percentiles.value(at: p) * 100).rounded() / 100 }
        return ["median_ms": at(50), "p99_ms": at(99)]
    }
}
