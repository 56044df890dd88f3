// TensorElement lets data-movement kernels (Concat, Split, Slice, Transpose,
// Gather, Expand, Tile, Where, Pad, ...) be written once as generic functions
// over Float, Int64 and Bool. Each conforming type knows how to extract its
// array from a TensorStorage and how to wrap an array back into one.

protocol TensorElement: Sendable {
    static var zero: Self { get }
    static func extract(_ storage: TensorStorage) -> [Self]?
    static func wrap(_ array: [Self]) -> TensorStorage
}

extension Float: TensorElement {
    static func extract(_ storage: TensorStorage) -> [Float]? {
        if case .float(let a) = storage { return a }
        return nil
    }
    static func wrap(_ array: [Float]) -> TensorStorage { .float(array) }
}

extension Int64: TensorElement {
    static func extract(_ storage: TensorStorage) -> [Int64]? {
        if case .int64(let a) = storage { return a }
        return nil
    }
    static func wrap(_ array: [Int64]) -> TensorStorage { .int64(array) }
}

extension Bool: TensorElement {
    static var zero: Bool { false }
    static func extract(_ storage: TensorStorage) -> [Bool]? {
        if case .bool(let a) = storage { return a }
        return nil
    }
    static func wrap(_ array: [Bool]) -> TensorStorage { .bool(array) }
}

extension Tensor {
    /// The storage as an array of `T`, or a type-mismatch error.
    func elements<T: TensorElement>(_ type: T.Type = T.self) throws -> [T] {
        guard let a = T.extract(storage) else {
            throw EngineError.typeMismatch("expected \(T.self) tensor, got \(elementType.rawValue) tensor \(shape)")
        }
        return a
    }

    init<T: TensorElement>(shape: [Int], elements: [T]) {
        self.init(shape: shape, storage: T.wrap(elements))
    }
}
