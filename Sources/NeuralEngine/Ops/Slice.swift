// Slice: takes a strided sub-range along selected axes. Opset < 10 reads
// starts/ends/axes from attributes (step 1); opset >= 10 reads starts, ends
// and optional axes/steps from inputs. Indices follow the ONNX clamping
// rules: negative values count from the end, out-of-range values (including
// INT64_MAX "to the end") are clamped, negative steps walk backwards.
//
// x: (d_0, ..., d_r-1) -> y: (len_0, ..., len_r-1)

struct SliceKernel: Kernel {
    let fromInputs: Bool
    let attrStarts: [Int]
    let attrEnds: [Int]
    let attrAxes: [Int]?

    init(node: Node, opset: Int) throws {
        fromInputs = opset >= 10
        if fromInputs {
            attrStarts = []; attrEnds = []; attrAxes = nil
        } else {
            guard let s = try node.attributes.ints("starts"), let e = try node.attributes.ints("ends") else {
                throw EngineError.invalidModel("Slice (opset < 10) requires 'starts' and 'ends' attributes")
            }
            attrStarts = s; attrEnds = e; attrAxes = try node.attributes.ints("axes")
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let starts: [Int], ends: [Int], axesIn: [Int]?, steps: [Int]?
        if fromInputs {
            starts = try Shape.intList(try inputs.required(1, "starts"), name: "starts")
            ends = try Shape.intList(try inputs.required(2, "ends"), name: "ends")
            axesIn = try inputs.optional(3).map { try Shape.intList($0, name: "axes") }
            steps = try inputs.optional(4).map { try Shape.intList($0, name: "steps") }
        } else {
            starts = attrStarts; ends = attrEnds; axesIn = attrAxes; steps = nil
        }
        let p = try SliceKernel.resolve(shape: x.shape, starts: starts, ends: ends, axes: axesIn, steps: steps)
        switch x.storage {
        case .float(let a): return [Tensor(shape: p.shape, elements: SliceKernel.slice(a, x.shape, p))]
        case .int64(let a): return [Tensor(shape: p.shape, elements: SliceKernel.slice(a, x.shape, p))]
        case .bool(let a): return [Tensor(shape: p.shape, elements: SliceKernel.slice(a, x.shape, p))]
        }
    }

    /// Per-axis start/step and the output shape.
    struct Plan { var start: [Int]; var step: [Int]; var shape: [Int] }

    static func resolve(shape: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> Plan {
        let rank = shape.count
        let axes = axes ?? Array(0..<starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps == nil || steps!.count == starts.count else {
            throw EngineError.invalidArgument("Slice starts/ends/axes/steps lengths differ (\(starts.count), \(ends.count), \(axes.count), \(steps?.count ?? -1))")
        }
        var plan = Plan(start: Array(repeating: 0, count: rank), step: Array(repeating: 1, count: rank), shape: shape)
        var seen = Set<Int>()
        for i in 0..<axes.count {
            let ax = try Shape.normalizeAxis(axes[i], rank: rank, op: "Slice")
            guard seen.insert(ax).inserted else { throw EngineError.invalidArgument("Slice axis \(ax) repeated") }
            let dim = shape[ax]
            let step = steps?[i] ?? 1
            guard step != 0 else { throw EngineError.invalidArgument("Slice step cannot be 0") }
            var s = starts[i], e = ends[i]
            if s < 0 { s = s &+ dim }
            if e < 0 { e = e &+ dim }
            if step > 0 {
                s = Swift.min(Swift.max(s, 0), dim)
                e = Swift.min(Swift.max(e, 0), dim)
            } else {
                s = Swift.min(Swift.max(s, 0), dim - 1)
                e = Swift.min(Swift.max(e, -1), dim - 1)
            }
            let len = step > 0 ? (e - s + step - 1) / step : (s - e + (-step) - 1) / (-step)
            plan.start[ax] = s
            plan.step[ax] = step
            plan.shape[ax] = Swift.max(0, len)
        }
        return plan
    }

    static func slice<T>(_ a: [T], _ inShape: [Int], _ p: Plan) -> [T] {
        let n = p.shape.reduce(1, *)
        if n == 0 { return [] }
        let rank = inShape.count
        if rank == 0 { return a }
        let st = Shape.strides(inShape)
        var out = [T](); out.reserveCapacity(n)
        var idx = [Int](repeating: 0, count: rank)
        var base = 0
        for d in 0..<rank { base += p.start[d] * st[d] }
        let innerLen = p.shape[rank - 1], innerStep = p.step[rank - 1]
        var off = base
        while out.count < n {
            if innerStep == 1 {
                out.append(contentsOf: a[off..<(off + innerLen)])
            } else {
                for j in 0..<innerLen { out.append(a[off + j * innerStep]) }
            }
            var d = rank - 2
            while d >= 0 {
                idx[d] += 1
                off += p.step[d] * st[d]
                if idx[d] < p.shape[d] { break }
                off -= p.step[d] * st[d] * p.shape[d]
                idx[d] = 0
                d -= 1
            }
            if d < 0 { break }
        }
        return out
    }

    static let definition = OperatorDefinition("Slice", since: 1) { node, opset in try SliceKernel(node: node, opset: opset) }
}
