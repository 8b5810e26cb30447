/*
 * gemm_f32_avx2.c - the AVX2 + FMA float GEMM (f32_gemm_6x16__avx2) of gemm_f32.h: a register
 * tile of 6 rows x 16 channels (12 ymm accumulators, two weight vectors and one broadcast: 15 of
 * the 16 ymm registers), one vfmadd231ps per row and half-tile per k.
 *
 * Per block of 16 channels (the packed block: 16 biases, then K rows of 16 weights), the rows of
 * A go by 6; a remainder joins the last whole tile and the two are split evenly (a 1-row tile
 * would run at a fraction of the FMA rate); every tile height is its own specialisation of
 * tile() (mr is a compile-time constant, so every accumulator stays in a register). The
 * accumulators start at the bias; the epilogue adds the residual (ep->residual, when given),
 * clamps to [ep->min, ep->max] (NaN passes through, as in the reference) and stores: whole
 * vectors, or masked stores (vmaskmovps) for the last N % 16 channels, so C rows are exactly N
 * wide and nothing past them is read or written. A block of 8 channels or fewer runs a
 * one-vector tile (half the FMAs).
 *
 * Measured warm (bench/conv_f32_perf, one thread, before the L2 prefetches below): 84-97% of
 * the vfmadd231ps ymm peak on ResNet50's 1x1 and 3x3 layers and PoseNet's 1x1 layers past the
 * first two. Weights are prefetched PF
 * rows ahead (ResNet50's stage-5 layers, 4-8 MiB of weights: +4-5 points). In a network the
 * weights come cold (memory or L3, not the last run's L2), so the next 16-channel block is also
 * prefetched into L2 while the current block runs, spread evenly over all of its tiles, and
 * across the call boundary through ep->next (the thread's next task's first block), as in
 * gemm_f32_avx512.c (measured, bench_float ResNet50, EV_ISA=avx2, 2 threads: conv3x3 and
 * conv1x1 71-72% -> 78-79% of the ymm FMA limit). Each tile also prefetches the output and
 * residual rows of the tile after it into L2 (ev_f32_prefetch_out). The price in a warm benchmark
 * (conv_f32_perf, stage-2/3 layers: 88-99% -> 83-92%) is the per-k L2 prefetch, mostly of a
 * line already requested. ep->ahead (the next layer's first weights, conv_f32.c) goes to L2 at
 * one prefetch per k, spread evenly over the call's k steps; ep->warm (the thread's last call
 * read these blocks) drops the prefetch of the call's own next blocks.
 *
 * Tried and not kept (ResNet50 in the network, EV_ISA=avx2, 2026-12-05, per-op profile): the
 * k loop in inline assembly (24 instructions a k against 27: warm 2-5% faster, in the network
 * 1-3% slower); the next block prefetched by fewer tiles at a line per 2-4 k (stage-5 3x3
 * 77% -> 71%: a burst past the memory bandwidth); a prefetch only at each 64-byte line (a branch
 * per k: slower); two or four k per iteration (gcc spilled accumulators); the next tile's rows
 * of A prefetched during the first block (stage-2 1x1 +3-5 points, 3x3 layers -2 to -3);
 * residual loads before any store in the epilogue (no change).
 *
 * Extend: another tile on AVX2 (4x24, 8x8) is another file and line; a K-blocked variant would
 * keep this tile and add an accumulate-into-C entry (the epilogue of the last K block only).
 */
#include "backends/cpu/gemm_f32.h"

#include <immintrin.h>

#define MR 6
#define NR 16
#define PF 16 /* weight rows prefetched ahead */

#define INLINE static inline __attribute__((always_inline))

/* Lanes j of a half-tile with j < n (n in [0, 8]). */
INLINE __m256i lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

INLINE __m256 epi(__m256 v, const float *r, __m256i m, int full, __m256 lo, __m256 hi) {
    if (r) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
    v = _mm256_max_ps(lo, v); /* max(lo, NaN) = NaN: the second operand when unordered */
    return _mm256_min_ps(hi, v);
}

/* mr (1..6) rows from A, the nc (1..16) channels of one packed block; two = 0 (nc <= 8): the
 * second half-tile is neither computed nor stored. */
INLINE void tile(const int mr, const int two, int nc, int K, const float *A, size_t lda,
                 const float *blk, const char *pf2, size_t pf_step, const char *ah,
                 size_t ah_step, const ev_f32_epi *ep, const float *R, size_t ldr, float *C,
                 size_t ldc) {
    const float *a[MR];
    __m256 c0[MR], c1[MR];
    const __m256 b0 = _mm256_loadu_ps(blk), b1 = _mm256_loadu_ps(blk + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        c0[i] = b0;
        c1[i] = b1;
    }
    const float *w = blk + NR;
    /* taps (ep->taps > 1, gemm_f32.h): K / taps values per tap, each run from its own offset */
    const int taps = ep->taps > 1 ? ep->taps : 1, tk = K / taps;
    for (int t = 0; t < taps; t++) {
        const float *At = A + (taps > 1 ? ep->tap_off[t] : 0);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) a[i] = At + (size_t)(i < mr ? i : 0) * lda;
        for (int k = 0; k < tk; k++, w += NR) {
            _mm_prefetch((const char *)(w + PF * NR), _MM_HINT_T0);
            _mm_prefetch(pf2, _MM_HINT_T1); /* this tile's share of the next block, into L2 */
            if (pf_step > 64) _mm_prefetch(pf2 + 64, _MM_HINT_T1);
            pf2 += pf_step;
            _mm_prefetch(ah, _MM_HINT_T1); /* the next layer's weights (ep->ahead) */
            ah += ah_step;
            const __m256 w0 = _mm256_loadu_ps(w), w1 = two ? _mm256_loadu_ps(w + 8) : w0;
#pragma GCC unroll 6
            for (int i = 0; i < MR; i++) {
                if (i >= mr) break;
                const __m256 x = _mm256_broadcast_ss(a[i] + k);
                c0[i] = _mm256_fmadd_ps(x, w0, c0[i]);
                if (two) c1[i] = _mm256_fmadd_ps(x, w1, c1[i]);
            }
        }
    }
    const __m256 lo = _mm256_set1_ps(ep->min), hi = _mm256_set1_ps(ep->max);
    const int full = nc == NR;
    const __m256i m0 = lane_mask(nc), m1 = lane_mask(nc - 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *c = C + (size_t)i * ldc;
        const float *r = R ? R + (size_t)i * ldr : NULL;
        __m256 v0 = epi(c0[i], r, m0, full, lo, hi);
        if (full) {
            _mm256_storeu_ps(c, v0);
            _mm256_storeu_ps(c + 8, epi(c1[i], r ? r + 8 : NULL, m1, full, lo, hi));
        } else {
            _mm256_maskstore_ps(c, m0, v0);
            if (two && nc > 8)
                _mm256_maskstore_ps(c + 8, m1, epi(c1[i], r ? r + 8 : NULL, m1, full, lo, hi));
        }
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
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6)
#undef ROWS
    default: break;
    }
}

void ev_f32_gemm_avx2(int M, int N, int K, const float *A, size_t lda, const float *Wp,
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
