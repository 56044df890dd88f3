// OnnxDataType mirrors TensorProto.DataType from onnx.proto: the numeric codes
// used by TensorProto.data_type, TypeProto.Tensor.elem_type and Cast's `to`
// attribute, plus the mapping onto the engine's three runtime element types.

enum OnnxDataType: Int32, Sendable {
    case undefined = 0
    case float = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16

    /// Runtime element type used to hold values of this ONNX type, if supported.
    var engineType: ElementType? {
        switch self {
        case .float, .float16, .double, .bfloat16: return .float
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .uint32, .uint64: return .int64
        case .bool: return .bool
        case .undefined, .string, .complex64, .complex128: return nil
        }
    }

    /// Size in bytes of one element in `raw_data`, if fixed.
    var byteSize: Int? {
        switch self {
        case .float, .int32, .uint32: return 4
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .int64, .double, .uint64: return 8
        case .complex64: return 8
        case .complex128: return 16
        case .undefined, .string: return nil
        }
    }

    static func describe(_ code: Int32) -> String {
        if let t = OnnxDataType(rawValue: code) { return "\(t)" }
        return "code \(code)"
    }
}
