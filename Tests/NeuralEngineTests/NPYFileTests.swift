// Tests for NPY reading and writing: float32 and int64 round trips through
// a temporary file, scalar and 1-D headers, header alignment, and malformed
// or truncated files throwing EngineError.

import Foundation
import Testing
@testable import NeuralEngine

@Suite struct NPYFileTests {
    @Test func floatAndInt64RoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let path = dir + "/ne-npy-\(UInt32.random(in: 0...UInt32.max)).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = floatTensor([2, 3], [1, -2, 3.5, 0, 1e-8, 7])
        try NPYFile.write(t, to: path)
        let r = try NPYFile.read(path)
        #expect(r.shape == [2, 3] && r.floats == t.floats && r.elementType == .float)
        let i = intTensor([4], [1, -2, Int64.max, 0])
        try NPYFile.write(i, to: path)
        let ri = try NPYFile.read(path)
        #expect(ri.shape == [4] && ri.int64s == i.int64s)
        #expect(ri.floats == [1, -2, Float(Int64.max), 0])
    }

    @Test func headerFormat() throws {
        let bytes = NPYFile.encode(floatTensor([], [3]))
        #expect((10 + Int(bytes[8]) + Int(bytes[9]) << 8) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + Int(bytes[8]))], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"))
        #expect(header.hasSuffix("\n"))
        #expect(try NPYFile.decode(bytes).shape == [])
        let one = NPYFile.encode(floatTensor([5], [1, 2, 3, 4, 5]))
        #expect(String(decoding: one, as: UTF8.self).contains("'shape': (5,)"))
    }

    @Test func numpyStyleHeaderParses() throws {
        // Header written the way numpy does (with a trailing comma and padding).
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }"
        header += String(repeating: " ", count: 64 - (10 + header.count + 1) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0]
        bytes += Array(header.utf8)
        bytes += [5, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let t = try NPYFile.decode(bytes)
        #expect(t.shape == [2, 1] && t.int64s == [5, -1])
    }

    @Test func malformedFilesThrow() {
        let good = NPYFile.encode(floatTensor([2], [1, 2]))
        #expect(throws: EngineError.self) { try NPYFile.decode([]) }
        #expect(throws: EngineError.self) { try NPYFile.decode(Array(good.prefix(good.count - 1))) }
        var badMagic = good; badMagic[1] = 0
        #expect(throws: EngineError.self) { try NPYFile.decode(badMagic) }
        var badLen = good; badLen[8] = 0xFF; badLen[9] = 0xFF
        #expect(throws: EngineError.self) { try NPYFile.decode(badLen) }
        let text = String(decoding: good, as: UTF8.self)
        for (from, to) in [("<f4", "<c8"), ("False", "Maybe"), ("(2,)", "(x,)"), ("'shape'", "'shapf'")] {
            let mutated = Array(text.replacingOccurrences(of: from, with: to).utf8)
            if mutated.count == good.count {
                #expect(throws: EngineError.self, "\(from) -> \(to)") { try NPYFile.decode(mutated) }
            }
        }
        var fortran = Array(text.replacingOccurrences(of: "False", with: "True ").utf8)
        fortran.replaceSubrange(fortran.count - 8..<fortran.count, with: good.suffix(8))
        #expect(throws: EngineError.self) { try NPYFile.decode(fortran) }
        #expect(throws: EngineError.self) { try NPYFile.read("/nonexistent/file.npy") }
    }
}
