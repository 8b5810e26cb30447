/*
 * requant_avx512.h - TFLite's requantization on 16 int32 lanes, bit-exact: its two roundings
 * (SaturatingRoundingDoublingHighMul, RoundingDivideByPOT) as one 64-bit add and shift per lane
 * with per-channel constants (ev_gemm_epi.rq64), zero point, activation clamp. Include only from
 * files compiled with AVX-512 flags (*_avx512.c, *_vnni.c, *_amx.c). With the epilogue's
 * round_half_up (int8 CONV_2D: ruy's ties toward +infinity) negative products take the same
 * addend as positive ones (core/quant.h ev_rounding_divide_by_pot_up).
 */
#ifndef EV_BACKENDS_CPU_REQUANT_AVX512_H
#define EV_BACKENDS_CPU_REQUANT_AVX512_H

#include "backends/cpu/gemm.h"

#include <immintrin.h>

/* MultiplyByQuantizedMultiplier + zero point + clamp on 16 channels starting at n0 (a multiple
 * of 16), with the right shift's ties away from zero, or toward +infinity with ep->round_half_up.
 *
 * TFLite computes r = SaturatingRoundingDoublingHighMul(x, M0) = floor((p + 2^30) / 2^31) for
 * p = x M0 (its nudge and truncating division give exactly this for both signs; the saturating
 * case x = M0 = INT32_MIN cannot occur, M0 >= 2^30), then RoundingDivideByPOT(r, e) =
 * floor((r + t) / 2^e) with t = 2^(e-1) - [r < 0] (ties away from zero; toward +infinity:
 * t = 2^(e-1); e = 0: t = 0). Since floor((floor(a / b) + t) / c) = floor((a + t b) / (b c)) for
 * integers a, t and b, c > 0, the two steps are one:
 *     q = (p + A) >> (31 + e),   A = 2^30 + t 2^31,
 * one 64-bit add and shift per lane. [r < 0] may be read as [p < 0]: the two differ only for
 * p in [-2^30, 0), where r = 0 and both choices of t give q = 0 (the numerator stays in
 * [0, 2^(31+e)) for e >= 1). So A is A_neg = 2^30 + 2^(30+e) - 2^31 for negative products and
 * 2^30 + 2^(30+e) otherwise (ev_gemm_epi_requant's rq64). No overflow: |p| < 2^62, A < 2^62. */
static inline __m512i requant16(__m512i acc, const ev_gemm_epi *ep, int n0) {
    const int64_t *q = ep->rq64 + (size_t)(n0 / 16) * 56;
    if (ep->any_lshift) acc = _mm512_sllv_epi32(acc, _mm512_loadu_si512(ep->lshift + n0));
    __m512i pe = _mm512_mul_epi32(acc, _mm512_loadu_si512(ep->mult + n0));
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_load_si512(q));
    __m512i ae = _mm512_load_si512(q + 8), ao = _mm512_load_si512(q + 16);
    if (!ep->round_half_up) {
        ae = _mm512_mask_load_epi64(ae, _mm512_movepi64_mask(pe), q + 24);
        ao = _mm512_mask_load_epi64(ao, _mm512_movepi64_mask(po), q + 32);
    }
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, ae), _mm512_load_si512(q + 40));
    po = _mm512_srav_epi64(_mm512_add_epi64(po, ao), _mm512_load_si512(q + 48));
    __m512i r = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    r = _mm512_add_epi32(r, _mm512_set1_epi32(ep->out_zp));
    r = _mm512_max_epi32(r, _mm512_set1_epi32(ep->act_min));
    return _mm512_min_epi32(r, _mm512_set1_epi32(ep->act_max));
}

#endif
