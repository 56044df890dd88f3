/* Throughput of the int8 convolution tile (CKernels/ConvTileVNNI.c) against the core's own
 * VPDPBUSD limit, one thread. Produced the GMAC/s figures of docs/PERFORMANCE.md ("int8 without
 * per-block packing"):
 *
 *   clang -O2 -ISources/CKernels/include tools/vnni_tile_bench.c Sources/CKernels/ConvTileVNNI.c -o /tmp/vnni
 *   /tmp/vnni 144 3          # 144 quads (64 channels x 3 x 3), 8 x 48 tile, B hot in L1
 *   /tmp/vnni 576 3 6400     # 576 quads whose rows lie 6,400 pixels apart (a prepared 80 x 80 input)
 *
 * The first line printed is a loop of 12 independent VPDPBUSD in registers (the limit); a MAC is
 * one u8 x s8 product. Needs an AVX512_VNNI CPU. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "CKernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void register_limit(void) {
    __m512i c[12];
    for (int i = 0; i < 12; i++) c[i] = _mm512_set1_epi32(i);
    __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x02020202);
    long n = 100000000;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        for (int j = 0; j < 12; j++) c[j] = _mm512_dpbusd_epi32(c[j], a, b);
        __asm__ volatile("" : "+v"(a));
    }
    double t = now() - t0;
    __m512i s = c[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_epi32(s, c[i]);
    printf("register loop: %.1f GMAC/s (checksum %d)\n", n * 12 * 64 / t / 1e9, _mm512_reduce_add_epi32(s));
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s QUADS VECTORS [ROW_PIXELS]\n", argv[0]); return 2; }
    long quads = atol(argv[1]), pitch = argc > 3 ? atol(argv[3]) : 48;
    int vectors = atoi(argv[2]);
    register_limit();
    int8_t *a = aligned_alloc(64, (size_t)quads * 32 + 64);
    uint8_t *b = aligned_alloc(64, (size_t)quads * pitch * 4 + 4096);
    long *offsets = malloc(sizeof(long) * quads);
    for (long q = 0; q < quads; q++) offsets[q] = q * pitch;
    for (long i = 0; i < quads * 32; i++) a[i] = (int8_t)(i % 7 - 3);
    for (long i = 0; i < quads * pitch * 4; i++) b[i] = (uint8_t)(i % 13);
    int32_t correction[8] = {0};
    float scale[8], bias[8], out[8 * 48];
    for (int i = 0; i < 8; i++) { scale[i] = 1e-3f; bias[i] = 0; }
    long calls = 200000000 / (quads * 8 * 16 * vectors * 4) + 1;
    double t0 = now();
    for (long i = 0; i < calls; i++)
        ck_conv_tile_avx512vnni(vectors, quads, a, b, offsets, correction, scale, bias, out, 48, CK_ACT_SILU);
    double t = now() - t0;
    printf("tile 8 x %d, %ld quads: %.1f GMAC/s (%.0f ns a call)\n", 16 * vectors, quads,
           (double)calls * quads * 4 * 8 * 16 * vectors / t / 1e9, t / calls * 1e9);
    return 0;
}
