// The kernel set chosen for given CPU features (forced flags, no CPU needed), and what
// PCB_KERNELS may ask for.

import Testing
@testable import NeuralEngine

@Suite struct KernelDispatchTests {
    let zen5: CPUFeatures = [.sse42, .avx, .avx2, .fma, .f16c, .bmi2, .avx512f, .avx512dq, .avx512bw, .avx512vl, .avx512vnni, .avx512bf16]
    let haswell: CPUFeatures = [.sse42, .avx, .avx2, .fma, .f16c, .bmi2]

    @Test func autoTakesTheFastestSetTheCPURuns() throws {
        #if arch(x86_64)
        #expect(try KernelSet.choose(features: zen5, requested: nil) == .avx512)
        #expect(try KernelSet.choose(features: zen5, requested: "auto") == .avx512)
        #else
        #expect(try KernelSet.choose(features: zen5, requested: nil) == .portable)
        #endif
        #if arch(x86_64)
        #expect(try KernelSet.choose(features: haswell, requested: nil) == .avx2)
        #else
        #expect(try KernelSet.choose(features: haswell, requested: nil) == .portable)
        #endif
        #expect(try KernelSet.choose(features: [.neon], requested: "auto") == .portable)
        // AVX-512F or AVX2 without FMA reported (a hypervisor hiding it) is not enough.
        #expect(try KernelSet.choose(features: [.avx512f, .avx2], requested: nil) == .portable)
    }

    @Test func autoAmongCandidatesTakesTheFastestOfThem() throws {
        #if arch(x86_64)
        #expect(try Precision.choose(features: zen5, requested: "auto", autoAmong: [.fp32, .bf16]) == .bf16)
        #endif
        #expect(try Precision.choose(features: zen5, requested: "auto", autoAmong: [.fp32]) == .fp32)
        // The baseline is always a candidate, and explicit requests ignore the candidates.
        #expect(try Precision.choose(features: zen5, requested: nil, autoAmong: []) == .fp32)
        #expect(try Precision.choose(features: haswell, requested: "auto", autoAmong: [.bf16]) == .fp32)
        #if arch(x86_64)
        #expect(try Precision.choose(features: zen5, requested: "bf16", autoAmong: [.fp32]) == .bf16)
        #endif
    }

    @Test func aForcedSetIsFollowedOrRefusedWithTheReason() throws {
        #expect(try KernelSet.choose(features: zen5, requested: "portable") == .portable)
        #if arch(x86_64)
        #expect(try KernelSet.choose(features: zen5, requested: "avx2") == .avx2)
        #endif
        #expect(try KernelSet.choose(features: zen5, requested: "PORTABLE") == .portable)
        #expect(throws: EngineError.self) { try KernelSet.choose(features: haswell, requested: "avx512") }
        do {
            _ = try KernelSet.choose(features: haswell, requested: "avx512")
        } catch {
            #expect(error.description.contains("kernel set 'avx512' needs") && error.description.contains("avx512f"), "\(error)")
        }
        do {
            _ = try KernelSet.choose(features: zen5, requested: "sse9")
            Issue.record("an unknown set was accepted")
        } catch {
            #expect(error.description.contains("unknown kernel set 'sse9'"))
        }
    }

    @Test func theHostHasTheBaselineThisBuildAssumes() {
        #if arch(x86_64)
        // The numeric modules of a release build assume x86-64-v3.
        #expect(CPUFeatures.host.isSuperset(of: [.avx2, .fma]), "host: \(CPUFeatures.host)")
        #endif
        #expect(KernelSet.active.runs(on: .host))
    }
}
