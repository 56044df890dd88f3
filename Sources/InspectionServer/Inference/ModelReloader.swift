// Switches a running line to another model or policy without a restart (POST /api/admin/reload,
// SIGHUP) and back (POST /api/admin/rollback). The new set (detector, anomaly model, the
// calibration beside the model, the policy) is loaded and checked beside the serving one: the
// files inside the allowed folders, the policy mapping the model's classes, the calibration made
// for them; then it is warmed up on its own thread and handed to the worker, which takes it
// between two batches, and its policy to the board pairing and the live feed.
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

    /// A policy as read from its file (before any calibration), with its id.
    struct PolicyFile: Sendable {
        var policy: DefectPolicy
        var id: String
    }

    struct Outcome: Sendable {
        let model: String
        let description: String
        let previous: String
    }

    private let worker: InferenceWorker
    private let pairing: BoardPairingService
    private let live: LiveFeed?
    /// The serving policy file as read (before any calibration).
    private var basePolicy: PolicyFile
    /// Policy files given to a reload must lie here or in the model folder (absolute).
    private let policyFolder: String
    /// `none` in the configuration: no calibration file is ever applied.
    private let calibrationOff: Bool
    private let threads: Int
    /// How far under the lowest threshold the detector still reports boxes (labelling).
    private let marginBelow: Float
    /// The precision as configured (`auto` is resolved for each model loaded).
    private let precision: String
    /// Absolute, symlinks resolved: model files must lie inside it.
    private let modelFolder: String
    private let store: any InspectionStore
    private let logger: Logger
    private var current: (files: Files, judging: JudgingSet)
    private var previous: (files: Files, detector: any DefectDetector, judging: JudgingSet, base: PolicyFile)?
    private var busy = false

    init(worker: InferenceWorker, pairing: BoardPairingService, live: LiveFeed? = nil, basePolicy: DefectPolicy, policyId: String,
         policyPath: String? = nil, calibrationOff: Bool, threads: Int, precision: String = "fp32", marginBelow: Float = 0,
         modelFolder: String, files: Files, judging: JudgingSet, store: any InspectionStore, logger: Logger) {
        self.worker = worker
        self.pairing = pairing
        self.live = live
        self.basePolicy = PolicyFile(policy: basePolicy, id: policyId)
        self.policyFolder = Self.resolved(((policyPath ?? modelFolder) as NSString).deletingLastPathComponent)
        self.calibrationOff = calibrationOff
        self.threads = threads
        self.marginBelow = marginBelow
        self.precision = precision
        self.modelFolder = Self.resolved(modelFolder)
        self.current = (files, judging)
        self.store = store
        self.logger = logger
    }

    /// What the serving set records with each verdict.
    var provenance: Provenance? { current.judging.provenance }
    /// Every class the serving policy maps (what an operator's review may name).
    var policyClasses: Set<String> { Set(current.judging.policy.classCategories.keys) }

    /// Whether a file given to a reload lies inside the model folder (model_dir).
    nonisolated func isInsideModelFolder(_ path: String) -> Bool { Self.isInside(path, modelFolder) }

    /// Loads, checks and warms `model` (default: the current one, read again) with `anomaly`
    /// (default: the current one) and `policy` (a policy file; default: the serving one), then
    /// switches to it: the worker between two batches, the pairing and the live feed after.
    func reload(model: String?, anomaly: String??, policy: String? = nil) async throws(ReloadError) -> Outcome {
        guard !busy else { throw ReloadError(code: .busy, description: "another reload is in progress") }
        busy = true
        defer { busy = false }
        let files = Files(model: model ?? current.files.model, anomaly: anomaly ?? current.files.anomaly)
        for path in [files.model] + (files.anomaly.map { [$0] } ?? []) where !Self.isInside(path, modelFolder) {
            throw ReloadError(code: .badRequest, description: "\(path) is outside the model folder \(modelFolder) (model_dir)")
        }
        var base = basePolicy
        if let policy {
            guard Self.isInside(policy, modelFolder) || Self.isInside(policy, policyFolder) else {
                throw ReloadError(code: .badRequest, description: "\(policy) is outside the policy's folder \(policyFolder) and the model folder \(modelFolder)")
            }
            base = try Self.readPolicy(policy)
        }
        let (detector, judging) = try load(files, base: base)
        try await warmUp(detector)
        let outcome = await switchTo(files, detector, judging, base: base)
        await record("model reloaded: \(outcome.model) replaces \(outcome.previous)" + (policy.map { ", policy \($0)" } ?? ""))
        return outcome
    }

    /// The serving set, as a reload's answer names it (a reload that only teaches golden boards).
    func serving() throws(ReloadError) -> Outcome {
        guard !busy else { throw ReloadError(code: .busy, description: "another reload is in progress") }
        let model = current.judging.provenance?.model ?? current.files.model
        return Outcome(model: model, description: worker.modelDescription, previous: model)
    }

    /// Switches back to the set that served before the last reload (kept loaded and warm).
    func rollback() async throws(ReloadError) -> Outcome {
        guard !busy else { throw ReloadError(code: .busy, description: "a reload is in progress") }
        guard let previous else { throw ReloadError(code: .nothingToRollBack, description: "no earlier model set to return to") }
        busy = true
        defer { busy = false }
        let outcome = await switchTo(previous.files, previous.detector, previous.judging, base: previous.base)
        await record("model rolled back: \(outcome.model) replaces \(outcome.previous)")
        return outcome
    }

    /// Hands the set to the worker (taken between two batches), its policy to the pairing and
    /// the live feed, and keeps the set it replaces.
    private func switchTo(_ files: Files, _ detector: any DefectDetector, _ judging: JudgingSet, base: PolicyFile) async -> Outcome {
        let old = await worker.replaceDetector(with: detector, judging: judging)
        await pairing.use(provenance: judging.provenance)
        await pairing.use(policy: judging.policy)
        live?.use(policy: judging.policy)
        let outcome = Outcome(model: judging.provenance?.model ?? files.model, description: detector.modelDescription,
                              previous: current.judging.provenance?.model ?? current.files.model)
        previous = (current.files, old, current.judging, basePolicy)
        current = (files, judging)
        basePolicy = base
        return outcome
    }

    /// A policy file read and checked (every category defined, pins and labels unique).
    private static func readPolicy(_ path: String) throws(ReloadError) -> PolicyFile {
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return PolicyFile(policy: try DefectPolicy.load(yaml: text, fileName: path),
                              id: Provenance.fileId(name: (path as NSString).lastPathComponent, bytes: Array(text.utf8)))
        } catch {
            throw ReloadError(code: .unusable, description: "policy \(path): \(error)")
        }
    }

    private func load(_ files: Files, base: PolicyFile) throws(ReloadError) -> (any DefectDetector, JudgingSet) {
        do {
            // The calibration beside the new model, unless the configuration turned calibration off.
            let set = try ModelLoader.loadSet(model: files.model, anomaly: files.anomaly, calibration: calibrationOff ? "none" : nil,
                                              basePolicy: base.policy, policyId: base.id, threads: threads,
                                              precision: precision, marginBelow: marginBelow)
            try set.judging.policy.validate(modelClasses: set.detector.classNames)
            logger.info("the new detector's convolutions run in \(set.detector.precision)", metadata: ["why": "\(set.precisionNote)"])
            logger.info("the new detector's verdicts at \(set.judging.thresholdsNote)")
            return (set.detector, set.judging)
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

    private static func isInside(_ path: String, _ folder: String) -> Bool {
        resolved(path).hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
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
