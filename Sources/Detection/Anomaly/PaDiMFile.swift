// The `.padim` file: a versioned binary holding a fitted PaDiM model.
//
//   "PCBPADIM"  8 bytes, magic
//   UInt32 LE   format version (1)
//   UInt32 LE   header length H
//   H bytes     JSON header: layers, strides, grid, input size, channel subset, radius,
//               threshold and how it was chosen, boards fitted, the detector it was fitted on
//               (name, and since 2026-12 its file's fingerprint; older files have none)
//   Float32 LE  means, G x d (G: one Gaussian per grid cell, or the mixture's components)
//   Float32 LE  whiteners, per Gaussian the lower triangle of L^-1 row by row (d (d + 1) / 2)
//   Float32 LE  version 2 with `registration` in the header: the reference board's picture
//               (width x height block means, row by row)
//
// Version 1 files (no registration) are still read; files are written as version 2.
// Reading checks every size against the header; a damaged or foreign file is refused.

import Foundation

extension PaDiMModel {
    static let magic = Array("PCBPADIM".utf8)
    static let formatVersion: UInt32 = 2

    struct Header: Codable {
        var layers: [String]
        var layer_strides: [Int]
        var grid_stride: Int
        var grid_height: Int
        var grid_width: Int
        var input_height: Int
        var input_width: Int
        var channels: [Int]
        var radius: Int
        /// Absent in files written before mixtures existed: a Gaussian per grid cell.
        var components: Int?
        var threshold: Float
        var threshold_rule: String
        var fitted_images: Int
        var detector: String
        /// The detector file's fingerprint; absent in older files (readers ignore unknown keys).
        var detector_fingerprint: String?
        /// Version 2: the reference board frames are registered to, stored after the whiteners.
        var registration: Registration?
    }

    struct Registration: Codable {
        var frame_width: Int
        var frame_height: Int
        var factor: Int
        var width: Int
        var height: Int
        var edge_margin: Double
    }

    /// The file's bytes. `detector` names the model it was fitted on (informational).
    public func encoded(detector: String) throws -> [UInt8] {
        let header = Header(
            layers: layers, layer_strides: layerStrides, grid_stride: gridStride, grid_height: gridHeight, grid_width: gridWidth,
            input_height: inputHeight, input_width: inputWidth, channels: channels, radius: radius, components: components, threshold: threshold,
            threshold_rule: thresholdRule, fitted_images: fittedImages, detector: detector, detector_fingerprint: detectorFingerprint,
            registration: registration.map {
                Registration(frame_width: $0.frameWidth, frame_height: $0.frameHeight, factor: $0.factor, width: $0.width,
                             height: $0.height, edge_margin: edgeMargin)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = [UInt8](try encoder.encode(header))
        var bytes = Self.magic
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func append(_ value: Float) { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        append(Self.formatVersion)
        append(UInt32(json.count))
        bytes += json
        let d = dimension
        bytes.reserveCapacity(bytes.count + 4 * (means.count + gaussianCount * d * (d + 1) / 2))
        for value in means { append(value) }
        for cell in 0..<gaussianCount {
            for i in 0..<d { for j in 0...i { append(whiteners[cell * d * d + i * d + j]) } }
        }
        for value in registration?.reference ?? [] { append(value) }
        return bytes
    }

    public func write(to path: String, detector: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(try encoded(detector: detector)).write(to: url, options: .atomic)
    }

    /// Reads a `.padim` file.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DetectionError.anomaly("cannot read anomaly model '\(path)'")
        }
        try self.init(bytes: [UInt8](data), name: path)
    }

    public init(bytes: [UInt8], name: String = "anomaly model") throws {
        func fail(_ why: String) -> DetectionError { .anomaly("\(name): \(why)") }
        guard bytes.count >= 16, Array(bytes[0..<8]) == Self.magic else { throw fail("not a PaDiM file (bad magic)") }
        func u32(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        let version = u32(8)
        guard version == 1 || version == Self.formatVersion else {
            throw fail("format version \(version), this program reads 1...\(Self.formatVersion)")
        }
        let headerLength = Int(u32(12))
        guard headerLength > 0, 16 + headerLength <= bytes.count else { throw fail("truncated header") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + headerLength)]))
        } catch {
            throw fail("unreadable header: \(error)")
        }
        // Every size is bounded before it is multiplied: a damaged header must not overflow.
        let d = header.channels.count
        let components = header.components ?? 0
        guard (1...1024).contains(d), (1...1024).contains(header.grid_height), (1...1024).contains(header.grid_width),
              (0...4096).contains(components), (1...256).contains(header.grid_stride), (0...64).contains(header.radius),
              header.input_height / header.grid_stride == header.grid_height, header.input_width / header.grid_stride == header.grid_width,
              header.layers.count == header.layer_strides.count, !header.layers.isEmpty, header.layer_strides.allSatisfy({ $0 > 0 }),
              header.channels == header.channels.sorted(), Set(header.channels).count == d, header.channels[0] >= 0,
              header.threshold.isFinite else {
            throw fail("inconsistent header")
        }
        let registration = version >= 2 ? header.registration : nil
        if let r = registration {
            guard components == 0, (1...64).contains(r.factor), (1...8192).contains(r.frame_width), (1...8192).contains(r.frame_height),
                  r.width == r.frame_width / r.factor, r.height == r.frame_height / r.factor, (0...1024).contains(r.edge_margin) else {
                throw fail("inconsistent registration header")
            }
        }
        let cells = components > 0 ? components : header.grid_height * header.grid_width
        let referenceFloats = registration.map { $0.width * $0.height } ?? 0
        let floats = cells * d + cells * d * (d + 1) / 2 + referenceFloats
        guard bytes.count == 16 + headerLength + 4 * floats else {
            throw fail("expected \(16 + headerLength + 4 * floats) bytes, the file has \(bytes.count)")
        }
        var offset = 16 + headerLength
        func next() -> Float {
            defer { offset += 4 }
            return Float(bitPattern: u32(offset))
        }
        var means = [Float](repeating: 0, count: cells * d)
        for k in 0..<means.count { means[k] = next() }
        var whiteners = [Float](repeating: 0, count: cells * d * d)
        for cell in 0..<cells {
            for i in 0..<d { for j in 0...i { whiteners[cell * d * d + i * d + j] = next() } }
        }
        guard means.allSatisfy(\.isFinite), whiteners.allSatisfy(\.isFinite) else { throw fail("non-finite statistics") }
        var reference: BoardRegistration? = nil
        if let r = registration {
            var picture = [Float](repeating: 0, count: referenceFloats)
            for k in picture.indices { picture[k] = next() }
            do {
                reference = try BoardRegistration(frameWidth: r.frame_width, frameHeight: r.frame_height, factor: r.factor,
                                                  reference: picture, width: r.width, height: r.height)
            } catch {
                throw fail("\(error)")
            }
        }
        self.init(layers: header.layers, layerStrides: header.layer_strides, gridStride: header.grid_stride,
                  gridHeight: header.grid_height, gridWidth: header.grid_width, inputHeight: header.input_height,
                  inputWidth: header.input_width, channels: header.channels, radius: header.radius, components: components,
                  threshold: header.threshold,
                  thresholdRule: header.threshold_rule, fittedImages: header.fitted_images, means: means, whiteners: whiteners,
                  registration: reference, edgeMargin: registration?.edge_margin ?? 0)
        detectorFingerprint = header.detector_fingerprint
    }
}
