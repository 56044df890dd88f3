// `pcb engine calibrate`: the int8 calibration pass. Runs the model in fp32 on a folder of frames
// (letterboxed as the server does) and writes, beside the model, the range each convolution's
// input took (`<model>.int8.json`, Detection/Int8Calibration.swift), which `--precision int8`
// quantises with. Argument parsing and printing only.

import ArgumentParser
import Detection
import Foundation
import ImageKit
import Inspection
import NeuralEngine

struct EngineCalibrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure each convolution's input range on a folder of frames; write <model>.int8.json for --precision int8.",
        discussion: """
            Use frames like the line's (the cameras' boards, good and defective); a few dozen to a few hundred are \
            enough. The record names the model file's fingerprint. Then check the accuracy before serving int8: \
            `pcb engine check-precision` evaluates int8 against fp32 once the calibration is there.
            """)

    @Option(help: "ONNX detection model exported by Ultralytics.") var model: String
    @Option(help: "Folder of JPEG frames (searched recursively).") var images: String
    @Option(help: "Frames to use at most (evenly spread over the folder's sorted files).") var count = 200
    @Option(help: "Engine threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Where to write the calibration (default: beside the model).") var out: String?

    func validate() throws {
        guard count >= 1, threads >= 1 else { throw ValidationError("--count and --threads must be positive") }
    }

    func run() async throws {
        guard let modelBytes = FileManager.default.contents(atPath: model) else { throw ValidationError("cannot read \(model)") }
        let fingerprint = OperatingPoint.fingerprint(modelBytes)
        let all = try ImageFiles.expand([images])
        guard !all.isEmpty else { throw ValidationError("no JPEG frames in \(images)") }
        let step = Swift.max(1, all.count / count)
        let chosen = stride(from: 0, to: all.count, by: step).prefix(count).map { all[$0] }
        let detector = try YOLODetector(path: model, threads: threads)
        let codec = JPEGCodec()
        let ranges = try detector.calibrationRanges(count: chosen.count) { index in
            if index > 0 && index % 20 == 0 {
                FileHandle.standardError.write(Data("calibrated on \(index)/\(chosen.count) frames\n".utf8))
            }
            let path = chosen[index]
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            do { return try codec.decode([UInt8](data)) } catch { throw ValidationError("\(path): \(error)") }
        }
        guard FileManager.default.contents(atPath: model).map(OperatingPoint.fingerprint) == fingerprint else {
            throw ValidationError("\(model) changed during the calibration: run it again")
        }
        let calibration = Int8Calibration(model: (model as NSString).lastPathComponent, modelFingerprint: fingerprint,
                                          images: chosen.count, source: images, ranges: ranges)
        let path = out ?? Int8Calibration.path(besideModel: model)
        try calibration.encoded().write(to: URL(fileURLWithPath: path))
        print("wrote \(path): the input ranges of \(ranges.count) convolutions over \(chosen.count) frames")
    }
}
