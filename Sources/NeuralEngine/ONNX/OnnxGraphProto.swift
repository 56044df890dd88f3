// OnnxGraphProto decodes an onnx.GraphProto: nodes, initializers, graph
// inputs/outputs and intermediate value_info. Sparse initializers are
// rejected with a clear error.

struct OnnxGraphProto: Sendable {
    var name = ""
    var nodes: [OnnxNodeProto] = []
    var initializers: [OnnxTensorProto] = []
    var inputs: [OnnxValueInfo] = []
    var outputs: [OnnxValueInfo] = []
    var valueInfo: [OnnxValueInfo] = []

    init() {}

    init(reader: inout ProtobufReader) throws {
        while let (field, wire) = try reader.readKey() {
            switch field {
            case 1, 5, 11, 12, 13:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "GraphProto")
                var sub = try reader.readMessage()
                switch field {
                case 1: nodes.append(try OnnxNodeProto(reader: &sub))
                case 5: initializers.append(try OnnxTensorProto(reader: &sub))
                case 11: inputs.append(try OnnxValueInfo(reader: &sub))
                case 12: outputs.append(try OnnxValueInfo(reader: &sub))
                default: valueInfo.append(try OnnxValueInfo(reader: &sub))
                }
            case 2:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "GraphProto")
                name = try reader.readString()
            case 15:
                throw EngineError.unsupportedFeature("sparse initializers are not supported")
            default: try reader.skip(wire)
            }
        }
    }
}
