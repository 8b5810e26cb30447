/*
 * ref_fc.c - reference FULLY_CONNECTED: float32, uint8 (per-tensor weights) and int8 (per-tensor
 * or per-channel weights), weights [units][depth] in TFLite's DEFAULT format, optional bias.
 *
 * The input is read as [batches][depth] with batches = elements / depth (TFLite flattens every
 * leading dimension); the output must hold batches x units with units last. Quantized: int32
 * sum of (w - w_zp) * (x - x_zp), + bias, MultiplyByQuantizedMultiplier, + output zero point,
 * clamp to the fused activation. Multipliers as kernels/fully_connected.cc computes them:
 * per-tensor through GetQuantizedConvolutionMultipler (input_scale * filter_scale in float, then
 * / output_scale in double), per-channel in double throughout. Float: float sum in depth order,
 * + bias, clamp. Hybrid (float input with int8 weights) and shuffled weights are not supported.
 *
 * Extend: int16 activations would be a third quantized loop with an int64 accumulator.
 */
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_fc {
    ev_dtype dt;
    int in_t, w_t, b_t, out_t;
    int batches, depth, units;
    int32_t in_zp, out_zp, amin, amax;
    float fmin, fmax;
    int32_t *w_zp, *mult; /* [units] */
    int *shift;           /* [units] */
} ref_fc;

static void release(void *state) {
    ref_fc *s = state;
    if (!s) return;
    free(s->w_zp);
    free(s->mult);
    free(s->shift);
    free(s);
}

static ev_status setup(const ev_kernel_ctx *ctx, ref_fc *s) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64], s3[64];
    if (op->num_inputs < 2 || op->num_inputs > 3 || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "expects 2-3 inputs and 1 output, has %d and "
                          "%d", op->num_inputs, op->num_outputs);
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    const ev_tensor *b = ev_op_input(g, op, 2), *out = ev_op_output(g, op, 0);
    if (!in || !w || !out)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input, weights or output tensor");
    s->in_t = op->inputs[0];
    s->w_t = op->inputs[1];
    s->b_t = b ? op->inputs[2] : -1;
    s->out_t = op->outputs[0];
    if (w->ndim != 2 || w->dims[0] < 1 || w->dims[1] < 1)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "weights %s must be [units][depth]",
                          ev_shape_str(w, s1, 64));
    s->units = w->dims[0];
    s->depth = w->dims[1];
    size_t in_n = ev_tensor_elems(in);
    if (in_n % (size_t)s->depth != 0 || in_n / (size_t)s->depth > 0x7fffffff)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s is not a whole number of rows of "
                          "depth %d (weights %s)", ev_shape_str(in, s1, 64), s->depth,
                          ev_shape_str(w, s2, 64));
    s->batches = (int)(in_n / (size_t)s->depth);
    if (out->ndim < 1 || out->dims[out->ndim - 1] != s->units ||
        ev_tensor_elems(out) != (size_t)s->batches * (size_t)s->units)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output %s, but input %s with weights %s gives "
                          "%dx%d", ev_shape_str(out, s1, 64), ev_shape_str(in, s2, 64),
                          ev_shape_str(w, s3, 64), s->batches, s->units);
    if (b && (ev_tensor_elems(b) != (size_t)s->units))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "bias %s does not match %d units",
                          ev_shape_str(b, s1, 64), s->units);
    s->dt = in->dtype;
    ev_activation act = op->p.fc.activation;
    if (in->dtype == EV_DTYPE_F32) {
        if (w->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32 ||
            (b && b->dtype != EV_DTYPE_F32))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 input with %s weights, %s "
                              "bias, %s output (hybrid quantization is not supported)",
                              ev_dtype_name(w->dtype), b ? ev_dtype_name(b->dtype) : "no",
                              ev_dtype_name(out->dtype));
        if (!ev_float_activation_range(act, &s->fmin, &s->fmax))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d", (int)act);
        return EV_OK;
    }
    if (!ev_ref_is_q8(in->dtype) || w->dtype != in->dtype || out->dtype != in->dtype ||
        (b && b->dtype != EV_DTYPE_I32))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s weights, %s bias, "
                          "%s output", ev_dtype_name(in->dtype), ev_dtype_name(w->dtype),
                          b ? ev_dtype_name(b->dtype) : "no", ev_dtype_name(out->dtype));
    EV_TRY(ev_ref_per_tensor(ctx, in, "input"));
    EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
    int per_channel = w->quant.count > 1;
    if (w->quant.count < 1 || (per_channel && (w->quant.count != s->units || w->quant.axis != 0)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "weights '%s' have %d scales on axis %d "
                          "for %d units", w->name, w->quant.count, w->quant.axis, s->units);
    if (per_channel && in->dtype == EV_DTYPE_U8)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "uint8 with per-channel weight scales");
    int32_t qmin, qmax;
    ev_ref_qrange(in->dtype, &qmin, &qmax);
    s->in_zp = in->quant.zero_point[0];
    s->out_zp = out->quant.zero_point[0];
    if (!ev_quant_activation_range(act, out->quant.scale[0], s->out_zp, qmin, qmax, &s->amin,
                                   &s->amax))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d on a quantized op",
                          (int)act);
    s->w_zp = malloc(sizeof(int32_t) * (size_t)s->units);
    s->mult = malloc(sizeof(int32_t) * (size_t)s->units);
    s->shift = malloc(sizeof(int) * (size_t)s->units);
    if (!s->w_zp || !s->mult || !s->shift) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    float in_s = in->quant.scale[0], out_s = out->quant.scale[0];
    for (int u = 0; u < s->units; u++) {
        int qi = per_channel ? u : 0;
        float w_s = w->quant.scale[qi];
        if (!(w_s > 0.0f))
            return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "weights '%s' scale %d is %g", w->name,
                              qi, (double)w_s);
        double real = per_channel ? (double)in_s * (double)w_s / (double)out_s
                                  : (double)(float)(in_s * w_s) / (double)out_s;
        ev_quantize_multiplier(real, &s->mult[u], &s->shift[u]);
        s->w_zp[u] = w->quant.zero_point[qi];
    }
    return EV_OK;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    ref_fc *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = setup(ctx, s);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    *state = s;
    return EV_OK;
}

#define DEFINE_FC_Q(NAME, T)                                                                      \
    static void NAME(const ref_fc *s, const T *in, const T *w, const int32_t *bias, T *out) {     \
        for (int b = 0; b < s->batches; b++) {                                                    \
            const T *x = in + (size_t)b * s->depth;                                               \
            for (int u = 0; u < s->units; u++) {                                                  \
                const T *wr = w + (size_t)u * s->depth;                                           \
                const int32_t wz = s->w_zp[u], xz = s->in_zp;                                     \
                int32_t acc = 0;                                                                  \
                for (int d = 0; d < s->depth; d++)                                                \
                    acc += ((int32_t)wr[d] - wz) * ((int32_t)x[d] - xz);                          \
                if (bias) acc += bias[u];                                                         \
                int32_t v = ev_mul_by_quantized_multiplier(acc, s->mult[u], s->shift[u]) +        \
                            s->out_zp;                                                            \
                v = v < s->amin ? s->amin : v > s->amax ? s->amax : v;                            \
                out[(size_t)b * s->units + u] = (T)v;                                             \
            }                                                                                     \
        }                                                                                         \
    }

DEFINE_FC_Q(fc_u8, uint8_t)
DEFINE_FC_Q(fc_i8, int8_t)

static void fc_f32(const ref_fc *s, const float *in, const float *w, const float *bias,
                   float *out) {
    for (int b = 0; b < s->batches; b++) {
        const float *x = in + (size_t)b * s->depth;
        for (int u = 0; u < s->units; u++) {
            const float *wr = w + (size_t)u * s->depth;
            float total = 0.0f;
            for (int d = 0; d < s->depth; d++) total += x[d] * wr[d];
            float v = total + (bias ? bias[u] : 0.0f);
            out[(size_t)b * s->units + u] = v < s->fmin ? s->fmin : v > s->fmax ? s->fmax : v;
        }
    }
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_fc *s = state;
    const void *b = s->b_t >= 0 ? data[s->b_t] : NULL;
    switch (s->dt) {
    case EV_DTYPE_U8: fc_u8(s, data[s->in_t], data[s->w_t], b, data[s->out_t]); break;
    case EV_DTYPE_I8: fc_i8(s, data[s->in_t], data[s->w_t], b, data[s->out_t]); break;
    case EV_DTYPE_F32: fc_f32(s, data[s->in_t], data[s->w_t], b, data[s->out_t]); break;
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref fully connected: unexpected dtype");
    }
    return EV_OK;
}

const ev_kernel ev_ref_fc_kernel = {"ref_fc", prepare, run, release};
