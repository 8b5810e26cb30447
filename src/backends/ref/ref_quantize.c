/*
 * ref_quantize.c - reference QUANTIZE (float32 -> uint8/int8, and uint8/int8 -> uint8/int8
 * requantization) and DEQUANTIZE (uint8/int8/int16 -> float32), per-tensor parameters.
 *
 * TFLite arithmetic (reference/quantize.h, requantize.h, dequantize.h):
 *   quantize:    q = clamp((int32)roundf(x / scale) + zp)          (float division, half away)
 *                or, with p.quantize.round_half_even (ONNX QuantizeLinear: numpy.rint), halves
 *                to even: q = clamp(rint(x / scale) + zp), the same float division
 *   requantize:  q = clamp(MultiplyByQuantizedMultiplier(x - zp_in, M(in_scale / out_scale))
 *                          + zp_out), the multiplier from the scale ratio in double
 *   dequantize:  y = (float)((double)scale * (q - zp))
 * Shapes must be equal.
 *
 * Extend: per-channel quantize/dequantize would index the scale by the channel coordinate.
 */
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef enum { Q_F32_TO_Q, Q_REQUANT, Q_DEQUANT } qmode;

typedef struct ref_quantize {
    qmode mode;
    ev_dtype in_dt, out_dt;
    int in_t, out_t;
    size_t n;
    float out_scale; /* quantize */
    int half_even;   /* quantize from float: ties to even (ONNX) instead of away from zero */
    double in_scale; /* dequantize */
    int32_t in_zp, out_zp, qmin, qmax;
    int32_t mult;
    int shift;
} ref_quantize;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    int deq = op->type == EV_OP_DEQUANTIZE;
    const ev_tensor *in = NULL, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (!ev_ref_same_shape(in, out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s and output %s differ",
                          ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    ref_quantize s = {0};
    s.in_dt = in->dtype;
    s.out_dt = out->dtype;
    s.in_t = op->inputs[0];
    s.out_t = op->outputs[0];
    s.n = ev_tensor_elems(out);
    if (deq) {
        if (out->dtype != EV_DTYPE_F32 ||
            (!ev_ref_is_q8(in->dtype) && in->dtype != EV_DTYPE_I16))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "dequantize %s -> %s (needs uint8, "
                              "int8 or int16 -> float32)", ev_dtype_name(in->dtype),
                              ev_dtype_name(out->dtype));
        EV_TRY(ev_ref_per_tensor(ctx, in, "input"));
        s.mode = Q_DEQUANT;
        s.in_scale = (double)in->quant.scale[0];
        s.in_zp = in->quant.zero_point[0];
    } else {
        if (!ev_ref_is_q8(out->dtype) || (in->dtype != EV_DTYPE_F32 && !ev_ref_is_q8(in->dtype)))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "quantize %s -> %s (needs float32, "
                              "uint8 or int8 -> uint8 or int8)", ev_dtype_name(in->dtype),
                              ev_dtype_name(out->dtype));
        EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
        s.out_scale = out->quant.scale[0];
        s.out_zp = out->quant.zero_point[0];
        ev_ref_qrange(out->dtype, &s.qmin, &s.qmax);
        if (in->dtype == EV_DTYPE_F32) {
            s.mode = Q_F32_TO_Q;
            s.half_even = op->p.quantize.round_half_even != 0;
        } else {
            EV_TRY(ev_ref_per_tensor(ctx, in, "input"));
            s.mode = Q_REQUANT;
            s.in_zp = in->quant.zero_point[0];
            ev_quantize_multiplier((double)in->quant.scale[0] / (double)out->quant.scale[0],
                                   &s.mult, &s.shift);
            if (s.shift > 30)
                return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "scale ratio %g / %g is too "
                                  "large to requantize", (double)in->quant.scale[0],
                                  (double)out->quant.scale[0]);
        }
    }
    ref_quantize *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

static inline int32_t get_q(ev_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case EV_DTYPE_U8: return ((const uint8_t *)p)[i];
    case EV_DTYPE_I8: return ((const int8_t *)p)[i];
    default: return ((const int16_t *)p)[i];
    }
}

static inline void put_q(ev_dtype dt, void *p, size_t i, int32_t v) {
    if (dt == EV_DTYPE_U8)
        ((uint8_t *)p)[i] = (uint8_t)v;
    else
        ((int8_t *)p)[i] = (int8_t)v;
}

/* Nearest integer, halves to the even neighbour, whatever the FP rounding mode (floats of
 * magnitude >= 2^23 are integers already; NaN and infinities pass through). */
static inline float round_half_even(float v) {
    if (!(fabsf(v) < 8388608.0f)) return v;
    const double f = floor((double)v), d = (double)v - f; /* exact in double */
    if (d > 0.5) return (float)(f + 1.0);
    if (d < 0.5) return (float)f;
    return (float)(fmod(f, 2.0) == 0.0 ? f : f + 1.0);
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_quantize *s = state;
    const void *in = data[s->in_t];
    void *out = data[s->out_t];
    switch (s->mode) {
    case Q_F32_TO_Q: {
        const float *x = in;
        for (size_t i = 0; i < s->n; i++) {
            const float r = s->half_even ? round_half_even(x[i] / s->out_scale)
                                         : roundf(x[i] / s->out_scale);
            int32_t v; /* out-of-range values (and infinities) saturate; NaN gives the zero point */
            if (r < (float)(s->qmin - s->out_zp))
                v = s->qmin;
            else if (r > (float)(s->qmax - s->out_zp))
                v = s->qmax;
            else
                v = r == r ? (int32_t)r + s->out_zp : s->out_zp;
            put_q(s->out_dt, out, i, v);
        }
        break;
    }
    case Q_REQUANT:
        for (size_t i = 0; i < s->n; i++) {
            int32_t v = ev_mul_by_quantized_multiplier(get_q(s->in_dt, in, i) - s->in_zp, s->mult,
                                                       s->shift) + s->out_zp;
            put_q(s->out_dt, out, i, v < s->qmin ? s->qmin : v > s->qmax ? s->qmax : v);
        }
        break;
    case Q_DEQUANT: {
        float *y = out;
        for (size_t i = 0; i < s->n; i++)
            y[i] = (float)(s->in_scale * (double)(get_q(s->in_dt, in, i) - s->in_zp));
        break;
    }
    }
    return EV_OK;
}

const ev_kernel ev_ref_quantize_kernel = {"ref_quantize", prepare, run, free};
