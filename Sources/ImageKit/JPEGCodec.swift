// JPEG decoding and encoding through libjpeg-turbo's TurboJPEG API (Debian 12: 2.1.5, tj*).
//
// Decoding refuses anything that is not a complete, valid JPEG: a truncated or corrupt file
// is an error, not a half-grey picture, because a missing half of a board must never pass
// inspection. The pixel count is checked from the header before any pixel memory is taken,
// and a progressive JPEG with an absurd number of scans (a few kilobytes that burn minutes of
// CPU) is refused after libjpeg-turbo's scan limit (TJFLAG_LIMITSCANS: 500 scans).

import CTurboJPEG

/// Decodes and encodes JPEG images. Each call uses its own TurboJPEG handle, so one codec
/// value can be shared by many threads.
public struct JPEGCodec: Sendable {
    /// Largest picture accepted by `decode`, in pixels (width x height).
    public var maxPixels: Int

    /// - Parameter maxPixels: default 40 megapixels, far above any line camera, far below
    ///   what would exhaust memory.
    public init(maxPixels: Int = 40_000_000) {
        self.maxPixels = maxPixels
    }

    /// Width and height from the JPEG header, without decoding pixels.
    public func dimensions(of data: [UInt8]) throws(ImageError) -> (width: Int, height: Int) {
        guard data.count >= 4, data[0] == 0xFF, data[1] == 0xD8 else { throw .notJPEG() }
        guard let handle = tjInitDecompress() else { throw .corrupt("decoder unavailable") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = data.withUnsafeBufferPointer { buffer in
            tjDecompressHeader3(handle, buffer.baseAddress, UInt(buffer.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else { throw .corrupt(Self.message(handle)) }
        guard width > 0, height > 0 else { throw .emptyImage() }
        return (Int(width), Int(height))
    }

    /// Decodes a colour or grayscale JPEG into RGB pixels.
    public func decode(_ data: [UInt8]) throws(ImageError) -> RGBImage {
        let (width, height) = try dimensions(of: data)
        guard width.multipliedReportingOverflow(by: height).partialValue <= maxPixels, width <= 65_535, height <= 65_535 else {
            throw .tooLarge(width: width, height: height, limit: maxPixels)
        }
        guard let handle = tjInitDecompress() else { throw .corrupt("decoder unavailable") }
        defer { tjDestroy(handle) }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let status = data.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, UInt(source.count), target.baseAddress,
                              Int32(width), Int32(width * 3), Int32(height), Int32(TJPF_RGB.rawValue), Int32(TJFLAG_LIMITSCANS))
            }
        }
        // A warning (for example "premature end of data segment") still means the picture is
        // incomplete: refuse it as well.
        guard status == 0 else { throw .corrupt(Self.message(handle)) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Encodes RGB pixels as a baseline JPEG with 4:2:0 chroma subsampling (or one gray channel).
    ///
    /// - Parameters:
    ///   - quality: 1...100; the seed's cameras use 85.
    ///   - grayscale: write a single-channel JPEG (like DeepPCB's line-scan images).
    ///   - progressive: write a progressive JPEG (several scans) instead of a baseline one.
    public func encode(_ image: RGBImage, quality: Int = 85, grayscale: Bool = false, progressive: Bool = false) throws(ImageError) -> [UInt8] {
        guard let handle = tjInitCompress() else { throw .encodeFailed("encoder unavailable") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { source in
            tjCompress2(handle, source.baseAddress, Int32(image.width), Int32(image.width * 3), Int32(image.height),
                        Int32(TJPF_RGB.rawValue), &output, &size, Int32(grayscale ? TJSAMP_GRAY.rawValue : TJSAMP_420.rawValue),
                        Int32(max(1, min(100, quality))), progressive ? Int32(TJFLAG_PROGRESSIVE) : 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else { throw .encodeFailed(Self.message(handle)) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    private static func message(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: text)
    }
}
