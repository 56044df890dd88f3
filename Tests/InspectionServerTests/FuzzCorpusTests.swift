// Every input of fuzz/corpus (the fuzzer's seeds and any input that once found a bug) posted
// to /predict and /predict_dual through the whole router: each gets an answer, never a 500.

import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/corpus")

    @Test func everyCorpusInputGetsAClearAnswer() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(files.count >= 8)
        // `wait_for_board` inputs wait for the other side: not for the 60 s of other tests.
        try await TestServer { $0.pairingDeadlineSeconds = 0.5 }.run { client in
            for name in files {
                let body = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
                for path in ["/predict", "/predict_dual"] {
                    let response = try await client.execute(uri: path, method: .post, headers: [.contentType: "application/json"],
                                                            body: ByteBuffer(data: body))
                    #expect(response.status.code < 500, "\(path) \(name): \(response.status)")
                    #expect([200, 400, 413].contains(response.status.code), "\(path) \(name): \(response.status)")
                }
            }
        }
    }
}
