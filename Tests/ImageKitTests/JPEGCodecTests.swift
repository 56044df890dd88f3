import Foundation
import ImageKit
import Testing

@Suite struct JPEGCodecTests {
    let codec = JPEGCodec()

    @Test func colourRoundTripKeepsSizeAndColour() throws {
        let image = RGBImage(width: 640, height: 480, fill: (200, 40, 90))
        let jpeg = try codec.encode(image, quality: 85)
        #expect(jpeg.prefix(2) == [0xFF, 0xD8])
        #expect(try codec.dimensions(of: jpeg) == (640, 480))
        let decoded = try codec.decode(jpeg)
        #expect(decoded.width == 640 && decoded.height == 480)
        let centre = (240 * 640 + 320) * 3
        #expect(abs(Int(decoded.pixels[centre]) - 200) <= 3)
        #expect(abs(Int(decoded.pixels[centre + 1]) - 40) <= 3)
        #expect(abs(Int(decoded.pixels[centre + 2]) - 90) <= 3)
    }

    @Test func refusesNonJPEGTruncatedAndEmpty() throws {
        let jpeg = try codec.encode(RGBImage(width: 64, height: 64, fill: (1, 2, 3)))
        #expect(throws: ImageError.self) { try codec.decode([]) }
        #expect(throws: ImageError.self) { try codec.decode(Array("PNG fake".utf8)) }
        #expect(throws: ImageError.self) { try codec.decode(Array(jpeg.prefix(jpeg.count - 40))) }
        #expect(throws: ImageError.self) { try codec.decode(Array(jpeg.prefix(2))) }
    }

    @Test func refusesPicturesOverThePixelLimitBeforeDecoding() throws {
        let small = JPEGCodec(maxPixels: 100)
        let jpeg = try codec.encode(RGBImage(width: 20, height: 20, fill: (0, 0, 0)))
        let error = #expect(throws: ImageError.self) { try small.decode(jpeg) }
        #expect(error?.label == "too_large")
    }

    @Test func grayscaleJPEGDecodesToRGB() throws {
        var pixels = [UInt8](repeating: 0, count: 32 * 32 * 3)
        for i in 0..<(32 * 32) { pixels[i * 3] = 200; pixels[i * 3 + 1] = 100; pixels[i * 3 + 2] = 50 }
        let jpeg = try codec.encode(RGBImage(width: 32, height: 32, pixels: pixels), grayscale: true)
        // SOF0 with one component: FF C0, length, precision, height, width, components = 1
        let sof = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        #expect(jpeg[sof + 9] == 1)
        let decoded = try codec.decode(jpeg)
        #expect(decoded.width == 32 && decoded.height == 32)
        #expect(decoded.pixels[0] == decoded.pixels[1] && decoded.pixels[1] == decoded.pixels[2])
        #expect(abs(Int(decoded.pixels[0]) - 124) <= 3)  // luma of (200, 100, 50)
    }

    @Test func progressiveJPEGsDecodeButOneWithThousandsOfScansIsRefused() throws {
        var pixels = [UInt8](repeating: 0, count: 48 * 32 * 3)
        for i in 0..<pixels.count { pixels[i] = UInt8((i * 7) % 251) }
        let progressive = try codec.encode(RGBImage(width: 48, height: 32, pixels: pixels), progressive: true)
        #expect(try codec.decode(progressive).width == 48)
        // The last scan (its SOS segment and data, up to EOI) repeated 1,000 times: a small file
        // whose scans would each be decoded without the scan limit.
        let lastScan = try #require((0..<(progressive.count - 1)).last { progressive[$0] == 0xFF && progressive[$0 + 1] == 0xDA })
        let scan = Array(progressive[lastScan..<(progressive.count - 2)])
        var hostile = Array(progressive[..<(progressive.count - 2)])
        for _ in 0..<1_000 { hostile += scan }
        hostile += [0xFF, 0xD9]
        let error = #expect(throws: ImageError.self) { try codec.decode(hostile) }
        #expect(error?.label == "corrupt")
        #expect("\(error.map { "\($0)" } ?? "")".contains("more than 500 scans"), "\(String(describing: error))")
    }
}
