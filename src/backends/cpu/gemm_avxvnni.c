/*
 * gemm_avxvnni.c - quantized GEMM with AVX-VNNI: VEX-encoded vpdpbusd on ymm (32 u8 x s8
 * products into 8 int32 per instruction), for CPUs that have it (Alder Lake and later client
 * chips, Sapphire Rapids, Zen 5; CPUID.(EAX=7,ECX=1):EAX[4]), with or without AVX-512. Compiled
 * with -mavx2 -mfma -mavxvnni (file suffix, CMakeLists.txt) and chosen only where isa.c reports
 * AVX-VNNI (config.c line "u8s8_gemm_6x16__avxvnni", level EV_ISA_AVXVNNI).
 *
 * Layout: ev_gemm_pack's (gemm.h), shared with the scalar and AVX-512 VNNI kernels: blocks of 16
 * channels, per group of 4 k 16 x 4 bytes = 64 bytes, i.e. two ymm of 8 channels x 4 k, each
 * exactly vpdpbusd's operand for a broadcast 4-byte group of one pixel row.
 *
 * Tile: 6 pixel rows x 16 channels = 12 ymm accumulators, plus 2 weight vectors and the
 * broadcast row group: 15 of the 16 ymm registers. Loop order: rows in chunks of 48 (the
 * caller's task, TILE_M in conv.c), channel blocks of 16 outside, 6-row tiles inside, so a
 * block's 16 x Kp weight bytes stay in L1 while the chunk's rows are swept under it.
 *
 * Exactness: vpdpbusd adds, per int32 lane, the four products u8 * s8 (each in
 * [-32640, 32385], computed exactly, no int16 intermediate and no saturation: the VEX form is
 * the non-saturating VPDPBUSD, not VPDPBUSDS) to the accumulator with wrapping 32-bit addition,
 * the same modular sum as the scalar kernel's int32 arithmetic; the TFLite-side sums fit int32
 * anyway. Bytes past K meet zero weights (packing pads Kp and N). Row sums, when the kernel
 * computes them (EV_GEMM_OWN_ROWSUMS: ep->delta set and no caller's sums; rows then have zero
 * bytes past K), are exact byte sums by vpsadbw into 64-bit lanes (at most Kp * 255 < 2^31).
 * The epilogue (bias, delta * row sum with vpmulld's wrapping low product as in the scalar
 * int32 code, TFLite requantization, packing) is requant_avx2.h's, bit-exact by its proof.
 *
 * Extend: a wider tile (e.g. 4 x 24: 12 accumulators, 3 weight vectors) reads the next block's
 * first half as its third vector; an AVX-VNNI depthwise row would be a dwconv_avxvnni.c with
 * its own config.c line of level EV_ISA_AVXVNNI (today the AVX2 rows serve this level).
 */
#include "backends/cpu/gemm.h"

#include "backends/cpu/requant_avx2.h"

#include <immintrin.h>
#include <string.h>

#define MR 6     /* rows per register tile; 16 channels (2 ymm) per column block */
#define CHUNK 48 /* rows whose sums are computed at once (conv.c's tasks have at most 48) */

static inline int32_t load4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Sum of the Kp bytes of a row (Kp % 4 == 0). */
static int32_t row_sum(const uint8_t *a, int Kp) {
    __m256i s = _mm256_setzero_si256();
    const __m256i z = _mm256_setzero_si256();
    int k = 0;
    for (; k + 32 <= Kp; k += 32)
        s = _mm256_add_epi64(s, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)(a + k)), z));
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
    int32_t r = (int32_t)_mm_cvtsi128_si32(h);
    for (; k < Kp; k++) r += a[k];
    return r;
}

#define DOT(i)                                                                                   \
    do {                                                                                         \
        __m256i a_ = _mm256_set1_epi32(load4(a##i + k));                                         \
        c##i##0 = _mm256_dpbusd_avx_epi32(c##i##0, a_, b0);                                      \
        c##i##1 = _mm256_dpbusd_avx_epi32(c##i##1, a_, b1);                                      \
    } while (0)

#define FIN(i)                                                                                   \
    do {                                                                                         \
        if (i < mr) {                                                                            \
            __m256i rs_ = _mm256_set1_epi32(rs ? rs[i] : 0);                                     \
            __m256i r0_ = ev_gemm_finish8_avx2(c##i##0, rs_, ep, &q0, n0);                       \
            __m256i r1_ = ev_gemm_finish8_avx2(c##i##1, rs_, ep, &q1, n0 + 8);                   \
            ev_gemm_store16_avx2(r0_, r1_, n0, N, C + (size_t)(i) * ldc);                        \
        }                                                                                        \
    } while (0)

/* mr (1..6) rows x the 16 channels from n0 (those past N: zero weights, computed, not stored).
 * Rows past mr alias the last real row (computed, never stored). */
static void tile(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                 const int32_t *rs, const ev_gemm_epi *ep, uint8_t *C, size_t ldc, int n0) {
    const uint8_t *a0 = A, *a1 = A + (mr > 1 ? 1 : 0) * lda, *a2 = A + (mr > 2 ? 2 : mr - 1) * lda;
    const uint8_t *a3 = A + (mr > 3 ? 3 : mr - 1) * lda, *a4 = A + (mr > 4 ? 4 : mr - 1) * lda;
    const uint8_t *a5 = A + (mr > 5 ? 5 : mr - 1) * lda;
    const __m256i z = _mm256_setzero_si256();
    __m256i c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    __m256i c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    const int8_t *b = Bp + (size_t)(n0 / 16) * 16 * (size_t)Kp;
    for (int k = 0; k < Kp; k += 4, b += 64) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32));
        DOT(0);
        DOT(1);
        DOT(2);
        DOT(3);
        DOT(4);
        DOT(5);
    }
    const ev_rq_avx2 q0 = ev_rq_avx2_load(ep, n0), q1 = ev_rq_avx2_load(ep, n0 + 8);
    FIN(0);
    FIN(1);
    FIN(2);
    FIN(3);
    FIN(4);
    FIN(5);
}

void ev_gemm_avxvnni(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 1);
    const int8_t *Bp = Bpv;
    /* Row sums are needed when some channel has a zero-point correction (ep->delta); given
     * none, they are computed here (bytes past K are zero in im2col rows; direct rows whose
     * last group runs into the next pixel get their sums from the caller). */
    int own = ep->delta && !rowsum;
    int32_t sums[CHUNK];
    for (int m0 = 0; m0 < M; m0 += CHUNK) {
        int mc = M - m0 < CHUNK ? M - m0 : CHUNK;
        const uint8_t *a = A + (size_t)m0 * lda;
        const int32_t *rs = rowsum ? rowsum + m0 : NULL;
        if (own) {
            for (int i = 0; i < mc; i++) sums[i] = row_sum(a + (size_t)i * lda, Kp);
            rs = sums;
        }
        uint8_t *c = C + (size_t)m0 * ldc;
        for (int n = 0; n < N; n += 16)
            for (int m = 0; m < mc; m += MR)
                tile(mc - m < MR ? mc - m : MR, N, Kp, a + (size_t)m * lda, lda, Bp,
                     rs ? rs + m : NULL, ep, c + (size_t)m * ldc, ldc, n);
    }
}
