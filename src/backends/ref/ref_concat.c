/*
 * ref_concat.c - reference CONCATENATION for any dtype along any axis.
 *
 * Quantized inputs whose scale/zero point differ from the output's are requantised as TFLite's
 * ConcatenationWithScaling does: float scale = in_scale * (1/out_scale), bias = -in_zp * scale,
 * q = round_half_away(x * scale + bias) + out_zp, clamped to the type's range.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_concat {
    int n_in;
    int *in_t;
    int out_t;
    size_t outer;     /* product of dims before the axis                 */
    size_t *chunk;    /* [n_in] bytes per outer step of each input       */
    int *requant;     /* [n_in] 1 when the input needs rescaling         */
    float *scale;     /* [n_in]                                          */
    float *bias;      /* [n_in]                                          */
    int32_t out_zp;
    ev_dtype dtype;
} ref_concat;

static void release(void *state) {
    ref_concat *s = state;
    if (!s) return;
    free(s->in_t);
    free(s->chunk);
    free(s->requant);
    free(s->scale);
    free(s->bias);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *out = ev_op_output(g, op, 0);
    char s1[64], s2[64];
    if (op->num_inputs < 1 || op->num_outputs != 1 || !out)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs inputs and one output");
    if (op->p.concat.activation != EV_ACT_NONE)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d",
                          (int)op->p.concat.activation);
    int axis = op->p.concat.axis;
    if (axis < 0) axis += out->ndim;
    if (axis < 0 || axis >= out->ndim)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "axis %d out of range for %s",
                          op->p.concat.axis, ev_shape_str(out, s1, 64));
    ref_concat *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->n_in = op->num_inputs;
    s->in_t = calloc((size_t)s->n_in, sizeof(int));
    s->chunk = calloc((size_t)s->n_in, sizeof(size_t));
    s->requant = calloc((size_t)s->n_in, sizeof(int));
    s->scale = calloc((size_t)s->n_in, sizeof(float));
    s->bias = calloc((size_t)s->n_in, sizeof(float));
    ev_status st = EV_OK;
    if (!s->in_t || !s->chunk || !s->requant || !s->scale || !s->bias) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    s->out_t = op->outputs[0];
    s->dtype = out->dtype;
    size_t esize = ev_dtype_size(out->dtype);
    if (!esize) {
        st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output type");
        goto fail;
    }
    s->outer = 1;
    for (int d = 0; d < axis; d++) s->outer *= (size_t)out->dims[d];
    size_t inner = esize;
    for (int d = axis + 1; d < out->ndim; d++) inner *= (size_t)out->dims[d];
    int quantized = out->dtype == EV_DTYPE_U8 || out->dtype == EV_DTYPE_I8;
    if (quantized && out->quant.count != 1) {
        st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output needs per-tensor quantization");
        goto fail;
    }
    long axis_sum = 0;
    for (int i = 0; i < s->n_in; i++) {
        const ev_tensor *in = ev_op_input(g, op, i);
        if (!in) {
            st = EV_OP_FAIL(ctx, EV_ERR_FORMAT, "input %d missing", i);
            goto fail;
        }
        s->in_t[i] = op->inputs[i];
        int ok = in->dtype == out->dtype && in->ndim == out->ndim;
        for (int d = 0; ok && d < out->ndim; d++)
            if (d != axis && in->dims[d] != out->dims[d]) ok = 0;
        if (!ok) {
            st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %d %s %s does not fit output %s %s "
                            "on axis %d", i, ev_shape_str(in, s1, 64), ev_dtype_name(in->dtype),
                            ev_shape_str(out, s2, 64), ev_dtype_name(out->dtype), axis);
            goto fail;
        }
        axis_sum += in->dims[axis];
        s->chunk[i] = inner * (size_t)in->dims[axis];
        if (quantized) {
            if (in->quant.count != 1) {
                st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input %d needs per-tensor "
                                "quantization", i);
                goto fail;
            }
            float is = in->quant.scale[0], os = out->quant.scale[0];
            int32_t iz = in->quant.zero_point[0];
            s->out_zp = out->quant.zero_point[0];
            if (is != os || iz != s->out_zp) {
                s->requant[i] = 1;
                float inv = 1.0f / os;
                s->scale[i] = is * inv;
                s->bias[i] = (float)-iz * s->scale[i];
            }
        }
    }
    if (axis_sum != out->dims[axis]) {
        st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "inputs sum to %ld on axis %d, output has %d",
                        axis_sum, axis, out->dims[axis]);
        goto fail;
    }
    *state = s;
    return EV_OK;
fail:
    release(s);
    return st;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_concat *s = state;
    uint8_t *out = data[s->out_t];
    for (size_t o = 0; o < s->outer; o++)
        for (int i = 0; i < s->n_in; i++) {
            const uint8_t *in = (const uint8_t *)data[s->in_t[i]] + o * s->chunk[i];
            if (!s->requant[i]) {
                memcpy(out, in, s->chunk[i]);
            } else if (s->dtype == EV_DTYPE_U8) {
                for (size_t j = 0; j < s->chunk[i]; j++) {
                    int32_t v = (int32_t)roundf((float)in[j] * s->scale[i] + s->bias[i]) + s->out_zp;
                    out[j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            } else {
                const int8_t *si = (const int8_t *)in;
                int8_t *so = (int8_t *)out;
                for (size_t j = 0; j < s->chunk[i]; j++) {
                    int32_t v = (int32_t)roundf((float)si[j] * s->scale[i] + s->bias[i]) + s->out_zp;
                    so[j] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
                }
            }
            out += s->chunk[i];
        }
    return EV_OK;
}

const ev_kernel ev_ref_concat_kernel = {"ref_concat", prepare, run, release};
