/*
 * fma_peak.h - the float32 FMA limit of one core (benchmarks only: bench/isa_peak.c prints it,
 * bench/conv_f32_perf.c divides by it). 12 independent vfmadd231ps chains (12 >= latency 4 x 2
 * ports, enough to fill every FMA port) run a fixed count on ymm (AVX2 + FMA) or zmm (AVX-512F);
 * the time is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), best of `reps`. GFLOP/s counts
 * 2 flops per lane per FMA: 16 per ymm, 32 per zmm instruction.
 *
 * The instruction is inline assembly (intrinsics let gcc 12 keep some chains in memory, timing
 * store forwarding instead), each function compiled for its ISA with __attribute__((target)), so
 * this builds with plain flags on any x86-64; call it only where fma_peak_has() says so.
 *
 * Extend: another width or instruction (vfmadd231ph, AMX tiles) is another kernel below and a
 * case in fma_peak_gflops.
 */
#ifndef EV_BENCH_FMA_PEAK_H
#define EV_BENCH_FMA_PEAK_H

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <time.h>

static double fma_peak_cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define FMA_PEAK_OP(c) __asm__("vfmadd231ps %2, %1, %0" : "+v"(c) : "v"(a), "v"(b))
#define FMA_PEAK_KERNEL(name, tgt, vec, set1, first)                                             \
    __attribute__((target(tgt), noinline)) static float name(long iters, int seed) {             \
        vec a = set1(1.0f + 1e-7f * (float)seed), b = set1(1e-7f);                               \
        vec c0 = set1(0.f), c1 = set1(1.f), c2 = set1(2.f), c3 = set1(3.f), c4 = set1(4.f);      \
        vec c5 = set1(5.f), c6 = set1(6.f), c7 = set1(7.f), c8 = set1(8.f), c9 = set1(9.f);      \
        vec c10 = set1(10.f), c11 = set1(11.f);                                                  \
        for (long it = 0; it < iters; it++) {                                                    \
            FMA_PEAK_OP(c0); FMA_PEAK_OP(c1); FMA_PEAK_OP(c2); FMA_PEAK_OP(c3);                  \
            FMA_PEAK_OP(c4); FMA_PEAK_OP(c5); FMA_PEAK_OP(c6); FMA_PEAK_OP(c7);                  \
            FMA_PEAK_OP(c8); FMA_PEAK_OP(c9); FMA_PEAK_OP(c10); FMA_PEAK_OP(c11);                \
            __asm__ volatile("" : "+v"(a), "+v"(b));                                              \
        }                                                                                        \
        return first(c0) + first(c1) + first(c2) + first(c3) + first(c4) + first(c5) +          \
               first(c6) + first(c7) + first(c8) + first(c9) + first(c10) + first(c11);          \
    }

FMA_PEAK_KERNEL(fma_peak_ymm, "avx2,fma", __m256, _mm256_set1_ps, _mm256_cvtss_f32)
FMA_PEAK_KERNEL(fma_peak_zmm, "avx512f", __m512, _mm512_set1_ps, _mm512_cvtss_f32)
#undef FMA_PEAK_OP
#undef FMA_PEAK_KERNEL

#define FMA_PEAK_CHAINS 12

/* 1 when the CPU and OS support vfmadd231ps on ymm (zmm = 0) or zmm (zmm = 1). */
static int fma_peak_has(int zmm) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!fma || !osxsave || !avx) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (__get_cpuid_max(0, NULL) < 7 || (lo & 0x6) != 0x6) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (!zmm) return (b >> 5) & 1;                         /* avx2 */
    return (lo & 0xE6) == 0xE6 && ((b >> 16) & 1);         /* zmm state + avx512f */
}

/* GFLOP/s of one core on ymm or zmm FMAs (0 when the CPU lacks them); *ginst: instructions/ns. */
static double fma_peak_gflops(int zmm, long iters, int reps, double *ginst) {
    if (!fma_peak_has(zmm)) return 0;
    float (*k)(long, int) = zmm ? fma_peak_zmm : fma_peak_ymm;
    volatile float sink = k(iters / 20, 1); /* warm up (frequency license, page in) */
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = fma_peak_cpu_now();
        sink += k(iters, r);
        double t = fma_peak_cpu_now() - t0;
        if (t < best) best = t;
    }
    (void)sink;
    double inst = (double)iters * FMA_PEAK_CHAINS / best;
    if (ginst) *ginst = inst / 1e9;
    return inst * (zmm ? 32.0 : 16.0) / 1e9;
}

#endif
