// The packed convolution's micro-kernel in bf16 for AVX512_BF16: weights packed once as bf16
// pairs (two consecutive K), each pixel block's B rows converted once to bf16 pairs
// (ck_pack_bf16_block, shared by all the block's M tiles), and VDPBF16PS multiplying both
// pairs and adding to fp32 accumulators (8 x 48 pixels, 24 zmm).
// Half the multiply-add instructions of the fp32 kernel; bias and activation in fp32 as there.
// Inputs and weights are rounded to bf16 (8 bits of mantissa): results differ from fp32 within
// the tolerance the parity tests declare.
#include "CKernels.h"

#if defined(__x86_64__)
#include "Activations512.h"

#define BF16 __attribute__((target("avx512f,avx512bw,avx512bf16,fma"), always_inline)) static inline

/// 16 pixels of two B rows as bf16 pairs: dword i = (lo[i], hi[i]).
BF16 __m512bh pairs_of(const float *lo, const float *hi, __m512i interleave) {
    __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(hi), _mm512_loadu_ps(lo));  // lo in words 0-15, hi in 16-31
    return (__m512bh)_mm512_permutexvar_epi16(interleave, (__m512i)packed);
}

#define TILE_BF16(V)                                                                                         \
    __attribute__((target("avx512f,avx512bw,avx512bf16,fma"))) static void tile8x##V##bf16(               \
        long k, const uint16_t *a, const uint16_t *b, const float *bias, float *out, long ld, int activation) { \
        __m512 c[8][V];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++)                                     \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) c[r][v] = _mm512_setzero_ps(); \
        const uint32_t *ap = (const uint32_t *)a;                                                            \
        long pairs = (k + 1) / 2;                                                                            \
        for (long kp = 0; kp < pairs; kp++) {                                                                \
            __m512bh bv[V];                                                                                  \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                                 \
                bv[v] = (__m512bh)_mm512_loadu_si512(b + (kp * V + v) * 32);                                \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++) {                               \
                __m512bh w = (__m512bh)_mm512_set1_epi32((int)ap[r]);                                        \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                             \
                    c[r][v] = _mm512_dpbf16_ps(c[r][v], bv[v], w);                                           \
            }                                                                                                \
            ap += 8;                                                                                         \
        }                                                                                                    \
        STORE_TILE512(c, V, bias, out, ld, activation);                                                      \
    }

TILE_BF16(1)
TILE_BF16(2)
TILE_BF16(3)

void ck_conv_tile_avx512bf16(int vectors, long k, const uint16_t *a, const uint16_t *b, const float *bias, float *out, long ld,
                             int activation) {
    switch (vectors) {
    case 3: tile8x3bf16(k, a, b, bias, out, ld, activation); break;
    case 2: tile8x2bf16(k, a, b, bias, out, ld, activation); break;
    default: tile8x1bf16(k, a, b, bias, out, ld, activation); break;
    }
}

__attribute__((target("avx512f,avx512bw,avx512bf16")))
void ck_pack_bf16_block(int vectors, long k, const float *b, const long *offsets, uint16_t *out) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    long pairs = (k + 1) / 2;
    for (long kp = 0; kp < pairs; kp++) {
        const float *lo = b + offsets[2 * kp], *hi = b + offsets[2 * kp + 1 < k ? 2 * kp + 1 : 2 * kp];
        for (int v = 0; v < vectors; v++) {
            _mm512_storeu_si512(out + (kp * vectors + v) * 32, (__m512i)pairs_of(lo + 16 * v, hi + 16 * v, interleave));
        }
    }
}

#else
void ck_conv_tile_avx512bf16(int vectors, long k, const uint16_t *a, const uint16_t *b, const float *bias, float *out, long ld,
                             int activation) {
    (void)vectors; (void)k; (void)a; (void)b; (void)bias; (void)out; (void)ld; (void)activation;
    __builtin_trap();  // never chosen: bf16 runs on x86-64 with AVX512_BF16 only
}
void ck_pack_bf16_block(int vectors, long k, const float *b, const long *offsets, uint16_t *out) {
    (void)vectors; (void)k; (void)b; (void)offsets; (void)out;
    __builtin_trap();
}
#endif
