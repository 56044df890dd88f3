// `pcb dataset`: training data for the line's detector.
//   pcb dataset synth --out DIR --count N --seed S [--size 640x480] [--val-fraction 0.1] [--defect-rate 0.75] [--contrast]
//   pcb dataset import-deeppcb SRC OUT [--val-fraction 0.1] [--seed 0] [--templates]
//   pcb dataset export (--data-dir DIR | --url URL [--token T]) [--since YYYY-MM-DD] --out OUT

import ArgumentParser
import Detection
import DetectionTools
import Foundation
import Simulation

struct Dataset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Build training datasets.",
        subcommands: [Synth.self, ImportDeepPCB.self, Export.self])
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
        @Option(name: .customLong("layout-seed"), help: "One board design for every image (a product on a line; for the anomaly model).")
        var layoutSeed: UInt64?
        @Option(name: .customLong("novel-defects"), help: "Also paint this many defects of kinds no detector class covers on every image (listed in novel/, not in the labels).")
        var novelDefects = 0
        @Flag(help: "Also measure how visible each labelled defect is, against sensor noise alone (renders each defective board three times), into contrast/<image>.txt.")
        var contrast = false

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
                to: directory, count: total, seed: seed, size: imageSize, valFraction: valFraction, defectRate: defectRate,
                layoutSeed: layoutSeed, novelDefects: max(0, novelDefects), measureContrast: contrast
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
                let lowest = summary.lowestContrastPerClass[i].map { String(format: "  lowest contrast %.1f levels", $0) } ?? ""
                Self.log("  \(i) \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(summary.boxesPerClass[i])" + lowest)
            }
            if let ratio = summary.lowestContrastToNoise {
                Self.log(String(format: "every label's contrast is at least %.1f times what sensor noise alone reaches in its box", ratio))
            }
            Self.log("data.yaml: \(directory)/data.yaml")
        }

        private static func log(_ line: String) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

extension Dataset {
    struct ImportDeepPCB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-deeppcb",
            abstract: "Convert DeepPCB (trainval.txt layout) to YOLO format with this project's class names.")

        @Argument(help: "DeepPCB folder (holds trainval.txt and the groupG folders).") var source: String
        @Argument(help: "Output folder (images/, labels/, data.yaml).") var output: String
        @Option(name: .customLong("val-fraction"), help: "Share of pairs in the validation split (0...1).") var valFraction: Double = 0.1
        @Option(help: "Seed of the split: the same seed gives the same split.") var seed: UInt64 = 0
        @Flag(help: "Also add each defect-free template image, without labels.") var templates = false

        func validate() throws {
            guard (0...1).contains(valFraction) else { throw ValidationError("--val-fraction must be between 0 and 1") }
        }

        func run() async throws {
            var importer = DeepPCBImporter(source: URL(fileURLWithPath: source), output: URL(fileURLWithPath: output))
            importer.valFraction = valFraction
            importer.seed = seed
            importer.includeTemplates = templates
            var lastPercent = -1
            let summary = try importer.run { done, total in
                let percent = done * 100 / total
                if percent / 10 != lastPercent / 10 || done == total {
                    lastPercent = percent
                    FileHandle.standardError.write(Data("converted \(done)/\(total) pairs (\(percent)%)\n".utf8))
                }
            }
            print("train images: \(summary.trainImages), val images: \(summary.valImages)")
            for (name, count) in zip(DeepPCBImporter.classNames, summary.boxesPerClass) { print("  \(name): \(count) boxes") }
            if !summary.skippedPairs.isEmpty {
                print("skipped \(summary.skippedPairs.count) pairs with missing files: \(summary.skippedPairs.prefix(10).joined(separator: ", "))")
            }
            print("wrote \(output)/data.yaml")
        }
    }
}
