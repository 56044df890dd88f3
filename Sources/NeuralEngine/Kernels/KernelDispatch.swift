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

/// Something chosen per CPU: each case needs some features beyond the build's baseline, and the
/// cases are listed fastest first, so `auto` is the first one the CPU runs.
public protocol CPUDependentChoice: RawRepresentable<String>, CaseIterable, Sendable, Equatable where AllCases == [Self] {
    /// What this is called in messages ("kernel set", "precision").
    static var kind: String { get }
    /// What the case needs beyond the build's baseline (none for the baseline case).
    var requires: CPUFeatures { get }
}

extension CPUDependentChoice {
    /// Whether a CPU with `features` can run this case (off x86-64: only the baseline cases).
    public func runs(on features: CPUFeatures) -> Bool {
        #if arch(x86_64)
        return features.isSuperset(of: requires)
        #else
        return requires.isEmpty
        #endif
    }

    /// `requested` (`auto`, empty or nil: the fastest the CPU runs), refused with the reason when
    /// the name is unknown or the CPU cannot run it.
    public static func choose(features: CPUFeatures, requested: String?) throws(EngineError) -> Self {
        try choose(features: features, requested: requested, autoAmong: allCases)
    }

    /// The same, except that `auto` picks among `candidates` only (the baseline case is always
    /// one): the fastest of them the CPU runs.
    public static func choose(features: CPUFeatures, requested: String?, autoAmong candidates: [Self]) throws(EngineError) -> Self {
        let name = requested?.lowercased() ?? "auto"
        if name == "auto" || name.isEmpty {
            return allCases.first { candidates.contains($0) && $0.runs(on: features) } ?? allCases.first { $0.requires.isEmpty }!
        }
        guard let choice = Self(rawValue: name) else {
            throw .invalidArgument("unknown \(kind) '\(name)': expected auto, \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard choice.runs(on: features) else {
            throw .invalidArgument("\(kind) '\(name)' needs \(choice.requires) but this CPU has \(features)")
        }
        return choice
    }
}

/// A set of kernels the engine can run, fastest first.
public enum KernelSet: String, CPUDependentChoice, CustomStringConvertible {
    case avx512
    case avx2
    case portable

    public static let kind = "kernel set"

    /// What the set needs beyond the build's baseline.
    public var requires: CPUFeatures {
        switch self {
        case .avx512: [.avx512f, .fma]
        case .avx2: [.avx2, .fma]
        case .portable: []
        }
    }

    public var description: String { rawValue }

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

/// The number format convolutions compute in, fastest first.
public enum Precision: String, CPUDependentChoice, CustomStringConvertible {
    /// Weights as s8 per output channel and inputs as u8 with the scale and zero point a
    /// calibration chose for each convolution (`SessionOptions.int8Inputs`), int32 sums
    /// (AVX512_VNNI dot products); convolutions without a calibrated input run in fp32.
    case int8
    /// Weights and activations rounded to bf16 (8 bits of mantissa) for the packed convolutions'
    /// multiplies, sums in fp32 (AVX512_BF16 dot products); other operators stay fp32.
    case bf16
    /// fp32 weights, activations and sums: the model as exported.
    case fp32

    public static let kind = "precision"

    public var description: String { rawValue }

    public var requires: CPUFeatures {
        switch self {
        case .int8: [.avx512f, .avx512bw, .avx512vnni, .fma]
        case .bf16: [.avx512f, .avx512bw, .avx512bf16]
        case .fp32: []
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
