// The packed convolution's micro-kernel in int8 for AVX512_VNNI: weights quantised once per
// output channel to s8 and packed as quads of four consecutive input channels at one kernel tap,
// the convolution's input quantised once per element to u8 with the input's scale and zero point
// and interleaved by four channels (ck_quantize_quads), so that one pixel's quad is one int32
// lane and the tile reads B in place, 16 pixels per load, with no packing per block. VPDPBUSD adds
// the four u8 x s8 products of each quad to int32 sums (8 x 48 pixels, 24 zmm), a quarter of the
// fp32 kernel's multiply-add instructions. The epilogue removes the zero point's share, scales
// back to fp32 and adds bias and activation as the other kernels do; the portable Swift twins
// (Kernels/ConvInt8.swift) are their reference.
#include "CKernels.h"

#if defined(__x86_64__)
#include "Activations512.h"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,fma")))

/// One value quantised as the vector path does it: the product held to [-512, 512] (NaN to -512,
/// as max_ps/min_ps return their second operand on NaN), rounded to the nearest even.
static inline uint32_t quantised_scalar(float x, float inverse_scale, int zero_point) {
    float scaled = x * inverse_scale;
    scaled = scaled > -512.0f ? scaled : -512.0f;
    scaled = scaled < 512.0f ? scaled : 512.0f;
    int q = (int)__builtin_rintf(scaled) + zero_point;
    return (uint32_t)(q < 0 ? 0 : q > 255 ? 255 : q);
}

/// 16 values quantised: clamp(round(x * inverse_scale) + zero_point, 0, 255) as int32.
/// The product is first held to [-512, 512] (NaN to -512) so no conversion overflows.
VNNI_TARGET static inline __m512i quantised(__m512 x, __m512 inverse_scale, __m512i zero_point) {
    __m512 scaled = _mm512_mul_ps(x, inverse_scale);
    scaled = _mm512_min_ps(_mm512_max_ps(scaled, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
    __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero_point);
    return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_setzero_si512()), _mm512_set1_epi32(255));
}

VNNI_TARGET void ck_quantize_quads(const float *const rows[4], long stride, long count, float inverse_scale, int zero_point,
                                   uint32_t *out) {
    const __m512 inv = _mm512_set1_ps(inverse_scale);
    const __m512i zero = _mm512_set1_epi32(zero_point);
    // Stride 2 (a stride-2 convolution's phase planes): even elements of 31 floats, the 32nd
    // never read, so a row's last pixel does not read past its end.
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    long i = 0;
    if (stride == 1 || stride == 2) {
        for (; i + 16 <= count; i += 16) {
            __m512i word = _mm512_setzero_si512();
            for (int j = 0; j < 4; j++) {
                __m512i q = zero;
                if (rows[j]) {
                    const float *src = rows[j] + i * stride;
                    __m512 x = stride == 1 ? _mm512_loadu_ps(src)
                        : _mm512_permutex2var_ps(_mm512_loadu_ps(src), evens, _mm512_maskz_loadu_ps(0x7FFF, src + 16));
                    q = quantised(x, inv, zero);
                }
                word = _mm512_or_si512(word, _mm512_slli_epi32(q, 8 * j));
            }
            _mm512_storeu_si512(out + i, word);
        }
    }
    for (; i < count; i++) {
        uint32_t word = 0;
        for (int j = 0; j < 4; j++) {
            uint32_t q = rows[j] ? quantised_scalar(rows[j][i * stride], inverse_scale, zero_point) : (uint32_t)zero_point;
            word |= q << (8 * j);
        }
        out[i] = word;
    }
}

#define TILE_VNNI(V)                                                                                          \
    VNNI_TARGET static void tile8x##V##vnni(long quads, const int8_t *a, const uint8_t *b, const long *offsets,       \
                                            const int32_t *correction, const float *scale, const float *bias, float *out, \
                                            long ld, int activation) {                                                \
        __m512i c[8][V];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++)                                      \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) c[r][v] = _mm512_setzero_si512(); \
        const int32_t *ap = (const int32_t *)a;                                                               \
        for (long kq = 0; kq < quads; kq++) {                                                                 \
            const uint8_t *bp = b + 4 * offsets[kq];                                                          \
            __m512i bv[V];                                                                                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                                  \
                bv[v] = _mm512_loadu_si512(bp + 64 * v);                                                      \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++) {                                \
                __m512i w = _mm512_set1_epi32(ap[r]);                                                         \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                              \
                    c[r][v] = _mm512_dpbusd_epi32(c[r][v], bv[v], w);                                         \
            }                                                                                                 \
            ap += 8;                                                                                          \
        }                                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++) {                                    \
            __m512i correction_r = _mm512_set1_epi32(correction[r]);                                          \
            __m512 scale_r = _mm512_set1_ps(scale[r]), bias_r = _mm512_set1_ps(bias[r]);                      \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) {                                \
                __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(c[r][v], correction_r));                     \
                _mm512_storeu_ps(out + r * ld + 16 * v, activate512(_mm512_fmadd_ps(sum, scale_r, bias_r), activation)); \
            }                                                                                                 \
        }                                                                                                     \
    }

TILE_VNNI(1)
TILE_VNNI(2)
TILE_VNNI(3)

void ck_conv_tile_avx512vnni(int vectors, long quads, const int8_t *a, const uint8_t *b, const long *offsets,
                             const int32_t *correction, const float *scale, const float *bias, float *out, long ld,
                             int activation) {
    switch (vectors) {
    case 3: tile8x3vnni(quads, a, b, offsets, correction, scale, bias, out, ld, activation); break;
    case 2: tile8x2vnni(quads, a, b, offsets, correction, scale, bias, out, ld, activation); break;
    default: tile8x1vnni(quads, a, b, offsets, correction, scale, bias, out, ld, activation); break;
    }
}

#else
void ck_quantize_quads(const float *const rows[4], long stride, long count, float inverse_scale, int zero_point, uint32_t *out) {
    (void)rows; (void)stride; (void)count; (void)inverse_scale; (void)zero_point; (void)out;
    __builtin_trap();  // never chosen: int8 runs on x86-64 with AVX512_VNNI only
}
void ck_conv_tile_avx512vnni(int vectors, long quads, const int8_t *a, const uint8_t *b, const long *offsets,
                             const int32_t *correction, const float *scale, const float *bias, float *out, long ld,
                             int activation) {
    (void)vectors; (void)quads; (void)a; (void)b; (void)offsets; (void)correction; (void)scale; (void)bias; (void)out; (void)ld;
    (void)activation;
    __builtin_trap();
}
#endif
