// Synthetic PCB boards (Sources/Simulation) as a camera: a Pi or laptop without a webcam can run
// the whole line. Board k of seed S is always the same picture.

import ImageKit
import Simulation

/// Renders boards at a frame rate, JPEG quality 85 like the seed's camera.
public struct SyntheticFrameSource: FrameSource {
    public let renderer: BoardRenderer
    public let fps: Double
    public let quality: Int

    public init(seed: UInt64, fps: Double, width: Int = 640, height: Int = 480, defectRate: Double = 0.3, quality: Int = 85) {
        renderer = BoardRenderer(seed: seed, config: RenderConfig(width: width, height: height, defectRate: defectRate))
        self.fps = fps
        self.quality = quality
    }

    public func frames() -> AsyncThrowingStream<CapturedFrame, Error> {
        let renderer = renderer, quality = quality
        return .paced(fps: fps) { sequence in
            try JPEGCodec().encode(renderer.render(index: sequence).image, quality: quality)
        }
    }
}

/// Frames prepared in advance, released on a schedule: the virtual line's cameras.
public struct ListFrameSource: FrameSource {
    public struct Item: Sendable {
        public var jpeg: [UInt8]
        public var boardId: String?
        public init(jpeg: [UInt8], boardId: String? = nil) {
            self.jpeg = jpeg
            self.boardId = boardId
        }
    }

    public let items: [Item]
    /// Monotonic start time of item k: `start + k / fps`.
    public let start: Double
    public let fps: Double

    public init(items: [Item], start: Double, fps: Double) {
        self.items = items
        self.start = start
        self.fps = fps
    }

    public func frames() -> AsyncThrowingStream<CapturedFrame, Error> {
        let items = items, start = start, fps = fps
        return AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in  // every board counts
            let task = Task.detached {
                let clock = MonotonicClock()
                for (k, item) in items.enumerated() {
                    let wait = start + Double(k) / fps - clock.now
                    if wait > 0 { try? await Task.sleep(for: .microseconds(Int(wait * 1e6))) }
                    if Task.isCancelled { break }
                    continuation.yield(CapturedFrame(sequence: k, jpeg: item.jpeg, captureTime: .now,
                                                     capturedAt: clock.now, boardId: item.boardId))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
