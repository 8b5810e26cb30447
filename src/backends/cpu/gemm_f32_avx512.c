/*
 * gemm_f32_avx512.c - the AVX-512F float GEMM (f32_gemm_MRx32__avx512skx) of gemm_f32.h: a
 * register tile of MR rows x 32 channels (2 x MR zmm accumulators, two weight vectors and one
 * broadcast), one vfmadd231ps zmm per row and half-tile per k.
 *
 * Per block of 32 channels (the packed block: 32 biases, then K rows of 32 weights), the rows of
 * A go by MR, the last rows through the same tile specialised for their count (mr is a
 * compile-time constant in each call of tile(), so every accumulator stays in a register). The
 * accumulators start at the bias; the epilogue adds the residual (ep->residual, when given),
 * clamps to [ep->min, ep->max] (NaN passes through, as in the reference) and stores, with
 * AVX-512 write masks for the last N % 32 channels (C rows are exactly N wide; nothing past them
 * is read or written).
 *
 * Extend: the tile height is MR below (the table line's name carries it); another width is
 * another file and line.
 */
#include "backends/cpu/gemm_f32.h"

#include <immintrin.h>

#define MR 8
#define NR 32

#define INLINE static inline __attribute__((always_inline))

INLINE __m512 epi(__m512 v, const float *r, __mmask16 m, __m512 lo, __m512 hi) {
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r));
    v = _mm512_max_ps(lo, v); /* max(lo, NaN) = NaN: the second operand when unordered */
    return _mm512_min_ps(hi, v);
}

/* mr (1..MR) rows from A, the nc (1..32) channels of one packed block. */
INLINE void tile(const int mr, int nc, int K, const float *A, size_t lda, const float *blk,
                 const ev_f32_epi *ep, const float *R, size_t ldr, float *C, size_t ldc) {
    const float *a[MR];
    __m512 c0[MR], c1[MR];
    const __m512 b0 = _mm512_loadu_ps(blk), b1 = _mm512_loadu_ps(blk + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        a[i] = A + (size_t)(i < mr ? i : 0) * lda;
        c0[i] = b0;
        c1[i] = b1;
    }
    const float *w = blk + NR;
    for (int k = 0; k < K; k++, w += NR) {
        const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            if (i >= mr) break;
            const __m512 x = _mm512_set1_ps(a[i][k]);
            c0[i] = _mm512_fmadd_ps(x, w0, c0[i]);
            c1[i] = _mm512_fmadd_ps(x, w1, c1[i]);
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
        if (m1) _mm512_mask_storeu_ps(c + 16, m1, epi(c1[i], r ? r + 16 : NULL, m1, lo, hi));
    }
}

void ev_f32_gemm_avx512(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                        const ev_f32_epi *ep, float *C, size_t ldc) {
    EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc);
    const size_t ldr = ep->ldr;
    for (int n0 = 0; n0 < N; n0 += NR) {
        const float *blk = ev_f32_gemm_block(Wp, n0, K, NR);
        const int nc = N - n0 < NR ? N - n0 : NR;
        int m = 0;
        for (; m + MR <= M; m += MR) {
            const float *R = ep->residual ? ep->residual + (size_t)m * ldr + n0 : NULL;
            tile(MR, nc, K, A + (size_t)m * lda, lda, blk, ep, R, ldr, C + (size_t)m * ldc + n0,
                 ldc);
        }
        if (m == M) continue;
        const float *Am = A + (size_t)m * lda;
        const float *R = ep->residual ? ep->residual + (size_t)m * ldr + n0 : NULL;
        float *Cm = C + (size_t)m * ldc + n0;
        switch (M - m) {
#define REM(r)                                                                                   \
    case r: tile(r, nc, K, Am, lda, blk, ep, R, ldr, Cm, ldc); break;
        REM(1) REM(2) REM(3) REM(4) REM(5) REM(6) REM(7)
#if MR > 8
        REM(8) REM(9) REM(10) REM(11) REM(12) REM(13)
#endif
#undef REM
        default: break;
        }
    }
}
