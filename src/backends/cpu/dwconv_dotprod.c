/*
 * dwconv_dotprod.c - depthwise 3x3 row kernel on the armv8.2 dot product (SDOT: 4 signed bytes
 * times 4, summed into one int32 lane), aarch64 only (-march=armv8.2-a+dotprod by file suffix),
 * used only where isa.c finds HWCAP_ASIMDDP (Cortex-A76/A55, Raspberry Pi 5); bit-exact with the
 * reference.
 *
 * Per channel, a 3x3 output is three 3-term dot products, one per kernel column kx: that
 * column's 3 input rows times the weights (w - w_zp) of column kx. An input column of 8 channels
 * is transposed once, its three rows' 8 bytes interleaved into two vectors of [r0 r1 r2 r2] per
 * channel (two byte ZIP1, two halfword ZIP), and the packed weights hold [w0 w1 w2 0] per
 * channel and kx; a pixel is then 3 SDOT per 4 channels (SMLAL needs 9), and a column serves the
 * 3 (stride 1) or 1.5 (stride 2) output pixels that read it.
 *
 * SDOT's operands are int8: weights s = w - w_zp must lie in [-128, 127], or in [-127, 128]
 * (w_zp 127 with w 255: the table then holds -s, the sums start at -bias and are negated before
 * the epilogue); checked once when packing, a layer with others runs ev_dw_row_neon. Activations
 * enter as u = x ^ 0x80 = x - 128 for uint8 (x itself for int8), so that
 *     sum_t (x_t - x_zp) s_t = sum_t u_t s_t + K sum_t s_t,   K = 128 - x_zp (uint8), -x_zp (int8)
 * and the second term joins the bias. A padded tap reads the byte x_zp, whose u s + K s is 0:
 * the reference skips those taps, and here they cost no case of their own. Rows above or below
 * the image read a 16-byte block of x_zp with a column step of 0; columns left or right of it are
 * a register of those bytes. Interior runs of 4 output pixels take the fast loop, which carries
 * the columns a run shares with the next (with a left padding of 1 the first run starts at the
 * padded column; a last stride-1 pixel whose third column is the first right of the image comes
 * from the carried columns); other border pixels go two at a time. The epilogue: for a group of
 * 8 channels with one multiplier and one right shift (per-tensor models) dq_bytes, SQRDMULH and a
 * rounding shift by register (with the round-half-away fixup folded into SQRDMLAH unless the
 * output is uint8 with zero point 0, where it cannot change a result); otherwise requant_neon.h's
 * ev_rq16_bytes (two pixels' 8 channels per 16-byte row).
 *
 * Taken: 3x3, dilation 1 across (any down), stride across 1 or 2, channels a multiple of 8, with
 * the weight range above. Anything else runs ev_dw_row_neon on the same packed buffer (its
 * layout, ev_dw_pack_neon, comes first).
 *
 * Extend: 16 channels per pass (12 weight vectors: aarch64's 32 registers get tight), a 5x5
 * layout (two SDOT per kernel column).
 */
#include "backends/cpu/dwconv_dotprod.h"
#include "backends/cpu/dwconv_neon.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

/* After the neon layout (ev_dw_pack_neon): this header, sum_t s_t per channel ([Cp] int32), then
 * the SDOT weights, [kx][Cp] groups of 4 bytes {s(0, kx), s(1, kx), s(2, kx), 0}. */
typedef struct dot_head {
    int32_t fits; /* 9 taps and every s = w - w_zp in [-128, 127] (1), or in [-127, 128] (2: the
                     table holds -s, the kernel negates the sums), else 0                     */
    int32_t unused[3];
} dot_head;

size_t ev_dw_pack_dot_size(int taps, int Cp) {
    return ev_dw_pack_neon_size(taps, Cp) + sizeof(dot_head) + (size_t)Cp * sizeof(int32_t) +
           (size_t)3 * Cp * 4;
}

void ev_dw_pack_dot(const int32_t *w, int taps, int Cp, void *out) {
    ev_dw_pack_neon(w, taps, Cp, out);
    uint8_t *p = (uint8_t *)out + ev_dw_pack_neon_size(taps, Cp);
    int lo = 0, hi = 0;
    for (size_t i = 0; i < (size_t)taps * Cp; i++) {
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
    }
    dot_head h = {taps != 9 ? 0 : lo >= -128 && hi <= 127 ? 1 : lo >= -127 && hi <= 128 ? 2 : 0,
                  {0, 0, 0}};
    const int sign = h.fits == 2 ? -1 : 1;
    int32_t *ssum = (int32_t *)(p + sizeof h);
    int8_t *wd = (int8_t *)(ssum + Cp);
    memset(ssum, 0, (size_t)Cp * sizeof(int32_t));
    memset(wd, 0, (size_t)3 * Cp * 4);
    if (h.fits)
        for (int c = 0; c < Cp; c++) {
            for (int t = 0; t < 9; t++) ssum[c] += w[(size_t)t * Cp + c];
            for (int kx = 0; kx < 3; kx++)
                for (int ky = 0; ky < 3; ky++)
                    wd[((size_t)kx * Cp + c) * 4 + ky] =
                        (int8_t)(sign * w[(size_t)(ky * 3 + kx) * Cp + c]);
        }
    memcpy(p, &h, sizeof h);
}

/* Channels c .. c + 3 and c + 4 .. c + 7 of one input column, [r0 r1 r2 r2] per channel. */
typedef struct col8 {
    int8x16_t lo, hi;
} col8;

/* Three rows' 8 bytes of one column -> col8 (x ^ 0x80 for uint8: I8 = 0). */
static inline __attribute__((always_inline)) col8 make_col(const uint8_t *p0, const uint8_t *p1,
                                                           const uint8_t *p2, const int I8) {
    const uint8x16_t r0 = vcombine_u8(vld1_u8(p0), vdup_n_u8(0));
    const uint8x16_t r1 = vcombine_u8(vld1_u8(p1), vdup_n_u8(0));
    const uint8x16_t r2 = vcombine_u8(vld1_u8(p2), vdup_n_u8(0));
    uint8x16_t a = vzip1q_u8(r0, r1), b = vzip1q_u8(r2, r2);
    if (!I8) {
        a = veorq_u8(a, vdupq_n_u8(0x80));
        b = veorq_u8(b, vdupq_n_u8(0x80));
    }
    const uint16x8_t a16 = vreinterpretq_u16_u8(a), b16 = vreinterpretq_u16_u8(b);
    col8 v = {vreinterpretq_s8_u16(vzip1q_u16(a16, b16)),
              vreinterpretq_s8_u16(vzip2q_u16(a16, b16))};
    return v;
}

/* One output pixel's 8 channels (acc[0], acc[1]) from its three columns. */
static inline __attribute__((always_inline)) void dot3(int32x4_t *acc, const int8x16_t *w,
                                                       col8 k0, col8 k1, col8 k2) {
    acc[0] = vdotq_s32(acc[0], w[0], k0.lo);
    acc[1] = vdotq_s32(acc[1], w[1], k0.hi);
    acc[0] = vdotq_s32(acc[0], w[2], k1.lo);
    acc[1] = vdotq_s32(acc[1], w[3], k1.hi);
    acc[0] = vdotq_s32(acc[0], w[4], k2.lo);
    acc[1] = vdotq_s32(acc[1], w[5], k2.hi);
}

/* The requantization of the fast loops and the edges where a group's 8 channels share one
 * multiplier M0 >= 0 and one right shift e >= 1 with ties away from zero (per-tensor models):
 * t = acc < 0 ? -1 : 0, SQRDMLAH t += acc * M0 (SQRDMULH and the round-half-away fixup at once,
 * exact: see gemm_dotprod.c's fast_store), SRSHL by -e (the rounding shift, ties up), then as
 * ev_rq16_bytes: narrowing to int16, the zero point, narrowing to the output type, the clamp. */
typedef struct dq {
    int32x4_t m0, nsh; /* M0 and -e in every lane */
    int16x8_t zp16;
    uint8x16_t lo, hi; /* act_min / act_max as bytes (the int8 bits for int8 outputs) */
} dq;

/* Fills d for channels c .. c + 7 when they take dq's sequence (returns 1), else 0. */
static int dq_fill(dq *d, const ev_gemm_epi *ep, int c) {
    const int32_t m = ep->mult[c], e = ep->rshift[c];
    const int32x4_t mv = vdupq_n_s32(m), ev = vdupq_n_s32(e);
    d->m0 = mv;
    d->nsh = vnegq_s32(ev);
    d->zp16 = vdupq_n_s16((int16_t)ep->out_zp);
    d->lo = vdupq_n_u8((uint8_t)ep->act_min);
    d->hi = vdupq_n_u8((uint8_t)ep->act_max);
    if (ep->round_half_up) return 0;
    uint32x4_t ok = vandq_u32(vceqq_s32(vld1q_s32(ep->mult + c), mv),
                              vceqq_s32(vld1q_s32(ep->mult + c + 4), mv));
    ok = vandq_u32(ok, vandq_u32(vceqq_s32(vld1q_s32(ep->rshift + c), ev),
                                 vceqq_s32(vld1q_s32(ep->rshift + c + 4), ev)));
    if (ep->any_lshift)
        ok = vandq_u32(ok, vandq_u32(vceqzq_s32(vld1q_s32(ep->lshift + c)),
                                     vceqzq_s32(vld1q_s32(ep->lshift + c + 4))));
    return vminvq_u32(ok) && m >= 0 && e >= 1 && e <= 31;
}

/* acc: ROWS x 4 vectors (two pixels' 8 channels per row) -> o[ROWS]. */
static inline __attribute__((always_inline)) void dq_bytes(int32x4_t *acc, int ROWS, const dq *d,
                                                           uint8x16_t *o, const int I8,
                                                           const int PLAIN) {
    const int nv = 4 * ROWS;
    int32x4_t t[8];
    EV_RQ_UNROLL
    for (int i = 0; i < nv; i++) {
        if (PLAIN) { /* no fixup: see gemm_dotprod.c's fast_store */
            t[i] = vqrdmulhq_s32(acc[i], d->m0);
        } else {
            t[i] = vreinterpretq_s32_u32(vcltzq_s32(acc[i]));
            t[i] = vqrdmlahq_s32(t[i], acc[i], d->m0);
        }
        t[i] = vrshlq_s32(t[i], d->nsh);
    }
    if (PLAIN) { /* uint8, zero point 0, no clamp: the two saturating narrows are the clamp
                  * (and a negative product gives 0 whichever way its shift rounds, so the
                  * round-half-away fixup was left out above) */
        EV_RQ_UNROLL
        for (int r = 0; r < ROWS; r++)
            o[r] = vqmovun_high_s16(vqmovun_s16(vqmovn_high_s32(vqmovn_s32(t[4 * r]), t[4 * r + 1])),
                                    vqmovn_high_s32(vqmovn_s32(t[4 * r + 2]), t[4 * r + 3]));
        return;
    }
    EV_RQ_UNROLL
    for (int r = 0; r < ROWS; r++) {
        const int16x8_t h0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(t[4 * r]), t[4 * r + 1]),
                                        d->zp16);
        const int16x8_t h1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(t[4 * r + 2]), t[4 * r + 3]),
                                        d->zp16);
        if (I8) {
            const int8x16_t b = vqmovn_high_s16(vqmovn_s16(h0), h1);
            o[r] = vreinterpretq_u8_s8(vminq_s8(vmaxq_s8(b, vreinterpretq_s8_u8(d->lo)),
                                                vreinterpretq_s8_u8(d->hi)));
        } else {
            o[r] = vminq_u8(vmaxq_u8(vqmovun_high_s16(vqmovun_s16(h0), h1), d->lo), d->hi);
        }
    }
}

/* Requantizes ROWS x 4 accumulators (negated first for NEG weights) through dq (STR 1; 2: uint8
 * out, zero point 0 and no clamp inside 0..255) or ev_rq16_bytes (STR 0). */
static inline __attribute__((always_inline)) void rq(int32x4_t *acc, int ROWS, const dq *d,
                                                     const ev_rq16 *q, uint8x16_t *o,
                                                     const int I8, const int NEG,
                                                     const int STR) {
    if (NEG) {
        EV_RQ_UNROLL
        for (int j = 0; j < 4 * ROWS; j++) acc[j] = vnegq_s32(acc[j]);
    }
    if (STR)
        dq_bytes(acc, ROWS, d, o, I8, STR == 2);
    else
        ev_rq16_bytes(acc, ROWS, q, o);
}

/* Four output pixels' 8 channels (acc[0..8): pixel i in acc[2i], acc[2i + 1]), requantized and
 * stored C bytes apart from dst. */
static inline __attribute__((always_inline)) void store4(int32x4_t *acc, const dq *d,
                                                         const ev_rq16 *q, uint8_t *dst, size_t C,
                                                         const int I8, const int NEG,
                                                         const int STR) {
    uint8x16_t o8[2];
    rq(acc, 2, d, q, o8, I8, NEG, STR);
    vst1_u8(dst, vget_low_u8(o8[0]));
    vst1q_lane_u64((uint64_t *)(void *)(dst + C), vreinterpretq_u64_u8(o8[0]), 1);
    vst1_u8(dst + 2 * C, vget_low_u8(o8[1]));
    vst1q_lane_u64((uint64_t *)(void *)(dst + 3 * C), vreinterpretq_u64_u8(o8[1]), 1);
}

/* The three input rows of an output row for one channel group: row ky's column ix starts at
 * p[ky] + ix * cs[ky] (cs 0 for a row outside the image, whose p is the x_zp block). */
typedef struct rows3 {
    const uint8_t *p[3];
    size_t cs[3];
} rows3;

static inline __attribute__((always_inline)) col8 col_in(const rows3 *r, int ix, const int I8) {
    return make_col(r->p[0] + (size_t)ix * r->cs[0], r->p[1] + (size_t)ix * r->cs[1],
                    r->p[2] + (size_t)ix * r->cs[2], I8);
}

/* The 8 channels from c of output pixels [0, out_w) of one row: runs of 4 whose columns lie in
 * the image (or, with a left padding of 1, start at the padded column) in the fast loop, which
 * carries the columns two runs share in registers; a last pixel whose only outside column is
 * the first one right of the image (stride 1) from the carried columns; the others two at a time
 * with columns outside the image as `padc`. */
static inline __attribute__((always_inline)) void
group(const cpu_dw *s, const rows3 *r, const int8x16_t *w, int32x4_t blo, int32x4_t bhi,
      const dq *d, const ev_rq16 *q, col8 padc, int c, uint8_t *out_row, const int I8,
      const int ST, const int NEG, const int STR) {
    const ev_conv_desc *dd = &s->d;
    const size_t C = (size_t)dd->in_c;
    const int pl = dd->pad_left, in_w = dd->in_w, out_w = dd->out_w;
    /* Fast runs: every column of the run inside the image, the first one possibly the padded
     * column -1. */
    int ox_lo = (pl + ST - 1) / ST; /* first ox with ox * ST - pl >= 0 */
    if (ox_lo > out_w) ox_lo = out_w;
    int ox_hi = (in_w - 3 + pl) >= 0 ? (in_w - 3 + pl) / ST + 1 : 0; /* ox * ST - pl + 2 < in_w */
    if (ox_hi > out_w) ox_hi = out_w;
    const int start = pl == 1 && ox_lo == 1 && in_w >= 2 ? 0 : ox_lo;
    int fast_end = start;
    if (ox_hi - start >= 4) fast_end = start + ((ox_hi - start) & ~3);
    int tail_from = fast_end; /* first pixel left to the pairs */
    if (fast_end > start) {
        /* column j of the run at p_ky + (j - 1) * cs_ky, j = 0 the run's first column */
        const int bx = start * ST - pl;
        const size_t c0 = r->cs[0], c1 = r->cs[1], c2 = r->cs[2];
        const uint8_t *p0 = r->p[0] + (size_t)(bx + 1) * c0;
        const uint8_t *p1 = r->p[1] + (size_t)(bx + 1) * c1;
        const uint8_t *p2 = r->p[2] + (size_t)(bx + 1) * c2;
#define COL(j) make_col(p0 + (ptrdiff_t)((j) - 1) * (ptrdiff_t)c0,                                  \
                        p1 + (ptrdiff_t)((j) - 1) * (ptrdiff_t)c1,                                  \
                        p2 + (ptrdiff_t)((j) - 1) * (ptrdiff_t)c2, I8)
        uint8_t *dst = out_row + (size_t)start * C + c;
        col8 k0 = bx < 0 ? padc : COL(0);
        if (ST == 1) {
            col8 k1 = COL(1);
            for (int ox = start; ox < fast_end; ox += 4) {
                const col8 k2 = COL(2), k3 = COL(3), k4 = COL(4), k5 = COL(5);
                int32x4_t acc[8] = {blo, bhi, blo, bhi, blo, bhi, blo, bhi};
                dot3(acc, w, k0, k1, k2);
                dot3(acc + 2, w, k1, k2, k3);
                dot3(acc + 4, w, k2, k3, k4);
                dot3(acc + 6, w, k3, k4, k5);
                store4(acc, d, q, dst, C, I8, NEG, STR);
                dst += 4 * C;
                k0 = k4;
                k1 = k5;
                p0 += 4 * c0;
                p1 += 4 * c1;
                p2 += 4 * c2;
            }
            /* one pixel left whose third column is the first right of the image */
            if (out_w - fast_end == 1 && fast_end - pl + 2 == in_w) {
                int32x4_t acc[4] = {blo, bhi, blo, bhi};
                dot3(acc, w, k0, k1, padc);
                uint8x16_t o8;
                rq(acc, 1, d, q, &o8, I8, NEG, STR);
                vst1_u8(dst, vget_low_u8(o8));
                tail_from = out_w;
            }
        } else {
            for (int ox = start; ox < fast_end; ox += 4) {
                int32x4_t acc[8] = {blo, bhi, blo, bhi, blo, bhi, blo, bhi};
                const col8 k1 = COL(1), k2 = COL(2);
                dot3(acc, w, k0, k1, k2);
                const col8 k3 = COL(3), k4 = COL(4);
                dot3(acc + 2, w, k2, k3, k4);
                const col8 k5 = COL(5), k6 = COL(6);
                dot3(acc + 4, w, k4, k5, k6);
                const col8 k7 = COL(7), k8 = COL(8);
                dot3(acc + 6, w, k6, k7, k8);
                store4(acc, d, q, dst, C, I8, NEG, STR);
                dst += 4 * C;
                k0 = k8;
                p0 += 8 * c0;
                p1 += 8 * c1;
                p2 += 8 * c2;
            }
        }
#undef COL
    }
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: [0, start); pass 1: [tail_from, out_w) */
        const int a = pass ? tail_from : 0, b = pass ? out_w : start;
        for (int ox = a; ox < b; ox += 2) {
            int32x4_t acc[4] = {blo, bhi, blo, bhi};
            for (int px = 0; px < 2; px++) {
                const int o = ox + px < b ? ox + px : ox;
                col8 k[3];
                for (int kx = 0; kx < 3; kx++) {
                    const int ix = o * ST - pl + kx;
                    k[kx] = ix < 0 || ix >= in_w ? padc : col_in(r, ix, I8);
                }
                dot3(acc + 2 * px, w, k[0], k[1], k[2]);
            }
            uint8x16_t o8;
            rq(acc, 1, d, q, &o8, I8, NEG, STR);
            vst1_u8(out_row + (size_t)ox * C + c, vget_low_u8(o8));
            if (ox + 1 < b) vst1_u8(out_row + (size_t)(ox + 1) * C + c, vget_high_u8(o8));
        }
    }
}

void ev_dw_row_dotprod(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
    EV_DW_ASSERT_ARGS(s, img, oy, out_row, EV_DW_SIMD_MAX_KH);
    const ev_conv_desc *d = &s->d;
    const int taps = d->k_h * d->k_w;
    const uint8_t *tail = (const uint8_t *)s->wp + ev_dw_pack_neon_size(taps, s->Cp);
    dot_head h;
    memcpy(&h, tail, sizeof h);
    const int C = d->in_c, st = d->stride_w;
    if (h.fits == 0 || d->k_h != 3 || d->k_w != 3 || d->dil_w != 1 || (st != 1 && st != 2) ||
        C % 8 != 0) {
        ev_dw_row_neon(s, img, oy, out_row);
        return;
    }
    const int32_t *ssum = (const int32_t *)(tail + sizeof h);
    const int8_t *wd = (const int8_t *)(ssum + s->Cp);
    const int i8 = s->in_i8, neg = h.fits == 2;
    const int32_t K = i8 ? -d->in_zp : 128 - d->in_zp;
    uint8_t zpb[16];
    memset(zpb, (uint8_t)d->in_zp, sizeof zpb);
    const uint8_t padb = (uint8_t)(i8 ? d->in_zp : d->in_zp ^ 0x80); /* x_zp as an operand */
    const int8x16_t padv = vreinterpretq_s8_u8(vdupq_n_u8(padb));
    const col8 padc = {padv, padv};
    const uint8_t *base[3];
    size_t cs[3], cc[3];
    for (int ky = 0; ky < 3; ky++) {
        const int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
        const int in = iy >= 0 && iy < d->in_h;
        base[ky] = in ? img + (size_t)iy * d->in_w * C : zpb;
        cs[ky] = in ? (size_t)C : 0;
        cc[ky] = in ? 1 : 0;
    }
    for (int c = 0; c < C; c += 8) {
        rows3 r;
        for (int ky = 0; ky < 3; ky++) {
            r.p[ky] = base[ky] + (size_t)c * cc[ky];
            r.cs[ky] = cs[ky];
        }
        int8x16_t w[6];
        for (int kx = 0; kx < 3; kx++) {
            w[2 * kx] = vld1q_s8(wd + ((size_t)kx * s->Cp + c) * 4);
            w[2 * kx + 1] = vld1q_s8(wd + ((size_t)kx * s->Cp + c + 4) * 4);
        }
        int32x4_t blo = vmlaq_n_s32(vld1q_s32(s->bias + c), vld1q_s32(ssum + c), K);
        int32x4_t bhi = vmlaq_n_s32(vld1q_s32(s->bias + c + 4), vld1q_s32(ssum + c + 4), K);
        if (neg) { /* the sums start at -bias and are negated back (exact in int32's wrap) */
            blo = vnegq_s32(blo);
            bhi = vnegq_s32(bhi);
        }
        dq dqv;
        ev_rq16 q;
        const int str = dq_fill(&dqv, &s->epi, c);
        if (!str) ev_rq16_load8(&q, &s->epi, c, 8);
#define GROUP(I8, ST, NEG, STR)                                                                  \
    group(s, &r, w, blo, bhi, &dqv, &q, padc, c, out_row, I8, ST, NEG, STR)
        /* uint8 out, zero point 0, no clamp inside 0..255: dq without the zero point and clamp */
        const int plain = str && !i8 && s->epi.out_zp == 0 && s->epi.act_min <= 0 &&
                          s->epi.act_max >= 255;
        switch (i8 * 8 + (st - 1) * 4 + neg * 2 + str) {
        case 0: GROUP(0, 1, 0, 0); break;
        case 1:
            if (plain) GROUP(0, 1, 0, 2); else GROUP(0, 1, 0, 1);
            break;
        case 2: GROUP(0, 1, 1, 0); break;
        case 3:
            if (plain) GROUP(0, 1, 1, 2); else GROUP(0, 1, 1, 1);
            break;
        case 4: GROUP(0, 2, 0, 0); break;
        case 5:
            if (plain) GROUP(0, 2, 0, 2); else GROUP(0, 2, 0, 1);
            break;
        case 6: GROUP(0, 2, 1, 0); break;
        case 7:
            if (plain) GROUP(0, 2, 1, 2); else GROUP(0, 2, 1, 1);
            break;
        case 8: GROUP(1, 1, 0, 0); break;
        case 9: GROUP(1, 1, 0, 1); break;
        case 10: GROUP(1, 1, 1, 0); break;
        case 11: GROUP(1, 1, 1, 1); break;
        case 12: GROUP(1, 2, 0, 0); break;
        case 13: GROUP(1, 2, 0, 1); break;
        case 14: GROUP(1, 2, 1, 0); break;
        default: GROUP(1, 2, 1, 1); break;
        }
#undef GROUP
    }
}
