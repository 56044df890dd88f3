// Upsample (deprecated since opset 10, still found in old exports): nearest
// or linear upsampling by per-axis scales, given as an attribute (opset 7-8)
// or as the second input (opset 9). Implemented with the Resize kernel using
// asymmetric coordinates, which is how ONNX Runtime defines Upsample.
//
// x: (d_0, ..., d_r-1), scales: (r) -> y: (floor(d_i * scale_i))

enum UpsampleOperator {
    static let definition = OperatorDefinition("Upsample", since: 7) { node, opset in
        let m = try node.attributes.string("mode", default: "nearest")
        guard let mode = ResizeKernel.Mode(rawValue: m == "bilinear" ? "linear" : m) else {
            throw EngineError.unsupportedFeature("Upsample mode '\(m)' is not supported")
        }
        var kernel = ResizeKernel(mode: mode, nearestMode: .simple, transform: .asymmetric, scalesInput: 1)
        if opset < 9 {
            guard let scales = try node.attributes.floats("scales") else {
                throw EngineError.invalidModel("Upsample (opset < 9) requires the 'scales' attribute")
            }
            kernel.fixedScales = scales
        }
        return kernel
    }
}
