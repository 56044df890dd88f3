// Where the defects of an evaluation image are, for the anomaly model's localisation score
// (cell-level AUROC): YOLO labels (`images/…/x.jpg` -> `labels/…/x.txt`), the synthetic
// renderer's novel defects (`novel/x.txt`, pixel boxes) and DeepPCB annotations
// (`…/G5/ID_test.jpg` -> `…/G5_not/ID.txt`, `x1 y1 x2 y2 type`). Symbolic links are followed.

import Detection
import Foundation

public enum DefectRegions {
    public typealias Box = (x1: Double, y1: Double, x2: Double, y2: Double)

    /// The defect boxes of an image in its pixels; nil when no annotation source exists.
    public static func boxes(forImage path: String, width: Int, height: Int) -> [Box]? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var found: [Box]? = nil
        func add(_ boxes: [Box]) { found = (found ?? []) + boxes }
        let stem = ((real as NSString).lastPathComponent as NSString).deletingPathExtension
        if let range = real.range(of: "/images/", options: .backwards) {
            let root = String(real[..<range.lowerBound])
            let labels = root + "/labels/" + ((String(real[range.upperBound...]) as NSString).deletingPathExtension) + ".txt"
            if let text = try? String(contentsOfFile: labels, encoding: .utf8) {
                add(text.split(whereSeparator: \.isNewline).compactMap { line in
                    let v = line.split(separator: " ").compactMap { Double($0) }
                    guard v.count >= 5 else { return nil }
                    let (cx, cy, w, h) = (v[1] * Double(width), v[2] * Double(height), v[3] * Double(width), v[4] * Double(height))
                    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                })
            }
            if let text = try? String(contentsOfFile: root + "/novel/" + stem + ".txt", encoding: .utf8) {
                add(text.split(whereSeparator: \.isNewline).compactMap { line in
                    let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
                    return v.count == 4 ? (v[0], v[1], v[2], v[3]) : nil
                })
            }
        }
        if stem.hasSuffix("_test") {
            let folder = (real as NSString).deletingLastPathComponent
            let annotation = folder + "_not/" + stem.dropLast("_test".count) + ".txt"
            if let text = try? String(contentsOfFile: annotation, encoding: .utf8) {
                add(text.split(whereSeparator: \.isNewline).compactMap { line in
                    let v = line.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
                    return v.count >= 4 ? (v[0], v[1], v[2], v[3]) : nil
                })
            }
        }
        return found
    }

    /// Whether a map cell (frame pixels) covers a defect: the overlap is at least a quarter of
    /// the smaller of the two.
    public static func covers(cell: Box, _ boxes: [Box]) -> Bool {
        boxes.contains { box in
            let w = min(cell.x2, box.x2) - max(cell.x1, box.x1), h = min(cell.y2, box.y2) - max(cell.y1, box.y1)
            guard w > 0, h > 0 else { return false }
            let smaller = min((cell.x2 - cell.x1) * (cell.y2 - cell.y1), (box.x2 - box.x1) * (box.y2 - box.y1))
            return w * h >= 0.25 * smaller
        }
    }
}
