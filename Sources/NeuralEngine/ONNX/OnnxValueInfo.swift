// OnnxValueInfo decodes an onnx.ValueInfoProto together with the parts of
// TypeProto it needs: the tensor element type and the shape, whose dimensions
// are either fixed (dim_value) or symbolic (dim_param). Non-tensor types
// (sequence, map, optional) are kept as "not a tensor" and rejected where used.

struct OnnxValueInfo: Sendable {
    var name = ""
    var elemType: Int32 = 0
    var isTensor = false
    /// nil when the type has no shape information at all.
    var shape: [Dimension]? = nil

    init() {}

    init(reader: inout ProtobufReader) throws {
        while let (field, wire) = try reader.readKey() {
            switch field {
            case 1:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ValueInfoProto")
                name = try reader.readString()
            case 2:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ValueInfoProto")
                var type = try reader.readMessage()
                try parseType(&type)
            default: try reader.skip(wire)
            }
        }
    }

    // TypeProto: tensor_type = 1 (other kinds are skipped).
    private mutating func parseType(_ reader: inout ProtobufReader) throws {
        while let (field, wire) = try reader.readKey() {
            if field == 1 {
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "TypeProto")
                isTensor = true
                var tensorType = try reader.readMessage()
                // TypeProto.Tensor: elem_type = 1, shape = 2.
                while let (f2, w2) = try tensorType.readKey() {
                    switch f2 {
                    case 1:
                        try ProtobufReader.expect(w2, .varint, field: f2, in: "TypeProto.Tensor")
                        elemType = try tensorType.readInt32()
                    case 2:
                        try ProtobufReader.expect(w2, .lengthDelimited, field: f2, in: "TypeProto.Tensor")
                        var shapeReader = try tensorType.readMessage()
                        shape = try OnnxValueInfo.parseShape(&shapeReader)
                    default: try tensorType.skip(w2)
                    }
                }
            } else {
                try reader.skip(wire)
            }
        }
    }

    // TensorShapeProto: dim = 1; Dimension: dim_value = 1, dim_param = 2.
    private static func parseShape(_ reader: inout ProtobufReader) throws -> [Dimension] {
        var dims: [Dimension] = []
        while let (field, wire) = try reader.readKey() {
            guard field == 1 else { try reader.skip(wire); continue }
            try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "TensorShapeProto")
            var dimReader = try reader.readMessage()
            var dim = Dimension.symbolic("")
            while let (f2, w2) = try dimReader.readKey() {
                switch f2 {
                case 1:
                    try ProtobufReader.expect(w2, .varint, field: f2, in: "TensorShapeProto.Dimension")
                    let v = try dimReader.readInt64()
                    guard v >= 0, v <= Int64(Int32.max) else {
                        throw EngineError.invalidModel("invalid dimension value \(v)")
                    }
                    dim = .fixed(Int(v))
                case 2:
                    try ProtobufReader.expect(w2, .lengthDelimited, field: f2, in: "TensorShapeProto.Dimension")
                    dim = .symbolic(try dimReader.readString())
                default: try dimReader.skip(w2)
                }
            }
            dims.append(dim)
        }
        return dims
    }
}
