// A tiny protobuf/ONNX writer for tests: encodes ModelProto bytes by hand
// (field numbers from onnx.proto) so tests can build small models — e.g.
// Conv+Sigmoid+Mul for the fusion pass or an unsupported operator — without
// any external tooling.

@testable import NeuralEngine

struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ v: Int64) { key(field, 0); varint(UInt64(bitPattern: v)) }
    mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        let b = v.bitPattern
        for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(k)))) }
    }
    mutating func data(_ field: Int, _ b: [UInt8]) { key(field, 2); varint(UInt64(b.count)); bytes += b }
    mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ w: ProtoWriter) { data(field, w.bytes) }
    mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var inner = ProtoWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        data(field, inner.bytes)
    }
    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var inner = ProtoWriter()
        for v in values { let b = v.bitPattern; for k in 0..<4 { inner.bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(k)))) } }
        data(field, inner.bytes)
    }
}

enum OnnxTestWriter {
    /// TensorProto: floats as raw_data, int64 as int64_data, bool as int32_data.
    static func tensor(_ name: String, _ t: Tensor, floatAsRaw: Bool = true) -> ProtoWriter {
        var w = ProtoWriter()
        w.packedInts(1, t.shape.map { Int64($0) })
        switch t.elementType {
        case .float:
            w.int(2, 1)
            if floatAsRaw {
                var raw: [UInt8] = []
                for v in t.floats { let b = v.bitPattern; for k in 0..<4 { raw.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(k)))) } }
                w.data(9, raw)
            } else {
                w.packedFloats(4, t.floats)
            }
        case .int64:
            w.int(2, 7)
            w.packedInts(7, t.int64s)
        case .bool:
            w.int(2, 9)
            w.packedInts(5, t.bools.map { $0 ? 1 : 0 })
        }
        w.string(8, name)
        return w
    }

    static func attribute(_ name: String, _ value: AttributeValue) -> ProtoWriter {
        var w = ProtoWriter()
        w.string(1, name)
        switch value {
        case .float(let f): w.int(20, 1); w.float(2, f)
        case .int(let i): w.int(20, 2); w.int(3, i)
        case .string(let s): w.int(20, 3); w.string(4, s)
        case .tensor(let t): w.int(20, 4); w.message(5, tensor("", t))
        case .floats(let fs): w.int(20, 6); w.packedFloats(7, fs)
        case .ints(let xs): w.int(20, 7); w.packedInts(8, xs)
        case .strings(let ss): w.int(20, 8); for s in ss { w.string(9, s) }
        case .unsupported: w.int(20, 5)
        }
        return w
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                     domain: String = "", _ attributes: [(String, AttributeValue)] = []) -> ProtoWriter {
        var w = ProtoWriter()
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        if !name.isEmpty { w.string(3, name) }
        w.string(4, op)
        for (n, v) in attributes { w.message(5, attribute(n, v)) }
        if !domain.isEmpty { w.string(7, domain) }
        return w
    }

    static func valueInfo(_ name: String, _ dims: [Dimension], elemType: Int64 = 1) -> ProtoWriter {
        var shape = ProtoWriter()
        for d in dims {
            var dim = ProtoWriter()
            switch d {
            case .fixed(let n): dim.int(1, Int64(n))
            case .symbolic(let s): dim.string(2, s)
            }
            shape.message(1, dim)
        }
        var tensorType = ProtoWriter()
        tensorType.int(1, elemType)
        tensorType.message(2, shape)
        var type = ProtoWriter()
        type.message(1, tensorType)
        var w = ProtoWriter()
        w.string(1, name)
        w.message(2, type)
        return w
    }

    static func model(nodes: [ProtoWriter], initializers: [(String, Tensor)] = [],
                      inputs: [(String, [Dimension])], outputs: [(String, [Dimension])],
                      opset: Int = 17, metadata: [(String, String)] = [], graphName: String = "test") -> [UInt8] {
        var g = ProtoWriter()
        for n in nodes { g.message(1, n) }
        g.string(2, graphName)
        for (name, t) in initializers { g.message(5, tensor(name, t)) }
        for (name, dims) in inputs { g.message(11, valueInfo(name, dims)) }
        for (name, dims) in outputs { g.message(12, valueInfo(name, dims)) }
        var m = ProtoWriter()
        m.int(1, 8)
        m.string(2, "ne-tests")
        var opsetId = ProtoWriter()
        opsetId.string(1, "")
        opsetId.int(2, Int64(opset))
        m.message(8, opsetId)
        m.message(7, g)
        for (k, v) in metadata {
            var e = ProtoWriter()
            e.string(1, k)
            e.string(2, v)
            m.message(14, e)
        }
        return m.bytes
    }
}
