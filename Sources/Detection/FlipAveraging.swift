// Test-time flips: the model runs on the input and on its mirror images, and the raw outputs
// are averaged anchor by anchor before NMS.
//
// A YOLOv8/YOLO11 head's anchor grid is symmetric under a flip: on a level of stride s with
// gw x gh cells, cell (x, y) of the horizontally flipped input covers the mirror of what cell
// (gw - 1 - x, y) covers in the original, and its box centre cx maps back to W - cx. So each
// view's output is put back into the original's anchor order (exactly) and averaged, without
// matching boxes. The responses of partner cells agree up to the network's own asymmetry (its
// stride-2 convolutions pad one side more than the other). A defect the model sees in every
// view keeps its score; a spurious response of one view is divided by the number of views.
//
//   output (4 + nc, N), N = sum over levels of gh * gw, each level row-major (y, x):
//   view h:  anchor (x, y) -> (gw - 1 - x, y);  cx -> W - cx
//   view v:  anchor (x, y) -> (x, gh - 1 - y);  cy -> H - cy

import Inspection
import NeuralEngine

extension TestTimeFlips {
    /// The views: (flip left-right, flip top-bottom), the plain input first.
    var views: [(h: Bool, v: Bool)] {
        switch self {
        case .none: [(false, false)]
        case .horizontal: [(false, false), (true, false)]
        case .both: [(false, false), (true, false), (false, true), (true, true)]
        }
    }
}

enum FlipAveraging {
    /// The head's strides, finest first (YOLOv8/YOLO11 detection heads).
    static let strides = [8, 16, 32]

    /// The anchor grids (gh, gw) of an input, nil when they do not add up to `anchors`.
    static func levels(height: Int, width: Int, anchors: Int) -> [(gh: Int, gw: Int)]? {
        guard strides.allSatisfy({ height % $0 == 0 && width % $0 == 0 }) else { return nil }
        let levels = strides.map { (height / $0, width / $0) }
        return levels.reduce(0) { $0 + $1.0 * $1.1 } == anchors ? levels : nil
    }

    /// input (B, 3, H, W) -> the same, mirrored.
    static func flip(_ input: Tensor, horizontal: Bool, vertical: Bool) -> Tensor {
        let shape = input.shape
        let (planes, height, width) = (shape[0] * shape[1], shape[2], shape[3])
        let source = input.floats
        var flipped = [Float](repeating: 0, count: source.count)
        for p in 0..<planes {
            for y in 0..<height {
                let from = p * height * width + (vertical ? height - 1 - y : y) * width
                let to = p * height * width + y * width
                if horizontal {
                    for x in 0..<width { flipped[to + x] = source[from + width - 1 - x] }
                } else {
                    for x in 0..<width { flipped[to + x] = source[from + x] }
                }
            }
        }
        return Tensor(shape: shape, floats: flipped)
    }

    /// Adds one view's output (B, rows, N) into `sum`, in the original's anchor order and
    /// coordinates. `levels` from `levels(height:width:anchors:)`.
    static func accumulate(_ output: Tensor, into sum: inout [Float], horizontal: Bool, vertical: Bool,
                           levels: [(gh: Int, gw: Int)], height: Int, width: Int) {
        let (batch, rows, anchors) = (output.shape[0], output.shape[1], output.shape[2])
        let values = output.floats
        for b in 0..<batch {
            var first = 0
            for (gh, gw) in levels {
                for y in 0..<gh {
                    for x in 0..<gw {
                        let from = first + y * gw + x
                        let to = first + (vertical ? gh - 1 - y : y) * gw + (horizontal ? gw - 1 - x : x)
                        for r in 0..<rows {
                            var value = values[(b * rows + r) * anchors + from]
                            if r == 0 && horizontal { value = Float(width) - value }
                            if r == 1 && vertical { value = Float(height) - value }
                            sum[(b * rows + r) * anchors + to] += value
                        }
                    }
                }
                first += gh * gw
            }
        }
    }

    /// Runs `run` on the mirrored views of `input` (B, 3, H, W) and returns their average with
    /// `plain`, the output of `input` itself. A head whose anchors do not form the stride 8/16/32
    /// grids (a P2 or P6 head) is refused: its thresholds were chosen with flips, which it cannot have.
    static func average(_ plain: Tensor, of input: Tensor, flips: TestTimeFlips, _ run: (Tensor) throws -> Tensor) throws -> Tensor {
        guard flips != .none else { return plain }
        guard plain.shape.count == 3, let levels = levels(height: input.shape[2], width: input.shape[3], anchors: plain.shape[2]) else {
            throw DetectionError.invalidModel("test-time flips (\(flips)) need a detection head on the stride 8, 16 and 32 grids; "
                + "this model's \(plain.shape.count == 3 ? plain.shape[2] : 0) anchors at \(input.shape[3])x\(input.shape[2]) are not: "
                + "calibrate it with --flips none")
        }
        var sum = plain.floats
        let views = flips.views
        for view in views.dropFirst() {
            let output = try run(flip(input, horizontal: view.h, vertical: view.v))
            accumulate(output, into: &sum, horizontal: view.h, vertical: view.v, levels: levels,
                       height: input.shape[2], width: input.shape[3])
        }
        let scale = 1 / Float(views.count)
        for i in sum.indices { sum[i] *= scale }
        return Tensor(shape: plain.shape, floats: sum)
    }
}
