// Shim header exposing the OpenBLAS CBLAS interface (cblas_sgemm,
// openblas_set_num_threads, ...) to Swift via the COpenBLAS system library
// target. Include paths come from pkg-config "openblas".
#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>
#endif
