// OnnxNodeProto decodes an onnx.NodeProto: the operator type and domain, the
// node name, its input/output value names (an empty name marks an omitted
// optional input) and its attributes.

struct OnnxNodeProto: Sendable {
    var name = ""
    var opType = ""
    var domain = ""
    var inputs: [String] = []
    var outputs: [String] = []
    var attributes: [OnnxAttribute] = []

    init() {}

    init(reader: inout ProtobufReader) throws {
        while let (field, wire) = try reader.readKey() {
            switch field {
            case 1:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "NodeProto")
                inputs.append(try reader.readString())
            case 2:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "NodeProto")
                outputs.append(try reader.readString())
            case 3:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "NodeProto")
                name = try reader.readString()
            case 4:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "NodeProto")
                opType = try reader.readString()
            case 5:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "NodeProto")
                var sub = try reader.readMessage()
                attributes.append(try OnnxAttribute(reader: &sub))
            case 7:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "NodeProto")
                domain = try reader.readString()
            default: try reader.skip(wire)
            }
        }
    }
}
