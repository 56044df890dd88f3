// Keeps the memory a run frees in glibc's heap, so the next run reuses it without page faults.
//
// Every operator output is a fresh allocation, freed soon after its last reader (Executor's
// liveness). By default glibc serves blocks above its mmap threshold with mmap, gives a heap top
// above its trim threshold back to the system, and unmaps a secondary arena's heaps (an
// inference thread is never the main thread) once they empty; both thresholds start low and
// rise only with the blocks freed. So each run faulted its large activations in again, each page
// zeroed by the kernel first: YOLOv8s at 640 (whose 45 MB model file, read at load, is too large
// to raise the threshold) took 1,600 page faults a run in fp32 and 6,900 in int8, and at two
// threads the workers fault on the same output at once and contend for the page tables. With
// the thresholds raised there are none after the first run, and YOLOv8s in int8 at two threads
// went from 55 to 45.5 ms a run (docs/PERFORMANCE.md, "Page faults").
//
// The setting is process-wide (mallopt), made once, by the first session that asks; only
// glibc has it (looked up at run time, so other C libraries keep their defaults).

#if canImport(Glibc)
import Glibc
#endif

public enum HeapRetention {
    /// Blocks up to this size come from the heap rather than from mmap (glibc's largest
    /// allowed value on 64-bit; YOLOv8s's largest activation is 13 MB).
    static let mmapThreshold: Int32 = 32 << 20
    /// The heap keeps up to this much free memory at its top before returning pages: twice
    /// what YOLOv8s at 640 needs (its faults vanish from 32 MB; at 16 MB it still took 4,200 a
    /// run). glibc's own dynamic thresholds reach 32 and 64 MB once a 32 MB block is freed, so
    /// the server's other threads get what glibc would give them after warm-up anyway.
    static let trimThreshold: Int32 = 64 << 20

    /// Raises glibc's mmap and trim thresholds, once per process; false where there is no
    /// glibc `mallopt` or it refused a value.
    @discardableResult
    public static func activate() -> Bool { applied }

    private static let applied: Bool = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        // M_TRIM_THRESHOLD and M_MMAP_THRESHOLD from <malloc.h>; mallopt returns 1 on success.
        let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3
        return mallopt(mMmapThreshold, mmapThreshold) == 1 && mallopt(mTrimThreshold, trimThreshold) == 1
        #else
        return false
        #endif
    }()
}
