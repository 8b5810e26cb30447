/*
 * ref_conv.c - reference CONV_2D and DEPTHWISE_CONV_2D: uint8, int8 (per-channel) and float32.
 *
 * The oracle every other backend is tested against: straight loops in TFLite's reference order,
 * int32 accumulation of (w - w_zp) * (x - x_zp), bias, MultiplyByQuantizedMultiplier, output zero
 * point, activation clamp. The multiplier rounds as TensorFlow Lite's runtime does, op by op:
 *   - int8 CONV_2D: ruy's rule, both roundings' ties toward +infinity
 *     (ev_ref_ruy_mul_by_quantized_multiplier, ref.h). TFLite's conv.cc sends int8 CONV_2D of its
 *     default (optimized) kernel to optimized_integer_ops::ConvPerChannel
 *     (tensorflow/lite/kernels/internal/optimized/integer_ops/conv.h), which calls
 *     cpu_backend_gemm::Gemm; tensorflow/lite/kernels/cpu_backend_gemm.h routes int8 GEMMs to
 *     ruy on x86 (gemmlowp cannot take int8 there) and in every build with TFLITE_WITH_RUY.
 *     With it every op of MoveNet Lightning is bit-identical to TFLite 2.9 on x86-64
 *     (docs/tflite-runtime.md).
 *   - uint8 CONV_2D (gemmlowp on x86, whose output stage rounds like the reference) and every
 *     DEPTHWISE_CONV_2D (TFLite's own depthwise kernels): TFLite's reference rule, ties away from
 *     zero (ev_mul_by_quantized_multiplier; the Coral PoseNet layers are bit-exact with it).
 * Padded taps are skipped (the same as padding with the input zero
 * point). Loops are ordered so the compiler can vectorise the innermost one; nothing else is
 * clever here on purpose.
 */
#include "backends/conv_desc.h"
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_conv {
    ev_conv_desc d;
    int32_t *acc; /* [out_c] scratch: per-pixel accumulators (depthwise) */
    float *facc;
} ref_conv;

static void release(void *state) {
    ref_conv *s = state;
    if (!s) return;
    ev_conv_desc_release(&s->d);
    free(s->acc);
    free(s->facc);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    ref_conv *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_conv_desc_init(ctx, &s->d);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    s->acc = calloc((size_t)s->d.out_c, sizeof(int32_t));
    s->facc = calloc((size_t)s->d.out_c, sizeof(float));
    if (!s->acc || !s->facc) {
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    *state = s;
    return EV_OK;
}

static inline int32_t requant(const ev_conv_desc *d, int32_t acc, int oc) {
    int32_t v = (d->dtype == EV_DTYPE_I8 && !d->depthwise
                     ? ev_ref_ruy_mul_by_quantized_multiplier(acc, d->mult[oc], d->shift[oc])
                     : ev_mul_by_quantized_multiplier(acc, d->mult[oc], d->shift[oc])) +
                d->out_zp;
    if (v < d->act_min) v = d->act_min;
    if (v > d->act_max) v = d->act_max;
    return v;
}

/* Valid tap range [k0, k1) for output coordinate o along one axis. */
static inline void tap_range(int o, int stride, int pad, int dil, int k, int in, int *k0, int *k1) {
    int origin = o * stride - pad;
    int a = 0, b = k;
    while (a < k && origin + a * dil < 0) a++;
    while (b > a && origin + (b - 1) * dil >= in) b--;
    *k0 = a;
    *k1 = b;
}

#define DEFINE_CONV_Q(NAME, T)                                                                    \
    static void NAME(const ev_conv_desc *d, const T *in, const T *w, const int32_t *bias, T *out) \
    {                                                                                             \
        const int ic_n = d->in_c;                                                                 \
        for (int n = 0; n < d->batch; n++)                                                        \
            for (int oy = 0; oy < d->out_h; oy++) {                                               \
                int ky0, ky1;                                                                     \
                tap_range(oy, d->stride_h, d->pad_top, d->dil_h, d->k_h, d->in_h, &ky0, &ky1);    \
                for (int ox = 0; ox < d->out_w; ox++) {                                           \
                    int kx0, kx1;                                                                 \
                    tap_range(ox, d->stride_w, d->pad_left, d->dil_w, d->k_w, d->in_w, &kx0,      \
                              &kx1);                                                              \
                    T *o = out + (((size_t)n * d->out_h + oy) * d->out_w + ox) * d->out_c;        \
                    for (int oc = 0; oc < d->out_c; oc++) {                                       \
                        const int32_t wz = d->w_zp[oc], xz = d->in_zp;                            \
                        int32_t acc = 0;                                                          \
                        for (int ky = ky0; ky < ky1; ky++) {                                      \
                            int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;               \
                            for (int kx = kx0; kx < kx1; kx++) {                                  \
                                int ix = ox * d->stride_w - d->pad_left + kx * d->dil_w;          \
                                const T *xp =                                                     \
                                    in + (((size_t)n * d->in_h + iy) * d->in_w + ix) * ic_n;      \
                                const T *wp = w + (((size_t)oc * d->k_h + ky) * d->k_w + kx) * ic_n; \
                                for (int ic = 0; ic < ic_n; ic++)                                 \
                                    acc += ((int32_t)wp[ic] - wz) * ((int32_t)xp[ic] - xz);      \
                            }                                                                     \
                        }                                                                         \
                        if (bias) acc += bias[oc];                                                \
                        o[oc] = (T)requant(d, acc, oc);                                           \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
    }

DEFINE_CONV_Q(conv_u8, uint8_t)
DEFINE_CONV_Q(conv_i8, int8_t)

static void conv_f32(const ev_conv_desc *d, const float *in, const float *w, const float *bias,
                     float *out) {
    const int ic_n = d->in_c;
    for (int n = 0; n < d->batch; n++)
        for (int oy = 0; oy < d->out_h; oy++) {
            int ky0, ky1;
            tap_range(oy, d->stride_h, d->pad_top, d->dil_h, d->k_h, d->in_h, &ky0, &ky1);
            for (int ox = 0; ox < d->out_w; ox++) {
                int kx0, kx1;
                tap_range(ox, d->stride_w, d->pad_left, d->dil_w, d->k_w, d->in_w, &kx0, &kx1);
                float *o = out + (((size_t)n * d->out_h + oy) * d->out_w + ox) * d->out_c;
                for (int oc = 0; oc < d->out_c; oc++) {
                    float acc = 0.0f;
                    for (int ky = ky0; ky < ky1; ky++) {
                        int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
                        for (int kx = kx0; kx < kx1; kx++) {
                            int ix = ox * d->stride_w - d->pad_left + kx * d->dil_w;
                            const float *xp = in + (((size_t)n * d->in_h + iy) * d->in_w + ix) * ic_n;
                            const float *wp = w + (((size_t)oc * d->k_h + ky) * d->k_w + kx) * ic_n;
                            for (int ic = 0; ic < ic_n; ic++) acc += xp[ic] * wp[ic];
                        }
                    }
                    float v = acc + (bias ? bias[oc] : 0.0f);
                    o[oc] = v < d->f_min ? d->f_min : v > d->f_max ? d->f_max : v;
                }
            }
        }
}

/* Depthwise: out channel oc = ic * depth_multiplier + m; filter [1][kh][kw][out_c]. */
#define DEFINE_DW_Q(NAME, T)                                                                      \
    static void NAME(const ev_conv_desc *d, const T *in, const T *w, const int32_t *bias, T *out, \
                     int32_t *acc) {                                                              \
        const int dm = d->depth_multiplier, oc_n = d->out_c;                                      \
        for (int n = 0; n < d->batch; n++)                                                        \
            for (int oy = 0; oy < d->out_h; oy++) {                                               \
                int ky0, ky1;                                                                     \
                tap_range(oy, d->stride_h, d->pad_top, d->dil_h, d->k_h, d->in_h, &ky0, &ky1);    \
                for (int ox = 0; ox < d->out_w; ox++) {                                           \
                    int kx0, kx1;                                                                 \
                    tap_range(ox, d->stride_w, d->pad_left, d->dil_w, d->k_w, d->in_w, &kx0,      \
                              &kx1);                                                              \
                    memset(acc, 0, sizeof(int32_t) * (size_t)oc_n);                               \
                    for (int ky = ky0; ky < ky1; ky++) {                                          \
                        int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;                   \
                        for (int kx = kx0; kx < kx1; kx++) {                                      \
                            int ix = ox * d->stride_w - d->pad_left + kx * d->dil_w;              \
                            const T *xp =                                                         \
                                in + (((size_t)n * d->in_h + iy) * d->in_w + ix) * d->in_c;       \
                            const T *wp = w + ((size_t)ky * d->k_w + kx) * oc_n;                  \
                            for (int oc = 0; oc < oc_n; oc++)                                     \
                                acc[oc] += ((int32_t)wp[oc] - d->w_zp[oc]) *                      \
                                           ((int32_t)xp[oc / dm] - d->in_zp);                     \
                        }                                                                         \
                    }                                                                             \
                    T *o = out + (((size_t)n * d->out_h + oy) * d->out_w + ox) * oc_n;            \
                    for (int oc = 0; oc < oc_n; oc++)                                             \
                        o[oc] = (T)requant(d, acc[oc] + (bias ? bias[oc] : 0), oc);              \
                }                                                                                 \
            }                                                                                     \
    }

DEFINE_DW_Q(dw_u8, uint8_t)
DEFINE_DW_Q(dw_i8, int8_t)

static void dw_f32(const ev_conv_desc *d, const float *in, const float *w, const float *bias,
                   float *out, float *acc) {
    const int dm = d->depth_multiplier, oc_n = d->out_c;
    for (int n = 0; n < d->batch; n++)
        for (int oy = 0; oy < d->out_h; oy++) {
            int ky0, ky1;
            tap_range(oy, d->stride_h, d->pad_top, d->dil_h, d->k_h, d->in_h, &ky0, &ky1);
            for (int ox = 0; ox < d->out_w; ox++) {
                int kx0, kx1;
                tap_range(ox, d->stride_w, d->pad_left, d->dil_w, d->k_w, d->in_w, &kx0, &kx1);
                memset(acc, 0, sizeof(float) * (size_t)oc_n);
                for (int ky = ky0; ky < ky1; ky++) {
                    int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
                    for (int kx = kx0; kx < kx1; kx++) {
                        int ix = ox * d->stride_w - d->pad_left + kx * d->dil_w;
                        const float *xp = in + (((size_t)n * d->in_h + iy) * d->in_w + ix) * d->in_c;
                        const float *wp = w + ((size_t)ky * d->k_w + kx) * oc_n;
                        for (int oc = 0; oc < oc_n; oc++) acc[oc] += xp[oc / dm] * wp[oc];
                    }
                }
                float *o = out + (((size_t)n * d->out_h + oy) * d->out_w + ox) * oc_n;
                for (int oc = 0; oc < oc_n; oc++) {
                    float v = acc[oc] + (bias ? bias[oc] : 0.0f);
                    o[oc] = v < d->f_min ? d->f_min : v > d->f_max ? d->f_max : v;
                }
            }
        }
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    ref_conv *s = state;
    const ev_conv_desc *d = &s->d;
    const void *in = data[d->in_t], *w = data[d->w_t];
    const void *b = d->b_t >= 0 ? data[d->b_t] : NULL;
    void *out = data[d->out_t];
    switch (d->dtype) {
    case EV_DTYPE_U8:
        if (d->depthwise)
            dw_u8(d, in, w, b, out, s->acc);
        else
            conv_u8(d, in, w, b, out);
        break;
    case EV_DTYPE_I8:
        if (d->depthwise)
            dw_i8(d, in, w, b, out, s->acc);
        else
            conv_i8(d, in, w, b, out);
        break;
    case EV_DTYPE_F32:
        if (d->depthwise)
            dw_f32(d, in, w, b, out, s->facc);
        else
            conv_f32(d, in, w, b, out);
        break;
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref conv: unexpected dtype");
    }
    return EV_OK;
}

const ev_kernel ev_ref_conv_kernel = {"ref_conv", prepare, run, release};
