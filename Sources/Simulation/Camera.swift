// The camera over the conveyor: pose jitter (rotation, shift, zoom), uneven lighting and
// colour cast, optional blur, sensor noise and JPEG compression. Also maps defect masks
// from board space to image boxes with the same transform.

import Foundation
import ImageKit
import SeededRandom

/// How much a render's camera may vary. Everything is drawn from the camera seed.
public struct CameraConfig: Sendable, Equatable {
    /// Largest in-plane rotation, degrees (either way).
    public var maxRotationDegrees: Float = 3
    /// Largest shift as a fraction of the image size (either way).
    public var maxShiftFraction: Float = 0.02
    /// Largest zoom change (0.03 = 97%...103%).
    public var maxZoom: Float = 0.03
    /// Probability of a slightly blurred (defocused or moving) frame.
    public var blurProbability: Float = 0.35
    /// Largest Gaussian blur sigma in pixels at 640x480.
    public var maxBlurSigma: Float = 1.1
    /// Sensor noise standard deviation range (0...1 intensity scale).
    public var noise: ClosedRange<Float> = 0.004...0.022
    /// Strength of gradients, vignetting and hot spots (0 = perfectly even light).
    public var lighting: Float = 1
    /// Largest per-channel gain deviation (white-balance error).
    public var colourCast: Float = 0.06
    /// JPEG round trip quality range; nil leaves the picture uncompressed.
    public var jpegQuality: ClosedRange<Int>? = 70...95

    public init() {}

    /// A perfect camera: no jitter, even light, no noise, no blur, no compression.
    public static var ideal: CameraConfig {
        var c = CameraConfig()
        c.maxRotationDegrees = 0; c.maxShiftFraction = 0; c.maxZoom = 0; c.blurProbability = 0
        c.noise = 0...0; c.lighting = 0; c.colourCast = 0; c.jpegQuality = nil
        return c
    }
}

struct CameraModel {
    let width: Int, height: Int
    let canvasCentre: Vec2, imageCentre: Vec2
    let cosA: Float, sinA: Float, zoom: Float
    let shift: Vec2
    let exposure: Float
    let gains: Colour
    let gradient: Vec2
    let vignette: Float
    let hotspot: Vec2, hotspotStrength: Float, hotspotRadius: Float
    let blurSigma: Float
    let motion: Int
    let noiseSigma: Float
    let gamma: Float
    let jpegQuality: Int?
    let noiseSeed: UInt64

    /// Canvas margin around the view needed so that every jittered view stays on the canvas.
    static func margin(width: Int, height: Int, config: CameraConfig) -> Int {
        let a = config.maxRotationDegrees * .pi / 180
        let zmin = max(0.5, 1 - config.maxZoom)
        let w = Float(width) / 2, h = Float(height) / 2
        let hx = (w * cosf(a) + h * sinf(a)) / zmin + config.maxShiftFraction * Float(width) / zmin
        let hy = (h * cosf(a) + w * sinf(a)) / zmin + config.maxShiftFraction * Float(height) / zmin
        return Int(ceilf(max(hx - w, hy - h))) + 3
    }

    /// Inset from the view edges inside which a board point stays in every jittered image.
    static func safeInset(width: Int, height: Int, config: CameraConfig) -> Vec2 {
        let a = config.maxRotationDegrees * .pi / 180
        let zmax = 1 + config.maxZoom
        let w = Float(width) / 2, h = Float(height) / 2, border: Float = 3
        let sx = (w - border - config.maxShiftFraction * Float(width) - h * sinf(a)) / zmax
        let sy = (h - border - config.maxShiftFraction * Float(height) - w * sinf(a)) / zmax
        return Vec2(max(4, w - sx * cosf(a)), max(4, h - sy * cosf(a)))
    }

    init(seed: UInt64, config: CameraConfig, width: Int, height: Int, canvasWidth: Int, canvasHeight: Int) {
        var rng = SplitMix64(seed: seed)
        self.width = width; self.height = height
        canvasCentre = Vec2(Float(canvasWidth), Float(canvasHeight)) / 2
        imageCentre = Vec2(Float(width), Float(height)) / 2
        let angle = rng.uniform(-1, 1) * config.maxRotationDegrees * .pi / 180
        cosA = cosf(angle); sinA = sinf(angle)
        zoom = 1 + rng.uniform(-1, 1) * config.maxZoom
        shift = Vec2(rng.uniform(-1, 1) * config.maxShiftFraction * Float(width), rng.uniform(-1, 1) * config.maxShiftFraction * Float(height))
        let l = config.lighting
        exposure = 1 + rng.uniform(-0.12, 0.1) * l
        let cast = config.colourCast
        gains = Colour(1 + rng.uniform(-cast, cast), 1 + rng.uniform(-cast, cast) * 0.5, 1 + rng.uniform(-cast, cast))
        let ga = rng.uniform(0, 2 * .pi)
        gradient = Vec2(cosf(ga), sinf(ga)) * rng.uniform(0, 0.16) * l
        vignette = rng.uniform(0.05, 0.35) * l
        hotspot = Vec2(rng.uniform(0.2, 0.8) * Float(width), rng.uniform(0.2, 0.8) * Float(height))
        hotspotStrength = rng.chance(0.35) ? rng.uniform(0.03, 0.12) * l : 0
        hotspotRadius = rng.uniform(0.2, 0.5) * Float(width)
        let scale = Float(min(width, height)) / 480
        blurSigma = rng.chance(config.blurProbability) ? rng.uniform(0.4, max(0.4, config.maxBlurSigma)) * max(0.5, scale) : 0
        motion = (blurSigma == 0 && rng.chance(config.blurProbability * 0.3)) ? rng.int(2...3) : 0
        noiseSigma = rng.uniform(config.noise)
        gamma = 1 + rng.uniform(-0.08, 0.08) * l
        if let q = config.jpegQuality { jpegQuality = rng.int(q) } else { jpegQuality = nil }
        noiseSeed = rng.next()
    }

    /// Board canvas point -> image point.
    @inline(__always) func toImage(_ p: Vec2) -> Vec2 {
        let d = (p - canvasCentre) * zoom
        return Vec2(d.x * cosA - d.y * sinA, d.x * sinA + d.y * cosA) + imageCentre + shift
    }

    /// Image point -> board canvas point.
    @inline(__always) func toBoard(_ q: Vec2) -> Vec2 {
        let d = (q - imageCentre - shift) / zoom
        return Vec2(d.x * cosA + d.y * sinA, -d.x * sinA + d.y * cosA) + canvasCentre
    }

    /// Takes the picture of the canvas.
    func develop(_ canvas: Canvas) -> RGBImage {
        let w = width, h = height
        var out = [Colour](repeating: .zero, count: w * h)
        let cw = canvas.width, ch = canvas.height
        let diag = length2(imageCentre)
        out.withUnsafeMutableBufferPointer { dst in
            for v in 0..<h {
                for u in 0..<w {
                    let q = Vec2(Float(u) + 0.5, Float(v) + 0.5)
                    let p = toBoard(q) - Vec2(0.5, 0.5)
                    let fx = min(max(p.x, 0), Float(cw - 1)), fy = min(max(p.y, 0), Float(ch - 1))
                    let x0 = min(Int(fx), cw - 2), y0 = min(Int(fy), ch - 2)
                    let tx = fx - Float(x0), ty = fy - Float(y0)
                    let i = y0 * cw + x0
                    let c = mix(mix(canvas.px[i], canvas.px[i + 1], tx), mix(canvas.px[i + cw], canvas.px[i + cw + 1], tx), ty)
                    let r = (q - imageCentre) / diag
                    var light = exposure * (1 + dot2(gradient, r)) * (1 - vignette * dot2(r, r))
                    if hotspotStrength > 0 {
                        let d = length2(q - hotspot) / hotspotRadius
                        light += hotspotStrength * expf(-d * d)
                    }
                    dst[v * w + u] = c * gains * light
                }
            }
        }
        if blurSigma > 0 { gaussianBlur(&out, sigma: blurSigma) }
        if motion > 0 { motionBlur(&out, length: motion) }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        var rng = SplitMix64(seed: noiseSeed)
        let sigma = noiseSigma, invGamma = 1 / gamma
        for i in 0..<(w * h) {
            var c = out[i]
            if sigma > 0 {
                // Shot-like noise: stronger in brighter pixels; plus a shared luminance part.
                let bits = rng.next()
                let lum = approxNormal(bits) * sigma * 0.6
                let bits2 = rng.next()
                c.x += (approxNormal(bits2) * sigma * (0.5 + 0.7 * max(c.x, 0).squareRoot())) + lum
                c.y += (approxNormal(bits2 >> 16 | bits << 48) * sigma * (0.5 + 0.7 * max(c.y, 0).squareRoot())) + lum
                c.z += (approxNormal(bits2 >> 32 | bits << 32) * sigma * (0.5 + 0.7 * max(c.z, 0).squareRoot())) + lum
            }
            pixels[3 * i] = toByte(c.x, invGamma)
            pixels[3 * i + 1] = toByte(c.y, invGamma)
            pixels[3 * i + 2] = toByte(c.z, invGamma)
        }
        let image = RGBImage(width: w, height: h, pixels: pixels)
        guard let quality = jpegQuality else { return image }
        let codec = JPEGCodec()
        guard let bytes = try? codec.encode(image, quality: quality), let decoded = try? codec.decode(bytes) else { return image }
        return decoded
    }

    @inline(__always) private func toByte(_ v: Float, _ invGamma: Float) -> UInt8 {
        let x = max(0, min(1, v))
        return UInt8(min(255, max(0, powf(x, invGamma) * 255 + 0.5)))
    }

    /// Sum of four 16-bit uniforms from a 64-bit draw, scaled to unit variance (Irwin-Hall).
    @inline(__always) private func approxNormal(_ bits: UInt64) -> Float {
        let a = Float(bits & 0xFFFF), b = Float((bits >> 16) & 0xFFFF), c = Float((bits >> 32) & 0xFFFF), d = Float(bits >> 48)
        return ((a + b + c + d) / 65_535 - 2) * 1.7320508
    }

    private func gaussianBlur(_ img: inout [Colour], sigma: Float) {
        let radius = max(1, Int(ceilf(sigma * 2.5)))
        var kernel = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let sum = kernel.reduce(0, +)
        kernel = kernel.map { $0 / sum }
        convolve(&img, kernel: kernel, horizontal: true)
        convolve(&img, kernel: kernel, horizontal: false)
    }

    private func motionBlur(_ img: inout [Colour], length: Int) {
        convolve(&img, kernel: [Float](repeating: 1 / Float(length), count: length), horizontal: true)
    }

    private func convolve(_ img: inout [Colour], kernel: [Float], horizontal: Bool) {
        let w = width, h = height, r = kernel.count / 2
        let src = img
        img.withUnsafeMutableBufferPointer { dst in
            src.withUnsafeBufferPointer { s in
                for y in 0..<h {
                    for x in 0..<w {
                        var acc = Colour.zero
                        for k in 0..<kernel.count {
                            let o = k - r
                            let xx = horizontal ? min(max(x + o, 0), w - 1) : x
                            let yy = horizontal ? y : min(max(y + o, 0), h - 1)
                            acc += s[yy * w + xx] * kernel[k]
                        }
                        dst[y * w + x] = acc
                    }
                }
            }
        }
    }

    /// The image box of a defect mask: pixels at or above `threshold`, mapped through the pose.
    func box(of mask: DefectMask, threshold: Float) -> (Box, Int)? {
        guard !mask.isEmpty else { return nil }
        var lo = Vec2(.greatestFiniteMagnitude, .greatestFiniteMagnitude), hi = -lo
        var count = 0
        for y in mask.y0..<mask.y1 {
            for x in mask.x0..<mask.x1 where mask.data[y * mask.width + x] >= threshold {
                let q = toImage(Vec2(Float(x) + 0.5, Float(y) + 0.5))
                lo = Vec2(min(lo.x, q.x), min(lo.y, q.y)); hi = Vec2(max(hi.x, q.x), max(hi.y, q.y))
                count += 1
            }
        }
        guard count > 0 else { return nil }
        let e = 0.5 * zoom * (abs(cosA) + abs(sinA))
        return (Box(lo.x - e, lo.y - e, hi.x + e, hi.y + e), count)
    }
}
