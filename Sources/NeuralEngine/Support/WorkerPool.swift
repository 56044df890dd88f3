// WorkerPool: the session's own threads for data-parallel kernels. A run makes a few hundred
// parallel calls (one per convolution, copy or elementwise op), each tens of microseconds to a
// few milliseconds long, so what a call costs to start and to join matters: a pool of
// `threads - 1` threads that live as long as the session, that spin briefly on a generation
// counter between calls and sleep on a condition variable when idle, with the caller as
// worker 0. (DispatchQueue.concurrentPerform wakes pooled threads through the kernel on every
// call.) Calls are not nested and come from one thread at a time (the session's lock); a call
// that arrives while another runs, or from inside a worker, runs inline.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels
import Synchronization

final class WorkerPool: @unchecked Sendable {
    /// Threads a call can use, the caller included.
    let threads: Int
    private let state: PoolState
    private var handles: [pthread_t] = []

    /// A pool of one thread, the caller: every call runs inline.
    static let serial = WorkerPool(threads: 1)

    init(threads: Int) {
        self.threads = Swift.max(1, threads)
        state = PoolState()
        for _ in 1..<self.threads {
            // Numbered by the threads that started, so the indices stay 1...workerCount.
            let start = Unmanaged.passRetained(WorkerStart(state: state, index: handles.count + 1)).toOpaque()
            var handle = pthread_t()
            // A thread that cannot start only makes calls slower: the caller runs its share.
            if pthread_create(&handle, nil, workerMain, start) == 0 {
                handles.append(handle)
            } else {
                Unmanaged<WorkerStart>.fromOpaque(start).release()
            }
        }
        state.workerCount = handles.count
    }

    deinit {
        state.stopping.store(true, ordering: .sequentiallyConsistent)
        state.generation.add(1, ordering: .sequentiallyConsistent)
        state.wakeSleepers()
        for handle in handles { pthread_join(handle, nil) }
    }

    /// Calls body(w) for every w in 0..<workers, concurrently on up to `threads` threads (the
    /// caller runs 0 and any beyond the pool's threads); returns when all have returned.
    func run(_ workers: Int, _ body: (Int) -> Void) {
        let n = Swift.min(workers, state.workerCount + 1)
        guard n > 1, state.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for w in 0..<Swift.max(workers, 0) { body(w) }
            return
        }
        defer { state.busy.store(false, ordering: .releasing) }
        // The workers only run `body` between the generation bump below and `pending`
        // reaching zero, which this call waits for, so the non-escaping closure outlives them.
        withoutActuallyEscaping(body) { escapable in
            state.job = escapable
            state.active = n
            state.pending.store(state.workerCount, ordering: .relaxed)
            state.generation.add(1, ordering: .sequentiallyConsistent)
            state.wakeSleepers()
            escapable(0)
            for w in n..<Swift.max(workers, n) { escapable(w) }
            // Every worker counts `pending` down, those beyond n without running the call, so
            // none can still be reading `job` or `active` when the next call sets them.
            var spin = 0
            while state.pending.load(ordering: .acquiring) > 0 { PoolState.pause(&spin) }
            state.job = nil
        }
    }

    /// Calls body(range) for disjoint sub-ranges covering 0..<count, at most one per thread,
    /// each at least `minChunk` long (inline when only one is worth it).
    func forEachChunk(count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = Swift.min(threads, count / Swift.max(minChunk, 1))
        if workers <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        run(workers) { w in
            let lo = count * w / workers, hi = count * (w + 1) / workers
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// What the pool's threads share.
private final class PoolState: @unchecked Sendable {
    /// Bumped once per call (and at shutdown); each worker runs each generation once.
    let generation = Atomic<Int>(0)
    /// Workers that have not finished the current call (all take part, some without work).
    let pending = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    let sleepers = Atomic<Int>(0)
    /// Set before the generation is bumped, read after it is seen (the atomics order them).
    var job: ((Int) -> Void)?
    var active = 0
    var workerCount = 0
    /// Allocated, not stored properties: pthreads needs them at a fixed address.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes the workers that went to sleep; a no-op while they spin.
    func wakeSleepers() {
        guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits for a generation after `last`: spinning first (the next call of a run is usually
    /// microseconds away), then asleep.
    func awaitGeneration(after last: Int) -> Int {
        var spin = 0
        while spin < PoolState.spinLimit {
            let g = generation.load(ordering: .acquiring)
            if g != last { return g }
            PoolState.pause(&spin)
        }
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var g = generation.load(ordering: .sequentiallyConsistent)
        while g == last {
            pthread_cond_wait(condition, mutex)
            g = generation.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return g
    }

    /// About a millisecond of spinning on current x86 cores before a worker sleeps.
    static let spinLimit = 20_000

    /// One step of a spin-wait: a CPU hint, and every 1024th step the rest of the time slice to
    /// any thread that waits for this core (with more threads than cores, the one being
    /// waited for may be among them). Yielding every 64th step made YOLOv8n 50% slower at two
    /// threads on a 2-core VM: a yield there costs more than the wait it shortens.
    @inline(__always)
    static func pause(_ spin: inout Int) {
        spin += 1
        if spin & 1023 == 0 { sched_yield() } else { ck_cpu_relax() }
    }
}

private final class WorkerStart {
    let state: PoolState
    let index: Int
    init(state: PoolState, index: Int) { self.state = state; self.index = index }
}

private func workerMain(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue()
    let state = start.state, index = start.index
    // Generations count from 0 at the pool's start: a thread that starts late still takes
    // every call made since (a call waits for all workers), and the shutdown.
    var last = 0
    while true {
        last = state.awaitGeneration(after: last)
        if state.stopping.load(ordering: .acquiring) { return nil }
        if index < state.active, let job = state.job { job(index) }
        state.pending.subtract(1, ordering: .releasing)
    }
}
