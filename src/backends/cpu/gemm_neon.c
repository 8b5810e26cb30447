/*
 * gemm_neon.c - quantized GEMM with plain NEON (aarch64 ASIMD, armv7 NEON: Cortex-A53/A72,
 * Raspberry Pi 3 and 4), for CPUs without the dot-product instructions. Compiled with -mfpu=neon
 * on armv7 (file suffix), used only when isa.c finds NEON.
 *
 * Activations enter as x - 128 (x ^ 0x80), weights as packed (gemm.h "ARM variants": the caller
 * folds 128 * sum_k s_k into the bias). For each k group a row's 4 bytes are broadcast to 8;
 * SMULL multiplies them with 8 weight bytes (2 channels x 4 k) into 8 exact int16 products
 * (|p| <= 128 * 128 = 2^14: two of them could overflow int16, so none are summed there); SADALP
 * adds adjacent pairs into int32 lanes, leaving per channel two partial sums (k0+k1, k2+k3) that
 * one pairwise add joins before the epilogue. Tile: MR rows x 16 channels (8 accumulators per
 * row: 2 rows on aarch64's 32 vector registers, 1 on armv7's 16).
 *
 * Extend: an int16 path (weights widened once, SMLAL by lane) would trade memory for fewer
 * instructions per product on in-order cores.
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

#define MR EV_GEMM_NEON_MR /* gemm.h: 2 on aarch64, 1 on armv7 */

static inline int8x8_t load4_s(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return vreinterpret_s8_u32(vdup_n_u32(v ^ 0x80808080u));
}

/* [c0 k01, c0 k23, c1 k01, c1 k23] and [c2 .., c3 ..] -> [c0, c1, c2, c3] */
static inline int32x4_t join(int32x4_t a, int32x4_t b) {
#if defined(__aarch64__)
    return vpaddq_s32(a, b);
#else
    return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)),
                        vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
#endif
}

static inline void finish16(const int32x4_t *p, int32_t rs, const ev_gemm_epi *ep, int n0, int N,
                            uint8_t *out) {
    int32x4_t v[4];
    for (int j = 0; j < 4; j++) {
        int32x4_t a = vaddq_s32(join(p[2 * j], p[2 * j + 1]), vld1q_s32(ep->bias + n0 + 4 * j));
        if (ep->delta) a = vmlaq_n_s32(a, vld1q_s32(ep->delta + n0 + 4 * j), rs);
        v[j] = ev_requant4_neon(a, ep, n0 + 4 * j);
    }
    ev_store_partial_neon(out + n0, ev_narrow16_neon(v[0], v[1], v[2], v[3]), N - n0);
}

#define MAC8(acc, x, b)                                                                          \
    do {                                                                                         \
        acc[0] = vpadalq_s16(acc[0], vmull_s8(x, vld1_s8(b)));                                   \
        acc[1] = vpadalq_s16(acc[1], vmull_s8(x, vld1_s8(b + 8)));                               \
        acc[2] = vpadalq_s16(acc[2], vmull_s8(x, vld1_s8(b + 16)));                              \
        acc[3] = vpadalq_s16(acc[3], vmull_s8(x, vld1_s8(b + 24)));                              \
        acc[4] = vpadalq_s16(acc[4], vmull_s8(x, vld1_s8(b + 32)));                              \
        acc[5] = vpadalq_s16(acc[5], vmull_s8(x, vld1_s8(b + 40)));                              \
        acc[6] = vpadalq_s16(acc[6], vmull_s8(x, vld1_s8(b + 48)));                              \
        acc[7] = vpadalq_s16(acc[7], vmull_s8(x, vld1_s8(b + 56)));                              \
    } while (0)

static void tile(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                 const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc, int n0) {
    const int8_t *b = Bp + (size_t)(n0 / 16) * 16 * (size_t)Kp;
    int32x4_t c0[8];
    for (int j = 0; j < 8; j++) c0[j] = vdupq_n_s32(0);
#if MR > 1
    int32x4_t c1[8];
    for (int j = 0; j < 8; j++) c1[j] = vdupq_n_s32(0);
    const uint8_t *a0 = A, *a1 = A + (size_t)(mr > 1 ? 1 : 0) * lda;
    for (int k = 0; k < Kp; k += 4, b += 64) {
        const int8x8_t x0 = load4_s(a0 + k), x1 = load4_s(a1 + k);
        MAC8(c0, x0, b);
        MAC8(c1, x1, b);
    }
#else
    (void)lda;
    for (int k = 0; k < Kp; k += 4, b += 64) {
        const int8x8_t x0 = load4_s(A + k);
        MAC8(c0, x0, b);
    }
#endif
    finish16(c0, rowsum ? rowsum[0] : 0, ep, n0, N, C);
#if MR > 1
    if (mr > 1) finish16(c1, rowsum ? rowsum[1] : 0, ep, n0, N, C + ldc);
#else
    (void)mr, (void)ldc;
#endif
}

void ev_gemm_neon(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 0);
    const int8_t *Bp = Bpv;
    for (int n = 0; n < N; n += 16)
        for (int m = 0; m < M; m += MR) {
            int mr = M - m < MR ? M - m : MR;
            tile(mr, N, Kp, A + (size_t)m * lda, lda, Bp, rowsum ? rowsum + m : NULL, ep,
                 C + (size_t)m * ldc, ldc, n);
        }
}
