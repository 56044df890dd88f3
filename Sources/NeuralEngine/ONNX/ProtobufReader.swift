// ProtobufReader is a minimal, bounds-checked reader for the protobuf wire
// format (varints, 64-bit and 32-bit fixed fields, length-delimited fields and
// packed repeated scalars). It operates on a shared byte buffer and a window
// [position, end); nested messages are read through sub-readers over a
// sub-window, so no bytes are copied until a caller asks for them. Every read
// validates lengths against the window and throws EngineError on truncated or
// malformed input instead of trapping.

/// Protobuf wire types (the low three bits of a field key).
enum WireType: Int, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

struct ProtobufReader {
    /// Backing bytes shared by all sub-readers.
    let bytes: [UInt8]
    /// Current read position (absolute index into `bytes`).
    private(set) var position: Int
    /// End of this reader's window (exclusive).
    let end: Int

    init(bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    init(bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    /// Reads the next field key, or returns nil at the end of the window.
    mutating func readKey() throws -> (field: Int, wireType: WireType)? {
        if isAtEnd { return nil }
        let keyOffset = position
        let key = try readVarint()
        let field = key >> 3
        guard field >= 1, field <= 536_870_911 else {
            throw EngineError.malformedProtobuf("invalid field number \(field) at offset \(keyOffset)")
        }
        guard let wire = WireType(rawValue: Int(key & 7)) else {
            throw EngineError.malformedProtobuf("invalid wire type \(key & 7) at offset \(keyOffset)")
        }
        return (Int(field), wire)
    }

    /// Reads a base-128 varint (at most 10 bytes).
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw EngineError.malformedProtobuf("truncated varint at offset \(start)")
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 {
                throw EngineError.malformedProtobuf("varint overflow at offset \(start)")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 {
                throw EngineError.malformedProtobuf("varint longer than 10 bytes at offset \(start)")
            }
        }
    }

    mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readVarint()) }

    /// int32 fields are encoded as sign-extended varints; truncate to 32 bits.
    mutating func readInt32() throws -> Int32 { Int32(truncatingIfNeeded: try readVarint()) }

    mutating func readFixed32() throws -> UInt32 {
        guard end - position >= 4 else {
            throw EngineError.malformedProtobuf("truncated fixed32 at offset \(position)")
        }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    mutating func readFixed64() throws -> UInt64 {
        guard end - position >= 8 else {
            throw EngineError.malformedProtobuf("truncated fixed64 at offset \(position)")
        }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try readFixed32()) }
    mutating func readDouble() throws -> Double { Double(bitPattern: try readFixed64()) }

    /// Reads a length prefix and returns the absolute byte range of the payload.
    mutating func readLengthDelimitedRange() throws -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw EngineError.malformedProtobuf(
                "length-delimited field at offset \(start) claims \(length) bytes but only \(end - position) remain")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func readBytes() throws -> [UInt8] {
        let r = try readLengthDelimitedRange()
        return Array(bytes[r])
    }

    mutating func readString() throws -> String {
        let r = try readLengthDelimitedRange()
        return String(decoding: bytes[r], as: UTF8.self)
    }

    /// Returns a reader over an embedded message.
    mutating func readMessage() throws -> ProtobufReader {
        let r = try readLengthDelimitedRange()
        return ProtobufReader(bytes: bytes, range: r)
    }

    /// Skips a field's value of the given wire type.
    mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimitedRange()
        case .startGroup, .endGroup:
            throw EngineError.malformedProtobuf("deprecated group wire type at offset \(position) is not supported")
        }
    }

    // MARK: - Repeated scalars (packed or unpacked)

    /// Appends one or more varint values; handles both packed (length-delimited)
    /// and unpacked (single varint) encodings.
    mutating func appendVarints(wire: WireType, to out: inout [Int64]) throws {
        switch wire {
        case .varint:
            out.append(try readInt64())
        case .lengthDelimited:
            var sub = try readMessage()
            while !sub.isAtEnd { out.append(try sub.readInt64()) }
        default:
            throw EngineError.malformedProtobuf("unexpected wire type \(wire) for repeated varint field")
        }
    }

    mutating func appendFloats(wire: WireType, to out: inout [Float]) throws {
        switch wire {
        case .fixed32:
            out.append(try readFloat())
        case .lengthDelimited:
            let r = try readLengthDelimitedRange()
            guard r.count % 4 == 0 else {
                throw EngineError.malformedProtobuf("packed float field length \(r.count) is not a multiple of 4")
            }
            out.reserveCapacity(out.count + r.count / 4)
            var sub = ProtobufReader(bytes: bytes, range: r)
            while !sub.isAtEnd { out.append(try sub.readFloat()) }
        default:
            throw EngineError.malformedProtobuf("unexpected wire type \(wire) for repeated float field")
        }
    }

    mutating func appendDoubles(wire: WireType, to out: inout [Double]) throws {
        switch wire {
        case .fixed64:
            out.append(try readDouble())
        case .lengthDelimited:
            let r = try readLengthDelimitedRange()
            guard r.count % 8 == 0 else {
                throw EngineError.malformedProtobuf("packed double field length \(r.count) is not a multiple of 8")
            }
            var sub = ProtobufReader(bytes: bytes, range: r)
            while !sub.isAtEnd { out.append(try sub.readDouble()) }
        default:
            throw EngineError.malformedProtobuf("unexpected wire type \(wire) for repeated double field")
        }
    }

    /// Throws unless the field has the expected wire type.
    static func expect(_ wire: WireType, _ expected: WireType, field: Int, in message: String) throws {
        guard wire == expected else {
            throw EngineError.malformedProtobuf(
                "\(message) field \(field) has wire type \(wire.rawValue), expected \(expected.rawValue)")
        }
    }
}
