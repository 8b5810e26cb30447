/*
 * gemm_vnni.c - quantized GEMM with AVX-512 VNNI (vpdpbusd: 64 u8 x s8 products into 16 int32
 * per instruction), compiled with -mavx512vnni (file suffix) and used only when isa.c says so.
 *
 * Register tile: up to 6 pixels x 64 output channels = 24 zmm accumulators; per group of 4 k it
 * loads 4 weight vectors and broadcasts one 32-bit group of each pixel row. The epilogue
 * requantizes 16 channels at a time, bit-exactly with TFLite (see requant16).
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_avx512.h"

#include <immintrin.h>
#include <string.h>

#define MR 6 /* rows per register tile; 64 channels (4 zmm) per column block */

static inline int32_t load4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Epilogue of one accumulator vector: bias, row-sum correction, requantize, store 16 bytes. */
static inline void finish(__m512i acc, int32_t rowsum, const ev_gemm_epi *ep, int n, int N,
                          uint8_t *c) {
    __m512i v = _mm512_add_epi32(acc, _mm512_loadu_si512(ep->bias + n));
    if (ep->delta)
        v = _mm512_add_epi32(v, _mm512_mullo_epi32(_mm512_loadu_si512(ep->delta + n),
                                                   _mm512_set1_epi32(rowsum)));
    v = requant16(v, ep, n);
    int left = N - n;
    __mmask16 st = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    _mm512_mask_cvtepi32_storeu_epi8(c + n, st, v);
}

/* 6 pixel rows x (16 * NV) channels, accumulators named c<row><vector> so they stay in
 * registers. Rows past `mr` alias the last real row (computed, never stored). */
#define DOT(i)                                                                                   \
    do {                                                                                         \
        __m512i a_ = _mm512_set1_epi32(load4(a##i + k));                                         \
        if (RS) r##i = _mm512_dpbusd_epi32(r##i, a_, ones);                                      \
        c##i##0 = _mm512_dpbusd_epi32(c##i##0, a_, b0);                                          \
        if (NV > 1) c##i##1 = _mm512_dpbusd_epi32(c##i##1, a_, b1);                              \
        if (NV > 2) c##i##2 = _mm512_dpbusd_epi32(c##i##2, a_, b2);                              \
        if (NV > 3) c##i##3 = _mm512_dpbusd_epi32(c##i##3, a_, b3);                              \
    } while (0)

#define FIN(i)                                                                                   \
    do {                                                                                         \
        if (i < mr) {                                                                            \
            int32_t r_ = RS ? _mm512_cvtsi512_si32(r##i) : rowsum ? rowsum[i] : 0;              \
            uint8_t *o_ = C + (size_t)(i) * ldc;                                                 \
            finish(c##i##0, r_, ep, n0, N, o_);                                                  \
            if (NV > 1) finish(c##i##1, r_, ep, n0 + 16, N, o_);                                 \
            if (NV > 2) finish(c##i##2, r_, ep, n0 + 32, N, o_);                                 \
            if (NV > 3) finish(c##i##3, r_, ep, n0 + 48, N, o_);                                 \
        }                                                                                        \
    } while (0)

#define DEFINE_TILE(NVA, RSA)                                                                    \
    static void tile_##NVA##_##RSA(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, \
                          const int32_t *rowsum, const ev_gemm_epi *epp, uint8_t *C, size_t ldc, \
                          int n0) {                                                              \
        enum { NV = NVA, RS = RSA }; /* RS: row sums computed here (dot with ones) */            \
        const ev_gemm_epi epl = *epp, *ep = &epl; /* not reloaded after each (aliasing) store */ \
        const __m512i ones = _mm512_set1_epi8(1);                                                \
        __m512i r0 = _mm512_setzero_si512(), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0;       \
        (void)ones;                                                                              \
        const uint8_t *a0 = A, *a1 = A + (mr > 1 ? 1 : 0) * lda, *a2 = A + (mr > 2 ? 2 : mr - 1) * lda; \
        const uint8_t *a3 = A + (mr > 3 ? 3 : mr - 1) * lda, *a4 = A + (mr > 4 ? 4 : mr - 1) * lda; \
        const uint8_t *a5 = A + (mr > 5 ? 5 : mr - 1) * lda;                                     \
        const __m512i z = _mm512_setzero_si512();                                                \
        __m512i c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;          \
        __m512i c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;          \
        __m512i c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;          \
        const size_t bs = (size_t)16 * Kp;                                                       \
        const int8_t *b = Bp + (size_t)(n0 / 16) * bs;                                           \
        for (int k = 0; k < Kp; k += 4, b += 64) {                                               \
            __m512i b0 = _mm512_loadu_si512(b), b1 = z, b2 = z, b3 = z;                          \
            if (NV > 1) b1 = _mm512_loadu_si512(b + bs);                                         \
            if (NV > 2) b2 = _mm512_loadu_si512(b + 2 * bs);                                     \
            if (NV > 3) b3 = _mm512_loadu_si512(b + 3 * bs);                                     \
            DOT(0); DOT(1); DOT(2); DOT(3); DOT(4); DOT(5);                                      \
        }                                                                                        \
        FIN(0); FIN(1); FIN(2); FIN(3); FIN(4); FIN(5);                                          \
    }

DEFINE_TILE(1, 0)
DEFINE_TILE(2, 0)
DEFINE_TILE(3, 0)
DEFINE_TILE(4, 0)
DEFINE_TILE(1, 1)
DEFINE_TILE(2, 1)
DEFINE_TILE(3, 1)
DEFINE_TILE(4, 1)

static void col_block(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                      const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                      int m, int n) {
    const uint8_t *a = A + (size_t)m * lda;
    const int32_t *rs = rowsum ? rowsum + m : NULL;
    uint8_t *c = C + (size_t)m * ldc;
    /* Row sums are needed when some channel has a zero-point correction (ep->delta); given
     * none, the kernel computes them (bytes past K are zero in im2col rows; direct rows whose
     * last group runs into the next pixel get their sums from the caller). */
    int own = ep->delta && !rs;
    int nv = (N - n + 15) / 16;
    if (own) {
        if (nv >= 4) tile_4_1(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
        else if (nv == 3) tile_3_1(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
        else if (nv == 2) tile_2_1(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
        else tile_1_1(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
    } else {
        if (nv >= 4) tile_4_0(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
        else if (nv == 3) tile_3_0(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
        else if (nv == 2) tile_2_0(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
        else tile_1_0(mr, N, Kp, a, lda, Bp, rs, ep, c, ldc, n);
    }
}

void ev_gemm_vnni(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 1);
    const int8_t *Bp = Bpv;
    /* Channel blocks outside, pixel rows inside: a 64-channel slice of B (64 x Kp bytes) stays
     * in L1 while the caller's tile of rows (M <= 48 rows of Kp bytes) is swept under it. */
    for (int n = 0; n < N; n += 64) {
        int m = 0;
        for (; m + MR <= M; m += MR) col_block(MR, N, Kp, A, lda, Bp, rowsum, ep, C, ldc, m, n);
        if (m < M) col_block(M - m, N, Kp, A, lda, Bp, rowsum, ep, C, ldc, m, n);
    }
}

/* The epilogue's requantization on its own (16 channels from n0), for tests/test_kernels.c's
 * check of requant_avx512.h against core/quant.h on extreme accumulators and shifts. */
void ev_requant16_avx512(const int32_t *acc, const ev_gemm_epi *ep, int n0, int32_t *out) {
    _mm512_storeu_si512(out, requant16(_mm512_loadu_si512(acc), ep, n0));
}
