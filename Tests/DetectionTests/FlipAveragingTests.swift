// Test-time flips on hand-made "models" whose answers are known: one that sees the same thing
// wherever the board is mirrored (its average is its plain output), one that only knows where
// an anchor is (its average is the mean over mirror positions), and a head whose anchors do not
// form the grids (refused: its thresholds assume flips it cannot have).

import Inspection
import NeuralEngine
import Testing
@testable import Detection

@Suite struct FlipAveragingTests {
    // A 64 x 32 input: grids 4x8, 2x4 and 1x2 cells at strides 8, 16 and 32 (42 anchors).
    let height = 32, width = 64
    var anchors: Int { FlipAveraging.levels(height: height, width: width, anchors: 42)!.reduce(0) { $0 + $1.gh * $1.gw } }

    /// A board-like input whose values differ everywhere, so that a wrong mirror shows.
    func input() -> Tensor {
        var values: [Float] = []
        for c in 0..<3 { for y in 0..<height { for x in 0..<width { values.append(Float((c * 31 + y * 7 + x * x) % 97) / 97) } } }
        return Tensor(shape: [1, 3, height, width], floats: values)
    }

    /// Output (1, 5, anchors) of a model that sees: box = the cell (centre, stride), score = the
    /// cell's mean of channel 0. Mirroring the input mirrors its answer exactly.
    func equivariantModel(_ input: Tensor) -> Tensor {
        let values = input.floats
        var rows = [[Float]](repeating: [], count: 5)
        for stride in FlipAveraging.strides {
            for gy in 0..<(height / stride) {
                for gx in 0..<(width / stride) {
                    var sum: Float = 0
                    for y in (gy * stride)..<((gy + 1) * stride) { for x in (gx * stride)..<((gx + 1) * stride) { sum += values[y * width + x] } }
                    rows[0].append((Float(gx) + 0.5) * Float(stride))
                    rows[1].append((Float(gy) + 0.5) * Float(stride))
                    rows[2].append(Float(stride))
                    rows[3].append(Float(stride))
                    rows[4].append(sum / Float(stride * stride))
                }
            }
        }
        return Tensor(shape: [1, 5, rows[0].count], floats: rows.flatMap { $0 })
    }

    @Test func anEquivariantModelKeepsItsPlainOutput() throws {
        let x = input()
        let plain = equivariantModel(x)
        for flips in [TestTimeFlips.horizontal, .both] {
            var runs = 0
            let averaged = try FlipAveraging.average(plain, of: x, flips: flips) { view in
                runs += 1
                return equivariantModel(view)
            }
            #expect(runs == flips.views.count - 1 && flips.views.count == (flips == .both ? 4 : 2))
            #expect(averaged.shape == plain.shape)
            for (a, b) in zip(averaged.floats, plain.floats) { #expect(abs(a - b) < 1e-5, "\(flips): \(a) against \(b)") }
        }
    }

    @Test func aModelThatOnlyKnowsPositionsAveragesOverTheMirrors() throws {
        let x = input()
        // Score: the anchor's column as a share of its row (0 at the left, 1 at the right); cx: a
        // constant 10 pixels; cy: the row's centre.
        func positional(_ view: Tensor) -> Tensor {
            var rows = [[Float]](repeating: [], count: 5)
            for stride in FlipAveraging.strides {
                let gw = width / stride
                for gy in 0..<(height / stride) {
                    for gx in 0..<gw {
                        rows[0].append(10)
                        rows[1].append((Float(gy) + 0.5) * Float(stride))
                        rows[2].append(1)
                        rows[3].append(1)
                        rows[4].append(Float(gx) / Float(gw - 1))
                    }
                }
            }
            return Tensor(shape: [1, 5, rows[0].count], floats: rows.flatMap { $0 })
        }
        let averaged = try FlipAveraging.average(positional(x), of: x, flips: .horizontal, positional).floats
        let n = anchors
        // Left and right mirrors meet in the middle: every score 0.5.
        for a in 0..<n { #expect(abs(averaged[4 * n + a] - 0.5) < 1e-6) }
        // cx = 10 and W - 10 averaged: the centre column.
        for a in 0..<n { #expect(abs(averaged[a] - Float(width) / 2) < 1e-5) }
        // The vertical mirror leaves columns and cy alone in "both": the rows' centres survive.
        let both = try FlipAveraging.average(positional(x), of: x, flips: .both, positional).floats
        let plain = positional(x).floats
        for a in 0..<n { #expect(abs(both[n + a] - plain[n + a]) < 1e-5 && abs(both[4 * n + a] - averaged[4 * n + a]) < 1e-6) }
    }

    @Test func mirroringTwiceIsTheInput() {
        let x = input()
        let h = FlipAveraging.flip(x, horizontal: true, vertical: false)
        #expect(h.floats[0] == x.floats[width - 1])
        let v = FlipAveraging.flip(x, horizontal: false, vertical: true)
        #expect(v.floats[0] == x.floats[(height - 1) * width])
        let back = FlipAveraging.flip(FlipAveraging.flip(x, horizontal: true, vertical: true), horizontal: true, vertical: true)
        #expect(back.floats == x.floats)
    }

    @Test func eachImageOfABatchIsAveragedOnItsOwn() throws {
        // Two different boards in one batch: each must come out as it does alone.
        let first = input()
        let second = Tensor(shape: first.shape, floats: first.floats.reversed())
        let batch = Tensor(shape: [2, 3, height, width], floats: first.floats + second.floats)
        func model(_ x: Tensor) -> Tensor {
            // Per image, the equivariant model; the batch's outputs stacked.
            let plane = 3 * height * width
            let outputs = (0..<x.shape[0]).map { b in
                equivariantModel(Tensor(shape: [1, 3, height, width], floats: Array(x.floats[(b * plane)..<((b + 1) * plane)])))
            }
            return Tensor(shape: [x.shape[0], 5, outputs[0].shape[2]], floats: outputs.flatMap(\.floats))
        }
        let together = try FlipAveraging.average(model(batch), of: batch, flips: .both, model).floats
        let alone = try [first, second].flatMap { try FlipAveraging.average(model($0), of: $0, flips: .both, model).floats }
        #expect(together.count == alone.count)
        for (a, b) in zip(together, alone) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func anotherHeadIsRefusedRatherThanRunWithoutFlips() throws {
        let x = input()
        // 41 anchors: not the strides 8/16/32 grids of a 64 x 32 input.
        let plain = Tensor(shape: [1, 5, 41], floats: (0..<205).map(Float.init))
        var runs = 0
        #expect(throws: DetectionError.self) { try FlipAveraging.average(plain, of: x, flips: .both) { _ in runs += 1; return plain } }
        #expect(runs == 0)
        // Without flips nothing is checked.
        #expect(try FlipAveraging.average(plain, of: x, flips: .none) { _ in plain }.floats == plain.floats)
        #expect(FlipAveraging.levels(height: 36, width: 64, anchors: 42) == nil)
        #expect(FlipAveraging.levels(height: height, width: width, anchors: 42)?.count == 3)
    }
}
