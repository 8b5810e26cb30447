/*
 * requant_avx512.h - TFLite's requantization on 16 int32 lanes, bit-exact: SaturatingRounding-
 * DoublingHighMul in 64-bit lanes (C truncating division emulated), RoundingDivideByPOT with
 * per-lane shifts, zero point, activation clamp. Include only from files compiled with AVX-512
 * flags (*_avx512.c, *_vnni.c). With the epilogue's round_half_up (int8 CONV_2D: ruy's ties
 * toward +infinity) the rounding threshold is mask >> 1 without the (r < 0) term (core/quant.h
 * ev_rounding_divide_by_pot_up; requant_avx2.h step 3).
 */
#ifndef EV_BACKENDS_CPU_REQUANT_AVX512_H
#define EV_BACKENDS_CPU_REQUANT_AVX512_H

#include "backends/cpu/gemm.h"

#include <immintrin.h>

/* SaturatingRoundingDoublingHighMul on a 64-bit product p: TFLite computes
 * (p + nudge) / 2^31 with C's truncating division, nudge = p >= 0 ? 2^30 : 1 - 2^30. The sign of
 * p + nudge is the sign of p, so for p < 0 truncation is the floor of (p + nudge + 2^31 - 1),
 * i.e. of (p + 2^30): in both cases the result is (p + 2^30) >> 31, arithmetic. */
static inline __m512i srdhm64(__m512i p) {
    return _mm512_srai_epi64(_mm512_add_epi64(p, _mm512_set1_epi64(1ll << 30)), 31);
}

/* MultiplyByQuantizedMultiplier + zero point + clamp on 16 channels starting at n0 (ties of the
 * right shift away from zero, or toward +infinity with ep->round_half_up). */
static inline __m512i requant16(__m512i acc, const ev_gemm_epi *ep, int n0) {
    const __m512i m = _mm512_loadu_si512(ep->mult + n0);
    const __m512i rs = _mm512_loadu_si512(ep->rshift + n0);
    const __m512i mask = _mm512_loadu_si512(ep->rmask + n0);
    if (ep->any_lshift) acc = _mm512_sllv_epi32(acc, _mm512_loadu_si512(ep->lshift + n0));
    __m512i pe = srdhm64(_mm512_mul_epi32(acc, m));
    __m512i po = srdhm64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(m, 32)));
    __m512i r = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    /* RoundingDivideByPOT: (r >> e) + (rem > (mask >> 1) + (r < 0)); half up: no (r < 0) */
    __m512i rem = _mm512_and_si512(r, mask);
    __m512i thr = _mm512_srai_epi32(mask, 1);
    if (!ep->round_half_up) thr = _mm512_add_epi32(thr, _mm512_srli_epi32(r, 31));
    __mmask16 up = _mm512_cmpgt_epi32_mask(rem, thr);
    r = _mm512_srav_epi32(r, rs);
    r = _mm512_mask_sub_epi32(r, up, r, _mm512_set1_epi32(-1));
    r = _mm512_add_epi32(r, _mm512_set1_epi32(ep->out_zp));
    r = _mm512_max_epi32(r, _mm512_set1_epi32(ep->act_min));
    return _mm512_min_epi32(r, _mm512_set1_epi32(ep->act_max));
}

#endif
