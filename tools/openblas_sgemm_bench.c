/* OpenBLAS single-thread SGEMM throughput for one row-major shape (M x K times K x N), best of
 * 10 runs, with the kernel OpenBLAS chose. Produced the GFLOP/s figures of docs/PERFORMANCE.md:
 *
 *   gcc -O2 tools/openblas_sgemm_bench.c -o /tmp/sgemm $(pkg-config --cflags --libs openblas)
 *   OPENBLAS_CORETYPE=Haswell /tmp/sgemm 64 6400 576     # forced 256-bit kernel
 *   env -u OPENBLAS_CORETYPE /tmp/sgemm 64 6400 576      # OpenBLAS's own choice
 * (needs libopenblas-dev for the header; the project itself only needs the runtime library) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s M N K\n", argv[0]); return 2; }
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);
    double best = 1e9;
    for (int r = 0; r < 10; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double t = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        if (t < best) best = t;
    }
    printf("%s %dx%dx%d: %.1f GFLOP/s\n", openblas_get_corename(), m, n, k, 2.0 * m * n * k / best / 1e9);
    free(a); free(b); free(c);
    return 0;
}
