/*
 * fma_peak.h - the float32 multiply-add limit of one core, measured: the figure bench_float
 * holds every float path to ("% of FMA limit"). For each width the CPU has, 12 independent
 * dependency chains of vfmadd231 (12 >= latency 4 x 2 FMA ports, enough to fill every port it
 * issues on) run for a fixed count, timed by this thread's CPU time (CLOCK_THREAD_CPUTIME_ID, so
 * other processes time-sliced onto the core do not count; an SMT sibling busy on the same core
 * still does); best of 5 repetitions. Header-only, so any bench program includes it (isa_peak.c
 * times the integer instructions the same way).
 *
 *   fma_peak p = fma_peak_measure();   p.ss / p.ymm / p.zmm: GFLOP/s of one core (0: not there)
 *   fma_peak_for_isa(&p, "avx2")       the limit of the widest FMA an ISA path may use
 *
 * FLOPs per instruction: 2 x lanes (vfmadd231ss 2, ymm 16, zmm 32). Each kernel is compiled for
 * its ISA with __attribute__((target)), so the file builds with plain flags on any x86-64; other
 * architectures get zeros ("not measured").
 * Extend: another width or ISA (NEON fmla) is one FMA_KERNEL line, a feature test and a field.
 */
#ifndef EV_BENCH_FMA_PEAK_H
#define EV_BENCH_FMA_PEAK_H

#include <string.h>
#include <time.h>

typedef struct fma_peak {
    double ss, ymm, zmm; /* GFLOP/s of one core: vfmadd231ss, vfmadd231ps ymm, zmm; 0: absent */
} fma_peak;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#define FMA_PEAK_CHAINS 12
#define FMA_PEAK_ITERS 20000000L
#define FMA_PEAK_REPS 5

static inline double fma_peak_cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CHAINS accumulators in named registers, each updated `iters` times by acc += a * b (inline
 * assembly: with intrinsics gcc may keep chains in memory). Returns a value using every chain. */
#define FMA_KERNEL(name, tgt, vec, set1, insn, cons, red)                                          \
    __attribute__((target(tgt), noinline)) static float name(long iters, float seed) {           \
        vec a = set1(1.0f + 1e-7f * seed), b = set1(0.999999f);                                   \
        vec c0 = set1(seed), c1 = set1(1 + seed), c2 = set1(2 + seed), c3 = set1(3 + seed);       \
        vec c4 = set1(4 + seed), c5 = set1(5 + seed), c6 = set1(6 + seed), c7 = set1(7 + seed);   \
        vec c8 = set1(8 + seed), c9 = set1(9 + seed), c10 = set1(10 + seed);                      \
        vec c11 = set1(11 + seed);                                                               \
        for (long it = 0; it < iters; it++) {                                                    \
            __asm__(insn " %2, %1, %0" : "+" cons(c0) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c1) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c2) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c3) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c4) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c5) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c6) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c7) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c8) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c9) : cons(a), cons(b));                       \
            __asm__(insn " %2, %1, %0" : "+" cons(c10) : cons(a), cons(b));                      \
            __asm__(insn " %2, %1, %0" : "+" cons(c11) : cons(a), cons(b));                      \
            __asm__ volatile("" : "+" cons(a), "+" cons(b));                                      \
        }                                                                                        \
        return red(c0) + red(c1) + red(c2) + red(c3) + red(c4) + red(c5) + red(c6) + red(c7) +   \
               red(c8) + red(c9) + red(c10) + red(c11);                                          \
    }

#define FMA_RED_SS(v) _mm_cvtss_f32(v)
#define FMA_RED_YMM(v) _mm256_cvtss_f32(v)
#define FMA_RED_ZMM(v) _mm512_cvtss_f32(v)
FMA_KERNEL(fma_peak_k_ss, "fma", __m128, _mm_set1_ps, "vfmadd231ss", "x", FMA_RED_SS)
FMA_KERNEL(fma_peak_k_ymm, "avx2,fma", __m256, _mm256_set1_ps, "vfmadd231ps", "x", FMA_RED_YMM)
FMA_KERNEL(fma_peak_k_zmm, "avx512f", __m512, _mm512_set1_ps, "vfmadd231ps", "v", FMA_RED_ZMM)

/* 1: the CPU and OS support FMA on ymm (want == 1) / AVX-512F on zmm (want == 2). */
static inline int fma_peak_have(int want) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!fma || !osxsave || !avx) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0x6) != 0x6) return 0;
    if (want == 1) return 1;
    if (__get_cpuid_max(0, NULL) < 7 || (lo & 0xE6) != 0xE6) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 16) & 1; /* avx512f */
}

static inline double fma_peak_run(float (*k)(long, float), int flops_per_inst, float *sink) {
    *sink += k(FMA_PEAK_ITERS / 20, 1.0f); /* warm up (frequency license, page in) */
    double best = 1e30;
    for (int r = 0; r < FMA_PEAK_REPS; r++) {
        double t0 = fma_peak_cpu_now();
        *sink += k(FMA_PEAK_ITERS, (float)r);
        double t = fma_peak_cpu_now() - t0;
        if (t < best) best = t;
    }
    return (double)FMA_PEAK_ITERS * FMA_PEAK_CHAINS * flops_per_inst / best / 1e9;
}

/* About 0.1-0.5 s per width on a current core. */
static inline fma_peak fma_peak_measure(void) {
    fma_peak p = {0, 0, 0};
    volatile float keep = 0;
    float sink = 0;
    if (fma_peak_have(1)) {
        p.ss = fma_peak_run(fma_peak_k_ss, 2, &sink);
        p.ymm = fma_peak_run(fma_peak_k_ymm, 16, &sink);
    }
    if (fma_peak_have(2)) p.zmm = fma_peak_run(fma_peak_k_zmm, 32, &sink);
    keep = sink;
    (void)keep;
    return p;
}
#else
static inline fma_peak fma_peak_measure(void) {
    fma_peak p = {0, 0, 0};
    return p;
}
#endif

/* The limit of one core for an ISA path name of the cpu backend ("scalar", "avx2", "avxvnni",
 * "avx512", "vnni"); NULL or "" for the best the CPU has. 0 when not measured. */
static inline double fma_peak_for_isa(const fma_peak *p, const char *isa) {
    if (isa && (strcmp(isa, "scalar") == 0)) return p->ss;
    if (isa && (strcmp(isa, "avx2") == 0 || strcmp(isa, "avxvnni") == 0)) return p->ymm;
    return p->zmm > 0 ? p->zmm : p->ymm;
}

#endif
