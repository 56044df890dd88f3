// Boards drawn by the real renderer (`pcb dataset synth`), decoded: the frames the tests on
// trained weights run the bundled detector on.

import Foundation
import ImageKit

/// `count` rendered 640x480 frames of `seed`, in file order; the folder is removed after.
func renderedBoards(count: Int, seed: Int) throws -> [RGBImage] {
    let directory = NSTemporaryDirectory() + "pcb-boards-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let synth = try run(try pcbExecutable().path, ["dataset", "synth", "--out", directory, "--count", "\(count)", "--seed", "\(seed)",
                                                  "--size", "640x480", "--val-fraction", "0"])
    guard synth.status == 0 else { throw RenderError(output: synth.output) }
    let folder = directory + "/images/train"
    return try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map {
        try JPEGCodec().decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0))))
    }
}

/// `pcb dataset synth` failed; its output says why.
struct RenderError: Error, CustomStringConvertible {
    var output: String
    var description: String { "pcb dataset synth failed: \(output)" }
}
