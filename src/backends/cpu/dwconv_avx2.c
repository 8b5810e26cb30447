/*
 * dwconv_avx2.c - depthwise row kernel for AVX2 (ev_dw_row_avx2: one output row, the contract
 * of dwconv.h), bit-exact with the reference; the epilogue is requant_avx2.h.
 *
 * Channels go 8 at a time, one int32 lane each. Two paths:
 *
 * Fast path: interior pixels (every kx tap inside the image) of kernels 3 wide, dilation 1 in
 * x, stride 1 or 2, with 1 to 3 valid rows (MobileNet's 3x3 layers; the top and bottom output
 * rows have 2). Taps of two input rows go through ONE vpmaddwd: the two rows' bytes of a column
 * are interleaved (vpunpcklbw) and widened to int16 pairs (vpmovzxbw / vpmovsxbw), the weights
 * are the matching int16 pairs (w[r0][kx] - wz, w[r1][kx] - wz), so each int32 lane gets
 * x0 w0 + x1 w1; an odd row is widened to int32 (x, 0) against (w, 0). Each column is built
 * once and used by every output that covers it (4 outputs per step: 6 columns at stride 1, 9 at
 * stride 2). The raw x is used, not x - xz: the zero point is folded into the starting value,
 *     sum_taps (x - xz) w + bias = sum_taps x w + (bias - xz * sum_taps w),
 * computed per row and channel block over the valid rows (all 3 kx are valid in the interior).
 * Exactness: |x| <= 255 and |w - wz| <= 255 fit int16, so each vpmaddwd lane is the exact
 * x0 w0 + x1 w1 (|.| <= 130050, no saturation); vpaddd / vpmulld are exact modulo 2^32, so the
 * accumulator equals the reference's int32 sum (the identity above holds in Z, hence mod 2^32,
 * and the reference's value is an int32).
 *
 * The interior's last 1..3 outputs (past a multiple of 4) go through one more fast block ending
 * at the interior's end, which writes up to 3 outputs a second time with the same values. The
 * epilogue is requant_avx2.h's unclamped requantization and clamping packs (ev_requant8_nc_avx2,
 * ev_packc8_avx2).
 *
 * General path: every other pixel, shape and channel tail: for each tap inside the image (padded
 * taps skipped as in the reference) (x - xz) widened to int32 times s->wp (its config line's
 * ev_dw_pack_lo16: w - wz in the low 16 bits, zeros above) through vpmaddwd: the exact product
 * per lane. A channel tail shorter than 8 is loaded and stored through a small buffer so no byte
 * outside the tensor is touched.
 *
 * Extend: a kernel of another width gets its own column schedule in fast_block (the pair trick
 * works for any number of rows); AVX-VNNI would replace vpmaddwd + vpaddd by vpdpwssd.
 */
#include "backends/cpu/dwconv.h"
#include "backends/cpu/requant_avx2.h"

#include <immintrin.h>
#include <string.h>

#define DW_INLINE static inline __attribute__((always_inline))

/* 8 bytes at p (n of them when n < 8, the rest zero). */
DW_INLINE __m128i load8(const uint8_t *p, int n) {
    if (n >= 8) return _mm_loadl_epi64((const __m128i *)p);
    uint8_t tmp[16] = {0};
    memcpy(tmp, p, (size_t)n);
    return _mm_loadu_si128((const __m128i *)tmp);
}

/* Column of two rows as int16 pairs (x0, x1), 8 channels. */
DW_INLINE __m256i pair(const uint8_t *p0, const uint8_t *p1, int i8) {
    __m128i b = _mm_unpacklo_epi8(load8(p0, 8), load8(p1, 8));
    return i8 ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}

/* Column of one row as int32 (x, 0 in the high half), 8 channels. */
DW_INLINE __m256i single(const uint8_t *p, int i8) {
    __m128i b = load8(p, 8);
    return i8 ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
}

#define MAC(acc, x, w) ((acc) = _mm256_add_epi32((acc), _mm256_madd_epi16((x), (w))))

/* Outputs ox .. ox + 3 (all interior) of channels c .. c + 7. nrows (1..3), st (1, 2) and i8 are
 * constants at every call, so each combination compiles to straight-line code. */
DW_INLINE void fast_block(const uint8_t *const *rows, int nrows, int st, int i8, size_t C,
                          int x0, const __m256i *wa, const __m256i *wb, __m256i start,
                          const ev_rq_avx2 *q, uint8_t *o) {
    __m256i a0 = start, a1 = start, a2 = start, a3 = start;
    const size_t off = (size_t)x0 * C;
    const int ncol = st == 1 ? 6 : 9;
#pragma GCC unroll 9
    for (int j = 0; j < ncol; j++) {
        const size_t pj = off + (size_t)j * C;
        __m256i xa = nrows >= 2 ? pair(rows[0] + pj, rows[1] + pj, i8) : single(rows[0] + pj, i8);
        __m256i xb = nrows == 3 ? single(rows[2] + pj, i8) : _mm256_setzero_si256();
        /* output k uses column j at tap kx = j - st * k */
#define TAP(k, acc)                                                                              \
        do {                                                                                     \
            const int kx = j - st * (k);                                                         \
            if (kx >= 0 && kx < 3) {                                                             \
                MAC(acc, xa, wa[kx]);                                                            \
                if (nrows == 3) MAC(acc, xb, wb[kx]);                                            \
            }                                                                                    \
        } while (0)
        TAP(0, a0);
        TAP(1, a1);
        TAP(2, a2);
        TAP(3, a3);
#undef TAP
    }
    _mm_storel_epi64((__m128i *)o, ev_packc8_avx2(ev_requant8_nc_avx2(a0, q), q));
    _mm_storel_epi64((__m128i *)(o + C), ev_packc8_avx2(ev_requant8_nc_avx2(a1, q), q));
    _mm_storel_epi64((__m128i *)(o + 2 * C), ev_packc8_avx2(ev_requant8_nc_avx2(a2, q), q));
    _mm_storel_epi64((__m128i *)(o + 3 * C), ev_packc8_avx2(ev_requant8_nc_avx2(a3, q), q));
}

typedef void (*fast_fn)(const uint8_t *const *rows, size_t C, int x0, const __m256i *wa,
                        const __m256i *wb, __m256i start, const ev_rq_avx2 *q, uint8_t *o);

#define FAST_VARIANT(name, nr, s, i8)                                                            \
    static void name(const uint8_t *const *rows, size_t C, int x0, const __m256i *wa,           \
                     const __m256i *wb, __m256i start, const ev_rq_avx2 *q, uint8_t *o) {      \
        fast_block(rows, nr, s, i8, C, x0, wa, wb, start, q, o);                                 \
    }
FAST_VARIANT(fast_1_1_u8, 1, 1, 0)
FAST_VARIANT(fast_2_1_u8, 2, 1, 0)
FAST_VARIANT(fast_3_1_u8, 3, 1, 0)
FAST_VARIANT(fast_1_2_u8, 1, 2, 0)
FAST_VARIANT(fast_2_2_u8, 2, 2, 0)
FAST_VARIANT(fast_3_2_u8, 3, 2, 0)
FAST_VARIANT(fast_1_1_i8, 1, 1, 1)
FAST_VARIANT(fast_2_1_i8, 2, 1, 1)
FAST_VARIANT(fast_3_1_i8, 3, 1, 1)
FAST_VARIANT(fast_1_2_i8, 1, 2, 1)
FAST_VARIANT(fast_2_2_i8, 2, 2, 1)
FAST_VARIANT(fast_3_2_i8, 3, 2, 1)

/* [i8][stride - 1][nrows - 1] */
static const fast_fn k_fast[2][2][3] = {
    {{fast_1_1_u8, fast_2_1_u8, fast_3_1_u8}, {fast_1_2_u8, fast_2_2_u8, fast_3_2_u8}},
    {{fast_1_1_i8, fast_2_1_i8, fast_3_1_i8}, {fast_1_2_i8, fast_2_2_i8, fast_3_2_i8}},
};

/* (x - xz) as int32 of channels c .. c + n - 1 of one pixel. */
DW_INLINE __m256i load_xz(const uint8_t *p, int n, int i8, __m256i xz) {
    __m128i b = load8(p, n);
    __m256i x = i8 ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    return _mm256_sub_epi32(x, xz);
}

/* One output pixel through the general path: taps inside the image only. */
DW_INLINE void general_px(const cpu_dw *s, const uint8_t *img, int iy0, int ky0, int ky1, int ox,
                          int c, int n, __m256i bias, __m256i xz, const ev_rq_avx2 *q,
                          uint8_t *out_row) {
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, kw = d->k_w, dil = d->dil_w;
    const size_t row = (size_t)d->in_w * C;
    const int bx = ox * d->stride_w - d->pad_left;
    int kx0 = 0, kx1 = kw;
    while (kx0 < kw && bx + kx0 * dil < 0) kx0++;
    while (kx1 > kx0 && bx + (kx1 - 1) * dil >= d->in_w) kx1--;
    __m256i acc = bias;
    const int32_t *wc = ((const int32_t *)s->wp) + c;
    for (int ky = ky0; ky < ky1; ky++) {
        const uint8_t *pr = img + (size_t)(iy0 + ky * d->dil_h) * row + c;
        const int32_t *w = wc + (size_t)(ky * kw) * s->Cp;
        for (int kx = kx0; kx < kx1; kx++)
            MAC(acc, load_xz(pr + (size_t)(bx + kx * dil) * C, n, s->in_i8, xz),
                _mm256_loadu_si256((const __m256i *)(w + (size_t)kx * s->Cp)));
    }
    ev_store_bytes_avx2(out_row + (size_t)ox * C + c,
                        ev_packc8_avx2(ev_requant8_nc_avx2(acc, q), q), n);
}

void ev_dw_row_avx2(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
    EV_DW_ASSERT_ARGS(s, img, oy, out_row, 0);
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c, kw = d->k_w, i8 = s->in_i8, st = d->stride_w, dil = d->dil_w;
    const size_t row = (size_t)d->in_w * C;
    const __m256i xz = _mm256_set1_epi32(d->in_zp);
    int ky0 = 0, ky1 = d->k_h;
    const int iy0 = oy * d->stride_h - d->pad_top;
    while (ky0 < d->k_h && iy0 + ky0 * d->dil_h < 0) ky0++;
    while (ky1 > ky0 && iy0 + (ky1 - 1) * d->dil_h >= d->in_h) ky1--;
    const int nrows = ky1 - ky0;
    /* interior outputs: every kx tap inside the image */
    int ox_lo = 0, ox_hi = d->out_w;
    while (ox_lo < d->out_w && ox_lo * st - d->pad_left < 0) ox_lo++;
    while (ox_hi > ox_lo && (ox_hi - 1) * st - d->pad_left + (kw - 1) * dil >= d->in_w) ox_hi--;
    const int fast = kw == 3 && dil == 1 && (st == 1 || st == 2) && nrows >= 1 && nrows <= 3 &&
                     ox_hi - ox_lo >= 4;
    const fast_fn ffn = fast ? k_fast[i8][st - 1][nrows - 1] : NULL;
    for (int c = 0; c < C; c += 8) {
        const int n = C - c < 8 ? C - c : 8;
        const ev_rq_avx2 q = ev_rq_avx2_load(&s->epi, c);
        const __m256i bias = _mm256_loadu_si256((const __m256i *)(s->bias + c));
        int ox = 0;
        if (fast && n == 8) {
            /* weights as int16 pairs of rows (0, 1), row 2 alone; the folded zero point */
            const size_t Cp = (size_t)s->Cp;
            __m256i wa[3], wb[3], wsum = _mm256_setzero_si256();
            const uint8_t *rc[3] = {NULL, NULL, NULL};
            for (int r = 0; r < nrows; r++)
                rc[r] = img + (size_t)(iy0 + (ky0 + r) * d->dil_h) * row + c;
            for (int kx = 0; kx < 3; kx++) {
                const size_t t0 = (size_t)(ky0 * 3 + kx) * Cp + c;
                wa[kx] = _mm256_loadu_si256((const __m256i *)(((const int32_t *)s->wp) + t0));
                wb[kx] = _mm256_setzero_si256();
                __m256i sum = _mm256_loadu_si256((const __m256i *)(s->w + t0));
                if (nrows >= 2) {
                    const size_t t1 = t0 + 3 * Cp;
                    __m256i w1 = _mm256_loadu_si256((const __m256i *)(((const int32_t *)s->wp) + t1));
                    wa[kx] = _mm256_or_si256(wa[kx], _mm256_slli_epi32(w1, 16));
                    sum = _mm256_add_epi32(sum, _mm256_loadu_si256((const __m256i *)(s->w + t1)));
                }
                if (nrows == 3) {
                    const size_t t2 = t0 + 6 * Cp;
                    wb[kx] = _mm256_loadu_si256((const __m256i *)(((const int32_t *)s->wp) + t2));
                    sum = _mm256_add_epi32(sum, _mm256_loadu_si256((const __m256i *)(s->w + t2)));
                }
                wsum = _mm256_add_epi32(wsum, sum);
            }
            const __m256i start = _mm256_sub_epi32(bias, _mm256_mullo_epi32(xz, wsum));
            for (; ox < ox_lo; ox++) general_px(s, img, iy0, ky0, ky1, ox, c, 8, bias, xz, &q, out_row);
            for (; ox + 4 <= ox_hi; ox += 4)
                ffn(rc, (size_t)C, ox * st - d->pad_left, wa, wb, start, &q,
                    out_row + (size_t)ox * C + c);
            if (ox < ox_hi) { /* 1..3 interior outputs left: the last 4, some written again */
                ox = ox_hi - 4;
                ffn(rc, (size_t)C, ox * st - d->pad_left, wa, wb, start, &q,
                    out_row + (size_t)ox * C + c);
                ox = ox_hi;
            }
        }
        for (; ox < d->out_w; ox++) general_px(s, img, iy0, ky0, ky1, ox, c, n, bias, xz, &q, out_row);
    }
}
