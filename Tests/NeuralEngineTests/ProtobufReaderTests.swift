// Tests for the protobuf wire-format reader and the ONNX message decoders on
// hand-made bytes, including truncated and malformed input, which must throw
// an EngineError rather than crash.

import Testing
@testable import NeuralEngine

@Suite struct ProtobufReaderTests {
    @Test func varintsAndKeys() throws {
        // field 1 varint 300, field 2 varint -1 (10 bytes), field 3 fixed32 1.5
        var w = ProtoWriter()
        w.int(1, 300)
        w.int(2, -1)
        w.float(3, 1.5)
        #expect(Array(w.bytes.prefix(3)) == [0x08, 0xAC, 0x02])
        var r = ProtobufReader(bytes: w.bytes)
        var k = try #require(try r.readKey())
        #expect(k.field == 1 && k.wireType == .varint)
        #expect(try r.readVarint() == 300)
        k = try #require(try r.readKey())
        #expect(k.field == 2)
        #expect(try r.readInt64() == -1)
        k = try #require(try r.readKey())
        #expect(k.field == 3 && k.wireType == .fixed32)
        #expect(try r.readFloat() == 1.5)
        #expect(try r.readKey() == nil)
    }

    @Test func packedAndUnpackedRepeated() throws {
        var w = ProtoWriter()
        w.packedInts(1, [1, -2, 300])
        w.int(1, 7)  // unpacked element of the same field
        w.packedFloats(2, [0.5, -1])
        var r = ProtobufReader(bytes: w.bytes)
        var ints: [Int64] = []
        var floats: [Float] = []
        while let (f, wire) = try r.readKey() {
            if f == 1 { try r.appendVarints(wire: wire, to: &ints) } else { try r.appendFloats(wire: wire, to: &floats) }
        }
        #expect(ints == [1, -2, 300, 7])
        #expect(floats == [0.5, -1])
    }

    @Test func fixed64AndSkipping() throws {
        var w = ProtoWriter()
        w.key(9, 1)
        w.bytes += [1, 0, 0, 0, 0, 0, 0, 0]
        w.string(10, "skip me")
        w.int(11, 5)
        var r = ProtobufReader(bytes: w.bytes)
        var k = try #require(try r.readKey())
        #expect(k.wireType == .fixed64)
        #expect(try r.readFixed64() == 1)
        k = try #require(try r.readKey())
        try r.skip(k.wireType)
        k = try #require(try r.readKey())
        #expect(k.field == 11)
        #expect(try r.readVarint() == 5)
    }

    @Test func truncatedAndMalformedInputThrow() {
        func expectThrows(_ bytes: [UInt8], _ body: (inout ProtobufReader) throws -> Void) {
            var r = ProtobufReader(bytes: bytes)
            #expect(throws: EngineError.self) { try body(&r) }
        }
        expectThrows([0x80]) { _ = try $0.readVarint() }                       // truncated varint
        expectThrows(Array(repeating: 0xFF, count: 11)) { _ = try $0.readVarint() } // too long
        expectThrows([0x01, 0x02]) { _ = try $0.readFixed32() }
        expectThrows([0x01]) { _ = try $0.readFixed64() }
        expectThrows([0x05, 0x01]) { _ = try $0.readLengthDelimitedRange() }   // claims 5 bytes, has 1
        expectThrows([0x0B]) { r in _ = try r.readKey().map { try r.skip($0.wireType) } } // group wire type
        expectThrows([0x0E]) { _ = try $0.readKey() }                          // wire type 6
        expectThrows([0x00]) { _ = try $0.readKey() }                          // field number 0
        expectThrows([0x03, 0x01, 0x02, 0x03]) { r in                          // packed floats, bad length
            var out: [Float] = []
            try r.appendFloats(wire: .lengthDelimited, to: &out)
        }
    }

    @Test func tensorProtoDecoding() throws {
        let t = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        for raw in [true, false] {
            var r = ProtobufReader(bytes: OnnxTestWriter.tensor("w", t, floatAsRaw: raw).bytes)
            let proto = try OnnxTensorProto(reader: &r)
            #expect(proto.name == "w")
            let decoded = try proto.toTensor()
            #expect(decoded.shape == [2, 2] && decoded.floats == [1, 2, 3, 4])
        }
        // int64 and bool
        var r = ProtobufReader(bytes: OnnxTestWriter.tensor("i", intTensor([3], [1, -2, 3])).bytes)
        #expect(try OnnxTensorProto(reader: &r).toTensor().int64s == [1, -2, 3])
        r = ProtobufReader(bytes: OnnxTestWriter.tensor("b", Tensor(shape: [2], bools: [true, false])).bytes)
        #expect(try OnnxTensorProto(reader: &r).toTensor().bools == [true, false])
    }

    @Test func tensorProtoOtherTypesFromRawData() throws {
        func decode(_ type: Int64, _ raw: [UInt8], dims: [Int64]) throws -> Tensor {
            var w = ProtoWriter()
            w.packedInts(1, dims)
            w.int(2, type)
            w.data(9, raw)
            var r = ProtobufReader(bytes: w.bytes)
            return try OnnxTensorProto(reader: &r).toTensor()
        }
        #expect(try decode(3, [0xFF, 0x02], dims: [2]).int64s == [-1, 2])             // INT8
        #expect(try decode(2, [0xFF, 0x02], dims: [2]).int64s == [255, 2])            // UINT8
        #expect(try decode(6, [0xFE, 0xFF, 0xFF, 0xFF], dims: [1]).int64s == [-2])     // INT32
        #expect(try decode(10, [0x00, 0x3C, 0x00, 0xC0], dims: [2]).floats == [1, -2]) // FLOAT16
        #expect(try decode(11, [0, 0, 0, 0, 0, 0, 0xF8, 0x3F], dims: [1]).floats == [1.5]) // DOUBLE
        #expect(try decode(9, [1, 0, 1], dims: [3]).bools == [true, false, true])       // BOOL
        // Size mismatch and unsupported type.
        #expect(throws: EngineError.self) { try decode(1, [0, 0, 0], dims: [1]) }
        #expect(throws: EngineError.self) { try decode(8, [0], dims: [1]) }
        #expect(throws: EngineError.self) { try decode(1, [0, 0, 0, 0], dims: [-1]) }
    }

    @Test func externalDataIsRejected() throws {
        var w = ProtoWriter()
        w.packedInts(1, [1])
        w.int(2, 1)
        w.string(8, "big")
        w.int(14, 1)  // data_location = EXTERNAL
        var r = ProtobufReader(bytes: w.bytes)
        let proto = try OnnxTensorProto(reader: &r)
        let error = try #require(throws: EngineError.self) { try proto.toTensor() }
        #expect(error.description.contains("external data"))
    }

    @Test func valueInfoShapes() throws {
        let w = OnnxTestWriter.valueInfo("images", [.symbolic("batch"), .fixed(3), .fixed(64), .fixed(64)])
        var r = ProtobufReader(bytes: w.bytes)
        let vi = try OnnxValueInfo(reader: &r)
        #expect(vi.name == "images" && vi.elemType == 1 && vi.isTensor)
        #expect(vi.shape == [.symbolic("batch"), .fixed(3), .fixed(64), .fixed(64)])
    }
}
