// Which kernels run on this CPU. The release build assumes a baseline (x86-64-v3: AVX2 and FMA;
// arm64: NEON), so one binary runs on any such machine; kernels written for one instruction set
// live in CKernels, compiled per function for it, and are chosen here at run time from CPUID,
// the way ggml and ncnn do it (the first set in the table the CPU runs). `PCB_KERNELS` (or `SessionOptions.kernels`) forces
// a set: the parity tests run every set the CPU can execute.
//
//   set        needs           micro-kernel of the packed convolution
//   avx512     AVX-512F, FMA   CKernels/ConvTileAVX512.c (8 x 48 pixels, 24 zmm accumulators)
//   avx2       AVX2, FMA       CKernels/ConvTileAVX2.c (sub-tiles of 4 x 24 pixels, 12 ymm accumulators)
//   portable   the baseline    ConvPacked.kernel8x48 (Swift SIMD16), the reference of both

import CKernels

/// CPU features found by CPUID and enabled by the OS.
public struct CPUFeatures: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse42 = CPUFeatures(rawValue: UInt32(CK_CPU_SSE42))
    public static let avx = CPUFeatures(rawValue: UInt32(CK_CPU_AVX))
    public static let avx2 = CPUFeatures(rawValue: UInt32(CK_CPU_AVX2))
    public static let fma = CPUFeatures(rawValue: UInt32(CK_CPU_FMA))
    public static let f16c = CPUFeatures(rawValue: UInt32(CK_CPU_F16C))
    public static let bmi2 = CPUFeatures(rawValue: UInt32(CK_CPU_BMI2))
    public static let avx512f = CPUFeatures(rawValue: UInt32(CK_CPU_AVX512F))
    public static let avx512dq = CPUFeatures(rawValue: UInt32(CK_CPU_AVX512DQ))
    public static let avx512bw = CPUFeatures(rawValue: UInt32(CK_CPU_AVX512BW))
    public static let avx512vl = CPUFeatures(rawValue: UInt32(CK_CPU_AVX512VL))
    public static let avx512vnni = CPUFeatures(rawValue: UInt32(CK_CPU_AVX512VNNI))
    public static let avx512bf16 = CPUFeatures(rawValue: UInt32(CK_CPU_AVX512BF16))
    public static let neon = CPUFeatures(rawValue: UInt32(CK_CPU_NEON))

    static let named: [(String, CPUFeatures)] = [
        ("sse4.2", .sse42), ("avx", .avx), ("avx2", .avx2), ("fma", .fma), ("f16c", .f16c), ("bmi2", .bmi2),
        ("avx512f", .avx512f), ("avx512dq", .avx512dq), ("avx512bw", .avx512bw), ("avx512vl", .avx512vl),
        ("avx512_vnni", .avx512vnni), ("avx512_bf16", .avx512bf16), ("neon", .neon),
    ]

    /// The features of the CPU this process runs on.
    public static let host = CPUFeatures(rawValue: ck_cpu_features())

    public var names: [String] { Self.named.filter { contains($0.1) }.map(\.0) }
    public var description: String { names.isEmpty ? "none" : names.joined(separator: " ") }
}

/// A set of kernels the engine can run.
public enum KernelSet: String, Sendable, CaseIterable, CustomStringConvertible {
    case avx512
    case avx2
    case portable

    /// What the set needs beyond the build's baseline.
    public var requires: CPUFeatures {
        switch self {
        case .avx512: [.avx512f, .fma]
        case .avx2: [.avx2, .fma]
        case .portable: []
        }
    }

    public var description: String { rawValue }

    /// Whether a CPU with `features` can run this set.
    public func runs(on features: CPUFeatures) -> Bool {
        #if arch(x86_64)
        return features.isSuperset(of: requires)
        #else
        return self == .portable
        #endif
    }

    /// The set to use: `requested` (`auto` or nil: the fastest the CPU runs), refused with the
    /// reason when the CPU cannot run it.
    public static func choose(features: CPUFeatures, requested: String?) throws(EngineError) -> KernelSet {
        let name = requested?.lowercased() ?? "auto"
        if name == "auto" || name.isEmpty {
            return allCases.first { $0.runs(on: features) } ?? .portable
        }
        guard let set = KernelSet(rawValue: name) else {
            throw .invalidArgument("unknown kernel set '\(name)': expected auto, \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard set.runs(on: features) else {
            throw .invalidArgument("kernel set '\(name)' needs \(set.requires) but this CPU has \(features)")
        }
        return set
    }

    /// The set chosen for this process: `PCB_KERNELS` if set, else the fastest this CPU runs.
    /// A forced set the CPU cannot run falls back to `auto` (and `requestRefusal` says why).
    public static let active: KernelSet = (try? choose(features: .host, requested: requested)) ?? (try! choose(features: .host, requested: nil))

    /// Why `PCB_KERNELS` was not followed, if it was not.
    public static var requestRefusal: String? {
        do { _ = try choose(features: .host, requested: requested); return nil } catch { return error.description }
    }

    public static var requested: String? {
        guard let value = getenv("PCB_KERNELS") else { return nil }
        return String(cString: value)
    }
}

/// The number format convolutions compute in.
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// fp32 weights, activations and sums: the model as exported.
    case fp32
    /// Weights and activations rounded to bf16 (8 bits of mantissa) for the packed convolutions'
    /// multiplies, sums in fp32 (AVX512_BF16 dot products); other operators stay fp32.
    case bf16

    public var description: String { rawValue }

    public var requires: CPUFeatures {
        switch self {
        case .fp32: []
        case .bf16: [.avx512f, .avx512bw, .avx512bf16]
        }
    }

    public func runs(on features: CPUFeatures) -> Bool {
        #if arch(x86_64)
        return features.isSuperset(of: requires)
        #else
        return self == .fp32
        #endif
    }

    /// `requested` (`auto`: the fastest this CPU runs), refused with the reason when the CPU lacks it.
    public static func choose(features: CPUFeatures, requested: String?) throws(EngineError) -> Precision {
        let name = requested?.lowercased() ?? "auto"
        if name == "auto" || name.isEmpty { return Precision.bf16.runs(on: features) ? .bf16 : .fp32 }
        guard let precision = Precision(rawValue: name) else {
            throw .invalidArgument("unknown precision '\(name)': expected auto, \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard precision.runs(on: features) else {
            throw .invalidArgument("precision '\(name)' needs \(precision.requires) but this CPU has \(features)")
        }
        return precision
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
