/*
 * quant.h - TFLite's fixed-point quantization arithmetic, bit-exact (posenet.md section 3).
 *
 * QuantizeMultiplier, MultiplyByQuantizedMultiplier with TFLite's default double rounding
 * (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT), activation ranges and rounding.
 * Header-only so every backend inlines the same code into its kernels.
 */
#ifndef EV_CORE_QUANT_H
#define EV_CORE_QUANT_H

#include <math.h>
#include <stdint.h>

/* real -> (M0, shift) with real ~= M0 * 2^(shift - 31); shift < 0 is a right shift. */
static inline void ev_quantize_multiplier(double real, int32_t *m0, int *shift) {
    if (real == 0.0) {
        *m0 = 0;
        *shift = 0;
        return;
    }
    int e;
    double q = frexp(real, &e);
    int64_t q_fixed = (int64_t)round(q * (double)(1ll << 31));
    if (q_fixed == (1ll << 31)) {
        q_fixed /= 2;
        e++;
    }
    if (e < -31) {
        e = 0;
        q_fixed = 0;
    }
    *m0 = (int32_t)q_fixed;
    *shift = e;
}

static inline int32_t ev_srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}

static inline int32_t ev_rounding_divide_by_pot(int32_t x, int exponent) {
    int32_t mask = (int32_t)((1ll << exponent) - 1);
    int32_t rem = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (rem > threshold ? 1 : 0);
}

static inline int32_t ev_mul_by_quantized_multiplier(int32_t x, int32_t m0, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return ev_rounding_divide_by_pot(ev_srdhm((int32_t)((uint32_t)x << left), m0), right);
}

/* RoundingDivideByPOT with ties toward +infinity: floor((x + 2^(e-1)) / 2^e) for e >= 1, x for
 * e == 0, without the 64-bit sum: x = q 2^e + rem (0 <= rem < 2^e, q = x >> e) rounds up exactly
 * when rem >= 2^(e-1), i.e. rem > mask >> 1. The reference rule's threshold is the same plus
 * (x < 0); dropping that term turns "ties away from zero" into "ties toward +infinity". */
static inline int32_t ev_rounding_divide_by_pot_up(int32_t x, int exponent) {
    int32_t mask = (int32_t)((1ll << exponent) - 1);
    return (x >> exponent) + ((x & mask) > (mask >> 1) ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier as TensorFlow Lite's runtime computes int8 CONV_2D (ruy, see
 * docs/tflite-runtime.md): both roundings' ties toward +infinity. The first step is ev_srdhm
 * itself: TFLite's nudge-and-truncate equals floor((p + 2^30) / 2^31) for both signs (the proof
 * is in backends/cpu/requant_avx2.h), which already rounds ties up; only the right shift
 * differs. Equal to ev_ref_ruy_mul_by_quantized_multiplier (backends/ref/ref.h, the 64-bit
 * transcription) for every M0 QuantizeMultiplier produces (tests/test_ruy_rounding.c). */
static inline int32_t ev_mul_by_quantized_multiplier_up(int32_t x, int32_t m0, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return ev_rounding_divide_by_pot_up(ev_srdhm((int32_t)((uint32_t)x << left), m0), right);
}

/* TfLiteRound: round half away from zero. */
static inline float ev_roundf_away(float x) { return roundf(x); }

/* CalculateActivationRangeQuantized for activation code `act` (ev_activation) on an output with
 * scale/zp and the dtype's range [qmin, qmax]. Returns 0 for an activation that has no
 * quantized form (TANH, SIGN_BIT, unknown). */
static inline int ev_quant_activation_range(int act, float scale, int32_t zp, int32_t qmin,
                                            int32_t qmax, int32_t *lo, int32_t *hi) {
#define EV_Q_(f) (zp + (int32_t)ev_roundf_away((f) / scale))
    switch (act) {
    case 0: *lo = qmin; *hi = qmax; return 1;
    case 1: *lo = EV_Q_(0.0f) > qmin ? EV_Q_(0.0f) : qmin; *hi = qmax; return 1;
    case 2:
        *lo = EV_Q_(-1.0f) > qmin ? EV_Q_(-1.0f) : qmin;
        *hi = EV_Q_(1.0f) < qmax ? EV_Q_(1.0f) : qmax;
        return 1;
    case 3:
        *lo = EV_Q_(0.0f) > qmin ? EV_Q_(0.0f) : qmin;
        *hi = EV_Q_(6.0f) < qmax ? EV_Q_(6.0f) : qmax;
        return 1;
    default: return 0;
    }
#undef EV_Q_
}

/* Float activation clamp range; returns 0 for unsupported codes. */
static inline int ev_float_activation_range(int act, float *lo, float *hi) {
    switch (act) {
    case 0: *lo = -INFINITY; *hi = INFINITY; return 1;
    case 1: *lo = 0.0f; *hi = INFINITY; return 1;
    case 2: *lo = -1.0f; *hi = 1.0f; return 1;
    case 3: *lo = 0.0f; *hi = 6.0f; return 1;
    default: return 0;
    }
}

#endif
