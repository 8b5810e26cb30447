/*
 * gemm_avx2.c - quantized GEMM for AVX2 CPUs without AVX-512 VNNI (also used on AVX-512 CPUs
 * without VNNI). vpmaddubsw would saturate (255 * 127 * 2 > 32767), so activations are widened to
 * int16 (here, into the per-thread scratch its config line asks for: ev_gemm_avx2_scratch) and
 * weights packed as int16 pairs (ev_gemm_pack16, its config line's pack function); vpmaddwd then
 * yields exact int32 sums of two products. The byte groups past K meet zero weights, so widening
 * whole Kp rows is exact. Tile: 4 rows x 16 channels (8 ymm accumulators). The epilogue
 * (bias, delta * row sum, requantization, packing) is vectorized, 8 channels per vector, by
 * requant_avx2.h (bit-exact; its opening comment has the proof); the epilogue tables are padded
 * to a multiple of 16 channels, so the loads past N read zeros and only stores are cut at N.
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

#define DOT2(i)                                                                                  \
    do {                                                                                         \
        __m256i a_ = _mm256_set1_epi32(load4(a##i + k));                                         \
        c##i##0 = _mm256_add_epi32(c##i##0, _mm256_madd_epi16(a_, b0));                          \
        c##i##1 = _mm256_add_epi32(c##i##1, _mm256_madd_epi16(a_, b1));                          \
    } while (0)

#define FIN2(i)                                                                                  \
    do {                                                                                         \
        if (i < mr) {                                                                            \
            __m256i rs_ = _mm256_set1_epi32(rowsum ? rowsum[i] : 0);                             \
            __m256i r0_ = ev_gemm_finish8_avx2(c##i##0, rs_, ep, &q0, n0);                       \
            __m256i r1_ = ev_gemm_finish8_avx2(c##i##1, rs_, ep, &q1, n0 + 8);                   \
            ev_gemm_store16_avx2(r0_, r1_, n0, N, C + (size_t)(i) * ldc);                        \
        }                                                                                        \
    } while (0)

/* 4 rows x 16 channels starting at n0 (the second 8 may be past N: zero weights, not stored). */
static void tile(int mr, int N, int Kp, const int16_t *A, size_t lda, const int16_t *B,
                 const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc, int n0) {
    const int16_t *a0 = A, *a1 = A + (mr > 1 ? 1 : 0) * lda, *a2 = A + (mr > 2 ? 2 : mr - 1) * lda;
    const int16_t *a3 = A + (mr > 3 ? 3 : mr - 1) * lda;
    const size_t bs = (size_t)8 * Kp; /* int16 per block of 8 channels */
    const int16_t *bA = B + (size_t)(n0 / 8) * bs;
    const int16_t *bB = (n0 + 8 < N) ? bA + bs : bA; /* past N: reuse block A, not stored */
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
            c30 = c00, c31 = c00;
    for (int k = 0; k < Kp; k += 2) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(bA + (size_t)k * 8));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(bB + (size_t)k * 8));
        DOT2(0);
        DOT2(1);
        DOT2(2);
        DOT2(3);
    }
    const ev_rq_avx2 q0 = ev_rq_avx2_load(ep, n0), q1 = ev_rq_avx2_load(ep, n0 + 8);
    FIN2(0);
    FIN2(1);
    FIN2(2);
    FIN2(3);
}

size_t ev_gemm_avx2_scratch(int M, int Kp) { return (size_t)M * (size_t)Kp * sizeof(int16_t); }

/* Rows of A widened to int16, Kp values each (Kp % 4 == 0). */
static void widen(int M, int Kp, const uint8_t *A, size_t lda, int16_t *out) {
    for (int m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        int16_t *o = out + (size_t)m * Kp;
        int k = 0;
        for (; k + 16 <= Kp; k += 16)
            _mm256_storeu_si256((__m256i *)(o + k),
                                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + k))));
        for (; k < Kp; k++) o[k] = a[k];
    }
}

void ev_gemm_avx2(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bp,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch) {
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bp, rowsum, ep, C, ldc, 0);
    EV_CPU_ASSERT(scratch && ((uintptr_t)scratch & 31) == 0);
    int16_t *a16 = scratch;
    widen(M, Kp, A, lda, a16);
    const int16_t *B = Bp;
    for (int m = 0; m < M; m += 4) {
        int mr = M - m < 4 ? M - m : 4;
        for (int n = 0; n < N; n += 16)
            tile(mr, N, Kp, a16 + (size_t)m * Kp, (size_t)Kp, B, rowsum ? rowsum + m : NULL, ep,
                 C + (size_t)m * ldc, ldc, n);
    }
}
