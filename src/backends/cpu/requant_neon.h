/*
 * requant_neon.h - TFLite's requantization on 4 int32 lanes with NEON, bit-exact with
 * MultiplyByQuantizedMultiplier (core/quant.h), for the ARM kernels (*_neon.c, *_dotprod.c).
 *
 *  - SaturatingRoundingDoublingHighMul is vqrdmulhq_s32 exactly: the instruction computes
 *    sat((2ab + 2^31) >> 32) = (ab + 2^30) >> 31, which equals gemmlowp's truncating
 *    (ab + nudge) / 2^31 for both signs (see requant_avx512.h), and saturates only a = b = INT32_MIN
 *    to INT32_MAX, as gemmlowp does.
 *  - RoundingDivideByPOT(x, e) (round half away from zero) is gemmlowp's NEON idiom: a rounding
 *    shift vrshlq_s32(x, -e) rounds half up, (x + 2^(e-1)) >> e computed without overflow; for
 *    x < 0 and e > 0 the "fixup" first subtracts 1 (saturating), which turns half-up into
 *    half-down for negatives: with x = q 2^e + r, 0 <= r < 2^e, both give q + (r > 2^(e-1)).
 *    For x = INT32_MIN the saturated x - 1 still gives -2^(31-e), the exact answer.
 *  - With the epilogue's round_half_up (int8 CONV_2D: ruy's rule, ties toward +infinity) the
 *    rounding shift alone is the answer, as in ruy's NEON kernels (sqrdmulh + srshl): no fixup.
 *  - Left shifts (multipliers > 1) are vshlq_s32 by a non-negative count: the same bits as the
 *    reference's (uint32_t)x << left.
 * Then the output zero point and the activation clamp; narrowing keeps the low byte, which is the
 * uint8 or int8 value after the clamp.
 */
#ifndef EV_BACKENDS_CPU_REQUANT_NEON_H
#define EV_BACKENDS_CPU_REQUANT_NEON_H

#include "backends/cpu/gemm.h"

#include <arm_neon.h>
#include <string.h>

/* MultiplyByQuantizedMultiplier + zero point + clamp on channels n .. n + 3 (acc holds the
 * complete accumulator, bias included); ties of the right shift away from zero, or toward
 * +infinity with ep->round_half_up. */
static inline int32x4_t ev_requant4_neon(int32x4_t acc, const ev_gemm_epi *ep, int n) {
    if (ep->any_lshift) acc = vshlq_s32(acc, vld1q_s32(ep->lshift + n));
    int32x4_t r = vqrdmulhq_s32(acc, vld1q_s32(ep->mult + n));
    const int32x4_t neg_e = vnegq_s32(vld1q_s32(ep->rshift + n));
    if (!ep->round_half_up) {
        const int32x4_t fixup = vshrq_n_s32(vandq_s32(r, neg_e), 31);
        r = vqaddq_s32(r, fixup);
    }
    r = vrshlq_s32(r, neg_e);
    r = vaddq_s32(r, vdupq_n_s32(ep->out_zp));
    r = vmaxq_s32(r, vdupq_n_s32(ep->act_min));
    return vminq_s32(r, vdupq_n_s32(ep->act_max));
}

/* The same requantization for a whole register tile: the constants of 16 channels loaded once
 * (ev_rq16_load) and applied to ROWS x 16 accumulators stage by stage (ev_rq16_rows), every
 * stage over all vectors of the tile, so each stage is one long run of independent instructions
 * instead of one dependent chain per 4 channels. Two exact shortcuts when every right shift of
 * the block is positive (the usual case):
 *  - the fixup is a plain r + (r < 0 ? -1 : 0) (CMLT #0 + ADD, which either vector pipe of a
 *    Cortex-A76 issues, where SSRA would wait for the one shift pipe): vqrdmulhq_s32 never
 *    returns INT32_MIN (|2ab| <= 2^63 with equality only at a = b = INT32_MIN, which saturates
 *    up), so r - 1 never wraps;
 *  - |r| <= 2^30 after the shift, so narrowing to int16 with saturation first and adding the zero
 *    point there (saturating) gives the reference's clamp of r + zp exactly (the clamp bounds lie
 *    inside int16), one add per 8 lanes instead of per 4.
 * Otherwise the fixup masks the sign with -rshift (zero for rshift 0) and the zero point is added
 * in int32, wrapping as the reference's int32 sum does; the saturating narrows then keep clamp
 * results unchanged. The clamp is one max/min per 16 bytes (uint8, or int8 for int8 outputs). */
typedef struct ev_rq16 {
    int32x4_t mult[4], nshift[4], lshift[4]; /* M0, -rshift, lshift of channels n0 .. n0 + 15 */
    int32x4_t zp32;
    int16x8_t zp16;
    uint8x16_t lo, hi; /* act_min / act_max as bytes (the int8 bits for int8 outputs)      */
    int32_t m0;        /* the multiplier when every real channel has the same one         */
    int umult;         /* ... which is then applied by element (SQRDMULH by lane: half or  *
                        * a quarter of the vector form's cost on the modelled cores)      */
    int lsh;           /* some lshift != 0 in the block                                   */
    int pos;           /* every right shift of the block's real channels is positive      */
    int e;             /* pos and every real channel shifts right by this one e <= 16: the *
                        * shift and the narrowing are one SQRSHRN #e (0: no such e)        */
    int noclamp;       /* the clamp bounds are the output type's own (the narrowing's      *
                        * saturation is the clamp)                                         */
    int half_up, i8;
    int32_t shm;       /* 2^(31 - e) when e: SQRDMULH by it is the rounding shift by e       */
    int straight;      /* e, umult, ties away from zero: ev_rq16_straight applies            */
    int fast;          /* e, umult, noclamp, ties away from zero, uint8 out: ev_rq16_rows   *
                        * runs the whole tile as one straight sequence per e (no branch    *
                        * between stages: an out-of-order core, and llvm-mca, overlap them) */
} ev_rq16;

/* The block fields that follow from ep and the checks already in q (e, umult): the output zero
 * point and bounds, noclamp, and which straight epilogues the block may take. */
static inline void ev_rq16_finish(ev_rq16 *q, const ev_gemm_epi *ep) {
    q->noclamp = ep->out_i8 ? ep->act_min <= -128 && ep->act_max >= 127
                            : ep->act_min <= 0 && ep->act_max >= 255;
    q->zp32 = vdupq_n_s32(ep->out_zp);
    q->zp16 = vdupq_n_s16((int16_t)ep->out_zp);
    q->lo = vdupq_n_u8((uint8_t)ep->act_min);
    q->hi = vdupq_n_u8((uint8_t)ep->act_max);
    q->half_up = ep->round_half_up;
    q->i8 = ep->out_i8;
    q->fast = q->e && q->umult && q->noclamp && !q->half_up && !q->i8;
    q->straight = q->e && q->umult && !q->half_up;
    q->shm = q->e ? (int32_t)(1u << (31 - q->e)) : 0;
}

/* Constants of `width` (16 or 8) channels from n0, `count` of them real (the rest are computed,
 * never stored); with 8, the block is those 8 channels twice over (vectors 2, 3 repeat 0, 1). */
static inline void ev_rq16_fill(ev_rq16 *q, const ev_gemm_epi *ep, int n0, int count, int width) {
    q->lsh = 0;
    q->pos = 1;
    for (int j = 0; j < width && j < count; j++) {
        if (ep->rshift[n0 + j] <= 0) q->pos = 0;
        if (ep->any_lshift && ep->lshift[n0 + j]) q->lsh = 1;
    }
    q->m0 = ep->mult[n0];
    q->umult = 1;
    for (int j = 1; j < width && j < count; j++)
        if (ep->mult[n0 + j] != q->m0) q->umult = 0;
    if (q->lsh) q->pos = 0;
    q->e = q->pos ? ep->rshift[n0] : 0;
    for (int j = 1; j < width && j < count; j++)
        if (ep->rshift[n0 + j] != q->e) q->e = 0;
    if (q->e > 16) q->e = 0;
    for (int j = 0; j < 4; j++) {
        const int n = n0 + 4 * (width == 16 ? j : (j & 1));
        q->mult[j] = vld1q_s32(ep->mult + n);
        q->nshift[j] = vnegq_s32(vld1q_s32(ep->rshift + n));
        q->lshift[j] = q->lsh ? vld1q_s32(ep->lshift + n) : vdupq_n_s32(0);
    }
    ev_rq16_finish(q, ep);
}

/* Constants of channels n0 .. n0 + 15 (the epilogue arrays hold N rounded up to 16). */
static inline void ev_rq16_load(ev_rq16 *q, const ev_gemm_epi *ep, int n0, int count) {
    ev_rq16_fill(q, ep, n0, count, 16);
}

/* The same for 8 channels c .. c + 7 seen as a 16-channel block twice over (mult[2], mult[3]
 * repeat mult[0], mult[1]): a "row" of ev_rq16_bytes is then two pixels' 8 channels. */
static inline void ev_rq16_load8(ev_rq16 *q, const ev_gemm_epi *ep, int c, int count) {
    ev_rq16_fill(q, ep, c, count, 8);
}

/* ev_rq16_load8 for 8 real channels (count >= 8) with the block's checks done on vectors (the
 * same fields, the same values): the depthwise row kernels load one block per 8 channels per
 * output row, where ev_rq16_fill's three scalar loops cost more than the block's own fields. */
static inline void ev_rq16_load8_full(ev_rq16 *q, const ev_gemm_epi *ep, int c) {
#if defined(__aarch64__)
    const int32x4_t m0v = vld1q_s32(ep->mult + c), m1v = vld1q_s32(ep->mult + c + 4);
    const int32x4_t r0 = vld1q_s32(ep->rshift + c), r1 = vld1q_s32(ep->rshift + c + 4);
    int32x4_t l0 = vdupq_n_s32(0), l1 = l0;
    if (ep->any_lshift) l0 = vld1q_s32(ep->lshift + c), l1 = vld1q_s32(ep->lshift + c + 4);
    q->lsh = vmaxvq_u32(vreinterpretq_u32_s32(vorrq_s32(l0, l1))) != 0;
    q->pos = !q->lsh && vminvq_s32(vminq_s32(r0, r1)) > 0;
    q->m0 = ep->mult[c];
    const int32x4_t mb = vdupq_n_s32(q->m0), rb = vdupq_n_s32(ep->rshift[c]);
    q->umult = vminvq_u32(vandq_u32(vceqq_s32(m0v, mb), vceqq_s32(m1v, mb))) != 0;
    const int same_e = vminvq_u32(vandq_u32(vceqq_s32(r0, rb), vceqq_s32(r1, rb))) != 0;
    q->e = q->pos && same_e && ep->rshift[c] <= 16 ? ep->rshift[c] : 0;
    q->mult[0] = q->mult[2] = m0v, q->mult[1] = q->mult[3] = m1v;
    q->nshift[0] = q->nshift[2] = vnegq_s32(r0), q->nshift[1] = q->nshift[3] = vnegq_s32(r1);
    q->lshift[0] = q->lshift[2] = q->lsh ? l0 : vdupq_n_s32(0);
    q->lshift[1] = q->lshift[3] = q->lsh ? l1 : vdupq_n_s32(0);
    ev_rq16_finish(q, ep);
#else
    ev_rq16_fill(q, ep, c, 8, 8);
#endif
}

/* v: ROWS x 4 accumulators (row r's channels 4j.. in v[4 r + j], bias included) -> o[ROWS], the
 * 16 requantized bytes of each row. ROWS should be a constant at the call (the stages unroll), at
 * most 8. */
#define EV_RQ_UNROLL _Pragma("GCC unroll 64")
/* All ones in the negative lanes (CMLT #0 on aarch64). */
static inline uint32x4_t vcltzq_s32_compat(int32x4_t x) {
#if defined(__aarch64__)
    return vcltzq_s32(x);
#else
    return vcltq_s32(x, vdupq_n_s32(0));
#endif
}
/* The round-half-away fixup r + (r < 0 ? -1 : 0) of a positive shift (r != INT32_MIN: see
 * above). The dot-product path (Cortex-A76/A55) takes CMLT #0 + ADD, which either vector pipe
 * issues; the plain NEON path (Cortex-A72/A53, armv7) one SSRA #31, since its multiply pipe also
 * takes CMLT while its other pipe, after the one-instruction shift-and-narrow below, has room. */
static inline int32x4_t ev_rq_fixup(int32x4_t r) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vaddq_s32(r, vreinterpretq_s32_u32(vcltzq_s32_compat(r)));
#else
    return vsraq_n_s32(r, r, 31);
#endif
}

/* Two vectors shifted right by E with rounding (ties up) and narrowed to int16 with saturation:
 * SQRSHRN + SQRSHRN2, the same bits as vrshlq_s32(x, -E) then vqmovn_s32 (the rounding add is
 * done in wider precision by the instruction, so it never overflows). */
#if !defined(__OPTIMIZE__)
/* Unoptimized builds (-O0) do not fold E through the always_inline callers into the immediate
 * the _n_ forms need: the register form, same bits. */
#define EV_RQ_SHRN(a, b, E)                                                                      \
    vcombine_s16(vqmovn_s32(vrshlq_s32((a), vdupq_n_s32(-(E)))),                                 \
                 vqmovn_s32(vrshlq_s32((b), vdupq_n_s32(-(E)))))
#elif defined(__aarch64__)
#define EV_RQ_SHRN(a, b, E) vqrshrn_high_n_s32(vqrshrn_n_s32((a), (E)), (b), (E))
#else
#define EV_RQ_SHRN(a, b, E) vcombine_s16(vqrshrn_n_s32((a), (E)), vqrshrn_n_s32((b), (E)))
#endif
#define EV_RQ_SHRN_CASE(E)                                                                       \
    case E:                                                                                      \
        EV_RQ_UNROLL                                                                             \
        for (int i = 0; i < nh; i++) h[i] = EV_RQ_SHRN(v[2 * i], v[2 * i + 1], E);               \
        break;

static inline __attribute__((always_inline)) void ev_rq16_bytes(int32x4_t *v, int ROWS,
                                                                const ev_rq16 *q,
                                                                uint8x16_t *o) {
    const int nv = 4 * ROWS, nh = 2 * ROWS;
    int16x8_t h[16]; /* ROWS <= 8 */
    if (q->lsh) {
        EV_RQ_UNROLL
        for (int i = 0; i < nv; i++) v[i] = vshlq_s32(v[i], q->lshift[i & 3]);
    }
    if (q->umult) {
        EV_RQ_UNROLL
        for (int i = 0; i < nv; i++) v[i] = vqrdmulhq_n_s32(v[i], q->m0);
    } else {
        EV_RQ_UNROLL
        for (int i = 0; i < nv; i++) v[i] = vqrdmulhq_s32(v[i], q->mult[i & 3]);
    }
    if (q->e) { /* one shift e for the block: shift and narrow in one instruction */
        if (!q->half_up) {
            EV_RQ_UNROLL
            for (int i = 0; i < nv; i++) v[i] = ev_rq_fixup(v[i]);
        }
        switch (q->e) {
            EV_RQ_SHRN_CASE(1) EV_RQ_SHRN_CASE(2) EV_RQ_SHRN_CASE(3) EV_RQ_SHRN_CASE(4)
            EV_RQ_SHRN_CASE(5) EV_RQ_SHRN_CASE(6) EV_RQ_SHRN_CASE(7) EV_RQ_SHRN_CASE(8)
            EV_RQ_SHRN_CASE(9) EV_RQ_SHRN_CASE(10) EV_RQ_SHRN_CASE(11) EV_RQ_SHRN_CASE(12)
            EV_RQ_SHRN_CASE(13) EV_RQ_SHRN_CASE(14) EV_RQ_SHRN_CASE(15)
        default: /* 16 */
            EV_RQ_UNROLL
            for (int i = 0; i < nh; i++) h[i] = EV_RQ_SHRN(v[2 * i], v[2 * i + 1], 16);
            break;
        }
    } else {
        if (q->pos) {
            if (!q->half_up) {
                EV_RQ_UNROLL
                for (int i = 0; i < nv; i++) v[i] = ev_rq_fixup(v[i]);
            }
            EV_RQ_UNROLL
            for (int i = 0; i < nv; i++) v[i] = vrshlq_s32(v[i], q->nshift[i & 3]);
        } else {
            if (!q->half_up) {
                EV_RQ_UNROLL
                for (int i = 0; i < nv; i++)
                    v[i] = vsraq_n_s32(v[i], vandq_s32(v[i], q->nshift[i & 3]), 31);
            }
            EV_RQ_UNROLL
            for (int i = 0; i < nv; i++) {
                v[i] = vrshlq_s32(v[i], q->nshift[i & 3]);
                v[i] = vaddq_s32(v[i], q->zp32);
            }
        }
        EV_RQ_UNROLL
        for (int i = 0; i < nh; i++)
            h[i] = vcombine_s16(vqmovn_s32(v[2 * i]), vqmovn_s32(v[2 * i + 1]));
    }
    if (q->pos) {
        EV_RQ_UNROLL
        for (int i = 0; i < nh; i++) h[i] = vqaddq_s16(h[i], q->zp16);
    }
    if (q->i8) {
        const int8x16_t lo = vreinterpretq_s8_u8(q->lo), hi = vreinterpretq_s8_u8(q->hi);
        EV_RQ_UNROLL
        for (int r = 0; r < ROWS; r++)
            o[r] = vreinterpretq_u8_s8(vcombine_s8(vqmovn_s16(h[2 * r]), vqmovn_s16(h[2 * r + 1])));
        if (!q->noclamp) {
            EV_RQ_UNROLL
            for (int r = 0; r < ROWS; r++)
                o[r] = vreinterpretq_u8_s8(vminq_s8(vmaxq_s8(vreinterpretq_s8_u8(o[r]), lo), hi));
        }
    } else {
        EV_RQ_UNROLL
        for (int r = 0; r < ROWS; r++)
            o[r] = vcombine_u8(vqmovun_s16(h[2 * r]), vqmovun_s16(h[2 * r + 1]));
        if (!q->noclamp) {
            EV_RQ_UNROLL
            for (int r = 0; r < ROWS; r++) o[r] = vminq_u8(vmaxq_u8(o[r], q->lo), q->hi);
        }
    }
}

/* ev_rq16_bytes for a block with q->straight, with no branch: the rounding shift by e is
 * SQRDMULH by 2^(31 - e), (2 r 2^(31 - e) + 2^31) >> 32 = (r + 2^(e - 1)) >> e exactly (ties
 * up, as SRSHL; it never saturates), which either vector pipe of the Cortex-A76 issues: one
 * straight sequence for kernels that requantize inside their loops (dwconv_dotprod.c). I8: the
 * output type (constant at the call). */
static inline __attribute__((always_inline)) void ev_rq16_straight(int32x4_t *v, int ROWS,
                                                                   const ev_rq16 *q, uint8x16_t *o,
                                                                   const int I8) {
    const int nv = 4 * ROWS, nh = 2 * ROWS;
    int16x8_t h[16];
    EV_RQ_UNROLL
    for (int i = 0; i < nv; i++) v[i] = vqrdmulhq_n_s32(v[i], q->m0);
    EV_RQ_UNROLL
    for (int i = 0; i < nv; i++) v[i] = vqrdmulhq_n_s32(ev_rq_fixup(v[i]), q->shm);
    EV_RQ_UNROLL
    for (int i = 0; i < nh; i++)
        h[i] = vqaddq_s16(vcombine_s16(vqmovn_s32(v[2 * i]), vqmovn_s32(v[2 * i + 1])), q->zp16);
    EV_RQ_UNROLL
    for (int r = 0; r < ROWS; r++) {
        if (I8) {
            const int8x16_t b = vcombine_s8(vqmovn_s16(h[2 * r]), vqmovn_s16(h[2 * r + 1]));
            o[r] = vreinterpretq_u8_s8(vminq_s8(vmaxq_s8(b, vreinterpretq_s8_u8(q->lo)),
                                                vreinterpretq_s8_u8(q->hi)));
        } else {
            const uint8x16_t b = vcombine_u8(vqmovun_s16(h[2 * r]), vqmovun_s16(h[2 * r + 1]));
            o[r] = vminq_u8(vmaxq_u8(b, q->lo), q->hi);
        }
    }
}

/* The first `count` bytes of rows 0 .. rows - 1 of o to out, ldc apart (a tile's edge: kept out
 * of line, so the whole-tile path keeps o in registers). */
static __attribute__((noinline, unused)) void ev_rq16_store_part(const uint8x16_t *o, int rows,
                                                                 uint8_t *out, size_t ldc,
                                                                 int count) {
    for (int r = 0; r < rows; r++) {
        uint8_t tmp[16];
        vst1q_u8(tmp, o[r]);
        memcpy(out + (size_t)r * ldc, tmp, (size_t)(count < 16 ? count : 16));
    }
}

/* 16 bytes to p: ST1 on aarch64 (the Neoverse-N1 model, our Cortex-A76 proxy, charges a
 * vector pipe twice for the STR Q that vst1q_u8 becomes), vst1q_u8 elsewhere. */
static inline void ev_st16_neon(uint8_t *p, uint8x16_t v) {
#if defined(__aarch64__)
    __asm__("st1 {%1.16b}, %0" : "=Q"(*(uint8_t(*)[16])p) : "w"(v));
#else
    vst1q_u8(p, v);
#endif
}

/* The per-tensor arithmetic of ev_rq16_fast and ev_rq16_e_bytes, E the block's e: h[0..2 ROWS)
 * = v multiplied by element, fixed up, SQRSHRN #E, plus the zero point (int16). */
static inline __attribute__((always_inline)) void ev_rq16_e_h(int32x4_t *v, int ROWS,
                                                              const ev_rq16 *q, int16x8_t *h,
                                                              const int E) {
    const int nv = 4 * ROWS, nh = 2 * ROWS;
    EV_RQ_UNROLL
    for (int i = 0; i < nv; i++) v[i] = vqrdmulhq_n_s32(v[i], q->m0);
    EV_RQ_UNROLL
    for (int i = 0; i < nv; i++) v[i] = ev_rq_fixup(v[i]);
    EV_RQ_UNROLL
    for (int i = 0; i < nh; i++) h[i] = vqaddq_s16(EV_RQ_SHRN(v[2 * i], v[2 * i + 1], E), q->zp16);
}

/* ev_rq16_bytes for a block with q->fast and its e as the constant E, stored whole: one
 * multiply by element, the fixup, SQRSHRN #E, the zero point, SQXTUN and ST1 per vector. */
static inline __attribute__((always_inline)) void ev_rq16_fast(int32x4_t *v, int ROWS,
                                                               const ev_rq16 *q, uint8_t *out,
                                                               size_t ldc, const int E) {
    int16x8_t h[16];
    ev_rq16_e_h(v, ROWS, q, h, E);
    EV_RQ_UNROLL
    for (int r = 0; r < ROWS; r++)
        ev_st16_neon(out + (size_t)r * ldc,
                     vcombine_u8(vqmovun_s16(h[2 * r]), vqmovun_s16(h[2 * r + 1])));
}
/* ev_rq16_fast's arithmetic for a block with q->straight and uint8 output, E its e, into bytes
 * clamped to [lo, hi] (the activation bounds as uint8, computed by the caller: q->lo / q->hi
 * wrap where a bound lies outside [0, 255]): one straight sequence, no branch (the depthwise
 * runs of dwconv_neon.c, whose two pixels of a "row" are not adjacent in memory). */
static inline __attribute__((always_inline)) void ev_rq16_e_bytes(int32x4_t *v, int ROWS,
                                                                  const ev_rq16 *q, uint8x16_t lo,
                                                                  uint8x16_t hi, uint8x16_t *o,
                                                                  const int E) {
    int16x8_t h[16];
    ev_rq16_e_h(v, ROWS, q, h, E);
    EV_RQ_UNROLL
    for (int r = 0; r < ROWS; r++)
        o[r] = vminq_u8(vmaxq_u8(vcombine_u8(vqmovun_s16(h[2 * r]), vqmovun_s16(h[2 * r + 1])), lo),
                        hi);
}
#define EV_RQ_FAST_CASE(E)                                                                       \
    case E:                                                                                      \
        ev_rq16_fast(v, ROWS, q, out, ldc, E);                                                   \
        return;

/* ev_rq16_bytes, then the first `count` (1..16) bytes of each of the first `store_rows` rows to
 * out, ldc apart. */
static inline __attribute__((always_inline)) void ev_rq16_rows(int32x4_t *v, int ROWS,
                                                               const ev_rq16 *q, uint8_t *out,
                                                               size_t ldc, int count,
                                                               int store_rows) {
    if (q->fast && count >= 16 && store_rows == ROWS) {
        switch (q->e) {
            EV_RQ_FAST_CASE(1) EV_RQ_FAST_CASE(2) EV_RQ_FAST_CASE(3) EV_RQ_FAST_CASE(4)
            EV_RQ_FAST_CASE(5) EV_RQ_FAST_CASE(6) EV_RQ_FAST_CASE(7) EV_RQ_FAST_CASE(8)
            EV_RQ_FAST_CASE(9) EV_RQ_FAST_CASE(10) EV_RQ_FAST_CASE(11) EV_RQ_FAST_CASE(12)
            EV_RQ_FAST_CASE(13) EV_RQ_FAST_CASE(14) EV_RQ_FAST_CASE(15) EV_RQ_FAST_CASE(16)
            default: break;
        }
    }
    uint8x16_t o[8];
    ev_rq16_bytes(v, ROWS, q, o);
    if (count >= 16 && store_rows == ROWS) {
        EV_RQ_UNROLL
        for (int r = 0; r < ROWS; r++) ev_st16_neon(out + (size_t)r * ldc, o[r]);
    } else {
        ev_rq16_store_part(o, store_rows < ROWS ? store_rows : ROWS, out, ldc, count);
    }
}

/* Low bytes of 16 requantized lanes. */
static inline uint8x16_t ev_narrow16_neon(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    int16x8_t ab = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
    int16x8_t cd = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    return vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(ab), vmovn_s16(cd)));
}

/* Stores the first `count` (1..16) bytes of v at p. */
static inline void ev_store_partial_neon(uint8_t *p, uint8x16_t v, int count) {
    if (count >= 16) {
        vst1q_u8(p, v);
    } else {
        uint8_t tmp[16];
        vst1q_u8(tmp, v);
        memcpy(p, tmp, (size_t)count);
    }
}

#endif
