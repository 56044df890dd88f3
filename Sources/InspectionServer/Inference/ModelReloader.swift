// Switches a running line to another model without a restart (POST /api/admin/reload, SIGHUP)
// and back (POST /api/admin/rollback). The new set (detector, anomaly model, the calibration
// beside the model) is loaded and checked beside the serving one: the file inside the allowed
// model folder, the policy mapping its classes, its calibration made for its classes; then it
// is warmed up on its own thread and handed to the worker, which takes it between two batches.
// Until then, and whenever a check fails, the old set keeps serving. One reload at a time.

import Detection
import Foundation
import Inspection
import Logging
import NeuralEngine
import Storage

/// Why a reload was refused; the old set still serves.
struct ReloadError: Error, CustomStringConvertible {
    enum Code { case badRequest, unusable, busy, nothingToRollBack }
    let code: Code
    let description: String
}

actor ModelReloader {
    /// The files of a model set.
    struct Files: Sendable, Equatable {
        var model: String
        var anomaly: String?
    }

    struct Outcome: Sendable {
        let model: String
        let description: String
        let previous: String
    }

    private let worker: InferenceWorker
    private let pairing: BoardPairingService
    /// The policy file as read at start (before any calibration).
    private let basePolicy: DefectPolicy
    private let policyId: String
    /// `none` in the configuration: no calibration file is ever applied.
    private let calibrationOff: Bool
    private let threads: Int
    /// How far under the lowest threshold the detector still reports boxes (labelling).
    private let marginBelow: Float
    /// The number format the detector's convolutions run in.
    private let precision: Precision
    /// Absolute, symlinks resolved: model files must lie inside it.
    private let modelFolder: String
    private let store: any InspectionStore
    private let logger: Logger
    private var current: (files: Files, judging: JudgingSet)
    private var previous: (files: Files, detector: any DefectDetector, judging: JudgingSet)?
    private var busy = false

    init(worker: InferenceWorker, pairing: BoardPairingService, basePolicy: DefectPolicy, policyId: String, calibrationOff: Bool,
         threads: Int, precision: Precision = .fp32, marginBelow: Float = 0, modelFolder: String, files: Files, judging: JudgingSet, store: any InspectionStore, logger: Logger) {
        self.worker = worker
        self.pairing = pairing
        self.basePolicy = basePolicy
        self.policyId = policyId
        self.calibrationOff = calibrationOff
        self.threads = threads
        self.marginBelow = marginBelow
        self.precision = precision
        self.modelFolder = Self.resolved(modelFolder)
        self.current = (files, judging)
        self.store = store
        self.logger = logger
    }

    /// The model set now serving.
    var files: Files { current.files }
    /// What the serving set records with each verdict.
    var provenance: Provenance? { current.judging.provenance }

    /// Loads, checks and warms `model` (default: the current one, read again) with `anomaly`
    /// (default: the current one), then switches to it.
    func reload(model: String?, anomaly: String??) async throws(ReloadError) -> Outcome {
        guard !busy else { throw ReloadError(code: .busy, description: "another reload is in progress") }
        busy = true
        defer { busy = false }
        let files = Files(model: model ?? current.files.model, anomaly: anomaly ?? current.files.anomaly)
        for path in [files.model] + (files.anomaly.map { [$0] } ?? []) where !inside(path) {
            throw ReloadError(code: .badRequest, description: "\(path) is outside the model folder \(modelFolder) (model_dir)")
        }
        let (detector, judging) = try load(files)
        try await warmUp(detector)
        let outcome = await switchTo(files, detector, judging)
        await record("model reloaded: \(outcome.model) replaces \(outcome.previous)")
        return outcome
    }

    /// Switches back to the set that served before the last reload (kept loaded and warm).
    func rollback() async throws(ReloadError) -> Outcome {
        guard !busy else { throw ReloadError(code: .busy, description: "a reload is in progress") }
        guard let previous else { throw ReloadError(code: .nothingToRollBack, description: "no earlier model set to return to") }
        busy = true
        defer { busy = false }
        let outcome = await switchTo(previous.files, previous.detector, previous.judging)
        await record("model rolled back: \(outcome.model) replaces \(outcome.previous)")
        return outcome
    }

    /// Hands the set to the worker (taken between two batches) and keeps the one it replaces.
    private func switchTo(_ files: Files, _ detector: any DefectDetector, _ judging: JudgingSet) async -> Outcome {
        let old = await worker.replaceDetector(with: detector, judging: judging)
        await pairing.use(provenance: judging.provenance)
        let outcome = Outcome(model: judging.provenance?.model ?? files.model, description: detector.modelDescription,
                              previous: current.judging.provenance?.model ?? current.files.model)
        previous = (current.files, old, current.judging)
        current = (files, judging)
        return outcome
    }

    private func load(_ files: Files) throws(ReloadError) -> (any DefectDetector, JudgingSet) {
        do {
            // The calibration beside the new model, unless the configuration turned calibration off.
            let set = try ModelLoader.loadSet(model: files.model, anomaly: files.anomaly, calibration: calibrationOff ? "none" : nil,
                                              basePolicy: basePolicy, policyId: policyId, threads: threads,
                                              precision: precision, marginBelow: marginBelow)
            try set.judging.policy.validate(modelClasses: set.detector.classNames)
            return set
        } catch {
            throw ReloadError(code: .unusable, description: "\(error)")
        }
    }

    /// Runs the new detector once on its own thread, beside the worker that keeps serving.
    private func warmUp(_ detector: any DefectDetector) async throws(ReloadError) {
        let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Result { try detector.warmUp() }) }
            thread.name = "reload-warm-up"
            thread.stackSize = 16 << 20
            thread.start()
        }
        if case .failure(let error) = result {
            throw ReloadError(code: .unusable, description: "the new model failed its warm-up run: \(error)")
        }
    }

    private func inside(_ path: String) -> Bool {
        let full = Self.resolved(path)
        return full.hasPrefix(modelFolder.hasSuffix("/") ? modelFolder : modelFolder + "/")
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Logged and kept in `system_logs`.
    func record(_ message: String, level: String = "INFO") async {
        if level == "INFO" { logger.notice("\(message)") } else { logger.warning("\(message)") }
        try? await store.appendLog(SystemLogEntry(level: level, source: "reload", message: message))
    }
}
