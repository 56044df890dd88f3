// WorkerPool: every worker index of a call runs exactly once, ranges are covered exactly,
// nested and repeated calls neither hang nor lose work, workers that fell asleep wake, and
// pools start and stop cleanly. Then the kernels that share their work through the pool give
// the same values on three threads as on one, at sizes large enough to be split.

import Foundation
import SeededRandom
import Testing
@testable import NeuralEngine

@Suite struct WorkerPoolTests {
    @Test func everyWorkerOfACallRunsOnce() {
        let pool = WorkerPool(threads: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { counts.deallocate() }
        for call in 0..<2_000 {
            let workers = 1 + call % 4  // 4 is more than the pool has: the caller runs the rest
            counts.initialize(repeating: 0, count: 4)
            pool.run(workers) { w in counts[w] += 1 }
            #expect((0..<4).map { counts[$0] } == (0..<4).map { $0 < workers ? 1 : 0 }, "call \(call)")
        }
    }

    @Test func chunksCoverTheRangeExactly() {
        let pool = WorkerPool(threads: 2)
        for count in [0, 1, 2, 3, 7, 100, 65_537] {
            for minChunk in [1, 5, 1_000] {
                let hits = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(count, 1))
                hits.initialize(repeating: 0, count: Swift.max(count, 1))
                pool.forEachChunk(count: count, minChunk: minChunk) { range in
                    for i in range { hits[i] += 1 }
                }
                #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count) minChunk \(minChunk)")
                hits.deallocate()
            }
        }
    }

    @Test func aNestedCallRunsInline() {
        let pool = WorkerPool(threads: 2)
        let inner = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { inner.deallocate() }
        inner.initialize(repeating: 0, count: 4)
        pool.run(2) { outer in
            pool.run(2) { w in inner[outer * 2 + w] += 1 }
        }
        #expect((0..<4).map { inner[$0] } == [1, 1, 1, 1])
    }

    @Test func sleepingWorkersWakeForTheNextCall() {
        let pool = WorkerPool(threads: 2)
        let ran = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { ran.deallocate() }
        for _ in 0..<3 {
            ran.initialize(repeating: 0, count: 2)
            pool.run(2) { w in ran[w] = 1 }
            #expect(ran[0] == 1 && ran[1] == 1)
            // Longer than the spin limit, so the worker is asleep on the condition variable.
            usleep(30_000)
        }
    }

    @Test func poolsStartAndStop() {
        for round in 0..<50 {
            let pool = WorkerPool(threads: 1 + round % 4)
            let sum = UnsafeMutablePointer<Int>.allocate(capacity: 4)
            sum.initialize(repeating: 0, count: 4)
            pool.run(pool.threads) { w in sum[w] = w + 1 }
            #expect((0..<pool.threads).reduce(0) { $0 + sum[$1] } == pool.threads * (pool.threads + 1) / 2)
            sum.deallocate()
        }
    }

    @Test func callsFromManyThreadsInTurnStayCorrect() async {
        // Sessions serialise runs with a lock; calls from different threads, one at a time,
        // must see the workers as a single caller would.
        let pool = WorkerPool(threads: 2)
        let lock = NSLock()
        await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ok = true
                    for _ in 0..<200 {
                        let total = lock.withLock {
                            let parts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
                            defer { parts.deallocate() }
                            pool.forEachChunk(count: 1_000 + task) { range in parts[range.lowerBound == 0 ? 0 : 1] = range.count }
                            return parts[0] + parts[1]
                        }
                        ok = ok && total == 1_000 + task
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
    }

    @Test func concurrentCallersWithoutALockEachGetEveryIndex() {
        // The second caller finds the pool busy and runs its call inline.
        let pool = WorkerPool(threads: 2)
        // Each caller writes only its own slot.
        nonisolated(unsafe) let failures = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { failures.deallocate() }
        failures.initialize(repeating: 0, count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            defer { counts.deallocate() }
            for call in 0..<1_000 {
                let workers = 2 + call % 2
                counts.initialize(repeating: 0, count: 3)
                pool.run(workers) { w in counts[w] += 1 }
                if (0..<3).map({ counts[$0] }) != (0..<3).map({ $0 < workers ? 1 : 0 }) { failures[caller] += 1 }
            }
        }
        #expect(failures[0] == 0 && failures[1] == 0)
    }

    // MARK: - Kernels split by the pool: three threads against one

    let one = ExecutionContext(threads: 1)
    let three = ExecutionContext(threads: 3)

    @Test func concatAndSplitMatchOneThread() throws {
        var rng = SplitMix64(seed: 0xC0C4)
        let parts = [Tensor(shape: [2, 3, 100, 70], floats: rng.floats(42_000)),
                     Tensor(shape: [2, 5, 100, 70], floats: rng.floats(70_000)),
                     Tensor(shape: [2, 1, 100, 70], floats: rng.floats(14_000))]
        let joined = try ConcatKernel.concatFloats(parts, axis: 1, context: three)
        #expect(joined == (try ConcatKernel.concatFloats(parts, axis: 1, context: one)))
        #expect(joined == (try ConcatKernel.concat(parts, axis: 1, as: Float.self)))
        let split = SplitKernel.splitFloats(joined, shape: [2, 9, 100, 70], axis: 1, sizes: [3, 5, 1], context: three)
        #expect(split.map(\.floats) == parts.map(\.floats))
    }

    @Test func transposeMatchesADirectIndexMap() {
        var rng = SplitMix64(seed: 0x7A5)
        let shape = [1, 4, 16, 1_200]
        let x = rng.floats(shape.reduce(1, *))
        let inStrides = [4 * 16 * 1_200, 16 * 1_200, 1_200, 1]
        for perm in [[0, 2, 1, 3], [0, 1, 3, 2], [3, 2, 1, 0], [0, 3, 1, 2]] {
            // y[i] = x[sum_d index_d(i) * inStride[perm[d]]], index_d(i) the output's digits of i.
            let outShape = perm.map { shape[$0] }
            let expected = (0..<x.count).map { i -> Float in
                var rest = i, offset = 0
                for d in (0..<4).reversed() {
                    offset += (rest % outShape[d]) * inStrides[perm[d]]
                    rest /= outShape[d]
                }
                return x[offset]
            }
            #expect(TransposeKernel.transposeFloats(x, shape, perm, context: three) == expected, "perm \(perm)")
            #expect(TransposeKernel.transpose(x, shape, perm) == expected, "perm \(perm), generic")
        }
    }

    @Test func softmaxResizeMaxPoolAndAddMatchOneThread() throws {
        var rng = SplitMix64(seed: 0x50F7)
        let x = rng.floats(16 * 4 * 2_100)
        for (outer, len, inner) in [(1, 16, 8_400), (8_400, 16, 1), (4, 16, 2_100)] {
            #expect(SoftmaxKernel.compute(x, outer: outer, len: len, inner: inner, log: false, pool: three.pool)
                        == SoftmaxKernel.compute(x, outer: outer, len: len, inner: inner, log: false), "\(outer)x\(len)x\(inner)")
        }
        let planes = rng.floats(32 * 40 * 40)
        let taps = (0..<80).map { ResizeKernel.Tap(i0: $0 / 2, i1: Swift.min($0 / 2 + 1, 39), w1: $0 % 2 == 0 ? 0 : 0.5) }
        for axis in [2, 3] {
            #expect(ResizeKernel.resample(planes, shape: [1, 32, 40, 40], axis: axis, outLen: 80, taps: taps, pool: three.pool)
                        == ResizeKernel.resample(planes, shape: [1, 32, 40, 40], axis: axis, outLen: 80, taps: taps), "axis \(axis)")
        }
        let p = Conv2DParams(batch: 1, inChannels: 32, inH: 40, inW: 40, outChannels: 32, kernelH: 5, kernelW: 5, group: 1,
                             strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 2, padLeft: 2, outH: 40, outW: 40)
        #expect(MaxPoolSeparable.compute(planes, p, pool: three.pool) == MaxPoolKernel.reference(planes, p))
        let a = Tensor(shape: [1, 64, 80, 80], floats: rng.floats(409_600))
        let b = Tensor(shape: [1, 64, 80, 80], floats: rng.floats(409_600))
        for op in [BinaryArithmeticKernel.Operation.add, .sub, .mul, .div] {
            let kernel = BinaryArithmeticKernel(op: op, opType: "\(op)")
            let sum = try kernel.run([a, b], context: three)[0].floats
            #expect(sum == (try BinaryArithmeticKernel.compute(op, a, b).floats), "\(op)")
        }
    }
}
