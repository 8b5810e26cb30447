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
 * activation clamp, per output channel, bit-exact in every variant.
 *
 * Variants: gemm_scalar.c (portable), gemm_avx2.c (AVX2, int16 pairs), gemm_vnni.c (AVX-512
 * VNNI); on ARM gemm_neon.c (NEON widening multiplies) and gemm_dotprod.c (SDOT, aarch64).
 * A new ISA adds a file with the same signature and a case in conv.c's dispatch.
 *
 * ARM variants (x - 128 activations). NEON multiplies s8 x s8 (SDOT, SMULL) or u8 x u8 (UDOT),
 * never u8 x s8 (USDOT is armv8.6 i8mm), so they read each activation byte as x ^ 0x80 = x - 128
 * (as int8) and compute sum_k (x_k - 128) s_k; the caller adds 128 * sum_k s_k to bias[n] (conv.c;
 * exact in int32, the padded k meet zero weights). Same packed layout: a 16-byte row of a 64-byte
 * group is 4 channels x 4 k, exactly the operand of SDOT's four 4-byte dot products.
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
} ev_gemm_epi;

/* Fills the requantization part of an epilogue (mult, lshift, rshift, rmask, any_lshift) from
 * TFLite's per-channel (M0, shift) pairs of n channels, as arrays of np >= n entries (zero past n)
 * in one allocation returned in *table, which the caller frees. Returns 0, or -1 out of memory. */
int ev_gemm_epi_requant(ev_gemm_epi *ep, int32_t **table, const int32_t *mult, const int *shift,
                        int n, int np);

/* Packs w (N rows of K int8 values, row stride K) into `out` (size ev_gemm_packed_size). */
size_t ev_gemm_packed_size(int N, int Kp);
void ev_gemm_pack(const int8_t *w, int N, int K, int Kp, int8_t *out);

typedef void (*ev_gemm_fn)(int M, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                           const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc);

void ev_gemm_scalar(int M, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                    const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc);
void ev_gemm_vnni(int M, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc);

/* ARM variants: bias must include 128 * sum_k s_k (see above); row sums come from the caller
 * when ep->delta is set. */
void ev_gemm_neon(int M, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc);
void ev_gemm_dotprod(int M, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc);

/* AVX2 variant (gemm_avx2.c): A as int16 rows (widened by the caller), weights packed as int16
 * pairs: for each block of 8 channels, for each pair of k, 8 x 2 values. Row sums required when
 * ep->delta is set. */
size_t ev_gemm_pack16_size(int N, int Kp);
void ev_gemm_pack16(const int8_t *w, int N, int K, int Kp, int16_t *out);
void ev_gemm_avx2(int M, int N, int Kp, const int16_t *A, size_t lda, const int16_t *B,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc);
/* Widens n rows of K bytes (lda apart) to int16 rows of Kp (zeros past K) for ev_gemm_avx2. */
void ev_gemm_widen16_avx2(int n, int K, int Kp, const uint8_t *A, size_t lda, int16_t *dst);

#endif
