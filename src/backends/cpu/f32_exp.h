/*
 * f32_exp.h - expf on a vector, written once over the vocabulary of f32_ops.inc (VADD, VMUL,
 * VSET, VMAX, VMIN, and VPOW2(n): 2^n for integer-valued float lanes in [-126, 127]), for the
 * SIMD files that include it before f32_ops.inc.
 *
 * Cephes expf: n = round(x * log2(e)) (the 1.5 * 2^23 trick), r = x - n * ln2 in two parts
 * (0.693359375 - 2.12194440e-4, exact products), e^r by a degree-6 polynomial, times 2^n. Within
 * 2 ulp of expf on [-87, 88]. Inputs are clamped to [-104, 88.7] first (NaN passes through the
 * clamp, as VMIN(hi, VMAX(lo, x)) keeps it); below -87, 2^n is applied as 2^(n - n/2) * 2^(n/2)
 * so results reach the subnormals as expf's do, and below -104 they round to 0.
 *
 * Extend: another transcendental (tanh for TANH) goes beside it on the same vocabulary.
 */
#ifndef EV_BACKENDS_CPU_F32_EXP_H
#define EV_BACKENDS_CPU_F32_EXP_H

static inline V f32_vexp(V x) {
    const V magic = VSET(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
    x = VMIN(VSET(88.7f), VMAX(VSET(-104.0f), x));
    V n = VSUB(VADD(VMUL(x, VSET(1.44269504088896341f)), magic), magic);
    V r = VSUB(x, VMUL(n, VSET(0.693359375f)));
    r = VSUB(r, VMUL(n, VSET(-2.12194440e-4f)));
    V p = VSET(1.9875691500e-4f);
    p = VADD(VMUL(p, r), VSET(1.3981999507e-3f));
    p = VADD(VMUL(p, r), VSET(8.3334519073e-3f));
    p = VADD(VMUL(p, r), VSET(4.1665795894e-2f));
    p = VADD(VMUL(p, r), VSET(1.6666665459e-1f));
    p = VADD(VMUL(p, r), VSET(5.0000001201e-1f));
    p = VADD(VADD(VMUL(p, VMUL(r, r)), r), VSET(1.0f));
    /* 2^n = 2^n1 * 2^n2, n1 = round(n / 2): both factors normal for n in [-150, 128] */
    const V n1 = VSUB(VADD(VMUL(n, VSET(0.5f)), magic), magic);
    const V n2 = VSUB(n, n1);
    return VMUL(VMUL(p, VPOW2(n1)), VPOW2(n2));
}

#endif
