// Range: 1-D sequence start, start+delta, ... up to (excluding) limit, with
// count = max(ceil((limit - start) / delta), 0). Float or Int64 scalars.
//
// start, limit, delta: () -> y: (count)

import Foundation

struct RangeKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let s = try inputs.required(0, "start"), l = try inputs.required(1, "limit"), d = try inputs.required(2, "delta")
        guard s.count == 1, l.count == 1, d.count == 1 else { throw EngineError.invalidArgument("Range inputs must be scalars") }
        switch (s.storage, l.storage, d.storage) {
        case (.int64(let a), .int64(let b), .int64(let c)):
            let start = a[0], limit = b[0], delta = c[0]
            guard delta != 0 else { throw EngineError.invalidArgument("Range delta cannot be 0") }
            let q = ceil((Double(limit) - Double(start)) / Double(delta))
            guard q <= Double(1 << 32) else { throw EngineError.invalidArgument("Range produces too many elements") }
            let n = Swift.max(0, Int(q))
            return [Tensor(shape: [n], int64s: (0..<n).map { start &+ Int64($0) &* delta })]
        default:
            let start = s.floats[0], limit = l.floats[0], delta = d.floats[0]
            guard delta != 0 else { throw EngineError.invalidArgument("Range delta cannot be 0") }
            let q = ceil(Double(limit - start) / Double(delta))
            guard q.isFinite, q <= Double(1 << 32) else { throw EngineError.invalidArgument("Range produces too many elements") }
            let n = Swift.max(0, Int(q))
            return [Tensor(shape: [n], floats: (0..<n).map { start + Float($0) * delta })]
        }
    }

    static let definition = OperatorDefinition("Range", since: 11) { _, _ in RangeKernel() }
}
