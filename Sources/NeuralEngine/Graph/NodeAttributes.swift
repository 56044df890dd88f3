// NodeAttributes wraps a node's decoded ONNX attributes and offers typed
// accessors with defaults. A present attribute of the wrong type throws a
// descriptive error rather than being silently ignored.

struct NodeAttributes: Sendable {
    private(set) var values: [String: AttributeValue]

    init(_ attributes: [OnnxAttribute] = []) {
        var v: [String: AttributeValue] = [:]
        for a in attributes { v[a.name] = a.value }
        values = v
    }

    init(_ dict: [String: AttributeValue]) { values = dict }

    func has(_ name: String) -> Bool { values[name] != nil }

    subscript(_ name: String) -> AttributeValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    private func mismatch(_ name: String, _ expected: String) -> EngineError {
        EngineError.invalidModel("attribute '\(name)' should be \(expected), found \(values[name].map { "\($0)" } ?? "nothing")")
    }

    func int(_ name: String) throws -> Int? {
        guard let v = values[name] else { return nil }
        if case .int(let i) = v { return Int(clamping: i) }
        throw mismatch(name, "an int")
    }

    func int(_ name: String, default d: Int) throws -> Int { try int(name) ?? d }

    func float(_ name: String) throws -> Float? {
        guard let v = values[name] else { return nil }
        switch v {
        case .float(let f): return f
        case .int(let i): return Float(i)
        default: throw mismatch(name, "a float")
        }
    }

    func float(_ name: String, default d: Float) throws -> Float { try float(name) ?? d }

    func string(_ name: String) throws -> String? {
        guard let v = values[name] else { return nil }
        if case .string(let s) = v { return s }
        throw mismatch(name, "a string")
    }

    func string(_ name: String, default d: String) throws -> String { try string(name) ?? d }

    func ints(_ name: String) throws -> [Int]? {
        guard let v = values[name] else { return nil }
        switch v {
        case .ints(let a): return a.map { Int(clamping: $0) }
        case .int(let i): return [Int(clamping: i)]
        default: throw mismatch(name, "a list of ints")
        }
    }

    func floats(_ name: String) throws -> [Float]? {
        guard let v = values[name] else { return nil }
        switch v {
        case .floats(let a): return a
        case .float(let f): return [f]
        default: throw mismatch(name, "a list of floats")
        }
    }

    func tensor(_ name: String) throws -> Tensor? {
        guard let v = values[name] else { return nil }
        if case .tensor(let t) = v { return t }
        throw mismatch(name, "a tensor")
    }
}
