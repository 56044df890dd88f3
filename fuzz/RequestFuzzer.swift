// libFuzzer entry point for the request path of `POST /predict`: the raw body as a camera
// would send it, through the server's own code: the JSON object and its typed fields
// (Routes/JSONFields.swift), the capture timestamp (Support/CaptureTimestamp.swift), the base64
// frame and its JPEG (Line/FrameDecoder.swift, ImageKit). Every input must end in a value or
// a thrown error; a trap, an overflow or a memory error is a finding. Built and run by
// fuzz/run.sh; inputs that found a bug are kept in fuzz/corpus and replayed by the tests.

import Foundation
import ImageKit

/// The server's limits, smaller than the shipped ones so the fuzzer spends its time on parsing.
let codec = JPEGCodec(maxPixels: 4_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let body = Data(bytes: data, count: size)
    // The same bytes as a JPEG file (a golden board's PUT body, a frame after base64).
    _ = try? codec.decode([UInt8](body))
    guard let fields = try? JSONFields(parsing: body) else { return 0 }
    for key in ["camera_id", "timestamp", "frame", "frame_left", "frame_right"] { _ = try? fields.string(key) }
    for key in ["board_id", "request_id"] { _ = try? fields.identifier(key) }
    _ = try? fields.boolean("wait_for_board")
    if let timestamp = try? fields.string("timestamp") { _ = CaptureTimestamp.parse(timestamp) }
    let decoder = FrameDecoder(codec: codec)
    for key in ["frame", "frame_left", "frame_right"] {
        if let frame = try? fields.string(key) { _ = try? decoder.decode(base64: frame) }
    }
    return 0
}
