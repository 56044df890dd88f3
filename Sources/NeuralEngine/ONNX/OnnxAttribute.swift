// OnnxAttribute decodes an onnx.AttributeProto into a typed attribute value
// (float, int, string, tensor and their repeated forms). Graph-valued and
// sparse/type-proto attributes are recorded as `.unsupported` so that loading
// only fails if an operator actually needs them.

enum AttributeValue: Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    case unsupported(String)
}

struct OnnxAttribute: Sendable {
    var name: String
    var value: AttributeValue

    // AttributeProto field numbers and AttributeType codes (onnx.proto).
    init(reader: inout ProtobufReader) throws {
        var name = ""
        var type: Int64 = 0
        var f: Float? = nil
        var i: Int64? = nil
        var s: [UInt8]? = nil
        var t: OnnxTensorProto? = nil
        var floats: [Float] = []
        var ints: [Int64] = []
        var strings: [String] = []
        var hasGraph = false, hasTensors = false
        while let (field, wire) = try reader.readKey() {
            switch field {
            case 1:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "AttributeProto")
                name = try reader.readString()
            case 20:
                try ProtobufReader.expect(wire, .varint, field: field, in: "AttributeProto")
                type = try reader.readInt64()
            case 2:
                try ProtobufReader.expect(wire, .fixed32, field: field, in: "AttributeProto")
                f = try reader.readFloat()
            case 3:
                try ProtobufReader.expect(wire, .varint, field: field, in: "AttributeProto")
                i = try reader.readInt64()
            case 4:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "AttributeProto")
                s = try reader.readBytes()
            case 5:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "AttributeProto")
                var sub = try reader.readMessage()
                t = try OnnxTensorProto(reader: &sub)
            case 6, 11: hasGraph = true; try reader.skip(wire)
            case 7: try reader.appendFloats(wire: wire, to: &floats)
            case 8: try reader.appendVarints(wire: wire, to: &ints)
            case 9:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "AttributeProto")
                strings.append(try reader.readString())
            case 10: hasTensors = true; try reader.skip(wire)
            default: try reader.skip(wire)
            }
        }
        self.name = name
        switch type {
        case 1: value = .float(f ?? 0)
        case 2: value = .int(i ?? 0)
        case 3: value = .string(String(decoding: s ?? [], as: UTF8.self))
        case 4:
            guard let t else { throw EngineError.invalidModel("tensor attribute '\(name)' has no tensor") }
            value = .tensor(try t.toTensor())
        case 6: value = .floats(floats)
        case 7: value = .ints(ints)
        case 8: value = .strings(strings)
        case 5, 10: value = .unsupported("graph")
        case 9: value = .unsupported("tensors")
        case 11, 12: value = .unsupported("sparse tensor")
        case 13, 14: value = .unsupported("type proto")
        case 0:
            // IR < 2 had no type field: infer from the populated field.
            if let f { value = .float(f) }
            else if let i { value = .int(i) }
            else if let s { value = .string(String(decoding: s, as: UTF8.self)) }
            else if let t { value = .tensor(try t.toTensor()) }
            else if !floats.isEmpty { value = .floats(floats) }
            else if !ints.isEmpty { value = .ints(ints) }
            else if !strings.isEmpty { value = .strings(strings) }
            else if hasGraph || hasTensors { value = .unsupported("graph") }
            else { value = .ints([]) }
        default:
            throw EngineError.invalidModel("attribute '\(name)' has unknown type \(type)")
        }
    }

    init(name: String, value: AttributeValue) {
        self.name = name
        self.value = value
    }
}
