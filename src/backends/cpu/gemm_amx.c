/*
 * gemm_amx.c - quantized GEMM on AMX-INT8 tiles (tdpbusd: a 16 x 64 u8 tile times a 64 x 16 s8
 * tile into 16 x 16 int32, 16384 multiply-adds per instruction), compiled with -mamx-tile
 * -mamx-int8 (file suffix) and used only on the amx level of isa.c (CPUID + XCR0 + Linux's
 * permission for tile data).
 *
 * Tiles (one configuration, loaded at entry and released at exit of every call): tmm0-3 hold a
 * 2 x 2 block of int32 accumulators (32 pixels x 32 channels), tmm4-5 two 16-row slices of A
 * (16 pixels x 64 k bytes), tmm6-7 two slices of B (16 groups of 4 k x 16 channels x 4 bytes).
 *
 * Weights: ev_gemm_pack's layout (blocks of 16 channels; per group of 4 k, 16 x 4 bytes), with
 * K padded to a multiple of 64 with zero weights (ev_gemm_amx_pack): 16 consecutive groups of a
 * block are exactly one B tile (16 rows of 64 bytes, stride 64), and a chunk of 64 k that runs
 * past Kp meets zero weights.
 *
 * A: rows are read in place (stride lda) for every whole chunk of 64 k. The last, partial chunk
 * (Kp % 64 != 0) is copied into a 16 x 64 scratch slice first, as is every row of a block of
 * fewer than 16 pixels (a zero-padded 16-row panel): a tile load reads 16 whole rows of 64
 * bytes, and past the caller's rows or past Kp in the last row there may be no memory.
 * Bytes past Kp inside the copies are zero; bytes between K and Kp meet zero weights.
 *
 * Epilogue: the accumulator tiles are stored to scratch and requantized 16 channels x 1 pixel at
 * a time by requant_avx512.h's requant16 (bias, zero-point row-sum correction from the caller's
 * rowsum, TFLite's rounding): bit-exact with the reference like every other variant. The config
 * line does not claim EV_GEMM_OWN_ROWSUMS, so conv.c passes row sums whenever ep->delta is set.
 *
 * Extend: another tile shape changes the configuration (amx_tiles.h) and the block loop in
 * ev_gemm_amx; a K-blocked variant for very long K would keep C in tiles across calls.
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_avx512.h"
#include "backends/cpu/amx_tiles.h"

#include <immintrin.h>
#include <string.h>

#define KC 64          /* k bytes per tile chunk */
#define TR 16          /* rows per tile */
#define TILE_BYTES 1024

static int kp64(int Kp) { return (Kp + KC - 1) & ~(KC - 1); }

size_t ev_gemm_amx_packed_size(int N, int Kp) { return ev_gemm_packed_size(N, kp64(Kp)); }

void ev_gemm_amx_pack(const int8_t *w, int N, int K, int Kp, void *out) {
    ev_gemm_pack(w, N, K, kp64(Kp), out);
}

/* Scratch: a 16-row panel for a short row block, one 16 x 64 slice per row block for the last
 * partial chunk (up to 3 blocks per call of conv.c's 48 rows; more are handled 3 at a time), and
 * four accumulator tiles. */
#define MAX_RB 4
size_t ev_gemm_amx_scratch(int M, int Kp) {
    (void)M;
    return (size_t)TR * (size_t)kp64(Kp) + (size_t)MAX_RB * TILE_BYTES + 4 * TILE_BYTES + 64;
}


/* Where one row block's A comes from: whole chunks at a (stride lda) below kfull, the partial
 * chunk at tail (stride tail_ld). */
typedef struct a_src {
    const uint8_t *a;
    size_t lda;
    const uint8_t *tail;
    size_t tail_ld;
} a_src;

static inline const uint8_t *a_chunk(const a_src *s, int k, int kfull, size_t *ld) {
    if (k < kfull) {
        *ld = s->lda;
        return s->a + k;
    }
    *ld = s->tail_ld;
    return s->tail;
}

/* One 16-pixel x 16-channel accumulator tile, stored at acc (16 x 16 int32): requantize and
 * store rows [0, rows) of channels [n, min(n + 16, N)). */
static void finish_tile(const int32_t *acc, int rows, const int32_t *rowsum,
                        const ev_gemm_epi *epp, int n, int N, uint8_t *C, size_t ldc) {
    const ev_gemm_epi epl = *epp, *ep = &epl; /* not reloaded after each (aliasing) store */
    const __m512i bias = _mm512_loadu_si512(ep->bias + n);
    const __m512i delta = ep->delta ? _mm512_loadu_si512(ep->delta + n) : _mm512_setzero_si512();
    int left = N - n;
    __mmask16 st = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    for (int i = 0; i < rows; i++) {
        __m512i v = _mm512_add_epi32(_mm512_load_si512(acc + 16 * i), bias);
        if (ep->delta)
            v = _mm512_add_epi32(v, _mm512_mullo_epi32(delta, _mm512_set1_epi32(rowsum[i])));
        v = requant16(v, ep, n);
        _mm512_mask_cvtepi32_storeu_epi8(C + (size_t)i * ldc + n, st, v);
    }
}

/* Accumulates a (RB x CB) block of tiles over all chunks: RB row blocks (1 or 2) from a0/a1, CB
 * column blocks (1 or 2) from b0/b1, into tmm0 (r0 c0), tmm1 (r0 c1), tmm2 (r1 c0), tmm3 (r1
 * c1), then stores them to acc (tile t at acc + 256 t). Tile numbers must be constants, hence the
 * four spelled-out variants. */
#define BLOCK_FN(RB, CB)                                                                         \
    static void block_##RB##x##CB(const a_src *a0, const a_src *a1, const int8_t *b0,            \
                                  const int8_t *b1, int Kp64, int kfull, int32_t *acc) {         \
        (void)a1; (void)b1;                                                                      \
        _tile_zero(0);                                                                           \
        if (CB > 1) _tile_zero(1);                                                               \
        if (RB > 1) _tile_zero(2);                                                               \
        if (RB > 1 && CB > 1) _tile_zero(3);                                                     \
        for (int k = 0; k < Kp64; k += KC) {                                                     \
            size_t ld0, ld1 = 0;                                                                 \
            const uint8_t *p0 = a_chunk(a0, k, kfull, &ld0);                                     \
            _tile_loadd(4, p0, (long)ld0);                                                       \
            _tile_loadd(6, b0 + (size_t)k * 16, 64);                                             \
            if (CB > 1) _tile_loadd(7, b1 + (size_t)k * 16, 64);                                 \
            _tile_dpbusd(0, 4, 6);                                                               \
            if (CB > 1) _tile_dpbusd(1, 4, 7);                                                   \
            if (RB > 1) {                                                                        \
                const uint8_t *p1 = a_chunk(a1, k, kfull, &ld1);                                 \
                _tile_loadd(5, p1, (long)ld1);                                                   \
                _tile_dpbusd(2, 5, 6);                                                           \
                if (CB > 1) _tile_dpbusd(3, 5, 7);                                               \
            }                                                                                    \
        }                                                                                        \
        _tile_stored(0, acc, 64);                                                                \
        if (CB > 1) _tile_stored(1, acc + 256, 64);                                              \
        if (RB > 1) _tile_stored(2, acc + 512, 64);                                              \
        if (RB > 1 && CB > 1) _tile_stored(3, acc + 768, 64);                                    \
    }

BLOCK_FN(1, 1)
BLOCK_FN(1, 2)
BLOCK_FN(2, 1)
BLOCK_FN(2, 2)

/* Rows [m, m + rb*16) (at most 2 blocks, the last possibly short) against every channel. */
static void row_blocks(int M, int N, int Kp, int Kp64, const a_src *src, int nrb, int m,
                       const int8_t *Bp, const int32_t *rowsum, const ev_gemm_epi *ep,
                       uint8_t *C, size_t ldc, int32_t *acc) {
    const int kfull = Kp & ~(KC - 1);
    const size_t bs = (size_t)16 * (size_t)Kp64;
    const int nb = (N + 15) / 16;
    for (int j = 0; j < nb; j += 2) {
        int cb = nb - j >= 2 ? 2 : 1;
        const int8_t *b0 = Bp + (size_t)j * bs, *b1 = b0 + bs;
        if (nrb == 2 && cb == 2) block_2x2(&src[0], &src[1], b0, b1, Kp64, kfull, acc);
        else if (nrb == 2) block_2x1(&src[0], &src[1], b0, b1, Kp64, kfull, acc);
        else if (cb == 2) block_1x2(&src[0], &src[1], b0, b1, Kp64, kfull, acc);
        else block_1x1(&src[0], &src[1], b0, b1, Kp64, kfull, acc);
        for (int r = 0; r < nrb; r++) {
            int m0 = m + r * TR, rows = M - m0 < TR ? M - m0 : TR;
            const int32_t *rs = rowsum ? rowsum + m0 : NULL;
            uint8_t *c = C + (size_t)m0 * ldc;
            for (int q = 0; q < cb; q++)
                finish_tile(acc + 256 * (2 * r + q), rows, rs, ep, (j + q) * 16, N, c, ldc);
        }
    }
}

void ev_gemm_amx(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                 const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                 void *scratch) {
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 0);
    EV_CPU_ASSERT(scratch != NULL);
    const int8_t *Bp = Bpv;
    const int Kp64 = kp64(Kp), kfull = Kp & ~(KC - 1), ktail = Kp - kfull;
    uint8_t *panel = scratch;                                   /* 16 x Kp64 */
    uint8_t *tails = panel + (size_t)TR * (size_t)Kp64;          /* MAX_RB x 16 x 64 */
    int32_t *acc = (int32_t *)(((uintptr_t)(tails + MAX_RB * TILE_BYTES) + 63) & ~(uintptr_t)63);
    ev_amx_tiles_16x64();
    for (int m = 0; m < M; m += 2 * TR) {
        a_src src[2];
        int nrb = M - m > TR ? 2 : 1;
        for (int r = 0; r < nrb; r++) {
            int m0 = m + r * TR, rows = M - m0 < TR ? M - m0 : TR;
            const uint8_t *a = A + (size_t)m0 * lda;
            a_src *s = &src[r];
            if (rows < TR) {
                /* short block: all of its rows into the zero-padded panel (masked loads never
                 * touch bytes past Kp, which may be past the caller's memory) */
                for (int i = 0; i < TR; i++)
                    for (int k = 0; k < Kp64; k += KC) {
                        int left = i < rows ? Kp - k : 0;
                        __mmask64 km = left >= KC ? ~(__mmask64)0
                                                  : left > 0 ? ((__mmask64)1 << left) - 1 : 0;
                        _mm512_store_si512(panel + (size_t)i * Kp64 + k,
                                           _mm512_maskz_loadu_epi8(km, a + (size_t)i * lda + k));
                    }
                s->a = panel;
                s->lda = (size_t)Kp64;
                s->tail = panel + kfull;
                s->tail_ld = (size_t)Kp64;
            } else {
                s->a = a;
                s->lda = lda;
                s->tail = NULL;
                s->tail_ld = KC;
                if (ktail) { /* the partial chunk, zero past Kp */
                    uint8_t *t = tails + (size_t)r * TILE_BYTES;
                    const __mmask64 km = ((__mmask64)1 << ktail) - 1;
                    for (int i = 0; i < TR; i++)
                        _mm512_store_si512(t + (size_t)i * KC,
                                           _mm512_maskz_loadu_epi8(km, a + (size_t)i * lda + kfull));
                    s->tail = t;
                }
            }
        }
        row_blocks(M, N, Kp, Kp64, src, nrb, m, Bp, rowsum, ep, C, ldc, acc);
    }
    _tile_release();
}
