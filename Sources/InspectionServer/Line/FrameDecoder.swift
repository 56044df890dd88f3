// The line's first stage: a base64 JPEG field as the camera sent it -> the JPEG bytes (kept
// for the history and the dashboard) and its pixels, bounded by the codec's pixel limit.

import Foundation
import ImageKit

/// Turns a base64 JPEG into pixels.
struct FrameDecoder: Sendable {
    let codec: JPEGCodec

    struct DecodedFrame: Sendable {
        let jpeg: [UInt8]
        let image: RGBImage
    }

    /// Decodes base64 (standard alphabet; whitespace and a `data:image/jpeg;base64,` prefix
    /// tolerated) and then the JPEG. Bad base64 or JPEG -> `.undecodableFrame`; a frame over
    /// the pixel limit -> `.frameTooLarge`.
    func decode(base64 text: String) throws(InspectionLineError) -> DecodedFrame {
        var payload = Substring(text)
        if payload.hasPrefix("data:"), let comma = payload.firstIndex(of: ",") {
            payload = payload[payload.index(after: comma)...]
        }
        guard let data = Data(base64Encoded: String(payload), options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw .undecodableFrame("frame is not valid base64")
        }
        let bytes = [UInt8](data)
        do {
            return DecodedFrame(jpeg: bytes, image: try codec.decode(bytes))
        } catch {
            if error.label == "too_large" { throw .frameTooLarge(error.description) }
            throw .undecodableFrame(error.description)
        }
    }
}
