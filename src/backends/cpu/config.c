/*
 * config.c - the cpu backend's kernels as data: one line per (ISA, data type) microkernel, and
 * the per-session choice among them (ev_cpu_config_init, called once by the backend's init).
 *
 * Names follow XNNPACK: <data type>_<op>_<tile>__<isa>. The GEMM's data type is its operands'
 * (u8 activations x s8 weights: conv.c shifts int8 activations and offsets weights so both
 * uint8 and int8 models reduce to it); its tile is the register tile, rows x channels, as the
 * kernel's file defines it (mr, nr; kr is k per packed group). A depthwise row serves one op
 * data type; its tile is the channels per step.
 *
 * Choice: for each op kind and data type, the line with the most capable ISA the session allows
 * (ev_cpu_isa_allows: same family, no more than the session's, and the CPU has its features:
 * an avxvnni line is never chosen on a CPU without AVX-VNNI; scalar always); among lines of
 * the same ISA, the first. A depthwise line with max_kh gives way, for taller kernels, to the
 * next best that takes them (the portable one takes any).
 *
 * Extend: a kernel is one file (its function, with the signature of its op kind) and one entry
 * below (one line of the table, wrapped in two), under the #ifdef of its architecture; a new ISA first needs its ev_isa value and
 * detection (cpu.h, isa.c). Keep a portable line for every op kind and data type served, so
 * every session has a kernel. Debug builds check each line's tile against its name.
 */
#include "backends/cpu/cpu.h"
#include "backends/cpu/dwconv.h"
#include "backends/cpu/dwconv_dotprod.h"
#include "backends/cpu/dwconv_neon.h"
#include "backends/cpu/dwconv_f32.h"
#include "backends/cpu/gemm.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define Q8 (EV_CPU_DT(EV_DTYPE_U8) | EV_CPU_DT(EV_DTYPE_I8))
#define U8 EV_CPU_DT(EV_DTYPE_U8)
#define S8 EV_CPU_DT(EV_DTYPE_I8)
#define STR_(x) #x
#define STR(x) STR_(x)

/* clang-format off */
static const ev_cpu_gemm_entry k_gemm[] = {
    /* isa            dtypes name                                 mr  nr  kr flags
         gemm             packed_size            pack             scratch  min_kp */
    {EV_ISA_SCALAR,   Q8, "u8s8_gemm_1x16__scalar",                1, 16, 4, 0,
         ev_gemm_scalar,  ev_gemm_packed_size,   ev_gemm_pack,    NULL, 0},
#ifdef EV_CPU_X86
    {EV_ISA_AVX2,     Q8, "u8s8_gemm_6x16__avx2",                  6, 16, 2, EV_GEMM_OWN_ROWSUMS,
         ev_gemm_avx2,    ev_gemm_pack16_size,   ev_gemm_pack16,  ev_gemm_avx2_scratch, 0},
    {EV_ISA_AVXVNNI,  Q8, "u8s8_gemm_6x16__avxvnni",               6, 16, 4, EV_GEMM_OWN_ROWSUMS,
         ev_gemm_avxvnni, ev_gemm_packed_size,   ev_gemm_pack,    NULL, 0},
    {EV_ISA_VNNI,     Q8, "u8s8_gemm_6x64__avx512vnni",            6, 64, 4, EV_GEMM_OWN_ROWSUMS,
         ev_gemm_vnni,    ev_gemm_packed_size,   ev_gemm_pack,    NULL, 0},
    /* AMX from Kp 36: below it a 64-k tile is mostly zero padding and the VNNI GEMM wins
     * (PoseNet's conv0, K 27, and first 1x1, K 24: 1.6x / 1.9x slower on AMX; K 48 10% faster) */
    {EV_ISA_AMX,      Q8, "u8s8_gemm_32x32__amx",                 32, 32, 4, 0,
         ev_gemm_amx,     ev_gemm_amx_packed_size, ev_gemm_amx_pack, ev_gemm_amx_scratch, 36},
#endif
#ifdef EV_CPU_ARM
    {EV_ISA_NEON,     Q8, "u8s8_gemm_" STR(EV_GEMM_NEON_MR) "x16__neon",
                                                   EV_GEMM_NEON_MR, 16, 4,
         EV_GEMM_A_MINUS_128 | EV_GEMM_OWN_ROWSUMS,
         ev_gemm_neon,    ev_gemm_neon_packed_size, ev_gemm_neon_pack, NULL, 0},
#endif
#ifdef EV_CPU_ARM64
    {EV_ISA_NEON_DOT, Q8, "u8s8_gemm_4x16__neondot",               4, 16, 4,
         EV_GEMM_A_MINUS_128 | EV_GEMM_OWN_ROWSUMS,
         ev_gemm_dotprod, ev_gemm_dot_packed_size, ev_gemm_dot_pack, NULL, 0},
#endif
};

static const ev_cpu_dw_entry k_dw[] = {
    /* isa            dtypes name                            cr max_kh
         row               packed_size            pack */
    {EV_ISA_SCALAR,   U8, "u8_dwconv_row_1c__scalar",         1, 0,
         ev_dw_row_scalar, NULL,                  NULL},
    {EV_ISA_SCALAR,   S8, "s8_dwconv_row_1c__scalar",         1, 0,
         ev_dw_row_scalar, NULL,                  NULL},
#ifdef EV_CPU_X86
    {EV_ISA_AVX2,     U8, "u8_dwconv_row_8c__avx2",           8, 0,
         ev_dw_row_avx2,   ev_dw_pack_lo16_size,  ev_dw_pack_lo16},
    {EV_ISA_AVX2,     S8, "s8_dwconv_row_8c__avx2",           8, 0,
         ev_dw_row_avx2,   ev_dw_pack_lo16_size,  ev_dw_pack_lo16},
    {EV_ISA_AVX512,   U8, "u8_dwconv_row_16c__avx512skx",    16, EV_DW_SIMD_MAX_KH,
         ev_dw_row_avx512, ev_dw_pack_lo16_size,  ev_dw_pack_lo16},
    {EV_ISA_AVX512,   S8, "s8_dwconv_row_16c__avx512skx",    16, EV_DW_SIMD_MAX_KH,
         ev_dw_row_avx512, ev_dw_pack_lo16_size,  ev_dw_pack_lo16},
    {EV_ISA_VNNI,     U8, "u8_dwconv_row_16c__avx512vnni",   16, EV_DW_SIMD_MAX_KH,
         ev_dw_row_vnni,   ev_dw_pack_lo16_size,  ev_dw_pack_lo16},
    {EV_ISA_VNNI,     S8, "s8_dwconv_row_16c__avx512vnni",   16, EV_DW_SIMD_MAX_KH,
         ev_dw_row_vnni,   ev_dw_pack_lo16_size,  ev_dw_pack_lo16},
#endif
#ifdef EV_CPU_ARM
    {EV_ISA_NEON,     U8, "u8_dwconv_row_8c__neon",           8, EV_DW_SIMD_MAX_KH,
         ev_dw_row_neon,   ev_dw_pack_neon_size,  ev_dw_pack_neon},
    {EV_ISA_NEON,     S8, "s8_dwconv_row_8c__neon",           8, EV_DW_SIMD_MAX_KH,
         ev_dw_row_neon,   ev_dw_pack_neon_size,  ev_dw_pack_neon},
#endif
#ifdef EV_CPU_ARM64
    /* SDOT on 3x3 (other shapes and weights outside int8: the neon row, same buffer) */
    {EV_ISA_NEON_DOT, U8, "u8_dwconv_row_8c__neondot",        8, EV_DW_SIMD_MAX_KH,
         ev_dw_row_dotprod, ev_dw_pack_dot_size,  ev_dw_pack_dot},
    {EV_ISA_NEON_DOT, S8, "s8_dwconv_row_8c__neondot",        8, EV_DW_SIMD_MAX_KH,
         ev_dw_row_dotprod, ev_dw_pack_dot_size,  ev_dw_pack_dot},
#endif
};

/* Float32 lines (gemm_f32.h, dwconv_f32.h). */
static const ev_cpu_f32_gemm_entry k_gemm_f32[] = {
    /* isa            name                        mr  nr  gemm  flags  own packing (NULL: the
                                                  float layout: pack, packed_size, block_floats),
                                                  split and split_row_bytes (split lines) */
    {EV_ISA_SCALAR,   "f32_gemm_1x8__scalar",      1,  8, ev_f32_gemm_scalar, EV_F32_GEMM_TAPS,
         NULL, NULL, NULL, NULL, NULL},
#ifdef EV_CPU_X86
    {EV_ISA_AVX2,     "f32_gemm_6x16__avx2",       6, 16, ev_f32_gemm_avx2, EV_F32_GEMM_TAPS,
         NULL, NULL, NULL, NULL, NULL},
    {EV_ISA_AVX512,   "f32_gemm_14x32__avx512skx", 14, 32, ev_f32_gemm_avx512, EV_F32_GEMM_TAPS,
         NULL, NULL, NULL, NULL, NULL},
    {EV_ISA_AVX512,   "f32_gemm_14x32__avx512bf16", 14, 32, ev_f32_gemm_bf16_avx512,
         EV_F32_GEMM_BF16, ev_f32_gemm_bf16_pack, ev_f32_gemm_bf16_packed_size,
         ev_f32_gemm_bf16_block_floats, NULL, NULL},
    {EV_ISA_AMX,      "f32_gemm_32x32__amxbf16x3", 32, 32, ev_f32_gemm_amx, EV_F32_GEMM_SPLIT,
         ev_f32_gemm_amx_pack, ev_f32_gemm_amx_packed_size, ev_f32_gemm_amx_block_floats,
         ev_f32_gemm_amx_split, ev_f32_gemm_amx_row_bytes},
#endif
#ifdef EV_CPU_ARM
    {EV_ISA_NEON,     "f32_gemm_" STR(EV_F32_GEMM_NEON_MR) "x8__neon",
                                   EV_F32_GEMM_NEON_MR,  8, ev_f32_gemm_neon, 0, NULL, NULL, NULL,
                                   NULL, NULL},
#endif
};

static const ev_cpu_f32_dw_entry k_dw_f32[] = {
    /* isa            name                        cr max_kh row */
    {EV_ISA_SCALAR,   "f32_dwconv_row_1c__scalar",  1, 0, ev_f32_dw_row_scalar},
#ifdef EV_CPU_X86
    {EV_ISA_AVX2,     "f32_dwconv_row_16c__avx2",  16, 0, ev_f32_dw_row_avx2},
    {EV_ISA_AVX512,   "f32_dwconv_row_16c__avx512skx", 16, 0, ev_f32_dw_row_avx512},
#endif
#ifdef EV_CPU_ARM
    {EV_ISA_NEON,     "f32_dwconv_row_" STR(EV_DW_F32_NEON_CR) "c__neon",
                                         EV_DW_F32_NEON_CR, 0, ev_f32_dw_row_neon},
#endif
};

/* Float first-layer rows (conv_f32_first.h): one per ISA at most; none: the GEMM path. */
static const ev_cpu_f32_first_entry k_first_f32[] = {
    /* isa            name                               mr  nb  row */
#ifdef EV_CPU_X86
    {EV_ISA_AVX2,     "f32_conv_first_6x16__avx2",        6, 16, ev_f32_conv_first_avx2},
    {EV_ISA_AVX512,   "f32_conv_first_6x64__avx512skx",   6, 64, ev_f32_conv_first_avx512},
#endif
    {EV_ISA_SCALAR,   NULL, 0, 0, NULL}, /* keeps the table non-empty on every architecture */
};

/* Float elementwise / pooling sets (f32_ops.inc: every kernel of the set on one ISA). */
static const ev_cpu_f32_ops *const k_ops_f32[] = {
    &ev_cpu_f32_ops_scalar,
#ifdef EV_CPU_X86
    &ev_cpu_f32_ops_avx2,
    &ev_cpu_f32_ops_avx512,
#endif
#ifdef EV_CPU_ARM
    &ev_cpu_f32_ops_neon,
#endif
};
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(EV_DTYPE_I16 < EV_CPU_DTYPES, "EV_CPU_DTYPES must cover every ev_dtype");

/* `a` is more capable than `b` (two ISAs one session allows: one family, or scalar). */
static int more_capable(ev_isa a, ev_isa b) { return a != b && ev_cpu_isa_allows(a, b); }

static const ev_cpu_gemm_entry *pick_gemm(ev_isa isa, ev_dtype dt, int Kp) {
    const ev_cpu_gemm_entry *best = NULL;
    for (size_t i = 0; i < COUNT(k_gemm); i++) {
        const ev_cpu_gemm_entry *e = &k_gemm[i];
        if (!(e->dtypes & EV_CPU_DT(dt)) || !ev_cpu_isa_allows(isa, e->isa)) continue;
        if (Kp < e->min_kp) continue;
        if (!best || more_capable(e->isa, best->isa)) best = e;
    }
    return best;
}

static const ev_cpu_dw_entry *pick_dw(ev_isa isa, ev_dtype dt, int k_h) {
    const ev_cpu_dw_entry *best = NULL;
    for (size_t i = 0; i < COUNT(k_dw); i++) {
        const ev_cpu_dw_entry *e = &k_dw[i];
        if (!(e->dtypes & EV_CPU_DT(dt)) || !ev_cpu_isa_allows(isa, e->isa)) continue;
        if (k_h > 0 && e->max_kh > 0 && k_h > e->max_kh) continue;
        if (!best || more_capable(e->isa, best->isa)) best = e;
    }
    return best;
}

/* The float GEMM line for a session: plain lines, or (bf16 = 1) the opt-in bf16 lines, which
 * also need the CPU's AVX512_BF16. */
static const ev_cpu_f32_gemm_entry *pick_f32_gemm(ev_isa isa, int bf16) {
    const ev_cpu_f32_gemm_entry *best = NULL;
    for (size_t i = 0; i < COUNT(k_gemm_f32); i++) {
        const ev_cpu_f32_gemm_entry *e = &k_gemm_f32[i];
        if (!(e->flags & EV_F32_GEMM_BF16) != !bf16 || (e->flags & EV_F32_GEMM_SPLIT)) continue;
        if (bf16 && !ev_cpu_has_bf16()) continue;
        if (!e->gemm || !ev_cpu_isa_allows(isa, e->isa)) continue;
        if (!best || more_capable(e->isa, best->isa)) best = e;
    }
    return best;
}

/* The split line (float32 accuracy on AMX-BF16) a session allows, where the CPU has it. */
static const ev_cpu_f32_gemm_entry *pick_f32_gemm_split(ev_isa isa) {
    const ev_cpu_f32_gemm_entry *best = NULL;
    for (size_t i = 0; i < COUNT(k_gemm_f32); i++) {
        const ev_cpu_f32_gemm_entry *e = &k_gemm_f32[i];
        if (!(e->flags & EV_F32_GEMM_SPLIT) || !e->gemm || !ev_cpu_has_amx_bf16() ||
            !ev_cpu_isa_allows(isa, e->isa))
            continue;
        if (!best || more_capable(e->isa, best->isa)) best = e;
    }
    return best;
}

static const ev_cpu_f32_dw_entry *pick_f32_dw(ev_isa isa, int k_h) {
    const ev_cpu_f32_dw_entry *best = NULL;
    for (size_t i = 0; i < COUNT(k_dw_f32); i++) {
        const ev_cpu_f32_dw_entry *e = &k_dw_f32[i];
        if (!e->row || !ev_cpu_isa_allows(isa, e->isa)) continue;
        if (k_h > 0 && e->max_kh > 0 && k_h > e->max_kh) continue;
        if (!best || more_capable(e->isa, best->isa)) best = e;
    }
    return best;
}

static const ev_cpu_f32_first_entry *pick_f32_first(ev_isa isa) {
    const ev_cpu_f32_first_entry *best = NULL;
    for (size_t i = 0; i < COUNT(k_first_f32); i++) {
        const ev_cpu_f32_first_entry *e = &k_first_f32[i];
        if (e->row && ev_cpu_isa_allows(isa, e->isa) && (!best || more_capable(e->isa, best->isa)))
            best = e;
    }
    return best;
}

static const ev_cpu_f32_ops *pick_f32_ops(ev_isa isa) {
    const ev_cpu_f32_ops *best = NULL;
    for (size_t i = 0; i < COUNT(k_ops_f32); i++) {
        const ev_cpu_f32_ops *e = k_ops_f32[i];
        if (!ev_cpu_isa_allows(isa, e->isa)) continue;
        if (!best || more_capable(e->isa, best->isa)) best = e;
    }
    return best;
}

#if EV_CPU_CHECKS
/* Debug builds: every line's name carries its tile ("_<mr>x<nr>__", "_<cr>c__"). */
static void check_table(void) {
    char tile[32];
    for (size_t i = 0; i < COUNT(k_gemm); i++) {
        const ev_cpu_gemm_entry *e = &k_gemm[i];
        snprintf(tile, sizeof tile, "_%dx%d__", e->mr, e->nr);
        EV_CPU_ASSERT(strstr(e->name, tile) && e->gemm && e->pack && e->packed_size && e->kr > 0);
    }
    for (size_t i = 0; i < COUNT(k_dw); i++) {
        const ev_cpu_dw_entry *e = &k_dw[i];
        snprintf(tile, sizeof tile, "_%dc__", e->cr);
        EV_CPU_ASSERT(strstr(e->name, tile) && e->row && !e->pack == !e->packed_size);
    }
    for (size_t i = 0; i < COUNT(k_gemm_f32); i++) {
        const ev_cpu_f32_gemm_entry *e = &k_gemm_f32[i];
        snprintf(tile, sizeof tile, "_%dx%d__", e->mr, e->nr);
        EV_CPU_ASSERT(strstr(e->name, tile) && e->gemm && e->nr > 0);
    }
    for (size_t i = 0; i < COUNT(k_first_f32); i++) {
        const ev_cpu_f32_first_entry *e = &k_first_f32[i];
        if (!e->row) continue;
        snprintf(tile, sizeof tile, "_%dx%d__", e->mr, e->nb);
        EV_CPU_ASSERT(strstr(e->name, tile) && e->nb > 0);
    }
    for (size_t i = 0; i < COUNT(k_dw_f32); i++) {
        const ev_cpu_f32_dw_entry *e = &k_dw_f32[i];
        if (!e->row) continue;
        snprintf(tile, sizeof tile, "_%dc__", e->cr);
        EV_CPU_ASSERT(strstr(e->name, tile) && e->cr > 0);
    }
}
#endif

void ev_cpu_config_init(ev_isa isa, ev_cpu_config *cfg) {
#if EV_CPU_CHECKS
    check_table();
#endif
    memset(cfg, 0, sizeof *cfg);
    cfg->isa = isa;
    for (int dt = 0; dt < EV_CPU_DTYPES; dt++) {
        cfg->gemm[dt] = pick_gemm(isa, (ev_dtype)dt, INT_MAX);
        cfg->dw[dt] = pick_dw(isa, (ev_dtype)dt, 0);
    }
    cfg->f32_gemm = pick_f32_gemm(isa, 0);
    cfg->f32_gemm_bf16 = pick_f32_gemm(isa, 1);
    cfg->f32_gemm_split = pick_f32_gemm_split(isa);
    cfg->f32_dw = pick_f32_dw(isa, 0);
    cfg->f32_first = pick_f32_first(isa);
    cfg->f32_ops = pick_f32_ops(isa);
}

const ev_cpu_f32_dw_entry *ev_cpu_config_f32_dw(const ev_cpu_config *cfg, int k_h) {
    const ev_cpu_f32_dw_entry *e = cfg->f32_dw;
    if (e && e->max_kh > 0 && k_h > e->max_kh) e = pick_f32_dw(cfg->isa, k_h);
    return e;
}

const ev_cpu_gemm_entry *ev_cpu_config_gemm(const ev_cpu_config *cfg, ev_dtype dtype, int Kp) {
    if ((unsigned)dtype >= EV_CPU_DTYPES) return NULL;
    const ev_cpu_gemm_entry *e = cfg->gemm[dtype];
    if (e && Kp < e->min_kp) e = pick_gemm(cfg->isa, dtype, Kp);
    return e;
}

const ev_cpu_dw_entry *ev_cpu_config_dw(const ev_cpu_config *cfg, ev_dtype dtype, int k_h) {
    if ((unsigned)dtype >= EV_CPU_DTYPES) return NULL;
    const ev_cpu_dw_entry *e = cfg->dw[dtype];
    if (e && e->max_kh > 0 && k_h > e->max_kh) e = pick_dw(cfg->isa, dtype, k_h);
    return e;
}

size_t ev_cpu_f32_packed_size(const ev_cpu_f32_gemm_entry *e, int N, int K) {
    return e->packed_size ? e->packed_size(N, K, e->nr) : ev_f32_gemm_packed_size(N, K, e->nr);
}

void ev_cpu_f32_pack(const ev_cpu_f32_gemm_entry *e, const float *w, const float *bias, int N,
                     int K, float *out) {
    if (e->pack)
        e->pack(w, bias, N, K, e->nr, out);
    else
        ev_f32_gemm_pack(w, bias, N, K, e->nr, out);
}

const float *ev_cpu_f32_block(const ev_cpu_f32_gemm_entry *e, const float *Wp, int n0, int K) {
    if (!e->block_floats) return ev_f32_gemm_block(Wp, n0, K, e->nr);
    return Wp + (size_t)(n0 / e->nr) * e->block_floats(K, e->nr);
}
