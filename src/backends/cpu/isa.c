/*
 * isa.c - CPU feature detection and the $EV_ISA cap.
 *
 * x86: cpuid + xgetbv for OS-enabled register state; EV_ISA=scalar|avx2|avxvnni|avx512|vnni|amx
 * limits the cpu backend to that path or below.
 *
 * x86 levels, in order: scalar < avx2 < avxvnni < avx512 < vnni < amx. amx = vnni + AMX-TILE +
 * AMX-INT8 with XCR0's tile bits set and Linux's permission for tile data granted to the process
 * (arch_prctl ARCH_REQ_XCOMP_PERM, asked once here; Linux 5.16 and later): without it a TILELOADD
 * faults, so a CPU with AMX whose kernel refuses is a vnni machine. The features are not a chain:
 * AVX-VNNI (VEX vpdpbusd on ymm, CPUID.(7,1):EAX[4]) is on Alder Lake and later client chips,
 * Sapphire Rapids and Zen 5, but not on Cascade Lake, Ice Lake or Zen 4 (AVX-512 VNNI only) nor
 * Zen 3 (AVX2 only); Alder Lake has it without AVX-512. So a level counts for a CPU only when the
 * CPU has its features (ev_cpu_isa_has: avxvnni = avx2 + AVX-VNNI, avx512 = F/BW/DQ/VL, vnni =
 * avx512 + AVX-512 VNNI), and the rule is:
 *  - paths (ev_cpu_isa_paths, which tests iterate): the levels the CPU has, in the order above;
 *  - a session's level (ev_cpu_isa): the highest level the CPU has, at most the cap's; a cap the
 *    CPU lacks falls to the highest level below it that it has (avxvnni on Ice Lake = avx2);
 *  - a kernel line of level L runs in a session of level S when L <= S and the CPU has L
 *    (ev_cpu_isa_allows); config.c takes the highest such line.
 * Hence EV_ISA=avx2 is the plain AVX2 kernels (what Zen 3 runs) on every CPU; EV_ISA=avx512 on a
 * CPU with AVX-VNNI as well (Sapphire Rapids) takes the AVX-VNNI GEMM (ymm vpdpbusd beats the
 * AVX2 int16 one; there is no AVX-512 GEMM without VNNI) with the AVX-512 depthwise rows, and on
 * one without it (Skylake-X) the AVX2 GEMM.
 * ARM (Linux): getauxval(AT_HWCAP): aarch64 HWCAP_ASIMD -> neon, HWCAP_ASIMDDP -> dotprod
 * (SDOT/UDOT, armv8.2: Cortex-A76/A55, Raspberry Pi 5); armv7 HWCAP_NEON -> neon (32-bit builds
 * have no dot-product kernels). EV_ISA=scalar|neon|dotprod. A cap naming the other architecture's
 * path (avx2 on ARM, neon on x86) is ignored.
 *
 * Extend: detect the feature in detect() (set its bit in `has`), name it in ev_isa_name() and
 * ev_cpu_isa(), place it in ev_cpu_isa_paths' order; its kernels are then lines of config.c's
 * table.
 */
#include "backends/cpu/cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define EV_X86 1
#endif
#if defined(EV_CPU_ARM) && defined(__linux__)
#include <sys/auxv.h>
#define EV_ARM_AUXV 1
#endif

static ev_isa g_supported;
static unsigned g_has; /* bit i: the CPU has level i (ev_cpu_isa_has) */
static int g_bf16; /* AVX512_BF16 with AVX-512 usable */
static int g_amx_bf16; /* AMX-BF16 and AVX512_BF16 with the AMX level usable */
static char g_features[160];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#ifdef EV_X86
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}
#endif

#if defined(EV_X86) && defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
/* Linux's opt-in for AMX tile data (arch/x86/include/uapi/asm/prctl.h, xstate feature 18). */
static int amx_permission(void) {
    const long req_xcomp_perm = 0x1023, get_xcomp_perm = 0x1022, xtiledata = 18;
    if (syscall(SYS_arch_prctl, req_xcomp_perm, xtiledata) != 0) return 0;
    unsigned long bits = 0;
    return syscall(SYS_arch_prctl, get_xcomp_perm, &bits) == 0 && (bits >> xtiledata & 1);
}
#elif defined(EV_X86)
static int amx_permission(void) { return 0; }
#endif

static void add_feature(const char *f) {
    size_t n = strlen(g_features);
    snprintf(g_features + n, sizeof g_features - n, "%s%s", n ? " " : "", f);
}

static void detect(void) {
    ev_isa best = EV_ISA_SCALAR;
    unsigned has = 1u << EV_ISA_SCALAR;
#ifdef EV_X86
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
        uint64_t xcr0 = osxsave ? xgetbv0() : 0;
        int ymm_os = (xcr0 & 6) == 6, zmm_os = (xcr0 & 0xe6) == 0xe6;
        int tile_os = (xcr0 & (3ull << 17)) == (3ull << 17);
        unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
        __get_cpuid_count(7, 0, &a7, &b7, &c7, &d7);
        int avx2 = (b7 >> 5) & 1, f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, bw = (b7 >> 30) & 1,
            vl = (b7 >> 31) & 1, vnni = (c7 >> 11) & 1, amx_tile = (d7 >> 24) & 1,
            amx_int8 = (d7 >> 25) & 1, amx_bf16 = (d7 >> 22) & 1;
        unsigned a71 = 0, b71 = 0, c71 = 0, d71 = 0;
        if (a7 >= 1) __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
        int avx_vnni = (a71 >> 4) & 1, avx512_bf16 = (a71 >> 5) & 1;
        if (avx2 && avx && fma && ymm_os) {
            add_feature("avx2 fma");
            best = EV_ISA_AVX2;
            has |= 1u << EV_ISA_AVX2;
            if (avx_vnni) {
                add_feature("avx_vnni");
                best = EV_ISA_AVXVNNI;
                has |= 1u << EV_ISA_AVXVNNI;
            }
        }
        if ((has & 1u << EV_ISA_AVX2) && f && bw && dq && vl && zmm_os) {
            add_feature("avx512f avx512bw avx512dq avx512vl");
            best = EV_ISA_AVX512;
            has |= 1u << EV_ISA_AVX512;
            if (vnni) {
                add_feature("avx512_vnni");
                best = EV_ISA_VNNI;
                has |= 1u << EV_ISA_VNNI;
            }
            if (avx512_bf16) {
                add_feature("avx512_bf16");
                g_bf16 = 1;
            }
        }
        if (amx_tile && amx_int8 && tile_os) {
            add_feature("amx_int8");
            if ((has & 1u << EV_ISA_VNNI) && amx_permission()) {
                best = EV_ISA_AMX;
                has |= 1u << EV_ISA_AMX;
                if (amx_bf16 && g_bf16) {
                    add_feature("amx_bf16");
                    g_amx_bf16 = 1;
                }
            } else {
                add_feature("no_tile_permission");
            }
        }
    }
#endif
#ifdef EV_ARM_AUXV
    unsigned long hw = getauxval(AT_HWCAP);
#if defined(__aarch64__)
    /* arch/arm64/include/uapi/asm/hwcap.h */
    const unsigned long asimd = 1ul << 1, asimddp = 1ul << 20;
    if (hw & asimd) {
        add_feature("asimd");
        best = EV_ISA_NEON;
        has |= 1u << EV_ISA_NEON;
        if (hw & asimddp) {
            add_feature("asimddp");
            best = EV_ISA_NEON_DOT;
            has |= 1u << EV_ISA_NEON_DOT;
        }
    }
#else
    /* arch/arm/include/uapi/asm/hwcap.h */
    const unsigned long neon = 1ul << 12;
    if (hw & neon) {
        add_feature("neon");
        best = EV_ISA_NEON;
        has |= 1u << EV_ISA_NEON;
    }
#endif
#endif
    if (!g_features[0]) add_feature("none");
    g_supported = best;
    g_has = has;
}

int ev_cpu_isa_has(ev_isa isa) {
    pthread_once(&g_once, detect);
    return (unsigned)isa < 32 && (g_has >> isa & 1u);
}

int ev_cpu_has_bf16(void) {
    pthread_once(&g_once, detect);
    return g_bf16;
}

int ev_cpu_has_amx_bf16(void) {
    pthread_once(&g_once, detect);
    return g_amx_bf16;
}

static int is_arm(ev_isa v) { return v == EV_ISA_NEON || v == EV_ISA_NEON_DOT; }

/* $EV_ISA is read at every call without a cap (once per session, at init), so a tool can set it
 * between sessions. */
ev_isa ev_cpu_isa(const char *cap) {
    pthread_once(&g_once, detect);
    ev_isa active = g_supported;
    if (!cap || !*cap) cap = getenv("EV_ISA");
    if (cap && *cap) {
        ev_isa want = active;
        if (strcmp(cap, "scalar") == 0) want = EV_ISA_SCALAR;
#ifdef EV_X86
        else if (strcmp(cap, "avx2") == 0) want = EV_ISA_AVX2;
        else if (strcmp(cap, "avxvnni") == 0) want = EV_ISA_AVXVNNI;
        else if (strcmp(cap, "avx512") == 0) want = EV_ISA_AVX512;
        else if (strcmp(cap, "vnni") == 0) want = EV_ISA_VNNI;
        else if (strcmp(cap, "amx") == 0) want = EV_ISA_AMX;
#endif
#ifdef EV_CPU_ARM
        else if (strcmp(cap, "neon") == 0) want = EV_ISA_NEON;
        else if (strcmp(cap, "dotprod") == 0) want = EV_ISA_NEON_DOT;
#endif
        if (want < active) {
            /* the highest level at most `want` that the CPU has, in want's family */
            active = EV_ISA_SCALAR;
            for (int v = (int)want; v > EV_ISA_SCALAR; v--)
                if (is_arm((ev_isa)v) == is_arm(want) && ev_cpu_isa_has((ev_isa)v)) {
                    active = (ev_isa)v;
                    break;
                }
        }
    }
    return active;
}

int ev_cpu_isa_paths(ev_isa *out, int max) {
    static const ev_isa order[] = {EV_ISA_SCALAR, EV_ISA_AVX2,  EV_ISA_AVXVNNI, EV_ISA_AVX512,
                                   EV_ISA_VNNI,   EV_ISA_AMX,   EV_ISA_NEON,  EV_ISA_NEON_DOT};
    ev_isa best = ev_cpu_isa_supported();
    int n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && n < max; i++) {
        ev_isa v = order[i];
        int same_family = v == EV_ISA_SCALAR ||
                          ((v >= EV_ISA_NEON) == (best >= EV_ISA_NEON) && best != EV_ISA_SCALAR);
        if (same_family && v <= best && ev_cpu_isa_has(v)) out[n++] = v;
    }
    return n;
}

int ev_cpu_isa_allows(ev_isa session, ev_isa needs) {
    if (needs == EV_ISA_SCALAR) return 1;
    if (session == EV_ISA_SCALAR || is_arm(session) != is_arm(needs)) return 0;
    return needs <= session && ev_cpu_isa_has(needs);
}

ev_isa ev_cpu_isa_supported(void) {
    pthread_once(&g_once, detect);
    return g_supported;
}

const char *ev_isa_name(ev_isa isa) {
    switch (isa) {
    case EV_ISA_SCALAR: return "scalar";
    case EV_ISA_AVX2: return "avx2";
    case EV_ISA_AVXVNNI: return "avxvnni";
    case EV_ISA_AVX512: return "avx512";
    case EV_ISA_VNNI: return "vnni";
    case EV_ISA_AMX: return "amx";
    case EV_ISA_NEON: return "neon";
    case EV_ISA_NEON_DOT: return "dotprod";
    }
    return "unknown";
}

const char *ev_cpu_isa_name(void) { return ev_isa_name(ev_cpu_isa(NULL)); }

int ev_cpu_isa_list(const char **names, int max) {
    ev_isa paths[16];
    int n = ev_cpu_isa_paths(paths, 16);
    for (int i = 0; i < n && i < max; i++) names[i] = ev_isa_name(paths[i]);
    return n;
}

const char *ev_cpu_features(void) {
    pthread_once(&g_once, detect);
    return g_features;
}
