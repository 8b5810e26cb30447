/*
 * requant_avx2.h - TFLite's requantization (MultiplyByQuantizedMultiplier + zero point +
 * activation clamp) on 8 int32 lanes with AVX2, bit-exact with ev_mul_by_quantized_multiplier
 * (src/core/quant.h), per output channel from an ev_gemm_epi (gemm.h). Include only from files
 * compiled with AVX2 flags (*_avx2.c); the AVX-512 counterpart is requant_avx512.h.
 *
 * Use: load a channel block's parameters once (ev_rq_avx2_load, outside the pixel loop: stores
 * to uint8_t output may alias the tables, so the compiler cannot hoist them itself), then
 * ev_requant8_avx2 per accumulator, then ev_pack8/16/32_avx2 to bytes.
 *
 * Design and proof of exactness, lane by lane (x = accumulator, M0 = mult, e = rshift):
 *  1. Left shift: (uint32)x << lshift wraps exactly like the scalar code: vpsllvd.
 *  2. SaturatingRoundingDoublingHighMul(x, M0): TFLite computes (p + nudge) / 2^31 with C's
 *     truncating division, p = x * M0 (64-bit), nudge = p >= 0 ? 2^30 : 1 - 2^30. For p >= 0
 *     that is floor((p + 2^30) / 2^31); for p < 0, p + nudge < 0 and truncation is the ceiling,
 *     ceil((p + 1 - 2^30) / 2^31) = floor((p + 1 - 2^30 + 2^31 - 1) / 2^31) = floor((p + 2^30) /
 *     2^31). So the result is q >> 31 (arithmetic) with q = p + 2^30, for both signs. The
 *     saturating case x = M0 = INT32_MIN cannot occur: QuantizeMultiplier gives M0 = 0 or M0 in
 *     [2^30, 2^31). Then |p| <= 2^31 (2^31 - 1) and q >> 31 lies in [-2^31 + 1, 2^31 - 1]: the
 *     result is bits 31..62 of q, the higher bits being its sign extension. AVX2 has no 64-bit
 *     arithmetic shift, and needs none: vpmuldq (_mm256_mul_epi32) forms the exact 64-bit p of
 *     the even lanes; bits 31..62 of q are the low dword of the logical q >> 31 (even lanes) and
 *     the high dword of q << 1 (odd lanes, whose p comes from vpmuldq on the odd dwords moved
 *     down by vpshufd); one vpblendd merges them in place.
 *  3. RoundingDivideByPOT(r, e) = (r >> e) + (rem > thr), rem = r & mask, mask = 2^e - 1,
 *     thr = (mask >> 1) + (r < 0): vpsravd, vpand, vpsrld(r, 31) for (r < 0), vpcmpgtd (signed
 *     compare: rem lies in [0, 2^31 - 1], thr in [0, 2^30]) gives -1 where it rounds up, subtracted.
     With the epilogue's round_half_up (int8 CONV_2D, ties toward +infinity as ruy rounds them)
     thr is mask >> 1 alone: rem > mask >> 1 is rem >= 2^(e-1), exactly when adding 2^(e-1)
     carries into bit e (core/quant.h ev_rounding_divide_by_pot_up). thr is then a per-channel
     constant loaded with the parameters: one vpsrld and one vpaddd fewer per vector.
 *  4. + out_zp, max act_min, min act_max (vpaddd, vpmaxsd, vpminsd), as in the scalar code.
 *  5. Packing: after the clamp every lane is in [act_min, act_max], inside [0, 255] (uint8) or
 *     [-128, 127] (int8), so its low byte is the output byte. v & 0xFF is in [0, 255], and the
 *     unsigned saturating packs (vpackusdw, vpackuswb) pass such values unchanged: one path for
 *     both types. vpermd / vpermq undo the packs' 128-bit lane interleave.
 *
 * Extend: a kernel with accumulators in another channel order permutes the loaded parameters
 * (or its accumulators) instead of changing this file; a 16-bit output type stops after
 * vpackssdw.
 */
#ifndef EV_BACKENDS_CPU_REQUANT_AVX2_H
#define EV_BACKENDS_CPU_REQUANT_AVX2_H

#include "backends/cpu/gemm.h"

#include <immintrin.h>

/* One block of 8 channels' requantization parameters, in registers. */
typedef struct ev_rq_avx2 {
    __m256i mult_e, mult_o; /* M0 (even lanes), M0 of the odd lanes moved to the even dwords */
    __m256i lshift, rshift, rmask;
    __m256i thr; /* rmask >> 1: the rounding threshold, before the (r < 0) term             */
    __m256i zp, lo, hi;
    __m128i lo8, hi8; /* act_min, act_max as bytes (uint8 or int8: see out_i8)             */
    int any_lshift;
    int half_up; /* ep->round_half_up: no (r < 0) term                                      */
    int out_i8;  /* ep->out_i8: the byte clamp and packs of the *c_avx2 functions are signed */
} ev_rq_avx2;

/* Parameters of channels n0 .. n0 + 7 (the epilogue's tables are padded: np >= n0 + 8). */
static inline ev_rq_avx2 ev_rq_avx2_load(const ev_gemm_epi *ep, int n0) {
    ev_rq_avx2 q;
    q.mult_e = _mm256_loadu_si256((const __m256i *)(ep->mult + n0));
    q.mult_o = _mm256_shuffle_epi32(q.mult_e, 0xF5);
    q.lshift = _mm256_loadu_si256((const __m256i *)(ep->lshift + n0));
    q.rshift = _mm256_loadu_si256((const __m256i *)(ep->rshift + n0));
    q.rmask = _mm256_loadu_si256((const __m256i *)(ep->rmask + n0));
    q.thr = _mm256_srai_epi32(q.rmask, 1);
    q.zp = _mm256_set1_epi32(ep->out_zp);
    q.lo = _mm256_set1_epi32(ep->act_min);
    q.hi = _mm256_set1_epi32(ep->act_max);
    q.lo8 = _mm_set1_epi8((char)ep->act_min);
    q.hi8 = _mm_set1_epi8((char)ep->act_max);
    q.any_lshift = ep->any_lshift;
    q.half_up = ep->round_half_up;
    q.out_i8 = ep->out_i8;
    return q;
}

/* Steps 1-3 and the zero point of ev_requant8_avx2 (below), without the clamp: the int32 lanes go to
 * ev_packc8/16/32_avx2, whose saturating packs and byte max/min clamp them (step 5'). The (r < 0)
 * term is -(0 > r) (vpcmpgtd) instead of the logical shift r >> 31: equal values, and a port
 * that shifts do not use. */
static inline __attribute__((always_inline)) __m256i ev_requant8_nc_avx2(__m256i x, const ev_rq_avx2 *q) {
    if (q->any_lshift) x = _mm256_sllv_epi32(x, q->lshift);
    const __m256i nudge = _mm256_set1_epi64x(1ll << 30);
    __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, q->mult_e), nudge);
    __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), q->mult_o),
                                  nudge);
    __m256i r = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
    __m256i rem = _mm256_and_si256(r, q->rmask);
    __m256i thr =
        q->half_up ? q->thr : _mm256_sub_epi32(q->thr, _mm256_cmpgt_epi32(_mm256_setzero_si256(), r));
    __m256i up = _mm256_cmpgt_epi32(rem, thr);
    r = _mm256_sub_epi32(_mm256_srav_epi32(r, q->rshift), up);
    return _mm256_add_epi32(r, q->zp);
}

/* MultiplyByQuantizedMultiplier + zero point + clamp of 8 int32 lanes (steps 1-4 above), ties of
 * the right shift away from zero or, with q->half_up, toward +infinity. */
static inline __m256i ev_requant8_avx2(__m256i x, const ev_rq_avx2 *q) {
    return _mm256_min_epi32(_mm256_max_epi32(ev_requant8_nc_avx2(x, q), q->lo), q->hi);
}

/* Step 5' (with ev_requant8_nc_avx2). [act_min, act_max] lies inside [0, 255] (uint8 output) or
 * [-128, 127] (int8), so clamp(v, act_min, act_max) = clamp(clamp(v, 0, 255), act_min, act_max)
 * (resp. -128, 127) for every int32 v. vpackssdw clamps to [-32768, 32767], then vpackuswb to
 * [0, 255] (vpacksswb to [-128, 127]): together clamp(v, 0, 255) (resp. -128, 127), the same
 * value as one clamp, since the first interval contains the second. The byte max / min then
 * apply act_min / act_max (unsigned bytes for uint8, signed for int8): the result equals step 4's
 * clamp followed by step 5's low byte, on every lane. Lane order as ev_pack16/32_avx2. */
static inline __attribute__((always_inline)) __m128i ev_clamp_bytes_avx2(__m128i v, const ev_rq_avx2 *q) {
    return q->out_i8 ? _mm_min_epi8(_mm_max_epi8(v, q->lo8), q->hi8)
                     : _mm_min_epu8(_mm_max_epu8(v, q->lo8), q->hi8);
}

/* 8 output bytes of one ev_requant8_nc_avx2 vector, in the low half of the result. */
static inline __attribute__((always_inline)) __m128i ev_packc8_avx2(__m256i r, const ev_rq_avx2 *q) {
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    w = q->out_i8 ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
    return ev_clamp_bytes_avx2(w, q);
}

/* 16 output bytes of two ev_requant8_nc_avx2 vectors (channels of a, then of b). */
static inline __attribute__((always_inline)) __m128i ev_packc16_avx2(__m256i a, __m256i b, const ev_rq_avx2 *q) {
    __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8); /* a0-7, b0-7 */
    __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
    return ev_clamp_bytes_avx2(q->out_i8 ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi), q);
}

/* Output bytes of one clamped vector: 8 bytes in the low half of the result (step 5). */
static inline __m128i ev_pack8_avx2(__m256i r) {
    const __m256i ff = _mm256_set1_epi32(0xFF);
    __m256i w = _mm256_packus_epi32(_mm256_and_si256(r, ff), _mm256_setzero_si256());
    w = _mm256_packus_epi16(w, w); /* bytes 0-3 in dword 0, 4-7 in dword 4 */
    w = _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4));
    return _mm256_castsi256_si128(w);
}

/* 16 output bytes of two clamped vectors (channels of a, then of b). */
static inline __m128i ev_pack16_avx2(__m256i a, __m256i b) {
    const __m256i ff = _mm256_set1_epi32(0xFF);
    __m256i w = _mm256_packus_epi32(_mm256_and_si256(a, ff), _mm256_and_si256(b, ff));
    w = _mm256_permute4x64_epi64(w, 0xD8); /* a0-7, b0-7 as int16 */
    return _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
}

/* 32 output bytes of four clamped vectors (channels of a, b, c, d in order). */
static inline __m256i ev_pack32_avx2(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ff = _mm256_set1_epi32(0xFF);
    __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, ff), _mm256_and_si256(b, ff));
    __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, ff), _mm256_and_si256(d, ff));
    __m256i w = _mm256_packus_epi16(ab, cd); /* per lane: a0-3 b0-3 c0-3 d0-3 | a4-7 ... */
    return _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Stores the n (1..8) low bytes of an ev_pack8_avx2 result. */
static inline void ev_store_bytes_avx2(uint8_t *dst, __m128i v, int n) {
    if (n >= 8) {
        _mm_storel_epi64((__m128i *)dst, v);
        return;
    }
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)tmp, v);
    for (int i = 0; i < n; i++) dst[i] = tmp[i];
}

/* The GEMM epilogue of 8 channels n .. n + 7: acc + bias + delta * row_sum (ep's tables, padded
 * to 16 channels), requantized with q (their parameters). */
static inline __m256i ev_gemm_finish8_avx2(__m256i acc, __m256i row_sum, const ev_gemm_epi *ep,
                                           const ev_rq_avx2 *q, int n) {
    acc = _mm256_add_epi32(acc, _mm256_loadu_si256((const __m256i *)(ep->bias + n)));
    if (ep->delta)
        acc = _mm256_add_epi32(
            acc, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(ep->delta + n)), row_sum));
    return ev_requant8_avx2(acc, q);
}

/* Stores channels n0 .. n0 + 15 of one output row (r0: the first 8, r1: the next), only those
 * below N. */
static inline void ev_gemm_store16_avx2(__m256i r0, __m256i r1, int n0, int N, uint8_t *c) {
    if (n0 + 16 <= N) {
        _mm_storeu_si128((__m128i *)(c + n0), ev_pack16_avx2(r0, r1));
    } else {
        ev_store_bytes_avx2(c + n0, ev_pack8_avx2(r0), N - n0);
        if (n0 + 8 < N) ev_store_bytes_avx2(c + n0 + 8, ev_pack8_avx2(r1), N - n0 - 8);
    }
}

/* ev_gemm_finish8_avx2 without the clamp (ev_requant8_nc_avx2), for ev_gemm_storec16_avx2. */
static inline __attribute__((always_inline)) __m256i ev_gemm_finish8_nc_avx2(__m256i acc, __m256i row_sum,
                                              const ev_gemm_epi *ep, const ev_rq_avx2 *q, int n) {
    acc = _mm256_add_epi32(acc, _mm256_loadu_si256((const __m256i *)(ep->bias + n)));
    if (ep->delta)
        acc = _mm256_add_epi32(
            acc, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(ep->delta + n)), row_sum));
    return ev_requant8_nc_avx2(acc, q);
}

/* ev_gemm_store16_avx2 of two ev_gemm_finish8_nc_avx2 vectors: clamped by the packs (q: the
 * parameters of channels n0 .. n0 + 7; the clamp bytes are the layer's, the same for n0 + 8). */
static inline __attribute__((always_inline)) void ev_gemm_storec16_avx2(__m256i r0, __m256i r1, int n0, int N, uint8_t *c,
                                         const ev_rq_avx2 *q) {
    if (n0 + 16 <= N) {
        _mm_storeu_si128((__m128i *)(c + n0), ev_packc16_avx2(r0, r1, q));
    } else {
        ev_store_bytes_avx2(c + n0, ev_packc8_avx2(r0, q), N - n0);
        if (n0 + 8 < N) ev_store_bytes_avx2(c + n0 + 8, ev_packc8_avx2(r1, q), N - n0 - 8);
    }
}

#endif
