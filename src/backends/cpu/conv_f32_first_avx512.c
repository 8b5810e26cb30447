/*
 * conv_f32_first_avx512.c - the AVX-512F row kernel of the direct float first-layer convolution
 * (f32_conv_first_6x64__avx512skx, conv_f32_first.h): one output row, all its channels, from the
 * kh zero-padded input rows the op keeps per thread.
 *
 * Per block of up to 64 channels (the packed block: 64 biases, then K rows of 64 weights) the
 * row's pixels go by register tiles whose height follows the block's width in vectors (nv): 4
 * vectors x 6 pixels, 3 x 8, 2 x 12, 1 x 14 (24, 24, 24, 14 zmm accumulators, the weight
 * vectors and one broadcast). Per tap (ky, kx, c) a tile loads nv weight vectors and broadcasts
 * one input value per pixel: pixel i's value is rows[ky][(p0 + i) * ps + q], addressed as in
 * gemm_f32_avx512.c by groups of four pixels from one base (base + {0, 1, 2, 3} x ps). The
 * weights of a block (kh x kw x cin x 64 floats: 37 KiB for a 7x7x3 stem) stay in L1 across the
 * row's tiles; the input rows (a few KiB) too.
 *
 * The accumulators start at the bias; the epilogue clamps to [min, max] (NaN passes through, as
 * in the reference) and stores with write masks for the block's last N % 16 channels. The last
 * tile of a row is computed whole (its reads stay inside the op's row slack) and stored up to
 * the row's end.
 *
 * Extend: another tile shape is a case in row() below; another ISA is another file and line.
 */
#include "backends/cpu/conv_f32_first.h"
#include "backends/cpu/gemm_f32.h"

#include <immintrin.h>

#define NB 64 /* channels per packed block (the table line's nb) */

#define INLINE static inline __attribute__((always_inline))

/* Pixels [p0, p0 + npx) (npx <= mr: the rest of the tile is computed, not stored) of one
 * block's nc channels, nv = ceil(nc / 16) vectors. */
INLINE void tile(const int nv, const int mr, const ev_f32_first_row *r, int p0, int npx,
                 const float *blk, int nc, float *out, __m512 lo, __m512 hi) {
    __m512 acc[16][4], b[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) b[v] = v < nv ? _mm512_loadu_ps(blk + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) acc[i][v] = b[v];
    const size_t l1 = (size_t)r->ps * sizeof(float), l3 = 3 * l1;
    const float *w = blk + NB;
    for (int ky = 0; ky < r->k_h; ky++) {
        const char *g[4];
        const char *base = (const char *)(r->rows[ky] + (size_t)p0 * (size_t)r->ps);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) g[q] = base + (size_t)(4 * q < mr ? 4 * q : 0) * l1;
        for (int q = 0; q < r->kwc; q++, w += NB) {
            __m512 wv[4];
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) wv[v] = v < nv ? _mm512_loadu_ps(w + 16 * v) : b[0];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) {
                if (i >= mr) break;
                const char *gb = g[i / 4];
                const int j = i % 4;
                const float *p = (const float *)(j == 0 ? gb : j == 1 ? gb + l1
                                                 : j == 2 ? gb + 2 * l1 : gb + l3);
                const __m512 x = _mm512_set1_ps(*p);
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++)
                    if (v < nv) acc[i][v] = _mm512_fmadd_ps(x, wv[v], acc[i][v]);
            }
#pragma GCC unroll 4
            for (int q4 = 0; q4 < 4; q4++) g[q4] += sizeof(float);
        }
    }
    const int last = nc - 16 * (nv - 1); /* lanes of the last vector: 1..16 */
    const __mmask16 ml = last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1u);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        if (i >= mr || i >= npx) break;
        float *o = out + (size_t)(p0 + i) * (size_t)r->N;
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            if (v >= nv) break;
            /* max(lo, NaN) = NaN: the second operand when unordered */
            __m512 y = _mm512_min_ps(hi, _mm512_max_ps(lo, acc[i][v]));
            if (v == nv - 1)
                _mm512_mask_storeu_ps(o + 16 * v, ml, y);
            else
                _mm512_storeu_ps(o + 16 * v, y);
        }
    }
}

/* The whole row for one block of nv vectors: tiles of MR(nv) pixels. */
INLINE void row(const int nv, const int mr, const ev_f32_first_row *r, const float *blk, int nc,
                float *out) {
    const __m512 lo = _mm512_set1_ps(r->min), hi = _mm512_set1_ps(r->max);
    for (int p = 0; p < r->n_px; p += mr)
        tile(nv, mr, r, p, r->n_px - p, blk, nc, out, lo, hi);
}

void ev_f32_conv_first_avx512(const ev_f32_first_row *r, const float *Wp, float *out) {
    const int K = r->k_h * r->kwc;
    for (int n0 = 0; n0 < r->N; n0 += NB) {
        const float *blk = ev_f32_gemm_block(Wp, n0, K, NB);
        const int nc = r->N - n0 < NB ? r->N - n0 : NB;
        switch ((nc + 15) / 16) {
        case 1: row(1, 14, r, blk, nc, out + n0); break;
        case 2: row(2, 12, r, blk, nc, out + n0); break;
        case 3: row(3, 8, r, blk, nc, out + n0); break;
        default: row(4, 6, r, blk, nc, out + n0); break;
        }
    }
}
