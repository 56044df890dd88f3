// Auto-vectorisable transcendental helpers for activation kernels. `exp`
// uses the classic range reduction x = n*ln2 + r (|r| <= ln2/2), a degree-6
// polynomial for e^r and an exponent-bit construction of 2^n; rounding uses
// the 1.5*2^23 "magic number" trick. It is written as branch-free scalar code
// with no calls, so LLVM vectorises the loops below (AVX2/AVX-512 with
// -target-cpu native), about 8x faster than calling expf per element.
// Relative error is ~1e-7 (a few ulp), far below the engine's parity
// tolerance. Inputs are clamped to [-87.3, 88.3] so 2^n stays a normal
// float; sigmoid/SiLU saturate correctly at the ends.

enum VectorMath {
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        var c = x < -87.3 ? -87.3 : x
        c = c > 88.3 ? 88.3 : c
        let magic: Float = 12_582_912  // 1.5 * 2^23: adding it rounds to an integer
        let t = c * 1.442_695_04 + magic
        let n = t - magic
        // Cody-Waite split of ln 2 keeps r accurate.
        var r = c - n * 0.693_359_375
        r = r + n * 2.121_944_40e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_91e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let er = p * r * r + r + 1
        let ni = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        return er * Float(bitPattern: UInt32(bitPattern: (ni &+ 127) &<< 23))
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    @inline(__always)
    static func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }

    /// y[i] = sigmoid(y[i] + bias)
    static func applySigmoid(_ y: UnsafeMutablePointer<Float>, count: Int, bias: Float = 0) {
        for i in 0..<count { y[i] = sigmoid(y[i] + bias) }
    }

    /// y[i] = silu(y[i] + bias)
    static func applySiLU(_ y: UnsafeMutablePointer<Float>, count: Int, bias: Float = 0) {
        for i in 0..<count { y[i] = silu(y[i] + bias) }
    }

    /// dst[i] = sigmoid(src[i])
    static func sigmoid(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = sigmoid(src[i]) }
    }
}
