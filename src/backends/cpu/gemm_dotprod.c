/*
 * gemm_dotprod.c - quantized GEMM with the armv8.2 dot-product instructions (SDOT: 16 s8 x s8
 * products into 4 int32 per instruction; Cortex-A76/A55, Raspberry Pi 5), aarch64 only, compiled
 * with -march=armv8.2-a+dotprod (file suffix) and used only when isa.c finds HWCAP_ASIMDDP.
 *
 * Activations enter as x - 128 (x ^ 0x80), weights as packed (gemm.h "ARM variants": the caller
 * folds 128 * sum_k s_k into the bias). Register tile: 4 pixel rows x 16 output channels = 16
 * accumulators; per 16 bytes of k it loads 16 bytes of each row once and, for each of the 4
 * groups, the 4 weight vectors of the block, each used by 4 SDOT-by-lane (the lane picks the
 * row's 4-byte group). Remaining k groups broadcast the row's 4 bytes. The epilogue adds bias
 * and the row-sum correction and requantizes bit-exactly (requant_neon.h).
 *
 * Extend: a wider tile (8 rows, or 32 channels) is another tile function with the same epilogue.
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

#define MR 4

static inline int8x16_t load16_s(const uint8_t *p) {
    return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), vdupq_n_u8(0x80)));
}

static inline int8x16_t load4_s(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return vreinterpretq_s8_u32(vdupq_n_u32(v ^ 0x80808080u));
}

/* bias + delta * rowsum, requantize, narrow: the 16 channels n0.. of one row. */
static inline void finish16(int32x4_t c0, int32x4_t c1, int32x4_t c2, int32x4_t c3, int32_t rs,
                            const ev_gemm_epi *ep, int n0, int N, uint8_t *out) {
    int32x4_t v[4] = {c0, c1, c2, c3};
    for (int j = 0; j < 4; j++) {
        int32x4_t a = vaddq_s32(v[j], vld1q_s32(ep->bias + n0 + 4 * j));
        if (ep->delta) a = vmlaq_n_s32(a, vld1q_s32(ep->delta + n0 + 4 * j), rs);
        v[j] = ev_requant4_neon(a, ep, n0 + 4 * j);
    }
    ev_store_partial_neon(out + n0, ev_narrow16_neon(v[0], v[1], v[2], v[3]), N - n0);
}

#define SDOT_LANE(g)                                                                             \
    do {                                                                                         \
        const int8x16_t b0 = vld1q_s8(b + 64 * (g)), b1 = vld1q_s8(b + 64 * (g) + 16);          \
        const int8x16_t b2 = vld1q_s8(b + 64 * (g) + 32), b3 = vld1q_s8(b + 64 * (g) + 48);     \
        c00 = vdotq_laneq_s32(c00, b0, x0, g), c01 = vdotq_laneq_s32(c01, b1, x0, g);            \
        c02 = vdotq_laneq_s32(c02, b2, x0, g), c03 = vdotq_laneq_s32(c03, b3, x0, g);            \
        c10 = vdotq_laneq_s32(c10, b0, x1, g), c11 = vdotq_laneq_s32(c11, b1, x1, g);            \
        c12 = vdotq_laneq_s32(c12, b2, x1, g), c13 = vdotq_laneq_s32(c13, b3, x1, g);            \
        c20 = vdotq_laneq_s32(c20, b0, x2, g), c21 = vdotq_laneq_s32(c21, b1, x2, g);            \
        c22 = vdotq_laneq_s32(c22, b2, x2, g), c23 = vdotq_laneq_s32(c23, b3, x2, g);            \
        c30 = vdotq_laneq_s32(c30, b0, x3, g), c31 = vdotq_laneq_s32(c31, b1, x3, g);            \
        c32 = vdotq_laneq_s32(c32, b2, x3, g), c33 = vdotq_laneq_s32(c33, b3, x3, g);            \
    } while (0)

/* Rows m .. m + mr - 1 (mr <= MR; missing rows alias the last real one, computed, never
 * stored) x the 16 channels of block n0 / 16. */
static void tile(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                 const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc, int n0) {
    const uint8_t *a0 = A, *a1 = A + (size_t)(mr > 1 ? 1 : 0) * lda;
    const uint8_t *a2 = A + (size_t)(mr > 2 ? 2 : mr - 1) * lda;
    const uint8_t *a3 = A + (size_t)(mr > 3 ? 3 : mr - 1) * lda;
    const int32x4_t z = vdupq_n_s32(0);
    int32x4_t c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
    int32x4_t c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
    const int8_t *b = Bp + (size_t)(n0 / 16) * 16 * (size_t)Kp;
    int k = 0;
    for (; k + 16 <= Kp; k += 16, b += 256) {
        const int8x16_t x0 = load16_s(a0 + k), x1 = load16_s(a1 + k);
        const int8x16_t x2 = load16_s(a2 + k), x3 = load16_s(a3 + k);
        SDOT_LANE(0);
        SDOT_LANE(1);
        SDOT_LANE(2);
        SDOT_LANE(3);
    }
    for (; k < Kp; k += 4, b += 64) {
        const int8x16_t x0 = load4_s(a0 + k), x1 = load4_s(a1 + k);
        const int8x16_t x2 = load4_s(a2 + k), x3 = load4_s(a3 + k);
        const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
        const int8x16_t b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
        c00 = vdotq_s32(c00, b0, x0), c01 = vdotq_s32(c01, b1, x0);
        c02 = vdotq_s32(c02, b2, x0), c03 = vdotq_s32(c03, b3, x0);
        c10 = vdotq_s32(c10, b0, x1), c11 = vdotq_s32(c11, b1, x1);
        c12 = vdotq_s32(c12, b2, x1), c13 = vdotq_s32(c13, b3, x1);
        c20 = vdotq_s32(c20, b0, x2), c21 = vdotq_s32(c21, b1, x2);
        c22 = vdotq_s32(c22, b2, x2), c23 = vdotq_s32(c23, b3, x2);
        c30 = vdotq_s32(c30, b0, x3), c31 = vdotq_s32(c31, b1, x3);
        c32 = vdotq_s32(c32, b2, x3), c33 = vdotq_s32(c33, b3, x3);
    }
    const int32_t r0 = rowsum ? rowsum[0] : 0, r1 = rowsum && mr > 1 ? rowsum[1] : 0;
    const int32_t r2 = rowsum && mr > 2 ? rowsum[2] : 0, r3 = rowsum && mr > 3 ? rowsum[3] : 0;
    finish16(c00, c01, c02, c03, r0, ep, n0, N, C);
    if (mr > 1) finish16(c10, c11, c12, c13, r1, ep, n0, N, C + ldc);
    if (mr > 2) finish16(c20, c21, c22, c23, r2, ep, n0, N, C + 2 * ldc);
    if (mr > 3) finish16(c30, c31, c32, c33, r3, ep, n0, N, C + 3 * ldc);
}

void ev_gemm_dotprod(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 0);
    const int8_t *Bp = Bpv;
    /* Channel blocks outside, pixel rows inside: the block's 16 x Kp weight bytes stay in L1
     * while the caller's tile of rows is swept under it. */
    for (int n = 0; n < N; n += 16)
        for (int m = 0; m < M; m += MR) {
            int mr = M - m < MR ? M - m : MR;
            tile(mr, N, Kp, A + (size_t)m * lda, lda, Bp, rowsum ? rowsum + m : NULL, ep,
                 C + (size_t)m * ldc, ldc, n);
        }
}
