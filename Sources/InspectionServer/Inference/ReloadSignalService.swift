// SIGHUP reloads the model, anomaly model and policy files named by the configuration (as
// `POST /api/admin/reload` with them), the usual way to tell a daemon its files changed
// (`systemctl reload`, `kill -HUP`). Golden boards are not re-read: ones taught since start stay.

import Dispatch
import Foundation
import Logging
import ServiceLifecycle

struct ReloadSignalService: Service {
    let reloader: ModelReloader
    let configured: ModelReloader.Files
    let configuredPolicy: String
    let logger: Logger

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let reloader = reloader, configured = configured, policy = configuredPolicy, logger = logger
        source.setEventHandler {
            Task {
                do {
                    let outcome = try await reloader.reload(model: configured.model, anomaly: .some(configured.anomaly),
                                                            policy: policy)
                    logger.notice("SIGHUP: model reloaded", metadata: ["model": "\(outcome.model)"])
                } catch {
                    await reloader.record("SIGHUP reload refused, the serving model is kept: \(error)", level: "WARNING")
                }
            }
        }
        source.resume()
        try? await gracefulShutdown()
        source.cancel()
    }
}
