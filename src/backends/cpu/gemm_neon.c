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
 * row: 2 rows on aarch64's 32 vector registers, 1 on armv7's 16). On aarch64 the k loop is inline
 * assembly (kloop2: accumulators v16..v31, per 16 k one load per row and DUP broadcasts, weights
 * as 16-byte loads for SMULL + SMULL2, 16 SMULL + 16 SADALP per k group, near the Cortex-A72
 * model's multiply-pipe limit of 8 products a cycle); armv7 keeps intrinsics.
 * The epilogue requantizes the whole tile stage by stage (requant_neon.h, ev_rq16_rows).
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

#if defined(__aarch64__)
/* One weight pair j (channels 2j, 2j + 1: d register v(2 + j)) times both rows (v0, v1) into
 * accumulators v(16 + j) (row 0) and v(24 + j) (row 1), through two product registers. */
#define PAIR(j, t0, t1, b, c0, c1)                                                               \
    "smull " t0 ".8h, v0.8b, " b ".8b\n\t"                                                       \
    "smull " t1 ".8h, v1.8b, " b ".8b\n\t"                                                       \
    "sadalp " c0 ".4s, " t0 ".8h\n\t"                                                            \
    "sadalp " c1 ".4s, " t1 ".8h\n\t"

/* One 16-byte weight vector w (channels 4j .. 4j + 3 of one k group: pair 2j in its low 8 bytes,
 * pair 2j + 1 in its high 8) times both rows' broadcast 4 bytes (v2, v3): SMULL for the low
 * pair, SMULL2 for the high one, into accumulators r0lo, r0hi (row 0) and r1lo, r1hi (row 1). */
#define QUAD(t0, t1, t2, t3, w, r0lo, r0hi, r1lo, r1hi)                                            \
    "smull " #t0 ".8h, v2.8b, " #w ".8b\n\t"                                                     \
    "smull " #t1 ".8h, v3.8b, " #w ".8b\n\t"                                                     \
    "smull2 " #t2 ".8h, v2.16b, " #w ".16b\n\t"                                                  \
    "smull2 " #t3 ".8h, v3.16b, " #w ".16b\n\t"                                                  \
    "sadalp v" #r0lo ".4s, " #t0 ".8h\n\t"                                                       \
    "sadalp v" #r1lo ".4s, " #t1 ".8h\n\t"                                                       \
    "sadalp v" #r0hi ".4s, " #t2 ".8h\n\t"                                                       \
    "sadalp v" #r1hi ".4s, " #t3 ".8h\n\t"
/* One 4-k group of the 16-k step: the rows' byte pair `lane` (of v0, v1) broadcast, the four
 * 16-byte weight vectors at byte offsets o0..o3 from %[b], four QUADs. */
#define GROUP(lane, o0, o1, o2, o3)                                                               \
    "dup v2.4s, v0.s[" lane "]\n\t"                                                             \
    "dup v3.4s, v1.s[" lane "]\n\t"                                                             \
    "ldr q4, [%[b], #" o0 "]\n\t"                                                               \
    "ldr q5, [%[b], #" o1 "]\n\t"                                                               \
    "ldr q6, [%[b], #" o2 "]\n\t"                                                               \
    "ldr q7, [%[b], #" o3 "]\n\t"                                                               \
    QUAD(v8, v9, v11, v12, v4, 16, 17, 24, 25)                                                   \
    QUAD(v13, v14, v15, v12, v5, 18, 19, 26, 27)                                                 \
    QUAD(v8, v9, v11, v12, v6, 20, 21, 28, 29)                                                   \
    QUAD(v13, v14, v15, v12, v7, 22, 23, 30, 31)

/* The k loop of a 2-row tile in assembly (the compiler's allocation of the same intrinsics kept
 * one accumulator on the stack, a load-add-store chain through memory every k group): 16
 * accumulators v16..v31, left in registers (register variables) as acc[16] (row r, pair j at
 * acc[8 r + j]). Per 16 k: each
 * row's 16 bytes loaded once (LDR Q, one EOR) and each group's 4 bytes broadcast by DUP from
 * the register; each group's 64 weight bytes as four LDR Q with immediate offsets, each used by
 * SMULL (its low channel pair) and SMULL2 (its high pair): 18 instructions fewer per 16 k than
 * one LD1R per row and one LDP D per pair of pairs, for a core that issues 3 a cycle (the
 * Cortex-A72 model: 17.3 model cycles per k group against 18.4). Leftover groups (Kp % 16) go
 * one at a time with LD1R. */
static inline __attribute__((always_inline)) void kloop2(int Kp, const uint8_t *a0,
                                                          const uint8_t *a1, const int8_t *b,
                                                          int32x4_t *acc) {
    long blocks = Kp / 16, groups = (Kp % 16) / 4;
    register int32x4_t c0 __asm__("v16"), c1 __asm__("v17"), c2 __asm__("v18"),
        c3 __asm__("v19"), c4 __asm__("v20"), c5 __asm__("v21"), c6 __asm__("v22"),
        c7 __asm__("v23"), c8 __asm__("v24"), c9 __asm__("v25"), c10 __asm__("v26"),
        c11 __asm__("v27"), c12 __asm__("v28"), c13 __asm__("v29"), c14 __asm__("v30"),
        c15 __asm__("v31");
    __asm__ volatile("movi v16.4s, #0\n\t"
                     "movi v17.4s, #0\n\t"
                     "movi v18.4s, #0\n\t"
                     "movi v19.4s, #0\n\t"
                     "movi v20.4s, #0\n\t"
                     "movi v21.4s, #0\n\t"
                     "movi v22.4s, #0\n\t"
                     "movi v23.4s, #0\n\t"
                     "movi v24.4s, #0\n\t"
                     "movi v25.4s, #0\n\t"
                     "movi v26.4s, #0\n\t"
                     "movi v27.4s, #0\n\t"
                     "movi v28.4s, #0\n\t"
                     "movi v29.4s, #0\n\t"
                     "movi v30.4s, #0\n\t"
                     "movi v31.4s, #0\n\t"
                     "movi v10.16b, #0x80\n\t"
                     "cbz %[n], 3f\n\t"
                     /* the loop inside one 2^10-byte line: never across a page */
                     "b 1f\n\t"
                     ".p2align 10\n\t"
                     "1:\n\t"
                     "ldr q0, [%[a0]], #16\n\t"
                     "ldr q1, [%[a1]], #16\n\t"
                     "eor v0.16b, v0.16b, v10.16b\n\t"
                     "eor v1.16b, v1.16b, v10.16b\n\t"
                     GROUP("0", "0", "16", "32", "48")
                     GROUP("1", "64", "80", "96", "112")
                     GROUP("2", "128", "144", "160", "176")
                     GROUP("3", "192", "208", "224", "240")
                     "add %[b], %[b], #256\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "b.ne 1b\n\t"
                     "3:\n\t"
                     "cbz %[g], 4f\n\t"
                     "2:\n\t"
                     "ld1r {v0.2s}, [%[a0]], #4\n\t"
                     "ld1r {v1.2s}, [%[a1]], #4\n\t"
                     "ldp d2, d3, [%[b]], #16\n\t"
                     "ldp d4, d5, [%[b]], #16\n\t"
                     "ldp d6, d7, [%[b]], #16\n\t"
                     "ldp d8, d9, [%[b]], #16\n\t"
                     "eor v0.8b, v0.8b, v10.8b\n\t"
                     "eor v1.8b, v1.8b, v10.8b\n\t"
                     PAIR(0, "v11", "v12", "v2", "v16", "v24")
                     PAIR(1, "v13", "v14", "v3", "v17", "v25")
                     PAIR(2, "v11", "v12", "v4", "v18", "v26")
                     PAIR(3, "v13", "v14", "v5", "v19", "v27")
                     PAIR(4, "v11", "v12", "v6", "v20", "v28")
                     PAIR(5, "v13", "v14", "v7", "v21", "v29")
                     PAIR(6, "v11", "v12", "v8", "v22", "v30")
                     PAIR(7, "v13", "v14", "v9", "v23", "v31")
                     "subs %[g], %[g], #1\n\t"
                     "b.ne 2b\n\t"
                     "4:\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(blocks),
                       [g] "+r"(groups), "=&w"(c0), "=&w"(c1), "=&w"(c2), "=&w"(c3), "=&w"(c4),
                       "=&w"(c5), "=&w"(c6), "=&w"(c7), "=&w"(c8), "=&w"(c9), "=&w"(c10),
                       "=&w"(c11), "=&w"(c12), "=&w"(c13), "=&w"(c14), "=&w"(c15)
                     :
                     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
                       "v12", "v13", "v14", "v15", "memory", "cc");
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5;
    acc[6] = c6, acc[7] = c7, acc[8] = c8, acc[9] = c9, acc[10] = c10, acc[11] = c11;
    acc[12] = c12, acc[13] = c13, acc[14] = c14, acc[15] = c15;
}
#endif

/* Rows m .. m + mr - 1 (missing rows alias the last real one, computed, never stored) x the 16
 * channels of block n0 / 16, requantized as one tile (requant_neon.h, ev_rq16_rows). */
static inline __attribute__((always_inline)) void
tile(int mr, int N, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, const int32_t *rowsum,
     const ev_gemm_epi *ep, const ev_rq16 *q, uint8_t *C, size_t ldc, int n0) {
    const int8_t *b = Bp + (size_t)(n0 / 16) * 16 * (size_t)Kp;
    int32x4_t v[4 * MR];
#if MR > 1
    int32x4_t acc[16]; /* row r, pair j: acc[8 r + j] */
    kloop2(Kp, A, A + (size_t)(mr > 1 ? 1 : 0) * lda, b, acc);
    EV_RQ_UNROLL
    for (int i = 0; i < 4 * MR; i++) v[i] = join(acc[2 * i], acc[2 * i + 1]);
#else
    (void)lda;
    int32x4_t c0[8];
    for (int j = 0; j < 8; j++) c0[j] = vdupq_n_s32(0);
    for (int k = 0; k < Kp; k += 4, b += 64) {
        const int8x8_t x0 = load4_s(A + k);
        MAC8(c0, x0, b);
    }
    for (int j = 0; j < 4; j++) v[j] = join(c0[2 * j], c0[2 * j + 1]);
#endif
    EV_RQ_UNROLL
    for (int i = 0; i < 4 * MR; i++) v[i] = vaddq_s32(v[i], vld1q_s32(ep->bias + n0 + 4 * (i & 3)));
    if (ep->delta && rowsum) {
        EV_RQ_UNROLL
        for (int i = 0; i < 4 * MR; i++)
            v[i] = vmlaq_n_s32(v[i], vld1q_s32(ep->delta + n0 + 4 * (i & 3)),
                               rowsum[(i >> 2) < mr ? (i >> 2) : mr - 1]);
    }
    ev_rq16_rows(v, MR, q, C + n0, ldc, N - n0, mr);
}

void ev_gemm_neon(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 0);
    const int8_t *Bp = Bpv;
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
