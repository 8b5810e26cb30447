/*
 * int8_peak.h - the int8/int16 multiply-add limits of one core, measured: the figures the cpu
 * backend's quantized paths are held to ("% of peak" in bench_backbone, the whole table in
 * isa_peak). For each instruction the CPU has, 12 independent dependency chains (each result
 * feeds the next instruction of its chain: 12 >= latency 5 x 2 ports) run for a fixed count,
 * timed by this thread's CPU time (CLOCK_THREAD_CPUTIME_ID: other processes time-sliced onto the
 * core do not count; an SMT sibling busy on the same core still does); best of `reps`.
 *
 *   int8_peak p; int8_peak_measure(&p, iters, reps);   GOP/s of one core per instruction (0: absent)
 *   int8_peak_for_isa(&p, "avx2", &name)               the limit an ISA path is held to
 *
 * MACs per instruction: vpmaddubsw ymm 32 (u8 x s8, pairs summed to int16, saturating), vpmaddwd
 * ymm 16 (s16 x s16 pairs into int32), vpdpbusd ymm 32 / zmm 64 (u8 x s8, groups of 4 into
 * int32), vpmaddwd+vpaddd 16 and vpmaddubsw+vpmaddwd+vpaddd 32 (the sequences an AVX2 GEMM without
 * multiply-accumulate issues: the AVX2 path's practical limits), tdpbusd 16 x 16 x 64 = 16384 (AMX-INT8 tiles; 6 accumulator tiles, 12 instructions
 * per iteration; needs Linux's permission for tile data, asked here as the cpu backend's isa.c
 * does); GOP/s counts 2 ops per MAC. Kernels are compiled for their ISA with
 * __attribute__((target)) or written as inline assembly, so the header builds with plain flags on
 * any x86-64; other architectures get zeros ("not measured").
 *
 * Extend: a new instruction is one PEAK_KERNEL line (its instruction as OP), a feature test, a
 * field, and a line in int8_peak_measure (and in int8_peak_for_isa if a path is held to it).
 */
#ifndef EV_BENCH_INT8_PEAK_H
#define EV_BENCH_INT8_PEAK_H

#include <string.h>
#include <time.h>

typedef struct int8_peak {
    double maddubs_ymm, maddwd_ymm, dpbusd_ymm, dpbusd_zmm, tdpbusd; /* GOP/s of one core */
    double maddwd_add_ymm, maddubs_wd_add_ymm; /* the AVX2 GEMM's issue sequences (below) */
    int have_avx2, have_avx_vnni, have_avx512_vnni, have_amx;
} int8_peak;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#define CHAINS 12

static inline double int8_peak_cpu_now(void) {
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

/* tdpbusd: tmm0-5 accumulate tmm6 x tmm7 (one configuration of 16 rows x 64 bytes). */
#define TILE_DPBUSD(c) __asm__ volatile("tdpbusd %%tmm7, %%tmm6, %%tmm" #c ::: "memory")
__attribute__((noinline)) static int k_tdpbusd(long iters, int seed) {
    struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } cfg __attribute__((aligned(64))) = {0};
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) cfg.rows[t] = 16, cfg.colsb[t] = 64;
    __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
    __asm__ volatile("tilezero %%tmm0\n\ttilezero %%tmm1\n\ttilezero %%tmm2\n\t"
                     "tilezero %%tmm3\n\ttilezero %%tmm4\n\ttilezero %%tmm5\n\t"
                     "tilezero %%tmm6\n\ttilezero %%tmm7" ::: "memory");
    /* CHAINS is 12 for the vector kernels: run 2 x 6 tile instructions per iteration */
    for (long it = 0; it < iters; it++) {
        TILE_DPBUSD(0); TILE_DPBUSD(1); TILE_DPBUSD(2); TILE_DPBUSD(3); TILE_DPBUSD(4);
        TILE_DPBUSD(5); TILE_DPBUSD(0); TILE_DPBUSD(1); TILE_DPBUSD(2); TILE_DPBUSD(3);
        TILE_DPBUSD(4); TILE_DPBUSD(5);
    }
    int32_t out[256] __attribute__((aligned(64)));
    long stride = 64;
    __asm__ volatile("tilestored %%tmm0, (%0,%1,1)" ::"r"(out), "r"(stride) : "memory");
    __asm__ volatile("tilerelease" ::: "memory");
    return out[0] + seed;
}

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
/* Linux's opt-in for tile data (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA = 18), as the cpu
 * backend's isa.c asks for it. */
static inline int int8_peak_amx_permission(void) {
    return syscall(SYS_arch_prctl, 0x1023L, 18L) == 0;
}
#else
static inline int int8_peak_amx_permission(void) { return 0; }
#endif

static inline void int8_peak_detect(int8_peak *f) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    int ymm_os = (lo & 0x6) == 0x6, zmm_os = (lo & 0xE6) == 0xE6;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7 || !ymm_os) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->have_avx2 = (b >> 5) & 1;
    f->have_avx512_vnni = zmm_os && ((b >> 16) & 1) && ((c >> 11) & 1); /* avx512f + vnni */
    int tile_os = (lo & (3u << 17)) == (3u << 17);
    f->have_amx = tile_os && ((d >> 24) & 1) && ((d >> 25) & 1) && int8_peak_amx_permission();
    unsigned sub = a; /* max subleaf of leaf 7 */
    if (sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        f->have_avx_vnni = f->have_avx2 && ((a >> 4) & 1);
    }
}

/* GOP/s of one core for kernel k (macs per instruction), best of reps runs of iters. */
static inline double int8_peak_time(int (*k)(long, int), int macs, long iters, int reps) {
    k(iters / 20 + 1, 1); /* warm up (frequency license, page in) */
    double best = 1e30;
    volatile int chk = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = int8_peak_cpu_now();
        chk += k(iters, r);
        double t = int8_peak_cpu_now() - t0;
        if (t < best) best = t;
    }
    (void)chk;
    return 2.0 * (double)iters * CHAINS * macs / best / 1e9;
}

/* Measures every instruction the CPU has (iters: 20000000 for isa_peak's table, about 0.1 s per
 * instruction; 2000000 is within a few percent and ten times quicker). */
static inline void int8_peak_measure(int8_peak *p, long iters, int reps) {
    memset(p, 0, sizeof *p);
    int8_peak_detect(p);
    if (p->have_avx2) p->maddubs_ymm = int8_peak_time(k_maddubs_ymm, 32, iters, reps);
    if (p->have_avx2) p->maddwd_ymm = int8_peak_time(k_maddwd_ymm, 16, iters, reps);
    if (p->have_avx2) p->maddwd_add_ymm = int8_peak_time(k_maddwd_add_ymm, 16, iters, reps);
    if (p->have_avx2)
        p->maddubs_wd_add_ymm = int8_peak_time(k_maddubs_wd_add_ymm, 32, iters, reps);
    if (p->have_avx_vnni) p->dpbusd_ymm = int8_peak_time(k_dpbusd_ymm, 32, iters, reps);
    if (p->have_avx512_vnni) p->dpbusd_zmm = int8_peak_time(k_dpbusd_zmm, 64, iters, reps);
    if (p->have_amx) p->tdpbusd = int8_peak_time(k_tdpbusd, 16 * 16 * 64, iters / 16, reps);
}
#undef CHAINS
#else
static inline void int8_peak_measure(int8_peak *p, long iters, int reps) {
    (void)iters, (void)reps;
    memset(p, 0, sizeof *p);
}
#endif

/* The limit a cpu ISA path is held to (GOP/s of one core; 0: none) and its instruction's name:
 * avx2 the vpmaddubsw ymm limit (issue 18's yardstick: its exact kernels use vpmaddwd, whose
 * limit is half), avxvnni vpdpbusd ymm, avx512 vpdpbusd ymm where AVX-VNNI exists (its GEMM) else
 * vpmaddubsw ymm, vnni vpdpbusd zmm, amx tdpbusd. */
static inline double int8_peak_for_isa(const int8_peak *p, const char *isa, const char **name) {
    const char *n = "none";
    double v = 0;
    if (!isa) isa = "";
    if (strcmp(isa, "avx2") == 0 || (strcmp(isa, "avx512") == 0 && !p->dpbusd_ymm))
        n = "vpmaddubsw ymm", v = p->maddubs_ymm;
    else if (strcmp(isa, "avxvnni") == 0 || strcmp(isa, "avx512") == 0)
        n = "vpdpbusd ymm", v = p->dpbusd_ymm;
    else if (strcmp(isa, "vnni") == 0)
        n = "vpdpbusd zmm", v = p->dpbusd_zmm;
    else if (strcmp(isa, "amx") == 0)
        n = "tdpbusd tile", v = p->tdpbusd;
    if (name) *name = n;
    return v;
}

#endif
