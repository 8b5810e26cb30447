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
