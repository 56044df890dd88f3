// The matrix-multiply library: OpenBLAS, loaded at run time with dlopen.
//
// OpenBLAS picks its CPU kernel once, when the library is loaded, and honours the
// OPENBLAS_CORETYPE environment variable. Some machines set that variable globally (this
// project's build machines set `Haswell`), which on a CPU with full-width AVX-512 costs much
// of the GEMM speed: 109 vs 180 GFLOP/s on a Zen 5 core for a YOLOv8n head convolution
// (tools/openblas_sgemm_bench.c). Linking
// OpenBLAS would load it before `main` can do anything about it, so the engine loads it
// itself, the first time a session is created, and lets OpenBLAS detect the CPU. To force a
// kernel, set `PCB_OPENBLAS_CORETYPE` (for example `Haswell`, `SkylakeX`, `Zen`).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Row-major single-precision GEMM and thread control from OpenBLAS.
enum BLAS {
    // CBLAS enum values (cblas.h) and the LP64 interface (blasint = int32).
    private static let rowMajor: Int32 = 101
    private static let noTrans: Int32 = 111
    private static let trans: Int32 = 112

    private typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias CoreName = @convention(c) () -> UnsafeMutablePointer<CChar>?

    private struct Library: @unchecked Sendable {
        let sgemm: SGEMM
        let setThreads: SetThreads
        let coreName: String
    }

    /// The loaded library, or why it could not be loaded.
    private static let library: Result<Library, EngineError> = load()

    private static func load() -> Result<Library, EngineError> {
        if let forced = ProcessInfo.processInfo.environment["PCB_OPENBLAS_CORETYPE"], !forced.isEmpty {
            setenv("OPENBLAS_CORETYPE", forced, 1)
        } else {
            unsetenv("OPENBLAS_CORETYPE")
        }
        let names = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            return .failure(.unsupportedFeature("OpenBLAS is not installed (tried \(names.joined(separator: ", "))); install it with `apt-get install libopenblas0` (scripts/install-deps.sh does)"))
        }
        guard let sgemm = dlsym(handle, "cblas_sgemm"), let threads = dlsym(handle, "openblas_set_num_threads") else {
            return .failure(.unsupportedFeature("the OpenBLAS library found lacks cblas_sgemm or openblas_set_num_threads"))
        }
        var core = "unknown"
        if let symbol = dlsym(handle, "openblas_get_corename"), let text = unsafeBitCast(symbol, to: CoreName.self)() {
            core = String(cString: text)
        }
        return .success(Library(sgemm: unsafeBitCast(sgemm, to: SGEMM.self), setThreads: unsafeBitCast(threads, to: SetThreads.self),
                                coreName: core))
    }

    /// Loads the library (once) or throws why it is missing.
    static func ensureLoaded() throws(EngineError) {
        if case .failure(let error) = library { throw error }
    }

    /// The OpenBLAS kernel in use, e.g. "Cooperlake".
    static var coreName: String {
        (try? library.get())?.coreName ?? "not loaded"
    }

    /// Threads OpenBLAS uses for one GEMM (process-wide).
    static func setThreads(_ count: Int) {
        (try? library.get())?.setThreads(Int32(clamping: max(1, count)))
    }

    /// C = alpha * op(A) * op(B) + beta * C, row-major. `ensureLoaded()` must have succeeded.
    // a: (m, k) or (k, m) if transA; b: (k, n) or (n, k) if transB; c: (m, n)
    static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard case .success(let blas) = library else { preconditionFailure("BLAS.sgemm called without a loaded OpenBLAS") }
        blas.sgemm(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans, Int32(m), Int32(n), Int32(k), alpha,
                   a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
