// Image AUROC of an anomaly model on normal and defective boards (`pcb anomaly eval`, the
// fitter's reports).

/// Image AUROC: the probability that a defective board scores above a normal one (ties count
/// half), by the Mann-Whitney U statistic.
public func areaUnderROC(normal: [Float], defective: [Float]) -> Double {
    guard !normal.isEmpty, !defective.isEmpty else { return .nan }
    let all = (normal.map { ($0, false) } + defective.map { ($0, true) }).sorted { $0.0 < $1.0 }
    // Average ranks over ties.
    var rankSum = 0.0
    var i = 0
    while i < all.count {
        var j = i
        while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
        let rank = Double(i + j) / 2 + 1
        for k in i...j where all[k].1 { rankSum += rank }
        i = j + 1
    }
    let m = Double(defective.count), n = Double(normal.count)
    return (rankSum - m * (m + 1) / 2) / (m * n)
}
