// Reads `data/pcb_defects.yaml` into a `DefectPolicy`, reporting mistakes with their line.
//
// The file is walked as a YAML node tree (not decoded with Codable) so that every error can
// name the line it comes from: an unknown category, two categories on one pin, a class
// mapped twice, a missing key.

import Yams

extension DefectPolicy {
    /// Parses and validates a policy file.
    ///
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - fileName: used in error messages, e.g. `data/pcb_defects.yaml line 31: ...`.
    public static func load(yaml: String, fileName: String = "pcb_defects.yaml") throws(PolicyError) -> DefectPolicy {
        do {
            return try parse(yaml: yaml)
        } catch {
            throw error.located(in: fileName)
        }
    }

    private static func parse(yaml: String) throws(PolicyError) -> DefectPolicy {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw PolicyError.invalid("the file is empty", line: nil) }
            root = node
        } catch let error as PolicyError {
            throw error
        } catch {
            throw .invalid("not valid YAML: \(error)", line: nil)
        }
        let top = try mapping(root, "the top level")

        let threshold = try number(try required(top, "confidence_threshold", in: root), "confidence_threshold")

        // categories: [{code, label, gpio: {pin, duration_ms}}]
        let categoriesNode = try required(top, "categories", in: root)
        guard let categoryList = categoriesNode.sequence else {
            throw .invalid("`categories` must be a list", line: categoriesNode.mark?.line)
        }
        var categories: [CategoryCode: DefectCategory] = [:]
        var pinLines: [Int: (CategoryCode, Int?)] = [:]
        for item in categoryList {
            let fields = try mapping(item, "a category")
            let codeNode = try required(fields, "code", in: item)
            let code = try categoryCode(codeNode)
            if categories[code] != nil {
                throw .invalid("category '\(code.rawValue)' is defined twice", line: codeNode.mark?.line)
            }
            let label = try string(try required(fields, "label", in: item), "label")
            let gpioNode = try required(fields, "gpio", in: item)
            let gpio = try mapping(gpioNode, "gpio")
            let pinNode = try required(gpio, "pin", in: gpioNode)
            let pin = try integer(pinNode, "gpio.pin", range: 0...53)
            let duration = try integer(try required(gpio, "duration_ms", in: gpioNode), "gpio.duration_ms", range: 1...60_000)
            if let (other, otherLine) = pinLines[pin] {
                let previous = otherLine.map { " (line \($0))" } ?? ""
                throw .invalid("GPIO pin \(pin) is already used by category '\(other.rawValue)'\(previous); each category needs its own pin", line: pinNode.mark?.line)
            }
            pinLines[pin] = (code, pinNode.mark?.line)
            categories[code] = DefectCategory(code: code, label: label, gpio: GPIOSignal(pin: pin, durationMs: duration))
        }

        // priority: [code, ...], each category exactly once.
        let priorityNode = try required(top, "priority", in: root)
        guard let priorityList = priorityNode.sequence else {
            throw .invalid("`priority` must be a list of category codes", line: priorityNode.mark?.line)
        }
        var ordered: [DefectCategory] = []
        for item in priorityList {
            let code = try categoryCode(item)
            guard let category = categories[code] else {
                throw .invalid("priority names category '\(code.rawValue)' that `categories` does not define", line: item.mark?.line)
            }
            if ordered.contains(where: { $0.code == code }) {
                throw .invalid("priority lists '\(code.rawValue)' twice", line: item.mark?.line)
            }
            ordered.append(category)
        }
        for code in categories.keys.sorted() where !ordered.contains(where: { $0.code == code }) {
            throw .invalid("priority does not list category '\(code.rawValue)'", line: priorityNode.mark?.line)
        }

        // classes: {model_class: category_code}
        let classesNode = try required(top, "classes", in: root)
        let classes = try mapping(classesNode, "classes")
        var classCategories: [String: CategoryCode] = [:]
        for (key, value) in classes {
            let name = try string(key, "class name")
            if classCategories[name] != nil {
                throw .invalid("class '\(name)' is mapped twice", line: key.mark?.line)
            }
            let code = try categoryCode(value, context: "class '\(name)'")
            guard categories[code] != nil else {
                throw .invalid("class '\(name)' maps to category '\(code.rawValue)' that `categories` does not define", line: value.mark?.line)
            }
            classCategories[name] = code
        }
        if classCategories.isEmpty {
            throw .invalid("`classes` maps no model class", line: classesNode.mark?.line)
        }

        var failSafe = CategoryCode.discard
        if let node = top["fail_safe_category"] {
            failSafe = try categoryCode(node, context: "fail_safe_category")
        }
        var policy = try DefectPolicy(
            confidenceThreshold: Float(threshold),
            categoriesByPriority: ordered,
            classCategories: classCategories,
            failSafeCategory: failSafe)
        if let node = top["anomaly_category"] {
            policy.anomalyCategory = try categoryCode(node, context: "anomaly_category")
        }
        return policy
    }

    // MARK: - Node helpers, each failing with the node's line

    private static func mapping(_ node: Node, _ what: String) throws(PolicyError) -> Node.Mapping {
        guard let mapping = node.mapping else { throw .invalid("\(what) must be a mapping of keys to values", line: node.mark?.line) }
        return mapping
    }

    private static func required(_ mapping: Node.Mapping, _ key: String, in parent: Node) throws(PolicyError) -> Node {
        guard let node = mapping[key] else { throw .invalid("missing key `\(key)`", line: parent.mark?.line) }
        return node
    }

    private static func string(_ node: Node, _ what: String) throws(PolicyError) -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else { throw .invalid("\(what) must be a non-empty text", line: node.mark?.line) }
        return scalar.string
    }

    private static func number(_ node: Node, _ what: String) throws(PolicyError) -> Double {
        guard let value = node.scalar.flatMap({ Double($0.string) }) else {
            throw .invalid("\(what) must be a number", line: node.mark?.line)
        }
        return value
    }

    private static func integer(_ node: Node, _ what: String, range: ClosedRange<Int>) throws(PolicyError) -> Int {
        guard let value = node.scalar.flatMap({ Int($0.string) }) else {
            throw .invalid("\(what) must be a whole number", line: node.mark?.line)
        }
        guard range.contains(value) else {
            throw .invalid("\(what) must be between \(range.lowerBound) and \(range.upperBound), got \(value)", line: node.mark?.line)
        }
        return value
    }

    private static func categoryCode(_ node: Node, context: String = "category") throws(PolicyError) -> CategoryCode {
        let text = try string(node, context)
        guard let code = CategoryCode(rawValue: text) else {
            let known = CategoryCode.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalid("\(context): unknown category '\(text)' (known: \(known))", line: node.mark?.line)
        }
        return code
    }
}
