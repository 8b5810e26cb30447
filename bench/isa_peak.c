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
 * MACs per instruction: vpmaddubsw ymm 32 (u8 x s8, pairs summed to int16, saturating),
 * vpmaddwd ymm 16 (s16 x s16, pairs summed to int32), vpdpbusd ymm 32 / zmm 64 (u8 x s8, groups
 * of 4 summed into int32); GOP/s counts 2 ops per MAC. Features come from CPUID and XGETBV (OS
 * support of the ymm / zmm state); each kernel is compiled for its ISA with
 * __attribute__((target)), so the file builds with plain flags on any x86-64.
 *
 * AMX-INT8 (where CPUID, XCR0 and Linux's permission for tile data allow it): tdpbusd on 16 x 64
 * byte tiles, 6 independent accumulator tiles, 16 x 16 x 64 = 16384 MACs per instruction:
 *
 *   isa_peak instr=tdpbusd width=tile chains=12 ginst_s=... gmac_s=... gop_s=...
 * (12 instructions per iteration over the 6 tiles, as the vector kernels run 12 chains)
 *
 * Float: vfmadd231ps ymm (AVX2 + FMA) and zmm (AVX-512F), from fma_peak.h (shared with the float
 * conv benchmark, conv_f32_perf.c), 16 / 32 flops per instruction:
 *
 *   isa_peak instr=vfmadd231ps width=ymm chains=12 ginst_s=... gflop_s=...
 *
 * Two lines time the sequences an AVX2 GEMM without multiply-accumulate issues, one step per
 * group of MACs (the AVX2 path's practical limits): vpmaddwd+vpaddd (16 MACs, exact int16
 * pairs) and vpmaddubsw+vpmaddwd+vpaddd (32 MACs, u8 x s8 pairs widened by a vpmaddwd by ones).
 *
 * The integer kernels live in int8_peak.h (shared with bench_backbone's "% of peak" column).
 * Extend: a new instruction goes into int8_peak.h and gets a line in main.
 */
#include "fma_peak.h"
#include "int8_peak.h"

#include <stdio.h>

#define ITERS 20000000L
#define REPS 5

static void line(const char *instr, const char *width, int have, const char *feature, double gop,
                 int macs_per_inst) {
    if (!have) {
        printf("isa_peak instr=%s width=%s skipped: no %s\n", instr, width, feature);
    } else {
        double gmac = gop / 2.0;
        printf("isa_peak instr=%s width=%s chains=12 ginst_s=%.2f gmac_s=%.1f gop_s=%.1f\n", instr,
               width, gmac / macs_per_inst, gmac, gop);
    }
    fflush(stdout);
}

int main(void) {
    int8_peak p;
    int8_peak_measure(&p, ITERS, REPS);
    line("vpmaddubsw", "ymm", p.have_avx2, "avx2", p.maddubs_ymm, 32);
    line("vpmaddwd", "ymm", p.have_avx2, "avx2", p.maddwd_ymm, 16);
    line("vpmaddwd+vpaddd", "ymm", p.have_avx2, "avx2", p.maddwd_add_ymm, 16);
    line("vpmaddubsw+vpmaddwd+vpaddd", "ymm", p.have_avx2, "avx2", p.maddubs_wd_add_ymm, 32);
    line("vpdpbusd", "ymm", p.have_avx_vnni, "avx_vnni", p.dpbusd_ymm, 32);
    line("vpdpbusd", "zmm", p.have_avx512_vnni, "avx512_vnni", p.dpbusd_zmm, 64);
    line("tdpbusd", "tile", p.have_amx, "amx_int8 (or no tile permission)", p.tdpbusd,
         16 * 16 * 64);
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
