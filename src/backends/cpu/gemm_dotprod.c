/*
 * gemm_dotprod.c - quantized GEMM with the armv8.2 dot-product instructions (SDOT: 16 s8 x s8
 * products into 4 int32 per instruction; Cortex-A76/A55, Raspberry Pi 5), aarch64 only, compiled
 * with -march=armv8.2-a+dotprod (file suffix) and used only when isa.c finds HWCAP_ASIMDDP.
 *
 * Activations enter as x - 128 (x ^ 0x80), weights as packed (gemm.h "ARM variants": the caller
 * folds 128 * sum_k s_k into the bias). Register tile: 4 pixel rows x 16 output channels = 16
 * accumulators, started at the bias; per 16 bytes of k the main loop (inline assembly, so the
 * compiler neither spills accumulators nor hoists the 16 weight loads) loads 16 bytes of each row
 * once and, for each of the 4 groups, the 4 weight vectors of the block, each used by 4
 * SDOT-by-lane (the lane picks the row's 4-byte group): 64 SDOT, 4 EOR, 12 loads. Remaining k
 * groups broadcast the row's 4 bytes. The epilogue adds the row-sum correction when there is one
 * and requantizes the whole tile stage by stage (requant_neon.h, ev_rq16_rows), bit-exactly.
 *
 * Extend: another tile is another tile function with the same epilogue and its config line.
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

#define MR 4

static inline int8x16_t load4_s(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return vreinterpretq_s8_u32(vdupq_n_u32(v ^ 0x80808080u));
}

/* One group g (4 k) of the 16 bytes in v0..v3 (rows 0..3) against weights v4..v7; the tile's
 * accumulators are v16..v31 (row r, channels 4j..: v(16 + 4r + j)). */
#define DOT_GROUP(g)                                                                             \
    "ldp q4, q5, [%[b]], #32\n\t"                                                                \
    "ldp q6, q7, [%[b]], #32\n\t"                                                                \
    "sdot v16.4s, v4.16b, v0.4b[" #g "]\n\t"                                                     \
    "sdot v17.4s, v5.16b, v0.4b[" #g "]\n\t"                                                     \
    "sdot v18.4s, v6.16b, v0.4b[" #g "]\n\t"                                                     \
    "sdot v19.4s, v7.16b, v0.4b[" #g "]\n\t"                                                     \
    "sdot v20.4s, v4.16b, v1.4b[" #g "]\n\t"                                                     \
    "sdot v21.4s, v5.16b, v1.4b[" #g "]\n\t"                                                     \
    "sdot v22.4s, v6.16b, v1.4b[" #g "]\n\t"                                                     \
    "sdot v23.4s, v7.16b, v1.4b[" #g "]\n\t"                                                     \
    "sdot v24.4s, v4.16b, v2.4b[" #g "]\n\t"                                                     \
    "sdot v25.4s, v5.16b, v2.4b[" #g "]\n\t"                                                     \
    "sdot v26.4s, v6.16b, v2.4b[" #g "]\n\t"                                                     \
    "sdot v27.4s, v7.16b, v2.4b[" #g "]\n\t"                                                     \
    "sdot v28.4s, v4.16b, v3.4b[" #g "]\n\t"                                                     \
    "sdot v29.4s, v5.16b, v3.4b[" #g "]\n\t"                                                     \
    "sdot v30.4s, v6.16b, v3.4b[" #g "]\n\t"                                                     \
    "sdot v31.4s, v7.16b, v3.4b[" #g "]\n\t"

/* Rows m .. m + mr - 1 (mr <= MR; missing rows alias the last real one, computed, never
 * stored) x the 16 channels of block n0 / 16. */
static inline __attribute__((always_inline)) void
tile(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, const int32_t *rowsum,
     const ev_gemm_epi *ep, const ev_rq16 *q, uint8_t *C, size_t ldc, int n0) {
    const uint8_t *a0 = A, *a1 = A + (size_t)(mr > 1 ? 1 : 0) * lda;
    const uint8_t *a2 = A + (size_t)(mr > 2 ? 2 : mr - 1) * lda;
    const uint8_t *a3 = A + (size_t)(mr > 3 ? 3 : mr - 1) * lda;
    const int8_t *b = Bp + (size_t)(n0 / 16) * 16 * (size_t)Kp;
    const int32_t *bias = ep->bias + n0;
    /* The main loop in assembly: 25 vector registers in use, which the compiler's allocation of
     * the same intrinsics spilled. Accumulators start at the bias and leave in v16..v31 (register
     * variables: no round trip through memory before the epilogue). */
    long steps = Kp / 16;
    register int32x4_t c0 __asm__("v16"), c1 __asm__("v17"), c2 __asm__("v18"),
        c3 __asm__("v19"), c4 __asm__("v20"), c5 __asm__("v21"), c6 __asm__("v22"),
        c7 __asm__("v23"), c8 __asm__("v24"), c9 __asm__("v25"), c10 __asm__("v26"),
        c11 __asm__("v27"), c12 __asm__("v28"), c13 __asm__("v29"), c14 __asm__("v30"),
        c15 __asm__("v31");
    __asm__ volatile("ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[bias]]\n\t"
                     "mov v20.16b, v16.16b\n\t"
                     "mov v21.16b, v17.16b\n\t"
                     "mov v22.16b, v18.16b\n\t"
                     "mov v23.16b, v19.16b\n\t"
                     "mov v24.16b, v16.16b\n\t"
                     "mov v25.16b, v17.16b\n\t"
                     "mov v26.16b, v18.16b\n\t"
                     "mov v27.16b, v19.16b\n\t"
                     "mov v28.16b, v16.16b\n\t"
                     "mov v29.16b, v17.16b\n\t"
                     "mov v30.16b, v18.16b\n\t"
                     "mov v31.16b, v19.16b\n\t"
                     "cbz %[n], 2f\n\t"
                     "movi v8.16b, #0x80\n\t"
                     /* the loop inside one 2^9-byte line: never across a page */
                     "b 1f\n\t"
                     ".p2align 9\n\t"
                     "1:\n\t"
                     "ldr q0, [%[a0]], #16\n\t"
                     "ldr q1, [%[a1]], #16\n\t"
                     "ldr q2, [%[a2]], #16\n\t"
                     "ldr q3, [%[a3]], #16\n\t"
                     "eor v0.16b, v0.16b, v8.16b\n\t"
                     "eor v1.16b, v1.16b, v8.16b\n\t"
                     "eor v2.16b, v2.16b, v8.16b\n\t"
                     "eor v3.16b, v3.16b, v8.16b\n\t"
                     DOT_GROUP(0) DOT_GROUP(1) DOT_GROUP(2) DOT_GROUP(3)
                     "subs %[n], %[n], #1\n\t"
                     "b.ne 1b\n\t"
                     "2:\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [b] "+r"(b),
                       [n] "+r"(steps), "=&w"(c0), "=&w"(c1), "=&w"(c2), "=&w"(c3), "=&w"(c4),
                       "=&w"(c5), "=&w"(c6), "=&w"(c7), "=&w"(c8), "=&w"(c9), "=&w"(c10),
                       "=&w"(c11), "=&w"(c12), "=&w"(c13), "=&w"(c14), "=&w"(c15)
                     : [bias] "r"(bias)
                     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "memory", "cc");
    int32x4_t v[16] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15};
    for (int k = Kp & ~15; k < Kp; k += 4, a0 += 4, a1 += 4, a2 += 4, a3 += 4, b += 64) {
        const int8x16_t x[4] = {load4_s(a0), load4_s(a1), load4_s(a2), load4_s(a3)};
        const int8x16_t w[4] = {vld1q_s8(b), vld1q_s8(b + 16), vld1q_s8(b + 32),
                                vld1q_s8(b + 48)};
        EV_RQ_UNROLL
        for (int i = 0; i < 16; i++) v[i] = vdotq_s32(v[i], w[i & 3], x[i >> 2]);
    }
    if (ep->delta && rowsum) {
        const int32x4_t d[4] = {vld1q_s32(ep->delta + n0), vld1q_s32(ep->delta + n0 + 4),
                                vld1q_s32(ep->delta + n0 + 8), vld1q_s32(ep->delta + n0 + 12)};
        const int32_t rs[4] = {rowsum[0], rowsum[mr > 1 ? 1 : 0], rowsum[mr > 2 ? 2 : mr - 1],
                               rowsum[mr > 3 ? 3 : mr - 1]};
        EV_RQ_UNROLL
        for (int i = 0; i < 16; i++) v[i] = vmlaq_n_s32(v[i], d[i & 3], rs[i >> 2]);
    }
    ev_rq16_rows(v, MR, q, C + n0, ldc, N - n0, mr);
}

void ev_gemm_dotprod(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 0);
    const int8_t *Bp = Bpv;
    /* Channel blocks outside, pixel rows inside: the block's 16 x Kp weight bytes stay in L1
     * while the caller's tile of rows is swept under it; its requantization constants too. */
    for (int n = 0; n < N; n += 16) {
        ev_rq16 q;
        ev_rq16_load(&q, ep, n, N - n);
        for (int m = 0; m < M; m += MR) {
            int mr = M - m < MR ? M - m : MR;
            tile(mr, N, Kp, A + (size_t)m * lda, lda, Bp, rowsum ? rowsum + m : NULL, ep, &q,
                 C + (size_t)m * ldc, ldc, n);
        }
    }
}
