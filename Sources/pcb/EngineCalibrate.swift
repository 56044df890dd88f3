// `pcb engine calibrate`: the int8 calibration pass. Runs the model in fp32 on a folder of frames
// (letterboxed as the server does) and writes, beside the model, the range each convolution's
// input took (`<model>.int8.json`, Detection/Int8Calibration.swift), which `--precision int8`
// quantises with. Argument parsing and printing; how `--ranges auto` chooses the rule is
// Detection/Int8RangeChoice.swift's.

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
    @Option(help: """
        How the frames' ranges become one per convolution: extremes (the widest seen), mean (of each frame's lowest \
        and highest value), or auto (measure both on three frames in four, keep the one whose int8 class scores stray \
        least from fp32's on the fourth).
        """)
    var ranges = "auto"

    func validate() throws {
        guard count >= 1, threads >= 1 else { throw ValidationError("--count and --threads must be positive") }
        guard ranges == "auto" || CalibrationEstimator(rawValue: ranges) != nil else {
            throw ValidationError("--ranges must be auto or one of \(CalibrationEstimator.allCases.map(\.rawValue).joined(separator: ", "))")
        }
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
        func frame(_ path: String) throws -> RGBImage {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            do { return try codec.decode([UInt8](data)) } catch { throw ValidationError("\(path): \(error)") }
        }
        // auto compares the rules in int8 on frames held out; without int8 or frames to hold out it
        // keeps the widest ranges.
        let compare = ranges == "auto" && Int8RangeChoice.canChoose(frames: chosen.count)
        if ranges == "auto" && !compare {
            print(Precision.int8.runs(on: .host) ? "fewer than 4 frames: keeping the widest ranges (extremes) without comparing"
                  : "this CPU does not run int8, so the rules cannot be compared here: keeping the widest ranges (extremes)")
        }
        var loaded = 0
        let outcome = try Int8RangeChoice.calibrate(detector, path: model, threads: threads, count: chosen.count,
                                                    rule: compare ? nil : CalibrationEstimator(rawValue: ranges) ?? .extremes) { index in
            loaded += 1
            if loaded % 20 == 0 { FileHandle.standardError.write(Data("calibrated on \(loaded)/\(chosen.count) frames\n".utf8)) }
            return try frame(chosen[index])
        }
        if !outcome.trials.isEmpty {
            print("int8 class scores against fp32 on \(outcome.checkFrames) check frames (scores >= 0.05):")
            for trial in outcome.trials {
                print("  \(trial.estimator.rawValue): mean |difference| \(String(format: "%.5f", trial.error.mean)), "
                      + "largest \(String(format: "%.4f", trial.error.largest)) over \(trial.error.entries) scores")
            }
        }
        let estimator = outcome.estimator, measured = outcome.ranges
        guard FileManager.default.contents(atPath: model).map(OperatingPoint.fingerprint) == fingerprint else {
            throw ValidationError("\(model) changed during the calibration: run it again")
        }
        let calibration = Int8Calibration(model: (model as NSString).lastPathComponent, modelFingerprint: fingerprint,
                                          images: chosen.count, source: images, ranges: measured, estimator: estimator)
        let path = out ?? Int8Calibration.path(besideModel: model)
        try calibration.encoded().write(to: URL(fileURLWithPath: path))
        print("wrote \(path): the input ranges of \(measured.count) convolutions over \(chosen.count) frames (\(estimator.rawValue))")
    }
}
