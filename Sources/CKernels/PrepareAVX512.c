// Row copies of the packed convolution's input preparation (ConvPacked.Job.prepareRows) for
// AVX-512F: 16 floats a step with masked tails, instead of the baseline build's 8-float loops
// and their scalar tails (rows are short: 20 to 320 floats). Pure copies, so the prepared input
// is the same bit for bit as the portable loops make it.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

static inline AVX512 __mmask16 tail(long n) { return (__mmask16)((1u << n) - 1u); }

AVX512 void ck_pad_row_avx512(float *dst, const float *src, long lo, long hi, long n) {
    const __m512 zero = _mm512_setzero_ps();
    long q = 0;
    for (; q + 16 <= lo; q += 16) _mm512_storeu_ps(dst + q, zero);
    if (q < lo) _mm512_mask_storeu_ps(dst + q, tail(lo - q), zero);
    for (q = lo; q + 16 <= hi; q += 16) _mm512_storeu_ps(dst + q, _mm512_loadu_ps(src + q));
    if (q < hi) _mm512_mask_storeu_ps(dst + q, tail(hi - q), _mm512_maskz_loadu_ps(tail(hi - q), src + q));
    for (q = hi; q + 16 <= n; q += 16) _mm512_storeu_ps(dst + q, zero);
    if (q < n) _mm512_mask_storeu_ps(dst + q, tail(n - q), zero);
}

AVX512 void ck_deinterleave_avx512(float *even, float *odd, const float *src, long pairs) {
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    long q = 0;
    for (; q + 16 <= pairs; q += 16) {
        __m512 a = _mm512_loadu_ps(src + 2 * q), b = _mm512_loadu_ps(src + 2 * q + 16);
        _mm512_storeu_ps(even + q, _mm512_permutex2var_ps(a, evens, b));
        _mm512_storeu_ps(odd + q, _mm512_permutex2var_ps(a, odds, b));
    }
    for (; q < pairs; q++) {
        even[q] = src[2 * q];
        odd[q] = src[2 * q + 1];
    }
}

#else
void ck_pad_row_avx512(float *dst, const float *src, long lo, long hi, long n) {
    (void)dst; (void)src; (void)lo; (void)hi; (void)n;
    __builtin_trap();  // never chosen: the dispatch offers AVX-512 kernels on x86-64 only
}

void ck_deinterleave_avx512(float *even, float *odd, const float *src, long pairs) {
    (void)even; (void)odd; (void)src; (void)pairs;
    __builtin_trap();
}
#endif
