/*
 * dwconv_f32_neon.c - float32 depthwise row kernel with NEON, f32_dwconv_row_<cr>c__neon:
 * aarch64 8 channels per step (two q registers; the 3x3 path's 18 tap vectors fit in its 32
 * registers) with fused vfmaq_f32; armv7 4 channels per step (one q register: 9 tap vectors of
 * its 16) with vmlaq_f32, since -mfpu=neon (how CMakeLists.txt compiles *_neon.c on armv7) has no
 * fused multiply-add (vfmaq_f32 needs VFPv4: used when the compiler says __ARM_FEATURE_FMA).
 * The row is dwconv_f32_row.inc; here is its vocabulary. Channel tails go through a small
 * buffer, so nothing outside the tensor is read or written.
 *
 * Extend: another width is DW_NV (EV_DW_F32_NEON_CR in dwconv_f32.h names it for config.c).
 */
#include "backends/cpu/dwconv_f32.h"

#include <arm_neon.h>
#include <string.h>

static inline float32x4_t loadn(const float *p, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)n * sizeof(float));
    return vld1q_f32(t);
}

static inline void storen(float *p, float32x4_t v, int n) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, (size_t)n * sizeof(float));
}

#define DW_V float32x4_t
#define DW_L 4
#define DW_NV (EV_DW_F32_NEON_CR / 4)
#define DW_LOAD(p) vld1q_f32(p)
#define DW_STORE(p, v) vst1q_f32((p), (v))
#define DW_LOADN(p, n) loadn((p), (n))
#define DW_STOREN(p, v, n) storen((p), (v), (n))
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define DW_FMA(a, x, w) vfmaq_f32((a), (x), (w))
#else
#define DW_FMA(a, x, w) vmlaq_f32((a), (x), (w))
#endif
#define DW_MUL(x, w) vmulq_f32((x), (w))
#define DW_ADD(a, b) vaddq_f32((a), (b))
#define DW_DUP(f) vdupq_n_f32(f)
#define DW_CLAMP(v, lo, hi) vminq_f32((hi), vmaxq_f32((lo), (v)))
#define DW_ROW_FN ev_f32_dw_row_neon
#include "backends/cpu/dwconv_f32_row.inc"
