// The packed convolution's 8 x 48 / 32 / 16 micro-kernel for AVX2 with FMA (one ymm = 8 pixels),
// for x86-64-v3 machines without AVX-512. AVX2 has 16 vector registers, too few for the 8 x 48
// tile's accumulators, so the tile runs as sub-tiles of 4 rows x up to 24 pixels (12
// accumulators, 3 pixel vectors, 1 broadcast weight), each over the whole K. Per output the
// arithmetic is ConvPacked.kernel8x48's (its portable reference): FMAs from zero in K order,
// then the bias, then the activation with the same exp polynomial.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline

/// exp(x) as VectorMath.expFused (see ConvTileAVX512.c).
AVX2 __m256 exp256(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 c = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 t = _mm256_fmadd_ps(c, _mm256_set1_ps(1.44269504f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693359375f), c);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(r, _mm256_set1_ps(1.98756915e-4f), _mm256_set1_ps(1.39819995e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.33345191e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.16657959e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666655e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.00000012e-1f));
    __m256 er = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic));
    __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(er, _mm256_castsi256_ps(scale));
}

AVX2 __m256 activate256(__m256 x, int activation) {
    const __m256 one = _mm256_set1_ps(1.0f);
    switch (activation) {
    case CK_ACT_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    case CK_ACT_SIGMOID: return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    case CK_ACT_SILU: return _mm256_div_ps(x, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    default: return x;
    }
}

// Rows r0..r0+3 of the 8-row panel, P ymm of pixels starting at pixel p0.
#define SUBTILE(P)                                                                                           \
    __attribute__((target("avx2,fma"))) static void sub4x##P(long k, const float *a, const float *b,        \
                                                              const long *offsets, const float *bias,        \
                                                              float *out, long ld, int activation) {         \
        __m256 c[4][P];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 4; r++)                                     \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < P; v++) c[r][v] = _mm256_setzero_ps(); \
        for (long kk = 0; kk < k; kk++) {                                                                    \
            const float *bp = b + offsets[kk];                                                               \
            __m256 bv[P];                                                                                    \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < P; v++) bv[v] = _mm256_loadu_ps(bp + 8 * v); \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < 4; r++) {                               \
                __m256 w = _mm256_broadcast_ss(a + r);                                                       \
                _Pragma("clang loop unroll(full)") for (int v = 0; v < P; v++)                             \
                    c[r][v] = _mm256_fmadd_ps(w, bv[v], c[r][v]);                                            \
            }                                                                                                \
            a += 8;                                                                                          \
        }                                                                                                    \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < 4; r++) {                                   \
            __m256 bias_r = _mm256_broadcast_ss(bias + r);                                                   \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < P; v++)                                 \
                _mm256_storeu_ps(out + r * ld + 8 * v, activate256(_mm256_add_ps(c[r][v], bias_r), activation)); \
        }                                                                                                    \
    }

SUBTILE(1)
SUBTILE(2)
SUBTILE(3)

/// Pixels p0 ..< p0 + 8 * P of both row halves.
__attribute__((target("avx2,fma"))) static void columns(int P, long k, const float *a, const float *b, const long *offsets,
                                                       const float *bias, float *out, long ld, int activation) {
    for (int half = 0; half < 2; half++) {
        const float *ah = a + 4 * half;
        const float *bh = bias + 4 * half;
        float *oh = out + 4 * half * ld;
        switch (P) {
        case 3: sub4x3(k, ah, b, offsets, bh, oh, ld, activation); break;
        case 2: sub4x2(k, ah, b, offsets, bh, oh, ld, activation); break;
        default: sub4x1(k, ah, b, offsets, bh, oh, ld, activation); break;
        }
    }
}

void ck_conv_tile_avx2(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                       float *out, long ld, int activation) {
    // 16 * vectors pixels as runs of 24 (3 ymm), then what is left (2 or 1 ymm).
    int ymm = 2 * vectors, p0 = 0;
    while (ymm > 0) {
        int P = ymm >= 3 ? 3 : ymm;
        columns(P, k, a, b + 8 * p0, offsets, bias, out + 8 * p0, ld, activation);
        p0 += P;
        ymm -= P;
    }
}

#else
void ck_conv_tile_avx2(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                       float *out, long ld, int activation) {
    (void)vectors; (void)k; (void)a; (void)b; (void)offsets; (void)bias; (void)out; (void)ld; (void)activation;
    __builtin_trap();  // never chosen: the dispatch offers AVX2 kernels on x86-64 only
}
#endif
