// Saves the JPEG of each non-normal inspection (and of each frame kept for labelling) to disk
// under a unique name.
//
// The seed named files `{camera}_{type}_{YYYYmmdd_HHMMSS}.jpg`, which collides when two
// frames of one camera arrive within a second. We keep that readable prefix (with the
// English category code instead of the Korean label, so names are plain ASCII) and add the
// microseconds and a random suffix. Files are written to a temporary name, flushed to disk
// and renamed (and the folder synced), so a crash never leaves a half-written image under a
// final name. With a `DiskSpaceGuard`, an image is not written while the disk is low or full:
// the inspection is stored without it. Images older than the retention are removed by
// `removeImages(olderThan:)` (the rows stay).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The folder of defect images.
public struct DefectImageFolder: Sendable {
    public let directory: String
    /// Free-space check before each image; nil writes regardless.
    public let diskGuard: DiskSpaceGuard?

    public init(directory: String, diskGuard: DiskSpaceGuard? = nil) {
        self.directory = directory
        self.diskGuard = diskGuard
    }

    /// Creates the folder if needed.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A unique file name: `left_discard_20261126_165245_768635_3fa2c1.jpg`.
    public func fileName(cameraId: String, category: String, localTime: String) -> String {
        // localTime: "YYYY-MM-DD HH:MM:SS.ffffff"
        let digits = localTime.filter(\.isNumber)
        let stamp = digits.count >= 20
            ? "\(digits.prefix(8))_\(digits.dropFirst(8).prefix(6))_\(digits.dropFirst(14).prefix(6))"
            : digits
        let suffix = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
        let safeCamera = String(cameraId.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(32))
        return "\(safeCamera)_\(category)_\(stamp)_\(suffix).jpg"
    }

    /// Writes the image of `inspection` (if it has one) under a unique name; returns its path,
    /// or nil when there is no image or the disk guard keeps it from being written.
    func write(imageOf inspection: NewInspection, localTime: String) throws -> String? {
        guard let bytes = inspection.image else { return nil }
        return try write(jpeg: bytes, cameraId: inspection.cameraId, category: inspection.category.rawValue, localTime: localTime)
    }

    /// Writes a frame's JPEG under a unique name; nil when the disk guard keeps it from being written.
    func write(jpeg bytes: [UInt8], cameraId: String, category: String, localTime: String) throws -> String? {
        if let diskGuard, !diskGuard.admitsImage() { return nil }
        do {
            let path = try write(bytes, name: fileName(cameraId: cameraId, category: category, localTime: localTime))
            diskGuard?.recordWritten(bytes: bytes.count)
            return path
        } catch let error as StoreError where error.isDiskFull && diskGuard != nil {
            // The verdict matters more than its picture: store the row without it.
            diskGuard?.recordDiskFull()
            return nil
        }
    }

    /// Writes `bytes` durably and returns the full path.
    public func write(_ bytes: [UInt8], name: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        let temporary = path + ".part"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.imageWrite(path: temporary, errno: errno) }
        var written = 0
        let failure: Int32? = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += result
            }
            return fsync(fd) == 0 ? nil : errno
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw StoreError.imageWrite(path: path, errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw StoreError.imageWrite(path: path, errno: code)
        }
        // The rename is durable only once the folder's entry is on disk too.
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
        return path
    }

    /// Removes the images (and leftover `.part` files) last modified before `cutoff`; returns
    /// how many were removed. The rows that named them stay: the API then says the image expired.
    @discardableResult
    public func removeImages(olderThan cutoff: Date) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names where name.hasSuffix(".jpg") || name.hasSuffix(".part") {
            let path = (directory as NSString).appendingPathComponent(name)
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
            if modified < cutoff && unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Removes a file written for a save that then failed.
    public func remove(path: String) {
        unlink(path)
    }
}
