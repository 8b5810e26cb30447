/*
 * ref_conv_transpose.c - reference CONV_TRANSPOSE (ONNX ConvTranspose) of an NHWC float32
 * tensor: input [N, H, W, I], weights [I, kh, kw, O / group] (ONNX's [I, O / group, kh, kw]
 * with the channel moved last), optional bias [O], output [N, OH, OW, O].
 *
 * Written as a gather, each output value one sum in double: output (oy, ox, o) of group
 * g = o / (O / group) adds x[iy][ix][i] * w[i][ky][kx][o % (O / group)] over the group's input
 * channels i and every tap with oy + pad_top - ky * dilation_h = iy * stride_h for an iy in
 * [0, H) (likewise x); the bias is added last and the sum rounded to float once. The output size
 * is the output tensor's: output_padding / output_shape only make it larger (taps reaching no
 * input leave the bias).
 *
 * Extend: quantized transposed convolution would accumulate int32 as ref_conv.c does.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_convt {
    int in_t, w_t, b_t, out_t;
    int n, ih, iw, ic, oh, ow, oc, kh, kw, group;
    ev_conv_transpose_params p;
} ref_convt;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_conv_transpose_params *p = &op->p.convt;
    const ev_tensor *x, *w, *b, *y;
    char s1[64], s2[64], s3[64];
    ev_status st = ev_ref_f32_conv_operands(ctx, &x, &w, &b, &y);
    if (st != EV_OK) return st;
    if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1 ||
        p->group < 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "strides %dx%d, dilations %dx%d, group %d",
                          p->stride_h, p->stride_w, p->dilation_h, p->dilation_w, p->group);
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4 || x->dims[0] != y->dims[0] ||
        w->dims[0] != x->dims[3] || x->dims[3] % p->group ||
        (int64_t)w->dims[3] * p->group != y->dims[3] || (b && (b->ndim != 1 ||
                                                           b->dims[0] != y->dims[3])))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s, weights %s, output %s, group %d",
                          ev_shape_str(x, s1, 64), ev_shape_str(w, s2, 64),
                          ev_shape_str(y, s3, 64), p->group);
    if (!w->data || (b && !b->data))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "weights and bias must be constants");
    ref_convt *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0], s->w_t = op->inputs[1], s->b_t = b ? op->inputs[2] : -1;
    s->out_t = op->outputs[0];
    s->n = x->dims[0], s->ih = x->dims[1], s->iw = x->dims[2], s->ic = x->dims[3];
    s->oh = y->dims[1], s->ow = y->dims[2], s->oc = y->dims[3];
    s->kh = w->dims[1], s->kw = w->dims[2];
    s->group = p->group;
    s->p = *p;
    *state = s;
    return EV_OK;
}

/* The input index tap k reads for output index o, or -1. */
static int tap_src(int o, int pad, int k, int dil, int stride, int in) {
    int64_t v = (int64_t)o + pad - (int64_t)k * dil;
    if (v < 0 || v % stride) return -1;
    v /= stride;
    return v < in ? (int)v : -1;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_convt *s = state;
    const float *x = data[s->in_t], *w = data[s->w_t];
    const float *bias = s->b_t >= 0 ? data[s->b_t] : NULL;
    float *y = data[s->out_t];
    const int icg = s->ic / s->group, ocg = s->oc / s->group;
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++)
                for (int o = 0; o < s->oc; o++) {
                    const int grp = o / ocg, oo = o % ocg;
                    double acc = 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int iy = tap_src(oy, s->p.pad_top, ky, s->p.dilation_h, s->p.stride_h,
                                         s->ih);
                        if (iy < 0) continue;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int ix = tap_src(ox, s->p.pad_left, kx, s->p.dilation_w,
                                             s->p.stride_w, s->iw);
                            if (ix < 0) continue;
                            const float *xp =
                                x + (((size_t)b * s->ih + iy) * s->iw + ix) * s->ic +
                                (size_t)grp * icg;
                            for (int i = 0; i < icg; i++) {
                                size_t wi = ((((size_t)grp * icg + i) * s->kh + ky) * s->kw +
                                             kx) * ocg + oo;
                                acc += (double)xp[i] * (double)w[wi];
                            }
                        }
                    }
                    if (bias) acc += bias[o];
                    y[(((size_t)b * s->oh + oy) * s->ow + ox) * s->oc + o] = (float)acc;
                }
    return EV_OK;
}

static void release(void *state) { free(state); }

const ev_kernel ev_ref_conv_transpose_kernel = {"ref_conv_transpose", prepare, run, release};
