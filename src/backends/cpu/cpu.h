/*
 * cpu.h - private interface of the cpu backend: ISA levels, the per-session kernel config, kernels.
 *
 * ISA variants live in suffix-named files compiled with their own flags (CMakeLists.txt), and
 * only on their architecture: x86 *_avx2.c, *_avxvnni.c (AVX2 + AVX-VNNI), *_avx512.c, *_vnni.c;
 * ARM *_neon.c (NEON: baseline on aarch64, -mfpu=neon on armv7) and *_dotprod.c (aarch64,
 * -march=armv8.2-a+dotprod). isa.c detects what the CPU and OS support once (cpuid/xgetbv on
 * x86, getauxval on Linux ARM).
 *
 * Kernels are chosen as data. config.c holds one table line per (ISA, data type) microkernel,
 * named XNNPACK style <data type>_<op>_<tile>__<isa> ("u8s8_gemm_6x64__avx512vnni",
 * "u8_dwconv_row_16c__avx512vnni"), with everything its caller needs to know: its function, its
 * weight packing, its per-thread scratch, its tile and flags (ARM's x - 128 activations). The
 * backend's init builds an ev_cpu_config once per session (ev_cpu_config_init) from the ISA the
 * session allows (its `isa` option, else $EV_ISA, capped by what the CPU has); supports() reports
 * the chosen line's name and the ops (conv.c, dwconv.c) run it, with no ISA test of their own.
 * Only the table names architecture-specific kernels, under EV_CPU_X86 / EV_CPU_ARM.
 *
 * Extend:
 *  - a kernel for an existing op and data type on some ISA (an AVX-512 GEMM, a wider NEON tile):
 *    one file with the op's signature (ev_gemm_fn, ev_dw_row_fn; a pack function of its own if no
 *    existing layout suits it) and one line in config.c's table; nothing else changes.
 *  - a new ISA level (AMX, SVE, i8mm): an enum value below (each architecture family ordered
 *    from least to most capable), its detection and $EV_ISA name in isa.c, and then its kernels
 *    as above, each one file and one line.
 *  - a float kernel: float ops have their own tables (k_gemm_f32, k_dw_f32 in config.c) with
 *    their own signatures (gemm_f32.h, dwconv_f32.h); a kernel is one file and one line there.
 */
#ifndef EV_BACKENDS_CPU_H
#define EV_BACKENDS_CPU_H

#include "backends/cpu/gemm.h"
#include "backends/cpu/conv_f32_first.h"
#include "backends/cpu/gemm_f32.h"
#include "core/backend.h"

#include <stdint.h>

typedef enum ev_isa {
    EV_ISA_SCALAR = 0,
    EV_ISA_AVX2 = 1,    /* AVX2 + FMA                                            */
    EV_ISA_AVXVNNI = 2, /* AVX2 + AVX-VNNI (VEX vpdpbusd ymm: Alder Lake+, Zen 5)  */
    EV_ISA_AVX512 = 3,  /* AVX-512 F/BW/DQ/VL                                    */
    EV_ISA_VNNI = 4,    /* AVX-512 VNNI (vpdpbusd zmm)                           */
    EV_ISA_AMX = 5,     /* VNNI + AMX-INT8 (tdpbusd tiles: Sapphire Rapids and later), with
                           the OS's permission for tile data (arch_prctl)               */
    EV_ISA_NEON = 6,    /* ARM Advanced SIMD (aarch64 ASIMD, armv7 NEON)          */
    EV_ISA_NEON_DOT = 7, /* NEON + SDOT/UDOT (armv8.2 dot product: Cortex-A76, A55) */
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
/* Best level the machine supports, ignoring $EV_ISA. Levels are not a chain on x86: a CPU may
 * have AVX-512 VNNI without AVX-VNNI (Ice Lake, Zen 4) or AVX-VNNI without AVX-512 (Alder Lake);
 * ev_cpu_isa_has says which levels this one has. */
ev_isa ev_cpu_isa_supported(void);
/* The CPU (and OS) has every feature level `isa` needs (scalar: always). */
int ev_cpu_isa_has(ev_isa isa);
const char *ev_isa_name(ev_isa isa);
/* The CPU has AVX512_BF16 (vdpbf16ps) with AVX-512 usable: the opt-in bf16 GEMM's feature,
 * not an ISA level (only EV_FLOAT_BF16 sessions on an AVX-512 path use it). */
int ev_cpu_has_bf16(void);
/* The AMX level is usable and the CPU also has AMX-BF16 (tdpbf16ps) and AVX512_BF16: the split
 * float line's features (gemm_f32_amx.c). */
int ev_cpu_has_amx_bf16(void);
/* The paths this machine supports, least capable first (scalar, then avx2... on x86, neon,
 * dotprod on ARM): writes at most `max` into out, returns how many. Tests iterate over these. */
int ev_cpu_isa_paths(ev_isa *out, int max);

/* A kernel written for `needs` may run in a session on `session`: scalar, or the same family
 * (x86 or ARM), no higher in the order above than `session`, and the CPU has `needs`'s features
 * (ev_cpu_isa_has: an avxvnni line never runs on a CPU without AVX-VNNI, whatever the cap). */
int ev_cpu_isa_allows(ev_isa session, ev_isa needs);

/* ---- The kernel config (config.c) ---------------------------------------------------------- */

struct cpu_dw;
typedef void (*ev_dw_row_fn)(const struct cpu_dw *s, const uint8_t *img, int oy,
                             uint8_t *out_row);
typedef size_t (*ev_dw_packed_size_fn)(int taps, int Cp);
typedef void (*ev_dw_pack_fn)(const int32_t *w, int taps, int Cp, void *out);

#define EV_CPU_DT(dtype) (1u << (dtype)) /* an entry's `dtypes` bit for an op data type */
#define EV_CPU_DTYPES 8                  /* ev_dtype values a config indexes (> EV_DTYPE_I16) */

/* A GEMM line: CONV_2D reduces to it (conv.c). */
typedef struct ev_cpu_gemm_entry {
    ev_isa isa;                         /* least ISA it needs                              */
    unsigned dtypes;                    /* op data types it serves (EV_CPU_DT bits)        */
    const char *name;                   /* "u8s8_gemm_<mr>x<nr>__<isa>"                    */
    int mr, nr, kr;                     /* register tile: rows x channels, k per group     */
    unsigned flags;                     /* EV_GEMM_A_MINUS_128, EV_GEMM_OWN_ROWSUMS        */
    ev_gemm_fn gemm;
    ev_gemm_packed_size_fn packed_size; /* its weight layout ...                           */
    ev_gemm_pack_fn pack;               /* ... and how to write it                         */
    ev_gemm_scratch_fn scratch;         /* per-thread scratch for M rows (NULL: none)      */
    int min_kp;                         /* takes only convolutions with Kp >= this (0: any);
                                           below it the next best line runs                */
} ev_cpu_gemm_entry;

/* A depthwise row line: DEPTHWISE_CONV_2D runs one per output row (dwconv.c). */
typedef struct ev_cpu_dw_entry {
    ev_isa isa;
    unsigned dtypes;
    const char *name;                   /* "<u8|s8>_dwconv_row_<cr>c__<isa>"               */
    int cr;                             /* channels per step                               */
    int max_kh;                         /* most kernel rows it takes (0: any)              */
    ev_dw_row_fn row;
    ev_dw_packed_size_fn packed_size;   /* its weight layout (NULL: the int32 table)       */
    ev_dw_pack_fn pack;
} ev_cpu_dw_entry;

/* A float GEMM line: float CONV_2D and FULLY_CONNECTED reduce to it (conv_f32.c). Weights are
 * packed by ev_f32_gemm_pack for the line's nr (gemm_f32.h), or by the line's own packing
 * (pack, packed_size and block_floats together; NULL: the float layout). */
typedef struct ev_cpu_f32_gemm_entry {
    ev_isa isa;
    const char *name;                   /* "f32_gemm_<mr>x<nr>__<isa>"                     */
    int mr, nr;                         /* register tile: rows x channels                  */
    ev_f32_gemm_fn gemm;
    unsigned flags;                     /* EV_F32_GEMM_BF16, EV_F32_GEMM_TAPS below        */
    void (*pack)(const float *w, const float *bias, int N, int K, int nr, float *out);
    size_t (*packed_size)(int N, int K, int nr);
    size_t (*block_floats)(int K, int nr); /* floats per nr-channel block                 */
    /* EV_F32_GEMM_SPLIT lines: M rows of K floats (lda apart) into the split rows the line reads
     * (ld bytes apart, at least split_row_bytes(K)); NULL elsewhere */
    void (*split)(int M, int K, const float *A, size_t lda, void *dst, size_t ld);
    size_t (*split_row_bytes)(int K);
} ev_cpu_f32_gemm_entry;

#define EV_F32_GEMM_BF16 1u /* chosen only for EV_FLOAT_BF16 sessions on CPUs with AVX512_BF16 */
#define EV_F32_GEMM_TAPS 2u /* reads ev_f32_epi.taps (implicit GEMM: conv_f32.c's implicit path) */
#define EV_F32_GEMM_SPLIT 4u /* reads A split (ev_f32_epi.a3, gemm_f32_amx.c); needs the CPU's
                                AMX-BF16 and AVX512_BF16 (ev_cpu_has_amx_bf16) */

/* A line's weight packing, whatever its layout: bytes for N x K, pack, and the packed blocks
 * starting at channel n0 (a multiple of nr). */
size_t ev_cpu_f32_packed_size(const ev_cpu_f32_gemm_entry *e, int N, int K);
void ev_cpu_f32_pack(const ev_cpu_f32_gemm_entry *e, const float *w, const float *bias, int N,
                     int K, float *out);
const float *ev_cpu_f32_block(const ev_cpu_f32_gemm_entry *e, const float *Wp, int n0, int K);

/* A float depthwise row line (dwconv_f32.c): one output row per call. */
struct cpu_dw_f32;
typedef void (*ev_f32_dw_row_fn)(const struct cpu_dw_f32 *s, const float *img, int oy,
                                 float *out_row);
typedef struct ev_cpu_f32_dw_entry {
    ev_isa isa;
    const char *name;                   /* "f32_dwconv_row_<cr>c__<isa>"                   */
    int cr;                             /* channels per step (weights padded to it)        */
    int max_kh;                         /* most kernel rows it takes (0: any)              */
    ev_f32_dw_row_fn row;
} ev_cpu_f32_dw_entry;

/* A float first-layer row line (conv_f32_first.c): CONV_2D over 1-4 input channels, one output
 * row per call, weights packed by ev_f32_gemm_pack for nb. */
typedef struct ev_cpu_f32_first_entry {
    ev_isa isa;
    const char *name;                   /* "f32_conv_first_<mr>x<nb>__<isa>"               */
    int mr, nb;                         /* widest tile: pixels x channels per block        */
    ev_f32_first_fn row;
} ev_cpu_f32_first_entry;

/* Float32 elementwise, pooling and reduction microkernels: one set per ISA, all written once in
 * f32_ops.inc (f32_ops_scalar.c, f32_ops_avx2.c, f32_ops_avx512.c), run by eltwise_f32.c (ADD,
 * SUB, MUL, DIV, RELU, RELU6, LOGISTIC) and pool_f32.c (MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over
 * H, W; PAD is memcpy and needs no ISA). Bit-identical to ref except LOGISTIC's vector expf. */
typedef enum ev_f32_kind {
    EV_F32_ADD, EV_F32_SUB, EV_F32_MUL, EV_F32_DIV, /* the binary ops, in bin[] order    */
    EV_F32_CLAMP, EV_F32_SIGMOID, EV_F32_MAXPOOL, EV_F32_AVGPOOL, EV_F32_MEAN,
    EV_F32_KINDS
} ev_f32_kind;
#define EV_F32_BINARY 4
enum { EV_F32_VV, EV_F32_VS, EV_F32_SV }; /* a, b both vectors; b scalar (*b); a scalar (*a) */
/* y[i] = clamp(a[i] op b[i]) over n elements (a or b one float in the VS / SV forms). */
typedef void (*ev_f32_vbin_fn)(size_t n, const float *a, const float *b, float *y, float lo,
                               float hi);
/* y[i] = f(x[i]) over n elements (clamp: to [lo, hi]; sigmoid ignores lo, hi). */
typedef void (*ev_f32_vunary_fn)(size_t n, const float *x, float *y, float lo, float hi);
/* One output pixel of c channels from a kh x kw window: tap (fy, fx) channel j is
 * x[fy * rs + fx * cs + j]; y[j] = clamp(max of taps) or clamp(sum of taps / count). */
typedef void (*ev_f32_pool_fn)(const float *x, int kh, int kw, size_t rs, size_t cs, size_t c,
                               float *y, float count, float lo, float hi);
typedef struct ev_cpu_f32_ops {
    ev_isa isa;
    const char *name[EV_F32_KINDS];            /* "f32_vadd__avx512", "f32_maxpool__avx2"  */
    ev_f32_vbin_fn bin[EV_F32_BINARY][3];      /* [EV_F32_ADD..DIV][EV_F32_VV / VS / SV]   */
    ev_f32_vunary_fn clamp, sigmoid;
    ev_f32_pool_fn maxpool, avgpool;           /* avgpool also runs MEAN over H, W         */
} ev_cpu_f32_ops;
extern const ev_cpu_f32_ops ev_cpu_f32_ops_scalar;
#ifdef EV_CPU_X86
extern const ev_cpu_f32_ops ev_cpu_f32_ops_avx2, ev_cpu_f32_ops_avx512;
#endif
#ifdef EV_CPU_ARM
extern const ev_cpu_f32_ops ev_cpu_f32_ops_neon;
#endif

/* What a session runs, per op kind and op data type (NULL: no fast kernel, the reference one
 * runs). Built once per session. */
typedef struct ev_cpu_config {
    ev_isa isa; /* the ISA the session allows */
    const ev_cpu_gemm_entry *gemm[EV_CPU_DTYPES];
    const ev_cpu_dw_entry *dw[EV_CPU_DTYPES];
    const ev_cpu_f32_gemm_entry *f32_gemm; /* float32 ops */
    const ev_cpu_f32_gemm_entry *f32_gemm_bf16; /* the opt-in bf16 line (NULL: none here) */
    /* the float32-accurate AMX-BF16 line (NULL: none here), for the convolutions
     * ev_cpu_conv_f32_split_takes gives it */
    const ev_cpu_f32_gemm_entry *f32_gemm_split;
    const ev_cpu_f32_dw_entry *f32_dw;
    const ev_cpu_f32_first_entry *f32_first; /* first-layer convs (NULL: the GEMM path)  */
    const ev_cpu_f32_ops *f32_ops;         /* float elementwise / pooling (never NULL)    */
} ev_cpu_config;

/* The NEON float GEMM (gemm_f32_neon.c): tile EV_F32_GEMM_NEON_MR rows x 8 channels (aarch64's
 * 32 vector registers take 8 rows, armv7's 16 take 4). */
#if defined(__aarch64__)
#define EV_F32_GEMM_NEON_MR 8
#else
#define EV_F32_GEMM_NEON_MR 4
#endif
void ev_f32_gemm_neon(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                      const ev_f32_epi *ep, float *C, size_t ldc);

/* For each op kind and data type, the table line with the most capable ISA `isa` allows. */
void ev_cpu_config_init(ev_isa isa, ev_cpu_config *cfg);
/* The GEMM / depthwise row for an op of data type `dtype` (NULL: none). The GEMM depends on the
 * op's Kp (k_h * k_w * in_c rounded up to 4), the row on the kernel height: a line whose min_kp
 * is above Kp, or whose max_kh is below k_h, gives way to the next best that takes it. */
const ev_cpu_gemm_entry *ev_cpu_config_gemm(const ev_cpu_config *cfg, ev_dtype dtype, int Kp);
const ev_cpu_dw_entry *ev_cpu_config_dw(const ev_cpu_config *cfg, ev_dtype dtype, int k_h);
/* The float depthwise row for kernel height k_h (the next best line when the session's cannot). */
const ev_cpu_f32_dw_entry *ev_cpu_config_f32_dw(const ev_cpu_config *cfg, int k_h);
/* Whether float CONV_2D `op` runs on cfg->f32_gemm_split (conv_f32.c says which shapes). */
int ev_cpu_conv_f32_split_takes(const ev_cpu_config *cfg, const ev_graph *g, const ev_op *op);

/* The cpu backend's per-session context (cpu_backend.c): what init chose for this session. */
/* Scratch shared by a session's float convolutions (ops run one at a time): conv_f32.c's
 * im2col tiles, grown at prepare to the largest need and looked up at every run (a later
 * prepare may move it), so every layer writes its tiles into memory the last one warmed. One
 * holder per session: pad_fold.c's context copies point to the same one. */
typedef struct ev_cpu_scratch {
    float *p;
    size_t bytes;
    void *last_f32; /* conv_f32.c: the float conv or FC that ran last (its successor chain) */
} ev_cpu_scratch;
/* At least `bytes` in s->p (the contents are not kept when it grows). */
ev_status ev_cpu_scratch_reserve(ev_cpu_scratch *s, size_t bytes);

typedef struct ev_cpu_ctx {
    ev_cpu_config cfg;
    int *partner; /* per op: the later op it may absorb (fusion.c), 0: none */
    unsigned float_modes;  /* the session's opt-in float modes (EV_FLOAT_*)          */
    char wino_name[64];    /* "f32_conv3x3_winograd4x4__<isa>"                        */
    int fold_pad; /* -1; in the copy pad_fold.c prepares a conv with: the PAD op it reads through */
    ev_cpu_scratch *scratch; /* the session's shared float scratch (above)                     */
} ev_cpu_ctx;

/* Ops the cpu backend may compute in a predecessor's epilogue (fusion.c): *partner gets, per op,
 * the later op it may absorb (0: none); the caller frees it. */
ev_status ev_cpu_fusion_find(const ev_graph *g, int **partner);

extern const ev_kernel ev_cpu_conv_kernel;   /* CONV_2D uint8/int8: im2col + packed GEMM    */
extern const ev_kernel ev_cpu_dwconv_kernel; /* DEPTHWISE_CONV_2D uint8/int8                */
/* CONV_2D float32 3x3 stride 1 by Winograd F(4x4, 3x3), opt-in (EV_FLOAT_WINOGRAD). */
extern const ev_kernel ev_cpu_conv_f32_winograd_kernel;

/* Float32 non-convolution ops (eltwise_f32.c, pool_f32.c). Each *_takes says whether the kernel
 * runs op `i` of `g` (float32, and a shape it takes: see the files); supports() routes only
 * those, the rest run the reference kernels. */
extern const ev_kernel ev_cpu_f32_binary_kernel;   /* ADD, SUB, MUL, DIV                      */
extern const ev_kernel ev_cpu_f32_unary_kernel;    /* RELU, RELU6, LOGISTIC                   */
extern const ev_kernel ev_cpu_f32_pool_kernel;     /* MAX_POOL_2D, AVERAGE_POOL_2D            */
extern const ev_kernel ev_cpu_f32_mean_kernel;     /* MEAN over axes {1, 2} of a 4-D input    */
extern const ev_kernel ev_cpu_f32_pad_kernel;      /* PAD with zeros                          */
int ev_cpu_f32_binary_takes(const ev_graph *g, int i);
int ev_cpu_f32_unary_takes(const ev_graph *g, int i);
int ev_cpu_f32_pool_takes(const ev_graph *g, int i);
int ev_cpu_f32_mean_takes(const ev_graph *g, int i);
int ev_cpu_f32_pad_takes(const ev_graph *g, int i);
extern const ev_kernel ev_cpu_conv_f32_kernel; /* CONV_2D float32: im2col + float GEMM      */
extern const ev_kernel ev_cpu_fc_f32_kernel;   /* FULLY_CONNECTED float32: the float GEMM   */
extern const ev_kernel ev_cpu_dwconv_f32_kernel; /* DEPTHWISE_CONV_2D float32, multiplier 1 */
/* TRANSPOSE of any element size 1-8 bytes, rank 1-6 (transpose.c); takes: op i is one. */
extern const ev_kernel ev_cpu_transpose_kernel;
int ev_cpu_transpose_takes(const ev_graph *g, int i);
/* CONV_2D float32 over 1-4 input channels, direct (conv_f32_first.c); takes: op i is one. */
extern const ev_kernel ev_cpu_conv_f32_first_kernel;
int ev_cpu_f32_first_takes(const ev_graph *g, int i);
/* PAD op -> the float conv or max pool it feeds (pad_fold.c): the PAD's choice when fusion.c
 * paired them and the op's kernel reads through a PAD (the three above and ev_cpu_f32_pool_kernel);
 * run fused, it runs that op on the PAD's input with the pads as the op's own zero padding. */
extern const ev_kernel ev_cpu_pad_fold_kernel;
int ev_cpu_pad_fold_reads_through(const ev_kernel *conv_kernel);
/* In a float conv kernel's prepare, after ev_conv_desc_init: when ctx->backend is pad_fold.c's
 * copy and d's input is that PAD's output, d reads the PAD's input instead, with the PAD's
 * leading pads added to pad_top / pad_left (the trailing ones are the zeros past in_h / in_w). */
struct ev_conv_desc;
ev_status ev_cpu_conv_fold_pad(const ev_kernel_ctx *ctx, struct ev_conv_desc *d);
/* The same for an op without a conv desc (pool_f32.c's max pool): its input tensor t of
 * batch x h x w x c, its own leading pads; rewritten (folded = 1) when t is the folded PAD's
 * output. */
typedef struct ev_fold_input {
    int t, batch, h, w, c, top, left;
    int folded;
} ev_fold_input;
ev_status ev_cpu_fold_pad_input(const ev_kernel_ctx *ctx, ev_fold_input *in_out);

#endif
