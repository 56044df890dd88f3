// What the live dashboard shows, kept in memory as the line runs: today's counts per
// category, boards decided since start, the latest frames (their JPEG bytes, for the
// dashboard's board pictures) and boards, per-stage latency percentiles, and the defect rate
// per minute over the last hours. Fed by the `InspectionLine` and its board pairing; read as one
// `LiveSnapshot` by `GET /live/snapshot` and pushed to every `/ws/live` subscriber.
//
// As a `Service`, it publishes a snapshot to subscribers at most four times a second when
// something changed, and at least once a second (camera ages move on their own).

import Detection
import Foundation
import Inspection
import ServiceLifecycle
import Storage
import Synchronization

/// The dashboard's state and its subscribers.
public final class LiveFeed: Service, Sendable {
    /// How many frames (with their JPEG bytes) and boards the feed keeps for the dashboard.
    static let frameCapacity = 48
    static let boardCapacity = 8
    /// Latency samples kept per stage for the percentiles.
    static let latencyWindow = 1000
    /// The defect-rate chart: one bucket a minute over the last six hours.
    static let bucketSeconds = 60
    static let historySeconds = 6 * 3600

    /// The feed's bookkeeping, behind one lock.
    struct State {
        var day: String
        var todayCounts: [CategoryCode: Int] = [:]
        var boardCounts: [CategoryCode: Int] = [:]
        var failSafeBoards = 0
        var frames: [LiveFrame] = []
        var boards: [LiveBoard] = []
        var latencies: [String: RingBuffer] = [:]
        /// Minute bucket (seconds since 1970 / 60) -> (frames, defective frames).
        var history: [Int: (total: Int, defective: Int)] = [:]
        var changed = true
        var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]

        /// Today's counts start again at zero on a new day.
        mutating func roll(to today: String) {
            guard day != today else { return }
            day = today
            todayCounts = [:]
        }
    }

    /// The categories and class mapping the page shows (replaced by a policy reload).
    var policy: DefectPolicy { policyBox.withLock { $0 } }
    private let policyBox: Mutex<DefectPolicy>
    let cameras: CameraRegistry
    let storeTime: StoreTime
    let cameraOfflineAfterSeconds: Double
    /// Read at snapshot time: model, queue and database state.
    let status: @Sendable () async -> LiveSnapshot.Status
    private let state: Mutex<State>

    init(policy: DefectPolicy, cameras: CameraRegistry, storeTime: StoreTime, cameraOfflineAfterSeconds: Double,
         today: InspectionStatistics?, status: @escaping @Sendable () async -> LiveSnapshot.Status) {
        policyBox = Mutex(policy)
        self.cameras = cameras
        self.storeTime = storeTime
        self.cameraOfflineAfterSeconds = cameraOfflineAfterSeconds
        self.status = status
        var initial = State(day: storeTime.day(of: Date()))
        initial.todayCounts = today?.counts ?? [:]
        state = Mutex(initial)
    }

    /// Shows `policy`'s categories and class mapping from now on (a policy reload).
    func use(policy: DefectPolicy) {
        policyBox.withLock { $0 = policy }
    }

    // MARK: - Feeding

    /// A stored (not duplicate) inspection, with the JPEG the camera sent.
    func inspected(_ record: StoredInspection, jpeg: [UInt8], width: Int, height: Int, stages: StageTimes,
                   anomaly: AnomalyFinding? = nil, at date: Date = Date()) {
        let frame = LiveFrame(summary: .init(
            inspection_id: record.id, camera_id: record.cameraId, category: record.category.rawValue, label: record.defectType,
            confidence: rounded(record.confidence, 4), time: storeTime.iso8601(record.inspectionTime), width: width, height: height,
            boxes: record.boxes.map(WireBox.init), image_url: "/live/frames/\(record.id)", anomaly: anomaly.map(LiveAnomaly.init)),
            jpeg: jpeg)
        let today = storeTime.day(of: date)
        let minute = Int(date.timeIntervalSince1970) / Self.bucketSeconds
        state.withLock { state in
            state.roll(to: today)
            state.todayCounts[record.category, default: 0] += 1
            state.frames.append(frame)
            if state.frames.count > Self.frameCapacity { state.frames.removeFirst(state.frames.count - Self.frameCapacity) }
            for (stage, ms) in stages.named {
                state.latencies[stage, default: RingBuffer(capacity: Self.latencyWindow)].append(ms)
            }
            var bucket = state.history[minute] ?? (0, 0)
            bucket.total += 1
            if record.category != .normal { bucket.defective += 1 }
            state.history[minute] = bucket
            let oldest = minute - Self.historySeconds / Self.bucketSeconds
            if state.history.count > Self.historySeconds / Self.bucketSeconds + 1 {
                state.history = state.history.filter { $0.key > oldest }
            }
            state.changed = true
        }
    }

    /// A decided board (paired sides, a fail-safe board, or both sides of /predict_dual).
    func boardDecided(_ board: LiveBoard.Decision) {
        let decidedAt = storeTime.iso8601(of: Date())
        state.withLock { state in
            let frames = state.frames
            func frame(_ id: Int64) -> LiveFrame? { frames.last { $0.inspectionId == id } }
            let entry = LiveBoard(
                board_id: board.boardId, board_key: board.boardKey, category: board.category.code.rawValue, label: board.category.label,
                fail_safe: board.failSafe, missing_side: board.missingSide, decided_at: decidedAt,
                left: board.leftInspectionId.map { LiveBoard.Side(inspection_id: $0, frame: frame($0)?.summary) },
                right: board.rightInspectionId.map { LiveBoard.Side(inspection_id: $0, frame: frame($0)?.summary) })
            state.boards.append(entry)
            if state.boards.count > Self.boardCapacity { state.boards.removeFirst(state.boards.count - Self.boardCapacity) }
            state.boardCounts[board.category.code, default: 0] += 1
            if board.failSafe { state.failSafeBoards += 1 }
            state.changed = true
        }
    }

    /// The JPEG of a recent frame, nil once it has left the feed.
    func frameJPEG(inspectionId: Int64) -> [UInt8]? {
        state.withLock { state in state.frames.last { $0.inspectionId == inspectionId }?.jpeg }
    }

    /// A recent frame's camera and JPEG, nil once it has left the feed.
    func frame(inspectionId: Int64) -> (cameraId: String, jpeg: [UInt8])? {
        state.withLock { state in state.frames.last { $0.inspectionId == inspectionId }.map { ($0.summary.camera_id, $0.jpeg) } }
    }

    /// The JPEG of the latest frame from `cameraId` still in the feed.
    func latestFrameJPEG(camera cameraId: String) -> [UInt8]? {
        state.withLock { state in state.frames.last { $0.summary.camera_id == cameraId }?.jpeg }
    }

    // MARK: - Reading

    /// Everything the dashboard shows, now.
    func snapshot(now: Date = Date()) async -> LiveSnapshot {
        let policy = self.policy
        let status = await status()
        let cameraRows = cameras.cameras.map { id in
            let sighting = cameras.sighting(id)
            let age = cameras.secondsSinceLastFrame(id)
            return LiveSnapshot.Camera(
                camera_id: id, online: cameras.isOnline(id, window: cameraOfflineAfterSeconds),
                last_frame_age_s: age.map { rounded($0, 2) }, fps: rounded(sighting?.framesPerSecond ?? 0, 2), frames: sighting?.frames ?? 0)
        }
        let nowMinute = Int(now.timeIntervalSince1970) / Self.bucketSeconds
        let today = storeTime.day(of: now)
        let serverTime = storeTime.iso8601(of: now)
        return state.withLock { state in
            state.roll(to: today)
            let total = state.todayCounts.values.reduce(0, +)
            let defective = total - (state.todayCounts[.normal] ?? 0)
            let boardTotal = state.boardCounts.values.reduce(0, +)
            let firstMinute = nowMinute - Self.historySeconds / Self.bucketSeconds
            let points = state.history.filter { $0.key > firstMinute }.sorted { $0.key < $1.key }.map { minute, bucket in
                LiveSnapshot.RatePoint(t: Int64(minute * Self.bucketSeconds) * 1000, total: bucket.total, defective: bucket.defective)
            }
            var latency: [String: LiveSnapshot.Percentiles] = [:]
            for (stage, samples) in state.latencies {
                latency[stage] = LiveSnapshot.Percentiles(samples.values)
            }
            return LiveSnapshot(
                server_time: serverTime, model_ready: status.modelReady, model: status.model, precision: status.precision,
                test_time_flips: status.flips, database_online: status.databaseOnline,
                queue_depth: status.queueDepth, journal_pending: status.journalPending, disk_low: status.diskLow,
                categories: CategoryCode.allCases.map { code in
                    LiveSnapshot.Category(code: code.rawValue, label: policy.category(code).label, gpio_pin: policy.category(code).gpio.pin)
                },
                class_categories: policy.classCategories.mapValues(\.rawValue),
                today: LiveSnapshot.Counts(
                    day: state.day, total: total,
                    counts: Dictionary(uniqueKeysWithValues: CategoryCode.allCases.map { ($0.rawValue, state.todayCounts[$0] ?? 0) }),
                    defect_rate: total == 0 ? 0 : rounded(Double(defective) / Double(total) * 100, 2)),
                boards: LiveSnapshot.BoardCounts(
                    total: boardTotal,
                    counts: Dictionary(uniqueKeysWithValues: CategoryCode.allCases.map { ($0.rawValue, state.boardCounts[$0] ?? 0) }),
                    fail_safe: state.failSafeBoards),
                cameras: cameraRows, latency_ms: latency,
                defect_rate_history: .init(bucket_s: Self.bucketSeconds, window_s: Self.historySeconds, points: points),
                recent_boards: state.boards.reversed(),
                recent_frames: state.frames.suffix(12).reversed().map(\.summary))
        }
    }

    /// The snapshot as the JSON text `/ws/live` sends.
    func snapshotJSON() async -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(await snapshot())) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - Subscribers

    /// A stream of snapshot JSON texts; a slow reader gets only the newest one.
    func subscribe() -> (id: UUID, updates: AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.subscribers[id] = continuation }
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Publishes every 250 ms when something changed, at least every second, until shutdown.
    public func run() async throws {
        var lastPublish = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(250))
            let due = ContinuousClock.now - lastPublish >= .seconds(1)
            let (changed, anyone) = state.withLock { state -> (Bool, Bool) in
                let changed = state.changed
                state.changed = false
                return (changed, !state.subscribers.isEmpty)
            }
            guard anyone, changed || due else { continue }
            let text = await snapshotJSON()
            lastPublish = ContinuousClock.now
            for continuation in state.withLock({ Array($0.subscribers.values) }) { continuation.yield(text) }
        }
        for continuation in state.withLock({ Array($0.subscribers.values) }) { continuation.finish() }
    }
}

/// A fixed number of the latest values.
struct RingBuffer {
    let capacity: Int
    private(set) var values: [Double] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
        values.reserveCapacity(capacity)
    }

    mutating func append(_ value: Double) {
        guard value.isFinite else { return }
        if values.count < capacity {
            values.append(value)
        } else {
            values[next] = value
            next = (next + 1) % capacity
        }
    }
}
