// bf16 and int8 against fp32 on real weights: the bundled synthetic detector on boards the real
// renderer draws (`pcb dataset synth`), each precision where this CPU runs it. The fixtures'
// random weights amplify rounding (FixtureParityTests); trained weights are what the line runs,
// and this is where the declared tolerances hold: box coordinates of the anchors fp32 detects,
// in input pixels, and every class score.

import Foundation
import Detection
import ImageKit
import NeuralEngine
import Testing

@Suite(.serialized) struct ReducedPrecisionTests {
    let model = repositoryRoot.appendingPathComponent("models/pcb_synthetic_yolov8n.onnx").path

    /// The tolerances docs/PERFORMANCE.md declares ("Reduced precisions against fp32").
    static func tolerance(_ precision: Precision) -> (boxPixels: Float, score: Float) {
        precision == .bf16 ? (1.0, 0.02) : (2.0, 0.15)
    }

    @Test func reducedPrecisionsKeepTrainedBoxesAndScoresClose() throws {
        let frames = try renderedBoards(count: 3, seed: 41)
        #expect(frames.count == 3)
        // At the export's size, as the server letterboxes (832 wide).
        let fp32 = try YOLODetector(path: model, threads: 2)
        let references = try frames.map { try fp32.rawOutput($0) }
        for precision in [Precision.bf16, .int8] {
            guard precision.runs(on: .host) else {
                print("ReducedPrecisionTests: \(precision) skipped: this CPU lacks \(precision.requires)")
                continue
            }
            let reduced = try YOLODetector(path: model, threads: 2, precision: precision)
            var box: Float = 0, score: Float = 0, detections = 0
            for (frame, reference) in zip(frames, references) {
                let output = try reduced.rawOutput(frame)
                let d = Self.differences(output, reference)
                box = max(box, d.box)
                score = max(score, d.score)
                detections += d.detections
            }
            let tolerance = Self.tolerance(precision)
            print("ReducedPrecisionTests: \(precision) against fp32: box max diff \(box) px over \(detections) detections "
                  + "(tol \(tolerance.boxPixels)), score max diff \(score) (tol \(tolerance.score))")
            #expect(detections > 0, "the frames must give fp32 detections to compare")
            #expect(box <= tolerance.boxPixels && score <= tolerance.score, "\(precision): box \(box) px, score \(score)")
        }
    }

    /// Largest box difference (input pixels) over the anchors `reference` detects (a class score
    /// >= 0.25), largest class-score difference over all anchors, and the detections counted.
    static func differences(_ actual: Tensor, _ reference: Tensor) -> (box: Float, score: Float, detections: Int) {
        let rows = reference.shape[1], anchors = reference.shape[2]
        let a = actual.floats, r = reference.floats
        var box: Float = 0, score: Float = 0, detections = 0
        for anchor in 0..<anchors {
            var best: Float = 0
            for row in 4..<rows {
                score = max(score, abs(a[row * anchors + anchor] - r[row * anchors + anchor]))
                best = max(best, r[row * anchors + anchor])
            }
            guard best >= 0.25 else { continue }
            detections += 1
            for row in 0..<4 { box = max(box, abs(a[row * anchors + anchor] - r[row * anchors + anchor])) }
        }
        return (box, score, detections)
    }
}
