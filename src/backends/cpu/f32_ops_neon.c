/*
 * f32_ops_neon.c - the float32 elementwise / pooling microkernels (f32_ops.inc) on NEON, four
 * lanes, with f32_exp.h's vector expf for LOGISTIC (aarch64, and armv7 with -mfpu=neon: its
 * NEON has no vector divide, so DIV divides lane by lane there).
 *
 * The vocabulary keeps ref's semantics exactly: VMAX/VMIN are compare-and-select (a > b ? a : b),
 * not vmaxq/vminq (those return NaN for any NaN operand and order signed zeros), no fused
 * multiply-add (the build's -ffp-contract=off keeps vmulq + vaddq separate), and VPOW2 builds
 * 2^n from integer-valued lanes, where truncating and rounding conversions agree. So every op
 * but LOGISTIC is bit-identical to ref, as on x86.
 *
 * Extend: nothing here; a kernel is added once in f32_ops.inc.
 */
#include "backends/cpu/cpu.h"

#include <arm_neon.h>

#define V float32x4_t
#define VN 4
#define VLD(p) vld1q_f32(p)
#define VST(p, v) vst1q_f32((p), (v))
#define VSET(x) vdupq_n_f32(x)
#define VADD(a, b) vaddq_f32((a), (b))
#define VSUB(a, b) vsubq_f32((a), (b))
#define VMUL(a, b) vmulq_f32((a), (b))
#if defined(__aarch64__)
#define VDIV(a, b) vdivq_f32((a), (b))
#else
static inline float32x4_t f32_neon_div(float32x4_t a, float32x4_t b) {
    float x[4], y[4];
    vst1q_f32(x, a);
    vst1q_f32(y, b);
    for (int i = 0; i < 4; i++) x[i] /= y[i];
    return vld1q_f32(x);
}
#define VDIV(a, b) f32_neon_div((a), (b))
#endif
#define VMAX(a, b) f32_neon_max((a), (b))
#define VMIN(a, b) f32_neon_min((a), (b))
static inline float32x4_t f32_neon_max(float32x4_t a, float32x4_t b) {
    return vbslq_f32(vcgtq_f32(a, b), a, b);
}
static inline float32x4_t f32_neon_min(float32x4_t a, float32x4_t b) {
    return vbslq_f32(vcltq_f32(a, b), a, b);
}
#define VSEL_LT(x, c, a, b) vbslq_f32(vcltq_f32((x), (c)), (a), (b))
#define VSEL_GT(x, c, a, b) vbslq_f32(vcgtq_f32((x), (c)), (a), (b))
#define VPOW2(n)                                                                                  \
    vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23))
#include "backends/cpu/f32_exp.h"
#define VEXP(x) f32_vexp(x)
#define F32_ISA EV_ISA_NEON
#define F32_SUFFIX neon

#include "backends/cpu/f32_ops.inc"
