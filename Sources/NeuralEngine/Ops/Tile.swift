// Tile: repeats the input `repeats[i]` times along each axis i.
//
// x: (d_0, ..., d_r-1), repeats: (r) -> y: (d_0*rep_0, ..., d_r-1*rep_r-1)

struct TileKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let reps = try Shape.intList(try inputs.required(1, "repeats"), name: "repeats")
        guard reps.count == x.rank, reps.allSatisfy({ $0 >= 0 }) else {
            throw EngineError.invalidArgument("Tile repeats \(reps) do not match input rank \(x.rank)")
        }
        let outShape = zip(x.shape, reps).map { $0 * $1 }
        let n = try Shape.checkedCount(outShape, what: "Tile output shape")
        let inStrides = Shape.strides(x.shape)
        var map = [Int](repeating: 0, count: n)
        let rank = x.rank
        if n > 0 && rank > 0 {
            var idx = [Int](repeating: 0, count: rank)
            for o in 0..<n {
                var off = 0
                for d in 0..<rank { off += (idx[d] % x.shape[d]) * inStrides[d] }
                map[o] = off
                var d = rank - 1
                while d >= 0 {
                    idx[d] += 1
                    if idx[d] < outShape[d] { break }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
        switch x.storage {
        case .float(let a): return [Tensor(shape: outShape, floats: map.map { a[$0] })]
        case .int64(let a): return [Tensor(shape: outShape, int64s: map.map { a[$0] })]
        case .bool(let a): return [Tensor(shape: outShape, bools: map.map { a[$0] })]
        }
    }

    static let definition = OperatorDefinition("Tile", since: 6) { _, _ in TileKernel() }
}
