// POST /api/admin/reload and /api/admin/rollback through the router, on real ONNX fixture
// models (random weights, the shipped policy's 11 classes) in a scratch model folder.

import Foundation
import Hummingbird
import HummingbirdTesting
@testable import InspectionServer
import Detection
import Inspection
import NeuralEngine
import Testing

@Suite struct AdminReloadTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NeuralEngineTests/Fixtures/models")

    /// A model folder with two good models (v8 and v11 exports) and a truncated one.
    func modelFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "pcb-models-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("v8_op20_dyn.onnx").path, toPath: folder + "/v8.onnx")
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("v11_op12_dyn.onnx").path, toPath: folder + "/v11.onnx")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/v8.onnx"))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: folder + "/truncated.onnx"))
        return folder
    }

    func reload(_ client: any TestClientProtocol, _ body: [String: Any]?, token: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer " + token }
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        return try await client.execute(uri: "/api/admin/reload", method: .post, headers: headers, body: ByteBuffer(data: data))
    }

    @Test func reloadSwitchesTheModelAndRollbackReturns() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.inferenceThreads = 1
        }
        try await server.run { client in
            // The test server starts on its colour detector; the first reload loads v11 from the folder.
            #expect(String(buffer: try await client.get("/metrics").body).contains(#"pcb_model_info{model="colour.onnx@00000000000000c0"} 1"#))
            let first = try await reload(client, ["model": folder + "/v11.onnx"])
            #expect(first.status == .ok, "\(String(buffer: first.body))")
            let answer = first.json
            #expect((answer["model"] as? String)?.hasPrefix("v11.onnx@") == true)
            #expect(answer["previous"] as? String == "colour.onnx@00000000000000c0")
            #expect((try await client.get("/api/system-status").json["model_id"] as? String)?.hasPrefix("v11.onnx@") == true)
            #expect((try await client.get("/health").json["model"] as? String)?.contains("v11.onnx") == true)
            let metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains(#"pcb_model_info{model="colour.onnx@00000000000000c0"} 0"#), "\(metrics)")
            #expect(metrics.contains(#"pcb_model_info{model="v11.onnx@"#) && metrics.contains("} 1"), "\(metrics)")
            // A frame is judged by the new model and its row says so.
            #expect(try await client.postJSON("/predict", seedRequest(colour: Frames.red)).status == .ok)
            let row = try #require((try await client.get("/api/inspections").json["data"] as? [[String: Any]])?.first)
            #expect((row["model"] as? String)?.hasPrefix("v11.onnx@") == true)
            // Rollback returns to the colour detector, kept warm.
            let back = try await client.execute(uri: "/api/admin/rollback", method: .post)
            #expect(back.status == .ok)
            #expect(back.json["model"] as? String == "colour.onnx@00000000000000c0")
            #expect(try await client.get("/api/system-status").json["model_id"] as? String == "colour.onnx@00000000000000c0")
            let judged = try await client.postJSON("/predict", seedRequest(colour: Frames.red)).json
            #expect(judged["defect_type"] as? String == "폐기")
        }
    }

    @Test func autoPrecisionIsResolvedForEachReloadedModel() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // v11 has a record that passed bf16; v8 has none.
        let figures = PrecisionRecord.Figures(map50: 0.5, verdicts: nil)
        let v11 = try Data(contentsOf: URL(fileURLWithPath: folder + "/v11.onnx"))
        let record = PrecisionRecord(model: "v11.onnx", modelFingerprint: OperatingPoint.fingerprint(v11), data: "d.yaml", split: "val",
                                     images: 1, fp32: figures, checks: [PrecisionRecord.check(.bf16, figures, against: figures)], command: "test")
        try record.encoded().write(to: URL(fileURLWithPath: folder + "/v11.precision.json"))
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.inferenceThreads = 1
            config.precision = "auto"
        }
        try await server.run { client in
            #expect(try await reload(client, ["model": folder + "/v8.onnx"]).status == .ok)
            #expect(try await client.get("/health").json["precision"] as? String == "fp32")
            #expect(try await reload(client, ["model": folder + "/v11.onnx"]).status == .ok)
            let expected = Precision.bf16.runs(on: .host) ? "bf16" : "fp32"
            #expect(try await client.get("/health").json["precision"] as? String == expected)
            let metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains(#"pcb_precision_info{precision="\#(expected)"} 1"#), "\(metrics)")
            #expect(try await client.execute(uri: "/api/admin/rollback", method: .post).status == .ok)
            #expect(try await client.get("/health").json["precision"] as? String == "fp32")
            // The gauge of the precision no longer serving reads 0, not a second 1.
            let after = String(buffer: try await client.get("/metrics").body)
            #expect(after.contains(#"pcb_precision_info{precision="fp32"} 1"#), "\(after)")
            if expected == "bf16" { #expect(after.contains(#"pcb_precision_info{precision="bf16"} 0"#), "\(after)") }
        }
    }

    @Test func theCalibrationsFlipsAreServedAndShown() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // v11 with a calibration chosen with left-right mirrors.
        let point = OperatingPoint(model: "v11.onnx", modelFingerprint: "0", classNames: try YOLOModelFile(path: folder + "/v11.onnx", threads: 1).classNames,
                                   thresholds: [:], rule: "test", data: "test", calibrationOutcomes: .init(VerdictOutcomes()),
                                   testTimeFlips: .horizontal)
        try point.text.write(toFile: folder + "/v11.calibration.json", atomically: true, encoding: .utf8)
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.inferenceThreads = 1
        }
        try await server.run { client in
            #expect(try await client.get("/health").json["test_time_flips"] as? String == "none")
            let reloaded = try await reload(client, ["model": folder + "/v11.onnx"])
            #expect(reloaded.status == .ok, "\(String(buffer: reloaded.body))")
            let health = try await client.get("/health").json
            #expect(health["test_time_flips"] as? String == "horizontal" && (health["model"] as? String)?.contains("flips horizontal") == true,
                    "\(health)")
            #expect(try await client.get("/live/snapshot").json["test_time_flips"] as? String == "horizontal")
            // Frames are judged through the mirrored runs.
            #expect(try await client.postJSON("/predict", seedRequest(colour: Frames.red)).status == .ok)
            #expect(try await client.execute(uri: "/api/admin/rollback", method: .post).status == .ok)
            #expect(try await client.get("/health").json["test_time_flips"] as? String == "none")
        }
    }

    @Test func unusableReloadsAreRefusedAndTheOldModelKeepsServing() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.inferenceThreads = 1
        }
        try await server.run { client in
            let truncated = try await reload(client, ["model": folder + "/truncated.onnx"])
            #expect(truncated.status == .unprocessableContent, "\(String(buffer: truncated.body))")
            let missing = try await reload(client, ["model": folder + "/none.onnx"])
            #expect(missing.status == .unprocessableContent)
            let outside = try await reload(client, ["model": Self.fixtures.appendingPathComponent("v8_op20_dyn.onnx").path])
            #expect(outside.status == .badRequest && outside.errorMessage?.contains("outside the model folder") == true)
            let escaping = try await reload(client, ["model": folder + "/../" + (folder as NSString).lastPathComponent + "/../x.onnx"])
            #expect(escaping.status == .badRequest)
            let misspelt = try await reload(client, ["modell": "x"])
            #expect(misspelt.status == .badRequest)
            let outsidePolicy = try await reload(client, ["policy": Self.fixtures.appendingPathComponent("v8_op20_dyn.onnx").path])
            #expect(outsidePolicy.status == .badRequest && outsidePolicy.errorMessage?.contains("outside the policy's folder") == true)
            #expect(try await client.execute(uri: "/api/admin/rollback", method: .post).status == .conflict)
            // Still the colour detector, answering as before.
            #expect(try await client.get("/api/system-status").json["model_id"] as? String == "colour.onnx@00000000000000c0")
            #expect(try await client.postJSON("/predict", seedRequest(colour: Frames.red)).json["defect_type"] as? String == "폐기")
        }
    }

    @Test func reloadNeedsTheAdminScope() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.readToken = "reader"
            config.writeToken = "camera"
            config.adminToken = "operator"
        }
        try await server.run { client in
            let anonymous = try await reload(client, nil)
            let camera = try await reload(client, nil, token: "camera")
            let admin = try await reload(client, ["model": folder + "/v11.onnx"], token: "operator")
            #expect(anonymous.status == .unauthorized && camera.status == .unauthorized)
            #expect(admin.status == .ok, "\(String(buffer: admin.body))")
        }
    }

    /// The shipped policy with spurious copper moved from discard to solder defects, written
    /// into the model folder as `name`; `unmap` leaves a model class out.
    func writePolicy(_ folder: String, _ name: String, unmap: String? = nil, dropCategory: Bool = false) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var text = try String(contentsOf: root.appendingPathComponent("data/pcb_defects.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "  spurious_copper: discard", with: "  spurious_copper: solder_defect")
        if let unmap { text = text.components(separatedBy: "\n").filter { !$0.hasPrefix("  \(unmap):") }.joined(separator: "\n") }
        if dropCategory { text = text.replacingOccurrences(of: "  - code: discard", with: "  - code: discarded") }
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aPolicyReloadSwitchesCategoriesEverywhereAndRollsBack() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let moved = try writePolicy(folder, "moved.yaml")
        let unmapped = try writePolicy(folder, "unmapped.yaml", unmap: "spur")
        let broken = try writePolicy(folder, "broken.yaml", dropCategory: true)
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.inferenceThreads = 1
        }
        try await server.run { client in
            func mapping() async throws -> String? {
                ((try await client.get("/live/snapshot").json["class_categories"]) as? [String: String])?["spurious_copper"]
            }
            #expect(try await mapping() == "discard")
            // Refused, the old policy still in force: a model class it does not map, a category missing.
            let missing = try await reload(client, ["model": folder + "/v8.onnx", "policy": unmapped])
            #expect(missing.status == .unprocessableContent && missing.errorMessage?.contains("spur") == true, "\(String(buffer: missing.body))")
            let bad = try await reload(client, ["policy": broken])
            #expect(bad.status == .unprocessableContent, "\(String(buffer: bad.body))")
            #expect(try await mapping() == "discard")
            // A good one: judged, paired, shown and recorded with it.
            let answer = try await reload(client, ["model": folder + "/v8.onnx", "policy": moved])
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
            #expect(try await mapping() == "solder_defect")
            #expect((try await client.get("/api/system-status").json["policy_id"] as? String)?.hasPrefix("moved.yaml@") == true)
            #expect(try await client.postJSON("/predict", seedRequest()).status == .ok)
            let row = try #require((try await client.get("/api/inspections").json["data"] as? [[String: Any]])?.first)
            #expect((row["policy"] as? String)?.hasPrefix("moved.yaml@") == true, "\(row)")
            // Back to the set before it, policy included.
            #expect(try await client.execute(uri: "/api/admin/rollback", method: .post).status == .ok)
            #expect(try await mapping() == "discard")
            #expect(try await client.get("/api/system-status").json["policy_id"] as? String == "pcb_defects.yaml@00000000000000aa")
        }
    }

    @Test func aReloadTeachesGoldenBoardsAndRefusesBadOnesFirst() async throws {
        let folder = try modelFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let board = ReferenceEndpointTests.goldenJPEG
        try Data(board).write(to: URL(fileURLWithPath: folder + "/golden.jpg"))
        try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: folder + "/bad.jpg"))
        let server = try TestServer { config in
            config.modelPath = folder + "/v8.onnx"
            config.inferenceThreads = 1
        }
        try await server.run { client in
            let notJPEG = try await reload(client, ["model": folder + "/v11.onnx", "reference": folder + "/bad.jpg"])
            #expect(notJPEG.status == .badRequest, "\(String(buffer: notJPEG.body))")
            #expect(try await client.get("/api/system-status").json["model_id"] as? String == "colour.onnx@00000000000000c0",
                    "a bad golden board changes nothing")
            let outside = try await reload(client, ["reference": Self.fixtures.appendingPathComponent("v8_op20_dyn.onnx").path])
            #expect(outside.status == .badRequest)
            let unknown = try await reload(client, ["reference": ["middle": folder + "/golden.jpg"]])
            #expect(unknown.status == .badRequest && unknown.errorMessage?.contains("unknown camera 'middle'") == true)
            // Only a golden board: taught for the camera named, the model kept.
            let taught = try await reload(client, ["reference": ["left": folder + "/golden.jpg"]])
            #expect(taught.status == .ok, "\(String(buffer: taught.body))")
            #expect(taught.json["golden_boards"] as? [String] == ["left"])
            #expect(taught.json["model"] as? String == "colour.onnx@00000000000000c0")
            let shown = try await client.get("/api/reference/left")
            #expect(shown.status == .ok && Array(Data(buffer: shown.body)) == board)
            #expect(try await client.get("/api/reference/right").status == .notFound)
        }
    }
}
