// Scoring one embedding against a fitted PaDiM model: the per-cell distance map and the
// image score. The serving path's half of PaDiM (fitting is in DetectionTools).

import Foundation

extension PaDiMModel {
    /// The anomaly map of one embedding: per cell, the smallest Mahalanobis distance to the
    /// Gaussians of the cells within `radius` (or to every component of a mixture); and the
    /// image score, its largest value. Cells not `observed` (off the frame after registration)
    /// and cells the fit left unscored (zero whitener) read 0. Grid rows are split over `threads` workers.
    public func score(_ embedding: [Float], observed: [Bool]? = nil, threads: Int = 1) -> (map: [Float], score: Float) {
        let d = dimension, h = gridHeight, w = gridWidth
        let components = self.components, radius = min(max(0, self.radius), max(h, w))
        @Sendable func candidates(_ gy: Int, _ gx: Int) -> [Int] {
            if components > 0 { return Array(0..<components) }
            var list: [Int] = []
            for ny in max(0, gy - radius)...min(h - 1, gy + radius) {
                for nx in max(0, gx - radius)...min(w - 1, gx + radius) { list.append(ny * w + nx) }
            }
            return list
        }
        var map = [Float](repeating: 0, count: h * w)
        let workers = max(1, min(threads, h))
        embedding.withUnsafeBufferPointer { x in
            means.withUnsafeBufferPointer { mu in
                whiteners.withUnsafeBufferPointer { lInv in
                    map.withUnsafeMutableBufferPointer { out in
                        // Workers write disjoint rows of `out` and only read the rest.
                        nonisolated(unsafe) let out = out.baseAddress!
                        nonisolated(unsafe) let x = x.baseAddress!, mu = mu.baseAddress!, lInv = lInv.baseAddress!
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            let v = UnsafeMutablePointer<Float>.allocate(capacity: d)
                            defer { v.deallocate() }
                            for gy in (h * worker / workers)..<(h * (worker + 1) / workers) {
                                for gx in 0..<w {
                                    let cell = gy * w + gx
                                    if let observed, !observed[cell] { out[cell] = 0; continue }
                                    var best = Float.infinity, compared = false
                                    for other in candidates(gy, gx) where lInv[other * d * d] != 0 {
                                        compared = true
                                        for i in 0..<d { v[i] = x[cell * d + i] - mu[other * d + i] }
                                        // |L^-1 v|^2, L^-1 lower triangular; stop once it cannot win.
                                        let m = lInv + other * d * d
                                        var q: Float = 0
                                        for i in 0..<d {
                                            // Row i of L^-1 is zero past i: the dot product runs to
                                            // the next multiple of 8, eight lanes at a time.
                                            let row = m + i * d, end = min(d, (i + 8) & ~7)
                                            var lanes = SIMD8<Float>.zero
                                            var j = 0
                                            while j + 8 <= end {
                                                lanes += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                                                    * UnsafeRawPointer(v + j).loadUnaligned(as: SIMD8<Float>.self)
                                                j += 8
                                            }
                                            var t = lanes.sum()
                                            while j < end { t += row[j] * v[j]; j += 1 }
                                            q += t * t
                                            if q >= best { break }
                                        }
                                        if q < best { best = q }
                                    }
                                    // A non-finite feature is as unlike the normal boards as it gets.
                                    out[cell] = !compared ? 0 : best.isFinite ? best.squareRoot() : 1e6
                                }
                            }
                        }
                    }
                }
            }
        }
        return (map, map.max() ?? 0)
    }
}
