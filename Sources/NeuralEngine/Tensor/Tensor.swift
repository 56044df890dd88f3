// Tensor is the engine's value type for every runtime value: a shape plus a
// dense, row-major (C order) element array. Model activations are Float; shape
// arithmetic in non-simplified ONNX exports (Shape/Gather/Concat/...) needs
// Int64, and comparison/logic ops produce Bool. Storage is an enum over those
// three arrays, so copies are cheap copy-on-write array copies. Other ONNX
// element types are converted on load (ints -> Int64, float16/double -> Float).

/// Element type of a Tensor.
public enum ElementType: String, Sendable, Equatable {
    case float, int64, bool
}

/// Backing storage of a Tensor.
enum TensorStorage: Sendable {
    case float([Float])
    case int64([Int64])
    case bool([Bool])
}

public struct Tensor: Sendable {
    public var shape: [Int]
    var storage: TensorStorage

    /// Creates a Float tensor. `floats.count` must equal the product of `shape`.
    public init(shape: [Int], floats: [Float]) {
        precondition(Tensor.elementCount(shape) == floats.count,
                     "Tensor shape \(shape) needs \(Tensor.elementCount(shape)) elements, got \(floats.count)")
        self.shape = shape
        self.storage = .float(floats)
    }

    /// Creates an Int64 tensor. `int64s.count` must equal the product of `shape`.
    public init(shape: [Int], int64s: [Int64]) {
        precondition(Tensor.elementCount(shape) == int64s.count,
                     "Tensor shape \(shape) needs \(Tensor.elementCount(shape)) elements, got \(int64s.count)")
        self.shape = shape
        self.storage = .int64(int64s)
    }

    /// Creates a Bool tensor. `bools.count` must equal the product of `shape`.
    public init(shape: [Int], bools: [Bool]) {
        precondition(Tensor.elementCount(shape) == bools.count,
                     "Tensor shape \(shape) needs \(Tensor.elementCount(shape)) elements, got \(bools.count)")
        self.shape = shape
        self.storage = .bool(bools)
    }

    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    /// A float scalar (rank 0).
    public init(scalar: Float) { self.init(shape: [], floats: [scalar]) }

    /// Element type of the storage.
    public var elementType: ElementType {
        switch storage {
        case .float: return .float
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    /// Number of elements (product of the shape; 1 for a scalar).
    public var count: Int {
        switch storage {
        case .float(let a): return a.count
        case .int64(let a): return a.count
        case .bool(let a): return a.count
        }
    }

    public var rank: Int { shape.count }

    /// Elements as Float (converted if the tensor is Int64 or Bool).
    public var floats: [Float] {
        switch storage {
        case .float(let a): return a
        case .int64(let a): return a.map { Float($0) }
        case .bool(let a): return a.map { $0 ? 1 : 0 }
        }
    }

    /// Elements as Int64 (Float values are truncated toward zero).
    public var int64s: [Int64] {
        switch storage {
        case .int64(let a): return a
        case .float(let a): return a.map { Tensor.truncatingInt64($0) }
        case .bool(let a): return a.map { $0 ? 1 : 0 }
        }
    }

    /// Elements as Bool (non-zero is true).
    public var bools: [Bool] {
        switch storage {
        case .bool(let a): return a
        case .float(let a): return a.map { $0 != 0 }
        case .int64(let a): return a.map { $0 != 0 }
        }
    }

    /// Product of the dimensions of `shape` (1 for a scalar).
    static func elementCount(_ shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// Float -> Int64 conversion that truncates toward zero and saturates
    /// instead of trapping on NaN/inf/out-of-range values.
    static func truncatingInt64(_ v: Float) -> Int64 {
        if v.isNaN { return 0 }
        if v >= 9.2233715e18 { return Int64.max }
        if v <= -9.2233715e18 { return Int64.min }
        return Int64(v)
    }

    /// Same tensor with a new shape of equal element count.
    func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        "Tensor<\(elementType.rawValue)>\(shape)"
    }
}
