// Our decode + class-wise NMS against Ultralytics' own `non_max_suppression` on the same raw
// outputs: every fixture model and case, best-class and multi-label. The goldens were made by
// tools/engine-fixtures/make_fixtures.py with ONNX Runtime and Ultralytics 8.4.

import Foundation
import NeuralEngine
import Testing
@testable import Detection

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralEngineTests/Fixtures")

private struct Manifest: Decodable {
    struct Model: Decodable {
        let name: String
        let file: String
        let cases: [Case]
    }
    struct Case: Decodable {
        let name: String
        let input: Input
        let nms: NMSFiles
    }
    struct Input: Decodable { let file: String }
    struct NMSFiles: Decodable {
        let nms: FileRef
        let nms_multilabel: FileRef
    }
    struct FileRef: Decodable { let file: String }
    let models: [Model]
}

private struct NMSGolden: Decodable {
    let conf: Float
    let iou: Float
    let multi_label: Bool
    let max_det: Int
    /// Per image: rows of [x1, y1, x2, y2, score, class].
    let boxes: [[[Double]]]
}

private struct NMSCase: CustomTestStringConvertible, Sendable {
    let model: String
    let input: String
    let golden: String
    var testDescription: String { golden }
}

private func nmsCases() -> [NMSCase] {
    guard let data = try? Data(contentsOf: fixtures.appendingPathComponent("manifest.json")),
          let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else { return [] }
    return manifest.models.flatMap { model in
        model.cases.flatMap { c in
            [c.nms.nms.file, c.nms.nms_multilabel.file].map { NMSCase(model: model.file, input: c.input.file, golden: $0) }
        }
    }
}

@Suite struct UltralyticsNMSParityTests {
    @Test func manifestHasCases() {
        #expect(nmsCases().count >= 20)
    }

    @Test(arguments: nmsCases())
    fileprivate func sameBoxesAsUltralytics(_ item: NMSCase) throws {
        let session = try InferenceSession(path: fixtures.appendingPathComponent(item.model).path)
        let input = try NPYFile.read(fixtures.appendingPathComponent(item.input).path)
        let golden = try JSONDecoder().decode(NMSGolden.self, from: Data(contentsOf: fixtures.appendingPathComponent(item.golden)))
        let output = try #require(try session.run([session.inputs[0].name: input])[session.outputs[0].name])
        let (batch, rows, anchors) = (output.shape[0], output.shape[1], output.shape[2])
        let post = YOLOPostprocessor(confidenceThreshold: golden.conf, iouThreshold: golden.iou, maxDetections: golden.max_det,
                                     multiLabel: golden.multi_label)
        let values = output.floats
        #expect(golden.boxes.count == batch)
        for image in 0..<batch {
            let ours = values.withUnsafeBufferPointer {
                post.process(UnsafeBufferPointer(rebasing: $0[(image * rows * anchors)..<((image + 1) * rows * anchors)]),
                             classCount: rows - 4, anchors: anchors)
            }
            let theirs = golden.boxes[image]
            #expect(ours.count == theirs.count, "image \(image): \(ours.count) boxes, Ultralytics \(theirs.count)")
            for (index, (box, row)) in zip(ours, theirs).enumerated() {
                #expect(box.classIndex == Int(row[5]), "image \(image) box \(index): class \(box.classIndex) vs \(row[5])")
                #expect(abs(Double(box.score) - row[4]) < 1e-4, "image \(image) box \(index): score \(box.score) vs \(row[4])")
                let corners = [box.x1, box.y1, box.x2, box.y2].map(Double.init)
                for k in 0..<4 {
                    #expect(abs(corners[k] - row[k]) < 1e-2, "image \(image) box \(index) corner \(k): \(corners[k]) vs \(row[k])")
                }
            }
        }
    }
}
