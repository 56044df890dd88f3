// OperatorRegistry is the table of every supported ONNX operator (default
// domain) with the opset it is available from. Graph loading consults it to
// reject unsupported operators up front, with an error naming the operator,
// the model's opset and the node; the executor uses it to build kernels.

enum OperatorRegistry {
    static let definitions: [String: OperatorDefinition] = {
        var all: [OperatorDefinition] = []
        all += UnaryMathKernel.definitions
        all += BinaryArithmeticKernel.definitions
        all += ComparisonKernel.definitions
        all += LogicalKernel.definitions
        all += VariadicKernel.definitions
        all += IdentityKernel.definitions
        all += ShapeKernel.definitions
        all += GlobalPoolKernel.definitions
        all += SoftmaxKernel.definitions
        all += ReduceKernel.definitions
        all += ArgMaxKernel.definitions
        all += [
            WhereKernel.definition, ClipKernel.definition, ConcatKernel.definition, SplitKernel.definition,
            SliceKernel.definition, TransposeKernel.definition, ReshapeKernel.definition, FlattenKernel.definition,
            SqueezeKernel.definition, UnsqueezeKernel.definition, GatherKernel.definition, ConstantKernel.definition,
            ConstantOfShapeKernel.definition, CastKernel.definition, RangeKernel.definition, ExpandKernel.definition,
            TileKernel.definition, PadKernel.definition, ConvKernel.definition, MaxPoolKernel.definition,
            AveragePoolKernel.definition, ResizeKernel.definition, MatMulKernel.definition, GemmKernel.definition,
            BatchNormalizationKernel.definition, UpsampleOperator.definition,
        ]
        var table: [String: OperatorDefinition] = [:]
        for d in all {
            precondition(table[d.opType] == nil, "duplicate operator definition \(d.opType)")
            table[d.opType] = d
        }
        return table
    }()

    static func isDefaultDomain(_ domain: String) -> Bool { domain.isEmpty || domain == "ai.onnx" }

    /// Throws `unsupported operator` unless the op exists for this opset.
    static func checkSupported(opType: String, domain: String, opset: Int, node: String) throws {
        guard isDefaultDomain(domain), let d = definitions[opType], opset >= d.sinceVersion else {
            throw EngineError.unsupportedOperator(opType, domain: domain, opset: opset, node: node)
        }
    }

    /// Builds the kernel for `node`.
    static func makeKernel(for node: Node, opset: Int) throws -> any Kernel {
        guard isDefaultDomain(node.domain), let d = definitions[node.opType], opset >= d.sinceVersion else {
            throw EngineError.unsupportedOperator(node.opType, domain: node.domain, opset: opset, node: node.name)
        }
        do {
            return try d.make(node, opset)
        } catch {
            throw EngineError.atNode(node.name, op: node.opType, error)
        }
    }

    /// Sorted names of all supported operators.
    static var supportedOperators: [String] { definitions.keys.sorted() }
}
