// Kernels written for one instruction set each (AVX-512, AVX2 with FMA on x86-64), compiled
// per function with target attributes and chosen at run time from CPUID
// (NeuralEngine/Kernels/KernelDispatch.swift). Each has a portable Swift twin that is its
// reference; the parity tests run both.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CPU features, as bits of `ck_cpu_features()`: present in CPUID and enabled by the OS (XGETBV).
enum {
    CK_CPU_SSE42 = 1u << 0,
    CK_CPU_AVX = 1u << 1,
    CK_CPU_AVX2 = 1u << 2,
    CK_CPU_FMA = 1u << 3,
    CK_CPU_F16C = 1u << 4,
    CK_CPU_BMI2 = 1u << 5,
    CK_CPU_AVX512F = 1u << 6,
    CK_CPU_AVX512DQ = 1u << 7,
    CK_CPU_AVX512BW = 1u << 8,
    CK_CPU_AVX512VL = 1u << 9,
    CK_CPU_AVX512VNNI = 1u << 10,
    CK_CPU_AVX512BF16 = 1u << 11,
    CK_CPU_NEON = 1u << 12,
};

/// The features of the CPU this runs on (0 where unknown).
uint32_t ck_cpu_features(void);

/// A spin-wait hint (PAUSE on x86-64, YIELD on arm64): lets the sibling hyperthread run and
/// saves power while a thread polls a flag (NeuralEngine's WorkerPool).
static inline void ck_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// One row of the packed convolution's prepared input: dst[q] = 0 for q < lo and hi <= q < n,
/// src[q] for lo <= q < hi. AVX-512F.
void ck_pad_row_avx512(float *dst, const float *src, long lo, long hi, long n);

/// even[q] = src[2q], odd[q] = src[2q + 1] for q < pairs: an input row split into the two column
/// phases of a stride-2 convolution. AVX-512F.
void ck_deinterleave_avx512(float *even, float *odd, const float *src, long pairs);

/// Activations fused into a convolution tile (the values of NeuralEngine's FusedActivation).
enum { CK_ACT_NONE = 0, CK_ACT_RELU = 1, CK_ACT_SIGMOID = 2, CK_ACT_SILU = 3 };

/// One 8 x (16 * vectors) tile of the packed convolution (Kernels/ConvPacked.swift), vectors 1...3:
///   out[r * ld + j] = act(bias[r] + sum_k a[k * 8 + r] * b[offsets[k] + j])
/// AVX-512F with FMA; call only when ck_cpu_features() has CK_CPU_AVX512F.
void ck_conv_tile_avx512(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                         float *out, long ld, int activation);

/// The tile with its lanes along output channels, for maps whose width is not a multiple of 16
/// (no junk pixels computed): `pixels` (1...12) consecutive pixels of one output row x
/// 16 * vectors (1...2) output channels, of which the first `channels` are stored:
///   out[c * ld + j] = act(bias[c] + sum_k a[k * 16 * vectors + c] * b[offsets[k] + j])
/// The same FMAs in the same order as ck_conv_tile_avx512. AVX-512F with FMA.
void ck_conv_ctile_avx512(int vectors, int pixels, long k, const float *a, const float *b, const long *offsets,
                          const float *bias, float *out, long ld, int channels, int activation);

/// The same tile for AVX2 with FMA (x86-64-v3), as sub-tiles of 4 rows x up to 24 pixels;
/// call only when ck_cpu_features() has CK_CPU_AVX2 and CK_CPU_FMA.
void ck_conv_tile_avx2(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                       float *out, long ld, int activation);

/// The B rows of one pixel block (16 * vectors pixels of each of the K rows b + offsets[k])
/// rounded to bf16 pairs of consecutive K: out is [(k + 1) / 2][vectors][32] (an odd K's last
/// row paired with itself; its weight partner is 0). Needs AVX512F, AVX512BW, AVX512_BF16.
void ck_pack_bf16_block(int vectors, long k, const float *b, const long *offsets, uint16_t *out);

/// The tile in bf16 (AVX512_BF16): `a` holds the weights as bf16 pairs, [(k + 1) / 2][8][2]
/// (an odd K's partner 0; ConvPackedWeights.bf16Panels), `b` the block from
/// ck_pack_bf16_block; sums are fp32. Same CPU requirement.
void ck_conv_tile_avx512bf16(int vectors, long k, const uint16_t *a, const uint16_t *b, const float *bias, float *out, long ld,
                             int activation);

/// Four fp32 rows (four consecutive input channels; a NULL row is a missing channel) quantised
/// to u8, q = clamp(round(x * inverse_scale) + zero_point, 0, 255), and interleaved by pixel:
/// out[i] holds the four channels' q of pixel i (rows[j][i * stride]) in bytes 0...3; a missing
/// channel's byte is the zero point. Each element of a convolution's input is quantised once,
/// into the layout the int8 tile reads in place. Needs AVX512F, AVX512BW, AVX512_VNNI.
void ck_quantize_quads(const float *const rows[4], long stride, long count, float inverse_scale, int zero_point,
                       uint32_t *out);

/// The tile in int8 (AVX512_VNNI): `a` holds the weights as s8 quads, [quads][8][4] (quad q's
/// four consecutive input channels at one kernel tap; channels past the end 0), `b` the input as
/// u8 quads from ck_quantize_quads: quad q of pixel j is the 4 bytes at b + 4 * (offsets[q] + j).
/// VPDPBUSD sums in int32, then
///   out[r * ld + j] = act((sum - correction[r]) * scale[r] + bias[r])
/// with correction[r] = zero_point * sum_k a[k][r] and scale[r] = weight scale[r] * input scale.
/// Same CPU requirement.
void ck_conv_tile_avx512vnni(int vectors, long quads, const int8_t *a, const uint8_t *b, const long *offsets,
                             const int32_t *correction, const float *scale, const float *bias, float *out, long ld,
                             int activation);

#ifdef __cplusplus
}
#endif

#endif
