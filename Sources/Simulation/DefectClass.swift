// The detector's classes and the label types of synthetic boards.

import Foundation
import ImageKit

/// The 11 defect classes of the line's detector; `rawValue` is the YOLO class index.
public enum DefectClass: Int, CaseIterable, Sendable, Codable, Hashable, CustomStringConvertible {
    case missingComponent = 0
    case openCircuit
    case short
    case coldJoint
    case solderBridge
    case insufficientSolder
    case damagedPad
    case spuriousCopper
    case mouseBite
    case spur
    case pinHole

    /// The model's class name (as in data/pcb_defects.yaml and the YOLO data.yaml).
    public var name: String { Self.names[rawValue] }

    public var description: String { name }

    /// Class names in index order.
    public static let names = [
        "missing_component", "open_circuit", "short", "cold_joint", "solder_bridge", "insufficient_solder",
        "damaged_pad", "spurious_copper", "mouse_bite", "spur", "pin_hole",
    ]

    public init?(name: String) {
        guard let index = Self.names.firstIndex(of: name) else { return nil }
        self.init(rawValue: index)
    }
}

/// One labelled defect: class index and an axis-aligned box in image pixels (x2 > x1, y2 > y1).
public struct BoxLabel: Sendable, Equatable, Hashable {
    public var classIndex: Int
    public var x1: Double
    public var y1: Double
    public var x2: Double
    public var y2: Double

    public init(classIndex: Int, x1: Double, y1: Double, x2: Double, y2: Double) {
        self.classIndex = classIndex
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }

    public var defectClass: DefectClass? { DefectClass(rawValue: classIndex) }
    public var width: Double { x2 - x1 }
    public var height: Double { y2 - y1 }

    /// Ultralytics YOLO label line `class cx cy w h`, normalised to [0, 1] with 6 decimals,
    /// after clipping the box to the image.
    public func yoloLine(imageWidth: Int, imageHeight: Int) -> String {
        let w = Double(imageWidth), h = Double(imageHeight)
        let ax = min(max(x1, 0), w), bx = min(max(x2, 0), w)
        let ay = min(max(y1, 0), h), by = min(max(y2, 0), h)
        func f(_ v: Double) -> String { String(format: "%.6f", min(max(v, 0), 1)) }
        return "\(classIndex) \(f((ax + bx) / 2 / w)) \(f((ay + by) / 2 / h)) \(f((bx - ax) / w)) \(f((by - ay) / h))"
    }
}

/// A rendered board photo and its defect labels.
public struct SyntheticBoard: Sendable {
    public var image: RGBImage
    public var labels: [BoxLabel]
    /// The seeds it was rendered from (render the same layout again with another camera).
    public var seeds: BoardSeeds

    public init(image: RGBImage, labels: [BoxLabel], seeds: BoardSeeds) {
        self.image = image
        self.labels = labels
        self.seeds = seeds
    }

    /// The YOLO label file: one line per box, each ending in a newline ("" when defect-free).
    public var yoloLabels: String {
        labels.map { $0.yoloLine(imageWidth: image.width, imageHeight: image.height) + "\n" }.joined()
    }

    /// How visible a label's defect is: the largest 3x3-mean luminance difference, in 8-bit
    /// levels, inside the label's box between this photo and `clean`, the same seeds rendered
    /// with `.none` (same board, pose, light and sensor noise, so the difference is the defect
    /// alone). Compare with the same measure between `clean` and a noise-free render, which is
    /// what sensor noise alone reaches in the box.
    public func contrast(of label: BoxLabel, against clean: RGBImage) -> Double {
        precondition(clean.width == image.width && clean.height == image.height, "clean render must have the same size")
        let w = image.width, h = image.height
        let x0 = max(0, Int(label.x1.rounded(.down))), x1 = min(w, Int(label.x2.rounded(.up)))
        let y0 = max(0, Int(label.y1.rounded(.down))), y1 = min(h, Int(label.y2.rounded(.up)))
        guard x1 > x0, y1 > y0 else { return 0 }
        let bw = x1 - x0, bh = y1 - y0
        var d = [Double](repeating: 0, count: bw * bh)
        for y in y0..<y1 {
            for x in x0..<x1 {
                let i = 3 * (y * w + x)
                let dr = Double(image.pixels[i]) - Double(clean.pixels[i])
                let dg = Double(image.pixels[i + 1]) - Double(clean.pixels[i + 1])
                let db = Double(image.pixels[i + 2]) - Double(clean.pixels[i + 2])
                d[(y - y0) * bw + (x - x0)] = 0.299 * dr + 0.587 * dg + 0.114 * db
            }
        }
        var best = 0.0
        for y in 0..<bh {
            for x in 0..<bw {
                var sum = 0.0, n = 0.0
                for yy in max(0, y - 1)...min(bh - 1, y + 1) {
                    for xx in max(0, x - 1)...min(bw - 1, x + 1) { sum += d[yy * bw + xx]; n += 1 }
                }
                best = max(best, abs(sum / n))
            }
        }
        return best
    }
}

