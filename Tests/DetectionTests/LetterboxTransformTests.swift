import ImageKit
import Testing
@testable import Detection

@Suite struct LetterboxTransformTests {
    @Test func fixedModelPadsA640x480FrameTopAndBottom() {
        let t = LetterboxTransform(frameWidth: 640, frameHeight: 480, targetWidth: 640, targetHeight: 640)
        #expect(t.inputWidth == 640 && t.inputHeight == 640)
        #expect(t.scale == 1)
        #expect(t.padLeft == 0 && t.padTop == 80)
    }

    @Test func dynamicModelRunsA640x480FrameAsIs() {
        let t = LetterboxTransform(frameWidth: 640, frameHeight: 480, targetWidth: 640, targetHeight: 640, rectangular: true)
        #expect(t.inputWidth == 640 && t.inputHeight == 480)
        #expect(t.padLeft == 0 && t.padTop == 0)
    }

    @Test func oddSizesFollowUltralyticsRounding() {
        // 1000x750 into 640x640: r = 0.64, scaled 640x480, pad 160 -> 80 / 80.
        let t = LetterboxTransform(frameWidth: 1000, frameHeight: 750, targetWidth: 640, targetHeight: 640)
        #expect(t.scaledWidth == 640 && t.scaledHeight == 480 && t.padTop == 80)
        // 500x333 into 640x640 rectangular: r = 1.28, scaled 640x426, pad (640-426) % 32 = 22 -> 11 / 11.
        let r = LetterboxTransform(frameWidth: 500, frameHeight: 333, targetWidth: 640, targetHeight: 640, rectangular: true)
        #expect(r.scaledWidth == 640 && r.scaledHeight == 426)
        #expect(r.inputHeight == 448 && r.padTop == 11)
        // An odd pad splits as round(d - 0.1) before and round(d + 0.1) after: 21 -> 10 / 11.
        let o = LetterboxTransform(frameWidth: 640, frameHeight: 619, targetWidth: 640, targetHeight: 640)
        #expect(o.padTop == 10 && o.inputHeight == 640)
    }

    @Test func fillPadsWithGrey114AndNormalises() {
        let frame = RGBImage(width: 4, height: 2, fill: (255, 0, 51))
        let t = LetterboxTransform(frameWidth: 4, frameHeight: 2, targetWidth: 4, targetHeight: 4)
        var buffer = [Float](repeating: -1, count: 3 * 16)
        buffer.withUnsafeMutableBufferPointer { t.fill($0, from: frame) }
        let grey: Float = 114 / 255
        #expect(buffer[0] == grey)                 // R plane, row 0 is padding
        #expect(buffer[4] == 1)                    // R plane, row 1 is the frame
        #expect(buffer[16 + 4] == 0)               // G plane
        #expect(abs(buffer[32 + 4] - 0.2) < 1e-6)  // B plane
        #expect(buffer[32 + 15] == grey)           // last row is padding
    }

    @Test func extremeAspectRatiosKeepAtLeastOnePixel() {
        let t = LetterboxTransform(frameWidth: 2000, frameHeight: 1, targetWidth: 640, targetHeight: 640, rectangular: true)
        #expect(t.scaledHeight == 1 && t.inputHeight >= 1)
    }

    @Test func boxesMapBackToFramePixelsAndClip() {
        let t = LetterboxTransform(frameWidth: 1280, frameHeight: 960, targetWidth: 640, targetHeight: 640)
        // scale 0.5, pad top 80
        let (x1, y1, x2, y2) = t.frameBox(x1: 10, y1: 90, x2: 650, y2: 600)
        #expect(x1 == 20 && y1 == 20)
        #expect(x2 == 1280 && y2 == 960)
    }

    @Test func downscaleAveragesNeighbours() {
        // 2x1 frame (0 and 200) to 1x1 input is not a letterbox case; use 4x4 -> 2x2 of a checker.
        var pixels = [UInt8](repeating: 0, count: 4 * 4 * 3)
        for y in 0..<4 { for x in 0..<4 where (x + y) % 2 == 0 { for c in 0..<3 { pixels[(y * 4 + x) * 3 + c] = 200 } } }
        let t = LetterboxTransform(frameWidth: 4, frameHeight: 4, targetWidth: 2, targetHeight: 2)
        var buffer = [Float](repeating: 0, count: 12)
        buffer.withUnsafeMutableBufferPointer { t.fill($0, from: RGBImage(width: 4, height: 4, pixels: pixels)) }
        #expect(abs(buffer[0] * 255 - 100) < 1)
    }
}

@Suite struct YOLOPostprocessorTests {
    /// Builds a (4 + nc, N) output from candidates (cx, cy, w, h, scores).
    func output(_ candidates: [(Float, Float, Float, Float, [Float])], classes: Int) -> [Float] {
        let n = candidates.count
        var values = [Float](repeating: 0, count: (4 + classes) * n)
        for (a, c) in candidates.enumerated() {
            values[a] = c.0; values[n + a] = c.1; values[2 * n + a] = c.2; values[3 * n + a] = c.3
            for k in 0..<classes { values[(4 + k) * n + a] = c.4[k] }
        }
        return values
    }

    func run(_ p: YOLOPostprocessor, _ values: [Float], classes: Int) -> [RawDetection] {
        values.withUnsafeBufferPointer { p.process($0, classCount: classes, anchors: values.count / (4 + classes)) }
    }

    @Test func overlappingBoxesOfOneClassAreSuppressed() {
        let values = output([
            (50, 50, 20, 20, [0.9, 0]), (51, 50, 20, 20, [0.8, 0]),  // IoU ~0.9 with the first: suppressed
            (51, 50, 20, 20, [0, 0.7]),                              // other class: kept
            (150, 150, 20, 20, [0.6, 0]),                            // far away: kept
            (10, 10, 5, 5, [0.25, 0]),                               // exactly at threshold: dropped (strict)
        ], classes: 2)
        let kept = run(YOLOPostprocessor(), values, classes: 2)
        #expect(kept.map(\.score) == [0.9, 0.7, 0.6])
        #expect(kept.map(\.classIndex) == [0, 1, 0])
        #expect(kept[0].x1 == 40 && kept[0].y2 == 60)
    }

    @Test func multiLabelKeepsEveryClassAboveThreshold() {
        let values = output([(50, 50, 20, 20, [0.9, 0.5])], classes: 2)
        #expect(run(YOLOPostprocessor(), values, classes: 2).count == 1)
        #expect(run(YOLOPostprocessor(multiLabel: true), values, classes: 2).map(\.classIndex) == [0, 1])
    }

    @Test func atMostMaxDetections() {
        let values = output((0..<50).map { (Float($0) * 30, 10, 10, 10, [0.5 + Float($0) / 100]) }, classes: 1)
        #expect(run(YOLOPostprocessor(maxDetections: 7), values, classes: 1).count == 7)
    }

    @Test func nonFiniteBoxesAreDropped() {
        let values = output([(Float.nan, 10, 10, 10, [0.9]), (50, 50, .infinity, 10, [0.8]), (30, 30, 10, 10, [0.7])], classes: 1)
        #expect(run(YOLOPostprocessor(), values, classes: 1).map(\.score) == [0.7])
    }

    @Test func iouThresholdIsStrict() {
        // Two 10x10 boxes offset by 5 px in x: IoU = 50 / 150 = 1/3.
        let values = output([(10, 10, 10, 10, [0.9]), (15, 10, 10, 10, [0.8])], classes: 1)
        #expect(run(YOLOPostprocessor(iouThreshold: 0.5), values, classes: 1).count == 2)
        #expect(run(YOLOPostprocessor(iouThreshold: 0.3), values, classes: 1).count == 1)
    }
}

@Suite struct UltralyticsMetadataTests {
    @Test func parsesUltralyticsLiterals() throws {
        let meta = try UltralyticsMetadata(properties: [
            "names": "{0: 'missing_component', 1: \"o'pen\", 2: 'short'}", "imgsz": "[480, 640]", "stride": "32", "task": "detect",
            "batch": "1",
        ])
        #expect(meta.names == ["missing_component", "o'pen", "short"])
        #expect(meta.imageSize?.height == 480 && meta.imageSize?.width == 640)
        #expect(meta.batch == 1)
    }

    @Test func refusesFilesThatAreNotDetectionExports() {
        #expect(throws: DetectionError.self) { try UltralyticsMetadata(properties: [:]) }
        #expect(throws: DetectionError.self) { try UltralyticsMetadata(properties: ["names": "{0: 'a'}", "task": "segment"]) }
        #expect(throws: DetectionError.self) { try UltralyticsMetadata(properties: ["names": "{0: 'a', 2: 'b'}"]) }
        #expect(throws: DetectionError.self) { try UltralyticsMetadata(properties: ["names": "['a', 'b']"]) }
        #expect(throws: DetectionError.self) { try UltralyticsMetadata(properties: ["names": "{0: 'a"]) }
    }
}
