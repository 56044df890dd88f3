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

#else
void ck_conv_tile_avx512(int vectors, long k, const float *a, const float *b, const long *offsets, const float *bias,
                         float *out, long ld, int activation) {
    (void)vectors; (void)k; (void)a; (void)b; (void)offsets; (void)bias; (void)out; (void)ld; (void)activation;
    __builtin_trap();  // never chosen: the dispatch offers AVX-512 kernels on x86-64 only
}
#endif
