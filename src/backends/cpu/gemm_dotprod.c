/*
 * gemm_dotprod.c - quantized GEMM with the armv8.2 dot-product instructions (UDOT: 16 u8 x u8
 * products into 4 int32 per instruction; Cortex-A76/A55, Raspberry Pi 5), aarch64 only, compiled
 * with -march=armv8.2-a+dotprod (file suffix) and used only when isa.c finds HWCAP_ASIMDDP.
 *
 * The caller's contract is gemm.h's "ARM variants" (EV_GEMM_A_MINUS_128): out = bias +
 * sum_k (x_k - 128) s_k (+ delta * sum_k x_k), with bias holding + 128 * sum_k s_k. This variant
 * multiplies the raw activation bytes x by u = s + 128 (its own packing: u8 weights, 0 past K)
 * with UDOT, so no activation byte is flipped in the k loop:
 *     sum_k (x_k - 128) s_k = U - 128 S - 128 R,   U = sum_k x_k u_k, S = sum_k s_k, R = sum_k x_k
 * -128 S is stored per channel with the weights; the row sums R are taken once per call for a
 * chunk of up to CHUNK rows (UDOT against ones), shared by every channel block, and also serve the
 * delta term (EV_GEMM_OWN_ROWSUMS): the accumulators start at bias - 128 S + (delta - 128) R.
 * Everything is int32 arithmetic modulo 2^32 (UDOT, ADD and MLA wrap), so the result is the
 * reference's whenever the reference's own accumulator fits in int32.
 *
 * Register tile: 4 pixel rows x 16 output channels = 16 accumulators in v16..v31; per 16 bytes
 * of k the main loop (inline assembly, so the compiler neither spills accumulators nor hoists the
 * 16 weight loads) loads 16 bytes of each row once and, for each of the 4 groups, the 4 weight
 * vectors of the block, each used by 4 UDOT-by-lane: 64 UDOT and 12 loads. Remaining k groups
 * broadcast the row's 4 bytes.
 *
 * Epilogue: for blocks of a per-tensor uint8 layer (one multiplier M0, one right shift
 * 1 <= e <= 16, zero point 0, no clamp inside 0..255, ties away from zero) full tiles take a
 * straight sequence with e as a constant (one copy of the tile per e): SQRDMULH by M0, SQRSHRN #e,
 * SQXTUN, ST1 (no round-half-away fixup: see fast_store); a last block of exactly 8 channels
 * (N % 16 == 8) the same with the shift by register (half_rows). Other blocks and edge tiles go
 * through requant_neon.h's ev_rq16_rows, bit-exactly.
 *
 * Extend: another tile is another tile function with the same init and epilogues and its config
 * line.
 */
#include "backends/cpu/gemm.h"
#include "backends/cpu/requant_neon.h"

#include <arm_neon.h>
#include <string.h>

#define MR 4
#define CHUNK 64 /* rows whose sums are taken at once (a multiple of MR) */

/* Packed layout: this header, then [Np] int32 -128 * S_n (0 for padding channels), then
 * ev_gemm_pack's order (blocks of 16 channels x groups of 4 k) with u = s + 128 for k < K and 0
 * past K (so direct rows whose last group runs into the next pixel meet zero weights). */
typedef struct dot_head {
    int32_t K;
    int32_t unused[3];
} dot_head;

size_t ev_gemm_dot_packed_size(int N, int Kp) {
    size_t nb = ((size_t)N + 15) / 16;
    return sizeof(dot_head) + nb * 16 * sizeof(int32_t) + nb * 16 * (size_t)Kp;
}

void ev_gemm_dot_pack(const int8_t *w, int N, int K, int Kp, void *outp) {
    EV_CPU_ASSERT(Kp % 4 == 0 && Kp >= K);
    uint8_t *out = outp;
    const size_t nb = ((size_t)N + 15) / 16;
    memset(out, 0, ev_gemm_dot_packed_size(N, Kp));
    const dot_head h = {K, {0, 0, 0}};
    memcpy(out, &h, sizeof h);
    int32_t *ns = (int32_t *)(out + sizeof h);
    uint8_t *u = out + sizeof h + nb * 16 * sizeof(int32_t);
    for (int n = 0; n < N; n++) {
        const int b = n / 16, j = n % 16;
        int32_t sum = 0;
        for (int k = 0; k < K; k++) {
            const int s = w[(size_t)n * K + k];
            sum += s;
            u[(size_t)b * 16 * Kp + (size_t)(k / 4) * 64 + j * 4 + (k % 4)] = (uint8_t)(s + 128);
        }
        ns[n] = (int32_t)((uint32_t)sum * (uint32_t)-128);
    }
}

/* What the tiles' init reads of rows 0 .. M - 1: R (the sum of a row's first K bytes) with DL,
 * else -128 R (wrapping); 4 rows at a time with UDOT against ones, rc written in blocks of 4
 * (it holds M rounded up to 4 entries). */
static void row_sums(const uint8_t *A, size_t lda, int M, int K, int DL, int32_t *rc) {
    const uint8x16_t ones = vdupq_n_u8(1);
    for (int i = 0; i < M; i += 4) {
        const uint8_t *a0 = A + (size_t)i * lda;
        const uint8_t *a1 = A + (size_t)(i + 1 < M ? i + 1 : M - 1) * lda;
        const uint8_t *a2 = A + (size_t)(i + 2 < M ? i + 2 : M - 1) * lda;
        const uint8_t *a3 = A + (size_t)(i + 3 < M ? i + 3 : M - 1) * lda;
        uint32x4_t s0 = vdupq_n_u32(0), s1 = s0, s2 = s0, s3 = s0;
        int k = 0;
        for (; k + 16 <= K; k += 16) {
            s0 = vdotq_u32(s0, vld1q_u8(a0 + k), ones);
            s1 = vdotq_u32(s1, vld1q_u8(a1 + k), ones);
            s2 = vdotq_u32(s2, vld1q_u8(a2 + k), ones);
            s3 = vdotq_u32(s3, vld1q_u8(a3 + k), ones);
        }
        if (k + 8 <= K) {
            const uint8x8_t z = vdup_n_u8(0);
            s0 = vdotq_u32(s0, vcombine_u8(vld1_u8(a0 + k), z), ones);
            s1 = vdotq_u32(s1, vcombine_u8(vld1_u8(a1 + k), z), ones);
            s2 = vdotq_u32(s2, vcombine_u8(vld1_u8(a2 + k), z), ones);
            s3 = vdotq_u32(s3, vcombine_u8(vld1_u8(a3 + k), z), ones);
            k += 8;
        }
        uint32_t t[4];
        vst1q_u32(t, vpaddq_u32(vpaddq_u32(s0, s1), vpaddq_u32(s2, s3)));
        for (; k < K; k++) {
            t[0] += a0[k];
            t[1] += a1[k];
            t[2] += a2[k];
            t[3] += a3[k];
        }
        const int32x4_t v = vreinterpretq_s32_u32(vld1q_u32(t));
        vst1q_s32(rc + i, DL ? v : vnegq_s32(vshlq_n_s32(v, 7)));
    }
}

static inline uint8x16_t load4_u(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return vreinterpretq_u8_u32(vdupq_n_u32(v));
}

/* One group g (4 k) of the 16 bytes in v0..v3 (rows 0..3) against weights v4..v7; the tile's
 * accumulators are v16..v31 (row r, channels 4j..: v(16 + 4r + j)). */
#define DOT_GROUP(g)                                                                             \
    "ldp q4, q5, [%[b]], #32\n\t"                                                                \
    "ldp q6, q7, [%[b]], #32\n\t"                                                                \
    "udot v16.4s, v4.16b, v0.4b[" #g "]\n\t"                                                     \
    "udot v17.4s, v5.16b, v0.4b[" #g "]\n\t"                                                     \
    "udot v18.4s, v6.16b, v0.4b[" #g "]\n\t"                                                     \
    "udot v19.4s, v7.16b, v0.4b[" #g "]\n\t"                                                     \
    "udot v20.4s, v4.16b, v1.4b[" #g "]\n\t"                                                     \
    "udot v21.4s, v5.16b, v1.4b[" #g "]\n\t"                                                     \
    "udot v22.4s, v6.16b, v1.4b[" #g "]\n\t"                                                     \
    "udot v23.4s, v7.16b, v1.4b[" #g "]\n\t"                                                     \
    "udot v24.4s, v4.16b, v2.4b[" #g "]\n\t"                                                     \
    "udot v25.4s, v5.16b, v2.4b[" #g "]\n\t"                                                     \
    "udot v26.4s, v6.16b, v2.4b[" #g "]\n\t"                                                     \
    "udot v27.4s, v7.16b, v2.4b[" #g "]\n\t"                                                     \
    "udot v28.4s, v4.16b, v3.4b[" #g "]\n\t"                                                     \
    "udot v29.4s, v5.16b, v3.4b[" #g "]\n\t"                                                     \
    "udot v30.4s, v6.16b, v3.4b[" #g "]\n\t"                                                     \
    "udot v31.4s, v7.16b, v3.4b[" #g "]\n\t"

/* What a channel block's tiles share. */
typedef struct blk {
    int32x4_t bq[4];   /* bias - 128 S of its 16 channels                                */
    int32x4_t cf[4];   /* delta - 128 (DL tiles; read by the init at bq + 64 bytes)      */
    int32x4_t m0;      /* M0 in lane 0 (fast tiles)                                      */
    const uint8_t *b;  /* the block's packed weights                                     */
} blk;

/* Accumulators of rows m .. m + mr - 1 (mr <= MR; missing rows alias the last real one,
 * computed, never stored) of block `bk`, into v[16] (row r, channels 4j..: v[4r + j]).
 * rc: the rows' -128 R (DL 0) or R (DL 1: times delta - 128), 4 entries readable. */
static inline __attribute__((always_inline)) void
tile_acc(const int DL, int32x4_t *v, int mr, int Kp, const uint8_t *A, size_t lda, const blk *bk,
         const int32_t *rc) {
    const uint8_t *a0 = A, *a1 = A + (size_t)(mr > 1 ? 1 : 0) * lda;
    const uint8_t *a2 = A + (size_t)(mr > 2 ? 2 : mr - 1) * lda;
    const uint8_t *a3 = A + (size_t)(mr > 3 ? 3 : mr - 1) * lda;
    const uint8_t *b = bk->b;
    /* Init and main loop in assembly: 24 vector registers in use, which the compiler's
     * allocation of the same intrinsics spilled. Accumulators leave in v16..v31 (register
     * variables: no round trip through memory). */
    long steps = Kp / 16;
    register int32x4_t c0 __asm__("v16"), c1 __asm__("v17"), c2 __asm__("v18"),
        c3 __asm__("v19"), c4 __asm__("v20"), c5 __asm__("v21"), c6 __asm__("v22"),
        c7 __asm__("v23"), c8 __asm__("v24"), c9 __asm__("v25"), c10 __asm__("v26"),
        c11 __asm__("v27"), c12 __asm__("v28"), c13 __asm__("v29"), c14 __asm__("v30"),
        c15 __asm__("v31");
#define TILE_LOOP                                                                                \
    "cbz %[n], 2f\n\t"                                                                            \
    /* the loop inside one 2^9-byte line: never across a page */                                 \
    "b 1f\n\t"                                                                                    \
    ".p2align 9\n\t"                                                                              \
    "1:\n\t"                                                                                      \
    "ldr q0, [%[a0]], #16\n\t"                                                                    \
    "ldr q1, [%[a1]], #16\n\t"                                                                    \
    "ldr q2, [%[a2]], #16\n\t"                                                                    \
    "ldr q3, [%[a3]], #16\n\t"                                                                    \
    DOT_GROUP(0) DOT_GROUP(1) DOT_GROUP(2) DOT_GROUP(3)                                          \
    "subs %[n], %[n], #1\n\t"                                                                     \
    "b.ne 1b\n\t"                                                                                 \
    "2:\n\t"
#define TILE_OPERANDS                                                                            \
    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [b] "+r"(b), [n] "+r"(steps),  \
      "=&w"(c0), "=&w"(c1), "=&w"(c2), "=&w"(c3), "=&w"(c4), "=&w"(c5), "=&w"(c6), "=&w"(c7),    \
      "=&w"(c8), "=&w"(c9), "=&w"(c10), "=&w"(c11), "=&w"(c12), "=&w"(c13), "=&w"(c14),          \
      "=&w"(c15)                                                                                 \
    : [bk] "r"(bk->bq), [rc] "r"(rc)
    if (DL) /* bias - 128 S + (delta - 128) R: the bias loaded per row, one MLA per vector */
        __asm__ volatile("ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[bk]]\n\t"
                         "ld1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[bk]]\n\t"
                         "ld1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[bk]]\n\t"
                         "ld1 {v28.4s, v29.4s, v30.4s, v31.4s}, [%[bk]]\n\t"
                         "ldp q4, q5, [%[bk], #64]\n\t"
                         "ldp q6, q7, [%[bk], #96]\n\t"
                         "ldr q0, [%[rc]]\n\t"
                         "mla v16.4s, v4.4s, v0.s[0]\n\t"
                         "mla v17.4s, v5.4s, v0.s[0]\n\t"
                         "mla v18.4s, v6.4s, v0.s[0]\n\t"
                         "mla v19.4s, v7.4s, v0.s[0]\n\t"
                         "mla v20.4s, v4.4s, v0.s[1]\n\t"
                         "mla v21.4s, v5.4s, v0.s[1]\n\t"
                         "mla v22.4s, v6.4s, v0.s[1]\n\t"
                         "mla v23.4s, v7.4s, v0.s[1]\n\t"
                         "mla v24.4s, v4.4s, v0.s[2]\n\t"
                         "mla v25.4s, v5.4s, v0.s[2]\n\t"
                         "mla v26.4s, v6.4s, v0.s[2]\n\t"
                         "mla v27.4s, v7.4s, v0.s[2]\n\t"
                         "mla v28.4s, v4.4s, v0.s[3]\n\t"
                         "mla v29.4s, v5.4s, v0.s[3]\n\t"
                         "mla v30.4s, v6.4s, v0.s[3]\n\t"
                         "mla v31.4s, v7.4s, v0.s[3]\n\t"
                         TILE_LOOP TILE_OPERANDS
                         : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "memory", "cc");
    else /* bias - 128 S - 128 R: each row's -128 R broadcast by LD4R, one ADD per vector */
        __asm__ volatile("ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[bk]]\n\t"
                         "ld4r {v4.4s, v5.4s, v6.4s, v7.4s}, [%[rc]]\n\t"
                         "add v20.4s, v16.4s, v5.4s\n\t"
                         "add v21.4s, v17.4s, v5.4s\n\t"
                         "add v22.4s, v18.4s, v5.4s\n\t"
                         "add v23.4s, v19.4s, v5.4s\n\t"
                         "add v24.4s, v16.4s, v6.4s\n\t"
                         "add v25.4s, v17.4s, v6.4s\n\t"
                         "add v26.4s, v18.4s, v6.4s\n\t"
                         "add v27.4s, v19.4s, v6.4s\n\t"
                         "add v28.4s, v16.4s, v7.4s\n\t"
                         "add v29.4s, v17.4s, v7.4s\n\t"
                         "add v30.4s, v18.4s, v7.4s\n\t"
                         "add v31.4s, v19.4s, v7.4s\n\t"
                         "add v16.4s, v16.4s, v4.4s\n\t"
                         "add v17.4s, v17.4s, v4.4s\n\t"
                         "add v18.4s, v18.4s, v4.4s\n\t"
                         "add v19.4s, v19.4s, v4.4s\n\t"
                         TILE_LOOP TILE_OPERANDS
                         : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "memory", "cc");
#undef TILE_LOOP
#undef TILE_OPERANDS
    v[0] = c0, v[1] = c1, v[2] = c2, v[3] = c3, v[4] = c4, v[5] = c5, v[6] = c6, v[7] = c7;
    v[8] = c8, v[9] = c9, v[10] = c10, v[11] = c11, v[12] = c12, v[13] = c13, v[14] = c14;
    v[15] = c15;
    for (int k = Kp & ~15; k < Kp; k += 4, a0 += 4, a1 += 4, a2 += 4, a3 += 4, b += 64) {
        const uint8x16_t x[4] = {load4_u(a0), load4_u(a1), load4_u(a2), load4_u(a3)};
        const uint8x16_t w[4] = {vld1q_u8(b), vld1q_u8(b + 16), vld1q_u8(b + 32),
                                 vld1q_u8(b + 48)};
        EV_RQ_UNROLL
        for (int i = 0; i < 16; i++)
            v[i] = vreinterpretq_s32_u32(
                vdotq_u32(vreinterpretq_u32_s32(v[i]), w[i & 3], x[i >> 2]));
    }
}

/* The fast epilogue of a full tile, e = E: SQRDMULH by M0 (TFLite's doubling high multiply
 * exactly), SQRSHRN #E (the rounding shift, ties up, and the narrowing to int16), SQXTUN (the
 * clamp to 0..255), ST1. TFLite rounds the shift half away from zero, which differs from half up
 * only at negative ties; with the zero point 0 every negative r gives a result <= 0 under either
 * rule, which the clamp at 0 makes 0: so no fixup is needed, for any M0. */
#define FAST_ROW(A0, A1, A2, A3, T0, T1, T2, T3)                                                 \
    "sqrdmulh " T0 ".4s, " A0 ".4s, %[m].s[0]\n\t"                                                \
    "sqrdmulh " T1 ".4s, " A1 ".4s, %[m].s[0]\n\t"                                                \
    "sqrdmulh " T2 ".4s, " A2 ".4s, %[m].s[0]\n\t"                                                \
    "sqrdmulh " T3 ".4s, " A3 ".4s, %[m].s[0]\n\t"                                                \
    "sqrshrn " T0 ".4h, " T0 ".4s, %[e]\n\t"                                                      \
    "sqrshrn " T2 ".4h, " T2 ".4s, %[e]\n\t"                                                      \
    "sqrshrn2 " T0 ".8h, " T1 ".4s, %[e]\n\t"                                                     \
    "sqrshrn2 " T2 ".8h, " T3 ".4s, %[e]\n\t"                                                     \
    "sqxtun " T0 ".8b, " T0 ".8h\n\t"                                                             \
    "sqxtun2 " T0 ".16b, " T2 ".8h\n\t"                                                           \
    "st1 {" T0 ".16b}, [%[o]]\n\t"                                                                \
    "add %[o], %[o], %[ldc]\n\t"
static inline __attribute__((always_inline)) void fast_store(const int32x4_t *v,
                                                             const int32x4_t m0, uint8_t *out,
                                                             size_t ldc, const int E) {
#if !defined(__OPTIMIZE__)
    /* unoptimized builds (-O0): E is no immediate there; the same steps in intrinsics */
    for (int r = 0; r < 4; r++, out += ldc) {
        int32x4_t t[4];
        for (int j = 0; j < 4; j++) t[j] = vqrdmulhq_laneq_s32(v[4 * r + j], m0, 0);
        vst1q_u8(out, vcombine_u8(vqmovun_s16(EV_RQ_SHRN(t[0], t[1], E)),
                                  vqmovun_s16(EV_RQ_SHRN(t[2], t[3], E))));
    }
#else
    /* one straight sequence (no branch, no spill) on the accumulators where tile_acc left them */
    register int32x4_t c0 __asm__("v16") = v[0], c1 __asm__("v17") = v[1],
                       c2 __asm__("v18") = v[2], c3 __asm__("v19") = v[3],
                       c4 __asm__("v20") = v[4], c5 __asm__("v21") = v[5],
                       c6 __asm__("v22") = v[6], c7 __asm__("v23") = v[7],
                       c8 __asm__("v24") = v[8], c9 __asm__("v25") = v[9],
                       c10 __asm__("v26") = v[10], c11 __asm__("v27") = v[11],
                       c12 __asm__("v28") = v[12], c13 __asm__("v29") = v[13],
                       c14 __asm__("v30") = v[14], c15 __asm__("v31") = v[15];
    __asm__ volatile(FAST_ROW("v16", "v17", "v18", "v19", "v0", "v1", "v2", "v3")
                     FAST_ROW("v20", "v21", "v22", "v23", "v4", "v5", "v6", "v7")
                     FAST_ROW("v24", "v25", "v26", "v27", "v8", "v9", "v10", "v11")
                     FAST_ROW("v28", "v29", "v30", "v31", "v0", "v1", "v2", "v3")
                     : [o] "+r"(out)
                     : [m] "w"(m0), [e] "i"(E), [ldc] "r"(ldc), "w"(c0), "w"(c1), "w"(c2),
                       "w"(c3), "w"(c4), "w"(c5), "w"(c6), "w"(c7), "w"(c8), "w"(c9), "w"(c10),
                       "w"(c11), "w"(c12), "w"(c13), "w"(c14), "w"(c15)
                     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
                       "memory");
#endif
}
#undef FAST_ROW

/* Any tile through ev_rq16_rows (out of line: edge tiles and blocks the fast path does not
 * take). */
static __attribute__((noinline)) void tile_generic(const int DL, int mr, int N, int Kp,
                                                   const uint8_t *A, size_t lda, const blk *bk,
                                                   const int32_t *rc, const ev_rq16 *q,
                                                   uint8_t *C, size_t ldc, int n0) {
    int32x4_t v[16];
    if (DL)
        tile_acc(1, v, mr, Kp, A, lda, bk, rc);
    else
        tile_acc(0, v, mr, Kp, A, lda, bk, rc);
    ev_rq16_rows(v, MR, q, C + n0, ldc, N - n0, mr);
}

/* e of the 16 channels from n0 when the layer-wide conditions hold and their full tiles can take
 * fast_store: one multiplier M0, one right shift 1 <= e <= 16, no left shift (what
 * ev_rq16_fill's q->fast and fast_store ask, checked 4 lanes at a time); else 0. */
static int fast_e(const ev_gemm_epi *ep, int n0) {
    const int32x4_t m = vdupq_n_s32(ep->mult[n0]), e = vdupq_n_s32(ep->rshift[n0]);
    uint32x4_t ok = vdupq_n_u32(~0u);
    for (int j = 0; j < 4; j++) {
        ok = vandq_u32(ok, vceqq_s32(vld1q_s32(ep->mult + n0 + 4 * j), m));
        ok = vandq_u32(ok, vceqq_s32(vld1q_s32(ep->rshift + n0 + 4 * j), e));
        if (ep->any_lshift) ok = vandq_u32(ok, vceqzq_s32(vld1q_s32(ep->lshift + n0 + 4 * j)));
    }
    const int32_t e0 = ep->rshift[n0];
    return vminvq_u32(ok) && e0 >= 1 && e0 <= 16 ? e0 : 0;
}

/* Rows [0, mc) of a chunk for one block: full tiles with the fast epilogue of e = E (E 0: none),
 * the rest through tile_generic. */
static inline __attribute__((always_inline)) void
block_rows(const int E, const int DL, int mc, int N, int Kp, const uint8_t *A, size_t lda,
           const blk *bk, const int32_t *rc, const ev_gemm_epi *ep, ev_rq16 *q, uint8_t *C,
           size_t ldc, int n0) {
    int m = 0;
    if (E) {
        for (; m + MR <= mc; m += MR) {
            int32x4_t v[16];
            tile_acc(DL, v, MR, Kp, A + (size_t)m * lda, lda, bk, rc + m);
            fast_store(v, bk->m0, C + (size_t)m * ldc + n0, ldc, E);
        }
    }
    if (E && m < mc) ev_rq16_load(q, ep, n0, N - n0);
    for (; m < mc; m += MR)
        tile_generic(DL, mc - m < MR ? mc - m : MR, N, Kp, A + (size_t)m * lda, lda, bk, rc + m,
                     q, C + (size_t)m * ldc, ldc, n0);
}

/* A last block of exactly 8 real channels (N % 16 == 8, as PoseNet's conv0 with 24) under the
 * same layer-wide conditions: e (1..31) when those 8 share one multiplier and one right shift
 * and have no left shift, else 0. */
static int half_e(const ev_gemm_epi *ep, int n0) {
    const int32x4_t m = vdupq_n_s32(ep->mult[n0]), e = vdupq_n_s32(ep->rshift[n0]);
    uint32x4_t ok = vdupq_n_u32(~0u);
    for (int j = 0; j < 2; j++) {
        ok = vandq_u32(ok, vceqq_s32(vld1q_s32(ep->mult + n0 + 4 * j), m));
        ok = vandq_u32(ok, vceqq_s32(vld1q_s32(ep->rshift + n0 + 4 * j), e));
        if (ep->any_lshift) ok = vandq_u32(ok, vceqzq_s32(vld1q_s32(ep->lshift + n0 + 4 * j)));
    }
    const int32_t e0 = ep->rshift[n0];
    return vminvq_u32(ok) && e0 >= 1 && e0 <= 31 ? e0 : 0;
}

/* Rows [0, mc) of such a block: full tiles store their 8 real channels as fast_store would
 * (SQRDMULH, the rounding shift by register, saturating narrows; no fixup, zero point 0), the
 * rest through tile_generic. */
static inline __attribute__((always_inline)) void
half_rows(const int DL, int mc, int N, int Kp, const uint8_t *A, size_t lda, const blk *bk,
          const int32_t *rc, const ev_gemm_epi *ep, ev_rq16 *q, uint8_t *C, size_t ldc, int n0,
          int e) {
    const int32x4_t nsh = vdupq_n_s32(-e);
    int m = 0;
    for (; m + MR <= mc; m += MR) {
        int32x4_t v[16];
        tile_acc(DL, v, MR, Kp, A + (size_t)m * lda, lda, bk, rc + m);
        uint8_t *out = C + (size_t)m * ldc + n0;
        EV_RQ_UNROLL
        for (int r = 0; r < MR; r++) {
            const int32x4_t a = vrshlq_s32(vqrdmulhq_laneq_s32(v[4 * r], bk->m0, 0), nsh);
            const int32x4_t b = vrshlq_s32(vqrdmulhq_laneq_s32(v[4 * r + 1], bk->m0, 0), nsh);
            vst1_u8(out + (size_t)r * ldc, vqmovun_s16(vqmovn_high_s32(vqmovn_s32(a), b)));
        }
    }
    if (m < mc) ev_rq16_load(q, ep, n0, N - n0);
    for (; m < mc; m += MR)
        tile_generic(DL, mc - m < MR ? mc - m : MR, N, Kp, A + (size_t)m * lda, lda, bk, rc + m,
                     q, C + (size_t)m * ldc, ldc, n0);
}

#define BLOCK_CASE(E)                                                                            \
    case E:                                                                                      \
        if (dl)                                                                                  \
            block_rows(E, 1, mc, N, Kp, A, lda, &bk, rc, ep, &q, C, ldc, n);                         \
        else                                                                                     \
            block_rows(E, 0, mc, N, Kp, A, lda, &bk, rc, ep, &q, C, ldc, n);                         \
        break;

void ev_gemm_dotprod(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                     const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                     void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 1);
    const uint8_t *Bp = Bpv;
    dot_head h;
    memcpy(&h, Bp, sizeof h);
    const int nb = (N + 15) / 16;
    const int32_t *ns = (const int32_t *)(Bp + sizeof h);
    const uint8_t *W = Bp + sizeof h + (size_t)nb * 16 * sizeof(int32_t);
    const int dl = ep->delta != NULL;
    /* the layer-wide conditions of fast_store (a uint8 layer, zero point 0, no clamp inside
     * 0..255, ties away from zero); fast_e checks each block's channels */
    const int fast = !ep->round_half_up && !ep->out_i8 && ep->out_zp == 0 && ep->act_min <= 0 &&
                     ep->act_max >= 255;
    for (int m0 = 0; m0 < M; m0 += CHUNK, A += (size_t)CHUNK * lda, C += (size_t)CHUNK * ldc) {
        const int mc = M - m0 < CHUNK ? M - m0 : CHUNK;
        /* R of the chunk's rows (the caller's where given), then what the tiles' init reads */
        int32_t rc[CHUNK + MR] = {0};
        if (rowsum)
            for (int i = 0; i < mc; i++)
                rc[i] = dl ? rowsum[m0 + i] : (int32_t)((uint32_t)rowsum[m0 + i] * (uint32_t)-128);
        else
            row_sums(A, lda, mc, h.K, dl, rc);
        /* Channel blocks outside, pixel rows inside: the block's 16 x Kp weight bytes stay in L1
         * while the chunk's rows are swept under it; its requantization constants too. */
        for (int n = 0; n < N; n += 16) {
            const int e = fast && N - n >= 16 ? fast_e(ep, n) : 0;
            const int h8 = fast && N - n == 8 ? half_e(ep, n) : 0;
            ev_rq16 q; /* for tile_generic: loaded here, or by block_rows for an edge tile */
            if (!e && !h8) ev_rq16_load(&q, ep, n, N - n);
            blk bk;
            bk.b = W + (size_t)(n / 16) * 16 * (size_t)Kp;
            for (int j = 0; j < 4; j++) {
                bk.bq[j] = vaddq_s32(vld1q_s32(ep->bias + n + 4 * j), vld1q_s32(ns + n + 4 * j));
                bk.cf[j] = dl ? vsubq_s32(vld1q_s32(ep->delta + n + 4 * j), vdupq_n_s32(128))
                              : vdupq_n_s32(0);
            }
            bk.m0 = vdupq_n_s32(ep->mult[n]);
            if (h8) {
                if (dl)
                    half_rows(1, mc, N, Kp, A, lda, &bk, rc, ep, &q, C, ldc, n, h8);
                else
                    half_rows(0, mc, N, Kp, A, lda, &bk, rc, ep, &q, C, ldc, n, h8);
                continue;
            }
            switch (e) {
                BLOCK_CASE(1) BLOCK_CASE(2) BLOCK_CASE(3) BLOCK_CASE(4) BLOCK_CASE(5)
                BLOCK_CASE(6) BLOCK_CASE(7) BLOCK_CASE(8) BLOCK_CASE(9) BLOCK_CASE(10)
                BLOCK_CASE(11) BLOCK_CASE(12) BLOCK_CASE(13) BLOCK_CASE(14) BLOCK_CASE(15)
                BLOCK_CASE(16) BLOCK_CASE(0)
            default: break;
            }
        }
    }
}
