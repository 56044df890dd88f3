// The whole line on one machine (`pcb simulate line`): synthetic boards with known defects pass
// two virtual cameras; each side is posted by its own `CameraClient` exactly as the two Pis do
// (the left one holds its response for the board verdict and drives a dry-run actuator), and
// the recorded pulses are checked against the boards' ground truth: one pulse per board, on
// time, for the right category.
//
// A real line runs one product at a time: by default every board of a run is the same design
// (one layout per camera, drawn from the seed), and the server is taught each camera's golden
// board (a defect-free render of that design) before the first board, unless told not to.

import AsyncHTTPClient
import Foundation
import ImageKit
import Inspection
import Logging
import NIOCore
import SeededRandom
import Simulation
import Telemetry

/// Renders, runs and scores one virtual line run.
public struct VirtualLine: Sendable {
    public struct Configuration: Sendable {
        public var serverURL: String
        public var boards: Int
        /// Share of boards with at least one defect (on either side).
        public var defectRate: Double
        /// Boards per second passing the cameras.
        public var fps: Double
        public var seed: UInt64
        /// Send a `board_id` with both sides (else the server pairs by capture time).
        public var sendBoardIds: Bool
        public var apiToken: String?
        public var verdictTimeout: Double
        public var jpegQuality: Int
        /// One board design for the whole run (a product); false: every board another design.
        public var oneProduct: Bool
        /// Teach the server each camera's golden board before the run (one product only).
        public var teachReference: Bool

        public init(serverURL: String, boards: Int, defectRate: Double = 0.3, fps: Double = 2, seed: UInt64 = 2024,
                    sendBoardIds: Bool = false, apiToken: String? = nil, verdictTimeout: Double = 3, jpegQuality: Int = 85,
                    oneProduct: Bool = true, teachReference: Bool = true) {
            self.oneProduct = oneProduct
            self.teachReference = teachReference && oneProduct
            self.serverURL = serverURL
            self.boards = boards
            self.defectRate = defectRate
            self.fps = fps
            self.seed = seed
            self.sendBoardIds = sendBoardIds
            self.apiToken = apiToken
            self.verdictTimeout = verdictTimeout
            self.jpegQuality = jpegQuality
        }
    }

    /// The figures `pcb simulate line` prints (counts of boards; latency from capture to pulse).
    public struct Report: Sendable, Codable, Equatable {
        public var boards: Int
        public var paired: Int
        public var matching_ground_truth: Int
        public var fail_safe: Int
        public var duplicate_pulses: Int
        public var missing_pulses: Int
        public var latency_p50_ms: Double
        public var latency_p99_ms: Double
        /// Boards with a pulse, judged by the gate it opened: normal boards sent to a reject
        /// gate, defective boards sent to the normal gate, defective boards to another defect's gate.
        public var false_calls: Int = 0
        public var escapes: Int = 0
        public var wrong_category: Int = 0

        /// One JSON line, keys in the documented order.
        public var jsonLine: String {
            "{\"boards\": \(boards), \"paired\": \(paired), \"matching_ground_truth\": \(matching_ground_truth), "
                + "\"fail_safe\": \(fail_safe), \"duplicate_pulses\": \(duplicate_pulses), \"missing_pulses\": \(missing_pulses), "
                + "\"false_calls\": \(false_calls), \"escapes\": \(escapes), \"wrong_category\": \(wrong_category), "
                + "\"latency_p50_ms\": \(latency_p50_ms), \"latency_p99_ms\": \(latency_p99_ms)}"
        }
    }

    /// One board as rendered: both sides' JPEGs and the category its defects call for.
    public struct Board: Sendable {
        public var left: [UInt8]
        public var right: [UInt8]
        public var truth: CategoryCode
    }

    public let configuration: Configuration
    public let policy: DefectPolicy

    public init(configuration: Configuration, policy: DefectPolicy) {
        self.configuration = configuration
        self.policy = policy
    }

    /// Renders the boards (on every core; `progress` gets the count done).
    public func renderBoards(progress: @Sendable (Int) -> Void = { _ in }) throws -> [Board] {
        let n = configuration.boards
        // Per-side rate so that a board (two sides) is defective with the configured rate.
        let sideRate = 1 - (1 - min(max(configuration.defectRate, 0), 1)).squareRoot()
        let renderer = BoardRenderer(seed: configuration.seed, config: RenderConfig(defectRate: sideRate))
        let quality = configuration.jpegQuality, policy = policy
        let results = BoardSlots(count: n)
        let product = productLayouts
        DispatchQueue.concurrentPerform(iterations: n) { k in
            func side(_ index: Int, _ camera: Int) -> SyntheticBoard {
                var seeds = renderer.seeds(forIndex: index)
                if let product { seeds.layout = product[camera] }
                return renderer.render(seeds: seeds)
            }
            let sides = [side(2 * k, 0), side(2 * k + 1, 1)]
            let codes = sides.flatMap(\.labels).map { label -> CategoryCode in
                let name = DefectClass(rawValue: label.classIndex)?.name ?? ""
                return policy.classCategories[name] ?? policy.failSafeCategory
            }
            do {
                let codec = JPEGCodec()
                results.set(k, .success(Board(left: try codec.encode(sides[0].image, quality: quality),
                                              right: try codec.encode(sides[1].image, quality: quality),
                                              truth: codes.isEmpty ? .normal : policy.highestPriority(codes))))
            } catch {
                results.set(k, .failure(error))
            }
            progress(results.done)
        }
        return try results.values.map { try $0!.get() }
    }

    /// The layout seeds of the product's left and right views, nil for a run of mixed designs.
    var productLayouts: [UInt64]? {
        configuration.oneProduct ? [SplitMix64.derive(configuration.seed, 0x601D, 0), SplitMix64.derive(configuration.seed, 0x601D, 1)] : nil
    }

    /// Each camera's golden board: its view of the product, defect-free, under a camera of its own.
    public func goldenBoards() throws -> [(camera: String, jpeg: [UInt8])] {
        guard let product = productLayouts else { return [] }
        let renderer = BoardRenderer(seed: configuration.seed, config: RenderConfig(defectRate: 0))
        let codec = JPEGCodec()
        return try ["left", "right"].enumerated().map { index, camera in
            var seeds = renderer.seeds(forIndex: -1 - index)
            seeds.layout = product[index]
            return (camera, try codec.encode(renderer.render(seeds: seeds, defects: .none).image, quality: configuration.jpegQuality))
        }
    }

    /// Teaches the server the golden boards (`PUT /api/reference/{camera}`).
    public func teachGoldenBoards(_ boards: [(camera: String, jpeg: [UInt8])], http: HTTPClient) async throws {
        for board in boards {
            var request = HTTPClientRequest(url: configuration.serverURL + "/api/reference/" + board.camera)
            request.method = .PUT
            request.headers.add(name: "Content-Type", value: "image/jpeg")
            if let token = configuration.apiToken { request.headers.add(name: "Authorization", value: "Bearer " + token) }
            request.body = .bytes(board.jpeg)
            let response = try await http.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw VirtualLineError("the server refused the \(board.camera) golden board: \(response.status.code) \(String(buffer: body))")
            }
        }
    }

    /// Drives the server with both cameras and scores the pulses.
    public func run(boards: [Board], logger: Logger) async throws -> Report {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        if configuration.teachReference {
            do { try await teachGoldenBoards(try goldenBoards(), http: http) } catch {
                try? await http.shutdown()
                throw error
            }
        }
        let clock = MonotonicClock()
        let start = clock.now + 0.5
        let runTag = UUID().uuidString.prefix(8).lowercased()
        func source(_ side: KeyPath<Board, [UInt8]>) -> ListFrameSource {
            ListFrameSource(items: boards.enumerated().map { k, board in
                .init(jpeg: board[keyPath: side], boardId: configuration.sendBoardIds ? "sim-\(runTag)-\(k)" : nil)
            }, start: start, fps: configuration.fps)
        }
        let actuator = DryRunActuator(logger: logger, clock: clock)
        let failSafe = policy.category(policy.failSafeCategory).gpio
        // A camera sends every board: the pacing limit sits above the board rate.
        let sendRate = configuration.fps * 4
        let left = CameraClient(
            configuration: .init(cameraId: "left", fps: sendRate, waitForBoard: true, everyFrameIsABoard: true,
                                 verdictTimeout: configuration.verdictTimeout),
            source: source(\.left),
            uploader: FrameUploader(serverURL: configuration.serverURL, cameraId: "left", token: configuration.apiToken, client: http),
            actuator: actuator, failSafe: failSafe, logger: logger)
        let right = CameraClient(
            configuration: .init(cameraId: "right", fps: sendRate, everyFrameIsABoard: true),
            source: source(\.right),
            uploader: FrameUploader(serverURL: configuration.serverURL, cameraId: "right", token: configuration.apiToken, client: http),
            actuator: nil, failSafe: failSafe, logger: logger)
        do {
            async let l: Void = left.run()
            async let r: Void = right.run()
            _ = try await (l, r)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        let pulses = await actuator.pulses
        return score(pulses: pulses, boards: boards, captureTime: { start + Double($0) / configuration.fps })
    }

    /// Scores pulses against the boards: counts and capture-to-pulse latency.
    public func score(pulses: [PulseRecord], boards: [Board], captureTime: (Int) -> Double) -> Report {
        var byBoard: [Int: [PulseRecord]] = [:]
        for pulse in pulses { byBoard[pulse.board, default: []].append(pulse) }
        var paired = 0, matching = 0, failSafe = 0, duplicates = 0, missing = 0
        var latencies: [Double] = []
        var outcomes = VerdictOutcomes()
        for (k, board) in boards.enumerated() {
            guard let list = byBoard[k], let first = list.first else { missing += 1; continue }
            duplicates += list.count - 1
            if first.failSafe { failSafe += 1 } else { paired += 1 }
            if first.signal == policy.category(board.truth).gpio { matching += 1 }
            // The gate opened, read back as its category (a fail-safe pulse opens the fail-safe gate).
            let gate = policy.categoriesByPriority.first { $0.gpio.pin == first.signal.pin }?.code ?? policy.failSafeCategory
            outcomes.add(truth: board.truth, verdict: gate)
            latencies.append((first.at - captureTime(k)) * 1000)
        }
        let percentiles = Percentiles(latencies)
        func percentile(_ p: Double) -> Double { (percentiles.value(at: p) * 10).rounded() / 10 }
        return Report(boards: boards.count, paired: paired, matching_ground_truth: matching, fail_safe: failSafe,
                      duplicate_pulses: duplicates, missing_pulses: missing,
                      latency_p50_ms: percentile(50), latency_p99_ms: percentile(99),
                      false_calls: outcomes.falseCalls, escapes: outcomes.escapes, wrong_category: outcomes.wrongCategory)
    }
}

/// Results filled from many threads.
private final class BoardSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<VirtualLine.Board, Error>?]
    private var count = 0
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ k: Int, _ value: Result<VirtualLine.Board, Error>) {
        lock.withLock { slots[k] = value; count += 1 }
    }
    var done: Int { lock.withLock { count } }
    var values: [Result<VirtualLine.Board, Error>?] { lock.withLock { slots } }
}

/// Why a virtual line run could not start.
public struct VirtualLineError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
