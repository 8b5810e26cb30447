/*
 * gemm.h - the quantized GEMM every int8/uint8 convolution of the cpu backend reduces to.
 *
 *   C[m][n] = requant( sum_k A[m][k] * B[k][n]  +  delta[n] * rowsum[m]  +  bias[n] )
 *
 * A: uint8 rows (pixels), `lda` bytes apart, read in whole 4-byte groups up to Kp (a multiple
 *    of 4; bytes past the real K meet zero weights).
 * B: int8 weights packed by ev_gemm_pack(): blocks of 16 output channels; inside a block, for
 *    each group of 4 k, 16 x 4 bytes (the vpdpbusd operand layout). N is padded to 16.
 * bias/delta fold the zero points so the int32 accumulator equals TFLite's
 *    sum (x - x_zp)(w - w_zp) + bias  exactly (see conv.c for the algebra).
 * Requantization is TFLite's MultiplyByQuantizedMultiplier (double rounding) + zero point +
 * activation clamp, per output channel, bit-exact in every variant, with the right shift's ties
 * rounded away from zero (TFLite's reference kernels; uint8 convolutions and every depthwise) or,
 * when the epilogue's round_half_up is set, toward +infinity (TFLite's runtime for int8 CONV_2D:
 * ruy; core/quant.h ev_mul_by_quantized_multiplier_up). The doubling high multiply is the same
 * in both (its ties already go up).
 *
 * Variants, one file each, all with the signature ev_gemm_fn and listed in config.c (one line
 * per kernel, which also names its packing, tile and needs): gemm_scalar.c (portable),
 * gemm_avx2.c (AVX2, int16 pairs: its own packing, A widened into per-thread scratch),
 * gemm_avxvnni.c (AVX-VNNI, vpdpbusd ymm), gemm_vnni.c (AVX-512 VNNI), gemm_amx.c (AMX-INT8
 * tiles); on ARM gemm_neon.c (NEON widening multiplies) and gemm_dotprod.c
 * (SDOT, aarch64). A new variant is a file with an ev_gemm_fn (and a pack function if the
 * layout above does not suit it) and one line in config.c; conv.c does not change.
 *
 * ARM variants (x - 128 activations). NEON multiplies s8 x s8 (SDOT, SMULL) or u8 x u8 (UDOT),
 * never u8 x s8 (USDOT is armv8.6 i8mm), so they read each activation byte as x ^ 0x80 = x - 128
 * (as int8) and compute sum_k (x_k - 128) s_k; the caller adds 128 * sum_k s_k to bias[n] (conv.c;
 * exact in int32, the padded k meet zero weights). Same packed layout: a 16-byte row of a 64-byte
 * group is 4 channels x 4 k, exactly the operand of SDOT's four 4-byte dot products. Such
 * variants carry EV_GEMM_A_MINUS_128 in their config line, which is all conv.c looks at.
 *
 * Preconditions (asserted in debug builds, EV_CPU_CHECKS, by EV_GEMM_ASSERT_ARGS in every entry): M >= 1,
 * N >= 1, Kp a positive multiple of 4, rows at least Kp - 3 bytes apart (direct 1x1 rows may be
 * K < Kp bytes apart: the group that runs into the next pixel meets zero weights), ldc >= N, the
 * epilogue arrays hold N rounded up to 16 entries, and row sums given whenever ep->delta is set,
 * except to a variant flagged EV_GEMM_OWN_ROWSUMS with zero bytes past K.
 */
#ifndef EV_BACKENDS_CPU_GEMM_H
#define EV_BACKENDS_CPU_GEMM_H

#include <stddef.h>
#include <stdint.h>

typedef struct ev_gemm_epi {
    const int32_t *bias;   /* [Np] zero points folded in                                   */
    const int32_t *delta;  /* [Np] rowsum coefficient, or NULL when all zero              */
    const int32_t *mult;   /* [Np] M0                                                      */
    const int32_t *lshift; /* [Np] left shift (>= 0)                                       */
    const int32_t *rshift; /* [Np] right shift (>= 0)                                      */
    const int32_t *rmask;  /* [Np] (1 << rshift) - 1                                       */
    int32_t out_zp, act_min, act_max;
    int out_i8;            /* store int8 (else uint8)                                      */
    int any_lshift;        /* some lshift[n] != 0                                          */
    int round_half_up;     /* right shift's ties toward +infinity (int8 CONV_2D, as ruy);  *
                            * 0: away from zero (TFLite's reference rule)                  */
    const int64_t *rq64;   /* [Np / 16][7][8] the same requantization as 64-bit constants for
                              AVX-512 (requant_avx512.h), from ev_gemm_epi_requant            */
} ev_gemm_epi;

/* Fills the requantization part of an epilogue (mult, lshift, rshift, rmask, any_lshift, rq64)
 * from TFLite's per-channel (M0, shift) pairs of n channels, as arrays of np >= n entries (zero
 * past n; np a multiple of 16) in one allocation returned in *table, which the caller frees.
 * Returns 0, or -1 out of memory. */
int ev_gemm_epi_requant(ev_gemm_epi *ep, int32_t **table, const int32_t *mult, const int *shift,
                        int n, int np);

/* Weights: w is N rows of K int8 values (row stride K); a variant's pack function writes them
 * into `out` (packed_size(N, Kp) bytes) in the layout its GEMM reads. */
typedef size_t (*ev_gemm_packed_size_fn)(int N, int Kp);
typedef void (*ev_gemm_pack_fn)(const int8_t *w, int N, int K, int Kp, void *out);
/* Bytes of per-thread scratch a variant needs for M rows of Kp (NULL in config: none). */
typedef size_t (*ev_gemm_scratch_fn)(int M, int Kp);

/* The one GEMM signature: rows A (uint8, lda apart), weights Bp as the variant's pack wrote
 * them, optional row sums, epilogue, output C (ldc apart), and this thread's scratch (at least
 * scratch_size(M, Kp) bytes, 64-byte aligned; NULL when the variant asks for none). */
typedef void (*ev_gemm_fn)(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                           const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                           void *scratch);

/* Flags of a GEMM's config line. */
#define EV_GEMM_A_MINUS_128 1u /* reads activations as x - 128: bias gains 128 * sum_k s_k   */
#define EV_GEMM_OWN_ROWSUMS 2u /* computes row sums itself when given none (needs zero bytes
                                  past K in each row, i.e. not direct rows with K % 4)         */

/* Precondition checks of the cpu kernels: assert() in debug builds. The project's Release flags
 * are -O2 without NDEBUG, so they are on in unoptimized builds (Debug) and sanitizer builds
 * (whatever their -O), off in other optimized ones (an assert at a GEMM's entry costs the AVX2
 * GEMM ~15% on large 1x1 convolutions, by the code gcc then generates), and off with NDEBUG.
 * -DEV_CPU_CHECKS=1 turns them on in an optimized build without NDEBUG. */
#ifndef EV_CPU_CHECKS
#if !defined(NDEBUG) && (!defined(__OPTIMIZE__) || defined(__SANITIZE_ADDRESS__))
#define EV_CPU_CHECKS 1
#else
#define EV_CPU_CHECKS 0
#endif
#endif
#if EV_CPU_CHECKS
#include <assert.h>
#define EV_CPU_ASSERT(x) assert(x)
#else
#define EV_CPU_ASSERT(x) ((void)0)
#endif

#define EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bp, rowsum, ep, C, ldc, own_rowsums)              \
    do {                                                                                         \
        EV_CPU_ASSERT((M) >= 1 && (N) >= 1);                                                     \
        EV_CPU_ASSERT((Kp) > 0 && (Kp) % 4 == 0);                                                \
        EV_CPU_ASSERT((A) && (Bp) && (ep) && (C) && (ep)->bias && (ep)->mult);                   \
        EV_CPU_ASSERT((M) == 1 || (lda) + 3 >= (size_t)(Kp));                                    \
        EV_CPU_ASSERT((ldc) >= (size_t)(N));                                                     \
        EV_CPU_ASSERT(!(ep)->delta || (rowsum) || (own_rowsums));                                \
    } while (0)

/* The packing every byte-layout variant reads (blocks of 16 channels x groups of 4 k). */
size_t ev_gemm_packed_size(int N, int Kp);
void ev_gemm_pack(const int8_t *w, int N, int K, int Kp, void *out);

void ev_gemm_scalar(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                    const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                    void *scratch);
/* AVX-VNNI variant (gemm_avxvnni.c): VEX vpdpbusd on ymm, ev_gemm_pack's layout, 6 x 16 tile. */
void ev_gemm_avxvnni(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     void *scratch);
void ev_gemm_vnni(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch);
/* requant_avx512.h's requant16 on 16 accumulators (channels n0..n0+15, n0 a multiple of 16), as
 * the AVX-512 epilogues run it; for tests (CPUs with the vnni level only). */
void ev_requant16_avx512(const int32_t *acc, const ev_gemm_epi *ep, int n0, int32_t *out);

/* AMX-INT8 variant (gemm_amx.c): tdpbusd tiles, 32 x 32 register block; ev_gemm_pack's layout
 * with K padded to a multiple of 64 (its own pack/packed_size), scratch for short row blocks,
 * the partial k chunk and the accumulator tiles. Row sums from the caller. */
size_t ev_gemm_amx_packed_size(int N, int Kp);
void ev_gemm_amx_pack(const int8_t *w, int N, int K, int Kp, void *out);
size_t ev_gemm_amx_scratch(int M, int Kp);
void ev_gemm_amx(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                 const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                 void *scratch);

/* AVX2 variant (gemm_avx2.c, 6 x 16 tile): weights packed as int16 pairs (for each block of 8
 * channels, for each pair of k, 8 x 2 values); it widens A into its scratch (M x Kp int16)
 * itself, and sums the rows there when given no row sums (EV_GEMM_OWN_ROWSUMS). */
size_t ev_gemm_pack16_size(int N, int Kp);
void ev_gemm_pack16(const int8_t *w, int N, int K, int Kp, void *out);
size_t ev_gemm_avx2_scratch(int M, int Kp);
void ev_gemm_avx2(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch);

/* ARM variants (EV_GEMM_A_MINUS_128). Rows per register tile of gemm_neon.c: 2 on aarch64's 32
 * vector registers, 1 on armv7's 16. */
#if defined(__aarch64__)
#define EV_GEMM_NEON_MR 2
#else
#define EV_GEMM_NEON_MR 1
#endif
void ev_gemm_neon(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch);
/* gemm_neon.c's packing: ev_gemm_pack's layout, then one byte per 16-channel block, 1 when no
 * channel of the block has weight -128 at both k and k + 4 (k % 8 < 4): its k loop may then sum
 * those two products in int16. */
size_t ev_gemm_neon_packed_size(int N, int Kp);
void ev_gemm_neon_pack(const int8_t *w, int N, int K, int Kp, void *out);
void ev_gemm_dotprod(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     void *scratch);
/* gemm_dotprod.c's own packing (UDOT on raw activations: u8 weights s + 128, 0 past K, after
 * K and -128 * sum_k s_k per channel). */
size_t ev_gemm_dot_packed_size(int N, int Kp);
void ev_gemm_dot_pack(const int8_t *w, int N, int K, int Kp, void *out);

#endif
