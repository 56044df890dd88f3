// The position-free variant of PaDiM: instead of one Gaussian per grid cell, K Gaussians
// shared by every position, found by k-means over cell embeddings sampled from the normal
// boards. For inspection images that are not all one layout (DeepPCB: each image is another
// board area), where "normal at this position" cannot be learnt but "normal local pattern"
// can. A cell's distance is the smallest over the K Gaussians.

import Detection
import Foundation
import SeededRandom

enum PaDiMMixture {
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s: Float = 0
        for i in 0..<d { let t = a[i] - b[i]; s += t * t }
        return s
    }

    /// k-means (k-means++ start, `iterations` Lloyd steps) over `count` vectors of `d` floats;
    /// the cluster of every vector.
    static func cluster(_ vectors: [Float], count: Int, dimension d: Int, k: Int, iterations: Int = 15, seed: UInt64) -> [Int] {
        var random = SplitMix64(seed: seed)
        var centres = [Float](repeating: 0, count: k * d)
        var nearest = [Float](repeating: .infinity, count: count)
        var assignment = [Int](repeating: 0, count: count)
        vectors.withUnsafeBufferPointer { x in
            centres.withUnsafeMutableBufferPointer { c in
                let x = x.baseAddress!, c = c.baseAddress!
                // k-means++: each next centre drawn with probability proportional to D^2.
                var chosen = random.below(count)
                for centre in 0..<k {
                    (c + centre * d).update(from: x + chosen * d, count: d)
                    var total = 0.0
                    for i in 0..<count {
                        nearest[i] = min(nearest[i], squaredDistance(x + i * d, c + centre * d, d))
                        total += Double(nearest[i])
                    }
                    var target = random.unitDouble() * total
                    chosen = count - 1
                    for i in 0..<count {
                        target -= Double(nearest[i])
                        if target <= 0 { chosen = i; break }
                    }
                }
                var sums = [Double](repeating: 0, count: k * d)
                var sizes = [Int](repeating: 0, count: k)
                for _ in 0..<iterations {
                    for i in 0..<count {
                        var best = Float.infinity
                        for centre in 0..<k {
                            let distance = squaredDistance(x + i * d, c + centre * d, d)
                            if distance < best { best = distance; assignment[i] = centre }
                        }
                    }
                    for i in sums.indices { sums[i] = 0 }
                    for i in sizes.indices { sizes[i] = 0 }
                    for i in 0..<count {
                        let centre = assignment[i]
                        sizes[centre] += 1
                        for j in 0..<d { sums[centre * d + j] += Double(x[i * d + j]) }
                    }
                    for centre in 0..<k where sizes[centre] > 0 {
                        for j in 0..<d { c[centre * d + j] = Float(sums[centre * d + j] / Double(sizes[centre])) }
                    }
                }
            }
        }
        return assignment
    }

    /// The Gaussians of the clusters with at least `minimumSize` members: (means, whiteners, count).
    static func fit(_ vectors: [Float], count: Int, dimension d: Int, components k: Int, seed: UInt64,
                    minimumSize: Int = 20) throws -> (means: [Float], whiteners: [Float], components: Int) {
        guard count >= k * 2 else { throw DetectionError.anomaly("\(count) samples are too few for \(k) mixture components") }
        let assignment = cluster(vectors, count: count, dimension: d, k: k, seed: seed)
        var sizes = [Int](repeating: 0, count: k)
        for a in assignment { sizes[a] += 1 }
        let kept = (0..<k).filter { sizes[$0] >= minimumSize }
        guard !kept.isEmpty else { throw DetectionError.anomaly("no mixture component has \(minimumSize) samples") }
        let index = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        var fitter = PaDiMFitter(cells: kept.count, dimension: d)
        vectors.withUnsafeBufferPointer { x in
            for i in 0..<count {
                if let component = index[assignment[i]] { fitter.add(x.baseAddress! + i * d, toCell: component) }
            }
        }
        let (means, whiteners) = try fitter.finish()
        return (means, whiteners, kept.count)
    }
}
