// Cast: converts element types. The target ONNX type selects the engine
// representation (Float, Int64 or Bool); narrowing to small integer types
// wraps like a C cast, float -> int truncates toward zero, and float16 /
// bfloat16 targets round through that precision so values match ONNX Runtime.
//
// x: any shape -> y: same shape, element type `to`

struct CastKernel: Kernel {
    let to: OnnxDataType

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        return [CastKernel.cast(x, to: to)]
    }

    static func cast(_ x: Tensor, to: OnnxDataType) -> Tensor {
        switch to {
        case .float, .double:
            return Tensor(shape: x.shape, floats: x.floats)
        case .float16:
            return Tensor(shape: x.shape, floats: x.floats.map { Float(Float16($0)) })
        case .bfloat16:
            return Tensor(shape: x.shape, floats: x.floats.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
        case .bool:
            return Tensor(shape: x.shape, bools: x.bools)
        default:
            let v = x.int64s
            let wrapped: [Int64]
            switch to {
            case .int8: wrapped = v.map { Int64(Int8(truncatingIfNeeded: $0)) }
            case .uint8: wrapped = v.map { Int64(UInt8(truncatingIfNeeded: $0)) }
            case .int16: wrapped = v.map { Int64(Int16(truncatingIfNeeded: $0)) }
            case .uint16: wrapped = v.map { Int64(UInt16(truncatingIfNeeded: $0)) }
            case .int32: wrapped = v.map { Int64(Int32(truncatingIfNeeded: $0)) }
            case .uint32: wrapped = v.map { Int64(UInt32(truncatingIfNeeded: $0)) }
            default: wrapped = v
            }
            return Tensor(shape: x.shape, int64s: wrapped)
        }
    }

    static let definition = OperatorDefinition("Cast", since: 6) { node, _ in
        guard let code = try node.attributes.int("to") else { throw EngineError.invalidModel("Cast requires the 'to' attribute") }
        guard let t = OnnxDataType(rawValue: Int32(clamping: code)), t.engineType != nil else {
            throw EngineError.unsupportedFeature("Cast to \(OnnxDataType.describe(Int32(clamping: code))) is not supported")
        }
        return CastKernel(to: t)
    }
}
