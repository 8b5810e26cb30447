/*
 * ref_activation.c - reference LEAKY_RELU, HARD_SIGMOID and HARD_SWISH (float32), elementwise
 * with ONNX's definitions (the ops come from ONNX models):
 *   LEAKY_RELU   y = x < 0 ? alpha * x : x
 *   HARD_SIGMOID y = max(0, min(1, alpha * x + beta))
 *   HARD_SWISH   y = x * max(0, min(1, x * (1/6) + 0.5))   (HardSigmoid with alpha 1/6, beta 0.5)
 * in float, one rounding per operation in that order.
 *
 * Extend: another float activation is a case in run(); quantized ones would be a 256-entry
 * table built at prepare (as ref_logistic.c does).
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_act {
    ev_op_type type;
    int in_t, out_t;
    size_t n;
    float alpha, beta;
} ref_act;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *in = NULL, *out = NULL;
    char s1[64], s2[64];
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s -> %s (float32 only)",
                          ev_dtype_name(in->dtype), ev_dtype_name(out->dtype));
    if (!ev_ref_same_shape(in, out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s, output %s", ev_shape_str(in, s1, 64),
                          ev_shape_str(out, s2, 64));
    ref_act *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->type = op->type;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->n = ev_tensor_elems(out);
    if (op->type == EV_OP_LEAKY_RELU) {
        s->alpha = op->p.leaky.alpha;
    } else if (op->type == EV_OP_HARD_SIGMOID) {
        s->alpha = op->p.hard_sigmoid.alpha;
        s->beta = op->p.hard_sigmoid.beta;
    } else {
        s->alpha = 1.0f / 6.0f;
        s->beta = 0.5f;
    }
    *state = s;
    return EV_OK;
}

static inline float hsig(float x, float a, float b) {
    float v = a * x + b;
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_act *s = state;
    const float *x = data[s->in_t];
    float *y = data[s->out_t];
    switch (s->type) {
    case EV_OP_LEAKY_RELU:
        for (size_t i = 0; i < s->n; i++) y[i] = x[i] < 0.0f ? s->alpha * x[i] : x[i];
        break;
    case EV_OP_HARD_SIGMOID:
        for (size_t i = 0; i < s->n; i++) y[i] = hsig(x[i], s->alpha, s->beta);
        break;
    default:
        for (size_t i = 0; i < s->n; i++) y[i] = x[i] * hsig(x[i], s->alpha, s->beta);
        break;
    }
    return EV_OK;
}

const ev_kernel ev_ref_activation_kernel = {"ref_activation", prepare, run, free};
