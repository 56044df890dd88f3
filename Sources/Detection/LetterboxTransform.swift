// Ultralytics' letterbox: scale the frame to fit the model input keeping its aspect ratio,
// then pad with grey 114 to the input size, the padding split evenly between both sides.
//
// With a fixed-size model (640x640) a 640x480 frame is padded 80 rows top and bottom. With a
// dynamic-size model the input is made rectangular: each side is padded only up to the next
// multiple of the stride, as Ultralytics does (`LetterBox(auto=True)`), so 640x480 runs as
// 640x480 with no padding at all. Boxes are mapped back with `frameBox(_:)`.

import ImageKit

/// The geometry of one letterbox: input size, scale and padding.
public struct LetterboxTransform: Sendable, Equatable {
    /// Model input size.
    public let inputWidth: Int
    public let inputHeight: Int
    /// Frame size.
    public let frameWidth: Int
    public let frameHeight: Int
    /// Input pixels per frame pixel: input = frame * scale.
    public let scale: Double
    /// Size of the scaled frame inside the input.
    public let scaledWidth: Int
    public let scaledHeight: Int
    /// Padding on the left and top.
    public let padLeft: Int
    public let padTop: Int

    /// - Parameters:
    ///   - target: the model's input size (height, width), or the requested size for a dynamic model.
    ///   - rectangular: pad only to a multiple of `stride` (dynamic-size models).
    public init(frameWidth: Int, frameHeight: Int, targetWidth: Int, targetHeight: Int, stride: Int = 32, rectangular: Bool = false) {
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        let ratio = min(Double(targetHeight) / Double(frameHeight), Double(targetWidth) / Double(frameWidth))
        scale = ratio
        // Python's round() is banker's rounding; the products here are rarely exact halves.
        // At least one pixel: a 2000x1 frame must not become a 0-pixel input.
        scaledWidth = max(1, Int((Double(frameWidth) * ratio).rounded(.toNearestOrEven)))
        scaledHeight = max(1, Int((Double(frameHeight) * ratio).rounded(.toNearestOrEven)))
        var padWidth = Double(targetWidth - scaledWidth)
        var padHeight = Double(targetHeight - scaledHeight)
        if rectangular {
            padWidth = padWidth.truncatingRemainder(dividingBy: Double(stride))
            padHeight = padHeight.truncatingRemainder(dividingBy: Double(stride))
        }
        padWidth /= 2
        padHeight /= 2
        padLeft = Int((padWidth - 0.1).rounded(.toNearestOrEven))
        padTop = Int((padHeight - 0.1).rounded(.toNearestOrEven))
        let padRight = Int((padWidth + 0.1).rounded(.toNearestOrEven))
        let padBottom = Int((padHeight + 0.1).rounded(.toNearestOrEven))
        inputWidth = scaledWidth + padLeft + padRight
        inputHeight = scaledHeight + padTop + padBottom
    }

    /// Writes the letterboxed frame as planar RGB floats in 0...1 into `destination`
    /// (`3 * inputHeight * inputWidth` values: the R plane, then G, then B).
    // frame: (H, W, 3) uint8 -> destination: (3, inputHeight, inputWidth) float
    public func fill(_ destination: UnsafeMutableBufferPointer<Float>, from frame: RGBImage) {
        let plane = inputWidth * inputHeight
        precondition(destination.count >= 3 * plane)
        let grey: Float = 114.0 / 255.0
        for i in 0..<(3 * plane) { destination[i] = grey }
        let inverse: Float = 1.0 / 255.0
        frame.pixels.withUnsafeBufferPointer { source in
            if scaledWidth == frameWidth && scaledHeight == frameHeight {
                for y in 0..<frameHeight {
                    let row = (y + padTop) * inputWidth + padLeft
                    var s = y * frameWidth * 3
                    for x in 0..<frameWidth {
                        destination[row + x] = Float(source[s]) * inverse
                        destination[plane + row + x] = Float(source[s + 1]) * inverse
                        destination[2 * plane + row + x] = Float(source[s + 2]) * inverse
                        s += 3
                    }
                }
            } else {
                resizeBilinear(source, into: destination, plane: plane)
            }
        }
    }

    /// Bilinear resize with pixel-centre alignment (OpenCV's INTER_LINEAR convention).
    private func resizeBilinear(_ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<Float>, plane: Int) {
        let scaleX = Double(frameWidth) / Double(scaledWidth)
        let scaleY = Double(frameHeight) / Double(scaledHeight)
        var xs0 = [Int](repeating: 0, count: scaledWidth), xs1 = xs0
        var wx = [Float](repeating: 0, count: scaledWidth)
        for x in 0..<scaledWidth {
            let position = max(0, (Double(x) + 0.5) * scaleX - 0.5)
            let base = min(Int(position), frameWidth - 1)
            xs0[x] = base
            xs1[x] = min(base + 1, frameWidth - 1)
            wx[x] = Float(position - Double(base))
        }
        let inverse: Float = 1.0 / 255.0
        for y in 0..<scaledHeight {
            let position = max(0, (Double(y) + 0.5) * scaleY - 0.5)
            let y0 = min(Int(position), frameHeight - 1)
            let y1 = min(y0 + 1, frameHeight - 1)
            let wy = Float(position - Double(y0))
            let row = (y + padTop) * inputWidth + padLeft
            for x in 0..<scaledWidth {
                for c in 0..<3 {
                    let a = Float(source[(y0 * frameWidth + xs0[x]) * 3 + c])
                    let b = Float(source[(y0 * frameWidth + xs1[x]) * 3 + c])
                    let d = Float(source[(y1 * frameWidth + xs0[x]) * 3 + c])
                    let e = Float(source[(y1 * frameWidth + xs1[x]) * 3 + c])
                    let top = a + (b - a) * wx[x]
                    let bottom = d + (e - d) * wx[x]
                    destination[c * plane + row + x] = (top + (bottom - top) * wy).rounded() * inverse
                }
            }
        }
    }

    /// Maps a box from input pixels back to frame pixels, clipped to the frame
    /// (Ultralytics' `scale_boxes`).
    public func frameBox(x1: Float, y1: Float, x2: Float, y2: Float) -> (Float, Float, Float, Float) {
        let gain = Float(scale)
        let left = Float(padLeft), top = Float(padTop)
        let width = Float(frameWidth), height = Float(frameHeight)
        func clip(_ v: Float, _ limit: Float) -> Float { min(max(v, 0), limit) }
        return (clip((x1 - left) / gain, width), clip((y1 - top) / gain, height),
                clip((x2 - left) / gain, width), clip((y2 - top) / gain, height))
    }
}
