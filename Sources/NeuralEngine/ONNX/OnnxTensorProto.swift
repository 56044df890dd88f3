// OnnxTensorProto decodes an onnx.TensorProto message (dims, data_type, the
// typed repeated data fields, raw_data, name, external-data markers) and
// converts it into a runtime Tensor, validating that the payload size matches
// the dims. Integer types become Int64 tensors, float16/bfloat16/double become
// Float tensors, bool stays Bool. External data is rejected with a clear error.

struct OnnxTensorProto: Sendable {
    var name = ""
    var dims: [Int64] = []
    var dataType: Int32 = 0
    var floatData: [Float] = []
    var int32Data: [Int64] = []
    var int64Data: [Int64] = []
    var uint64Data: [Int64] = []
    var doubleData: [Double] = []
    var rawData: [UInt8]? = nil
    var hasStringData = false
    var hasExternalData = false
    var hasSegment = false

    init() {}

    // TensorProto field numbers (onnx.proto).
    init(reader: inout ProtobufReader) throws {
        while let (field, wire) = try reader.readKey() {
            switch field {
            case 1: try reader.appendVarints(wire: wire, to: &dims)
            case 2:
                try ProtobufReader.expect(wire, .varint, field: field, in: "TensorProto")
                dataType = try reader.readInt32()
            case 3: hasSegment = true; try reader.skip(wire)
            case 4: try reader.appendFloats(wire: wire, to: &floatData)
            case 5: try reader.appendVarints(wire: wire, to: &int32Data)
            case 6: hasStringData = true; try reader.skip(wire)
            case 7: try reader.appendVarints(wire: wire, to: &int64Data)
            case 8:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "TensorProto")
                name = try reader.readString()
            case 9:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "TensorProto")
                rawData = try reader.readBytes()
            case 10: try reader.appendDoubles(wire: wire, to: &doubleData)
            case 11: try reader.appendVarints(wire: wire, to: &uint64Data)
            case 13: hasExternalData = true; try reader.skip(wire)
            case 14:
                try ProtobufReader.expect(wire, .varint, field: field, in: "TensorProto")
                if try reader.readVarint() == 1 { hasExternalData = true }
            default: try reader.skip(wire)
            }
        }
    }

    /// Converts to a runtime Tensor.
    func toTensor() throws -> Tensor {
        let label = name.isEmpty ? "tensor" : "tensor '\(name)'"
        if hasExternalData {
            throw EngineError.unsupportedFeature("\(label) uses external data, which is not supported; re-export the model with all weights embedded")
        }
        if hasSegment { throw EngineError.unsupportedFeature("\(label) is segmented, which is not supported") }
        guard let type = OnnxDataType(rawValue: dataType), let engineType = type.engineType else {
            throw EngineError.unsupportedFeature("\(label) has unsupported data type \(OnnxDataType.describe(dataType))")
        }
        var shape: [Int] = []
        for d in dims {
            guard d >= 0, d <= Int64(Int32.max) else {
                throw EngineError.invalidModel("\(label) has invalid dimension \(d)")
            }
            shape.append(Int(d))
        }
        let count: Int
        do { count = try Shape.checkedCount(shape, what: "\(label) shape") } catch {
            throw EngineError.invalidModel("\(label) has invalid shape \(shape)")
        }

        if let raw = rawData {
            let size = type.byteSize!
            guard raw.count == count * size else {
                throw EngineError.invalidModel("\(label): raw_data has \(raw.count) bytes, expected \(count * size) for shape \(shape) of \(type)")
            }
            return Tensor(shape: shape, storage: OnnxTensorProto.decodeRaw(raw, type: type, count: count))
        }

        func checkCount(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw EngineError.invalidModel("\(label): \(field) has \(n) values, expected \(count) for shape \(shape)")
            }
        }
        switch type {
        case .float:
            try checkCount(floatData.count, "float_data")
            return Tensor(shape: shape, floats: floatData)
        case .double:
            try checkCount(doubleData.count, "double_data")
            return Tensor(shape: shape, floats: doubleData.map { Float($0) })
        case .float16:
            try checkCount(int32Data.count, "int32_data")
            return Tensor(shape: shape, floats: int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) })
        case .bfloat16:
            try checkCount(int32Data.count, "int32_data")
            return Tensor(shape: shape, floats: int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) })
        case .int64:
            try checkCount(int64Data.count, "int64_data")
            return Tensor(shape: shape, int64s: int64Data)
        case .uint32, .uint64:
            try checkCount(uint64Data.count, "uint64_data")
            return Tensor(shape: shape, int64s: uint64Data)
        case .int32, .int16, .int8, .uint16, .uint8:
            try checkCount(int32Data.count, "int32_data")
            return Tensor(shape: shape, int64s: int32Data.map { Int64(Int32(truncatingIfNeeded: $0)) })
        case .bool:
            try checkCount(int32Data.count, "int32_data")
            return Tensor(shape: shape, bools: int32Data.map { $0 != 0 })
        default:
            _ = engineType
            throw EngineError.unsupportedFeature("\(label) has unsupported data type \(type)")
        }
    }

    /// Decodes little-endian raw bytes; the caller has validated the length.
    static func decodeRaw(_ raw: [UInt8], type: OnnxDataType, count: Int) -> TensorStorage {
        func u16(_ i: Int) -> UInt16 { UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8 }
        func u32(_ i: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(raw[4 * i + k]) << (8 * UInt32(k)) }
            return v
        }
        func u64(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(raw[8 * i + k]) << (8 * UInt64(k)) }
            return v
        }
        switch type {
        case .float:
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBytes { dst in
                raw.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<(count * 4)])) }
            }
            #if _endian(big)
            for i in 0..<count { out[i] = Float(bitPattern: u32(i)) }
            #endif
            return .float(out)
        case .double: return .float((0..<count).map { Float(Double(bitPattern: u64($0))) })
        case .float16: return .float((0..<count).map { Float(Float16(bitPattern: u16($0))) })
        case .bfloat16: return .float((0..<count).map { Float(bitPattern: UInt32(u16($0)) << 16) })
        case .int64, .uint64: return .int64((0..<count).map { Int64(bitPattern: u64($0)) })
        case .int32: return .int64((0..<count).map { Int64(Int32(bitPattern: u32($0))) })
        case .uint32: return .int64((0..<count).map { Int64(u32($0)) })
        case .int16: return .int64((0..<count).map { Int64(Int16(bitPattern: u16($0))) })
        case .uint16: return .int64((0..<count).map { Int64(u16($0)) })
        case .int8: return .int64(raw.prefix(count).map { Int64(Int8(bitPattern: $0)) })
        case .uint8: return .int64(raw.prefix(count).map { Int64($0) })
        case .bool: return .bool(raw.prefix(count).map { $0 != 0 })
        default: return .float([])
        }
    }
}
