/*
 * cpu.h - private interface of the cpu backend: ISA levels, run-time dispatch, kernels.
 *
 * ISA variants live in suffix-named files compiled with their own flags (CMakeLists.txt):
 * *_avx2.c, *_vnni.c. isa.c detects what the CPU and OS support once; $EV_ISA caps it, so tests
 * can exercise every path the machine has. Kernels are chosen per op at prepare time.
 */
#ifndef EV_BACKENDS_CPU_H
#define EV_BACKENDS_CPU_H

#include "backends/backend.h"

#include <stdint.h>

typedef enum ev_isa {
    EV_ISA_SCALAR = 0,
    EV_ISA_AVX2 = 1,   /* AVX2 + FMA                                             */
    EV_ISA_AVX512 = 2, /* AVX-512 F/BW/DQ/VL                                     */
    EV_ISA_VNNI = 3,   /* AVX-512 VNNI (vpdpbusd)                                */
} ev_isa;

/* The path in use: the best supported, capped by $EV_ISA (read once). */
ev_isa ev_cpu_isa(void);
/* Best level the machine supports, ignoring $EV_ISA. */
ev_isa ev_cpu_isa_supported(void);
const char *ev_isa_name(ev_isa isa);

extern const ev_kernel ev_cpu_conv_kernel;   /* CONV_2D uint8/int8: im2col + packed GEMM    */
extern const ev_kernel ev_cpu_dwconv_kernel; /* DEPTHWISE_CONV_2D uint8/int8                */

#endif
