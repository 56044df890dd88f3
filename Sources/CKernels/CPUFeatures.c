// CPUID and XGETBV: what the CPU has and the OS saves on a context switch. A feature counts
// only when both say so (AVX-512 registers need the OS's ZMM state, XCR0 bits 5-7).
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

uint32_t ck_cpu_features(void) {
    uint32_t eax, ebx, ecx, edx, features = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (ecx & bit_SSE4_2) features |= CK_CPU_SSE42;
    int osxsave = (ecx & bit_OSXSAVE) != 0;
    uint64_t xcr = osxsave ? xcr0() : 0;
    int ymm = (xcr & 0x6) == 0x6, zmm = ymm && (xcr & 0xE0) == 0xE0;
    if (ymm && (ecx & bit_AVX)) features |= CK_CPU_AVX;
    if (ymm && (ecx & bit_FMA)) features |= CK_CPU_FMA;
    if (ymm && (ecx & bit_F16C)) features |= CK_CPU_F16C;
    uint32_t leaf7b = 0, leaf7c = 0, leaf7d = 0, leaf7a = 0;
    if (__get_cpuid_count(7, 0, &leaf7a, &leaf7b, &leaf7c, &leaf7d)) {
        if (ymm && (leaf7b & bit_AVX2)) features |= CK_CPU_AVX2;
        if (leaf7b & bit_BMI2) features |= CK_CPU_BMI2;
        if (zmm && (leaf7b & bit_AVX512F)) features |= CK_CPU_AVX512F;
        if (zmm && (leaf7b & bit_AVX512DQ)) features |= CK_CPU_AVX512DQ;
        if (zmm && (leaf7b & bit_AVX512BW)) features |= CK_CPU_AVX512BW;
        if (zmm && (leaf7b & bit_AVX512VL)) features |= CK_CPU_AVX512VL;
        if (zmm && (leaf7c & bit_AVX512VNNI)) features |= CK_CPU_AVX512VNNI;
        uint32_t s1a = 0, s1b = 0, s1c = 0, s1d = 0;
        if (leaf7a >= 1 && __get_cpuid_count(7, 1, &s1a, &s1b, &s1c, &s1d) && zmm && (s1a & (1u << 5))) {
            features |= CK_CPU_AVX512BF16;
        }
    }
    return features;
}

#elif defined(__aarch64__)
uint32_t ck_cpu_features(void) { return CK_CPU_NEON; }
#else
uint32_t ck_cpu_features(void) { return 0; }
#endif
