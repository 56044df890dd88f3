// Test-time flips on trained weights: the bundled synthetic detector on a board the real
// renderer draws. With all four mirrors averaged, a mirrored board must give the mirror of the
// board's boxes (the four views are the same four images, in another order), which holds only
// if every view's anchors are put back where they belong; and what the plain run finds
// clearly, the averaged run still finds.

import Foundation
import Detection
import ImageKit
import Inspection
import Testing

@Suite struct FlipEndToEndTests {
    let model = repositoryRoot.appendingPathComponent("models/pcb_synthetic_yolov8n.onnx").path

    func mirrored(_ image: RGBImage) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 { pixels[(y * image.width + x) * 3 + c] = image.pixels[(y * image.width + image.width - 1 - x) * 3 + c] }
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    func iou(_ a: DetectedDefect, _ b: DetectedDefect) -> Float {
        let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)), h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
        let union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - w * h
        return union > 0 ? w * h / union : 0
    }

    @Test func aMirroredBoardGetsMirroredBoxes() throws {
        let frames = try renderedBoards(count: 2, seed: 43)
        #expect(frames.count == 2)
        // 640 x 480 runs unscaled and unpadded (both multiples of 32), so a mirrored frame is the mirrored input.
        let low = YOLOPostprocessor(confidenceThreshold: 0.05)
        let plain = try YOLODetector(path: model, threads: 2, postprocessor: low, inputSize: (480, 640))
        let flipped = try YOLODetector(path: model, threads: 2, postprocessor: low, inputSize: (480, 640), flips: .both)
        #expect(flipped.modelDescription.contains("flips both"))
        var compared = 0
        for frame in frames {
            let boxes = try flipped.detect([frame])[0]
            let mirrorBoxes = try flipped.detect([mirrored(frame)])[0].map {
                DetectedDefect(className: $0.className, confidence: $0.confidence, x1: 640 - $0.x2, y1: $0.y1, x2: 640 - $0.x1, y2: $0.y2)
            }
            // Away from the threshold, where a rounding difference cannot decide whether a box exists:
            for box in boxes where box.confidence > 0.1 {
                let twin = mirrorBoxes.filter { $0.className == box.className }.max { iou($0, box) < iou($1, box) }
                #expect(twin.map { iou($0, box) > 0.999 && abs($0.confidence - box.confidence) < 1e-4 } == true,
                        "\(box) has no mirror twin in \(mirrorBoxes)")
                compared += 1
            }
            for box in try plain.detect([frame])[0] where box.confidence > 0.5 {
                #expect(boxes.contains { $0.className == box.className && iou($0, box) > 0.5 }, "plain \(box) lost in \(boxes)")
            }
        }
        #expect(compared > 0, "no box above 0.1 on the rendered boards: nothing was compared")
    }
}
