// Node is one operator instance in the engine's graph: operator type and
// domain, name, attributes, and its inputs/outputs as value slot indexes (nil
// for an omitted optional input/output). Graph passes may attach a fused
// activation that the Conv kernel applies in its epilogue, and fold a Concat
// into the Conv that reads it (its leading inputs are then the joined tensors)
// and a Split into the Conv it cuts (its outputs are then the parts).

/// Activation applied inside a kernel's output pass (set by fusion passes).
enum FusedActivation: Sendable, Equatable {
    case none
    case relu
    case sigmoid
    case silu  // x * sigmoid(x)
}

struct Node: Sendable {
    var name: String
    var opType: String
    var domain: String
    var inputs: [Int?]
    var outputs: [Int?]
    var attributes: NodeAttributes
    var fusedActivation: FusedActivation = .none
    /// Conv only: how many leading inputs are joined along channels into X (a fused Concat;
    /// ConcatConvFusion), 0 when X is the first input itself.
    var concatInputs = 0
    /// Conv only: the channel counts of its outputs when a Split along channels is folded into
    /// it (ConvSplitFusion); empty when it has its one output.
    var splitOutputs: [Int] = []

    /// Label used in error messages.
    var label: String { name.isEmpty ? "<unnamed \(opType)>" : name }
}
