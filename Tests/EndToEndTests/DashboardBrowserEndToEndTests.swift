// The live dashboard in a real browser (headless Chromium, Debian's package) against the real
// `pcb serve`: counters change and board pictures appear while frames are posted, the page
// reconnects after a server restart; a screenshot is left in .build/test-artifacts/.

import Foundation
import Testing

@Suite(.serialized) struct DashboardBrowserEndToEndTests {
    static let chromium = "/usr/bin/chromium"
    static let chromiumInstalled = FileManager.default.isExecutableFile(atPath: chromium)
    /// In CI the browser must be there (`make test` installs it); elsewhere its absence skips the test.
    static let required = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false

    @Test(.enabled(if: chromiumInstalled || required, "chromium is not installed: `make test` installs it (apt: chromium, fonts-noto-cjk)"))
    func dashboardShowsTheLineLiveInChromium() throws {
        #expect(Self.chromiumInstalled, "\(Self.chromium) is missing: scripts/install-deps.sh --test installs it")
        guard Self.chromiumInstalled else { return }

        // Given synthetic board photos to post, and a fresh data directory,
        let directory = NSTemporaryDirectory() + "pcb-dashboard-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcb = try pcbExecutable().path
        let synth = try run(pcb, ["dataset", "synth", "--out", directory + "/frames", "--count", "8", "--seed", "7"])
        #expect(synth.status == 0, "\(synth.output)")

        // when Chromium watches the dashboard while frames are posted and the server restarts,
        let screenshot = repositoryRoot.appendingPathComponent(".build/test-artifacts/dashboard.png").path
        try? FileManager.default.removeItem(atPath: screenshot)
        let script = repositoryRoot.appendingPathComponent("Tests/EndToEndTests/dashboard_browser_check.py").path
        // A small fixture model (random weights: many boxes); the bundled one takes seconds a frame in a debug build.
        let model = repositoryRoot.appendingPathComponent("Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx").path
        let result = try run("/usr/bin/env", [
            "python3", script, "--pcb", pcb, "--model", model, "--data-dir", directory,
            "--frames", directory + "/frames/images/train", "--chromium", Self.chromium, "--boards", "4", "--screenshot", screenshot,
            // With a token, so the page's own access path (token kept, sent on the socket and images) is what is tested.
            "--token", "dashboard-secret",
        ])

        // then every check of the script passes and the screenshot is a PNG.
        let log = (try? String(contentsOfFile: directory + "/dashboard-check.log", encoding: .utf8)) ?? ""
        #expect(result.status == 0, "\(result.output)\nlog:\n\(log.suffix(4000))")
        #expect(result.output.contains("dashboard: all checks passed"), "\(result.output)")
        let png = FileManager.default.contents(atPath: screenshot) ?? Data()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "no PNG screenshot at \(screenshot)")
    }
}
