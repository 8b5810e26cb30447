/*
 * dwconv_avx512.c - one output row of a depthwise convolution, 16 channels per zmm.
 *
 * Products use vpmaddwd (one uop) instead of vpmulld: each int32 lane holds x - x_zp (its low 16
 * bits are that value as int16, |x - x_zp| <= 255) and the weight lane holds w - w_zp in its low
 * 16 bits with zero high bits (s->w16), so lo*lo + hi*0 is the exact product. Interior pixels,
 * whose taps are all inside the image, skip the per-tap bounds work. The epilogue is the shared
 * bit-exact requantization.
 */
#include "backends/cpu/dwconv.h"
#include "backends/cpu/requant_avx512.h"

static inline __m512i load_x(const uint8_t *p, __mmask16 m, int i8, __m512i xz) {
    __m128i b = _mm_maskz_loadu_epi8(m, p);
    __m512i x = i8 ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    return _mm512_sub_epi32(x, xz);
}

void ev_dw_row_avx512(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, kw = d->k_w, i8 = s->in_i8;
    const size_t row = (size_t)d->in_w * C;
    const __m512i xz = _mm512_set1_epi32(d->in_zp);
    int ky0 = 0, ky1 = d->k_h;
    while (ky0 < d->k_h && oy * d->stride_h - d->pad_top + ky0 * d->dil_h < 0) ky0++;
    while (ky1 > ky0 && oy * d->stride_h - d->pad_top + (ky1 - 1) * d->dil_h >= d->in_h) ky1--;
    const uint8_t *rows[16];
    int nrows = 0;
    for (int ky = ky0; ky < ky1 && nrows < 16; ky++)
        rows[nrows++] = img + (size_t)(oy * d->stride_h - d->pad_top + ky * d->dil_h) * row;
    /* interior columns: every kx tap inside [0, in_w) */
    int ox_lo = 0, ox_hi = d->out_w;
    while (ox_lo < d->out_w && ox_lo * d->stride_w - d->pad_left < 0) ox_lo++;
    while (ox_hi > ox_lo &&
           (ox_hi - 1) * d->stride_w - d->pad_left + (kw - 1) * d->dil_w >= d->in_w)
        ox_hi--;
    for (int c = 0; c < C; c += 16) {
        int left = C - c;
        __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        const __m512i bias = _mm512_loadu_si512(s->bias + c);
        const int32_t *wc = s->w16 + c;
        for (int ox = 0; ox < d->out_w; ox++) {
            int base_x = ox * d->stride_w - d->pad_left;
            __m512i acc = bias;
            if (ox >= ox_lo && ox < ox_hi) {
                for (int r = 0; r < nrows; r++) {
                    const uint8_t *p = rows[r] + (size_t)base_x * C + c;
                    const int32_t *w = wc + (size_t)((ky0 + r) * kw) * s->Cp;
                    for (int kx = 0; kx < kw; kx++) {
                        __m512i x = load_x(p + (size_t)kx * d->dil_w * C, m, i8, xz);
                        acc = _mm512_add_epi32(
                            acc, _mm512_madd_epi16(x, _mm512_loadu_si512(w + (size_t)kx * s->Cp)));
                    }
                }
            } else {
                int kx0 = 0, kx1 = kw;
                while (kx0 < kw && base_x + kx0 * d->dil_w < 0) kx0++;
                while (kx1 > kx0 && base_x + (kx1 - 1) * d->dil_w >= d->in_w) kx1--;
                for (int r = 0; r < nrows; r++) {
                    const int32_t *w = wc + (size_t)((ky0 + r) * kw) * s->Cp;
                    for (int kx = kx0; kx < kx1; kx++) {
                        const uint8_t *p = rows[r] + (size_t)(base_x + kx * d->dil_w) * C + c;
                        __m512i x = load_x(p, m, i8, xz);
                        acc = _mm512_add_epi32(
                            acc, _mm512_madd_epi16(x, _mm512_loadu_si512(w + (size_t)kx * s->Cp)));
                    }
                }
            }
            _mm512_mask_cvtepi32_storeu_epi8(out_row + (size_t)ox * C + c, m,
                                             requant16(acc, &s->epi, c));
        }
    }
}
