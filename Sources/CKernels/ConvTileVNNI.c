// The packed convolution's micro-kernel in int8 for AVX512_VNNI: weights quantised once per
// output channel to s8 and packed as quads of four consecutive K, each pixel block's B rows
// quantised once to u8 quads with the input's scale and zero point (ck_pack_u8_block, shared by
// all the block's M tiles), and VPDPBUSD adding the four u8 x s8 products of each quad to int32
// sums (8 x 48 pixels, 24 zmm). A quarter of the fp32 kernel's multiply-add instructions. The
// epilogue removes the zero point's share, scales back to fp32 and adds bias and activation as
// the other kernels do; the portable Swift twin (Kernels/ConvInt8.swift) is its reference.
#include "CKernels.h"

#if defined(__x86_64__)
#include "Activations512.h"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,fma")))

/// 16 pixels of one B row quantised: clamp(round(x * inverse_scale) + zero_point, 0, 255) as int32.
/// The product is first held to [-512, 512] (NaN to -512) so no conversion overflows.
VNNI_TARGET static inline __m512i quantised(const float *row, __m512 inverse_scale, __m512i zero_point) {
    __m512 scaled = _mm512_mul_ps(_mm512_loadu_ps(row), inverse_scale);
    scaled = _mm512_min_ps(_mm512_max_ps(scaled, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
    __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero_point);
    return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_setzero_si512()), _mm512_set1_epi32(255));
}

VNNI_TARGET void ck_pack_u8_block(int vectors, long k, const float *b, const long *offsets, float inverse_scale, int zero_point,
                                  uint8_t *out) {
    const __m512 inv = _mm512_set1_ps(inverse_scale);
    const __m512i zero = _mm512_set1_epi32(zero_point);
    long quads = (k + 3) / 4;
    for (long kq = 0; kq < quads; kq++) {
        for (int v = 0; v < vectors; v++) {
            __m512i word = _mm512_setzero_si512();
            for (int j = 0; j < 4; j++) {
                long row = 4 * kq + j;
                // Rows past K carry the zero point (a real 0); their weights are 0 anyway.
                __m512i q = row < k ? quantised(b + offsets[row] + 16 * v, inv, zero) : zero;
                word = _mm512_or_si512(word, _mm512_slli_epi32(q, 8 * j));
            }
            _mm512_storeu_si512(out + (kq * vectors + v) * 64, word);
        }
    }
}

#define TILE_VNNI(V)                                                                                          \
    VNNI_TARGET static void tile8x##V##vnni(long k, const int8_t *a, const uint8_t *b, const int32_t *correction, \
                                            const float *scale, const float *bias, float *out, long ld, int activation) { \
        __m512i c[8][V];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++)                                      \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) c[r][v] = _mm512_setzero_si512(); \
        const int32_t *ap = (const int32_t *)a;                                                               \
        long quads = (k + 3) / 4;                                                                             \
        for (long kq = 0; kq < quads; kq++) {                                                                 \
            __m512i bv[V];                                                                                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                                  \
                bv[v] = _mm512_loadu_si512(b + (kq * V + v) * 64);                                            \
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

void ck_conv_tile_avx512vnni(int vectors, long k, const int8_t *a, const uint8_t *b, const int32_t *correction, const float *scale,
                             const float *bias, float *out, long ld, int activation) {
    switch (vectors) {
    case 3: tile8x3vnni(k, a, b, correction, scale, bias, out, ld, activation); break;
    case 2: tile8x2vnni(k, a, b, correction, scale, bias, out, ld, activation); break;
    default: tile8x1vnni(k, a, b, correction, scale, bias, out, ld, activation); break;
    }
}

#else
void ck_pack_u8_block(int vectors, long k, const float *b, const long *offsets, float inverse_scale, int zero_point, uint8_t *out) {
    (void)vectors; (void)k; (void)b; (void)offsets; (void)inverse_scale; (void)zero_point; (void)out;
    __builtin_trap();  // never chosen: int8 runs on x86-64 with AVX512_VNNI only
}
void ck_conv_tile_avx512vnni(int vectors, long k, const int8_t *a, const uint8_t *b, const int32_t *correction, const float *scale,
                             const float *bias, float *out, long ld, int activation) {
    (void)vectors; (void)k; (void)a; (void)b; (void)correction; (void)scale; (void)bias; (void)out; (void)ld; (void)activation;
    __builtin_trap();
}
#endif
