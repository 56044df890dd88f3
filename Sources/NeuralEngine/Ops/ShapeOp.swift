// Shape and Size: report a tensor's dimensions (Int64 1-D, optionally sliced
// by start/end attributes from opset 15) or its element count (Int64 scalar).
//
// x: (d_0, ..., d_r-1) -> Shape: (r) int64, Size: () int64

struct ShapeKernel: Kernel {
    let start: Int
    let end: Int?

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let r = x.rank
        var s = start < 0 ? start + r : start
        var e = end.map { $0 < 0 ? $0 + r : $0 } ?? r
        s = Swift.min(Swift.max(s, 0), r)
        e = Swift.min(Swift.max(e, 0), r)
        let dims = s < e ? Array(x.shape[s..<e]) : []
        return [Tensor(shape: [dims.count], int64s: dims.map { Int64($0) })]
    }

    static let definitions: [OperatorDefinition] = [
        OperatorDefinition("Shape") { node, opset in
            opset >= 15
                ? ShapeKernel(start: try node.attributes.int("start", default: 0), end: try node.attributes.int("end"))
                : ShapeKernel(start: 0, end: nil)
        },
        OperatorDefinition("Size") { _, _ in SizeKernel() },
    ]
}

struct SizeKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        return [Tensor(shape: [], int64s: [Int64(x.count)])]
    }
}
