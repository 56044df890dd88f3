/* The fp32 convolution tiles of CKernels/ConvTileAVX512.c on one 3 x 3, stride-1 layer, one
 * thread: the 8 x 48 pixel tile over the prepared input's flattened grid (rows ws = W + 2 wide,
 * so each row's two junk columns and the last block's spare lanes are computed too), against the
 * channel tile (32 output channels x up to 12 pixels of one row, no junk). Produced the GMAC/s
 * figures of docs/PERFORMANCE.md ("Channel tiles for narrow maps"):
 *
 *   clang -O2 -ISources/CKernels/include -ISources/CKernels tools/conv_tile_bench.c \
 *       Sources/CKernels/ConvTileAVX512.c -o /tmp/tiles
 *   /tmp/tiles 256 256 20     # C in, M out, a W x W map: YOLOv8s's model.21 (20 x 20)
 *   /tmp/tiles 128 128 40     # a 40 x 40 map
 *
 * GMAC/s counts the layer's own MACs (C x 9 x M x W x W) over the best of 20 passes, with SiLU
 * fused as served. Needs an AVX-512 CPU. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "CKernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s C M W\n", argv[0]);
        return 2;
    }
    const long c = atol(argv[1]), m = atol(argv[2]), w = atol(argv[3]), ws = w + 2, k = c * 9;
    const long planeRows = w + 2, planes = c * planeRows * ws;
    float *b = aligned_alloc(64, sizeof(float) * (planes + 4096));
    float *a = aligned_alloc(64, sizeof(float) * k * m), *bias = calloc(m, sizeof(float));
    float *out = aligned_alloc(64, sizeof(float) * m * (w * w + 64));
    long *offsets = malloc(sizeof(long) * k);
    for (long i = 0; i < planes + 4096; i++) b[i] = (float)(i % 17) * 0.01f;
    for (long i = 0; i < k * m; i++) a[i] = (float)(i % 13) * 0.001f;
    for (long ch = 0, i = 0; ch < c; ch++)
        for (long ky = 0; ky < 3; ky++)
            for (long kx = 0; kx < 3; kx++) offsets[i++] = ch * planeRows * ws + ky * ws + kx;
    const double macs = (double)k * m * w * w;

    double best = 1e9;
    const long virt = (w - 1) * ws + w;  // the flattened grid's pixels, junk columns included
    for (int pass = 0; pass < 20; pass++) {
        double t0 = now();
        for (long v0 = 0; v0 < virt; v0 += 48) {
            long count = virt - v0 < 48 ? virt - v0 : 48;
            for (long mt = 0; mt < m / 8; mt++)
                ck_conv_tile_avx512((int)((count + 15) / 16), k, a + mt * k * 8, b + v0, offsets, bias + mt * 8,
                                    out + mt * 8 * 48, 48, CK_ACT_SILU);
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("pixel tiles   %.3f ms  %.1f GMAC/s (%ld lanes for %ld pixels)\n", best * 1e3, macs / best * 1e-9,
           virt / 48 * 48 + (virt % 48 + 15) / 16 * 16, w * w);

    best = 1e9;
    const long perRow = (w + 11) / 12;
    for (int pass = 0; pass < 20; pass++) {
        double t0 = now();
        for (long blk = 0; blk < m / 32; blk++)
            for (long r = 0; r < w; r++)
                for (long t = 0; t < perRow; t++) {
                    long ow0 = w * t / perRow, ow1 = w * (t + 1) / perRow;
                    ck_conv_ctile_avx512(2, (int)(ow1 - ow0), k, a + blk * k * 32, b + r * ws + ow0, offsets, bias + blk * 32,
                                         out + blk * 32 * w * w + r * w + ow0, w * w, 32, CK_ACT_SILU);
                }
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("channel tiles %.3f ms  %.1f GMAC/s\n", best * 1e3, macs / best * 1e-9);
    return 0;
}
