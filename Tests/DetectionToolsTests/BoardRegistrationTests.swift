// Board registration: the affine map algebra, recovery of a known pose under a lighting change,
// the identity for the reference itself, and refusals.

import Foundation
import ImageKit
import Testing
@testable import Detection

@Suite struct BoardRegistrationTests {
    /// A board-like picture: green with pads, traces and parts at seeded places.
    static func board(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: (20, 90, 45))
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<(width * height / 600) {
            let (x, y) = (next(width), next(height))
            let (w, h) = next(2) == 0 ? (3 + next(40), 2 + next(4)) : (3 + next(8), 3 + next(14))
            let colour: (UInt8, UInt8, UInt8) = [(200, 170, 90), (30, 30, 30), (230, 230, 220)][next(3)]
            for yy in y..<min(height, y + h) {
                for xx in x..<min(width, x + w) {
                    let i = (yy * width + xx) * 3
                    (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]) = colour
                }
            }
        }
        return image
    }

    /// `reference` seen through `map` (reference pixels -> new pixels), with a light gain
    /// falling off to the right; outside the reference the picture is the board's green.
    static func photograph(_ reference: RGBImage, through map: AffineMap) -> RGBImage {
        let (w, h) = (reference.width, reference.height)
        let back = map.inverted()!
        var out = RGBImage(width: w, height: h, fill: (20, 90, 45))
        for y in 0..<h {
            for x in 0..<w {
                let (u, v) = back.apply(Double(x) + 0.5, Double(y) + 0.5)
                let fx = u - 0.5, fy = v - 0.5
                guard fx >= 0, fy >= 0, fx < Double(w - 1), fy < Double(h - 1) else { continue }
                let (x0, y0) = (Int(fx), Int(fy))
                let (ax, ay) = (fx - Double(x0), fy - Double(y0))
                let gain = 0.9 - 0.2 * Double(x) / Double(w)
                for c in 0..<3 {
                    func p(_ xx: Int, _ yy: Int) -> Double { Double(reference.pixels[(yy * w + xx) * 3 + c]) }
                    let value = (p(x0, y0) * (1 - ax) + p(x0 + 1, y0) * ax) * (1 - ay) + (p(x0, y0 + 1) * (1 - ax) + p(x0 + 1, y0 + 1) * ax) * ay
                    out.pixels[(y * w + x) * 3 + c] = UInt8(min(255, max(0, (value * gain).rounded())))
                }
            }
        }
        return out
    }

    @Test func affineMapAlgebra() throws {
        let pose = AffineMap.pose(degrees: 3, scale: 1.02, shiftX: 5, shiftY: -2, centreX: 320, centreY: 240)
        #expect(abs(pose.rotationDegrees - 3) < 1e-9 && abs(pose.zoom - 1.02) < 1e-9)
        // The centre moves by the shift alone.
        let centre = pose.apply(320, 240)
        #expect(abs(centre.x - 325) < 1e-9 && abs(centre.y - 238) < 1e-9)
        let roundTrip = pose.then(try #require(pose.inverted())).apply(17, 99)
        #expect(abs(roundTrip.x - 17) < 1e-9 && abs(roundTrip.y - 99) < 1e-9)
        // Between pictures twice as large the same pose moves points twice as far.
        let doubled = pose.scaled(by: 2).apply(640, 480)
        #expect(abs(doubled.x - 2 * centre.x) < 1e-9 && abs(doubled.y - 2 * centre.y) < 1e-9)
        #expect(AffineMap(a: 1, b: 2, c: 2, d: 4, tx: 0, ty: 0).inverted() == nil)
    }

    @Test func recoversAConveyorPoseUnderOtherLight() throws {
        // Given a reference board and a photo of it turned 2.5 degrees, zoomed 2% and shifted,
        // under darker, uneven light...
        let reference = Self.board(width: 320, height: 240, seed: 11)
        let truth = AffineMap.pose(degrees: 2.5, scale: 1.02, shiftX: 7.3, shiftY: -4.6, centreX: 160, centreY: 120)
        let photo = Self.photograph(reference, through: truth)
        // When it is registered...
        let registration = try BoardRegistration(reference: reference, factor: 2)
        let result = try registration.register(photo)
        // Then every corner of the frame lands within half a pixel of where it truly is.
        #expect(result.converged && result.correlation > 0.8)
        for (x, y) in [(0.0, 0.0), (320, 0), (0, 240), (320, 240), (160, 120)] {
            let (found, expected) = (result.map.apply(x, y), truth.apply(x, y))
            let error = ((found.x - expected.x) * (found.x - expected.x) + (found.y - expected.y) * (found.y - expected.y)).squareRoot()
            #expect(error < 0.5, "corner (\(x), \(y)) off by \(error) px")
        }
    }

    @Test func theReferenceRegistersToTheIdentity() throws {
        let reference = Self.board(width: 256, height: 192, seed: 3)
        let registration = try BoardRegistration(reference: reference, factor: 2)
        let result = try registration.register(reference)
        #expect(result.converged && result.correlation > 0.99)
        let corner = result.map.apply(256, 192)
        #expect(abs(corner.x - 256) < 0.05 && abs(corner.y - 192) < 0.05)
    }

    @Test func refusesFramesItCannotRegister() throws {
        let registration = try BoardRegistration(reference: Self.board(width: 256, height: 192, seed: 3), factor: 2)
        #expect(throws: DetectionError.self) { try registration.register(Self.board(width: 320, height: 192, seed: 3)) }
        // Too small a picture for three pyramid levels.
        #expect(throws: DetectionError.self) { try BoardRegistration(reference: Self.board(width: 64, height: 64, seed: 1), factor: 4) }
        // A stored reference whose size does not match its frame.
        #expect(throws: DetectionError.self) {
            try BoardRegistration(frameWidth: 640, frameHeight: 480, factor: 4, reference: [Float](repeating: 0, count: 100), width: 10, height: 10)
        }
    }
}
