// Fitting PaDiM: per grid cell, the running sum and sum of outer products of the normal
// boards' embeddings (in Double), then mean, covariance + 0.01 I, and its Cholesky factor's
// inverse. Streaming: one embedding at a time, memory cells x d x d doubles (40 MB for
// 1,200 cells x 64 channels).

import Detection
import Foundation

/// Accumulates normal embeddings and produces the per-cell Gaussians.
public struct PaDiMFitter: Sendable {
    public let cells: Int
    public let dimension: Int
    /// Added to the covariance diagonal (PaDiM's regulariser).
    public var epsilon = 0.01
    private var sums: [Double]
    /// Lower triangle of each cell's sum of outer products, row-major d x d.
    private var products: [Double]
    /// Boards added whole (`add(_:)`).
    public private(set) var count = 0
    /// Vectors added per cell.
    private var samples: [Int]

    public init(cells: Int, dimension: Int) {
        self.cells = cells
        self.dimension = dimension
        samples = [Int](repeating: 0, count: cells)
        sums = [Double](repeating: 0, count: cells * dimension)
        products = [Double](repeating: 0, count: cells * dimension * dimension)
    }

    /// Adds one board's embedding (`cells x d`, cell-major).
    public mutating func add(_ embedding: [Float]) {
        precondition(embedding.count == cells * dimension, "embedding size \(embedding.count) != \(cells) x \(dimension)")
        embedding.withUnsafeBufferPointer { e in
            for cell in 0..<cells { add(e.baseAddress! + cell * dimension, toCell: cell) }
        }
        count += 1
    }

    /// Adds one d-vector to one cell's (or mixture component's) statistics.
    public mutating func add(_ vector: UnsafePointer<Float>, toCell cell: Int) {
        let d = dimension
        sums.withUnsafeMutableBufferPointer { sum in
            products.withUnsafeMutableBufferPointer { product in
                let s = sum.baseAddress! + cell * d, p = product.baseAddress! + cell * d * d
                for i in 0..<d {
                    let xi = Double(vector[i]), row = p + i * d
                    s[i] += xi
                    for j in 0...i { row[j] += xi * Double(vector[j]) }
                }
            }
        }
        samples[cell] += 1
    }

    /// Means and whiteners (L^-1 of each cell's regularised covariance, as Float). A cell with
    /// fewer than `minimumSamples` vectors (registered boards whose edge it lies on) gets a zero
    /// mean and a zero whitener: it is never scored.
    public func finish(minimumSamples: Int = 2) throws -> (means: [Float], whiteners: [Float]) {
        let needed = max(2, minimumSamples)
        guard samples.contains(where: { $0 >= needed }) else {
            throw DetectionError.anomaly("PaDiM needs at least \(needed) normal samples per cell, got \(samples.max() ?? 0)")
        }
        let d = dimension
        var means = [Float](repeating: 0, count: cells * d)
        var whiteners = [Float](repeating: 0, count: cells * d * d)
        var mean = [Double](repeating: 0, count: d)
        var sigma = [Double](repeating: 0, count: d * d)
        for cell in 0..<cells where samples[cell] >= needed {
            let n = Double(samples[cell])
            for i in 0..<d { mean[i] = sums[cell * d + i] / n; means[cell * d + i] = Float(mean[i]) }
            for i in 0..<d {
                for j in 0...i {
                    let value = (products[cell * d * d + i * d + j] - n * mean[i] * mean[j]) / (n - 1)
                    sigma[i * d + j] = value
                    sigma[j * d + i] = value
                }
                sigma[i * d + i] += epsilon
            }
            let inverse = try Self.inverseCholesky(sigma, d)
            for k in 0..<(d * d) { whiteners[cell * d * d + k] = Float(inverse[k]) }
        }
        return (means, whiteners)
    }

    /// L^-1 for a symmetric positive definite `a` (d x d) = L L^T; lower triangular.
    static func inverseCholesky(_ a: [Double], _ d: Int) throws -> [Double] {
        var l = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0...i {
                var s = a[i * d + j]
                for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
                if i == j {
                    guard s > 0 else { throw DetectionError.anomaly("covariance is not positive definite (raise the regulariser)") }
                    l[i * d + i] = s.squareRoot()
                } else {
                    l[i * d + j] = s / l[j * d + j]
                }
            }
        }
        // Forward substitution, column by column: L X = I.
        var inverse = [Double](repeating: 0, count: d * d)
        for column in 0..<d {
            for i in column..<d {
                var s = i == column ? 1.0 : 0.0
                for k in column..<i { s -= l[i * d + k] * inverse[k * d + column] }
                inverse[i * d + column] = s / l[i * d + i]
            }
        }
        return inverse
    }
}
