/*
 * ref_conv_nd.c - reference CONV_ND: ONNX Conv and ConvTranspose over 1 to 4 trailing dims of a
 * channel-first float32 tensor (the 3-D convolutions the NHWC CONV_2D cannot hold), weights in
 * ONNX's own layout, optional bias, output size as the output tensor gives it.
 *
 * Written as a gather, each output value one sum in double, the bias added last, rounded to
 * float once. Output channel o belongs to group g = o / (O / group), which reads the input
 * channels [g * C / group, (g + 1) * C / group). Per spatial dim, tap j of output index o reads
 *   convolution: input v = o * stride - pad_begin + j * dilation (inside [0, in));
 *   transposed:  input v with v * stride = o + pad_begin - j * dilation (a whole v in [0, in)),
 * weights w[o][c - g C/group][j...] (convolution) or w[c][o - g O/group][j...] (transposed).
 *
 * Extend: a quantized variant would accumulate int32 as ref_conv.c does.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_conv_nd {
    int in_t, w_t, b_t, out_t, ns, n, c, o;
    int in[EV_POOL_ND_MAX], out[EV_POOL_ND_MAX], k[EV_POOL_ND_MAX];
    ev_conv_nd_params p;
} ref_conv_nd;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_conv_nd_params *p = &op->p.conv_nd;
    const ev_tensor *x, *w, *b, *y;
    char s1[64], s2[64], s3[64];
    ev_status st = ev_ref_f32_conv_operands(ctx, &x, &w, &b, &y);
    if (st != EV_OK) return st;
    int ns = x->ndim - 2, ok = ns >= 1 && ns <= EV_POOL_ND_MAX && w->ndim == x->ndim &&
                               y->ndim == x->ndim && p->group >= 1 && x->dims[0] == y->dims[0];
    int cin = ok ? x->dims[1] : 0, cout = ok ? y->dims[1] : 0;
    if (ok) {
        ok = cin % p->group == 0 && cout % p->group == 0;
        if (p->transposed)
            ok = ok && w->dims[0] == cin && (int64_t)w->dims[1] * p->group == cout;
        else
            ok = ok && w->dims[0] == cout && (int64_t)w->dims[1] * p->group == cin;
        ok = ok && (!b || (b->ndim == 1 && b->dims[0] == cout));
        for (int i = 0; ok && i < ns; i++)
            ok = p->stride[i] >= 1 && p->dilation[i] >= 1;
    }
    if (!ok)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s, weights %s, output %s, group %d%s",
                          ev_shape_str(x, s1, 64), ev_shape_str(w, s2, 64),
                          ev_shape_str(y, s3, 64), p->group, p->transposed ? " (transposed)" : "");
    if (!w->data || (b && !b->data))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "weights and bias must be constants");
    ref_conv_nd *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0], s->w_t = op->inputs[1], s->b_t = b ? op->inputs[2] : -1;
    s->out_t = op->outputs[0];
    s->ns = ns, s->n = x->dims[0], s->c = cin, s->o = cout;
    for (int i = 0; i < ns; i++)
        s->in[i] = x->dims[2 + i], s->out[i] = y->dims[2 + i], s->k[i] = w->dims[2 + i];
    s->p = *p;
    *state = s;
    return EV_OK;
}

/* The input index tap j reads for output index o along dim i, or -1. */
static int64_t tap(const ref_conv_nd *s, int i, int64_t o, int64_t j) {
    const ev_conv_nd_params *p = &s->p;
    int64_t v;
    if (!p->transposed) {
        v = o * p->stride[i] - p->pad_begin[i] + j * p->dilation[i];
    } else {
        v = o + p->pad_begin[i] - j * p->dilation[i];
        if (v < 0 || v % p->stride[i]) return -1;
        v /= p->stride[i];
    }
    return v >= 0 && v < s->in[i] ? v : -1;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_conv_nd *s = state;
    const float *x = data[s->in_t], *w = data[s->w_t];
    const float *bias = s->b_t >= 0 ? data[s->b_t] : NULL;
    float *y = data[s->out_t];
    size_t in_sz = 1, out_sz = 1, k_sz = 1;
    for (int i = 0; i < s->ns; i++)
        in_sz *= (size_t)s->in[i], out_sz *= (size_t)s->out[i], k_sz *= (size_t)s->k[i];
    const int cg = s->c / s->p.group, og = s->o / s->p.group;
    for (int b = 0; b < s->n; b++)
        for (int o = 0; o < s->o; o++) {
            const int g = o / og;
            for (size_t q = 0; q < out_sz; q++) {
                int oi[EV_POOL_ND_MAX];
                size_t r = q;
                for (int i = s->ns - 1; i >= 0; i--) {
                    oi[i] = (int)(r % (size_t)s->out[i]);
                    r /= (size_t)s->out[i];
                }
                double acc = 0;
                for (size_t kq = 0; kq < k_sz; kq++) { /* every tap */
                    size_t rk = kq, xi = 0;
                    int inside = 1;
                    int64_t v[EV_POOL_ND_MAX];
                    for (int i = s->ns - 1; i >= 0; i--) {
                        v[i] = tap(s, i, oi[i], (int64_t)(rk % (size_t)s->k[i]));
                        rk /= (size_t)s->k[i];
                        inside = inside && v[i] >= 0;
                    }
                    if (!inside) continue;
                    for (int i = 0; i < s->ns; i++) xi = xi * (size_t)s->in[i] + (size_t)v[i];
                    for (int c = 0; c < cg; c++) {
                        int ch = g * cg + c;
                        size_t wi = s->p.transposed
                                        ? ((size_t)ch * og + (size_t)(o - g * og)) * k_sz + kq
                                        : ((size_t)o * cg + (size_t)c) * k_sz + kq;
                        acc += (double)x[((size_t)b * s->c + ch) * in_sz + xi] * (double)w[wi];
                    }
                }
                if (bias) acc += bias[o];
                y[((size_t)b * s->o + o) * out_sz + q] = (float)acc;
            }
        }
    return EV_OK;
}

static void release(void *state) { free(state); }

const ev_kernel ev_ref_conv_nd_kernel = {"ref_conv_nd", prepare, run, release};
