// A USB webcam through Video4Linux2 (`/dev/videoN`, the seed's `--camera_index N`). MJPEG
// frames are passed through as the camera made them (no decode, no re-encode); cameras that
// only offer YUYV are converted to RGB and encoded at quality 85, like the seed's OpenCV client.
// Capture runs on its own thread at the camera's rate; the stream keeps only the newest frame.

import CLinuxIO
import Foundation
import ImageKit

/// Captures from a V4L2 device.
public struct V4L2FrameSource: FrameSource {
    public let devicePath: String
    public let width: Int
    public let height: Int
    public let quality: Int
    /// Pass MJPEG through when the camera offers it (false: always YUYV + encode).
    public let allowMJPEG: Bool

    public init(devicePath: String, width: Int = 640, height: Int = 480, quality: Int = 85, allowMJPEG: Bool = true) {
        self.devicePath = devicePath
        self.width = width
        self.height = height
        self.quality = quality
        self.allowMJPEG = allowMJPEG
    }

    public func frames() -> AsyncThrowingStream<CapturedFrame, Error> {
        let source = self
        return AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let stop = StopFlag()
            let thread = Thread {
                do {
                    try source.capture(until: stop) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.name = "v4l2-capture"
            thread.start()
            continuation.onTermination = { _ in stop.set() }
        }
    }

    /// The capture loop (blocking; on the capture thread).
    private func capture(until stop: StopFlag, deliver: (CapturedFrame) -> Void) throws {
        var camera = clinuxio_camera()
        let opened = clinuxio_camera_open(devicePath, UInt32(width), UInt32(height), allowMJPEG ? 1 : 0, &camera)
        guard opened == 0 else {
            throw FrameSourceError("cannot open camera \(devicePath): \(String(cString: strerror(-opened)))")
        }
        defer { clinuxio_camera_close(&camera) }
        let clock = MonotonicClock()
        let codec = JPEGCodec()
        var sequence = 0
        var timeouts = 0
        while !stop.isSet {
            var index: UInt32 = 0, used: UInt32 = 0, corrupt: Int32 = 0
            let r = clinuxio_camera_dequeue(&camera, 200, &index, &used, &corrupt)
            if r == -ETIMEDOUT {
                timeouts += 1
                if timeouts * 200 >= 5000 { throw FrameSourceError("camera \(devicePath) sent no frame for 5 s") }
                continue
            }
            guard r == 0 else { throw FrameSourceError("camera \(devicePath) failed: \(String(cString: strerror(-r)))") }
            timeouts = 0
            let capturedAt = clock.now, captureTime = Date()
            let bytes = withUnsafePointer(to: &camera.buffers) { tuple in
                tuple.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: Int(CLINUXIO_V4L2_MAX_BUFFERS)) {
                    UnsafeRawBufferPointer(start: $0[Int(index)], count: Int(used))
                }
            }
            var jpeg: [UInt8]? = nil
            if corrupt != 0 {
                jpeg = nil  // the driver flagged the buffer
            } else if camera.format == CLINUXIO_MJPEG {
                // A whole JPEG starts with SOI (FF D8); anything else is a torn USB transfer.
                jpeg = bytes.count > 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 ? Array(bytes) : nil
            } else if let image = YUYV.toRGB(bytes, width: Int(camera.width), height: Int(camera.height),
                                              bytesPerLine: Int(camera.bytes_per_line)) {
                jpeg = try? codec.encode(image, quality: quality)
            }
            let requeued = clinuxio_camera_requeue(&camera, index)
            guard requeued == 0 else {
                throw FrameSourceError("camera \(devicePath) failed: \(String(cString: strerror(-requeued)))")
            }
            // A short or corrupt buffer (USB hiccup) is skipped, not sent.
            guard let jpeg, !jpeg.isEmpty else { continue }
            deliver(CapturedFrame(sequence: sequence, jpeg: jpeg, captureTime: captureTime, capturedAt: capturedAt))
            sequence += 1
        }
    }
}

/// A flag set once from any thread.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// YUYV 4:2:2 (two pixels in four bytes: Y0 U Y1 V) to RGB, BT.601 limited range as webcams send it.
public enum YUYV {
    /// nil when the buffer is too short for the size (a truncated frame).
    public static func toRGB(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerLine: Int) -> RGBImage? {
        guard width > 0, height > 0, width % 2 == 0, bytesPerLine >= width * 2,
              bytes.count >= bytesPerLine * (height - 1) + width * 2 else { return nil }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = y * bytesPerLine
                for pair in 0..<(width / 2) {
                    let i = row + pair * 4
                    let u = Int(bytes[i + 1]) - 128, v = Int(bytes[i + 3]) - 128
                    for k in 0..<2 {
                        let c = 298 * (Int(bytes[i + 2 * k]) - 16)
                        let o = (y * width + pair * 2 + k) * 3
                        out[o] = clamp((c + 409 * v + 128) >> 8)
                        out[o + 1] = clamp((c - 100 * u - 208 * v + 128) >> 8)
                        out[o + 2] = clamp((c + 516 * u + 128) >> 8)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func clamp(_ value: Int) -> UInt8 { UInt8(max(0, min(255, value))) }
}
