/*
 * dwconv_neon.c - depthwise row kernel with NEON (aarch64 and armv7; -mfpu=neon on armv7 by file
 * suffix), bit-exact with the reference.
 *
 * Eight channels at a time: input bytes widened to int16 (vmovl) minus x_zp (|x - x_zp| <= 255),
 * weights (w - w_zp) stored as int16 at prepare time (ev_dw_pack_i16, named by its config
 * line), products accumulated exactly in two int32x4 by vmlal_s16 starting from the bias. Interior pixels of 3x3 kernels with stride 1
 * or 2 go four at a time, loading each input column once for the taps that share it (as
 * dwconv_row.inc does on AVX-512); borders and other shapes take the general path, which skips
 * padded taps like the reference. A channel tail shorter than 8 goes through a small buffer, so
 * no byte outside the tensor is read. The epilogue is requant_neon.h.
 *
 * Extend: 16 channels per step (4 accumulators per pixel) suits aarch64's 32 registers better
 * for the general path.
 */
#include "backends/cpu/dwconv.h"
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

static inline dw_acc mac(dw_acc a, int16x8_t x, int16x8_t w) {
    a.lo = vmlal_s16(a.lo, vget_low_s16(x), vget_low_s16(w));
    a.hi = vmlal_s16(a.hi, vget_high_s16(x), vget_high_s16(w));
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

void ev_dw_row_neon(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
    EV_DW_ASSERT_ARGS(s, img, oy, out_row, EV_DW_SIMD_MAX_KH);
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, kw = d->k_w, i8 = s->in_i8, st = d->stride_w;
    const size_t row = (size_t)d->in_w * C, col = (size_t)C;
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
    for (int c = 0; c < C; c += 8) {
        const int n = C - c < 8 ? C - c : 8;
        const dw_acc bias = {vld1q_s32(s->bias + c), vld1q_s32(s->bias + c + 4)};
        const int16_t *wc = (const int16_t *)s->wp + c; /* ev_dw_pack_i16 */
        int ox = 0;
        while (ox < d->out_w) {
            if (fast && ox >= ox_lo && ox + 4 <= ox_hi) {
                dw_acc a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                for (int r = 0; r < nrows; r++) {
                    const uint8_t *p = rows[r] + (size_t)(ox * st - d->pad_left) * C + c;
                    const int16_t *w = wc + (size_t)((ky0 + r) * 3) * s->Cp;
                    const int16x8_t w0 = vld1q_s16(w), w1 = vld1q_s16(w + s->Cp);
                    const int16x8_t w2 = vld1q_s16(w + 2 * (size_t)s->Cp);
                    const int16x8_t x0 = load_x(p, n, i8, xz), x1 = load_x(p + col, n, i8, xz);
                    const int16x8_t x2 = load_x(p + 2 * col, n, i8, xz);
                    const int16x8_t x3 = load_x(p + 3 * col, n, i8, xz);
                    const int16x8_t x4 = load_x(p + 4 * col, n, i8, xz);
                    const int16x8_t x5 = load_x(p + 5 * col, n, i8, xz);
                    if (st == 1) {
                        a0 = mac(a0, x0, w0), a0 = mac(a0, x1, w1), a0 = mac(a0, x2, w2);
                        a1 = mac(a1, x1, w0), a1 = mac(a1, x2, w1), a1 = mac(a1, x3, w2);
                        a2 = mac(a2, x2, w0), a2 = mac(a2, x3, w1), a2 = mac(a2, x4, w2);
                        a3 = mac(a3, x3, w0), a3 = mac(a3, x4, w1), a3 = mac(a3, x5, w2);
                    } else {
                        const int16x8_t x6 = load_x(p + 6 * col, n, i8, xz);
                        const int16x8_t x7 = load_x(p + 7 * col, n, i8, xz);
                        const int16x8_t x8 = load_x(p + 8 * col, n, i8, xz);
                        a0 = mac(a0, x0, w0), a0 = mac(a0, x1, w1), a0 = mac(a0, x2, w2);
                        a1 = mac(a1, x2, w0), a1 = mac(a1, x3, w1), a1 = mac(a1, x4, w2);
                        a2 = mac(a2, x4, w0), a2 = mac(a2, x5, w1), a2 = mac(a2, x6, w2);
                        a3 = mac(a3, x6, w0), a3 = mac(a3, x7, w1), a3 = mac(a3, x8, w2);
                    }
                }
                uint8_t *o = out_row + (size_t)ox * C + c;
                store8(o, a0, &s->epi, c, n);
                store8(o + col, a1, &s->epi, c, n);
                store8(o + 2 * col, a2, &s->epi, c, n);
                store8(o + 3 * col, a3, &s->epi, c, n);
                ox += 4;
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
