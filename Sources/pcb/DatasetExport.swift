// `pcb dataset export`: the frames a line kept for labelling (near a threshold, a share of
// normal frames, frames an operator marked wrong) as a YOLO dataset with pre-filled labels
// (DetectionTools/Datasets/LabellingExport.swift). From the server's data folder (its SQLite
// file and images; `--database` for MySQL) or from a running server (`GET /api/labelling`).

import ArgumentParser
import AsyncHTTPClient
import Detection
import DetectionTools
import Foundation
import Inspection
import InspectionServer
import NIOCore
import Storage

extension Dataset {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the frames a line kept for labelling as a YOLO dataset (images, pre-filled labels, data.yaml).")

        @Option(name: .customLong("data-dir"), help: "The server's data folder (pcb.sqlite and images/).") var dataDir: String?
        @Option(help: "The server's database instead of <data-dir>/pcb.sqlite (sqlite:PATH or mysql://...).") var database: String?
        @Option(help: "A running server instead of its data folder, e.g. http://10.0.0.5:5000.") var url: String?
        @Option(help: "The server's API token (read scope), with --url.") var token: String?
        @Option(help: "Only frames inspected on this local day (YYYY-MM-DD) or later.") var since: String?
        @Option(help: "The model whose class names data.yaml lists, with --data-dir (a running server names its own).")
        var model = "models/pcb_synthetic_yolov8n.onnx"
        @Option(help: "Output folder (created if needed).") var out: String

        func validate() throws {
            guard (dataDir == nil) != (url == nil) else { throw ValidationError("give one of --data-dir and --url") }
            if let since, CalendarDay(since) == nil { throw ValidationError("--since must be a date as YYYY-MM-DD (got '\(since)')") }
            if database != nil && dataDir == nil { throw ValidationError("--database goes with --data-dir") }
        }

        func run() async throws {
            let day = since.flatMap(CalendarDay.init)
            let summary: LabellingExporter.Summary
            if let url {
                summary = try await exportFromServer(url.hasSuffix("/") ? String(url.dropLast()) : url, since: day)
            } else {
                summary = try await exportFromDataFolder(dataDir!, since: day)
            }
            let reasons = summary.byReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("exported \(summary.images) frames (\(reasons.isEmpty ? "none kept" : reasons)): \(summary.withBoxes) with pre-filled boxes (\(summary.boxes) boxes), \(summary.needBoxes) to box by hand (samples.csv: check)")
            print("wrote \(out)/data.yaml")
        }

        private func progress(_ done: Int) {
            if done % 100 == 0 { FileHandle.standardError.write(Data("exported \(done) frames\n".utf8)) }
        }

        // MARK: From the data folder

        private func exportFromDataFolder(_ folder: String, since: CalendarDay?) async throws -> LabellingExporter.Summary {
            let databaseURL = database ?? "sqlite:" + (folder as NSString).appendingPathComponent("pcb.sqlite")
            let store: any InspectionStore
            if databaseURL.hasPrefix("sqlite:") {
                let path = String(databaseURL.dropFirst("sqlite:".count))
                guard FileManager.default.fileExists(atPath: path) else {
                    throw ValidationError("no database at \(path): is \(folder) the server's data folder (--data-dir)?")
                }
                store = try SQLiteInspectionStore(path: path, images: nil)
            } else if databaseURL.hasPrefix("mysql://") {
                store = try MySQLInspectionStore(url: try MySQLURL(databaseURL), images: nil)
            } else {
                throw ValidationError("--database must be sqlite:PATH or mysql://user:password@host:3306/db")
            }
            let classes = try YOLODetector(path: model, threads: 1).classNames
            var exporter = try LabellingExporter(directory: out, classes: classes)
            let storeTime = StoreTime()
            var afterId: Int64 = 0
            var missing = 0
            while true {
                let page = try await store.labellingFrames(since: since, afterId: afterId, limit: 200)
                guard let last = page.last else { break }
                afterId = last.inspection.id
                for frame in page {
                    guard let jpeg = Self.image(of: frame.inspection, dataFolder: folder) else {
                        missing += 1  // removed by the image retention since
                        continue
                    }
                    try exporter.add(Self.sample(frame, storeTime: storeTime), jpeg: jpeg)
                    progress(exporter.summary.images)
                }
            }
            if missing > 0 { print("\(missing) kept frames skipped: their images are gone (image retention)") }
            return try exporter.finish()
        }

        /// The stored JPEG: at the recorded path, else in the data folder's images/ (a server
        /// started from another working directory records paths relative to it).
        static func image(of inspection: StoredInspection, dataFolder: String) -> [UInt8]? {
            guard let path = inspection.imagePath else { return nil }
            let candidates = [path, ((dataFolder as NSString).appendingPathComponent("images") as NSString)
                .appendingPathComponent((path as NSString).lastPathComponent)]
            return candidates.lazy.compactMap { FileManager.default.contents(atPath: $0) }.first.map { [UInt8]($0) }
        }

        static func sample(_ frame: LabellingFrame, storeTime: StoreTime) -> LabellingExportSample {
            let i = frame.inspection
            return LabellingExportSample(
                id: i.id, cameraId: i.cameraId, time: storeTime.iso8601(i.inspectionTime), reason: i.labelReason?.rawValue ?? "",
                machineCategory: i.category.rawValue, boxes: i.boxes, reviewVerdict: frame.review?.verdict.rawValue,
                reviewClasses: frame.review?.classes ?? [], model: i.provenance?.model)
        }

        // MARK: From a running server

        private func exportFromServer(_ base: String, since: CalendarDay?) async throws -> LabellingExporter.Summary {
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let summary = try await exportFromServer(base, since: since, client: client)
                try await client.shutdown()
                return summary
            } catch {
                try? await client.shutdown()
                throw error
            }
        }

        private func exportFromServer(_ base: String, since: CalendarDay?, client: HTTPClient) async throws -> LabellingExporter.Summary {
            var exporter: LabellingExporter? = nil
            var afterId: Int64 = 0
            var missing = 0
            while true {
                let query = "after_id=\(afterId)&limit=200" + (since.map { "&since=\($0)" } ?? "")
                let body = try await get(base + "/api/labelling?" + query, client: client, limit: 64 << 20)
                guard let bytes = body.bytes else { throw ValidationError("GET /api/labelling: HTTP \(body.status)") }
                let page = try JSONDecoder().decode(LabellingPage.self, from: Data(bytes))
                if exporter == nil { exporter = try LabellingExporter(directory: out, classes: page.classes) }
                guard let last = page.data.last else { break }
                afterId = last.id
                for row in page.data {
                    let image = try await get(base + row.image_url, client: client, limit: 64 << 20)
                    guard let jpeg = image.bytes else {
                        if image.status == 410 || image.status == 404 { missing += 1; continue }
                        throw ValidationError("GET \(row.image_url): HTTP \(image.status)")
                    }
                    try exporter!.add(LabellingExportSample(
                        id: row.id, cameraId: row.camera_id, time: row.inspection_time, reason: row.reason, machineCategory: row.category,
                        boxes: row.boxes, reviewVerdict: row.review?.verdict, reviewClasses: row.review?.classes ?? [], model: row.model),
                        jpeg: jpeg)
                    progress(exporter!.summary.images)
                }
            }
            if missing > 0 { print("\(missing) kept frames skipped: their images are gone (image retention)") }
            return try exporter!.finish()
        }

        /// The body of a 200, else the status alone (401 says which token is missing).
        private func get(_ address: String, client: HTTPClient, limit: Int) async throws -> (status: UInt, bytes: [UInt8]?) {
            var request = HTTPClientRequest(url: address)
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: limit)
            if response.status.code == 401 { throw ValidationError("\(address): 401, give the server's read token with --token") }
            guard response.status == .ok else { return (response.status.code, nil) }
            return (response.status.code, Array(buffer: body))
        }
    }
}
