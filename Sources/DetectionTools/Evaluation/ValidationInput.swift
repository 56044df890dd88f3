// How `yolo val` turns a dataset image into model input, reproduced so that our engine sees
// the same pixels Ultralytics' validator feeds ONNX Runtime.
//
//   1. load_image: resize so the long side is `imgsz` (skipped when it already is), each side
//      ceil(side * r), OpenCV INTER_LINEAR.
//   2. LetterBox(scaleup=False, center=True) into the target shape, grey 114 padding:
//        fixed-size model   -> the model's input shape (640x640: a 640x480 image gets 80 rows
//                              top and bottom);
//        dynamic-size model -> `rect` batches (validation keeps them for dynamic ONNX models):
//                              each side ceil(side / long_side * imgsz / stride + 0.5) * stride,
//                              so a 640x480 image runs as 672x512 with 16 pixels on every side.
//   3. RGB, /255 as float32.
//
// The serving path (`YOLODetector`) letterboxes dynamic models differently (640x480 runs as
// 640x480); `EvaluationLetterbox.serving` measures that path instead.

import Detection
import ImageKit

/// Which preprocessing an evaluation uses.
public enum EvaluationLetterbox: String, Sendable, CaseIterable {
    /// Exactly `yolo val` (the default: comparable with Ultralytics' numbers).
    case validation = "val"
    /// Exactly the server's `YOLODetector` (what the line sees in production).
    case serving = "serve"
}

/// The geometry from an image to the model input.
public struct InputGeometry: Sendable, Equatable {
    public let frameWidth: Int, frameHeight: Int
    /// After step 1 (equal to the frame when no resize was needed).
    public let loadedWidth: Int, loadedHeight: Int
    /// Letterbox ratio (step 2) and the size of the image inside the input.
    public let ratio: Double
    public let scaledWidth: Int, scaledHeight: Int
    public let padLeft: Int, padTop: Int
    public let inputWidth: Int, inputHeight: Int

    public init(frameWidth: Int, frameHeight: Int, loadedWidth: Int, loadedHeight: Int, ratio: Double,
                scaledWidth: Int, scaledHeight: Int, padLeft: Int, padTop: Int, inputWidth: Int, inputHeight: Int) {
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.loadedWidth = loadedWidth
        self.loadedHeight = loadedHeight
        self.ratio = ratio
        self.scaledWidth = scaledWidth
        self.scaledHeight = scaledHeight
        self.padLeft = padLeft
        self.padTop = padTop
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
    }

    /// `yolo val`'s geometry.
    /// - Parameters:
    ///   - imageSize: `imgsz` (for a fixed-size model, the larger side of its input).
    ///   - fixedInput: the model's input (height, width), nil for a dynamic-size model (rect batch of one).
    public static func validation(frameWidth w0: Int, frameHeight h0: Int, imageSize: Int,
                                  fixedInput: (height: Int, width: Int)?, stride: Int) -> InputGeometry {
        // Step 1: long side to imgsz.
        var w1 = w0, h1 = h0
        let r0 = Double(imageSize) / Double(max(w0, h0))
        if r0 != 1 {
            w1 = min(Int((Double(w0) * r0).rounded(.up)), imageSize)
            h1 = min(Int((Double(h0) * r0).rounded(.up)), imageSize)
        }
        // Target shape.
        let targetHeight: Int, targetWidth: Int
        if let fixedInput {
            (targetHeight, targetWidth) = fixedInput
        } else {
            let aspect = Double(h0) / Double(w0)
            let shape: (Double, Double) = aspect < 1 ? (aspect, 1) : aspect > 1 ? (1, 1 / aspect) : (1, 1)
            func side(_ s: Double) -> Int { Int((s * Double(imageSize) / Double(stride) + 0.5).rounded(.up)) * stride }
            targetHeight = side(shape.0)
            targetWidth = side(shape.1)
        }
        // Step 2: LetterBox(scaleup=False, auto=False, center=True).
        let r = min(Double(targetHeight) / Double(h1), Double(targetWidth) / Double(w1), 1.0)
        let scaledWidth = max(Int((Double(w1) * r).rounded(.toNearestOrEven)), 1)
        let scaledHeight = max(Int((Double(h1) * r).rounded(.toNearestOrEven)), 1)
        let dw = Double(targetWidth - scaledWidth) / 2, dh = Double(targetHeight - scaledHeight) / 2
        let top = Int((dh - 0.1).rounded(.toNearestOrEven)), bottom = Int((dh + 0.1).rounded(.toNearestOrEven))
        let left = Int((dw - 0.1).rounded(.toNearestOrEven)), right = Int((dw + 0.1).rounded(.toNearestOrEven))
        return InputGeometry(frameWidth: w0, frameHeight: h0, loadedWidth: w1, loadedHeight: h1, ratio: r,
                             scaledWidth: scaledWidth, scaledHeight: scaledHeight, padLeft: left, padTop: top,
                             inputWidth: scaledWidth + left + right, inputHeight: scaledHeight + top + bottom)
    }

    /// The server's geometry (`YOLODetector.letterbox`).
    public static func serving(frameWidth: Int, frameHeight: Int, target: (height: Int, width: Int), stride: Int,
                               dynamicSize: Bool) -> InputGeometry {
        let t = LetterboxTransform(frameWidth: frameWidth, frameHeight: frameHeight, targetWidth: target.width,
                                   targetHeight: target.height, stride: stride, rectangular: dynamicSize)
        return InputGeometry(frameWidth: frameWidth, frameHeight: frameHeight, loadedWidth: frameWidth, loadedHeight: frameHeight,
                             ratio: t.scale, scaledWidth: t.scaledWidth, scaledHeight: t.scaledHeight, padLeft: t.padLeft,
                             padTop: t.padTop, inputWidth: t.inputWidth, inputHeight: t.inputHeight)
    }

    /// A normalised label box in input pixels (as the validator's targets).
    public func inputBox(_ label: LabelBox) -> EvaluationBox {
        let sx = Float(loadedWidth) * Float(ratio), sy = Float(loadedHeight) * Float(ratio)
        let left = Float(padLeft), top = Float(padTop)
        return EvaluationBox(x1: (label.cx - label.w / 2) * sx + left, y1: (label.cy - label.h / 2) * sy + top,
                             x2: (label.cx + label.w / 2) * sx + left, y2: (label.cy + label.h / 2) * sy + top,
                             classIndex: label.classIndex)
    }

    /// A box in input pixels mapped to frame pixels, clipped to the frame (`scale_boxes`).
    public func frameBox(x1: Float, y1: Float, x2: Float, y2: Float) -> (Float, Float, Float, Float) {
        let gainX = Float(Double(loadedWidth) * ratio / Double(frameWidth))
        let gainY = Float(Double(loadedHeight) * ratio / Double(frameHeight))
        let left = Float(padLeft), top = Float(padTop)
        func clip(_ v: Float, _ limit: Int) -> Float { min(max(v, 0), Float(limit)) }
        return (clip((x1 - left) / gainX, frameWidth), clip((y1 - top) / gainY, frameHeight),
                clip((x2 - left) / gainX, frameWidth), clip((y2 - top) / gainY, frameHeight))
    }

    /// Planar RGB float input (`3 * inputHeight * inputWidth`), pixels / 255, padding grey 114.
    public func input(from frame: RGBImage) -> [Float] {
        precondition(frame.width == frameWidth && frame.height == frameHeight)
        var image = frame
        if loadedWidth != frameWidth || loadedHeight != frameHeight {
            image = Self.resizeLinear(image, width: loadedWidth, height: loadedHeight)
        }
        if scaledWidth != image.width || scaledHeight != image.height {
            image = Self.resizeLinear(image, width: scaledWidth, height: scaledHeight)
        }
        let plane = inputWidth * inputHeight
        var values = [Float](repeating: Float(114) / 255, count: 3 * plane)
        values.withUnsafeMutableBufferPointer { destination in
            image.pixels.withUnsafeBufferPointer { source in
                for y in 0..<scaledHeight {
                    let row = (y + padTop) * inputWidth + padLeft
                    var s = y * scaledWidth * 3
                    for x in 0..<scaledWidth {
                        destination[row + x] = Float(source[s]) / 255
                        destination[plane + row + x] = Float(source[s + 1]) / 255
                        destination[2 * plane + row + x] = Float(source[s + 2]) / 255
                        s += 3
                    }
                }
            }
        }
        return values
    }

    /// OpenCV's `resize(INTER_LINEAR)` for 8-bit images: pixel-centre mapping, 11-bit fixed-point
    /// weights, horizontal then vertical pass with OpenCV's rounding.
    public static func resizeLinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let sw = image.width, sh = image.height
        // Horizontally a tap outside the image is clamped with its weight moved to the edge pixel;
        // vertically OpenCV keeps the fractional weight and clamps the row (both rows are then the
        // edge row, and the two truncated products can round differently: reproduced here).
        func taps(_ destination: Int, _ source: Int, clampWeights: Bool) -> (index: [Int], w0: [Int32], w1: [Int32]) {
            let scale = 1.0 / (Double(destination) / Double(source))
            var index = [Int](repeating: 0, count: destination)
            var w0 = [Int32](repeating: 0, count: destination), w1 = w0
            for d in 0..<destination {
                var f = Float((Double(d) + 0.5) * scale - 0.5)
                var s = Int(f.rounded(.down))
                f -= Float(s)
                if clampWeights {
                    if s < 0 { f = 0; s = 0 }
                    if s >= source - 1 { f = 0; s = source - 1 }
                }
                index[d] = s
                w0[d] = Int32(((1 - f) * 2048).rounded(.toNearestOrEven))
                w1[d] = Int32((f * 2048).rounded(.toNearestOrEven))
            }
            return (index, w0, w1)
        }
        let xt = taps(width, sw, clampWeights: true), yt = taps(height, sh, clampWeights: false)
        var output = [UInt8](repeating: 0, count: width * height * 3)
        // Horizontal pass of one source row into `buffer` (width * 3 values, scaled by 2048).
        func horizontal(_ row: Int, into buffer: inout [Int32]) {
            image.pixels.withUnsafeBufferPointer { p in
                let base = row * sw * 3
                for x in 0..<width {
                    let s0 = xt.index[x], s1 = min(s0 + 1, sw - 1)
                    for c in 0..<3 {
                        buffer[x * 3 + c] = Int32(p[base + s0 * 3 + c]) * xt.w0[x] + Int32(p[base + s1 * 3 + c]) * xt.w1[x]
                    }
                }
            }
        }
        var upper = [Int32](repeating: 0, count: width * 3), lower = upper
        var upperRow = -1, lowerRow = -1
        for y in 0..<height {
            let r0 = min(max(yt.index[y], 0), sh - 1), r1 = min(max(yt.index[y] + 1, 0), sh - 1)
            if upperRow != r0 {
                if lowerRow == r0 { swap(&upper, &lower); swap(&upperRow, &lowerRow) } else { horizontal(r0, into: &upper); upperRow = r0 }
            }
            if lowerRow != r1 { horizontal(r1, into: &lower); lowerRow = r1 }
            let b0 = yt.w0[y], b1 = yt.w1[y]
            for i in 0..<(width * 3) {
                let value = (((b0 * (upper[i] >> 4)) >> 16) + ((b1 * (lower[i] >> 4)) >> 16) + 2) >> 2
                output[y * width * 3 + i] = UInt8(clamping: value)
            }
        }
        return RGBImage(width: width, height: height, pixels: output)
    }
}
