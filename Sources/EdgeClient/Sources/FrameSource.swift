// Where a camera client's frames come from. A source is a stream of JPEG frames with their
// capture times; it never waits for the uploader (the stream keeps only the newest frames, so a
// slow consumer skips frames instead of building a backlog).
//
// Sources: V4L2 webcams (`V4L2FrameSource`), a folder of images (`FolderFrameSource`), the
// synthetic board renderer (`SyntheticFrameSource`), and a fixed list (`ListFrameSource`, the
// virtual line).

import Foundation

/// One captured frame.
public struct CapturedFrame: Sendable {
    /// Increasing per source, from 0.
    public var sequence: Int
    /// The JPEG bytes as they go on the wire.
    public var jpeg: [UInt8]
    /// Wall-clock capture time (sent as `timestamp`; the server pairs sides by it).
    public var captureTime: Date
    /// Monotonic capture time (`MonotonicClock`), for pacing and latency.
    public var capturedAt: Double
    /// The board this frame shows, when the source knows it (virtual line, trigger input).
    public var boardId: String?

    public init(sequence: Int, jpeg: [UInt8], captureTime: Date, capturedAt: Double, boardId: String? = nil) {
        self.sequence = sequence
        self.jpeg = jpeg
        self.captureTime = captureTime
        self.capturedAt = capturedAt
        self.boardId = boardId
    }
}

/// A camera, or something that stands in for one.
public protocol FrameSource: Sendable {
    /// Starts capturing. The stream ends when the source is exhausted (a folder played once)
    /// and throws when the device fails; cancelling the consumer stops capture.
    func frames() -> AsyncThrowingStream<CapturedFrame, Error>
}

/// Errors of frame sources.
public struct FrameSourceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension AsyncThrowingStream where Element == CapturedFrame, Failure == Error {
    /// A stream fed at `fps` by `produce(sequence)` (nil ends it), keeping only the newest frames.
    static func paced(fps: Double, clock: MonotonicClock = MonotonicClock(),
                      produce: @escaping @Sendable (Int) throws -> [UInt8]?) -> Self {
        AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task.detached {
                let interval = 1 / Swift.max(0.01, fps)
                var next = clock.now
                var sequence = 0
                while !Task.isCancelled {
                    let wait = next - clock.now
                    if wait > 0 { try? await Task.sleep(for: .milliseconds(Int((wait * 1000).rounded(.up)))) }
                    if Task.isCancelled { break }
                    do {
                        let capturedAt = clock.now
                        guard let jpeg = try produce(sequence) else { break }
                        continuation.yield(CapturedFrame(sequence: sequence, jpeg: jpeg, captureTime: Date(), capturedAt: capturedAt))
                    } catch {
                        continuation.finish(throwing: error)
                        return
                    }
                    sequence += 1
                    next = Swift.max(next + interval, clock.now - interval)  // never burst to catch up
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
