/*
 * gemm_f32.h - the float GEMM every float32 convolution and fully connected layer of the cpu
 * backend reduces to (conv_f32.c), and the weight layout its kernels read.
 *
 *   C[m][n] = clamp( sum_k A[m][k] * W[k][n]  +  bias[n]  (+ R[m][n]),  min, max )
 *
 * A: float rows (output pixels: im2col rows, or the input itself for 1x1 stride-1), `lda`
 *    floats apart, K floats each.
 * W: packed once at prepare by ev_f32_gemm_pack() for the kernel's nr: for each block of nr
 *    output channels, nr biases, then K rows of nr weights (k-major inside the block: the
 *    vector a kernel loads per k), zero past N. A call starting at channel n0 (a multiple of
 *    nr) reads the blocks from ev_f32_gemm_block(Wp, n0, K, nr).
 * R: the optional residual (a fused ADD), rows `ldr` floats apart, added before the clamp.
 * Summation order: a kernel sums its K products in k order per output, with FMA contraction;
 * the reference sums in (ky, kx, c) order without it: the op x backend test bounds the
 * difference (tests/test_backend_ops.c states how).
 *
 * Variants, one file each, all with the signature ev_f32_gemm_fn, listed in config.c's float
 * table (name f32_gemm_<mr>x<nr>__<isa>, tile mr rows x nr channels): gemm_f32_scalar.c
 * (portable), and the ISA files beside it. A new variant is a file and a line; conv_f32.c does not change.
 *
 * Preconditions (asserted in debug builds by EV_F32_GEMM_ASSERT_ARGS): M >= 1, N >= 1, K >= 1,
 * lda >= K (or M == 1; with taps, any lda), ldc >= N, ldr >= N when R is given, min <= max,
 * K a multiple of taps.
 */
#ifndef EV_BACKENDS_CPU_GEMM_F32_H
#define EV_BACKENDS_CPU_GEMM_F32_H

#include "backends/cpu/gemm.h"

#include <stddef.h>

typedef struct ev_f32_epi {
    float min, max;        /* activation clamp (-INFINITY, INFINITY: none)                   */
    const float *residual; /* NULL, or M rows of N floats `ldr` apart, added before the clamp */
    size_t ldr;
    /* NULL, or the packed weights this thread most likely reads after this call (the next
     * task's first block): a kernel may prefetch them (a hint, never read as data) while its
     * last block runs, so that a task's first block does not start cold from memory. */
    const float *next;
    /* Implicit GEMM (lines flagged EV_F32_GEMM_TAPS in config.c): taps > 1 splits each row's K
     * values into `taps` runs of K / taps, run t of row m read at A + m * lda + tap_off[t]
     * (floats): a convolution's taps read in place from a zero-padded input, no im2col. The
     * sum is the same, in the same k order, as over an im2col row. taps <= 1: row m is K
     * contiguous floats at A + m * lda. */
    int taps;
    const ptrdiff_t *tap_off;
    /* NULL, or bytes a later op reads (the next layer's weights, conv_f32.c): a kernel may
     * prefetch them into L2 a little per k over the whole call (a hint, never read as data). */
    const char *ahead;
    size_t ahead_bytes;
    /* 1: this thread's last call read the same packed blocks (conv_f32.c: the same channel
     * chunk, the next output row), still in its L2: a kernel need not prefetch the call's own
     * next blocks (it still prefetches ep->next and ep->ahead). */
    int warm;
    /* Lines flagged EV_F32_GEMM_SPLIT (gemm_f32_amx.c): A already split into bfloat16 terms
     * (rows a3_ld bytes apart, each ev_f32_gemm_amx_split's layout: 192 bytes per 32 k; chunk c
     * of a row at a3_tap[c / a3_groups] + (c % a3_groups) x 192 bytes, or c x 192 without
     * a3_tap), A itself then unread; a3 NULL: the call splits A into `panel` (M rounded up to a
     * multiple of 16 rows of ev_f32_gemm_amx_row_bytes(K), 64-byte aligned). */
    const void *a3;
    size_t a3_ld;
    int a3_groups;
    const ptrdiff_t *a3_tap;
    /* a3_vw > 0: the rows are a virtual image a3_vw wide of which the first a3_ow columns are
     * outputs (a stride-1 convolution over a padded input, computed over its whole padded width
     * so that one call spans several output rows): row m is output (m / a3_vw) * a3_ow + m %
     * a3_vw of C (and of the residual), and rows with m % a3_vw >= a3_ow are not stored. */
    int a3_vw, a3_ow;
    void *panel;
} ev_f32_epi;

/* Bytes of packed weights for N channels of K inputs, blocks of nr. */
size_t ev_f32_gemm_packed_size(int N, int K, int nr);
/* w: N rows of K floats (OHWI flattened: row n is output channel n); bias: N floats or NULL. */
void ev_f32_gemm_pack(const float *w, const float *bias, int N, int K, int nr, float *out);
/* The packed blocks starting at channel n0 (a multiple of nr). */
static inline const float *ev_f32_gemm_block(const float *Wp, int n0, int K, int nr) {
    return Wp + (size_t)(n0 / nr) * (size_t)(K + 1) * (size_t)nr;
}

/* How the x86 kernels cut M rows into tiles of mr: *whole full tiles, then a remainder that
 * joins the last full one as two tiles of about (mr + r) / 2 rows (a 1-row tile would run at a
 * fraction of the FMA rate). Returns the number of tiles. */
static inline int ev_f32_row_tiles(int M, int mr, int *whole) {
    *whole = M % mr && M > mr ? M / mr - 1 : M / mr;
    const int rest = M - *whole * mr;
    return *whole + (rest == 0 ? 0 : rest > mr ? 2 : 1);
}

/* For a kernel with tiles of mr rows x nr channels: the output rows (and residual rows) of the
 * tile mr rows after row m of the block at channel n0 (the next block's first rows after the
 * last tile), into L2 while the current tile runs. A block's rows are ldc (ldr) floats apart,
 * 1-8 KiB in ResNet50: a new page every few rows, which the hardware prefetchers do not cross,
 * so each tile's epilogue would otherwise wait on a miss per row (measured on ResNet50: the
 * residual-fused 1x1 layers, gemm_f32_avx2.c and gemm_f32_avx512.c). L2, not L1: rows 4 KiB
 * apart share one L1 set. One line per 16 channels of the block. */
static inline void ev_f32_prefetch_out(int M, int N, const ev_f32_epi *ep, const float *C,
                                       size_t ldc, int m, int n0, int mr, int nr) {
    int r = m + mr, n = n0;
    if (r >= M) {
        r -= M;
        n += nr;
        if (n >= N || r >= M) return;
    }
    const int end = r + mr < M ? r + mr : M;
    for (; r < end; r++)
        for (int j = 0; j < nr && n + j < N; j += 16) {
            __builtin_prefetch(C + (size_t)r * ldc + n + j, 0, 2);
            if (ep->residual) __builtin_prefetch(ep->residual + (size_t)r * ep->ldr + n + j, 0, 2);
        }
}

/* The x86 kernels' weight prefetches for a call (gemm_f32_avx2.c, gemm_f32_avx512.c).
 * ev_f32_ahead_step: the bytes per k that spread ep->ahead over the call's `ksteps` k steps, and
 * its first line in *ah (no ahead: Wp, step 0, one line over and over).
 * ev_f32_next_blocks: what the tiles of the block at n0 prefetch, `step_next` bytes further per
 * k (*step): the call's own next block, unless ep->warm says it is in L2 already; after the last
 * block, ep->next; with neither, a line of this block (step 0). */
static inline size_t ev_f32_ahead_step(const ev_f32_epi *ep, size_t ksteps, const float *Wp,
                                       const char **ah) {
    *ah = ep->ahead ? ep->ahead : (const char *)Wp;
    return ep->ahead ? (ep->ahead_bytes + ksteps - 1) / ksteps : 0;
}

static inline const char *ev_f32_next_blocks(const ev_f32_epi *ep, const float *Wp,
                                             const float *blk, int n0, int N, int K, int nr,
                                             size_t step_next, size_t *step) {
    const char *nxt = n0 + nr < N ? (ep->warm ? NULL
                                              : (const char *)ev_f32_gemm_block(Wp, n0 + nr, K, nr))
                                  : (const char *)ep->next;
    *step = nxt ? step_next : 0;
    return nxt ? nxt : (const char *)blk;
}

/* The one float GEMM signature: M rows of A, N channels from the packed blocks at Wp. */
typedef void (*ev_f32_gemm_fn)(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                               const ev_f32_epi *ep, float *C, size_t ldc);

#define EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc)                                 \
    do {                                                                                         \
        EV_CPU_ASSERT((M) >= 1 && (N) >= 1 && (K) >= 1);                                         \
        EV_CPU_ASSERT((A) && (Wp) && (ep) && (C));                                               \
        EV_CPU_ASSERT((M) == 1 || (ep)->taps > 1 || (lda) >= (size_t)(K));                       \
        EV_CPU_ASSERT((ep)->taps <= 1 || ((ep)->tap_off && (K) % (ep)->taps == 0));              \
        EV_CPU_ASSERT((ldc) >= (size_t)(N));                                                     \
        EV_CPU_ASSERT(!(ep)->residual || (ep)->ldr >= (size_t)(N));                              \
        EV_CPU_ASSERT(!((ep)->min > (ep)->max));                                                 \
    } while (0)

void ev_f32_gemm_scalar(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                        const ev_f32_epi *ep, float *C, size_t ldc);
/* x86 (gemm_f32_avx2.c, gemm_f32_avx512.c): compiled with their ISA flags, run only where the
 * config's line allows them. */
void ev_f32_gemm_avx2(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                      const ev_f32_epi *ep, float *C, size_t ldc);
void ev_f32_gemm_avx512(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                        const ev_f32_epi *ep, float *C, size_t ldc);

/* The opt-in bfloat16 GEMM (gemm_f32_avx512bf16.c): its own layout (32-channel blocks: 32 float
 * biases, then ceil(K/2) rows of 32 bfloat16 (k, k+1) pairs). */
size_t ev_f32_gemm_bf16_block_floats(int K, int nr);
size_t ev_f32_gemm_bf16_packed_size(int N, int K, int nr);
void ev_f32_gemm_bf16_pack(const float *w, const float *bias, int N, int K, int nr, float *out);
void ev_f32_gemm_bf16_avx512(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                             const ev_f32_epi *ep, float *C, size_t ldc);

/* The AMX-BF16 GEMM with float32 accuracy (gemm_f32_amx.c): its own layout (32-channel blocks:
 * 32 float biases, then per 32 k three bfloat16 terms x two 16-channel B tiles). */
size_t ev_f32_gemm_amx_block_floats(int K, int nr);
size_t ev_f32_gemm_amx_packed_size(int N, int K, int nr);
void ev_f32_gemm_amx_pack(const float *w, const float *bias, int N, int K, int nr, float *out);
/* Bytes of one split row of K (192 per 32 k). */
size_t ev_f32_gemm_amx_row_bytes(int K);
/* M rows of K floats (lda apart) into split rows `ld` bytes apart at dst. */
void ev_f32_gemm_amx_split(int M, int K, const float *A, size_t lda, void *dst, size_t ld);
void ev_f32_gemm_amx(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                     const ev_f32_epi *ep, float *C, size_t ldc);

#endif
