// Reading Ultralytics datasets (data.yaml, splits, label files) and the `yolo val` input geometry.

import Foundation
import ImageKit
import Testing
@testable import Detection
@testable import DetectionTools

/// A temporary folder removed at deinit.
final class EvaluationTestFolder {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("pcb-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Data(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> String {
        let file = (path as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: file))
        return file
    }
}

@Suite struct EvaluationDatasetTests {
    @Test func namesAsAListAndRelativePaths() throws {
        let folder = try EvaluationTestFolder()
        try folder.write("sets/pcb/data.yaml", "path: .\ntrain: images/train\nval: images/val\nnames: [short, spur]\n")
        try folder.write("sets/pcb/images/val/b.jpg", "x")
        try folder.write("sets/pcb/images/val/sub/a.jpg", "x")
        try folder.write("sets/pcb/images/val/notes.md", "not an image")
        try folder.write("sets/pcb/labels/val/b.txt", "1 0.5 0.5 0.2 0.1\n\n0 0.25 0.25 0.1 0.1\n")
        let dataset = try YOLODataset.load(yamlPath: folder.path + "/sets/pcb/data.yaml")
        #expect(dataset.names == ["short", "spur"])
        let root = URL(fileURLWithPath: folder.path + "/sets/pcb").standardizedFileURL.path
        #expect(dataset.root == root)
        let images = try dataset.imagePaths(split: "val")
        #expect(images == [root + "/images/val/b.jpg", root + "/images/val/sub/a.jpg"])
        #expect(try dataset.labels(forImage: images[0]) == [
            LabelBox(classIndex: 1, cx: 0.5, cy: 0.5, w: 0.2, h: 0.1), LabelBox(classIndex: 0, cx: 0.25, cy: 0.25, w: 0.1, h: 0.1),
        ])
        #expect(try dataset.labels(forImage: images[1]).isEmpty)   // no label file: no objects
        #expect(throws: EvaluationError.self) { try dataset.imagePaths(split: "test") }
    }

    @Test func namesAsAnIndexMapAndPathRelativeToTheYaml() throws {
        let folder = try EvaluationTestFolder()
        try folder.write("configs/data.yaml", "path: ../datasets/x\ntrain: train.txt\nval: [val.txt]\nnc: 3\nnames:\n  2: pin_hole\n  0: short\n  1: spur\n")
        try folder.write("datasets/x/val.txt", "./images/one.jpg\n./images/two.JPEG\n")
        try folder.write("datasets/x/train.txt", "./images/one.jpg\n")
        let dataset = try YOLODataset.load(yamlPath: folder.path + "/configs/data.yaml")
        #expect(dataset.names == ["short", "spur", "pin_hole"])
        let root = URL(fileURLWithPath: folder.path + "/datasets/x").standardizedFileURL.path
        #expect(try dataset.imagePaths(split: "val") == [root + "/images/one.jpg", root + "/images/two.JPEG"])
    }

    @Test func badYamlIsRefusedClearly() throws {
        let folder = try EvaluationTestFolder()
        try folder.write("a.yaml", "val: images\nnames: [a, b]\nnc: 3\n")
        #expect { try YOLODataset.load(yamlPath: folder.path + "/a.yaml") } throws: { "\($0)".contains("`nc` is 3") }
        try folder.write("b.yaml", "val: images\n")
        #expect { try YOLODataset.load(yamlPath: folder.path + "/b.yaml") } throws: { "\($0)".contains("`names`") }
        #expect(throws: EvaluationError.self) { try YOLODataset.load(yamlPath: folder.path + "/missing.yaml") }
    }

    @Test func labelPathsFollowUltralytics() {
        #expect(YOLODataset.labelPath(forImage: "/d/images/val/a.b.jpg") == "/d/labels/val/a.b.txt")
        #expect(YOLODataset.labelPath(forImage: "/images/x/images/val/a.jpg") == "/images/x/labels/val/a.txt")
        #expect(YOLODataset.labelPath(forImage: "/d/pics/a.jpg") == "/d/pics/a.txt")
    }

    @Test func malformedLabelLinesNameTheirLine() {
        func error(_ text: String) -> String {
            do {
                _ = try YOLODataset.parseLabels(text, file: "l.txt", classCount: 3)
                return ""
            } catch { return "\(error)" }
        }
        #expect(error("0 0.5 0.5 0.1\n").contains("l.txt:1: expected 5 values"))
        #expect(error("0 0.5 0.5 0.1 0.1\n1 0.5 x 0.1 0.1\n").contains("l.txt:2: 'x' is not a number"))
        #expect(error("3 0.5 0.5 0.1 0.1\n").contains("class 3 is out of range"))
        #expect(error("1.5 0.5 0.5 0.1 0.1\n").contains("not a non-negative integer"))
        #expect(error("0 50 60 10 10\n").contains("normalised"))
        #expect(error("0 0.5 0.5 -0.2 0.1\n").contains("negative"))
    }

    @Test func duplicatesDroppedAndPolygonsBoxed() throws {
        let boxes = try YOLODataset.parseLabels("0 0.5 0.5 0.2 0.2\r\n0 0.5 0.5 0.2 0.2\n2 0.1 0.2 0.3 0.2 0.3 0.6\n", file: "l.txt", classCount: 3)
        #expect(boxes.count == 2)
        #expect(boxes[1].classIndex == 2)
        #expect(abs(boxes[1].cx - 0.2) < 1e-6 && abs(boxes[1].cy - 0.4) < 1e-6 && abs(boxes[1].w - 0.2) < 1e-6 && abs(boxes[1].h - 0.4) < 1e-6)
    }

    @Test func validationGeometryMatchesYoloVal() {
        // Dynamic model, 640x480: rect batch (ceil(15 + 0.5), ceil(20 + 0.5)) * 32 = 512x672, 16 px all round.
        let dynamic = InputGeometry.validation(frameWidth: 640, frameHeight: 480, imageSize: 640, fixedInput: nil, stride: 32)
        #expect(dynamic.inputWidth == 672 && dynamic.inputHeight == 512)
        #expect(dynamic.padLeft == 16 && dynamic.padTop == 16 && dynamic.ratio == 1)
        // Fixed 640x640 model: 80 rows top and bottom.
        let fixed = InputGeometry.validation(frameWidth: 640, frameHeight: 480, imageSize: 640, fixedInput: (640, 640), stride: 32)
        #expect(fixed.inputWidth == 640 && fixed.inputHeight == 640 && fixed.padTop == 80 && fixed.padLeft == 0)
        // A square 640 image on a dynamic model: 672x672.
        let square = InputGeometry.validation(frameWidth: 640, frameHeight: 640, imageSize: 640, fixedInput: nil, stride: 32)
        #expect(square.inputWidth == 672 && square.inputHeight == 672)
        // 1000x750 is first resized to 640x480 (long side to imgsz), then letterboxed.
        let large = InputGeometry.validation(frameWidth: 1000, frameHeight: 750, imageSize: 640, fixedInput: nil, stride: 32)
        #expect(large.loadedWidth == 640 && large.loadedHeight == 480 && large.inputWidth == 672 && large.inputHeight == 512)
        // Labels land in input pixels; input boxes map back to frame pixels.
        let b = large.inputBox(LabelBox(classIndex: 0, cx: 0.5, cy: 0.5, w: 0.5, h: 0.5))
        #expect(b.x1 == 176 && b.y1 == 136 && b.x2 == 496 && b.y2 == 376)
        let back = large.frameBox(x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2)
        #expect(abs(back.0 - 250) < 1e-3 && abs(back.1 - 187.5) < 1e-3 && abs(back.2 - 750) < 1e-3 && abs(back.3 - 562.5) < 1e-3)
        // The serving geometry is the detector's: 640x480 runs as is.
        let serving = InputGeometry.serving(frameWidth: 640, frameHeight: 480, target: (640, 640), stride: 32, dynamicSize: true)
        #expect(serving.inputWidth == 640 && serving.inputHeight == 480 && serving.padTop == 0)
    }

    @Test func inputIsPaddedGreyAndScaled() {
        let frame = RGBImage(width: 2, height: 1, pixels: [255, 0, 51, 10, 20, 30])
        let g = InputGeometry(frameWidth: 2, frameHeight: 1, loadedWidth: 2, loadedHeight: 1, ratio: 1, scaledWidth: 2, scaledHeight: 1,
                              padLeft: 1, padTop: 1, inputWidth: 4, inputHeight: 3)
        let input = g.input(from: frame)
        #expect(input.count == 36)
        #expect(input[0] == Float(114) / 255)
        #expect(input[5] == 1 && input[6] == Float(10) / 255)          // R plane, row 1, columns 1 and 2
        #expect(input[12 + 5] == 0 && input[24 + 5] == Float(51) / 255)
    }

    @Test func linearResizeOfAConstantAndAGradient() {
        let constant = InputGeometry.resizeLinear(RGBImage(width: 7, height: 5, fill: (9, 99, 199)), width: 3, height: 2)
        #expect(constant.pixels == Array([[UInt8]](repeating: [9, 99, 199], count: 6).joined()))
        // A 2x downscale averages 2x2 blocks (OpenCV's INTER_LINEAR equals INTER_AREA there).
        let image = RGBImage(width: 2, height: 2, pixels: [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30])
        let half = InputGeometry.resizeLinear(image, width: 1, height: 1)
        #expect(half.pixels == [15, 15, 15])
    }

    @Test func linearResizeMatchesOpenCV() throws {
        // cv2.resize(INTER_LINEAR) of a random 9x7 image (OpenCV 5.0.0 in the Ultralytics venv).
        struct Golden: Decodable { let src: [UInt8], down: [UInt8], up: [UInt8], odd: [UInt8] }
        let g = try JSONDecoder().decode(Golden.self, from: Data(#"""
{"src":[248,194,190,207,147,26,237,21,245,211,239,45,5,157,159,60,54,236,109,46,199,82,32,205,36,7,134,222,57,146,8,149,14,15,22,10,144,208,24,24,7,41,11,85,59,104,225,110,226,201,8,159,26,27,163,122,33,41,201,67,70,166,228,40,50,179,0,177,137,63,13,188,255,64,94,8,8,156,25,29,157,146,190,115,219,135,39,100,237,127,72,227,168,21,73,132,16,153,140,107,80,163,61,110,47,229,148,170,97,110,56,150,74,193,62,44,238,239,226,188,14,205,185,193,73,238,205,244,160,110,68,201,79,104,193,72,88,197,234,81,148,48,7,166,149,40,126,166,40,54,59,178,13,153,135,222,59,191,239,74,193,154,82,240,115,167,97,0,185,210,176,19,76,177,52,249,109,94,162,241,197,5,100,76,50,247,166,35,250],"down":[196,145,113,160,62,133,12,101,115,94,104,166,103,46,109,122,155,51,68,154,208,3,164,136,200,59,118,36,35,152,125,105,107,97,100,216,15,188,178,188,195,173,100,95,187,124,146,110,120,119,169,95,171,88,160,77,148,107,98,226],"up":[248,194,190,226,169,101,214,118,76,235,31,228,221,155,122,147,214,80,5,157,159,43,86,212,79,51,222,107,45,199,88,35,204,61,20,172,36,7,134,234,119,166,160,134,87,102,119,41,113,31,108,151,145,65,125,176,52,15,74,94,27,72,125,61,99,143,110,143,146,148,129,109,135,75,87,103,17,75,207,73,118,104,121,69,19,138,36,28,66,61,84,126,63,87,132,63,18,50,65,22,62,83,69,112,97,144,182,101,165,160,59,150,94,52,126,27,60,166,119,39,98,162,52,46,189,99,65,162,205,53,97,189,32,92,159,1,168,132,42,63,166,132,38,148,230,68,99,72,30,136,25,23,149,32,29,150,152,166,86,154,162,66,141,171,75,94,208,153,72,183,168,46,148,160,14,109,134,27,105,150,81,92,150,150,74,135,69,74,97,96,89,122,158,106,165,129,162,94,164,136,93,170,126,110,95,165,160,114,205,171,96,193,167,18,119,151,60,123,167,102,130,169,136,134,157,93,105,115,124,112,136,176,132,178,96,109,63,127,90,132,133,67,201,68,45,231,168,149,204,169,210,183,22,197,178,136,115,212,192,140,202,195,226,166,129,112,193,94,90,197,79,108,191,78,94,162,151,86,160,176,65,165,64,21,182,125,59,158,158,85,125,128,81,87,103,130,74,121,156,122,159,162,208,93,161,224,73,165,199,75,171,164,76,156,160,145,120,118,182,90,102,117,97,164,98,72,157,98,80,127,115,134,79,87,159,104,112,134,135,164,80,173,91,116,225,89,125,222,115,122,197,82,240,115,128,163,53,171,123,41,184,201,162,83,127,176,29,129,156,52,249,109,81,189,200,134,101,186,188,8,111,104,39,213,117,43,248,166,35,250],"odd":[238,182,149,230,53,190,160,219,74,46,80,217,102,43,201,48,13,152,169,80,113,13,54,11,114,158,28,14,66,55,135,219,85,176,70,22,133,142,42,63,175,188,30,82,169,47,54,175,193,50,110,21,24,157,164,176,96,130,212,105,59,189,159,17,133,138,96,88,134,187,139,139,110,101,90,84,52,227,183,221,187,148,106,225,181,200,170,87,95,195,113,86,185,95,26,162,153,40,108,86,144,23,130,149,226,70,193,175,103,204,86,181,182,132,27,119,160,84,184,208,167,16,137,144,39,249]}
"""#.utf8))
        let image = RGBImage(width: 9, height: 7, pixels: g.src)
        #expect(InputGeometry.resizeLinear(image, width: 5, height: 4).pixels == g.down)
        #expect(InputGeometry.resizeLinear(image, width: 13, height: 10).pixels == g.up)
        #expect(InputGeometry.resizeLinear(image, width: 6, height: 7).pixels == g.odd)
    }
}
