/*
 * conv_f32_first_avx2.c - the AVX2 + FMA row kernel of the direct float first-layer convolution
 * (f32_conv_first_6x16__avx2, conv_f32_first.h): one output row, all its channels, from the kh
 * zero-padded input rows the op keeps per thread.
 *
 * Per block of up to 16 channels (the packed block: 16 biases, then K rows of 16 weights) the
 * row's pixels go by register tiles of 6 pixels x 2 vectors (12 ymm accumulators, two weight
 * vectors, one broadcast), or 12 pixels x 1 vector for a block of 8 channels or fewer. Per tap
 * (ky, kx, c) a tile loads the weight vectors and broadcasts one input value per pixel: pixel
 * i's value is rows[ky][(p0 + i) * ps + q]. A block's weights (kh x kw x cin x 16 floats) and
 * the input rows stay in L1 across the row.
 *
 * The accumulators start at the bias; the epilogue clamps to [min, max] (NaN passes through, as
 * in the reference) and stores whole vectors, or masked stores (vmaskmovps) for the last N % 8
 * channels of the block. The last tile of a row is computed whole (its reads stay inside the
 * op's row slack) and stored up to the row's end.
 *
 * Extend: another tile shape is a case in ev_f32_conv_first_avx2 below.
 */
#include "backends/cpu/conv_f32_first.h"
#include "backends/cpu/gemm_f32.h"

#include <immintrin.h>

#define NB 16 /* channels per packed block (the table line's nb) */

#define INLINE static inline __attribute__((always_inline))

/* Pixels [p0, p0 + npx) (npx <= mr: the rest of the tile is computed, not stored) of one
 * block's nc channels, nv = ceil(nc / 8) vectors. */
INLINE void tile(const int nv, const int mr, const ev_f32_first_row *r, int p0, int npx,
                 const float *blk, int nc, float *out, __m256 lo, __m256 hi) {
    __m256 acc[12][2];
    const __m256 b0 = _mm256_loadu_ps(blk), b1 = nv > 1 ? _mm256_loadu_ps(blk + 8) : b0;
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i][0] = b0, acc[i][1] = b1;
    const int ps = r->ps;
    const float *w = blk + NB;
    for (int ky = 0; ky < r->k_h; ky++) {
        const float *x = r->rows[ky] + (size_t)p0 * (size_t)ps;
        for (int q = 0; q < r->kwc; q++, w += NB) {
            const __m256 w0 = _mm256_loadu_ps(w), w1 = nv > 1 ? _mm256_loadu_ps(w + 8) : w0;
#pragma GCC unroll 12
            for (int i = 0; i < 12; i++) {
                if (i >= mr) break;
                const __m256 xv = _mm256_broadcast_ss(x + i * ps + q);
                acc[i][0] = _mm256_fmadd_ps(xv, w0, acc[i][0]);
                if (nv > 1) acc[i][1] = _mm256_fmadd_ps(xv, w1, acc[i][1]);
            }
        }
    }
    const int last = nc - 8 * (nv - 1); /* lanes of the last vector: 1..8 */
    const __m256i ml = _mm256_cmpgt_epi32(_mm256_set1_epi32(last),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) {
        if (i >= mr || i >= npx) break;
        float *o = out + (size_t)(p0 + i) * (size_t)r->N;
        /* max(lo, NaN) = NaN: the second operand when unordered */
        __m256 y0 = _mm256_min_ps(hi, _mm256_max_ps(lo, acc[i][0]));
        if (nv == 1) {
            if (last == 8) _mm256_storeu_ps(o, y0);
            else _mm256_maskstore_ps(o, ml, y0);
        } else {
            __m256 y1 = _mm256_min_ps(hi, _mm256_max_ps(lo, acc[i][1]));
            _mm256_storeu_ps(o, y0);
            if (last == 8) _mm256_storeu_ps(o + 8, y1);
            else _mm256_maskstore_ps(o + 8, ml, y1);
        }
    }
}

INLINE void row(const int nv, const int mr, const ev_f32_first_row *r, const float *blk, int nc,
                float *out) {
    const __m256 lo = _mm256_set1_ps(r->min), hi = _mm256_set1_ps(r->max);
    for (int p = 0; p < r->n_px; p += mr)
        tile(nv, mr, r, p, r->n_px - p, blk, nc, out, lo, hi);
}

void ev_f32_conv_first_avx2(const ev_f32_first_row *r, const float *Wp, float *out) {
    const int K = r->k_h * r->kwc;
    for (int n0 = 0; n0 < r->N; n0 += NB) {
        const float *blk = ev_f32_gemm_block(Wp, n0, K, NB);
        const int nc = r->N - n0 < NB ? r->N - n0 : NB;
        if (nc > 8)
            row(2, 6, r, blk, nc, out + n0);
        else
            row(1, 12, r, blk, nc, out + n0);
    }
}
