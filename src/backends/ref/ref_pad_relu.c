/*
 * ref_pad_relu.c - reference PAD (constant padding: 0.0 for float, the zero point for quantized
 * tensors, as TFLite pads) and standalone RELU / RELU6 (float; quantized when input and output
 * share scale and zero point, where they are a clamp).
 */
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_pad {
    int in_t, out_t, ndim;
    int in_dims[EV_MAX_DIMS], out_dims[EV_MAX_DIMS], before[EV_MAX_DIMS];
    size_t esize;
    uint8_t fill[8];
} ref_pad;

static ev_status pad_prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *in = ev_op_input(g, op, 0), *pads = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    char s1[64], s2[64];
    if (!in || !pads || !out || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs input, paddings and one output");
    if (!pads->data || pads->dtype != EV_DTYPE_I32 || pads->ndim != 2 || pads->dims[1] != 2 ||
        pads->dims[0] != in->ndim)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "paddings must be a constant int32 "
                          "[%d][2] tensor", in->ndim);
    if (in->dtype != out->dtype || in->ndim != out->ndim)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s %s, output %s %s",
                          ev_shape_str(in, s1, 64), ev_dtype_name(in->dtype),
                          ev_shape_str(out, s2, 64), ev_dtype_name(out->dtype));
    ref_pad *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->ndim = in->ndim;
    s->esize = ev_dtype_size(in->dtype);
    const int32_t *p = pads->data;
    for (int d = 0; d < in->ndim; d++) {
        if (p[2 * d] < 0 || p[2 * d + 1] < 0 ||
            (long)in->dims[d] + p[2 * d] + p[2 * d + 1] != out->dims[d]) {
            free(s);
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "paddings (%d, %d) on dimension %d of "
                              "%s do not give %s", p[2 * d], p[2 * d + 1], d,
                              ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
        }
        s->in_dims[d] = in->dims[d];
        s->out_dims[d] = out->dims[d];
        s->before[d] = p[2 * d];
    }
    if (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8) {
        int32_t zp = in->quant.count ? in->quant.zero_point[0] : 0;
        if (out->quant.count != in->quant.count ||
            (in->quant.count && (out->quant.scale[0] != in->quant.scale[0] ||
                                 out->quant.zero_point[0] != zp))) {
            free(s);
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "quantized PAD with different "
                              "input and output quantization");
        }
        s->fill[0] = (uint8_t)zp;
    } else if (!s->esize) {
        free(s);
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "type %s", ev_dtype_name(in->dtype));
    }
    *state = s;
    return EV_OK;
}

/* Copies dimension d of the input block at `src` into the output block at `dst`. */
static void pad_rec(const ref_pad *s, int d, const uint8_t *src, uint8_t *dst) {
    size_t in_inner = s->esize, out_inner = s->esize;
    for (int k = d + 1; k < s->ndim; k++) {
        in_inner *= (size_t)s->in_dims[k];
        out_inner *= (size_t)s->out_dims[k];
    }
    uint8_t *o = dst + (size_t)s->before[d] * out_inner;
    for (int i = 0; i < s->in_dims[d]; i++) {
        if (d == s->ndim - 1)
            memcpy(o + (size_t)i * s->esize, src + (size_t)i * s->esize, s->esize);
        else
            pad_rec(s, d + 1, src + (size_t)i * in_inner, o + (size_t)i * out_inner);
    }
}

static ev_status pad_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_pad *s = state;
    size_t total = s->esize;
    for (int d = 0; d < s->ndim; d++) total *= (size_t)s->out_dims[d];
    uint8_t *out = data[s->out_t];
    if (s->esize == 1)
        memset(out, s->fill[0], total);
    else
        memset(out, 0, total); /* 0.0f and integer 0 are all-zero bytes */
    if (s->ndim == 0) {
        memcpy(out, data[s->in_t], s->esize);
        return EV_OK;
    }
    pad_rec(s, 0, data[s->in_t], out);
    return EV_OK;
}

static void release(void *state) { free(state); }

const ev_kernel ev_ref_pad_kernel = {"ref_pad", pad_prepare, pad_run, release};

typedef struct ref_relu {
    int in_t, out_t;
    size_t n;
    ev_dtype dtype;
    int32_t lo, hi;
    float flo, fhi;
} ref_relu;

static ev_status relu_prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *in = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
    if (!in || !out) return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs an input and an output");
    if (in->dtype != out->dtype || ev_tensor_elems(in) != ev_tensor_elems(out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input and output differ in type or size");
    ref_relu *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->n = ev_tensor_elems(in);
    s->dtype = in->dtype;
    int act = op->type == EV_OP_RELU6 ? EV_ACT_RELU6 : EV_ACT_RELU;
    ev_status st = EV_OK;
    if (in->dtype == EV_DTYPE_F32) {
        ev_float_activation_range(act, &s->flo, &s->fhi);
    } else if ((in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8) && in->quant.count == 1 &&
               out->quant.count == 1 && in->quant.scale[0] == out->quant.scale[0] &&
               in->quant.zero_point[0] == out->quant.zero_point[0]) {
        int32_t qmin = in->dtype == EV_DTYPE_U8 ? 0 : -128, qmax = in->dtype == EV_DTYPE_U8 ? 255 : 127;
        ev_quant_activation_range(act, out->quant.scale[0], out->quant.zero_point[0], qmin, qmax,
                                  &s->lo, &s->hi);
    } else {
        st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s of type %s (quantized only with "
                        "equal input and output quantization)", op->name,
                        ev_dtype_name(in->dtype));
    }
    if (st != EV_OK) {
        free(s);
        return st;
    }
    *state = s;
    return EV_OK;
}

static ev_status relu_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_relu *s = state;
    if (s->dtype == EV_DTYPE_F32) {
        const float *x = data[s->in_t];
        float *y = data[s->out_t];
        for (size_t i = 0; i < s->n; i++) {
            float v = x[i];
            y[i] = v < s->flo ? s->flo : v > s->fhi ? s->fhi : v;
        }
    } else if (s->dtype == EV_DTYPE_U8) {
        const uint8_t *x = data[s->in_t];
        uint8_t *y = data[s->out_t];
        for (size_t i = 0; i < s->n; i++)
            y[i] = (uint8_t)(x[i] < s->lo ? s->lo : x[i] > s->hi ? s->hi : x[i]);
    } else {
        const int8_t *x = data[s->in_t];
        int8_t *y = data[s->out_t];
        for (size_t i = 0; i < s->n; i++)
            y[i] = (int8_t)(x[i] < s->lo ? s->lo : x[i] > s->hi ? s->hi : x[i]);
    }
    return EV_OK;
}

const ev_kernel ev_ref_relu_kernel = {"ref_relu", relu_prepare, relu_run, release};
