/*
 * gemm_avx2.c - quantized GEMM for AVX2 CPUs without AVX-512 VNNI (also used on AVX-512 CPUs
 * without VNNI). vpmaddubsw would saturate (255 * 127 * 2 > 32767), so activations are widened to
 * int16 (here, into the per-thread scratch its config line asks for: ev_gemm_avx2_scratch) and
 * weights packed as int16 pairs (ev_gemm_pack16, its config line's pack function); vpmaddwd then
 * yields exact int32 sums of two products. The byte groups past K meet zero weights, so widening
 * whole Kp rows is exact. The widening pass also sums each row's bytes when the caller gives no
 * row sums (EV_GEMM_OWN_ROWSUMS in its config line).
 *
 * Tile: 6 rows x 16 channels (12 ymm accumulators), its k loop in inline assembly (tile16_6;
 * the widened copy has zero rows up to a multiple of 6, computed and not stored), and a last
 * block of 1..8 channels through a 6 x 8 tile in C (tile8_r) instead of a 16-wide one half of
 * which is discarded.
 * Bound: every vpmaddwd needs a vpaddd (AVX2 has no multiply-accumulate), so 2 vector ALU uops
 * per 16 MACs on three vector ports; a loop of nothing but independent vpmaddwd + vpaddd pairs
 * runs at ~70% of the vpmaddwd issue rate (docs/performance.md, "The AVX2 int8 path").
 * vpmaddubsw (u8 x s8 pairs, one instruction per 32 MACs) is exact only where a weight pair
 * cannot saturate int16 (255 (|w_a| + |w_b|) <= 32767); on the Coral PoseNet models no block of
 * 8 output channels of any layer meets that (measured at pack time, same section), so it is not
 * used.
 *
 * The epilogue (bias, delta * row sum, requantization, packing) is vectorized, 8 channels per
 * vector, by requant_avx2.h (bit-exact; its opening comment has the proof); the epilogue tables
 * are padded to a multiple of 16 channels, so the loads past N read zeros and only stores are cut
 * at N.
 *
 * Extend: another tile is a tile function and its dispatch in ev_gemm_avx2 (and its mr in the
 * config line's name and tile); the packing is per 8 channels, so any multiple of 8 reads it.
 */
#include "backends/cpu/gemm.h"

#include "backends/cpu/requant_avx2.h"

#include <immintrin.h>
#include <string.h>

size_t ev_gemm_pack16_size(int N, int Kp) {
    return (((size_t)N + 7) / 8) * 8 * (size_t)Kp * sizeof(int16_t);
}

void ev_gemm_pack16(const int8_t *w, int N, int K, int Kp, void *outp) {
    EV_CPU_ASSERT(Kp % 4 == 0 && Kp >= K);
    int16_t *out = outp;
    memset(out, 0, ev_gemm_pack16_size(N, Kp));
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++)
            out[((size_t)(n / 8) * (Kp / 2) + k / 2) * 16 + (n % 8) * 2 + (k % 2)] =
                w[(size_t)n * K + k];
}

static inline int32_t load4(const int16_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#define FIN2(i)                                                                                  \
    do {                                                                                         \
        if (i < mr) {                                                                            \
            __m256i rs_ = _mm256_set1_epi32(rowsum ? rowsum[i] : 0);                             \
            __m256i r0_ = ev_gemm_finish8_nc_avx2(c##i##0, rs_, ep, &q0, n0);                    \
            __m256i r1_ = ev_gemm_finish8_nc_avx2(c##i##1, rs_, ep, &q1, n0 + 8);                \
            ev_gemm_storec16_avx2(r0_, r1_, n0, N, C + (size_t)(i) * ldc, &q0);                 \
        }                                                                                        \
    } while (0)

#define DOT1(i)                                                                                  \
    do {                                                                                         \
        __m256i a_ = _mm256_set1_epi32(load4(a##i + k));                                         \
        c##i##0 = _mm256_add_epi32(c##i##0, _mm256_madd_epi16(a_, b0));                          \
    } while (0)

#define FIN1(i)                                                                                  \
    do {                                                                                         \
        if (i < mr) {                                                                            \
            __m256i rs_ = _mm256_set1_epi32(rowsum ? rowsum[i] : 0);                             \
            __m256i r0_ = ev_gemm_finish8_nc_avx2(c##i##0, rs_, ep, &q0, n0);                    \
            ev_store_bytes_avx2(C + (size_t)(i) * ldc + n0, ev_packc8_avx2(r0_, &q0), N - n0);  \
        }                                                                                        \
    } while (0)

/* MR rows x the last 1..8 channels (n0 + 8 >= N): one block, half the work of tile16. */
static inline __attribute__((always_inline)) void tile8(int mr, int N, int Kp, const int16_t *A,
                                                        size_t lda, const int16_t *B,
                                                        const int32_t *rowsum,
                                                        const ev_gemm_epi *ep, uint8_t *C,
                                                        size_t ldc, int n0) {
    const int16_t *a0 = A, *a1 = A + (mr > 1 ? 1 : 0) * lda, *a2 = A + (mr > 2 ? 2 : mr - 1) * lda;
    const int16_t *a3 = A + (mr > 3 ? 3 : mr - 1) * lda, *a4 = A + (mr > 4 ? 4 : mr - 1) * lda;
    const int16_t *a5 = A + (mr > 5 ? 5 : mr - 1) * lda;
    const int16_t *bA = B + (size_t)(n0 / 8) * (size_t)8 * Kp;
    __m256i c00 = _mm256_setzero_si256(), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00;
    for (int k = 0; k < Kp; k += 2) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(bA + (size_t)k * 8));
        DOT1(0);
        DOT1(1);
        DOT1(2);
        DOT1(3);
        DOT1(4);
        DOT1(5);
    }
    const ev_rq_avx2 q0 = ev_rq_avx2_load(ep, n0);
    FIN1(0);
    FIN1(1);
    FIN1(2);
    FIN1(3);
    FIN1(4);
    FIN1(5);
}

/* The 6 x 16 tile, its k loop in inline assembly: gcc (12, -O2) spilled four of the twelve
 * accumulators of the same loop written with intrinsics to the stack and copied others between
 * registers every step. Here each ymm register has one role: ymm0-11 the
 * accumulators (row r, channel half h in ymm(2r + h)), ymm12-13 the two weight vectors, ymm14
 * the broadcast int16 pair of a row, ymm15 the product; two k pairs per iteration (Kp is a
 * multiple of 4). Rows: a, a + lda, a + 2 lda, then the same from a3 = a + 3 lda. The
 * accumulators leave through memory (acc[12]), where the C epilogue reads them. */
#define EV_MAC(acc, b)                                                                           \
    "vpmaddwd %%ymm" #b ", %%ymm14, %%ymm15\n\t"                                                 \
    "vpaddd %%ymm15, %%ymm" #acc ", %%ymm" #acc "\n\t"
#define EV_RW(acc0, acc1, addr, off)                                                             \
    "vpbroadcastd " #off "*4" addr ", %%ymm14\n\t" EV_MAC(acc0, 12) EV_MAC(acc1, 13)
#define EV_K2(off)                                                                               \
    "vmovdqu " #off "*32(%[pb]), %%ymm12\n\t"                                                     \
    "vmovdqu " #off "*32(%[pb],%[bs]), %%ymm13\n\t"                                               \
    EV_RW(0, 1, "(%[pa])", off) EV_RW(2, 3, "(%[pa],%[lda])", off)                               \
    EV_RW(4, 5, "(%[pa],%[lda],2)", off) EV_RW(6, 7, "(%[pa3])", off)                            \
    EV_RW(8, 9, "(%[pa3],%[lda])", off) EV_RW(10, 11, "(%[pa3],%[lda],2)", off)
static void tile16_6(int mr, int N, int Kp, const int16_t *A, size_t lda, const int16_t *B,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     int n0) {
    const size_t bs = (size_t)8 * Kp; /* int16 per block of 8 channels */
    const int16_t *pb = B + (size_t)(n0 / 8) * bs;
    const int16_t *pend = pb + bs;
    const int16_t *pa = A, *pa3 = A + 3 * lda;
    const size_t ldab = lda * sizeof(int16_t), bsb = bs * sizeof(int16_t);
    __m256i acc[12];
    __asm__ volatile("vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
                     "vmovdqa %%ymm0, %%ymm1\n\t"
                     "vmovdqa %%ymm0, %%ymm2\n\t"
                     "vmovdqa %%ymm0, %%ymm3\n\t"
                     "vmovdqa %%ymm0, %%ymm4\n\t"
                     "vmovdqa %%ymm0, %%ymm5\n\t"
                     "vmovdqa %%ymm0, %%ymm6\n\t"
                     "vmovdqa %%ymm0, %%ymm7\n\t"
                     "vmovdqa %%ymm0, %%ymm8\n\t"
                     "vmovdqa %%ymm0, %%ymm9\n\t"
                     "vmovdqa %%ymm0, %%ymm10\n\t"
                     "vmovdqa %%ymm0, %%ymm11\n\t"
                     "1:\n\t" EV_K2(0) EV_K2(1)
                     "add $8, %[pa]\n\t"
                     "add $8, %[pa3]\n\t"
                     "add $64, %[pb]\n\t"
                     "cmp %[pend], %[pb]\n\t"
                     "jne 1b\n\t"
                     "vmovdqu %%ymm0, 0*32(%[acc])\n\t"
                     "vmovdqu %%ymm1, 1*32(%[acc])\n\t"
                     "vmovdqu %%ymm2, 2*32(%[acc])\n\t"
                     "vmovdqu %%ymm3, 3*32(%[acc])\n\t"
                     "vmovdqu %%ymm4, 4*32(%[acc])\n\t"
                     "vmovdqu %%ymm5, 5*32(%[acc])\n\t"
                     "vmovdqu %%ymm6, 6*32(%[acc])\n\t"
                     "vmovdqu %%ymm7, 7*32(%[acc])\n\t"
                     "vmovdqu %%ymm8, 8*32(%[acc])\n\t"
                     "vmovdqu %%ymm9, 9*32(%[acc])\n\t"
                     "vmovdqu %%ymm10, 10*32(%[acc])\n\t"
                     "vmovdqu %%ymm11, 11*32(%[acc])\n\t"
                     : [pa] "+r"(pa), [pa3] "+r"(pa3), [pb] "+r"(pb), "=m"(acc)
                     : [pend] "r"(pend), [lda] "r"(ldab), [bs] "r"(bsb), [acc] "r"(acc)
                     : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                       "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
                       "xmm15");
    __m256i c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3], c20 = acc[4], c21 = acc[5],
            c30 = acc[6], c31 = acc[7], c40 = acc[8], c41 = acc[9], c50 = acc[10], c51 = acc[11];
    const ev_rq_avx2 q0 = ev_rq_avx2_load(ep, n0), q1 = ev_rq_avx2_load(ep, n0 + 8);
    FIN2(0);
    FIN2(1);
    FIN2(2);
    FIN2(3);
    FIN2(4);
    FIN2(5);
}
#undef EV_MAC
#undef EV_RW
#undef EV_K2

static void tile8_r(int mr, int N, int Kp, const int16_t *A, size_t lda, const int16_t *B,
                    const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                    int n0) {
    tile8(mr, N, Kp, A, lda, B, rowsum, ep, C, ldc, n0);
}

/* Rows of the widened copy: M rounded up to the tile's 6, so the tile reads 6 rows always. */
static size_t rows6(int M) { return ((size_t)M + 5) / 6 * 6; }

/* Scratch: the widened rows (rows6(M) x Kp int16; those past M zero: computed by the tile, not
 * stored), then M row sums (int32) when the caller gives none. */
size_t ev_gemm_avx2_scratch(int M, int Kp) {
    return rows6(M) * (size_t)Kp * sizeof(int16_t) + (size_t)M * sizeof(int32_t);
}

/* Rows of A widened to int16, Kp values each (Kp % 4 == 0), and, when sums is not NULL, each
 * row's byte sum over its Kp bytes (vpsadbw against zero: 16 bytes -> two exact 64-bit sums; at
 * most Kp * 255 < 2^31 for any K the GEMM takes). */
static void widen(int M, int Kp, const uint8_t *A, size_t lda, int16_t *out, int32_t *sums) {
    for (int m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        int16_t *o = out + (size_t)m * Kp;
        __m128i acc = _mm_setzero_si128();
        int k = 0;
        for (; k + 16 <= Kp; k += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(a + k));
            _mm256_storeu_si256((__m256i *)(o + k), _mm256_cvtepu8_epi16(v));
            acc = _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_setzero_si128()));
        }
        if (k + 8 <= Kp) { /* Kp % 16 is 0, 4, 8 or 12 */
            __m128i v = _mm_loadl_epi64((const __m128i *)(a + k));
            _mm_storeu_si128((__m128i *)(o + k), _mm_cvtepu8_epi16(v));
            acc = _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_setzero_si128()));
            k += 8;
        }
        if (k < Kp) {
            int32_t w;
            memcpy(&w, a + k, 4);
            __m128i v = _mm_cvtsi32_si128(w);
            _mm_storel_epi64((__m128i *)(o + k), _mm_cvtepu8_epi16(v));
            acc = _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_setzero_si128()));
        }
        if (sums)
            sums[m] = (int32_t)_mm_cvtsi128_si64(_mm_add_epi64(acc, _mm_unpackhi_epi64(acc, acc)));
    }
}

void ev_gemm_avx2(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch) {
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bp, rowsum, ep, C, ldc, 1);
    EV_CPU_ASSERT(scratch && ((uintptr_t)scratch & 31) == 0);
    int16_t *a16 = scratch;
    int32_t *own = NULL;
    if (ep->delta && !rowsum) /* EV_GEMM_OWN_ROWSUMS: the bytes past K are zero */
        rowsum = own = (int32_t *)(a16 + rows6(M) * Kp);
    widen(M, Kp, A, lda, a16, own);
    memset(a16 + (size_t)M * Kp, 0, (rows6(M) - (size_t)M) * (size_t)Kp * sizeof(int16_t));
    const int16_t *B = Bp;
    for (int m = 0; m < M; m += 6) {
        int mr = M - m < 6 ? M - m : 6;
        const int16_t *a = a16 + (size_t)m * Kp;
        const int32_t *rs = rowsum ? rowsum + m : NULL;
        uint8_t *c = C + (size_t)m * ldc;
        int n = 0;
        for (; n + 8 < N; n += 16) {
            tile16_6(mr, N, Kp, a, (size_t)Kp, B, rs, ep, c, ldc, n);
        }
        if (n < N) tile8_r(mr, N, Kp, a, (size_t)Kp, B, rs, ep, c, ldc, n);
    }
}
