/*
 * isa_peak.c - benchmark (not a test): the int8/int16 multiply-add limits of one core, the
 * figures the cpu backend's paths are held to (issue 18, docs/performance.md). For each
 * instruction the CPU has, 12 independent dependency chains (each instruction's result feeds the
 * next one of its chain: 12 >= latency 5 x 2 ports, enough to fill every port it issues on) run
 * for a fixed count; the time is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so other
 * processes time-sliced onto the core do not count, though an SMT sibling busy on the same core
 * still does. Best of 5 repetitions. One line per instruction:
 *
 *   isa_peak instr=vpmaddubsw width=ymm chains=12 ginst_s=... gmac_s=... gop_s=...
 *   isa_peak instr=vpdpbusd width=ymm skipped: no avx_vnni
 *
 * Two lines time the sequences an AVX2 GEMM without multiply-accumulate issues, one step per
 * group of MACs (the AVX2 path's practical limits): vpmaddwd+vpaddd (16 MACs, exact int16
 * pairs) and vpmaddubsw+vpmaddwd+vpaddd (32 MACs, u8 x s8 pairs widened by a vpmaddwd by ones).
 *
 * MACs per instruction: vpmaddubsw ymm 32 (u8 x s8, pairs summed to int16, saturating),
 * vpmaddwd ymm 16 (s16 x s16, pairs summed to int32), vpdpbusd ymm 32 / zmm 64 (u8 x s8, groups
 * of 4 summed into int32); GOP/s counts 2 ops per MAC. Features come from CPUID and XGETBV (OS
 * support of the ymm / zmm state); each kernel is compiled for its ISA with
 * __attribute__((target)), so the file builds with plain flags on any x86-64.
 *
 * Float: vfmadd231ps ymm (AVX2 + FMA) and zmm (AVX-512F), from fma_peak.h (shared with the float
 * conv benchmark, conv_f32_perf.c), 16 / 32 flops per instruction:
 *
 *   isa_peak instr=vfmadd231ps width=ymm chains=12 ginst_s=... gflop_s=...
 *
 * Extend: a new instruction is one PEAK_KERNEL line (its intrinsic as OP), a feature test and a
 * run_one call in main.
 */
#include "fma_peak.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CHAINS 12
#define ITERS 20000000L
#define REPS 5

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One kernel: CHAINS (12) accumulators in named registers (an array would live on the stack),
 * each updated `iters` times by OP(acc, a, b) (in place); returns a value depending on every chain so
 * nothing is dead. */
#define PEAK_KERNEL(name, tgt, vec, set1, OP, reduce)                                             \
    __attribute__((target(tgt), noinline)) static int name(long iters, int seed) {               \
        vec a = set1(0x01020304 + seed), b = set1(0x01010101);                                    \
        vec c0 = set1(seed), c1 = set1(1 + seed), c2 = set1(2 + seed), c3 = set1(3 + seed);       \
        vec c4 = set1(4 + seed), c5 = set1(5 + seed), c6 = set1(6 + seed), c7 = set1(7 + seed);   \
        vec c8 = set1(8 + seed), c9 = set1(9 + seed), c10 = set1(10 + seed);                      \
        vec c11 = set1(11 + seed);                                                               \
        for (long it = 0; it < iters; it++) {                                                    \
            OP(c0, a, b); OP(c1, a, b); OP(c2, a, b); OP(c3, a, b); OP(c4, a, b); OP(c5, a, b);   \
            OP(c6, a, b); OP(c7, a, b); OP(c8, a, b); OP(c9, a, b); OP(c10, a, b); OP(c11, a, b); \
            __asm__ volatile("" : "+x"(a), "+x"(b));                                              \
        }                                                                                        \
        return reduce(c0) + reduce(c1) + reduce(c2) + reduce(c3) + reduce(c4) + reduce(c5) +     \
               reduce(c6) + reduce(c7) + reduce(c8) + reduce(c9) + reduce(c10) + reduce(c11);    \
    }

/* The instructions as inline assembly: with intrinsics gcc 12 keeps some chains in memory
 * (reloading them every iteration), which would time store forwarding instead. Binary
 * instructions chain through their first source. */
#define MADDUBS_YMM(c, a, b) __asm__("vpmaddubsw %1, %0, %0" : "+x"(c) : "x"(b))
#define MADDWD_YMM(c, a, b) __asm__("vpmaddwd %1, %0, %0" : "+x"(c) : "x"(b))
#define DPBUSD_YMM(c, a, b) __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(c) : "x"(a), "x"(b))
#define DPBUSD_ZMM(c, a, b) __asm__("vpdpbusd %2, %1, %0" : "+v"(c) : "v"(a), "v"(b))
/* The sequences an AVX2 int8 GEMM issues per MAC group, no multiply-accumulate on AVX2: exact
 * int16 pairs (vpmaddwd, then vpaddd into the int32 accumulator), and u8 x s8 quads
 * (vpmaddubsw, vpmaddwd by ones to int32, vpaddd; exact only where pairs cannot saturate).
 * The products are independent each step; the chains go through the vpaddd. */
#define MADDWD_ADD_YMM(c, a, b)                                                                  \
    do {                                                                                         \
        __m256i t_;                                                                              \
        __asm__ volatile("vpmaddwd %2, %1, %0" : "=x"(t_) : "x"(a), "x"(b));                     \
        __asm__("vpaddd %1, %0, %0" : "+x"(c) : "x"(t_));                                        \
    } while (0)
#define MADDUBS_WD_ADD_YMM(c, a, b)                                                              \
    do {                                                                                         \
        __m256i t_;                                                                              \
        __asm__ volatile("vpmaddubsw %2, %1, %0\n\tvpmaddwd %2, %0, %0"                         \
                         : "=&x"(t_)                                                             \
                         : "x"(a), "x"(b));                                                      \
        __asm__("vpaddd %1, %0, %0" : "+x"(c) : "x"(t_));                                        \
    } while (0)
#define RED_YMM(v) _mm256_extract_epi32((v), 0)
#define RED_ZMM(v) _mm512_cvtsi512_si32(v)

PEAK_KERNEL(k_maddubs_ymm, "avx2", __m256i, _mm256_set1_epi32, MADDUBS_YMM, RED_YMM)
PEAK_KERNEL(k_maddwd_ymm, "avx2", __m256i, _mm256_set1_epi32, MADDWD_YMM, RED_YMM)
PEAK_KERNEL(k_maddwd_add_ymm, "avx2", __m256i, _mm256_set1_epi32, MADDWD_ADD_YMM, RED_YMM)
PEAK_KERNEL(k_maddubs_wd_add_ymm, "avx2", __m256i, _mm256_set1_epi32, MADDUBS_WD_ADD_YMM, RED_YMM)
PEAK_KERNEL(k_dpbusd_ymm, "avx2,avxvnni", __m256i, _mm256_set1_epi32, DPBUSD_YMM, RED_YMM)
PEAK_KERNEL(k_dpbusd_zmm, "avx512f,avx512vnni", __m512i, _mm512_set1_epi32, DPBUSD_ZMM, RED_ZMM)

typedef struct features {
    int avx2, avx512_vnni, avx_vnni;
} features;

static features detect(void) {
    features f = {0, 0, 0};
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return f;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    int ymm_os = (lo & 0x6) == 0x6, zmm_os = (lo & 0xE6) == 0xE6;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7 || !ymm_os) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    f.avx512_vnni = zmm_os && ((b >> 16) & 1) && ((c >> 11) & 1); /* avx512f + avx512_vnni */
    unsigned sub = a;                                               /* max subleaf of leaf 7 */
    if (sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        f.avx_vnni = f.avx2 && ((a >> 4) & 1);
    }
    return f;
}

static void run_one(const char *instr, const char *width, int have, const char *feature,
                    int (*k)(long, int), int macs_per_inst) {
    if (!have) {
        printf("isa_peak instr=%s width=%s skipped: no %s\n", instr, width, feature);
        fflush(stdout);
        return;
    }
    k(ITERS / 20, 1); /* warm up (frequency license, page in) */
    double best = 1e30;
    int chk = 0;
    for (int r = 0; r < REPS; r++) {
        double t0 = cpu_now();
        chk += k(ITERS, r);
        double t = cpu_now() - t0;
        if (t < best) best = t;
    }
    double inst = (double)ITERS * CHAINS / best;
    printf("isa_peak instr=%s width=%s chains=%d ginst_s=%.2f gmac_s=%.1f gop_s=%.1f chk=%d\n",
           instr, width, CHAINS, inst / 1e9, inst * macs_per_inst / 1e9,
           2.0 * inst * macs_per_inst / 1e9, chk & 0xFF);
    fflush(stdout);
}

int main(void) {
    features f = detect();
    run_one("vpmaddubsw", "ymm", f.avx2, "avx2", k_maddubs_ymm, 32);
    run_one("vpmaddwd", "ymm", f.avx2, "avx2", k_maddwd_ymm, 16);
    run_one("vpmaddwd+vpaddd", "ymm", f.avx2, "avx2", k_maddwd_add_ymm, 16);
    run_one("vpmaddubsw+vpmaddwd+vpaddd", "ymm", f.avx2, "avx2", k_maddubs_wd_add_ymm, 32);
    run_one("vpdpbusd", "ymm", f.avx_vnni, "avx_vnni", k_dpbusd_ymm, 32);
    run_one("vpdpbusd", "zmm", f.avx512_vnni, "avx512_vnni", k_dpbusd_zmm, 64);
    fma_peak fp = fma_peak_measure();
    for (int zmm = 0; zmm <= 1; zmm++) {
        const char *w = zmm ? "zmm" : "ymm";
        double gf = zmm ? fp.zmm : fp.ymm;
        if (gf > 0)
            printf("isa_peak instr=vfmadd231ps width=%s chains=12 ginst_s=%.2f gflop_s=%.1f\n", w,
                   gf / (zmm ? 32 : 16), gf);
        else
            printf("isa_peak instr=vfmadd231ps width=%s skipped: no %s\n", w,
                   zmm ? "avx512f" : "fma");
        fflush(stdout);
    }
    return 0;
}
