// The packed convolution's 8 x 48 / 32 / 16 micro-kernel for AVX-512F (one zmm = 16 pixels):
// 24 accumulators for 48 pixels, weights broadcast, bias and activation applied in registers.
// The same arithmetic, in the same order, as ConvPacked.kernel8x48 (its portable reference):
// FMAs from zero in K order, then the bias, then the activation with the same exp polynomial.
#include "CKernels.h"

#if defined(__x86_64__)
#include "Activations512.h"

// V zmm of pixels per row, 8 rows: 8 * V accumulators (24 of the 32 registers at V = 3).
#define TILE(V)                                                                                              \
    __attribute__((target("avx512f,fma"))) static void tile8x##V(long k, const float *a, const float *b,    \
                                                                  const long *offsets, const float *bias,    \
                                                                  float *out, long ld, int activation) {     \
        __m512 c[8][V];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++)                                     \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) c[r][v] = _mm512_setzero_ps(); \
        for (long kk = 0; kk < k; kk++) {                                                                    \
            const float *bp = b + offsets[kk];                                                               \
            __m512 bv[V];                                                                                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) bv[v] = _mm512_loadu_ps(bp + 16 * v); \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < 8; r++) {                               \
                __m512 w = _mm512_set1_ps(a[r]);                                                             \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                             \
                    c[r][v] = _mm512_fmadd_ps(w, bv[v], c[r][v]);                                            \
            }                                                                                                \
            a += 8;                                                                                          \
        }                                                                                                    \
        STORE_TILE512(c, V, bias, out, ld, activation);                                                      \
    }

TILE(1)
TILE(2)
TILE(3)

void ck_conv_tile_avx512(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                         float *out, long ld, int activation) {
    switch (vectors) {
    case 3: tile8x3(k, a, b, offsets, bias, out, ld, activation); break;
    case 2: tile8x2(k, a, b, offsets, bias, out, ld, activation); break;
    default: tile8x1(k, a, b, offsets, bias, out, ld, activation); break;
    }
}

// In place: r[i] lane j becomes r[j] lane i (a 16 x 16 transpose in four rounds of shuffles).
__attribute__((target("avx512f"), always_inline)) static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        for (int h = 0; h < 2; h++) {
            __m512d lo = _mm512_castps_pd(t[i + h]), hi = _mm512_castps_pd(t[i + 2 + h]);
            r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, hi));
            r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, hi));
        }
    }
    for (int i = 0; i < 16; i += 8) {
        for (int h = 0; h < 4; h++) {
            t[i + h] = _mm512_shuffle_f32x4(r[i + h], r[i + 4 + h], 0x88);
            t[i + 4 + h] = _mm512_shuffle_f32x4(r[i + h], r[i + 4 + h], 0xDD);
        }
    }
    for (int h = 0; h < 8; h++) {
        r[h] = _mm512_shuffle_f32x4(t[h], t[8 + h], 0x88);
        r[8 + h] = _mm512_shuffle_f32x4(t[h], t[8 + h], 0xDD);
    }
}

// The tile with its lanes along output channels: NP pixels of one output row x 16 * V channels
// (NP * V accumulators, at most 24). The pixels are consecutive in the prepared row, so pixel j of
// B row k is the float at b + offsets[k] + j, broadcast into the FMAs. The same FMAs in the same
// order as the 8 x 48 tile, so the two agree to the last bit; only the lanes differ.
#define CTILE(NP, V)                                                                                         \
    __attribute__((target("avx512f,fma"))) static void ctile##NP##x##V(long k, const float *a, const float *b, \
                                                                        const long *offsets, const float *bias, \
                                                                        float *out, long ld, int channels,      \
                                                                        int activation) {                       \
        __m512 c[NP][V];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int j = 0; j < NP; j++)                                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) c[j][v] = _mm512_setzero_ps(); \
        for (long kk = 0; kk < k; kk++) {                                                                    \
            const float *bp = b + offsets[kk];                                                               \
            __m512 w[V];                                                                                     \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) w[v] = _mm512_loadu_ps(a + 16 * v); \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < NP; j++) {                              \
                __m512 x = _mm512_set1_ps(bp[j]);                                                            \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++)                             \
                    c[j][v] = _mm512_fmadd_ps(x, w[v], c[j][v]);                                             \
            }                                                                                                \
            a += 16 * V;                                                                                     \
        }                                                                                                    \
        _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) {                                   \
            __m512 bias_v = _mm512_loadu_ps(bias + 16 * v), rows[16];                                        \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < 16; j++)                                \
                rows[j] = j < NP ? activate512(_mm512_add_ps(c[j][v], bias_v), activation) : _mm512_setzero_ps(); \
            transpose16(rows);                                                                               \
            int live = channels - 16 * v < 16 ? channels - 16 * v : 16;                                      \
            for (int l = 0; l < live; l++) _mm512_mask_storeu_ps(out + (16 * v + l) * ld, (__mmask16)((1u << NP) - 1u), rows[l]); \
        }                                                                                                    \
    }

#define CTILES(NP) CTILE(NP, 1) CTILE(NP, 2)
CTILES(1) CTILES(2) CTILES(3) CTILES(4) CTILES(5) CTILES(6)
CTILES(7) CTILES(8) CTILES(9) CTILES(10) CTILES(11) CTILES(12)

typedef void (*ctile_fn)(long, const float *, const float *, const long *, const float *, float *, long, int, int);
static const ctile_fn ctiles[2][12] = {
    {ctile1x1, ctile2x1, ctile3x1, ctile4x1, ctile5x1, ctile6x1, ctile7x1, ctile8x1, ctile9x1, ctile10x1, ctile11x1, ctile12x1},
    {ctile1x2, ctile2x2, ctile3x2, ctile4x2, ctile5x2, ctile6x2, ctile7x2, ctile8x2, ctile9x2, ctile10x2, ctile11x2, ctile12x2},
};

void ck_conv_ctile_avx512(int vectors, int pixels, long k, const float *a, const float *b, const long *offsets,
                          const float *bias, float *out, long ld, int channels, int activation) {
    ctiles[vectors == 2][pixels - 1](k, a, b, offsets, bias, out, ld, channels, activation);
}

#else
void ck_conv_ctile_avx512(int vectors, int pixels, long k, const float *a, const float *b, const long *offsets,
                          const float *bias, float *out, long ld, int channels, int activation) {
    (void)vectors; (void)pixels; (void)k; (void)a; (void)b; (void)offsets; (void)bias; (void)out; (void)ld;
    (void)channels; (void)activation;
    __builtin_trap();  // never chosen: the dispatch offers AVX-512 kernels on x86-64 only
}

void ck_conv_tile_avx512(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                         float *out, long ld, int activation) {
    (void)vectors; (void)k; (void)a; (void)b; (void)offsets; (void)bias; (void)out; (void)ld; (void)activation;
    __builtin_trap();  // never chosen: the dispatch offers AVX-512 kernels on x86-64 only
}
#endif
