// The one inference worker: a dedicated thread that owns the detector, fed by a bounded queue.
//
// Requests never run the model on an event loop or on Swift's cooperative pool: they enqueue a
// job and await its result. The worker takes the waiting jobs together, up to the model's
// batch size (the seed's batch worker, its Phase 4-2), runs them as one batch and answers
// each. When the queue is full, `submit` fails at once (the route answers 503 with
// Retry-After) instead of letting latency pile up. The model is warmed up before `isReady`.
// A reload hands the worker another detector, already warmed up elsewhere; the worker takes it
// between two batches, so no frame fails and none waits for more than the batch in progress.

import Detection
import Foundation
import ImageKit
import Inspection
import NeuralEngine
import Logging
import ServiceLifecycle
import Storage

/// What judges the boxes of a detector: the policy with that model's calibration applied, and
/// the provenance stored with each verdict. It travels with the detector through a reload, so
/// every frame is judged and recorded by the set whose model ran it.
public struct JudgingSet: Sendable {
    public var policy: DefectPolicy
    public var provenance: Provenance?

    public init(policy: DefectPolicy, provenance: Provenance?) {
        self.policy = policy
        self.provenance = provenance
    }

    /// Which thresholds judge the boards, for the log at start and on reload.
    public var thresholdsNote: String {
        provenance?.calibration.map { "the calibrated per-class thresholds of \($0)" } ?? "the policy's thresholds (no calibration)"
    }
}

/// The boxes of one job, and where its time went.
public struct InferenceOutcome: Sendable {
    /// One list of boxes per submitted frame.
    public var detections: [[DetectedDefect]]
    /// The anomaly model's finding per submitted frame (nil without one).
    public var anomalies: [AnomalyFinding?] = []
    /// Time spent waiting in the queue.
    public var queueMs: Double
    /// Time of the model run that included this job (shared by the batch).
    public var modelMs: Double
    /// Frames in that model run.
    public var batchFrames: Int
    /// The judging set of the detector that ran it.
    public var judging: JudgingSet
}

/// Why a job was not run.
public struct InferenceError: Error, CustomStringConvertible {
    enum Code { case queueFull, stopped, detectorFailed }
    let code: Code
    public let description: String

    static let queueFull = InferenceError(code: .queueFull, description: "inference queue is full")
    static let stopped = InferenceError(code: .stopped, description: "inference worker is stopped")
    static func detectorFailed(_ error: any Error) -> InferenceError {
        InferenceError(code: .detectorFailed, description: "detector failed: \(error)")
    }

    public var isQueueFull: Bool { code == .queueFull }
}

/// Runs the detector on its own thread; a `Service` so it stops with the application.
public final class InferenceWorker: Service, @unchecked Sendable {
    private struct Job {
        let frames: [RGBImage]
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<InferenceOutcome, any Error>
    }

    private let capacity: Int
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`:
    /// The detector batches run on and its judging set; replaced only between batches.
    private var detector: any DefectDetector
    private var judging: JudgingSet
    private var pendingDetector: (detector: any DefectDetector, judging: JudgingSet, taken: CheckedContinuation<any DefectDetector, Never>)?
    private var jobs: [Job] = []
    private var stopping = false
    private var ready = false
    private var started = false
    private var warmUpError: String?
    /// The anomaly model's last complaint, logged once per distinct message (worker thread only).
    private var lastAnomalyTrouble: String?

    /// Logs, once per distinct reason, when the anomaly model could not score a frame (for
    /// example a camera resolution it was not fitted for): the detector's verdicts go on.
    private func reportAnomalyTrouble(_ findings: [FrameFindings]) {
        let trouble = findings.lazy.compactMap(\.anomalyError).first
        if let trouble, trouble != lastAnomalyTrouble {
            logger.warning("anomaly model skipped a frame: \(trouble)")
        }
        lastAnomalyTrouble = trouble
    }

    /// - Parameters:
    ///   - detector: owned by the worker from now on.
    ///   - capacity: how many jobs may wait before `submit` refuses.
    ///   - judging: the policy and provenance that go with it (handed back with each outcome).
    public init(detector: any DefectDetector, judging: JudgingSet, capacity: Int, logger: Logger) {
        self.detector = detector
        self.judging = judging
        self.capacity = max(1, capacity)
        self.logger = logger
    }

    /// True once the model is loaded and warmed up.
    public var isReady: Bool { condition.withLock { ready } }
    /// The warm-up failure, if the model could not run.
    public var failure: String? { condition.withLock { warmUpError } }
    /// Jobs waiting right now.
    public var queueDepth: Int { condition.withLock { jobs.count } }
    public var modelDescription: String { condition.withLock { detector.modelDescription } }
    /// The number format of the serving detector's convolutions (it follows reloads).
    public var precision: Precision { condition.withLock { detector.precision } }
    public var flips: TestTimeFlips { condition.withLock { detector.flips } }
    /// The detector's class names (a reload checks the new model's against the policy).
    public var classNames: [String] { condition.withLock { detector.classNames } }

    /// Runs `newDetector` (already warmed up) from the next batch on; returns the detector it
    /// replaced once the worker has switched. A stopped worker switches at once.
    public func replaceDetector(with newDetector: any DefectDetector, judging newJudging: JudgingSet) async -> any DefectDetector {
        await withCheckedContinuation { continuation in
            let immediate: (any DefectDetector)? = condition.withLock {
                if stopping || !started {
                    let old = detector
                    detector = newDetector
                    judging = newJudging
                    return old
                }
                if let earlier = pendingDetector { earlier.taken.resume(returning: earlier.detector) }
                pendingDetector = (newDetector, newJudging, continuation)
                condition.signal()
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Starts the thread (idempotent). `run()` calls it; tests may call it directly.
    public func start() {
        let shouldStart = condition.withLock { () -> Bool in
            if started { return false }
            started = true
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in self.threadMain() }
        thread.name = "inference"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Runs until graceful shutdown, then stops the thread and fails waiting jobs.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }

    /// Stops the worker; jobs still waiting fail with `stopped`.
    public func stop() {
        let (pending, switched) = condition.withLock { () -> ([Job], (old: any DefectDetector, taken: CheckedContinuation<any DefectDetector, Never>)?) in
            stopping = true
            let pending = jobs
            jobs.removeAll()
            var switched: (old: any DefectDetector, taken: CheckedContinuation<any DefectDetector, Never>)?
            if let switching = pendingDetector {
                switched = (detector, switching.taken)
                detector = switching.detector
                judging = switching.judging
                pendingDetector = nil
            }
            condition.broadcast()
            return (pending, switched)
        }
        for job in pending { job.continuation.resume(throwing: InferenceError.stopped) }
        if let switched { switched.taken.resume(returning: switched.old) }
    }

    /// Queues `frames` to run together in one model call and waits for the boxes.
    /// Throws `InferenceError.queueFull` at once when `capacity` jobs already wait.
    public func submit(_ frames: [RGBImage]) async throws -> InferenceOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let refusal: InferenceError? = condition.withLock {
                if stopping { return .stopped }
                if jobs.count >= capacity { return .queueFull }
                jobs.append(Job(frames: frames, enqueued: .now, continuation: continuation))
                condition.signal()
                return nil
            }
            if let refusal { continuation.resume(throwing: refusal) }
        }
    }

    private func threadMain() {
        let clock = ContinuousClock()
        let detector = condition.withLock { self.detector }
        do {
            let duration = try clock.measure { try detector.warmUp() }
            logger.info("model warmed up", metadata: ["model": "\(detector.modelDescription)", "ms": "\(duration.milliseconds)"])
            condition.withLock { ready = true }
        } catch {
            logger.critical("model warm-up failed: \(error)")
            condition.withLock { warmUpError = "\(error)" }
        }
        while let (batch, detector, judging) = nextBatch() {
            let startedAt = ContinuousClock.Instant.now
            let frames = batch.flatMap(\.frames)
            let result = Result { try detector.inspect(frames) }
            if case .success(let findings) = result { reportAnomalyTrouble(findings) }
            let modelMs = (ContinuousClock.Instant.now - startedAt).milliseconds
            switch result {
            case .success(let findings) where findings.count == frames.count:
                var offset = 0
                for job in batch {
                    let slice = findings[offset..<(offset + job.frames.count)]
                    offset += job.frames.count
                    job.continuation.resume(returning: InferenceOutcome(
                        detections: slice.map(\.boxes), anomalies: slice.map(\.anomaly),
                        queueMs: (startedAt - job.enqueued).milliseconds, modelMs: modelMs, batchFrames: frames.count,
                        judging: judging))
                }
            case .success(let detections):
                let error = InferenceError.detectorFailed(DetectorCountMismatch(expected: frames.count, got: detections.count))
                for job in batch { job.continuation.resume(throwing: error) }
            case .failure(let error):
                logger.error("detector failed: \(error)")
                for job in batch { job.continuation.resume(throwing: InferenceError.detectorFailed(error)) }
            }
        }
    }

    /// Waits for work; switches to a pending detector first (between batches), then takes the
    /// oldest job and as many following jobs as fit the batch, with the detector to run them on.
    private func nextBatch() -> ([Job], any DefectDetector, JudgingSet)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let pending = pendingDetector {
                pendingDetector = nil
                let old = detector
                detector = pending.detector
                judging = pending.judging
                pending.taken.resume(returning: old)
                logger.notice("model switched", metadata: ["from": "\(old.modelDescription)", "to": "\(detector.modelDescription)"])
            }
            if stopping || !jobs.isEmpty { break }
            condition.wait()
        }
        if stopping { return nil }
        var batch = [jobs.removeFirst()]
        var frames = batch[0].frames.count
        while let next = jobs.first, frames + next.frames.count <= detector.maxBatchSize {
            batch.append(jobs.removeFirst())
            frames += next.frames.count
        }
        return (batch, detector, judging)
    }
}

private struct DetectorCountMismatch: Error, CustomStringConvertible {
    let expected: Int
    let got: Int
    var description: String { "detector returned \(got) results for \(expected) frames" }
}

extension Duration {
    /// Whole duration in milliseconds, as a Double.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
