// Writing a synthetic training set in the Ultralytics YOLO layout:
//
//   DIR/images/train/*.jpg  DIR/labels/train/*.txt
//   DIR/images/val/*.jpg    DIR/labels/val/*.txt
//   DIR/data.yaml
//
// Images are rendered in parallel; the files are the same whatever the thread count.

import Foundation
import ImageKit
import SeededRandom

/// Width and height of rendered images.
public struct ImageSize: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses "640x480".
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w >= 32, h >= 32, w <= 8192, h <= 8192 else { return nil }
        self.init(width: w, height: h)
    }

    public var description: String { "\(width)x\(height)" }
}

public enum SyntheticDataset {
    /// What was written.
    public struct Summary: Sendable {
        public var trainImages = 0
        public var valImages = 0
        public var imagesWithDefects = 0
        /// Boxes per class index.
        public var boxesPerClass = [Int](repeating: 0, count: DefectClass.allCases.count)
        /// Lowest label contrast per class index (`SyntheticBoard.contrast`), when measured.
        public var lowestContrastPerClass = [Double?](repeating: nil, count: DefectClass.allCases.count)
        /// Lowest ratio of a label's contrast to what sensor noise alone reaches in its box (noise counted
        /// as at least 0.5 levels), when measured.
        public var lowestContrastToNoise: Double?
        public var seconds: Double = 0

        public var images: Int { trainImages + valImages }
        public var boxes: Int { boxesPerClass.reduce(0, +) }
    }

    /// Whether image `index` of `count` goes to the validation split: exactly
    /// floor(count * fraction) images, spread evenly.
    public static func isValidation(_ index: Int, count: Int, fraction: Double) -> Bool {
        guard fraction > 0 else { return false }
        let f = min(1, fraction)
        return Int((Double(index + 1) * f).rounded(.down)) > Int((Double(index) * f).rounded(.down))
    }

    /// File stem of image `index`.
    public static func stem(seed: UInt64, index: Int) -> String {
        let number = String(index)
        return "synth_\(seed)_" + String(repeating: "0", count: max(0, 6 - number.count)) + number
    }

    /// The data.yaml text for a dataset at `directory` (an absolute path).
    public static func dataYAML(directory: String) -> String {
        var lines = ["# Synthetic PCB defect photos (pcb dataset synth).", "path: \(directory)", "train: images/train", "val: images/val",
                     "nc: \(DefectClass.names.count)", "names:"]
        for (i, name) in DefectClass.names.enumerated() { lines.append("  \(i): \(name)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Renders `count` images with seed `seed` into `directory` (created if needed).
    /// - Parameters:
    ///   - valFraction: share of images in the validation split.
    ///   - defectRate: share of images with at least one defect.
    ///   - novelDefects: defects of kinds no detector class covers painted on every image
    ///     (`NovelDefect`), listed in `novel/<image>.txt`, never in the YOLO labels.
    ///   - layoutSeed: when set, every image shows the same board design (one product, as on a
    ///     line), photographed with its own defects, pose and light.
    ///   - measureContrast: also render each defective board without defects, with and without
    ///     sensor noise, and write every label's contrast and the noise's own contrast in the same
    ///     box to `contrast/<image>.txt` ("class contrast noise" per line).
    ///   - progress: called after each image with (done, total), from worker threads (serialised).
    public static func write(to directory: String, count: Int, seed: UInt64, size: ImageSize = ImageSize(width: 640, height: 480),
                             valFraction: Double = 0.1, defectRate: Double = 0.75, layoutSeed: UInt64? = nil, novelDefects: Int = 0,
                             measureContrast: Bool = false,
                             progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        precondition(count >= 1, "count must be at least 1")
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let fm = FileManager.default
        for sub in ["images/train", "images/val", "labels/train", "labels/val"] + (novelDefects > 0 ? ["novel"] : []) + (measureContrast ? ["contrast"] : []) {
            try fm.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data(dataYAML(directory: root.path).utf8).write(to: root.appendingPathComponent("data.yaml"), options: .atomic)

        var config = RenderConfig(width: size.width, height: size.height, defectRate: defectRate)
        // The dataset's own JPEG encoding (quality 80...95) is the only compression.
        config.camera.jpegQuality = nil
        let renderer = BoardRenderer(seed: seed, config: config)
        let codec = JPEGCodec()
        let state = WriterState()
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: count) { index in
            if state.failed { return }
            var seeds = renderer.seeds(forIndex: index)
            if let layoutSeed { seeds.layout = layoutSeed }
            var board = renderer.render(seeds: seeds)
            let contrasts = measureContrast ? renderer.labelVisibility(of: board) : []
            let novel = novelDefects > 0
                ? NovelDefect.paint(into: &board.image, count: novelDefects, seed: SplitMix64.derive(seed, UInt64(index), 5)) : []
            var rng = SplitMix64(seed: SplitMix64.derive(seed, UInt64(index), 4))
            let quality = rng.int(80...95)
            let split = isValidation(index, count: count, fraction: valFraction) ? "val" : "train"
            let name = stem(seed: seed, index: index)
            do {
                let jpeg = try codec.encode(board.image, quality: quality)
                try Data(jpeg).write(to: root.appendingPathComponent("images/\(split)/\(name).jpg"))
                try Data(board.yoloLabels.utf8).write(to: root.appendingPathComponent("labels/\(split)/\(name).txt"))
                if measureContrast {
                    let lines = zip(board.labels, contrasts).map { "\($0.classIndex) " + String(format: "%.2f %.2f", $1.contrast, $1.noise) + "\n" }
                    try Data(lines.joined().utf8).write(to: root.appendingPathComponent("contrast/\(name).txt"))
                }
                if novelDefects > 0 {
                    try Data(novel.map { $0.line + "\n" }.joined().utf8).write(to: root.appendingPathComponent("novel/\(name).txt"))
                }
            } catch {
                state.fail(error)
                return
            }
            state.record(board: board, contrasts: contrasts, validation: split == "val") { done in progress(done, count) }
        }
        if let error = state.error { throw error }
        var summary = state.summary
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}

/// Counters shared by the writer's threads.
private final class WriterState: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var summary = SyntheticDataset.Summary()
    private var done = 0
    private var firstError: Error?

    var failed: Bool { lock.withLock { firstError != nil } }
    var error: Error? { lock.withLock { firstError } }

    func fail(_ error: Error) { lock.withLock { if firstError == nil { firstError = error } } }

    /// Counts a finished image and reports progress while holding the lock (so reports are
    /// serialised and `done` only grows).
    func record(board: SyntheticBoard, contrasts: [(contrast: Double, noise: Double)], validation: Bool, report: (Int) -> Void) {
        lock.withLock {
            if validation { summary.valImages += 1 } else { summary.trainImages += 1 }
            if !board.labels.isEmpty { summary.imagesWithDefects += 1 }
            for label in board.labels { summary.boxesPerClass[label.classIndex] += 1 }
            for (label, c) in zip(board.labels, contrasts) {
                summary.lowestContrastPerClass[label.classIndex] = min(summary.lowestContrastPerClass[label.classIndex] ?? c.contrast, c.contrast)
                let ratio = c.contrast / max(c.noise, 0.5)
                summary.lowestContrastToNoise = min(summary.lowestContrastToNoise ?? ratio, ratio)
            }
            done += 1
            report(done)
        }
    }
}
