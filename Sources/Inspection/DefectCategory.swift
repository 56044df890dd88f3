// The four verdict categories of the line and what the sorter does for each.
//
// A category has a stable English code (URLs, metrics, logs, file names), the seed's
// Korean wire label (the `defect_type` field the Windows app reads) and a GPIO signal
// for the left Raspberry Pi. The values come from `data/pcb_defects.yaml`.

/// Stable English name of a verdict category.
public enum CategoryCode: String, Sendable, Codable, CaseIterable, Comparable {
    case normal
    case componentDefect = "component_defect"
    case solderDefect = "solder_defect"
    case discard

    /// Alphabetical by raw value; only for stable sorting, not for priority.
    public static func < (lhs: CategoryCode, rhs: CategoryCode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A sorter gate pulse: drive `pin` (BCM numbering) HIGH for `durationMs`.
public struct GPIOSignal: Sendable, Equatable, Codable {
    public var pin: Int
    public var durationMs: Int

    public init(pin: Int, durationMs: Int) {
        self.pin = pin
        self.durationMs = durationMs
    }
}

/// One verdict category as configured in the policy file.
public struct DefectCategory: Sendable, Equatable {
    public var code: CategoryCode
    /// The seed's wire label (`정상`, `부품불량`, `납땜불량`, `폐기`).
    public var label: String
    public var gpio: GPIOSignal

    public init(code: CategoryCode, label: String, gpio: GPIOSignal) {
        self.code = code
        self.label = label
        self.gpio = gpio
    }
}
