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
 * row: 2 rows on aarch64's 32 vector registers, 1 on armv7's 16). On aarch64 the k loops are
 * inline assembly with the accumulators in v16..v31:
 *  - kloop2p (blocks of 16 channels with no channel whose weights at k and k + 4 are both -128:
 *    ev_gemm_neon_pack's per-block flag):
 *    SMULL of one k group and SMLAL of the next into the same int16 lanes (two products,
 *    |sum| < 2^15 unless both weights are -128), one SADALP per two groups, from accumulators
 *    loaded with the bias. The Cortex-A72 model issues SMULL / SMLAL on one vector pipe only
 *    and SADALP on the other only: this loop sits at the multiply pipe's 8 products a cycle
 *    (16.05 model cycles per 4-k group of 2 x 16, where kloop2 took 17.6);
 *  - kloop2 (other blocks): SMULL + SADALP per group.
 * Epilogues: per-tensor uint8 blocks with one right shift e (the `fast` ev_rq16, PoseNet's
 * layers) run all their whole 2 x 16 tiles in rows_fast, one copy per e (SQRSHRN takes e as an
 * immediate) and per (row-sum term, leftover 4-k group, zero point 0) combination in use
 * (k_rows), each aligned so that no block crosses a page: a tile is its start with the first
 * 8-k step (one block), the loop, and its epilogue with the loop test (one block). Zero-point-0
 * blocks drop the rounding fixup (exact: see fast_epi) and, without a row-sum term, run the
 * whole tile in one asm (tile_z). The row-sum term delta[n] * rowsum[m], where delta is 0 or one
 * d per block, is (rowsum d) & mask: MLA by element would take the multiply pipe 2 cycles per
 * 4 lanes. A layer's last block of exactly 8 channels (PoseNet's first layer, 24) takes 2 x 8
 * tiles (rows8); other partial blocks rows_part; everything else the general tile
 * (ev_rq16_rows, stage by stage). Row sums, when the caller gives none (EV_GEMM_OWN_ROWSUMS),
 * are summed here with UADALP, 4 rows at a time.
 *
 * Extend: an int16 path (weights widened once, SMLAL by lane) would trade memory for fewer
 * instructions per product on in-order cores; armv7 could take kloop2p's pairing in intrinsics.
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

#define MR EV_GEMM_NEON_MR /* gemm.h: 2 on aarch64, 1 on armv7 */
#define ROWSUM_CHUNK 64   /* rows per pass when given no row sums (a stack array) */

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

/* Pairwise sums of a then b: [a0 + a1, a2 + a3, b0 + b1, b2 + b3]. */
static inline uint32x4_t join_u32(uint32x4_t a, uint32x4_t b) {
#if defined(__aarch64__)
    return vpaddq_u32(a, b);
#else
    return vcombine_u32(vpadd_u32(vget_low_u32(a), vget_high_u32(a)),
                        vpadd_u32(vget_low_u32(b), vget_high_u32(b)));
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

/* The 2-row tiles' 16 accumulators v16..v31 as register variables (KACC_DECL), the asm outputs
 * that bind them (KACC_OUT), their copy out to acc[16] (KACC_STORE) and what the k loops clobber
 * (KACC_CLOBBER). */
#define KACC_OUT                                                                                  \
    "=&w"(c0), "=&w"(c1), "=&w"(c2), "=&w"(c3), "=&w"(c4), "=&w"(c5), "=&w"(c6), "=&w"(c7),       \
        "=&w"(c8), "=&w"(c9), "=&w"(c10), "=&w"(c11), "=&w"(c12), "=&w"(c13), "=&w"(c14),       \
        "=&w"(c15)
#define KACC_DECL                                                                                 \
    register int32x4_t c0 __asm__("v16"), c1 __asm__("v17"), c2 __asm__("v18"),                \
        c3 __asm__("v19"), c4 __asm__("v20"), c5 __asm__("v21"), c6 __asm__("v22"),            \
        c7 __asm__("v23"), c8 __asm__("v24"), c9 __asm__("v25"), c10 __asm__("v26"),           \
        c11 __asm__("v27"), c12 __asm__("v28"), c13 __asm__("v29"), c14 __asm__("v30"),        \
        c15 __asm__("v31")
#define KACC_STORE(acc)                                                                           \
    do {                                                                                          \
        acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5;             \
        acc[6] = c6, acc[7] = c7, acc[8] = c8, acc[9] = c9, acc[10] = c10, acc[11] = c11;         \
        acc[12] = c12, acc[13] = c13, acc[14] = c14, acc[15] = c15;                               \
    } while (0)
#define KACC_CLOBBER                                                                              \
    "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",       \
        "v14", "v15", "memory", "cc"

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
    KACC_DECL;
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
                       [g] "+r"(groups), KACC_OUT
                     :
                     : KACC_CLOBBER);
    KACC_STORE(acc);
}

/* The paired k loop (blocks flagged by ev_gemm_neon_pack: no pair of -128 weights, see there):
 * per two k groups g, g + 1 of a 4-channel quad, SMULL (group g) then SMLAL (group g + 1) into
 * the same int16 lanes, |x s + x' s'| < 2^15, then one SADALP: half the SADALP of kloop2.
 * The Cortex-A72 model issues SMULL / SMLAL on its multiply pipe only (8 products a cycle)
 * and SADALP on the other vector pipe only, so kloop2 needed both pipes for 16 + 16
 * instructions per k group plus the DUPs and EORs (17.6 cycles); here 16 multiplies + 8 SADALP
 * + the rest fit the multiply pipe's 16 (64.1 model cycles per 16 k). One weight quad (16 bytes:
 * 4 channels x 4 k) is v6 (group g) and v7 (group g + 1); the rows' broadcast groups are v2, v3
 * (g) and v4, v5 (g + 1); products alternate between v8..v11 and v12..v15. */
#define QUAD2(oa, ob, t0, t1, t2, t3, r0lo, r0hi, r1lo, r1hi)                                      \
    "ldr q6, [%[b], #" oa "]\n\t"                                                               \
    "ldr q7, [%[b], #" ob "]\n\t"                                                               \
    "smull " t0 ".8h, v2.8b, v6.8b\n\t"                                                         \
    "smull " t1 ".8h, v3.8b, v6.8b\n\t"                                                         \
    "smull2 " t2 ".8h, v2.16b, v6.16b\n\t"                                                      \
    "smull2 " t3 ".8h, v3.16b, v6.16b\n\t"                                                      \
    "smlal " t0 ".8h, v4.8b, v7.8b\n\t"                                                         \
    "smlal " t1 ".8h, v5.8b, v7.8b\n\t"                                                         \
    "smlal2 " t2 ".8h, v4.16b, v7.16b\n\t"                                                      \
    "smlal2 " t3 ".8h, v5.16b, v7.16b\n\t"                                                      \
    "sadalp v" r0lo ".4s, " t0 ".8h\n\t"                                                        \
    "sadalp v" r1lo ".4s, " t1 ".8h\n\t"                                                        \
    "sadalp v" r0hi ".4s, " t2 ".8h\n\t"                                                        \
    "sadalp v" r1hi ".4s, " t3 ".8h\n\t"
/* The last group of four k (the loops' tails): one int32 of each row broadcast and flipped to
 * signed (^ 0x80), the first two weight vectors loaded. */
#define TAIL_A01                                                                                  \
    "ld1r {v2.4s}, [%[a0]]\n\t"                                                                  \
    "ld1r {v3.4s}, [%[a1]]\n\t"                                                                  \
    "movi v8.16b, #0x80\n\t"                                                                     \
    "eor v2.16b, v2.16b, v8.16b\n\t"                                                             \
    "eor v3.16b, v3.16b, v8.16b\n\t"                                                             \
    "ldr q4, [%[b]]\n\t"                                                                         \
    "ldr q5, [%[b], #16]\n\t"

/* Groups in lanes l0, l1 of the rows v0, v1 (weights at byte offsets o0.., o1.. from %[b]). */
#define PAIRG(l0, l1, o00, o01, o02, o03, o10, o11, o12, o13)                                      \
    "dup v2.4s, v0.s[" l0 "]\n\t"                                                               \
    "dup v3.4s, v1.s[" l0 "]\n\t"                                                               \
    "dup v4.4s, v0.s[" l1 "]\n\t"                                                               \
    "dup v5.4s, v1.s[" l1 "]\n\t"                                                               \
    QUAD2(o00, o10, "v8", "v9", "v10", "v11", "16", "17", "24", "25")                              \
    QUAD2(o01, o11, "v12", "v13", "v14", "v15", "18", "19", "26", "27")                            \
    QUAD2(o02, o12, "v8", "v9", "v10", "v11", "20", "21", "28", "29")                              \
    QUAD2(o03, o13, "v12", "v13", "v14", "v15", "22", "23", "30", "31")

/* kloop2 with the paired products, the accumulators starting from `init` (8 vectors, pair j:
 * [bias 2j, 0, bias 2j + 1, 0], the same for both rows: the join then adds the bias; row 0's
 * loaded, row 1's copied: 8 cycles on the load pipe and 8 MOVs where 16 loads took 16). Per 8 k
 * (a pair of groups) one 8-byte load and EOR per row, 4 DUPs, 8 weight loads, 32 SMULL /
 * SMLAL, 16 SADALP: 68 instructions, which qemu translates as one block (a 16-k body was cut in
 * two); a last single group as kloop2's (SMULL + SADALP). */
static inline __attribute__((always_inline)) void kloop2p(int Kp, const uint8_t *a0,
                                                           const uint8_t *a1, const int8_t *b,
                                                           const int32_t *init, int32x4_t *acc) {
    long blocks = Kp / 8, groups = (Kp % 8) / 4;
    KACC_DECL;
    __asm__ volatile("ldp q16, q17, [%[i]]\n\t"
                     "ldp q18, q19, [%[i], #32]\n\t"
                     "ldp q20, q21, [%[i], #64]\n\t"
                     "ldp q22, q23, [%[i], #96]\n\t"
                     "mov v24.16b, v16.16b\n\t"
                     "mov v25.16b, v17.16b\n\t"
                     "mov v26.16b, v18.16b\n\t"
                     "mov v27.16b, v19.16b\n\t"
                     "mov v28.16b, v20.16b\n\t"
                     "mov v29.16b, v21.16b\n\t"
                     "mov v30.16b, v22.16b\n\t"
                     "mov v31.16b, v23.16b\n\t"
                     "cbz %[n], 3f\n\t"
                     /* the 272-byte loop inside one 512-byte line: never across a page */
                     "b 1f\n\t"
                     ".p2align 9\n\t"
                     "1:\n\t"
                     "ldr d0, [%[a0]], #8\n\t"
                     "ldr d1, [%[a1]], #8\n\t"
                     "movi v8.16b, #0x80\n\t"
                     "eor v0.8b, v0.8b, v8.8b\n\t"
                     "eor v1.8b, v1.8b, v8.8b\n\t"
                     PAIRG("0", "1", "0", "16", "32", "48", "64", "80", "96", "112")
                     "add %[b], %[b], #128\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "b.ne 1b\n\t"
                     "3:\n\t"
                     "cbz %[g], 4f\n\t"
                     TAIL_A01
                     "ldr q6, [%[b], #32]\n\t"
                     "ldr q7, [%[b], #48]\n\t"
                     QUAD(v8, v9, v11, v12, v4, 16, 17, 24, 25)
                     QUAD(v13, v14, v15, v12, v5, 18, 19, 26, 27)
                     QUAD(v8, v9, v11, v12, v6, 20, 21, 28, 29)
                     QUAD(v13, v14, v15, v12, v7, 22, 23, 30, 31)
                     "4:\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(blocks),
                       KACC_OUT
                     : [g] "r"(groups), [i] "r"(init)
                     : KACC_CLOBBER);
    KACC_STORE(acc);
}

/* kloop2p for the whole-tile runs (rows_fast): the accumulators' start, then the paired loop
 * over nb >= 1 steps of 8 k with no branch before it, and with G the one leftover 4-k group of
 * Kp % 8 == 4 (SMULL + SADALP) after it. qemu translates the start and the first step as one
 * block (the proxy's llvm-mca then overlaps the start's loads with the step's multiplies),
 * where the start's old test and branch around the alignment padding made two more; no
 * alignment inside: the rows_* functions are aligned so that none crosses a page. */
#define KSTART_LOOP                                                                               \
    "ldp q16, q17, [%[i]]\n\t"                                                                   \
    "ldp q18, q19, [%[i], #32]\n\t"                                                              \
    "ldp q20, q21, [%[i], #64]\n\t"                                                              \
    "ldp q22, q23, [%[i], #96]\n\t"                                                              \
    "mov v24.16b, v16.16b\n\t"                                                                   \
    "mov v25.16b, v17.16b\n\t"                                                                   \
    "mov v26.16b, v18.16b\n\t"                                                                   \
    "mov v27.16b, v19.16b\n\t"                                                                   \
    "mov v28.16b, v20.16b\n\t"                                                                   \
    "mov v29.16b, v21.16b\n\t"                                                                   \
    "mov v30.16b, v22.16b\n\t"                                                                   \
    "mov v31.16b, v23.16b\n\t"                                                                   \
    "1:\n\t"                                                                                     \
    "ldr d0, [%[a0]], #8\n\t"                                                                    \
    "ldr d1, [%[a1]], #8\n\t"                                                                    \
    "movi v8.16b, #0x80\n\t"                                                                     \
    "eor v0.8b, v0.8b, v8.8b\n\t"                                                                \
    "eor v1.8b, v1.8b, v8.8b\n\t"                                                                \
    PAIRG("0", "1", "0", "16", "32", "48", "64", "80", "96", "112")                                \
    "add %[b], %[b], #128\n\t"                                                                   \
    "subs %[n], %[n], #1\n\t"                                                                    \
    "b.ne 1b\n\t"
#define KSTART_TAIL                                                                               \
    TAIL_A01                                                                                      \
    "ldr q6, [%[b], #32]\n\t"                                                                    \
    "ldr q7, [%[b], #48]\n\t"                                                                    \
    QUAD(v8, v9, v11, v12, v4, 16, 17, 24, 25)                                                   \
    QUAD(v13, v14, v15, v12, v5, 18, 19, 26, 27)                                                 \
    QUAD(v8, v9, v11, v12, v6, 20, 21, 28, 29)                                                   \
    QUAD(v13, v14, v15, v12, v7, 22, 23, 30, 31)

static inline __attribute__((always_inline)) void kstart(long nb, const uint8_t *a0,
                                                          const uint8_t *a1, const int8_t *b,
                                                          const int32_t *init, int32x4_t *acc,
                                                          const int G) {
    KACC_DECL;
    if (G)
        __asm__ volatile(KSTART_LOOP KSTART_TAIL
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(nb), KACC_OUT
                         : [i] "r"(init)
                         : KACC_CLOBBER);
    else
        __asm__ volatile(KSTART_LOOP
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(nb), KACC_OUT
                         : [i] "r"(init)
                         : KACC_CLOBBER);
    KACC_STORE(acc);
}

/* The epilogue of a per-tensor uint8 block with output zero point 0 and shift %[e] (fast_epi's
 * Z form) on the accumulators v16..v31 that KSTART_LOOP leaves, in the same asm: pairwise adds
 * (bias included), SQRDMULH by the multiplier at %[mp], SQRSHRN #e, SQXTUN, one ST1 per row
 * (%[c0], %[c1]). Results in v0..v15 only: gcc's allocation of the same intrinsics wrote them
 * back into the accumulator registers, which the proxy's llvm-mca (repeating the block) reads as
 * a dependency of the next tile's pairwise adds (25.1 model cycles per tile, here 18.3). */
#define EPI_Z                                                                                     \
    "ldr s15, [%[mp]]\n\t"                                                                       \
    "addp v0.4s, v16.4s, v17.4s\n\t"                                                             \
    "addp v1.4s, v18.4s, v19.4s\n\t"                                                             \
    "addp v2.4s, v20.4s, v21.4s\n\t"                                                             \
    "addp v3.4s, v22.4s, v23.4s\n\t"                                                             \
    "addp v4.4s, v24.4s, v25.4s\n\t"                                                             \
    "addp v5.4s, v26.4s, v27.4s\n\t"                                                             \
    "addp v6.4s, v28.4s, v29.4s\n\t"                                                             \
    "addp v7.4s, v30.4s, v31.4s\n\t"                                                             \
    "sqrdmulh v0.4s, v0.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v1.4s, v1.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v2.4s, v2.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v3.4s, v3.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v4.4s, v4.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v5.4s, v5.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v6.4s, v6.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v7.4s, v7.4s, v15.s[0]\n\t"                                                        \
    "sqrshrn v8.4h, v0.4s, #%[e]\n\t"                                                            \
    "sqrshrn2 v8.8h, v1.4s, #%[e]\n\t"                                                           \
    "sqrshrn v9.4h, v2.4s, #%[e]\n\t"                                                            \
    "sqrshrn2 v9.8h, v3.4s, #%[e]\n\t"                                                           \
    "sqrshrn v10.4h, v4.4s, #%[e]\n\t"                                                           \
    "sqrshrn2 v10.8h, v5.4s, #%[e]\n\t"                                                          \
    "sqrshrn v11.4h, v6.4s, #%[e]\n\t"                                                           \
    "sqrshrn2 v11.8h, v7.4s, #%[e]\n\t"                                                          \
    "sqxtun v12.8b, v8.8h\n\t"                                                                   \
    "sqxtun2 v12.16b, v9.8h\n\t"                                                                 \
    "sqxtun v13.8b, v10.8h\n\t"                                                                  \
    "sqxtun2 v13.16b, v11.8h\n\t"                                                                \
    "st1 {v12.16b}, [%[c0]]\n\t"                                                                 \
    "st1 {v13.16b}, [%[c1]]\n\t"

/* A whole 2 x 16 tile of a zero-point-0 block without a row-sum term, start to store, in one asm
 * (KSTART_LOOP, with G KSTART_TAIL, EPI_Z). */
static inline __attribute__((always_inline)) void tile_z(long nb, const uint8_t *a0,
                                                          const uint8_t *a1, const int8_t *b,
                                                          const int32_t *init, const int32_t *mp,
                                                          uint8_t *c0, uint8_t *c1, const int E,
                                                          const int G) {
#if !defined(__OPTIMIZE__)
    /* unoptimized builds (-O0): E is no immediate there; EPI_Z's steps in intrinsics */
    int32x4_t acc[16];
    kstart(nb, a0, a1, b, init, acc, G);
    for (int r = 0; r < 2; r++) {
        int32x4_t t[4];
        for (int j = 0; j < 4; j++)
            t[j] = vqrdmulhq_n_s32(vpaddq_s32(acc[8 * r + 2 * j], acc[8 * r + 2 * j + 1]), *mp);
        vst1q_u8(r ? c1 : c0, vcombine_u8(vqmovun_s16(EV_RQ_SHRN(t[0], t[1], E)),
                                          vqmovun_s16(EV_RQ_SHRN(t[2], t[3], E))));
    }
#else
    if (G)
        __asm__ volatile(KSTART_LOOP KSTART_TAIL EPI_Z
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(nb)
                         : [i] "r"(init), [mp] "r"(mp), [c0] "r"(c0), [c1] "r"(c1), [e] "i"(E)
                         : KACC_CLOBBER, "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",
                           "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
    else
        __asm__ volatile(KSTART_LOOP EPI_Z
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(nb)
                         : [i] "r"(init), [mp] "r"(mp), [c0] "r"(c0), [c1] "r"(c1), [e] "i"(E)
                         : KACC_CLOBBER, "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",
                           "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
#endif
}

/* What the whole-tile path of one 16-channel block needs besides ev_rq16: the accumulators'
 * start (the bias, see kloop2p) and the row-sum term delta[n] * rowsum[m] where every channel's
 * delta is 0 or one value d (conv.c: per-tensor uint8 weights whose channel does not fit int8
 * around w_zp), added as (rowsum[m] d) & mask: a scalar multiply per row and two vector-pipe
 * operations per 4 channels, where MLA by element takes the Cortex-A72 model's multiply pipe
 * for 2 cycles. */
typedef struct blk16 {
    int32_t init[32];
    uint32x4_t mask[4];
    int32_t d;
} blk16;

/* The tile's epilogue: four pairwise adds per row (bias included), the row-sum term (DL), then
 * ev_rq16_fast into rows m, m + 1, or with Z (output zero point 0) the same without the
 * round-half-away fixup and the zero-point add: TFLite's rounding differs from SQRSHRN's (ties
 * up) only at negative ties, and a negative value gives an output <= 0 under either rule, which
 * the uint8 narrowing makes 0. */
static inline __attribute__((always_inline)) void fast_epi(const int32x4_t *acc, int m,
                                                           const int32_t *rowsum,
                                                           const blk16 *k, const ev_rq16 *q,
                                                           uint8_t *C, size_t ldc, const int E,
                                                           const int DL, const int Z) {
    int32x4_t v[8];
    EV_RQ_UNROLL
    for (int i = 0; i < 8; i++) v[i] = vpaddq_s32(acc[2 * i], acc[2 * i + 1]);
    if (DL) {
        const int32x4_t r0 = vdupq_n_s32((int32_t)((uint32_t)rowsum[m] * (uint32_t)k->d));
        const int32x4_t r1 = vdupq_n_s32((int32_t)((uint32_t)rowsum[m + 1] * (uint32_t)k->d));
        EV_RQ_UNROLL
        for (int j = 0; j < 4; j++) {
            v[j] = vaddq_s32(v[j], vandq_s32(r0, vreinterpretq_s32_u32(k->mask[j])));
            v[4 + j] = vaddq_s32(v[4 + j], vandq_s32(r1, vreinterpretq_s32_u32(k->mask[j])));
        }
    }
    if (!Z) {
        ev_rq16_fast(v, 2, q, C + (size_t)m * ldc, ldc, E);
        return;
    }
    EV_RQ_UNROLL
    for (int i = 0; i < 8; i++) v[i] = vqrdmulhq_n_s32(v[i], q->m0);
    EV_RQ_UNROLL
    for (int r = 0; r < 2; r++) {
        const int16x8_t h0 = EV_RQ_SHRN(v[4 * r], v[4 * r + 1], E);
        const int16x8_t h1 = EV_RQ_SHRN(v[4 * r + 2], v[4 * r + 3], E);
        ev_st16_neon(C + (size_t)(m + r) * ldc, vcombine_u8(vqmovun_s16(h0), vqmovun_s16(h1)));
    }
}

/* The rows of one 16-channel block in whole 2 x 16 tiles (M >= 2, Kp >= 8; G: Kp % 8 == 4)
 * with a block whose ev_rq16 is `fast` with shift E; DL: a masked row-sum term; Z: output zero
 * point 0. Per tile three blocks: the start with the first 8-k step, the loop, and the tail
 * group with the epilogue and the loop test. */
static inline __attribute__((always_inline)) void rows_fast(int M, int Kp, const uint8_t *A,
                                                            size_t lda, const int8_t *b,
                                                            const int32_t *rowsum,
                                                            const blk16 *k, const ev_rq16 *q,
                                                            uint8_t *C, size_t ldc, const int E,
                                                            const int DL, const int G,
                                                            const int Z) {
    const long nb = Kp / 8;
    if (Z && !DL) {
        for (int m = 0; m + 2 <= M; m += 2)
            tile_z(nb, A + (size_t)m * lda, A + (size_t)(m + 1) * lda, b, k->init, &q->m0,
                   C + (size_t)m * ldc, C + (size_t)(m + 1) * ldc, E, G);
        return;
    }
    for (int m = 0; m + 2 <= M; m += 2) {
        int32x4_t acc[16];
        kstart(nb, A + (size_t)m * lda, A + (size_t)(m + 1) * lda, b, k->init, acc, G);
        fast_epi(acc, m, rowsum, k, q, C, ldc, E, DL, Z);
    }
}

/* A layer's last block of exactly 8 channels (PoseNet's first layer: 24 = 16 + 8), per tensor,
 * uint8 out, zero point 0 (as EPI_Z), no clamp inside 0..255: 2 x 8 tiles, each one asm from
 * the accumulators' start to the stores. The k loop is kstart's on the block's first two weight
 * quads only (channels 0..7: 16 multiplies per 8 k, where the 16-channel tile took 32 for the
 * same 8 outputs), accumulators v16..v19 (row 0) and v20..v23 (row 1); with G the leftover
 * 4-k group. Epilogue: pairwise adds, the row-sum term (rowsum[m] d) & mask (zero row sums and
 * d 0 when the layer has none), SQRDMULH by the multiplier, the shift e as SQRDMULH by
 * 2^(31 - e) (exact: see ev_rq16_straight; one copy for every e), SQXTN, SQXTUN, 8 bytes per
 * row. */
#define K8_LOOP                                                                                   \
    "ldp q16, q17, [%[i]]\n\t"                                                                   \
    "ldp q18, q19, [%[i], #32]\n\t"                                                              \
    "mov v20.16b, v16.16b\n\t"                                                                   \
    "mov v21.16b, v17.16b\n\t"                                                                   \
    "mov v22.16b, v18.16b\n\t"                                                                   \
    "mov v23.16b, v19.16b\n\t"                                                                   \
    "1:\n\t"                                                                                     \
    "ldr d0, [%[a0]], #8\n\t"                                                                    \
    "ldr d1, [%[a1]], #8\n\t"                                                                    \
    "movi v8.16b, #0x80\n\t"                                                                     \
    "eor v0.8b, v0.8b, v8.8b\n\t"                                                                \
    "eor v1.8b, v1.8b, v8.8b\n\t"                                                                \
    "dup v2.4s, v0.s[0]\n\t"                                                                     \
    "dup v3.4s, v1.s[0]\n\t"                                                                     \
    "dup v4.4s, v0.s[1]\n\t"                                                                     \
    "dup v5.4s, v1.s[1]\n\t"                                                                     \
    QUAD2("0", "64", "v8", "v9", "v10", "v11", "16", "17", "20", "21")                             \
    QUAD2("16", "80", "v12", "v13", "v14", "v15", "18", "19", "22", "23")                          \
    "add %[b], %[b], #128\n\t"                                                                   \
    "subs %[n], %[n], #1\n\t"                                                                    \
    "b.ne 1b\n\t"
#define K8_TAIL                                                                                   \
    TAIL_A01                                                                                      \
    QUAD(v8, v9, v11, v12, v4, 16, 17, 20, 21)                                                   \
    QUAD(v13, v14, v15, v12, v5, 18, 19, 22, 23)
/* The 2 x 8 epilogues' common start: pairwise adds (bias included), the row-sum term
 * (rowsum[m] d) & mask, SQRDMULH by the multiplier. */
#define EPI8_HEAD                                                                                 \
    "ldr s15, [%[mp]]\n\t"                                                                       \
    "ldr s14, [%[sh]]\n\t"                                                                       \
    "ldp %w[t0], %w[t1], [%[rs]]\n\t"                                                            \
    "ldp q10, q11, [%[mk]]\n\t"                                                                  \
    "mul %w[t0], %w[t0], %w[d]\n\t"                                                              \
    "mul %w[t1], %w[t1], %w[d]\n\t"                                                              \
    "addp v0.4s, v16.4s, v17.4s\n\t"                                                             \
    "addp v1.4s, v18.4s, v19.4s\n\t"                                                             \
    "addp v2.4s, v20.4s, v21.4s\n\t"                                                             \
    "addp v3.4s, v22.4s, v23.4s\n\t"                                                             \
    "dup v12.4s, %w[t0]\n\t"                                                                     \
    "dup v13.4s, %w[t1]\n\t"                                                                     \
    "and v4.16b, v12.16b, v10.16b\n\t"                                                           \
    "and v5.16b, v12.16b, v11.16b\n\t"                                                           \
    "and v6.16b, v13.16b, v10.16b\n\t"                                                           \
    "and v7.16b, v13.16b, v11.16b\n\t"                                                           \
    "add v0.4s, v0.4s, v4.4s\n\t"                                                                \
    "add v1.4s, v1.4s, v5.4s\n\t"                                                                \
    "add v2.4s, v2.4s, v6.4s\n\t"                                                                \
    "add v3.4s, v3.4s, v7.4s\n\t"                                                                \
    "sqrdmulh v0.4s, v0.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v1.4s, v1.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v2.4s, v2.4s, v15.s[0]\n\t"                                                        \
    "sqrdmulh v3.4s, v3.4s, v15.s[0]\n\t"
#define EPI8                                                                                      \
    EPI8_HEAD                                                                                     \
    "sqrdmulh v0.4s, v0.4s, v14.s[0]\n\t"                                                        \
    "sqrdmulh v1.4s, v1.4s, v14.s[0]\n\t"                                                        \
    "sqrdmulh v2.4s, v2.4s, v14.s[0]\n\t"                                                        \
    "sqrdmulh v3.4s, v3.4s, v14.s[0]\n\t"                                                        \
    "sqxtn v8.4h, v0.4s\n\t"                                                                     \
    "sqxtn2 v8.8h, v1.4s\n\t"                                                                    \
    "sqxtn v9.4h, v2.4s\n\t"                                                                     \
    "sqxtn2 v9.8h, v3.4s\n\t"                                                                    \
    "sqxtun v12.8b, v8.8h\n\t"                                                                   \
    "sqxtun v13.8b, v9.8h\n\t"                                                                   \
    "str d12, [%[c0]]\n\t"                                                                       \
    "str d13, [%[c1]]\n\t"
#define K8_OPS                                                                                    \
    : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(bb), [n] "+r"(nb), [t0] "=&r"(t0), [t1] "=&r"(t1)  \
    : [i] "r"(k->init), [mp] "r"(&q->m0), [sh] "r"(&q->shm), [rs] "r"(rowsum + m),           \
      [d] "r"(k->d), [mk] "r"(&k->mask[0]), [c0] "r"(C + (size_t)m * ldc),                      \
      [c1] "r"(C + (size_t)(m + 1) * ldc)                                                        \
    : KACC_CLOBBER, "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23"

/* EPI8 for any zero point and clamp inside 0..255 (the straight ev_rq16: ev_rq16_straight's
 * steps: the round-half-away fixup SSRA #31 before the shift, the zero point added in int16,
 * UMAX / UMIN by the bounds), the rows' first 8 bytes to %[tmp] (the caller stores `count`
 * of them: PoseNet's heads, 17 and 34 channels, end in blocks of 1 and 2). */
#define EPI8P                                                                                     \
    EPI8_HEAD                                                                                     \
    "ssra v0.4s, v0.4s, #31\n\t"                                                                 \
    "ssra v1.4s, v1.4s, #31\n\t"                                                                 \
    "ssra v2.4s, v2.4s, #31\n\t"                                                                 \
    "ssra v3.4s, v3.4s, #31\n\t"                                                                 \
    "sqrdmulh v0.4s, v0.4s, v14.s[0]\n\t"                                                        \
    "sqrdmulh v1.4s, v1.4s, v14.s[0]\n\t"                                                        \
    "sqrdmulh v2.4s, v2.4s, v14.s[0]\n\t"                                                        \
    "sqrdmulh v3.4s, v3.4s, v14.s[0]\n\t"                                                        \
    "ldr q10, [%[zp]]\n\t"                                                                       \
    "ldr d6, [%[lo]]\n\t"                                                                        \
    "ldr d7, [%[hi]]\n\t"                                                                        \
    "sqxtn v8.4h, v0.4s\n\t"                                                                     \
    "sqxtn2 v8.8h, v1.4s\n\t"                                                                    \
    "sqxtn v9.4h, v2.4s\n\t"                                                                     \
    "sqxtn2 v9.8h, v3.4s\n\t"                                                                    \
    "sqadd v8.8h, v8.8h, v10.8h\n\t"                                                             \
    "sqadd v9.8h, v9.8h, v10.8h\n\t"                                                             \
    "sqxtun v12.8b, v8.8h\n\t"                                                                   \
    "sqxtun v13.8b, v9.8h\n\t"                                                                   \
    "umax v12.8b, v12.8b, v6.8b\n\t"                                                             \
    "umax v13.8b, v13.8b, v6.8b\n\t"                                                             \
    "umin v12.8b, v12.8b, v7.8b\n\t"                                                             \
    "umin v13.8b, v13.8b, v7.8b\n\t"                                                             \
    "stp d12, d13, [%[tmp]]\n\t"
#define K8P_OPS                                                                                   \
    : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(bb), [n] "+r"(nb), [t0] "=&r"(t0), [t1] "=&r"(t1)  \
    : [i] "r"(k->init), [mp] "r"(&q->m0), [sh] "r"(&q->shm), [rs] "r"(rowsum + m),           \
      [d] "r"(k->d), [mk] "r"(&k->mask[0]), [zp] "r"(&q->zp16), [lo] "r"(&q->lo),             \
      [hi] "r"(&q->hi), [tmp] "r"(tmp)                                                          \
    : KACC_CLOBBER, "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23"

/* 2 x 8 tiles with EPI8P: `count` (1..8) bytes per row stored. */
static inline __attribute__((always_inline)) void rows8p(int M, int Kp, const uint8_t *A,
                                                         size_t lda, const int8_t *b,
                                                         const int32_t *rowsum, const blk16 *k,
                                                         const ev_rq16 *q, uint8_t *C,
                                                         size_t ldc, int count, const int G) {
    for (int m = 0; m + 2 <= M; m += 2) {
        const uint8_t *a0 = A + (size_t)m * lda, *a1 = a0 + lda;
        const int8_t *bb = b;
        long nb = Kp / 8;
        uint32_t t0, t1;
        uint8_t tmp[16];
        if (G)
            __asm__ volatile(K8_LOOP K8_TAIL EPI8P K8P_OPS);
        else
            __asm__ volatile(K8_LOOP EPI8P K8P_OPS);
        memcpy(C + (size_t)m * ldc, tmp, (size_t)count);
        memcpy(C + (size_t)(m + 1) * ldc, tmp + 8, (size_t)count);
    }
}
__attribute__((aligned(1024))) static void rows8p_0(int M, int Kp, const uint8_t *A, size_t lda,
                                                    const int8_t *b, const int32_t *rowsum,
                                                    const blk16 *k, const ev_rq16 *q,
                                                    uint8_t *C, size_t ldc, int count) {
    rows8p(M, Kp, A, lda, b, rowsum, k, q, C, ldc, count, 0);
}
__attribute__((aligned(1024))) static void rows8p_g(int M, int Kp, const uint8_t *A, size_t lda,
                                                    const int8_t *b, const int32_t *rowsum,
                                                    const blk16 *k, const ev_rq16 *q,
                                                    uint8_t *C, size_t ldc, int count) {
    rows8p(M, Kp, A, lda, b, rowsum, k, q, C, ldc, count, 1);
}

static inline __attribute__((always_inline)) void rows8(int M, int Kp, const uint8_t *A,
                                                        size_t lda, const int8_t *b,
                                                        const int32_t *rowsum, const blk16 *k,
                                                        const ev_rq16 *q, uint8_t *C,
                                                        size_t ldc, const int G) {
    for (int m = 0; m + 2 <= M; m += 2) {
        const uint8_t *a0 = A + (size_t)m * lda, *a1 = a0 + lda;
        const int8_t *bb = b;
        long nb = Kp / 8;
        uint32_t t0, t1;
        if (G)
            __asm__ volatile(K8_LOOP K8_TAIL EPI8 K8_OPS);
        else
            __asm__ volatile(K8_LOOP EPI8 K8_OPS);
    }
}
__attribute__((aligned(1024))) static void rows8_0(int M, int Kp, const uint8_t *A, size_t lda,
                                                   const int8_t *b, const int32_t *rowsum,
                                                   const blk16 *k, const ev_rq16 *q, uint8_t *C,
                                                   size_t ldc) {
    rows8(M, Kp, A, lda, b, rowsum, k, q, C, ldc, 0);
}
__attribute__((aligned(1024))) static void rows8_g(int M, int Kp, const uint8_t *A, size_t lda,
                                                   const int8_t *b, const int32_t *rowsum,
                                                   const blk16 *k, const ev_rq16 *q, uint8_t *C,
                                                   size_t ldc) {
    rows8(M, Kp, A, lda, b, rowsum, k, q, C, ldc, 1);
}

/* rows_fast for the last block of a layer whose N is not a multiple of 16 (count = N - n0 < 16
 * real channels, PoseNet's first layer: 24): the shift as SQRDMULH by 2^(31 - e)
 * (ev_rq16_straight, no per-e copies: q->straight, uint8 out) and count bytes per row stored. */
static void rows_part(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b,
                      const int32_t *rowsum, const blk16 *k, const ev_rq16 *q, uint8_t *C,
                      size_t ldc, int count) {
    for (int m = 0; m + 2 <= M; m += 2) {
        int32x4_t acc[16], v[8];
        uint8x16_t o[2];
        kloop2p(Kp, A + (size_t)m * lda, A + (size_t)(m + 1) * lda, b, k->init, acc);
        EV_RQ_UNROLL
        for (int i = 0; i < 8; i++) v[i] = vpaddq_s32(acc[2 * i], acc[2 * i + 1]);
        if (k->d) {
            const int32x4_t r0 = vdupq_n_s32((int32_t)((uint32_t)rowsum[m] * (uint32_t)k->d));
            const int32x4_t r1 = vdupq_n_s32((int32_t)((uint32_t)rowsum[m + 1] * (uint32_t)k->d));
            EV_RQ_UNROLL
            for (int j = 0; j < 4; j++) {
                v[j] = vaddq_s32(v[j], vandq_s32(r0, vreinterpretq_s32_u32(k->mask[j])));
                v[4 + j] = vaddq_s32(v[4 + j], vandq_s32(r1, vreinterpretq_s32_u32(k->mask[j])));
            }
        }
        ev_rq16_straight(v, 2, q, o, 0);
        ev_rq16_store_part(o, 2, C + (size_t)m * ldc, ldc, count);
    }
}

/* The row sums rows_E_g reads in a layer without a row-sum term (its d is then 0). */
static const int32_t k_zero_rows[ROWSUM_CHUNK];

typedef void (*rows_fn)(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b,
                        const int32_t *rowsum, const blk16 *k, const ev_rq16 *q, uint8_t *C,
                        size_t ldc);
/* One copy per (E, DL, G, Z) in use, each aligned to 1 KB and shorter, so none crosses a page
 * (qemu ends a block there, and the proxy models each block apart): rows_E_0 (no row-sum term,
 * any zero point), rows_E_z (zero point 0), rows_E_1z (row-sum term, zero point 0), rows_E_gz
 * (Kp % 8 == 4, zero point 0, a row-sum term or zero row sums: PoseNet's first layer, K 27).
 * PoseNet's layers are all `z` but the heads'. Other blocks take the general tile. */
#define ROWS_ONE(E, SUF, DL, G, Z)                                                               \
    __attribute__((aligned(1024))) static void rows_##E##_##SUF(                                 \
        int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b, const int32_t *rowsum,     \
        const blk16 *k, const ev_rq16 *q, uint8_t *C, size_t ldc) {                              \
        rows_fast(M, Kp, A, lda, b, rowsum, k, q, C, ldc, E, DL, G, Z);                          \
    }
#define ROWS_FN(E)                                                                               \
    ROWS_ONE(E, 0, 0, 0, 0)                                                                      \
    ROWS_ONE(E, z, 0, 0, 1) ROWS_ONE(E, 1z, 1, 0, 1) ROWS_ONE(E, gz, 1, 1, 1)
ROWS_FN(1) ROWS_FN(2) ROWS_FN(3) ROWS_FN(4) ROWS_FN(5) ROWS_FN(6) ROWS_FN(7) ROWS_FN(8)
ROWS_FN(9) ROWS_FN(10) ROWS_FN(11) ROWS_FN(12) ROWS_FN(13) ROWS_FN(14) ROWS_FN(15) ROWS_FN(16)
#define ROWS_SET(E) {rows_##E##_0, rows_##E##_z, rows_##E##_1z, rows_##E##_gz}
static const rows_fn k_rows[16][4] = {
    ROWS_SET(1), ROWS_SET(2), ROWS_SET(3), ROWS_SET(4), ROWS_SET(5), ROWS_SET(6),
    ROWS_SET(7), ROWS_SET(8), ROWS_SET(9), ROWS_SET(10), ROWS_SET(11), ROWS_SET(12),
    ROWS_SET(13), ROWS_SET(14), ROWS_SET(15), ROWS_SET(16)};

/* Which rows_* runs a block (k_rows' second index), or -1: none. */
static int rows_kind(int Kp, const blk16 *k, int zp) {
    if (Kp % 8) return zp ? -1 : 3;
    if (!k->d) return zp ? 0 : 1;
    return zp ? -1 : 2;
}

/* The block's blk16, or 0 when some channel's delta is neither 0 nor the block's one d. */
static int blk16_make(blk16 *k, const ev_gemm_epi *ep, int n0) {
    const int32x4_t z = vdupq_n_s32(0);
    for (int j = 0; j < 4; j++) { /* [b 4j, 0, b 4j+1, 0], [b 4j+2, 0, b 4j+3, 0] */
        const int32x4_t b = vld1q_s32(ep->bias + n0 + 4 * j);
        vst1q_s32(k->init + 8 * j, vzip1q_s32(b, z));
        vst1q_s32(k->init + 8 * j + 4, vzip2q_s32(b, z));
    }
    k->d = 0;
    for (int j = 0; j < 4; j++) k->mask[j] = vdupq_n_u32(0);
    if (!ep->delta) return 1;
    int32x4_t dv[4];
    uint32x4_t any = vdupq_n_u32(0);
    for (int j = 0; j < 4; j++) {
        dv[j] = vld1q_s32(ep->delta + n0 + 4 * j);
        k->mask[j] = vtstq_s32(dv[j], dv[j]);
        any = vorrq_u32(any, k->mask[j]);
    }
    if (!vmaxvq_u32(any)) return 1;
    for (int j = 0; j < 16 && !k->d; j++) k->d = ep->delta[n0 + j];
    /* every non-zero delta equals d */
    const int32x4_t db = vdupq_n_s32(k->d);
    uint32x4_t ok = vdupq_n_u32(~0u);
    for (int j = 0; j < 4; j++)
        ok = vandq_u32(ok, vorrq_u32(vceqq_s32(dv[j], db), vmvnq_u32(k->mask[j])));
    return vminvq_u32(ok) != 0;
}

/* ev_rq16_load for 16 real channels with the block's checks on vectors (the same fields and
 * values as ev_rq16_fill's three scalar loops, which ran for every block of every call). */
static inline void rq16_load16(ev_rq16 *q, const ev_gemm_epi *ep, int c) {
    int32x4_t mv[4], rv[4], lv[4];
    uint32x4_t lor = vdupq_n_u32(0), ms = vdupq_n_u32(~0u), rs = ms;
    int32x4_t rmin = vdupq_n_s32(INT32_MAX);
    const int32x4_t mb = vdupq_n_s32(ep->mult[c]), rb = vdupq_n_s32(ep->rshift[c]);
    for (int j = 0; j < 4; j++) {
        mv[j] = vld1q_s32(ep->mult + c + 4 * j);
        rv[j] = vld1q_s32(ep->rshift + c + 4 * j);
        lv[j] = ep->any_lshift ? vld1q_s32(ep->lshift + c + 4 * j) : vdupq_n_s32(0);
        lor = vorrq_u32(lor, vreinterpretq_u32_s32(lv[j]));
        rmin = vminq_s32(rmin, rv[j]);
        ms = vandq_u32(ms, vceqq_s32(mv[j], mb));
        rs = vandq_u32(rs, vceqq_s32(rv[j], rb));
    }
    q->lsh = vmaxvq_u32(lor) != 0;
    q->pos = !q->lsh && vminvq_s32(rmin) > 0;
    q->m0 = ep->mult[c];
    q->umult = vminvq_u32(ms) != 0;
    q->e = q->pos && vminvq_u32(rs) && ep->rshift[c] <= 16 ? ep->rshift[c] : 0;
    for (int j = 0; j < 4; j++) {
        q->mult[j] = mv[j];
        q->nshift[j] = vnegq_s32(rv[j]);
        q->lshift[j] = q->lsh ? lv[j] : vdupq_n_s32(0);
    }
    ev_rq16_finish(q, ep);
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

/* Sums of rows 0 .. M - 1 over their Kp bytes (EV_GEMM_OWN_ROWSUMS: the bytes past K are zero),
 * for the row-sum term when the caller gives none; 4 rows at a time (the missing ones alias row
 * M - 1; out holds M rounded up to 4): one UADALP per 16 bytes into 8 uint16 lanes (at most
 * 2 x 255 each per step; widened into uint32 lanes every 1024 bytes), the 8- and 4-byte tails
 * into 4 uint16 lanes. Exact while a row's sum fits int32 (Kp < 2^23). */
static void row_sums(const uint8_t *A, size_t lda, int M, int Kp, int32_t *out) {
    for (int m = 0; m < M; m += 4) {
        const uint8_t *r[4];
        uint32x4_t s[4];
        uint16x4_t t[4];
        EV_RQ_UNROLL
        for (int j = 0; j < 4; j++) {
            r[j] = A + (size_t)(m + j < M ? m + j : M - 1) * lda;
            s[j] = vdupq_n_u32(0);
            t[j] = vdup_n_u16(0);
        }
        int k = 0;
        while (k + 16 <= Kp) {
            const int end = Kp - k > 1024 ? k + 1024 : Kp;
            uint16x8_t h[4];
            EV_RQ_UNROLL
            for (int j = 0; j < 4; j++) h[j] = vdupq_n_u16(0);
            for (; k + 16 <= end; k += 16) {
                EV_RQ_UNROLL
                for (int j = 0; j < 4; j++) h[j] = vpadalq_u8(h[j], vld1q_u8(r[j] + k));
            }
            EV_RQ_UNROLL
            for (int j = 0; j < 4; j++) s[j] = vpadalq_u16(s[j], h[j]);
        }
        if (k + 8 <= Kp) {
            EV_RQ_UNROLL
            for (int j = 0; j < 4; j++) t[j] = vpadal_u8(t[j], vld1_u8(r[j] + k));
            k += 8;
        }
        if (k + 4 <= Kp) {
            EV_RQ_UNROLL
            for (int j = 0; j < 4; j++) {
                uint32_t w;
                memcpy(&w, r[j] + k, 4);
                t[j] = vpadal_u8(t[j], vcreate_u8((uint64_t)w));
            }
        }
        EV_RQ_UNROLL
        for (int j = 0; j < 4; j++) s[j] = vaddw_u16(s[j], t[j]);
        const uint32x4_t v = join_u32(join_u32(s[0], s[1]), join_u32(s[2], s[3]));
        vst1q_s32(out + m, vreinterpretq_s32_u32(v));
    }
}

size_t ev_gemm_neon_packed_size(int N, int Kp) {
    return ev_gemm_packed_size(N, Kp) + (size_t)(N + 15) / 16;
}

/* The paired k loop sums x s + x' s' in int16 for the same channel at k and k + 4 (k % 8 < 4:
 * the same lane of k groups 2i and 2i + 1). With x, x' in [-128, 127] and s, s' in [-127, 127]
 * each product lies in [-16256, 16256]; a weight -128 widens its product to [-16256, 16384].
 * The sum fits int16 unless both weights of a pair are -128 (16384 + 16384 = 2^15): a block is
 * flagged pairable when no channel has such a pair (the heatmap layer of PoseNet has -128
 * weights, never two in one pair). */
void ev_gemm_neon_pack(const int8_t *w, int N, int K, int Kp, void *out) {
    ev_gemm_pack(w, N, K, Kp, out);
    const int nb = (N + 15) / 16;
    uint8_t *flag = (uint8_t *)out + ev_gemm_packed_size(N, Kp);
    for (int b = 0; b < nb; b++) {
        int ok = 1;
        for (int n = 16 * b; n < 16 * b + 16 && n < N && ok; n++) {
            const int8_t *row = w + (size_t)n * K;
            for (int k = 0; k + 4 < K && ok; k++)
                if (k % 8 < 4 && row[k] == -128 && row[k + 4] == -128) ok = 0;
        }
        flag[b] = (uint8_t)ok;
    }
}

void ev_gemm_neon(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                  const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                  void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 1);
    if (!rowsum && M > ROWSUM_CHUNK) { /* own row sums: ROWSUM_CHUNK rows a call */
        for (int m = 0; m < M; m += ROWSUM_CHUNK)
            ev_gemm_neon(M - m < ROWSUM_CHUNK ? M - m : ROWSUM_CHUNK, N, Kp, A + (size_t)m * lda,
                         lda, Bpv, NULL, ep, C + (size_t)m * ldc, ldc, scratch);
        return;
    }
    int32_t rs[ROWSUM_CHUNK + 3];
    if (ep->delta && !rowsum) {
        row_sums(A, lda, M, Kp, rs);
        rowsum = rs;
    }
    const int8_t *Bp = Bpv;
#if MR > 1
    const uint8_t *flag = (const uint8_t *)Bpv + ev_gemm_packed_size(N, Kp);
#endif
    for (int n = 0; n < N; n += 16) {
        ev_rq16 q;
#if MR > 1
        if (N - n >= 16)
            rq16_load16(&q, ep, n);
        else
#endif
            ev_rq16_load(&q, ep, n, N - n);
        int m0 = 0;
#if MR > 1
        blk16 k;
        int kind;
        if (q.fast && N - n >= 16 && M >= 2 && Kp >= 8 && flag[n / 16] &&
            blk16_make(&k, ep, n) && (kind = rows_kind(Kp, &k, ep->out_zp)) >= 0) {
            k_rows[q.e - 1][kind](M, Kp, A, lda, Bp + (size_t)n * (size_t)Kp,
                                  rowsum ? rowsum : k_zero_rows, &k, &q, C + n, ldc);
            m0 = M & ~1;
        } else if (N - n == 8 && q.straight && !q.i8 && ep->out_zp == 0 && ep->act_min <= 0 &&
                   ep->act_max >= 255 && M >= 2 && Kp >= 8 && flag[n / 16] &&
                   blk16_make(&k, ep, n)) {
            (Kp % 8 ? rows8_g : rows8_0)(M, Kp, A, lda, Bp + (size_t)n * (size_t)Kp,
                                         rowsum ? rowsum : k_zero_rows, &k, &q, C + n, ldc);
            m0 = M & ~1;
        } else if (N - n <= 8 && q.straight && !q.i8 && ep->act_min >= 0 && ep->act_max <= 255 &&
                   M >= 2 && Kp >= 8 && flag[n / 16] && blk16_make(&k, ep, n)) {
            (Kp % 8 ? rows8p_g : rows8p_0)(M, Kp, A, lda, Bp + (size_t)n * (size_t)Kp,
                                           rowsum ? rowsum : k_zero_rows, &k, &q, C + n, ldc,
                                           N - n);
            m0 = M & ~1;
        } else if (q.straight && !q.i8 && ep->act_min >= 0 && ep->act_max <= 255 && N - n < 16 &&
                   M >= 2 && flag[n / 16] && blk16_make(&k, ep, n)) {
            rows_part(M, Kp, A, lda, Bp + (size_t)n * (size_t)Kp, rowsum, &k, &q, C + n, ldc,
                      N - n);
            m0 = M & ~1;
        }
#endif
        for (int m = m0; m < M; m += MR) {
            int mr = M - m < MR ? M - m : MR;
            tile(mr, N, Kp, A + (size_t)m * lda, lda, Bp, rowsum ? rowsum + m : NULL, ep, &q,
                 C + (size_t)m * ldc, ldc, n);
        }
    }
}
