// Keeps the data disk from filling: below a minimum of free space the server stops writing
// image files (defect images, the outage journal's JPEGs) but keeps judging and storing rows,
// and starts again by itself once there is room. A line that stops for want of a picture
// loses boards; one that keeps the verdict without the picture loses only the picture.

import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The free-space check of the data directory, shared by everything that writes files there.
public final class DiskSpaceGuard: Sendable {
    /// What the guard last saw.
    public struct Status: Sendable, Equatable {
        /// Free bytes available to the server (nil when the file system could not be asked).
        public var freeBytes: Int64?
        /// Image files are not being written.
        public var low: Bool
        /// Images not saved because the disk was low, since start.
        public var imagesSkipped: Int
    }

    private struct State {
        var checkedAt: ContinuousClock.Instant?
        var freeBytes: Int64?
        var low = false
        var imagesSkipped = 0
    }

    public let directory: String
    public let minimumFreeBytes: Int64
    private let interval: Duration
    private let freeSpace: @Sendable (String) -> Int64?
    private let state = Mutex(State())

    /// - Parameters:
    ///   - directory: a folder on the disk to watch (the data directory).
    ///   - minimumFreeBytes: below this, files are not written; 0 turns the guard off.
    ///   - interval: how long a measurement is trusted (one `statvfs` per interval at most).
    ///   - freeSpace: how free space is measured (tests give their own).
    public init(directory: String, minimumFreeBytes: Int64, interval: Duration = .seconds(1),
                freeSpace: @escaping @Sendable (String) -> Int64? = DiskSpaceGuard.availableBytes) {
        self.directory = directory
        self.minimumFreeBytes = minimumFreeBytes
        self.interval = interval
        self.freeSpace = freeSpace
    }

    /// The current status, measured again when the last measurement is older than the interval.
    public var status: Status {
        let now = ContinuousClock.now
        return state.withLock { state in
            if state.checkedAt.map({ now - $0 >= interval }) ?? true {
                state.checkedAt = now
                state.freeBytes = freeSpace(directory)
                state.low = minimumFreeBytes > 0 && (state.freeBytes.map { $0 < minimumFreeBytes } ?? false)
            }
            return Status(freeBytes: state.freeBytes, low: state.low, imagesSkipped: state.imagesSkipped)
        }
    }

    /// Whether an image file may be written now; counts the image as skipped when not.
    public func admitsImage() -> Bool {
        guard status.low else { return true }
        state.withLock { $0.imagesSkipped += 1 }
        return false
    }

    /// `bytes` were just written: taken off the last measurement, so a burst of frames between
    /// two measurements cannot run past the minimum.
    public func recordWritten(bytes: Int) {
        state.withLock { state in
            guard let free = state.freeBytes else { return }
            state.freeBytes = free - Int64(bytes)
            state.low = minimumFreeBytes > 0 && state.freeBytes! < minimumFreeBytes
        }
    }

    /// A write failed with ENOSPC: low until the next measurement finds room (even with the
    /// guard off, so a full disk is reported as such).
    public func recordDiskFull() {
        state.withLock { state in
            state.low = true
            state.checkedAt = ContinuousClock.now
            state.imagesSkipped += 1
        }
    }

    /// Bytes available to unprivileged writers on the file system holding `path`.
    public static func availableBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
