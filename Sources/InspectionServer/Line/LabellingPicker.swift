// The line's one labelling sampler (Inspection/LabellingSampler), shared by every request
// behind a lock: the day's budget and the normal-frame count are the whole line's.

import Foundation
import Inspection
import Synchronization

final class LabellingPicker: Sendable {
    private let sampler: Mutex<LabellingSampler>

    init(rule: LabellingRule) {
        sampler = Mutex(LabellingSampler(rule: rule))
    }

    var rule: LabellingRule { sampler.withLock { $0.rule } }

    /// Why to keep this frame for labelling, or nil (see `LabellingSampler.choose`).
    func choose(boxes: [DetectedDefect], category: CategoryCode, policy: DefectPolicy, day: String) -> LabellingReason? {
        sampler.withLock { $0.choose(boxes: boxes, category: category, threshold: policy.threshold(for:), day: day) }
    }
}
