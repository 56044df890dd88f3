// The fused activations of the 512-bit convolution kernels (ConvTileAVX512.c, ConvTileBF16.c,
// ConvTileVNNI.c) and the tile epilogue the first two share, in registers: the same exp polynomial as VectorMath.expFused, so every kernel set computes the
// same numbers. Internal to CKernels (not in include/).
#ifndef CKERNELS_ACTIVATIONS512_H
#define CKERNELS_ACTIVATIONS512_H

#if defined(__x86_64__)
#include <immintrin.h>
#include "CKernels.h"

#define AVX512 __attribute__((target("avx512f,fma"), always_inline)) static inline

/// exp(x) as VectorMath.expFused: Cody-Waite range reduction and a degree-6 polynomial, with FMAs.
AVX512 __m512 exp512(__m512 x) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 c = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.44269504f), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693359375f), c);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.98756915e-4f), _mm512_set1_ps(1.39819995e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.33345191e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16657959e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.00000012e-1f));
    __m512 er = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    __m512i scale = _mm512_slli_epi32(_mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(er, _mm512_castsi512_ps(scale));
}

AVX512 __m512 activate512(__m512 x, int activation) {
    const __m512 one = _mm512_set1_ps(1.0f);
    switch (activation) {
    case CK_ACT_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
    case CK_ACT_SIGMOID: return _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
    case CK_ACT_SILU: return _mm512_div_ps(x, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
    default: return x;
    }
}

/// The epilogue of the fp32 and bf16 tiles: the 8 x V accumulators c[r][v] (fp32 sums) plus
/// bias[r], through the activation, stored at out + r * ld + 16 * v.
#define STORE_TILE512(c, V, bias, out, ld, activation)                                                      \
    _Pragma("clang loop unroll(full)") for (int r_ = 0; r_ < 8; r_++) {                                    \
        __m512 bias_r_ = _mm512_set1_ps((bias)[r_]);                                                       \
        _Pragma("clang loop unroll(full)") for (int v_ = 0; v_ < (V); v_++)                                \
            _mm512_storeu_ps((out) + r_ * (ld) + 16 * v_, activate512(_mm512_add_ps((c)[r_][v_], bias_r_), (activation))); \
    }

#endif
#endif
