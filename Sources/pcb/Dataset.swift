// `pcb dataset`: training data for the line's detector.
//   pcb dataset synth --out DIR --count N --seed S [--size 640x480] [--val-fraction 0.1] [--defect-rate 0.75]

import ArgumentParser
import Foundation
import Simulation

struct Dataset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Build training datasets.",
        subcommands: [Synth.self])
}

extension Dataset {
    struct Synth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render synthetic PCB photos with injected defects and YOLO labels (Ultralytics layout + data.yaml).")

        @Option(help: "Output folder (created if needed).") var out: String
        @Option(help: "Number of images.") var count: Int
        @Option(help: "Base seed: image k of seed S is always the same picture.") var seed: UInt64
        @Option(help: "Image size WIDTHxHEIGHT.") var size: String = "640x480"
        @Option(name: .customLong("val-fraction"), help: "Share of images in the validation split (0...1).") var valFraction: Double = 0.1
        @Option(name: .customLong("defect-rate"), help: "Share of images with at least one defect (0...1).") var defectRate: Double = 0.75

        func validate() throws {
            guard count >= 1 else { throw ValidationError("--count must be at least 1 (got \(count))") }
            guard ImageSize(parsing: size) != nil else {
                throw ValidationError("--size must be WIDTHxHEIGHT with sides 32...8192, e.g. 640x480 (got '\(size)')")
            }
            guard (0...1).contains(valFraction) else { throw ValidationError("--val-fraction must be within 0...1 (got \(valFraction))") }
            guard (0...1).contains(defectRate) else { throw ValidationError("--defect-rate must be within 0...1 (got \(defectRate))") }
            guard !out.isEmpty else { throw ValidationError("--out must not be empty") }
        }

        func run() async throws {
            let imageSize = ImageSize(parsing: size)!
            let total = count
            let step = max(1, min(100, total / 50))
            let start = Date()
            let directory = URL(fileURLWithPath: out).standardizedFileURL.path
            Self.log("rendering \(total) images of \(imageSize) (seed \(seed)) into \(directory)")
            let summary = try SyntheticDataset.write(
                to: directory, count: total, seed: seed, size: imageSize, valFraction: valFraction, defectRate: defectRate
            ) { done, total in
                guard done % step == 0 || done == total else { return }
                let elapsed = Date().timeIntervalSince(start)
                let rate = elapsed > 0 ? Double(done) / elapsed : 0
                Self.log("rendered \(done)/\(total) (\(done * 100 / total)%) \(String(format: "%.1f", rate)) img/s")
            }
            Self.log(String(format: "done: %d images (%d train, %d val) in %.1f s, %.1f img/s; %d with defects, %d boxes",
                            summary.images, summary.trainImages, summary.valImages, summary.seconds,
                            Double(summary.images) / max(summary.seconds, 1e-9), summary.imagesWithDefects, summary.boxes))
            for (i, name) in DefectClass.names.enumerated() {
                Self.log("  \(i) \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(summary.boxesPerClass[i])")
            }
            Self.log("data.yaml: \(directory)/data.yaml")
        }

        private static func log(_ line: String) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
