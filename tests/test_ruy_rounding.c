/*
 * test_ruy_rounding.c - ev_ref_ruy_mul_by_quantized_multiplier (src/backends/ref/ref.h), the
 * requantization of TensorFlow Lite's runtime for int8 CONV_2D (ruy: both roundings' ties toward
 * +infinity), checked three ways:
 *   - against a double computation: on random (x, M0, shift) it is within 1/2 + 2^-(right+1) of
 *     x * M0 * 2^(shift - 31) (two roundings), and equals floor(exact + 1/2) whenever the exact
 *     value is not within 2^-(right+1) of a tie;
 *   - against TFLite's reference rule (ev_mul_by_quantized_multiplier): equal except on ties,
 *     where it is exactly one step above;
 *   - against TFLite 2.9's own output: accumulators, multipliers and TFLite's result (minus the
 *     output zero point) of MoveNet Lightning's op 7 (a 1x1 int8 CONV_2D, no activation) on
 *     image1.png, taken with tools/layer_diff + bench/peers/tflite_tap.js; the ties among them
 *     are values the reference rule gets one step lower.
 *
 * And the int32 form the backends compute (core/quant.h ev_mul_by_quantized_multiplier_up)
 * equals that 64-bit transcription, ties and extremes included.
 *
 * Extend: more TFLite-produced cases are more rows of tflite_cases[].
 */
#include "ev_test.h"

#include "backends/ref/ref.h"
#include "core/quant.h"
#include "util/rng.h"

#include <math.h>
#include <stdint.h>

/* {accumulator, M0, shift, TFLite 2.9's output minus the output zero point} */
static const int32_t tflite_cases[][4] = {
    /* ties: TFLite one step above the reference rule */
    {-1438, 1720873879, -8, -4},   {-26972, 1171973039, -8, -57}, {-10515, 1411584655, -9, -13},
    {-2690, 1839373365, -9, -4},   {-5331, 1082938115, -8, -10},  {-5289, 1299396873, -8, -12},
    {-8300, 1523528145, -9, -11},  {-19887, 1907424638, -9, -34},
    /* the rest: both rules agree with TFLite */
    {-10121, 1082938115, -8, -20}, {-35662, 1165036628, -9, -38}, {-843, 1907424638, -9, -1},
    {-661, 1101176428, -8, -1},    {2532, 1463453477, -8, 7},     {11235, 1299396873, -8, 27},
    {12702, 1171973039, -8, 27},   {4428, 1720873879, -8, 14},
};

static void test_tflite_values(void) {
    int ties = 0;
    for (size_t i = 0; i < sizeof tflite_cases / sizeof tflite_cases[0]; i++) {
        const int32_t *c = tflite_cases[i];
        int32_t got = ev_ref_ruy_mul_by_quantized_multiplier(c[0], c[1], c[2]);
        CHECK_MSG(got == c[3], "case %zu: acc %d M0 %d shift %d: got %d, TFLite %d\n", i, c[0], c[1],
                  c[2], got, c[3]);
        int32_t ref = ev_mul_by_quantized_multiplier(c[0], c[1], c[2]);
        if (ref != c[3]) {
            ties++;
            CHECK_EQ_INT(ref + 1, c[3]); /* the reference rule: the tie away from zero */
        }
    }
    CHECK_MSG(ties == 8, "only %d of the TFLite cases are ties the reference rule rounds down\n",
              ties);
}

static void test_double_and_reference(void) {
    ev_rng r;
    ev_rng_seed(&r, 20240601);
    int ties = 0;
    for (int i = 0; i < 2000000; i++) {
        int32_t x = (int32_t)(ev_rng_next(&r) >> 32);
        if (i % 2) x >>= (int)(ev_rng_next(&r) % 24); /* small accumulators too */
        int32_t m0 = (int32_t)((1u << 30) + (uint32_t)(ev_rng_next(&r) % (1u << 30)));
        int shift = -(int)(ev_rng_next(&r) % 16); /* right shifts 0..15, as conv multipliers < 1 */
        if (i % 8 == 0) {                          /* exact ties: x * M0 / 2^31 lands on k + 1/2 */
            int right = -shift;
            if (right == 0) continue;
            m0 = 1 << 30; /* x * 2^30 / 2^31 = x / 2: a tie at the second rounding when x odd */
            x = (int32_t)((ev_rng_next(&r) % 20001) - 10000) * (1 << right) + (1 << (right - 1));
            x *= 2;
        }
        int right = -shift;
        int32_t got = ev_ref_ruy_mul_by_quantized_multiplier(x, m0, shift);
        double exact = (double)x * (double)m0 / ldexp(1.0, 31 + right); /* |err| < 2^-40 rel */
        double slack = 0.5 + ldexp(1.0, -(right + 1)) + 1e-6;
        if (fabs(got - exact) > slack) {
            CHECK_MSG(0, "x %d M0 %d shift %d: %d vs exact %.9f\n", x, m0, shift, got, exact);
            break;
        }
        double frac = exact - floor(exact);
        if (fabs(frac - 0.5) > ldexp(1.0, -(right + 1)) + 1e-6 && got != (int32_t)floor(exact + 0.5)) {
            CHECK_MSG(0, "x %d M0 %d shift %d: %d, not round(%.9f)\n", x, m0, shift, got, exact);
            break;
        }
        int32_t ref = ev_mul_by_quantized_multiplier(x, m0, shift);
        if (ref != got) {
            ties++;
            /* only ties differ, and ruy's lands one step above */
            if (!(got == ref + 1 && exact < 0 && fabs(frac - 0.5) <= ldexp(1.0, -(right + 1)) + 1e-6)) {
                CHECK_MSG(0, "x %d M0 %d shift %d: ruy %d, reference %d, exact %.9f\n", x, m0,
                          shift, got, ref, exact);
                break;
            }
        }
    }
    CHECK(ties > 1000);
    fprintf(stderr, "  %d random ties where ruy and the reference rule differ by one step\n", ties);
}

/* The 32-bit form every backend computes (core/quant.h ev_mul_by_quantized_multiplier_up:
 * ev_srdhm, then the right shift with threshold mask >> 1, no 64-bit sum) equals the 64-bit
 * transcription of ref.h for multipliers QuantizeMultiplier produces (0 or [2^30, 2^31)), left
 * shifts included, at the int32 extremes and on exact ties of either sign. */
static void test_int32_form(void) {
    static const int32_t edge[] = {0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MAX - 1,
                                   INT32_MIN + 1, 1 << 30, -(1 << 30), 12345678, -12345678};
    static const int32_t mults[] = {0, 1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250};
    int n = 0;
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        for (size_t j = 0; j < sizeof mults / sizeof mults[0]; j++)
            for (int shift = -31; shift <= 0; shift++) {
                int32_t a = ev_mul_by_quantized_multiplier_up(edge[i], mults[j], shift);
                int32_t b = ev_ref_ruy_mul_by_quantized_multiplier(edge[i], mults[j], shift);
                CHECK_MSG(a == b, "x %d M0 %d shift %d: %d vs %d\n", edge[i], mults[j], shift, a, b);
                n++;
            }
    ev_rng r;
    ev_rng_seed(&r, 7);
    for (int i = 0; i < 1000000; i++) {
        int32_t x = (int32_t)(ev_rng_next(&r) >> 32);
        int32_t m0 = (int32_t)((1u << 30) + (uint32_t)(ev_rng_next(&r) % (1u << 30)));
        int shift = (int)(ev_rng_next(&r) % 40) - 31; /* right 31 .. left 8 */
        if (shift > 0) x >>= shift + 1;               /* left shifts of values that fit */
        if (i % 4 == 0 && shift < 0) {                /* an exact tie at the right shift */
            m0 = 1 << 30;
            int right = -shift > 19 ? 19 : -shift; /* |x| < 2^31 */
            shift = -right;
            x = 2 * ((int32_t)(ev_rng_next(&r) % 2001) - 1000) * (1 << right) + (1 << right);
        }
        int32_t a = ev_mul_by_quantized_multiplier_up(x, m0, shift);
        int32_t b = ev_ref_ruy_mul_by_quantized_multiplier(x, m0, shift);
        if (a != b) {
            CHECK_MSG(0, "x %d M0 %d shift %d: %d vs %d\n", x, m0, shift, a, b);
            break;
        }
        n++;
    }
    fprintf(stderr, "  %d cases: the int32 form equals the 64-bit one\n", n);
}

int main(void) {
    EV_RUN(test_tflite_values);
    EV_RUN(test_double_and_reference);
    EV_RUN(test_int32_form);
    return ev_test_finish();
}
