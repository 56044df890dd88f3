// A folder of JPEG images played as a camera (sorted by name, looping unless told to stop):
// replaying recorded frames on a laptop, or a Pi without a webcam.

import Foundation

/// Plays the `.jpg`/`.jpeg` files of a folder at a frame rate.
public struct FolderFrameSource: FrameSource {
    public let files: [URL]
    public let fps: Double
    public let loop: Bool

    /// - Throws: when the folder cannot be read or holds no JPEG file.
    public init(folder: String, fps: Double, loop: Bool = true) throws(FrameSourceError) {
        let url = URL(fileURLWithPath: folder)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw FrameSourceError("cannot read folder \(folder): \(error.localizedDescription)")
        }
        files = names.filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { url.appendingPathComponent($0) }
        guard !files.isEmpty else { throw FrameSourceError("no .jpg or .jpeg file in \(folder)") }
        self.fps = fps
        self.loop = loop
    }

    public func frames() -> AsyncThrowingStream<CapturedFrame, Error> {
        let files = files, loop = loop
        return .paced(fps: fps) { sequence in
            guard loop || sequence < files.count else { return nil }
            let file = files[sequence % files.count]
            do { return [UInt8](try Data(contentsOf: file)) } catch {
                throw FrameSourceError("cannot read \(file.path): \(error.localizedDescription)")
            }
        }
    }
}
