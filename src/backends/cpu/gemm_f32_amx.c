/*
 * gemm_f32_amx.c - the float GEMM of gemm_f32.h on AMX-BF16 tiles, to float32 accuracy
 * (f32_gemm_32x32__amxbf16x3, the split line of config.c): every float is split exactly into
 * three bfloat16 terms, x = x_h + x_m + x_l (each the top 16 bits of what the terms before it
 * leave: 8 significant bits each, so the three hold all 24 bits of a normal float; |x_m| <
 * 2^-7 |x|, |x_l| < 2^-15 |x|), and a product a * w is summed as the six products of terms
 *
 *   a w ~= a_l w_h + a_m w_m + a_m w_h + a_h w_l + a_h w_m + a_h w_h   (smallest first)
 *
 * dropping a_m w_l, a_l w_m, a_l w_l: below 2^-21 |a w| together (8 float32 unit roundoffs).
 * tdpbf16ps multiplies bfloat16 pairs exactly and accumulates in float32, so the result differs
 * from the FMA lines' by float32 rounding noise, like another summation order: the op x backend
 * matrix holds it to the same 1e-5 of max |ref| as the FMA lines (tests/test_backend_ops.c,
 * row float32/split; its worst there is the FMA line's, ~1e-6), and test_f32_kernels to a bound
 * derived from the above. Inputs that are not finite keep only their leading term (a NaN stays
 * NaN), but an infinity also meets the other side's lower terms, often zero: an output the FMA
 * lines give as +-inf may be NaN here. The AMX unit treats bfloat16 subnormals as zero, so a
 * term below 2^-126 is lost (only inputs within 2^16 of the float32 subnormal range lose
 * relative accuracy).
 *
 * Why: six tdpbf16ps (16 x 16 x 32 products, ~16 cycles each) still make ~85 float products per
 * cycle per core, against 32 for two 512-bit FMA ports. Measured (one core, hot caches, A split
 * beforehand): 300-400 GFLOP/s on ResNet50's 3x3 shapes against ~200 for the 14x32 FMA line;
 * the tile loads from L2 (18 KiB per 24 tile products) hold it near 60% of that ceiling.
 *
 * Weights, packed at prepare (ev_f32_gemm_amx_pack): blocks of 32 channels: 32 float biases, then
 * per chunk of 32 k (K padded with zeros to a multiple of 32), for each term t (h, m, l) and each
 * half of the block (16 channels), one B tile: 16 rows (k pairs) x 16 channels x (w[i][n],
 * w[16 + i][n]) (pair i of a chunk is k = i and 16 + i: the order in which split32 packs a row of
 * A with one shift and one OR): 3 x 2 x 1 KiB per chunk, 1.5x the float bytes.
 *
 * A, split: per row, per 32 k, the three terms' 32 bfloat16 (192 bytes; ev_f32_gemm_amx_split
 * writes rows of floats this way). An A tile is 16 rows of one term of one chunk, read with the
 * row stride. The caller may hand A split already (ep->a3: conv_f32.c splits each layer's input
 * once, zero-padded, and a kernel's taps are byte offsets into it, as in the implicit float
 * path); otherwise the call splits its rows into ep->panel first. A partial last row tile reads
 * up to 15 rows past M (their sums are never stored): that memory must exist (the panel has them
 * as zeros; conv_f32.c leaves slack).
 *
 * Loop: per 32-channel block, per pair of row tiles: 2 x 2 accumulator tiles (tmm0-3) over all
 * chunks, A terms in tmm4-5, B terms in tmm6-7; the pair's sums are stored to one of two buffers
 * and its epilogue (bias, residual, clamp, the valid rows and channels) runs after the next
 * pair's products are issued. Tried and not kept: groups of chunks whose B tiles stay in L1
 * while several pairs pass (partial sums through memory between groups): 20-40% slower, the
 * tile store and reload stall the accumulation.
 *
 * Extend: another split (two terms for a lossy mode) is another term list in chunk_*; another
 * block width changes NR and the packing together.
 */
#include "backends/cpu/gemm_f32.h"
#include "backends/cpu/amx_tiles.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NR 32                 /* channels per block: two 16-channel tiles        */
#define KC 32                 /* k per chunk: one tile row of 32 bfloat16        */
#define TR 16                 /* rows per tile                                   */
#define TERMS 3
#define TILE_U16 512          /* one tile: 16 rows x 64 bytes                    */
#define CHUNK_U16 (TERMS * 2 * TILE_U16) /* a block's B tiles per chunk          */

static int chunks(int K) { return (K + KC - 1) / KC; }

size_t ev_f32_gemm_amx_block_floats(int K, int nr) {
    (void)nr;
    return NR + (size_t)chunks(K) * CHUNK_U16 / 2;
}

size_t ev_f32_gemm_amx_packed_size(int N, int K, int nr) {
    return (size_t)((N + NR - 1) / NR) * ev_f32_gemm_amx_block_floats(K, nr) * sizeof(float);
}

size_t ev_f32_gemm_amx_row_bytes(int K) { return (size_t)chunks(K) * TERMS * KC * 2; }

/* A bfloat16 term as a float. */
static float f32_of(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* x into three terms (scalar: the weights, at prepare). */
static void split1(float x, uint16_t t[TERMS]) {
    if (!isfinite(x)) {
        uint32_t u;
        memcpy(&u, &x, 4);
        t[0] = (uint16_t)((u >> 16) | (isnan(x) ? 0x40u : 0u)); /* NaN stays NaN */
        t[1] = t[2] = 0;
        return;
    }
    for (int i = 0; i < TERMS; i++) {
        uint32_t u;
        memcpy(&u, &x, 4);
        t[i] = (uint16_t)(u >> 16);
        x -= f32_of(t[i]);
    }
}

void ev_f32_gemm_amx_pack(const float *w, const float *bias, int N, int K, int nr, float *out) {
    const int nc = chunks(K);
    const size_t bf = ev_f32_gemm_amx_block_floats(K, nr);
    for (int n0 = 0; n0 < N; n0 += NR) {
        float *blk = out + (size_t)(n0 / NR) * bf;
        for (int j = 0; j < NR; j++) blk[j] = bias && n0 + j < N ? bias[n0 + j] : 0.0f;
        uint16_t *b = (uint16_t *)(blk + NR);
        for (int c = 0; c < nc; c++)
            for (int h = 0; h < 2; h++)
                for (int r = 0; r < KC / 2; r++)
                    for (int j = 0; j < 16; j++)
                        for (int e = 0; e < 2; e++) {
                            const int k = c * KC + r + 16 * e, n = n0 + h * 16 + j;
                            uint16_t t[TERMS] = {0, 0, 0};
                            if (k < K && n < N) split1(w[(size_t)n * K + k], t);
                            for (int q = 0; q < TERMS; q++)
                                b[(size_t)c * CHUNK_U16 + (size_t)(q * 2 + h) * TILE_U16 + r * 32 +
                                  j * 2 + e] = t[q];
                        }
    }
}

/* 32 floats (lo, hi) into three terms: 64 bytes each, at t0, t0 + 32, t0 + 64. Each term is
 * its float truncated to bfloat16 (the top 16 bits), taken from what the terms before it leave,
 * which is exact: the three hold all 24 bits of a normal float. Not finite: the first term only
 * (NaN kept NaN by its quiet bit). */
static inline void split32(__m512 lo, __m512 hi, uint16_t *t0) {
    const __m512i top = _mm512_set1_epi32((int)0xffff0000u);
    const __m512 inf = _mm512_set1_ps(INFINITY);
    const __mmask16 f0 = _mm512_cmp_ps_mask(_mm512_abs_ps(lo), inf, _CMP_LT_OQ);
    const __mmask16 f1 = _mm512_cmp_ps_mask(_mm512_abs_ps(hi), inf, _CMP_LT_OQ);
    const __mmask16 n0 = _mm512_cmp_ps_mask(lo, lo, _CMP_UNORD_Q);
    const __mmask16 n1 = _mm512_cmp_ps_mask(hi, hi, _CMP_UNORD_Q);
    const __m512i quiet = _mm512_set1_epi32(0x00400000);
    for (int q = 0; q < TERMS; q++) {
        __m512i h0 = _mm512_and_si512(_mm512_castps_si512(lo), top);
        __m512i h1 = _mm512_and_si512(_mm512_castps_si512(hi), top);
        if (q == 0) {
            h0 = _mm512_mask_or_epi32(h0, n0, h0, quiet);
            h1 = _mm512_mask_or_epi32(h1, n1, h1, quiet);
        }
        /* pair i of the row: (k = i, k = 16 + i), the pairing the packed weights use */
        _mm512_storeu_si512(t0 + (size_t)q * KC,
                            _mm512_or_si512(_mm512_srli_epi32(h0, 16), h1));
        lo = _mm512_maskz_sub_ps(f0, lo, _mm512_castsi512_ps(h0));
        hi = _mm512_maskz_sub_ps(f1, hi, _mm512_castsi512_ps(h1));
    }
}

/* M rows of A (floats, lda apart) into split rows `ld` bytes apart: per chunk, two masked loads
 * (zero past K) split into the three terms. */
static void split_rows(int M, int K, const float *A, size_t lda, uint16_t *dst, size_t ld) {
    const int nc = chunks(K);
    for (int m = 0; m < M; m++) {
        const float *row = A + (size_t)m * lda;
        uint16_t *d = (uint16_t *)((char *)dst + (size_t)m * ld);
        for (int c = 0; c < nc; c++, d += TERMS * KC) {
            const int k = c * KC, n = K - k < KC ? K - k : KC;
            const __mmask16 m0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
            const __mmask16 m1 = n >= 32 ? (__mmask16)0xFFFF
                                 : n > 16 ? (__mmask16)((1u << (n - 16)) - 1u) : (__mmask16)0;
            split32(_mm512_maskz_loadu_ps(m0, row + k), _mm512_maskz_loadu_ps(m1, row + k + 16),
                    d);
        }
    }
}

void ev_f32_gemm_amx_split(int M, int K, const float *A, size_t lda, void *dst, size_t ld) {
    split_rows(M, K, A, lda, dst, ld);
}


/* One chunk for a pair of row tiles (a0, a1: the chunk's terms in the first row of each, rows
 * `ld` bytes apart) and both halves of a block (b: the chunk's six B tiles), into tmm0-3; RB = 1:
 * one row tile, tmm0-1. The six products, smallest first, A's term loaded once for each B term
 * it meets. */
#define TDP(RB, tb)                                                                              \
    do {                                                                                         \
        _tile_loadd(6, b + (size_t)((tb) * 2) * TILE_U16, 64);                                   \
        _tile_loadd(7, b + (size_t)((tb) * 2 + 1) * TILE_U16, 64);                               \
        _tile_dpbf16ps(0, 4, 6);                                                                 \
        _tile_dpbf16ps(1, 4, 7);                                                                 \
        if (RB > 1) {                                                                            \
            _tile_dpbf16ps(2, 5, 6);                                                             \
            _tile_dpbf16ps(3, 5, 7);                                                             \
        }                                                                                        \
    } while (0)
#define ALOAD(RB, ta)                                                                            \
    do {                                                                                         \
        _tile_loadd(4, a0 + (size_t)(ta) * KC, (long)ld);                                        \
        if (RB > 1) _tile_loadd(5, a1 + (size_t)(ta) * KC, (long)ld);                            \
    } while (0)
#define CHUNK_FN(RB)                                                                             \
    static inline void chunk_##RB(const uint16_t *a0, const uint16_t *a1, size_t ld,             \
                                  const uint16_t *b) {                                           \
        (void)a1;                                                                                \
        ALOAD(RB, 2);                                                                            \
        TDP(RB, 0);                                                                              \
        ALOAD(RB, 1);                                                                            \
        TDP(RB, 1);                                                                              \
        TDP(RB, 0);                                                                              \
        ALOAD(RB, 0);                                                                            \
        TDP(RB, 2);                                                                              \
        TDP(RB, 1);                                                                              \
        TDP(RB, 0);                                                                              \
    }
CHUNK_FN(1)
CHUNK_FN(2)

/* Where A's chunks are: row 0 at base, rows ld bytes apart, chunk c at tap[c / groups] + (c %
 * groups) x 192 bytes (tap NULL: c x 192). */
typedef struct a_src {
    const char *base;
    size_t ld;
    int groups;
    const ptrdiff_t *tap;
} a_src;

static inline const uint16_t *a_at(const a_src *a, int m, int c) {
    const ptrdiff_t off = a->tap ? a->tap[c / a->groups] + (ptrdiff_t)(c % a->groups) * 192
                                 : (ptrdiff_t)c * 192;
    return (const uint16_t *)(a->base + (size_t)m * a->ld + off);
}

/* All chunks of row tiles starting at row m (RB of them) against one block, into tmm0-3 (not
 * stored: the caller finishes the previous pair while these run). */
#define COMPUTE_FN(RB)                                                                           \
    static void compute_##RB(const a_src *a, int m, const uint16_t *bw, int nc) {               \
        _tile_zero(0);                                                                           \
        _tile_zero(1);                                                                           \
        if (RB > 1) {                                                                            \
            _tile_zero(2);                                                                       \
            _tile_zero(3);                                                                       \
        }                                                                                        \
        for (int c = 0; c < nc; c++)                                                             \
            chunk_##RB(a_at(a, m, c), a_at(a, m + TR, c), a->ld, bw + (size_t)c * CHUNK_U16);    \
    }
COMPUTE_FN(1)
COMPUTE_FN(2)

/* tmm0-3 (rb row tiles) to acc: 16 rows of 32 floats per tile. */
static void store_acc(int rb, float *acc) {
    _tile_stored(0, acc, NR * 4);
    _tile_stored(1, acc + 16, NR * 4);
    if (rb > 1) {
        _tile_stored(2, acc + TR * NR, NR * 4);
        _tile_stored(3, acc + TR * NR + 16, NR * 4);
    }
}

/* A finished pair of row tiles, waiting in acc for its epilogue. */
typedef struct pending {
    const float *acc;
    int m0, rows, n0;
    const float *blk; /* its block: the biases */
} pending;

/* Bias, residual, clamp; the rows of C it names (a3_vw: virtual rows, padding columns
 * skipped), channels < N. */
static void finish(const pending *p, int N, const ev_f32_epi *ep, float *C, size_t ldc) {
    const int ncol = N - p->n0 < NR ? N - p->n0 : NR;
    const __mmask16 m0 = ncol >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ncol) - 1u);
    const __mmask16 m1 = ncol >= 32 ? (__mmask16)0xFFFF
                         : ncol > 16 ? (__mmask16)((1u << (ncol - 16)) - 1u) : (__mmask16)0;
    const __m512 b0 = _mm512_loadu_ps(p->blk), b1 = _mm512_loadu_ps(p->blk + 16);
    const __m512 lo = _mm512_set1_ps(ep->min), hi = _mm512_set1_ps(ep->max);
    for (int i = 0; i < p->rows; i++) {
        int m = p->m0 + i;
        if (ep->a3_vw > 0) { /* a virtual row: an output, or a padding column */
            const int x = m % ep->a3_vw;
            if (x >= ep->a3_ow) continue;
            m = m / ep->a3_vw * ep->a3_ow + x;
        }
        const float *q = p->acc + (size_t)i * NR;
        float *c = C + (size_t)m * ldc + p->n0;
        __m512 v0 = _mm512_add_ps(_mm512_load_ps(q), b0);
        __m512 v1 = _mm512_add_ps(_mm512_load_ps(q + 16), b1);
        if (ep->residual) {
            const float *r = ep->residual + (size_t)m * ep->ldr + p->n0;
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, r));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, r + 16));
        }
        v0 = _mm512_min_ps(hi, _mm512_max_ps(lo, v0)); /* max(lo, NaN) = NaN, as in the FMA lines */
        v1 = _mm512_min_ps(hi, _mm512_max_ps(lo, v1));
        _mm512_mask_storeu_ps(c, m0, v0);
        if (m1) _mm512_mask_storeu_ps(c + 16, m1, v1);
    }
}

void ev_f32_gemm_amx(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                     const ev_f32_epi *ep, float *C, size_t ldc) {
    EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc);
    EV_CPU_ASSERT(ep->taps <= 1); /* not a TAPS line: a convolution's taps come through a3_tap */
    const int nc = chunks(K);
    a_src a;
    if (ep->a3) {
        a = (a_src){ep->a3, ep->a3_ld, ep->a3_groups, ep->a3_tap};
    } else {
        EV_CPU_ASSERT(ep->panel != NULL);
        const size_t ld = ev_f32_gemm_amx_row_bytes(K);
        split_rows(M, K, A, lda, ep->panel, ld);
        if (M % TR) /* the last tile's rows past M: zero */
            memset((char *)ep->panel + (size_t)M * ld, 0, (size_t)(TR - M % TR) * ld);
        a = (a_src){ep->panel, ld, nc, NULL};
    }
    /* two accumulator buffers: a pair's epilogue runs after the next pair's tile products are
     * issued (the AMX unit works through them meanwhile), before that pair's tiles are stored */
    float acc[2][2 * TR * NR] __attribute__((aligned(64)));
    const size_t bf = ev_f32_gemm_amx_block_floats(K, NR);
    pending prev = {NULL, 0, 0, 0, NULL};
    int slot = 0;
    ev_amx_tiles_16x64();
    for (int n0 = 0; n0 < N; n0 += NR) {
        const float *blk = Wp + (size_t)(n0 / NR) * bf;
        const uint16_t *bw = (const uint16_t *)(blk + NR);
        for (int m0 = 0; m0 < M; m0 += 2 * TR) {
            const int rows = M - m0 < 2 * TR ? M - m0 : 2 * TR, rb = rows > TR ? 2 : 1;
            if (rb > 1)
                compute_2(&a, m0, bw, nc);
            else
                compute_1(&a, m0, bw, nc);
            if (prev.acc) finish(&prev, N, ep, C, ldc);
            store_acc(rb, acc[slot]);
            prev = (pending){acc[slot], m0, rows, n0, blk};
            slot ^= 1;
        }
    }
    if (prev.acc) finish(&prev, N, ep, C, ldc);
    _tile_release();
}
