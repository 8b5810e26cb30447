/*
 * cpu.h - private interface of the cpu backend: ISA levels, run-time dispatch, kernels.
 *
 * ISA variants live in suffix-named files compiled with their own flags (CMakeLists.txt), and
 * only on their architecture: x86 *_avx2.c, *_avx512.c, *_vnni.c; ARM *_neon.c (NEON: baseline
 * on aarch64, -mfpu=neon on armv7) and *_dotprod.c (aarch64, -march=armv8.2-a+dotprod). isa.c
 * detects what the CPU and OS support once (cpuid/xgetbv on x86, getauxval on Linux ARM);
 * $EV_ISA caps it, so tests can exercise every path the machine has. Kernels are chosen per op at
 * prepare time; dispatch code names x86 or ARM kernels only under EV_CPU_X86 / EV_CPU_ARM.
 *
 * Extend: a new level is an enum value here (the values of one architecture family ordered from
 * least to most capable), a detection rule and an $EV_ISA name in isa.c, and cases in the
 * kernels' dispatch (conv.c, dwconv.c).
 */
#ifndef EV_BACKENDS_CPU_H
#define EV_BACKENDS_CPU_H

#include "core/backend.h"

#include <stdint.h>

typedef enum ev_isa {
    EV_ISA_SCALAR = 0,
    EV_ISA_AVX2 = 1,   /* AVX2 + FMA                                             */
    EV_ISA_AVX512 = 2, /* AVX-512 F/BW/DQ/VL                                     */
    EV_ISA_VNNI = 3,   /* AVX-512 VNNI (vpdpbusd)                                */
    EV_ISA_NEON = 4,   /* ARM Advanced SIMD (aarch64 ASIMD, armv7 NEON)           */
    EV_ISA_NEON_DOT = 5, /* NEON + SDOT/UDOT (armv8.2 dot product: Cortex-A76, A55)  */
} ev_isa;

#if defined(__x86_64__) || defined(__i386__)
#define EV_CPU_X86 1
#endif
#if defined(__aarch64__) || defined(__arm__)
#define EV_CPU_ARM 1
#endif
#if defined(__aarch64__)
#define EV_CPU_ARM64 1 /* the dot-product kernels exist only here */
#endif

/* The path a session uses: the best supported, capped by `cap` ("scalar", "avx2", ...; an
 * unknown name or another architecture's is ignored), or by $EV_ISA when cap is NULL or "". */
ev_isa ev_cpu_isa(const char *cap);
/* Best level the machine supports, ignoring $EV_ISA. */
ev_isa ev_cpu_isa_supported(void);
const char *ev_isa_name(ev_isa isa);
/* The paths this machine supports, least capable first (scalar, then avx2... on x86, neon,
 * dotprod on ARM): writes at most `max` into out, returns how many. Tests iterate over these. */
int ev_cpu_isa_paths(ev_isa *out, int max);

/* The cpu backend's per-session context (cpu_backend.c): what init chose for this session. */
typedef struct ev_cpu_ctx {
    ev_isa isa;
} ev_cpu_ctx;

extern const ev_kernel ev_cpu_conv_kernel;   /* CONV_2D uint8/int8: im2col + packed GEMM    */
extern const ev_kernel ev_cpu_dwconv_kernel; /* DEPTHWISE_CONV_2D uint8/int8                */

#endif
