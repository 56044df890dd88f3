// NPYFile reads and writes NumPy .npy files (format versions 1.0-3.0 on
// read, 1.0 on write; little-endian, C order). Float types (f2/f4/f8) load
// as Float tensors, integer types as Int64 tensors, b1 as Bool. Used by tests
// and tools to exchange tensors with Python (golden outputs, debug dumps).
// Malformed headers and truncated payloads throw EngineError.

import Foundation

public enum NPYFile {
    /// Reads an .npy file from disk.
    public static func read(_ path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError.io("cannot read NPY file '\(path)'")
        }
        return try decode([UInt8](data))
    }

    /// Writes `tensor` as an .npy (version 1.0) file.
    public static func write(_ tensor: Tensor, to path: String) throws {
        let bytes = encode(tensor)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw EngineError.io("cannot write NPY file '\(path)'")
        }
    }

    /// Decodes the bytes of an .npy file.
    public static func decode(_ bytes: [UInt8]) throws -> Tensor {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw EngineError.invalidNPY("missing NPY magic") }
        let major = bytes[6]
        let headerLen: Int, headerStart: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw EngineError.invalidNPY("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw EngineError.invalidNPY("unsupported format version \(major).\(bytes[7])")
        }
        guard headerLen <= bytes.count - headerStart else { throw EngineError.invalidNPY("header length \(headerLen) exceeds file size") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLen)], as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header)
        guard !fortran else { throw EngineError.invalidNPY("Fortran-order arrays are not supported") }
        let count = try Shape.checkedCount(shape, what: "NPY shape")
        let payload = headerStart + headerLen

        var order = descr.first!
        var code = String(descr.dropFirst())
        if order != "<" && order != "|" && order != "=" && order != ">" { order = "="; code = descr }
        if order == ">" && code != "u1" && code != "i1" && code != "b1" {
            throw EngineError.invalidNPY("big-endian dtype '\(descr)' is not supported")
        }
        let sizes: [String: Int] = ["f2": 2, "f4": 4, "f8": 8, "i1": 1, "u1": 1, "b1": 1, "i2": 2, "u2": 2,
                                    "i4": 4, "u4": 4, "i8": 8, "u8": 8]
        guard let size = sizes[code] else { throw EngineError.invalidNPY("unsupported dtype '\(descr)'") }
        guard bytes.count - payload >= count * size else {
            throw EngineError.invalidNPY("payload has \(bytes.count - payload) bytes, expected \(count * size) for shape \(shape)")
        }
        func le(_ i: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[payload + i * n + k]) << (8 * UInt64(k)) }
            return v
        }
        switch code {
        case "f4":
            var out = [Float](repeating: 0, count: count)
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(le(i, 4))) }
            return Tensor(shape: shape, floats: out)
        case "f8": return Tensor(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: le($0, 8))) })
        case "f2": return Tensor(shape: shape, floats: (0..<count).map { Float(Float16(bitPattern: UInt16(le($0, 2)))) })
        case "b1": return Tensor(shape: shape, bools: (0..<count).map { bytes[payload + $0] != 0 })
        case "i1": return Tensor(shape: shape, int64s: (0..<count).map { Int64(Int8(bitPattern: bytes[payload + $0])) })
        case "u1": return Tensor(shape: shape, int64s: (0..<count).map { Int64(bytes[payload + $0]) })
        case "i2": return Tensor(shape: shape, int64s: (0..<count).map { Int64(Int16(bitPattern: UInt16(le($0, 2)))) })
        case "u2": return Tensor(shape: shape, int64s: (0..<count).map { Int64(le($0, 2)) })
        case "i4": return Tensor(shape: shape, int64s: (0..<count).map { Int64(Int32(bitPattern: UInt32(le($0, 4)))) })
        case "u4": return Tensor(shape: shape, int64s: (0..<count).map { Int64(le($0, 4)) })
        default: return Tensor(shape: shape, int64s: (0..<count).map { Int64(bitPattern: le($0, 8)) })
        }
    }

    /// Encodes `tensor` as .npy bytes (version 1.0, little-endian, C order).
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let descr: String
        switch tensor.elementType {
        case .float: descr = "<f4"
        case .int64: descr = "<i8"
        case .bool: descr = "|b1"
        }
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let len = header.utf8.count
        out += [UInt8(len & 0xFF), UInt8(len >> 8)]
        out += Array(header.utf8)
        switch tensor.storage {
        case .float(let a):
            out.reserveCapacity(out.count + a.count * 4)
            for v in a { let b = v.bitPattern; for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(k)))) } }
        case .int64(let a):
            out.reserveCapacity(out.count + a.count * 8)
            for v in a { let b = UInt64(bitPattern: v); for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: b >> (8 * UInt64(k)))) } }
        case .bool(let a):
            out += a.map { $0 ? 1 : 0 }
        }
        return out
    }

    /// Parses the Python-literal header dict: descr, fortran_order, shape.
    static func parseHeader(_ h: String) throws -> (String, Bool, [Int]) {
        func value(after key: String) throws -> Substring {
            guard let r = h.range(of: "'\(key)'") ?? h.range(of: "\"\(key)\"") else {
                throw EngineError.invalidNPY("header is missing '\(key)': \(h)")
            }
            var rest = h[r.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw EngineError.invalidNPY("malformed header near '\(key)'") }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        var d = try value(after: "descr")
        guard let quote = d.first, quote == "'" || quote == "\"" else { throw EngineError.invalidNPY("malformed descr in header") }
        d = d.dropFirst()
        guard let end = d.firstIndex(of: quote) else { throw EngineError.invalidNPY("malformed descr in header") }
        let descr = String(d[..<end])
        guard !descr.isEmpty else { throw EngineError.invalidNPY("empty descr in header") }
        let f = try value(after: "fortran_order")
        let fortran: Bool
        if f.hasPrefix("False") { fortran = false } else if f.hasPrefix("True") { fortran = true } else {
            throw EngineError.invalidNPY("malformed fortran_order in header")
        }
        let s = try value(after: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw EngineError.invalidNPY("malformed shape in header") }
        let inside = s[s.index(after: s.startIndex)..<close]
        var shape: [Int] = []
        for part in inside.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), v >= 0 else {
                throw EngineError.invalidNPY("invalid dimension '\(t)' in shape")
            }
            shape.append(v)
        }
        return (descr, fortran, shape)
    }
}
