import Foundation
import ImageKit
import Testing
@testable import EdgeClient

@Suite struct FrameEncodingTests {
    @Test func yuyvGreyAndColoursConvertToRGB() throws {
        // Two pixels per 4 bytes: Y0 U Y1 V. Mid grey (Y 126, no chroma), then pure-ish red.
        let bytes: [UInt8] = [126, 128, 126, 128, 81, 90, 81, 240]
        let image = try #require(bytes.withUnsafeBytes { YUYV.toRGB($0, width: 4, height: 1, bytesPerLine: 8) })
        #expect(Array(image.pixels[0..<6]) == [128, 128, 128, 128, 128, 128])
        let red = Array(image.pixels[6..<9])
        #expect(red[0] > 240 && red[1] < 10 && red[2] < 10, "\(red)")
    }

    @Test func yuyvRowPaddingIsSkippedAndShortBuffersRefused() throws {
        // A 2x2 frame with rows padded to 6 bytes.
        let bytes: [UInt8] = [235, 128, 235, 128, 0, 0, 16, 128, 16, 128]
        let image = try #require(bytes.withUnsafeBytes { YUYV.toRGB($0, width: 2, height: 2, bytesPerLine: 6) })
        #expect(image.pixels == [255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0])
        #expect(bytes.prefix(9).withUnsafeBytes { YUYV.toRGB($0, width: 2, height: 2, bytesPerLine: 6) } == nil)
        #expect(bytes.withUnsafeBytes { YUYV.toRGB($0, width: 3, height: 1, bytesPerLine: 6) } == nil)
    }

    @Test func timestampIsLocalWithMicrosecondsAndOffset() {
        let date = Date(timeIntervalSince1970: 1_795_000_000.768635)
        let seoul = FrameUploader.timestamp(date, timeZone: TimeZone(identifier: "Asia/Seoul")!)
        #expect(seoul.hasPrefix("2026-11-18T"), "\(seoul)")
        #expect(seoul.hasSuffix(".768635+09:00") || seoul.hasSuffix(".768634+09:00"), "\(seoul)")
        let utc = FrameUploader.timestamp(date, timeZone: TimeZone(identifier: "UTC")!)
        #expect(utc.hasSuffix("+00:00"))
    }
}
