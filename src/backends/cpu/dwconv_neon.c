/*
 * dwconv_neon.c - depthwise row kernel with NEON (aarch64 and armv7; -mfpu=neon on armv7 by file
 * suffix), bit-exact with the reference.
 *
 * Eight channels at a time: input bytes widened to int16 (vmovl) minus x_zp (|x - x_zp| <= 255),
 * weights (w - w_zp) stored as int16 at prepare time (ev_dw_pack_neon, named by its config line:
 * ev_dw_pack_i16's table, then the same weights as int8), products accumulated exactly in two
 * int32x4 by vmlal_s16 starting from the bias. Interior pixels of 3x3 kernels with stride 1 or 2
 * and 8 real channels go four at a time (fast4): each input column loaded once per kernel row,
 * the 8 accumulators in registers, the four pixels requantized together (requant_neon.h,
 * ev_rq16_bytes); where every weight lies in [-127, 127] (the usual case) they multiply int8 by
 * int8 (x ^ 0x80 against the int8 table, two taps summed in int16, half the multiplies of the
 * int16 form; see fast4), and a run's last 1-3 pixels are a block of 4 ending at the run's end.
 * uint8 runs of that kind whose block has one multiplier and one right shift e (per-tensor
 * models) run in their own loop per (stride, e) (run_ST_E), requantized in one straight sequence
 * (requant_neon.h ev_rq16_e_bytes).
 * On aarch64, 3x3 layers with uint8 in and out, output zero point 0 and no clamp inside [0, 255]
 * (PoseNet's) take assembly instead for every group of 8 channels with int8 weights and one
 * multiplier and shift (dw3_groups; bodies in dwconv_neon_asm.h, written by bench/arm/dw_asm.py):
 * one call per output row and group covers the whole row, its border pixels included.
 * Borders, channel tails and other shapes take the general path, which skips padded taps like
 * the reference. A channel tail shorter than 8 goes through a small buffer, so no byte outside the
 * tensor is read. The epilogue is requant_neon.h. Which groups take int8 products, and which may
 * sum a kernel row in int16, is decided per 8 channels when packing (ev_dw_pack_neon's flags).
 *
 * Extend: 16 channels per step (4 accumulators per pixel) suits aarch64's 32 registers better
 * for the general path; in the assembly, 16 channels per block would halve the EORs and the
 * per-group calls (registers: 9 weight vectors, 8 accumulators for 2 pixels, 4 for the start).
 */
#include "backends/cpu/dwconv.h"
#include "backends/cpu/dwconv_neon.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

/* Per-group flags of the neon layout (ev_dw_pack_neon), one byte per 8 channels. */
enum {
    EV_DW_G8 = 1, /* every s of the group's channels in [-127, 127]: int8 products (P5 pairs) */
    EV_DW_GROW = 2 /* 9 taps, and each kernel row's 3 products of every channel sum inside
                      int16 for any u in [-128, 127] (P3: one int16 sum per kernel row)      */
};

typedef struct dw_acc {
    int32x4_t lo, hi;
} dw_acc;

/* Channels c .. c + n - 1 of one pixel as int16 (x - x_zp); n in 1..8 (lanes past n are 0). */
static inline int16x8_t load_x(const uint8_t *p, int n, int i8, int16x8_t xz) {
    uint8x8_t b;
    if (n >= 8) {
        b = vld1_u8(p);
    } else {
        uint8_t tmp[8] = {0};
        memcpy(tmp, p, (size_t)n);
        b = vld1_u8(tmp);
    }
    int16x8_t x = i8 ? vmovl_s8(vreinterpret_s8_u8(b)) : vreinterpretq_s16_u16(vmovl_u8(b));
    return vsubq_s16(x, xz);
}

/* a + the high halves' products: one SMLAL2 on aarch64 (gcc otherwise may extract both
 * halves first, one MOV each). */
static inline int32x4_t ev_mlal_hi(int32x4_t a, int16x8_t x, int16x8_t w) {
#if defined(__aarch64__)
    return vmlal_high_s16(a, x, w);
#else
    return vmlal_s16(a, vget_high_s16(x), vget_high_s16(w));
#endif
}

/* a + the high half of p widened (SADDW2 on aarch64). */
static inline int32x4_t ev_addw_hi(int32x4_t a, int16x8_t p) {
#if defined(__aarch64__)
    return vaddw_high_s16(a, p);
#else
    return vaddw_s16(a, vget_high_s16(p));
#endif
}

/* The header of the neon layout (ev_dw_pack_neon, below), followed by the int8 weights. */
static inline const uint8_t *ev_dw_neon_head(const cpu_dw *s) {
    return (const uint8_t *)s->wp + ev_dw_pack_i16_size(s->d.k_h * s->d.k_w, s->Cp);
}

static inline dw_acc mac(dw_acc a, int16x8_t x, int16x8_t w) {
    a.lo = vmlal_s16(a.lo, vget_low_s16(x), vget_low_s16(w));
    a.hi = ev_mlal_hi(a.hi, x, w);
    return a;
}

static inline void store8(uint8_t *o, dw_acc a, const ev_gemm_epi *ep, int c, int n) {
    int32x4_t lo = ev_requant4_neon(a.lo, ep, c), hi = ev_requant4_neon(a.hi, ep, c + 4);
    uint8x8_t v = vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(lo), vmovn_s32(hi))));
    if (n >= 8) {
        vst1_u8(o, v);
    } else {
        uint8_t tmp[8];
        vst1_u8(tmp, v);
        memcpy(o, tmp, (size_t)n);
    }
}

/* Four interior output pixels ox .. ox + 3 of a 3x3 kernel (stride ST, 1 or 2) x the 8 channels
 * c .. c + 7 (all real), from the accumulators' start b (the bias; with W8 the bias plus K times
 * the sum of the rows' weights): every input column loaded once per kernel row, 8 accumulators
 * in registers, the four pixels requantized together (ev_rq16_bytes: two pixels per 16-byte
 * "row").
 *  - W8 = 0: each column widened with one subtracting long (x - x_zp: USUBL, or SSUBL for int8)
 *    and multiplied by the int16 weights, SMLAL + SMLAL2 per tap (4 products each);
 *  - W8 = 1 (every weight s = w - w_zp in [-127, 127]): the column's bytes as int8 u = x ^ 0x80
 *    (x for int8 input) times the int8 weights, SMULL (8 exact int16 products) and SMLAL of the
 *    next tap into the same int16 lanes (|u s + u' s'| <= 2 * 128 * 127 < 2^15), then widened
 *    into the accumulators (SADDW, SADDW2): 3 multiplies and 4 adds per kernel row and pixel
 *    where W8 = 0 takes 6 multiplies; sum (x - x_zp) s = sum u s + K sum s with K = 128 - x_zp
 *    (x_zp for int8: -x_zp), the second term in b. */
static inline __attribute__((always_inline)) void
fast4(const cpu_dw *s, const uint8_t *const *rows, int nrows, int ky0, int ox, int c,
      const ev_rq16 *q, uint8_t *out_row, int32x4_t blo, int32x4_t bhi, const int8_t *w8,
      const int I8, const int ST, const int W8, const int E, uint8x16_t lo, uint8x16_t hi) {
    const ev_conv_desc *d = &s->d;
    const size_t C = (size_t)d->in_c;
    const uint8x8_t xz = vdup_n_u8((uint8_t)d->in_zp);
    int32x4_t a[8] = {blo, bhi, blo, bhi, blo, bhi, blo, bhi}; /* pixel p, half h: a[2p + h] */
    for (int r = 0; r < nrows; r++) {
        const uint8_t *p = rows[r] + (size_t)(ox * ST - d->pad_left) * C + c;
        if (W8) {
            const int8_t *w = w8 + (size_t)((ky0 + r) * 3) * s->Cp + c;
            const int8x8_t wt[3] = {vld1_s8(w), vld1_s8(w + s->Cp), vld1_s8(w + 2 * (size_t)s->Cp)};
            int8x8_t x[9];
            EV_RQ_UNROLL
            for (int i = 0; i < 3 * ST + 3; i++) {
                const uint8x8_t b = vld1_u8(p + (size_t)i * C);
                x[i] = vreinterpret_s8_u8(I8 ? b : veor_u8(b, vdup_n_u8(0x80)));
            }
            EV_RQ_UNROLL
            for (int px = 0; px < 4; px++) {
                const int16x8_t p01 = vmlal_s8(vmull_s8(x[px * ST], wt[0]), x[px * ST + 1], wt[1]);
                const int16x8_t p2 = vmull_s8(x[px * ST + 2], wt[2]);
                a[2 * px] = vaddw_s16(vaddw_s16(a[2 * px], vget_low_s16(p01)), vget_low_s16(p2));
                a[2 * px + 1] = ev_addw_hi(ev_addw_hi(a[2 * px + 1], p01), p2);
            }
        } else {
            const int16_t *w = (const int16_t *)s->wp + c + (size_t)((ky0 + r) * 3) * s->Cp;
            const int16x8_t wt[3] = {vld1q_s16(w), vld1q_s16(w + s->Cp),
                                     vld1q_s16(w + 2 * (size_t)s->Cp)};
            int16x8_t x[9];
            EV_RQ_UNROLL
            for (int i = 0; i < 3 * ST + 3; i++) {
                const uint8x8_t b = vld1_u8(p + (size_t)i * C);
                x[i] = I8 ? vsubl_s8(vreinterpret_s8_u8(b), vreinterpret_s8_u8(xz))
                          : vreinterpretq_s16_u16(vsubl_u8(b, xz));
            }
            EV_RQ_UNROLL
            for (int t = 0; t < 3; t++) {
                EV_RQ_UNROLL
                for (int px = 0; px < 4; px++) {
                    a[2 * px] = vmlal_s16(a[2 * px], vget_low_s16(x[px * ST + t]),
                                          vget_low_s16(wt[t]));
                    a[2 * px + 1] = ev_mlal_hi(a[2 * px + 1], x[px * ST + t], wt[t]);
                }
            }
        }
    }
    uint8x16_t o[2];
    if (E) /* q->straight, uint8 out (run_e) */
        ev_rq16_e_bytes(a, 2, q, lo, hi, o, E);
    else
        ev_rq16_bytes(a, 2, q, o);
    uint8_t *dst = out_row + (size_t)ox * C + c;
    vst1_u8(dst, vget_low_u8(o[0]));
    vst1_u8(dst + C, vget_high_u8(o[0]));
    vst1_u8(dst + 2 * C, vget_low_u8(o[1]));
    vst1_u8(dst + 3 * C, vget_high_u8(o[1]));
}

/* The interior run [ox, ox_end) four pixels at a time (at least 4 of them), the last 1-3 as a
 * block of 4 ending at ox_end (recomputing up to 3 pixels, same values) rather than one pixel at
 * a time on the general path; returns ox_end. */
#define FAST4(I8, ST, W8, E)                                                                     \
    fast4(s, rows, nrows, ky0, ox, c, q, out_row, blo, bhi, w8, I8, ST, W8, E, lo, hi)
#define RUN(I8, ST, W8, E)                                                                       \
    for (; ox + 4 <= ox_end; ox += 4) FAST4(I8, ST, W8, E);                                      \
    if (ox < ox_end) {                                                                           \
        ox = ox_end - 4;                                                                         \
        FAST4(I8, ST, W8, E);                                                                    \
    }

/* The usual PoseNet case as its own loops: uint8, int8 products (W8), a block whose
 * requantization is q->straight with shift E (ev_rq16_e_bytes: one straight sequence per four
 * pixels, where ev_rq16_bytes branches between its stages). */
typedef void (*run_e_fn)(const cpu_dw *s, const uint8_t *const *rows, int nrows, int ky0, int ox,
                         int ox_end, int c, const ev_rq16 *q, uint8_t *out_row, int32x4_t blo,
                         int32x4_t bhi, const int8_t *w8, uint8x16_t lo, uint8x16_t hi);
#define RUN_E(ST, E)                                                                             \
    static void run_##ST##_##E(const cpu_dw *s, const uint8_t *const *rows, int nrows, int ky0,  \
                               int ox, int ox_end, int c, const ev_rq16 *q, uint8_t *out_row,    \
                               int32x4_t blo, int32x4_t bhi, const int8_t *w8, uint8x16_t lo,    \
                               uint8x16_t hi) {                                                  \
        RUN(0, ST, 1, E)                                                                         \
    }
#define RUN_E16(ST)                                                                              \
    RUN_E(ST, 1) RUN_E(ST, 2) RUN_E(ST, 3) RUN_E(ST, 4) RUN_E(ST, 5) RUN_E(ST, 6) RUN_E(ST, 7)   \
    RUN_E(ST, 8) RUN_E(ST, 9) RUN_E(ST, 10) RUN_E(ST, 11) RUN_E(ST, 12) RUN_E(ST, 13)             \
    RUN_E(ST, 14) RUN_E(ST, 15) RUN_E(ST, 16)
RUN_E16(1)
RUN_E16(2)
#define RUN_ROW(ST)                                                                              \
    {run_##ST##_1, run_##ST##_2, run_##ST##_3, run_##ST##_4, run_##ST##_5, run_##ST##_6,        \
     run_##ST##_7, run_##ST##_8, run_##ST##_9, run_##ST##_10, run_##ST##_11, run_##ST##_12,      \
     run_##ST##_13, run_##ST##_14, run_##ST##_15, run_##ST##_16}
static const run_e_fn k_run_e[2][16] = {RUN_ROW(1), RUN_ROW(2)};

static int fast_run(const cpu_dw *s, const uint8_t *const *rows, int nrows, int ky0, int ox,
                    int ox_end, int c, const ev_rq16 *q, uint8_t *out_row, int32x4_t blo,
                    int32x4_t bhi, const int8_t *w8, uint8x16_t lo, uint8x16_t hi) {
    const int i8 = s->in_i8, st = s->d.stride_w;
    if (!i8 && w8 && q->straight) {
        k_run_e[st - 1][q->e - 1](s, rows, nrows, ky0, ox, ox_end, c, q, out_row, blo, bhi, w8,
                                  lo, hi);
        return ox_end;
    }
    switch (i8 * 4 + (st - 1) * 2 + (w8 != NULL)) {
    case 0: RUN(0, 1, 0, 0) break;
    case 1: RUN(0, 1, 1, 0) break;
    case 2: RUN(0, 2, 0, 0) break;
    case 3: RUN(0, 2, 1, 0) break;
    case 4: RUN(1, 1, 0, 0) break;
    case 5: RUN(1, 1, 1, 0) break;
    case 6: RUN(1, 2, 0, 0) break;
    default: RUN(1, 2, 1, 0) break;
    }
    return ox_end;
}
#undef RUN
#undef FAST4

#if defined(__aarch64__)
#include "backends/cpu/dwconv_neon_asm.h"

/* The aarch64 3x3 depthwise in assembly, for uint8 in and out with int8 products (EV_DW_G8),
 * one multiplier m and right shift e in 1..16 per group of 8 channels, output zero point 0 and
 * no clamp inside [0, 255] (PoseNet's layers).
 *
 * One call per output row and group (dw3_fn, one function per stride, tap grouping P5 / P3 and
 * e): an optional left border block (pixels 0-3 with a padding of 1: its input column 0 is the
 * register v27 of x_zp ^ 0x80, whose u s + K s = 0 is the padded tap's term, which the
 * reference skips), a run of nb blocks of 4 pixels whose columns all lie inside the row, then
 * an optional right border block (the row's last 4 pixels, its last column the padding). The
 * bodies (dwconv_neon_asm.h, written by bench/arm/dw_asm.py) take a block of 4 pixels x 8
 * channels per loop iteration in an order chosen for the Cortex-A72 model (62.6 model cycles
 * per block at stride 1, 66.1 at stride 2, P3 55.6 / 58.1; the compiler's order of the
 * intrinsics in fast4 took ~91). The requantization is SQRDMULH, SQRSHRN #e (ties rounded up)
 * and SQXTUN: with zero point 0 these are the reference's bits, because the two roundings differ
 * only on negative ties, where both results are <= 0 and clamp to 0.
 *
 * Rows that are not [L] run [R] (narrow rows, other paddings) go block by block through the
 * runs (dw3_row_general), a block with a column outside the row reading a copy of its columns. */
typedef struct dw3_k { /* per group; offsets fixed: the assembly reads them               */
    const int8_t *w;   /*  0: tap 3 r + t's 8 weights at w + (3 r + t) ws                   */
    int64_t ws;        /*  8                                                                */
    int32_t bias[8];   /* 16: the accumulators' start (bias + K sum of the computed taps)  */
    int32_t m;         /* 48: the multiplier                                                */
    int32_t zpf;       /* 52: x_zp ^ 0x80, the padded columns' byte                         */
} dw3_k;
typedef struct dw3_seg { /* per row; offsets fixed                                          */
    int64_t has_l;       /*  0: a left border block first (at the row pointers)            */
    int64_t run, orun;   /*  8, 16: bytes to the run's first block, input and output       */
    int64_t nb;          /* 24: blocks in the run (0: none)                                */
    int64_t has_r;       /* 32: a right border block last                                  */
    int64_t dr, dro;     /* 40, 48: bytes from the run's end to it, input and output       */
} dw3_seg;
_Static_assert(offsetof(dw3_k, bias) == 16 && offsetof(dw3_k, m) == 48 &&
                   offsetof(dw3_k, zpf) == 52 && offsetof(dw3_seg, dro) == 48,
               "dw3 layouts");
typedef void (*dw3_fn)(const uint8_t *const *r, ptrdiff_t cin, uint8_t *o, ptrdiff_t cout,
                       const dw3_k *k, const dw3_seg *sg);
#define DW3_CLOBBERS                                                                             \
    "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",     \
        "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25",     \
        "v26", "v27", "v28", "v29", "v30", "v31", "memory", "cc"
#define DW3_TEXT(BODY, LB, RB)                                                                   \
    "ldp %[t0], %[t1], [%[k]]\n\t"                                                               \
    "ld1 {v0.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v1.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v2.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v3.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v4.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v5.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v6.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v7.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "ld1 {v8.8b}, [%[t0]], %[t1]\n\t"                                                            \
    "movi v10.8b, #0x80\n\t"                                                                     \
    "ldp q11, q12, [%[k], #16]\n\t"                                                              \
    "ldr s9, [%[k], #48]\n\t"                                                                    \
    "ldr %w[t0], [%[k], #52]\n\t"                                                                \
    "dup v27.8b, %w[t0]\n\t"                                                                     \
    "ldr %[t0], [%[sg]]\n\t"                                                                     \
    "cbz %[t0], 3f\n\t" LB "3:\n\t"                                                              \
    "ldp %[t0], %[t1], [%[sg], #8]\n\t"                                                          \
    "add %[r0], %[r0], %[t0]\n\t"                                                                \
    "add %[r1], %[r1], %[t0]\n\t"                                                                \
    "add %[r2], %[r2], %[t0]\n\t"                                                                \
    "add %[o], %[o], %[t1]\n\t"                                                                  \
    "ldr %[t1], [%[sg], #32]\n\t"                                                                \
    "ldr %[n], [%[sg], #24]\n\t"                                                                 \
    "cbz %[n], 5f\n\t"                                                                           \
    /* the loop inside one 2^10-byte line: never across a page (qemu's blocks end at one) */     \
    "b 1f\n\t"                                                                                   \
    ".p2align 10\n\t"                                                                            \
    "1:\n\t" BODY "subs %[n], %[n], #1\n\t"                                                      \
    "b.ne 1b\n\t"                                                                                \
    /* after the run: t1 = has_r (0 done; 1 the R block; 2 one more plain block, through the \
     * loop once more with t1 = 0) */                                                          \
    "5:\n\t"                                                                                     \
    "cbz %[t1], 4f\n\t"                                                                          \
    "ldr %[t0], [%[sg], #40]\n\t"                                                                \
    "add %[r0], %[r0], %[t0]\n\t"                                                                \
    "add %[r1], %[r1], %[t0]\n\t"                                                                \
    "add %[r2], %[r2], %[t0]\n\t"                                                                \
    "ldr %[t0], [%[sg], #48]\n\t"                                                                \
    "add %[o], %[o], %[t0]\n\t"                                                                  \
    "cmp %[t1], #1\n\t"                                                                          \
    "mov %[t1], #0\n\t"                                                                          \
    "b.ne 6f\n\t"                                                                                \
    "ldr %w[t0], [%[k], #52]\n\t"                                                                \
    "dup v27.8b, %w[t0]\n\t" RB "b 4f\n\t"                                                     \
    "6:\n\t"                                                                                     \
    "mov %[n], #1\n\t"                                                                           \
    "b 1b\n\t"                                                                                   \
    "4:\n\t"
#define DW3_OUT                                                                                  \
    [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [o] "+r"(o), [n] "=&r"(n), [t0] "=&r"(t0),     \
        [t1] "=&r"(t1)
#define DW3_IN(E)                                                                                \
    [k] "r"(k), [sg] "r"(sg), [so] "r"(so), [si] "r"(si), [o1] "r"(o1), [o2] "r"(o2),           \
        [o3] "r"(o3), [e] "i"(E)
#define DW3_FN(ST, SCH, E)                                                                       \
    static void dw3_s##ST##_##SCH##_##E(const uint8_t *const *r, ptrdiff_t cin, uint8_t *o,      \
                                       ptrdiff_t cout, const dw3_k *k, const dw3_seg *sg) {      \
        const uint8_t *r0 = r[0], *r1 = r[1], *r2 = r[2];                                        \
        const ptrdiff_t so = 4 * cout, si = 4 * ST * cin, o1 = cout, o2 = 2 * cout,              \
                        o3 = 3 * cout;                                                           \
        long n, t0, t1;                                                                          \
        DW3_ASM_S##ST(DW3_TEXT(EV_DW3_S##ST##_##SCH, EV_DW3_S##ST##_L, EV_DW3_S##ST##_R), E)      \
    }
#define DW3_ASM_S1(TEXT, E)                                                                      \
    const ptrdiff_t c1 = cin, c2 = 2 * cin, c3 = 3 * cin, c4 = 4 * cin, c5 = 5 * cin;            \
    __asm__ volatile(TEXT                                                                        \
                     : DW3_OUT                                                                   \
                     : DW3_IN(E), [c1] "r"(c1), [c2] "r"(c2), [c3] "r"(c3), [c4] "r"(c4),        \
                       [c5] "r"(c5)                                                              \
                     : DW3_CLOBBERS);
#define DW3_ASM_S2(TEXT, E)                                                                      \
    const ptrdiff_t c1 = cin, c2 = 2 * cin, c3 = 3 * cin, c4 = 4 * cin, c5 = 5 * cin,            \
                    c6 = 6 * cin, c7 = 7 * cin, c8 = 8 * cin;                                    \
    __asm__ volatile(TEXT                                                                        \
                     : DW3_OUT                                                                   \
                     : DW3_IN(E), [c1] "r"(c1), [c2] "r"(c2), [c3] "r"(c3), [c4] "r"(c4),        \
                       [c5] "r"(c5), [c6] "r"(c6), [c7] "r"(c7), [c8] "r"(c8)                    \
                     : DW3_CLOBBERS);
#define DW3_E16(ST, SCH)                                                                         \
    DW3_FN(ST, SCH, 1) DW3_FN(ST, SCH, 2) DW3_FN(ST, SCH, 3) DW3_FN(ST, SCH, 4)                   \
    DW3_FN(ST, SCH, 5) DW3_FN(ST, SCH, 6) DW3_FN(ST, SCH, 7) DW3_FN(ST, SCH, 8)                   \
    DW3_FN(ST, SCH, 9) DW3_FN(ST, SCH, 10) DW3_FN(ST, SCH, 11) DW3_FN(ST, SCH, 12)                \
    DW3_FN(ST, SCH, 13) DW3_FN(ST, SCH, 14) DW3_FN(ST, SCH, 15) DW3_FN(ST, SCH, 16)
DW3_E16(1, P5)
DW3_E16(1, P3)
DW3_E16(2, P5)
DW3_E16(2, P3)
#define DW3_ROW(ST, SCH)                                                                         \
    {dw3_s##ST##_##SCH##_1,  dw3_s##ST##_##SCH##_2,  dw3_s##ST##_##SCH##_3,                     \
     dw3_s##ST##_##SCH##_4,  dw3_s##ST##_##SCH##_5,  dw3_s##ST##_##SCH##_6,                     \
     dw3_s##ST##_##SCH##_7,  dw3_s##ST##_##SCH##_8,  dw3_s##ST##_##SCH##_9,                     \
     dw3_s##ST##_##SCH##_10, dw3_s##ST##_##SCH##_11, dw3_s##ST##_##SCH##_12,                    \
     dw3_s##ST##_##SCH##_13, dw3_s##ST##_##SCH##_14, dw3_s##ST##_##SCH##_15,                    \
     dw3_s##ST##_##SCH##_16}
/* [stride - 1][P3][e - 1] */
static const dw3_fn k_dw3[2][2][16] = {{DW3_ROW(1, P5), DW3_ROW(1, P3)},
                                       {DW3_ROW(2, P5), DW3_ROW(2, P3)}};

/* Whether every group of 8 real channels has the multiplier and right shift of channel 0, that
 * shift in 1..16, and no left shift (per-tensor layers): the assembly's requantization. */
static int dw3_uniform(const ev_gemm_epi *ep, int C) {
    const int32_t m = ep->mult[0], e = ep->rshift[0];
    if (e < 1 || e > 16 || ep->any_lshift) return 0;
    const int32x4_t mb = vdupq_n_s32(m), eb = vdupq_n_s32(e);
    uint32x4_t eq = vdupq_n_u32(~0u);
    for (int c = 0; c + 8 <= C; c += 8)
        eq = vandq_u32(eq, vandq_u32(vandq_u32(vceqq_s32(vld1q_s32(ep->mult + c), mb),
                                               vceqq_s32(vld1q_s32(ep->mult + c + 4), mb)),
                                     vandq_u32(vceqq_s32(vld1q_s32(ep->rshift + c), eb),
                                               vceqq_s32(vld1q_s32(ep->rshift + c + 4), eb))));
    return vminvq_u32(eq) != 0;
}

/* The other rows: the blocks 0, 4, 8, .. (the last one ending at the row's last pixel), runs of
 * blocks inside the row through fn without border blocks, each other block through fn on a copy
 * of its 3 x (3 ST + 3) columns of 8 bytes in which the outside ones hold x_zp. */
static void dw3_row_general(const cpu_dw *s, const uint8_t *const *r, int c, dw3_fn fn,
                            const dw3_k *k, uint8_t *out_row) {
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, st = d->stride_w, ncol = 3 * st + 3, out_w = d->out_w;
    int ox_lo = 0, ox_hi = out_w; /* blocks starting in [ox_lo, ox_hi - 4] read inside the row */
    while (ox_lo < out_w && ox_lo * st - d->pad_left < 0) ox_lo++;
    while (ox_hi > ox_lo && (ox_hi - 1) * st - d->pad_left + 2 >= d->in_w) ox_hi--;
    for (int ox = 0; ox < out_w;) {
        if (ox + 4 > out_w) ox = out_w - 4;
        const ptrdiff_t ix = (ptrdiff_t)ox * st - d->pad_left;
        dw3_seg sg = {0};
        if (ox >= ox_lo && ox + 4 <= ox_hi) {
            sg.nb = (ox_hi - ox) / 4;
            const uint8_t *p[3] = {r[0] + ix * C + c, r[1] + ix * C + c, r[2] + ix * C + c};
            fn(p, C, out_row + (size_t)ox * C + c, C, k, &sg);
            ox += 4 * (int)sg.nb;
            continue;
        }
        uint8_t buf[3][9][8];
        for (int ky = 0; ky < 3; ky++)
            for (int j = 0; j < ncol; j++) {
                if (ix + j >= 0 && ix + j < d->in_w)
                    memcpy(buf[ky][j], r[ky] + (ix + j) * C + c, 8);
                else
                    memset(buf[ky][j], d->in_zp, 8);
            }
        const uint8_t *p[3] = {&buf[0][0][0], &buf[1][0][0], &buf[2][0][0]};
        sg.nb = 1;
        fn(p, 8, out_row + (size_t)ox * C + c, C, k, &sg);
        ox += 4;
    }
}

/* The row's groups of 8 channels that the assembly takes (with dw3_uniform: those with
 * EV_DW_G8); returns how many it left (a channel tail included) to ev_dw_row_neon's loop. nrows
 * kernel rows from ky0 at rows[] (1..3: the others, above or below the image, take zero weights
 * and any row's pointer). */
static int dw3_groups(const cpu_dw *s, const uint8_t *const *rows, int nrows, int ky0,
                      const uint8_t *head, uint8_t *out_row) {
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, st = d->stride_w, ncol = 3 * st + 3, out_w = d->out_w, Cp = s->Cp;
    const int8_t *w8 = (const int8_t *)(head + 16);
    const uint8_t *gflags = head + 16 + (size_t)9 * Cp;
    const int16_t *ssum = (const int16_t *)(gflags + Cp / 8);
    const int32_t K = 128 - d->in_zp;
    const uint8_t *r[3];
    for (int ky = 0; ky < 3; ky++) {
        const int i = ky - ky0;
        r[ky] = i >= 0 && i < nrows ? rows[i] : rows[0];
    }
    /* [L] run [R]: a padding of 0 or 1 on the left (1: an L block), every run block inside,
     * and the last block's last column at most the first right of the row (then an R block;
     * else, when the run leaves 1-3 pixels, one more plain block ending at the last pixel) */
    dw3_seg sg = {0};
    const ptrdiff_t ixr = (ptrdiff_t)(out_w - 4) * st - d->pad_left; /* the last block */
    const ptrdiff_t last = ixr + ncol - 1;
    int simple = d->pad_left <= 1 && ixr >= 0 && last <= d->in_w &&
                 (d->pad_left == 0 || ncol - 2 < d->in_w);
    if (simple) {
        sg.has_l = d->pad_left == 1;
        const int xl = sg.has_l ? 4 : 0; /* the run's first pixel */
        if (last == d->in_w) {
            sg.has_r = 1, sg.nb = out_w - 5 >= xl ? (out_w - 5 - xl) / 4 + 1 : 0;
        } else {
            sg.nb = (out_w - xl) / 4;
            sg.has_r = (out_w - xl) % 4 ? 2 : 0;
        }
        sg.run = ((ptrdiff_t)xl * st - d->pad_left) * C;
        sg.orun = (ptrdiff_t)xl * C;
        sg.dr = ixr * C - (sg.run + sg.nb * 4 * st * C);
        sg.dro = (ptrdiff_t)(out_w - 4) * C - (sg.orun + sg.nb * 4 * C);
    }
    dw3_k k;
    int8_t wk[9 * 8];
    k.zpf = (d->in_zp ^ 0x80) & 0xff;
    int left = C % 8 != 0;
    const int32_t m = s->epi.mult[0];
    const int e = s->epi.rshift[0];
    for (int c = 0; c + 8 <= C; c += 8) {
        if (!(gflags[c / 8] & EV_DW_G8)) {
            left++;
            continue;
        }
        int16x8_t t; /* the sum of the computed rows' weights */
        k.w = w8 + c, k.ws = Cp;
        if (nrows == 3) {
            t = vld1q_s16(ssum + c);
        } else { /* the missing rows' taps weigh 0 */
            memset(wk, 0, sizeof wk);
            t = vdupq_n_s16(0);
            for (int i = 0; i < nrows; i++)
                for (int j = 0; j < 3; j++) {
                    const int tap = 3 * (ky0 + i) + j;
                    memcpy(wk + 8 * tap, w8 + c + (size_t)tap * Cp, 8);
                    t = vaddw_s8(t, vld1_s8(wk + 8 * tap));
                }
            k.w = wk, k.ws = 8;
        }
        vst1q_s32(k.bias, vmlaq_n_s32(vld1q_s32(s->bias + c), vmovl_s16(vget_low_s16(t)), K));
        vst1q_s32(k.bias + 4, vmlaq_n_s32(vld1q_s32(s->bias + c + 4), vmovl_high_s16(t), K));
        k.m = m;
        const dw3_fn fn = k_dw3[st - 1][(gflags[c / 8] & EV_DW_GROW) != 0][e - 1];
        if (simple) {
            const uint8_t *p[3] = {r[0] + c, r[1] + c, r[2] + c};
            fn(p, C, out_row + c, C, &k, &sg);
        } else {
            dw3_row_general(s, r, c, fn, &k, out_row);
        }
    }
    return left;
}
#endif


/* The neon layout (ev_dw_pack_neon): ev_dw_pack_i16's table, a 16-byte header (its first int32:
 * every s in [-127, 127]), the weights as int8, [taps][Cp], one flag byte per 8 channels (the
 * enum below), then per channel the sum of its int8 weights over the taps, [Cp] int16 (the
 * assembly runs' start for rows with all taps inside the image: bias + K sum). */

size_t ev_dw_pack_neon_size(int taps, int Cp) {
    return ev_dw_pack_i16_size(taps, Cp) + 16 + (size_t)taps * Cp + (size_t)Cp / 8 +
           (size_t)Cp * sizeof(int16_t);
}

/* Whether sum_t u_t s_t over the taps t0 .. t0 + n - 1 (Cp apart) stays inside int16 for every
 * u in [-128, 127]: its largest value is 127 P + 128 N, its smallest -(128 P + 127 N) (P, N: the
 * sums of the positive weights and of the negatives' magnitudes). */
static int ev_dw_sum_fits16(const int32_t *w, int n, int Cp) {
    int32_t P = 0, N = 0;
    for (int t = 0; t < n; t++) {
        const int32_t v = w[(size_t)t * Cp];
        if (v > 0) P += v;
        else N -= v;
    }
    return 127 * P + 128 * N <= 32767 && 128 * P + 127 * N <= 32768;
}

void ev_dw_pack_neon(const int32_t *w, int taps, int Cp, void *out) {
    ev_dw_pack_i16(w, taps, Cp, out);
    uint8_t *p = (uint8_t *)out + ev_dw_pack_i16_size(taps, Cp);
    int32_t head[4] = {1, 0, 0, 0};
    int8_t *w8 = (int8_t *)(p + sizeof head);
    uint8_t *flags = p + sizeof head + (size_t)taps * Cp;
    for (int g = 0; g < Cp / 8; g++) flags[g] = EV_DW_G8 | (taps == 9 ? EV_DW_GROW : 0);
    for (size_t i = 0; i < (size_t)taps * Cp; i++) {
        if (w[i] < -127 || w[i] > 127) {
            head[0] = 0;
            flags[(i % (size_t)Cp) / 8] &= (uint8_t)~EV_DW_G8;
        }
        w8[i] = (int8_t)(w[i] < -127 ? -127 : w[i] > 127 ? 127 : w[i]);
    }
    if (taps == 9)
        for (int c = 0; c < Cp; c++)
            for (int r = 0; r < 3; r++)
                if (!ev_dw_sum_fits16(w + (size_t)(3 * r) * Cp + c, 3, Cp))
                    flags[c / 8] &= (uint8_t)~EV_DW_GROW;
    for (int g = 0; g < Cp / 8; g++)
        if (!(flags[g] & EV_DW_G8)) flags[g] = 0;
    memcpy(p, head, sizeof head);
    int16_t *ssum = (int16_t *)(flags + Cp / 8); /* sum over the taps of the int8 weights */
    for (int c = 0; c < Cp; c++) {
        int32_t t = 0;
        for (int i = 0; i < taps; i++) t += w8[(size_t)i * Cp + c];
        ssum[c] = (int16_t)(t < -32768 ? -32768 : t > 32767 ? 32767 : t);
    }
}

void ev_dw_row_neon(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
    EV_DW_ASSERT_ARGS(s, img, oy, out_row, EV_DW_SIMD_MAX_KH);
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, kw = d->k_w, i8 = s->in_i8, st = d->stride_w;
    const size_t row = (size_t)d->in_w * C;
    const int16x8_t xz = vdupq_n_s16((int16_t)d->in_zp);
    int ky0 = 0, ky1 = d->k_h;
    while (ky0 < d->k_h && oy * d->stride_h - d->pad_top + ky0 * d->dil_h < 0) ky0++;
    while (ky1 > ky0 && oy * d->stride_h - d->pad_top + (ky1 - 1) * d->dil_h >= d->in_h) ky1--;
    const uint8_t *rows[EV_DW_SIMD_MAX_KH];
    int nrows = 0;
    for (int ky = ky0; ky < ky1 && nrows < EV_DW_SIMD_MAX_KH; ky++)
        rows[nrows++] = img + (size_t)(oy * d->stride_h - d->pad_top + ky * d->dil_h) * row;
    int ox_lo = 0, ox_hi = d->out_w;
    while (ox_lo < d->out_w && ox_lo * st - d->pad_left < 0) ox_lo++;
    while (ox_hi > ox_lo && (ox_hi - 1) * st - d->pad_left + (kw - 1) * d->dil_w >= d->in_w)
        ox_hi--;
    const int fast = kw == 3 && d->dil_w == 1 && (st == 1 || st == 2);
    const uint8_t *head = ev_dw_neon_head(s);
    const int8_t *w8all = (const int8_t *)(head + 16);
    const uint8_t *gflags = head + 16 + (size_t)d->k_h * kw * s->Cp; /* per 8 channels */
#if defined(__aarch64__)
    /* the assembly runs (dw3_groups): 3x3, uint8 in and out, zero point 0 out, no clamp inside
     * [0, 255], rows of 4 pixels or more, one multiplier and e; per group: int8 weights */
    const int asm_ok = fast && d->k_h == 3 && !i8 && !s->epi.out_i8 && s->epi.out_zp == 0 &&
                       s->epi.act_min <= 0 && s->epi.act_max >= 255 && d->out_w >= 4 && nrows > 0 &&
                       dw3_uniform(&s->epi, C);
    if (asm_ok && dw3_groups(s, rows, nrows, ky0, head, out_row) == 0) return;
#endif
    const int32_t K = i8 ? -d->in_zp : 128 - d->in_zp;
    /* the clamp bounds as uint8 (run_e's clamp; uint8 outputs) */
    const uint8x16_t lo = vdupq_n_u8((uint8_t)(s->epi.act_min < 0 ? 0 : s->epi.act_min > 255 ? 255 : s->epi.act_min));
    const uint8x16_t hi = vdupq_n_u8((uint8_t)(s->epi.act_max < 0 ? 0 : s->epi.act_max > 255 ? 255 : s->epi.act_max));
    for (int c = 0; c < C; c += 8) {
        const int n = C - c < 8 ? C - c : 8;
        const uint8_t gf = fast ? gflags[c / 8] : 0;
        const int8_t *w8 = gf & EV_DW_G8 ? w8all : NULL; /* W8 fast runs */
        const dw_acc bias = {vld1q_s32(s->bias + c), vld1q_s32(s->bias + c + 4)};
        const int16_t *wc = (const int16_t *)s->wp + c; /* ev_dw_pack_i16 */
#if defined(__aarch64__)
        if (asm_ok && n == 8 && (gf & EV_DW_G8)) continue; /* done by dw3_groups */
#endif
        ev_rq16 q;
        if (n == 8)
            ev_rq16_load8_full(&q, &s->epi, c);
        else
            ev_rq16_load8(&q, &s->epi, c, n);
        int32x4_t blo = bias.lo, bhi = bias.hi; /* the fast runs' start (fast4) */
        if (w8 && n == 8) {
            int16x8_t t = vdupq_n_s16(0); /* sum of the computed rows' weights (|t| < 2^13) */
            for (int r = 0; r < nrows; r++)
                for (int kx = 0; kx < 3; kx++)
                    t = vaddq_s16(t, vld1q_s16(wc + (size_t)((ky0 + r) * 3 + kx) * s->Cp));
            blo = vmlaq_n_s32(blo, vmovl_s16(vget_low_s16(t)), K);
            bhi = vmlaq_n_s32(bhi, vmovl_s16(vget_high_s16(t)), K);
        }
        int ox = 0;
        while (ox < d->out_w) {
            if (fast && n == 8 && ox >= ox_lo && ox + 4 <= ox_hi) {
                ox = fast_run(s, rows, nrows, ky0, ox, ox_hi, c, &q, out_row, blo, bhi, w8, lo,
                              hi);
                continue;
            }
            int base_x = ox * st - d->pad_left;
            int kx0 = 0, kx1 = kw;
            while (kx0 < kw && base_x + kx0 * d->dil_w < 0) kx0++;
            while (kx1 > kx0 && base_x + (kx1 - 1) * d->dil_w >= d->in_w) kx1--;
            dw_acc acc = bias;
            for (int r = 0; r < nrows; r++) {
                const int16_t *w = wc + (size_t)((ky0 + r) * kw) * s->Cp;
                for (int kx = kx0; kx < kx1; kx++) {
                    const uint8_t *p = rows[r] + (size_t)(base_x + kx * d->dil_w) * C + c;
                    acc = mac(acc, load_x(p, n, i8, xz), vld1q_s16(w + (size_t)kx * s->Cp));
                }
            }
            store8(out_row + (size_t)ox * C + c, acc, &s->epi, c, n);
            ox++;
        }
    }
}
