// OnnxModelProto decodes the top-level onnx.ModelProto: IR version, producer,
// operator-set imports (domain -> version), metadata_props and the main
// graph. `defaultOpset` resolves the opset of the standard ("" / "ai.onnx")
// domain, which selects operator semantics throughout the engine.

struct OnnxModelProto: Sendable {
    var irVersion: Int64 = 0
    var producerName = ""
    var producerVersion = ""
    var opsetImports: [(domain: String, version: Int64)] = []
    var metadata: [(key: String, value: String)] = []
    var graph: OnnxGraphProto? = nil

    init() {}

    init(bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes: bytes)
        while let (field, wire) = try reader.readKey() {
            switch field {
            case 1:
                try ProtobufReader.expect(wire, .varint, field: field, in: "ModelProto")
                irVersion = try reader.readInt64()
            case 2:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                producerName = try reader.readString()
            case 3:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                producerVersion = try reader.readString()
            case 7:
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                var sub = try reader.readMessage()
                graph = try OnnxGraphProto(reader: &sub)
            case 8:
                // OperatorSetIdProto: domain = 1, version = 2.
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                var sub = try reader.readMessage()
                var domain = "", version: Int64 = 0
                while let (f2, w2) = try sub.readKey() {
                    switch f2 {
                    case 1:
                        try ProtobufReader.expect(w2, .lengthDelimited, field: f2, in: "OperatorSetIdProto")
                        domain = try sub.readString()
                    case 2:
                        try ProtobufReader.expect(w2, .varint, field: f2, in: "OperatorSetIdProto")
                        version = try sub.readInt64()
                    default: try sub.skip(w2)
                    }
                }
                opsetImports.append((domain, version))
            case 14:
                // StringStringEntryProto: key = 1, value = 2.
                try ProtobufReader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                var sub = try reader.readMessage()
                var key = "", value = ""
                while let (f2, w2) = try sub.readKey() {
                    switch f2 {
                    case 1:
                        try ProtobufReader.expect(w2, .lengthDelimited, field: f2, in: "StringStringEntryProto")
                        key = try sub.readString()
                    case 2:
                        try ProtobufReader.expect(w2, .lengthDelimited, field: f2, in: "StringStringEntryProto")
                        value = try sub.readString()
                    default: try sub.skip(w2)
                    }
                }
                metadata.append((key, value))
            default: try reader.skip(wire)
            }
        }
    }

    /// Opset version of the default ONNX domain.
    func defaultOpset() throws -> Int {
        if let entry = opsetImports.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) {
            guard entry.version >= 1, entry.version < 1000 else {
                throw EngineError.invalidModel("invalid opset version \(entry.version) for the default domain")
            }
            return Int(entry.version)
        }
        if irVersion > 0 && irVersion < 3 && opsetImports.isEmpty { return 1 }
        throw EngineError.invalidModel("model has no opset_import for the default ONNX domain")
    }
}
