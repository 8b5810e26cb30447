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
 * Borders, channel tails and other shapes take the general path, which skips padded taps like
 * the reference. A channel tail shorter than 8 goes through a small buffer, so no byte outside the
 * tensor is read. The epilogue is requant_neon.h.
 *
 * Extend: 16 channels per step (4 accumulators per pixel) suits aarch64's 32 registers better
 * for the general path.
 */
#include "backends/cpu/dwconv.h"
#include "backends/cpu/dwconv_neon.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

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

/* The neon layout (ev_dw_pack_neon): ev_dw_pack_i16's table, a 16-byte header (its first int32:
 * every s in [-127, 127]), then the weights as int8, [taps][Cp]. */
size_t ev_dw_pack_neon_size(int taps, int Cp) {
    return ev_dw_pack_i16_size(taps, Cp) + 16 + (size_t)taps * Cp;
}

void ev_dw_pack_neon(const int32_t *w, int taps, int Cp, void *out) {
    ev_dw_pack_i16(w, taps, Cp, out);
    uint8_t *p = (uint8_t *)out + ev_dw_pack_i16_size(taps, Cp);
    int32_t head[4] = {1, 0, 0, 0};
    int8_t *w8 = (int8_t *)(p + sizeof head);
    for (size_t i = 0; i < (size_t)taps * Cp; i++) {
        if (w[i] < -127 || w[i] > 127) head[0] = 0;
        w8[i] = (int8_t)(w[i] < -127 ? -127 : w[i] > 127 ? 127 : w[i]);
    }
    memcpy(p, head, sizeof head);
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
    int32_t fits8;
    memcpy(&fits8, head, sizeof fits8);
    const int8_t *w8 = fast && fits8 ? (const int8_t *)(head + 16) : NULL; /* W8 fast runs */
    const int32_t K = i8 ? -d->in_zp : 128 - d->in_zp;
    /* the clamp bounds as uint8 (run_e's clamp; uint8 outputs) */
    const uint8x16_t lo = vdupq_n_u8((uint8_t)(s->epi.act_min < 0 ? 0 : s->epi.act_min > 255 ? 255 : s->epi.act_min));
    const uint8x16_t hi = vdupq_n_u8((uint8_t)(s->epi.act_max < 0 ? 0 : s->epi.act_max > 255 ? 255 : s->epi.act_max));
    for (int c = 0; c < C; c += 8) {
        const int n = C - c < 8 ? C - c : 8;
        const dw_acc bias = {vld1q_s32(s->bias + c), vld1q_s32(s->bias + c + 4)};
        const int16_t *wc = (const int16_t *)s->wp + c; /* ev_dw_pack_i16 */
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
