// The memory plan: buffers packed by lifetime, runs on a plan identical to the run that
// recorded it, one plan per input shape, and no new activation buffers after warm-up.

import Foundation
import Testing
@testable import NeuralEngine

@Suite struct MemoryPlanTests {
    /// A recording of a chain: node i writes `counts[i]` floats into slot i + 1 and its input
    /// slot i is released after it.
    func chain(_ counts: [Int]) -> (MemoryPlanRecording, [[Int]]) {
        var recording = MemoryPlanRecording()
        for (node, count) in counts.enumerated() {
            recording.allocated[NodeOutput(node: node, index: 0)] = count
            recording.produced(node: node, outputs: [(0, node + 1, 1000 + node)])
        }
        // Slot 0 is the graph input (not planned); slot i + 1 is released after node i + 1.
        var release = counts.indices.map { node in node == 0 ? [] : [node] }
        release[counts.count - 1].append(counts.count)
        return (recording, release)
    }

    @Test func chainNeedsTwoBuffersSizedByTheLargestValues() {
        // Each value lives from its node to the next: two buffers alternate.
        let (recording, release) = chain([100, 400, 100, 300, 50])
        let plan = MemoryPlan(recording: recording, releaseAfter: release, pinned: [])
        #expect(plan.capacities.count == 2)
        #expect(plan.unplannedElements == 950)
        #expect(plan.arenaElements <= 700, "capacities \(plan.capacities)")
        // Neighbours never share a buffer.
        for node in 1..<5 {
            #expect(plan.outputs[NodeOutput(node: node, index: 0)]?.buffer != plan.outputs[NodeOutput(node: node - 1, index: 0)]?.buffer)
        }
    }

    @Test func graphOutputsAndTheirAliasesAreNeverPlanned() {
        var recording = MemoryPlanRecording()
        recording.allocated[NodeOutput(node: 0, index: 0)] = 10
        recording.produced(node: 0, outputs: [(0, 1, 7)])
        // Node 1 reshapes slot 1 into slot 2 (same storage), which is a graph output.
        recording.produced(node: 1, outputs: [(0, 2, 7)])
        let plan = MemoryPlan(recording: recording, releaseAfter: [[], [1]], pinned: [2])
        #expect(plan.outputs.isEmpty)
        #expect(plan.capacities.isEmpty)
    }

    @Test func aliasesKeepTheirBufferUntilTheLastIsReleased() {
        var recording = MemoryPlanRecording()
        recording.allocated[NodeOutput(node: 0, index: 0)] = 10
        recording.produced(node: 0, outputs: [(0, 1, 7)])
        recording.produced(node: 1, outputs: [(0, 2, 7)])        // alias of slot 1
        recording.allocated[NodeOutput(node: 2, index: 0)] = 10
        recording.produced(node: 2, outputs: [(0, 3, 8)])
        recording.allocated[NodeOutput(node: 3, index: 0)] = 10
        recording.produced(node: 3, outputs: [(0, 4, 9)])
        // Slot 1 dies after node 1, its alias slot 2 only after node 3.
        let plan = MemoryPlan(recording: recording, releaseAfter: [[], [1], [], [2, 3], [4]], pinned: [])
        let first = plan.outputs[NodeOutput(node: 0, index: 0)]?.buffer
        #expect(first != nil)
        #expect(plan.outputs[NodeOutput(node: 2, index: 0)]?.buffer != first)
        #expect(plan.outputs[NodeOutput(node: 3, index: 0)]?.buffer != first)
        #expect(plan.returningSlots[2] == first, "the buffer comes back with the last alias")
        #expect(plan.returningSlots[1] == nil)
    }

    static let fixtures: [String] = FixtureManifest.shared?.models.map(\.file) ?? []

    @Test(arguments: fixtures)
    func plannedRunsEqualTheRecordingRunAndReuseTheirBuffers(file: String) throws {
        let session = try InferenceSession(path: FixtureManifest.path(file), options: SessionOptions(threads: 2, graphOptimizations: true, memoryPlanning: true))
        let input = session.inputs[0]
        let shape = input.shape.enumerated().map { axis, dim -> Int in
            if case .fixed(let n) = dim { return n }
            return axis == 0 ? 1 : 64
        }
        var generator = SystemRandomNumberGenerator()
        let x = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: 0...1, using: &generator) })

        let first = try session.run([input.name: x])
        let summary = try #require(session.memoryPlanSummary)
        #expect(summary.buffers > 0)
        #expect(summary.arenaBytes < summary.unplannedBytes / 2, "plan \(summary)")
        let second = try session.run([input.name: x])
        let addresses = try #require(session.executor.currentArena).bufferAddresses
        let third = try session.run([input.name: x])
        for (name, tensor) in first {
            #expect(second[name]?.floats == tensor.floats, "\(file) \(name): planned run differs from the recording run")
            #expect(third[name]?.floats == tensor.floats, "\(file) \(name): third run differs")
        }
        // Steady state: the same buffers, run after run.
        #expect(try #require(session.executor.currentArena).bufferAddresses == addresses)
        #expect(addresses.allSatisfy { $0 != 0 })
        print("memory plan \(file): \(summary.buffers) buffers, \(summary.arenaBytes / 1024) KiB instead of \(summary.unplannedBytes / 1024) KiB")
    }

    @Test func capturedValuesSurviveLaterPlannedRuns() throws {
        let file = try #require(FixtureManifest.shared?.models.first { $0.dynamic }?.file)
        let session = try InferenceSession(path: FixtureManifest.path(file), options: SessionOptions(threads: 1, graphOptimizations: true, memoryPlanning: true))
        let name = session.inputs[0].name
        let layers: Set<String> = ["/model.2/cv2/act/Mul_output_0", "/model.4/cv2/act/Mul_output_0"]
        func input(_ seed: Int) -> Tensor {
            Tensor(shape: [1, 3, 64, 64], floats: (0..<(3 * 64 * 64)).map { Float(($0 * 31 + seed) % 101) / 101 })
        }
        let first = try session.run([name: input(1)], capturing: layers).captured
        #expect(first.count == 2)
        let kept = first.mapValues(\.floats)
        // Later runs (planned, other inputs) never write into what the caller holds.
        for seed in 2...4 { _ = try session.run([name: input(seed)], capturing: layers) }
        for (key, values) in kept { #expect(first[key]?.floats == values, "\(key) changed under the caller") }
        let again = try session.run([name: input(1)], capturing: layers).captured
        for (key, values) in kept { #expect(again[key]?.floats == values) }
    }

    @Test func eachInputShapeHasItsOwnPlan() throws {
        let file = try #require(FixtureManifest.shared?.models.first { $0.dynamic }?.file)
        let session = try InferenceSession(path: FixtureManifest.path(file), options: SessionOptions(threads: 1, graphOptimizations: true, memoryPlanning: true))
        let name = session.inputs[0].name
        func input(_ h: Int, _ w: Int) -> Tensor {
            Tensor(shape: [1, 3, h, w], floats: (0..<(3 * h * w)).map { Float($0 % 97) / 97 })
        }
        let a = try session.run([name: input(64, 64)]), b = try session.run([name: input(64, 96)])
        // Alternating shapes run on their own plans and give the same answers.
        for _ in 0..<2 {
            for (key, value) in try session.run([name: input(64, 64)]) { #expect(a[key]?.floats == value.floats) }
            for (key, value) in try session.run([name: input(64, 96)]) { #expect(b[key]?.floats == value.floats) }
        }
        #expect(session.executor.planCount == 2)
    }
}
