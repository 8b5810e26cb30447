/*
 * gemm_f32_avx512.c - the AVX-512F float GEMM (f32_gemm_14x32__avx512skx) of gemm_f32.h: a
 * register tile of 14 rows x 32 channels (28 zmm accumulators, two weight vectors and one
 * broadcast: 31 of the 32 zmm registers), one vfmadd231ps zmm per row and half-tile per k.
 *
 * Tile height, measured (bench/conv_f32_perf, ResNet50 layers, one thread, 2024 Xeon with two
 * 512-bit FMA ports): 14 rows ran 80-95% of the vfmadd231ps zmm peak on the 1x1 and 3x3 layers,
 * 12 rows 70-87%, 8 rows 67-84% (a 14x32 tile needs 14 broadcasts + 2 loads per 28 FMAs; 8x32
 * needs 10 loads per 16, and its 16 accumulators leave the 4-cycle FMA latency half covered
 * by 2 ports only just). The row pointers would not fit the 16 general registers (gcc spilled
 * them at 12+ rows): rows are addressed in groups of four from one base, base + {0, 1, 2, 3} x
 * lda, which x86 addressing does with two stride registers.
 *
 * Per block of 32 channels (the packed block: 32 biases, then K rows of 32 weights), the rows of
 * A go by MR; a remainder joins the last whole tile and the two are split evenly (a 1-row tile
 * would run at a fraction of the FMA rate); every tile height is its own specialisation of
 * tile() (mr is a compile-time constant, so every accumulator stays in a register). The
 * accumulators start at the bias; the epilogue adds the residual (ep->residual, when given),
 * clamps to [ep->min, ep->max] (NaN passes through, as in the reference) and stores, with
 * AVX-512 write masks for the last N % 32 channels (C rows are exactly N wide; nothing past them
 * is read or written). A block of 16 channels or fewer (N = 16, PoseNet's first layer; the last
 * block of N = 34) runs a one-vector tile: half the FMAs.
 *
 * Weights are prefetched PF rows ahead: the stage-4/5 layers (weights of 2.4-8 MiB, past L2)
 * gained 5-14 points of the peak, the others nothing measurable. In a network those weights
 * come cold (from L3 or memory, not the last run's L2), so the next 32-channel block is also
 * prefetched into L2 during the current block's first two tiles (ResNet50 at one thread,
 * stages 4-5: about 2-4% on a loaded machine, near the noise; the current block prefetched
 * 64 or 160 rows ahead into L2 instead gained nothing).
 *
 * ep->ahead (the next layer's first weights, conv_f32.c) goes to L2 at one prefetch per k,
 * spread evenly over the call's k steps. ep->warm (the thread's last call read these blocks)
 * drops the prefetch of the call's own next blocks (Keras ResNet50, 2 threads, implicit 3x3 rows
 * after a chunk's first: per-op sum 23.3 -> 22.8 ms, three alternating rounds).
 *
 * Tried and not kept: K in chunks of 128-512 (partial sums through C) for ResNet50's K = 2304
 * and 4608 layers: no gain beyond the noise (the 14-row A panel and a 32-channel weight block
 * stay in the 2 MiB L2 without it).
 *
 * Implicit GEMM (ep->taps > 1, gemm_f32.h): the k loop runs tap by tap, the four row bases
 * reset to each tap's offset; the accumulators stay in registers across taps.
 *
 * Extend: the tile height is MR below (the table line's name carries it; tail() lists the
 * heights below it); another width is another file and line.
 */
#include "backends/cpu/gemm_f32.h"

#include <immintrin.h>

#define MR 14
#define NR 32
#define PF 16 /* weight rows prefetched ahead (measured: 8-32 alike, none 5-14 points worse) */

#define INLINE static inline __attribute__((always_inline))

INLINE __m512 epi(__m512 v, const float *r, __mmask16 m, __m512 lo, __m512 hi) {
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r));
    v = _mm512_max_ps(lo, v); /* max(lo, NaN) = NaN: the second operand when unordered */
    return _mm512_min_ps(hi, v);
}

/* mr (1..MR) rows from A, the nc (1..32) channels of one packed block; two = 0 (nc <= 16):
 * the second half-tile is neither computed nor stored. */
INLINE void tile(const int mr, const int two, int nc, int K, const float *A, size_t lda,
                 const float *blk, const char *pf2, size_t pf_step, const char *ah,
                 size_t ah_step, const ev_f32_epi *ep, const float *R, size_t ldr, float *C,
                 size_t ldc) {
    __m512 c0[MR], c1[MR];
    const __m512 b0 = _mm512_loadu_ps(blk), b1 = _mm512_loadu_ps(blk + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        c0[i] = b0;
        c1[i] = b1;
    }
    /* Rows by groups of four from one base each: row 4g + j is at g's base + j * lda, which
     * x86 addresses as base + index * {1, 2} (and a 3 * lda index): 4 bases, 2 strides and the
     * weight pointer, rather than one pointer per row (which spills at 12+ rows). */
    const size_t l1 = lda * sizeof(float), l3 = 3 * l1;
    const char *g[4];
    const float *w = blk + NR;
    /* taps (ep->taps > 1): K / taps values per tap, each run read from its own offset */
    const int taps = ep->taps > 1 ? ep->taps : 1, tk = K / taps;
    for (int t = 0; t < taps; t++) {
        const float *At = A + (taps > 1 ? ep->tap_off[t] : 0);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            g[q] = (const char *)(At + (size_t)(4 * q < mr ? 4 * q : 0) * lda);
        for (int k = 0; k < tk; k++, w += NR) {
            _mm_prefetch((const char *)(w + PF * NR), _MM_HINT_T0);
            _mm_prefetch(pf2, _MM_HINT_T1); /* this tile's share of the next block, into L2 */
            if (pf_step > 64) _mm_prefetch(pf2 + 64, _MM_HINT_T1);
            pf2 += pf_step;
            _mm_prefetch(ah, _MM_HINT_T1); /* the next layer's weights (ep->ahead) */
            ah += ah_step;
            if (two) _mm_prefetch((const char *)(w + PF * NR + 16), _MM_HINT_T0);
            const __m512 w0 = _mm512_loadu_ps(w), w1 = two ? _mm512_loadu_ps(w + 16) : w0;
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                if (i >= mr) break;
                const char *base = g[i / 4];
                const int j = i % 4;
                const float *p = (const float *)(j == 0 ? base : j == 1 ? base + l1
                                                 : j == 2 ? base + 2 * l1 : base + l3);
                const __m512 x = _mm512_set1_ps(*p);
                c0[i] = _mm512_fmadd_ps(x, w0, c0[i]);
                if (two) c1[i] = _mm512_fmadd_ps(x, w1, c1[i]);
            }
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++) g[q] += sizeof(float);
        }
    }
    const __m512 lo = _mm512_set1_ps(ep->min), hi = _mm512_set1_ps(ep->max);
    const __mmask16 m0 = nc >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1u);
    const __mmask16 m1 = nc >= 32 ? (__mmask16)0xFFFF
                         : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1u)
                                   : (__mmask16)0;
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *c = C + (size_t)i * ldc;
        const float *r = R ? R + (size_t)i * ldr : NULL;
        _mm512_mask_storeu_ps(c, m0, epi(c0[i], r, m0, lo, hi));
        if (two && m1)
            _mm512_mask_storeu_ps(c + 16, m1, epi(c1[i], r ? r + 16 : NULL, m1, lo, hi));
    }
}

/* A tile of mr (1..MR) rows, both half-tiles or the first: each its own specialisation. */
static void tail(int mr, int two, int nc, int K, const float *A, size_t lda, const float *blk,
                 const char *pf2, size_t pf_step, const char *ah, size_t ah_step,
                 const ev_f32_epi *ep, const float *R, size_t ldr, float *C, size_t ldc) {
    switch (mr * 2 + two) {
#define ROWS(r)                                                                                  \
    case 2 * r: tile(r, 0, nc, K, A, lda, blk, pf2, pf_step, ah, ah_step, ep, R, ldr, C, ldc);  \
        break;                                                                                   \
    case 2 * r + 1: tile(r, 1, nc, K, A, lda, blk, pf2, pf_step, ah, ah_step, ep, R, ldr, C, ldc); \
        break;
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7)
#if MR > 8
        ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12) ROWS(13)
#endif
        ROWS(MR)
#undef ROWS
    default: break;
    }
}

void ev_f32_gemm_avx512(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                        const ev_f32_epi *ep, float *C, size_t ldc) {
    EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc);
    const size_t ldr = ep->ldr;
    /* whole tiles, then the remainder's one or two (ev_f32_row_tiles) */
    int whole;
    const int ntiles = ev_f32_row_tiles(M, MR, &whole);
    /* The next block (the call's last block: ep->next, the thread's next task) goes to L2 while
     * this block runs, spread evenly over the block's tiles: each tile prefetches its share,
     * `step` bytes further per k (two lines per k when a block has one tile). */
    const size_t bytes = (size_t)(K + 1) * NR * sizeof(float);
    const size_t span = (bytes + (size_t)ntiles - 1) / (size_t)ntiles;
    const size_t step_next = (span + (size_t)K - 1) / (size_t)K;
    const char *ah; /* ep->ahead, spread over every k of the call */
    const size_t ah_step =
        ev_f32_ahead_step(ep, (size_t)ntiles * (size_t)((N + NR - 1) / NR) * (size_t)K, Wp, &ah);
    for (int n0 = 0; n0 < N; n0 += NR) {
        const float *blk = ev_f32_gemm_block(Wp, n0, K, NR);
        const int nc = N - n0 < NR ? N - n0 : NR, two = nc > NR / 2;
        size_t step;
        const char *nxt = ev_f32_next_blocks(ep, Wp, blk, n0, N, K, NR, step_next, &step);
        int m = 0, t = 0;
        for (; m < whole * MR; m += MR, t++) {
            const float *R = ep->residual ? ep->residual + (size_t)m * ldr + n0 : NULL;
            float *Cm = C + (size_t)m * ldc + n0;
            const char *pf2 = nxt + (size_t)t * span;
            ev_f32_prefetch_out(M, N, ep, C, ldc, m, n0, MR, NR);
            if (two)
                tile(MR, 1, nc, K, A + (size_t)m * lda, lda, blk, pf2, step, ah, ah_step, ep, R,
                     ldr, Cm, ldc);
            else
                tile(MR, 0, nc, K, A + (size_t)m * lda, lda, blk, pf2, step, ah, ah_step, ep, R,
                     ldr, Cm, ldc);
            ah += (size_t)K * ah_step;
        }
        for (; m < M; t++) {
            const int left = M - m, mr = left > MR ? (left + 1) / 2 : left;
            ev_f32_prefetch_out(M, N, ep, C, ldc, m, n0, MR, NR);
            tail(mr, two, nc, K, A + (size_t)m * lda, lda, blk, nxt + (size_t)t * span, step, ah,
                 ah_step, ep,
                 ep->residual ? ep->residual + (size_t)m * ldr + n0 : NULL, ldr,
                 C + (size_t)m * ldc + n0, ldc);
            ah += (size_t)K * ah_step;
            m += mr;
        }
    }
}
