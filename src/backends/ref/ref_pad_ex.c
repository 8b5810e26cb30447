/*
 * ref_pad_ex.c - reference PAD_EX: ONNX Pad's three modes on a tensor of any rank and dtype.
 *
 * Paddings are a constant int32 [ndim][2] input (before, after) as PAD's; a negative entry
 * crops. Per dimension d and output index o, the source index is i = o - before[d]; inside
 * [0, in) it is copied, outside it is filled by the mode: constant writes p.pad_ex.value
 * (float32 tensors; other dtypes only pad with 0, which the ONNX reader checks), edge clamps i to
 * [0, in - 1], reflect mirrors it about the edges without repeating them (numpy's 'reflect':
 * -1 -> 1, in -> in - 2, periodic for pads longer than the dimension). A source index table per
 * dimension is built at prepare; run walks the output once.
 *
 * Extend: a mode is one more case in src_index().
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_pad_ex {
    int in_t, out_t, ndim;
    int in_dims[EV_MAX_DIMS], out_dims[EV_MAX_DIMS];
    int *src[EV_MAX_DIMS]; /* [out_dims[d]]: input index, or -1 for the constant fill */
    size_t esize;
    float value;
} ref_pad_ex;

static int src_index(ev_pad_mode mode, int64_t i, int n) {
    if (i >= 0 && i < n) return (int)i;
    if (mode == EV_PADMODE_EDGE) return i < 0 ? 0 : n - 1;
    if (mode == EV_PADMODE_REFLECT) {
        if (n == 1) return 0;
        int64_t period = 2 * (int64_t)(n - 1);
        i %= period;
        if (i < 0) i += period;
        return (int)(i < n ? i : period - i);
    }
    return -1;
}

static void release(void *state) {
    ref_pad_ex *s = state;
    if (!s) return;
    for (int d = 0; d < EV_MAX_DIMS; d++) free(s->src[d]);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_pad_ex_params *p = &op->p.pad_ex;
    const ev_tensor *in[2] = {0}, *out = NULL;
    char s1[64], s2[64];
    EV_TRY(ev_ref_io(ctx, 2, in, &out));
    const ev_tensor *pads = in[1];
    if (!pads->data || pads->dtype != EV_DTYPE_I32 || pads->ndim != 2 || pads->dims[1] != 2 ||
        pads->dims[0] != in[0]->ndim)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "paddings must be a constant int32 [%d][2] "
                          "tensor", in[0]->ndim);
    if (in[0]->dtype != out->dtype || in[0]->ndim != out->ndim || !ev_dtype_size(out->dtype))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s %s, output %s %s",
                          ev_shape_str(in[0], s1, 64), ev_dtype_name(in[0]->dtype),
                          ev_shape_str(out, s2, 64), ev_dtype_name(out->dtype));
    if (p->mode != EV_PADMODE_CONSTANT && p->mode != EV_PADMODE_REFLECT &&
        p->mode != EV_PADMODE_EDGE)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "pad mode %d", (int)p->mode);
    if (p->mode == EV_PADMODE_CONSTANT && p->value != 0.0f && out->dtype != EV_DTYPE_F32)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "constant value %g on a %s tensor",
                          (double)p->value, ev_dtype_name(out->dtype));
    ref_pad_ex *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->ndim = out->ndim;
    s->esize = ev_dtype_size(out->dtype);
    s->value = p->value;
    const int32_t *pv = pads->data;
    for (int d = 0; d < s->ndim; d++) {
        int n = in[0]->dims[d];
        s->in_dims[d] = n;
        s->out_dims[d] = out->dims[d];
        if ((int64_t)n + pv[2 * d] + pv[2 * d + 1] != out->dims[d] ||
            (n == 0 && out->dims[d] > 0 && p->mode != EV_PADMODE_CONSTANT)) {
            release(s);
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "paddings (%d, %d) on dimension %d of %s do "
                              "not give %s", pv[2 * d], pv[2 * d + 1], d,
                              ev_shape_str(in[0], s1, 64), ev_shape_str(out, s2, 64));
        }
        s->src[d] = malloc(sizeof(int) * (size_t)(out->dims[d] ? out->dims[d] : 1));
        if (!s->src[d]) {
            release(s);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        for (int o = 0; o < out->dims[d]; o++)
            s->src[d][o] = src_index(p->mode, (int64_t)o - pv[2 * d], n);
    }
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_pad_ex *s = state;
    const uint8_t *in = data[s->in_t];
    uint8_t *out = data[s->out_t];
    size_t total = 1;
    for (int d = 0; d < s->ndim; d++) total *= (size_t)s->out_dims[d];
    int idx[EV_MAX_DIMS] = {0};
    for (size_t o = 0; o < total; o++) {
        size_t i = 0;
        int inside = 1;
        for (int d = 0; d < s->ndim && inside; d++) {
            int k = s->src[d][idx[d]];
            inside = k >= 0;
            i = i * (size_t)s->in_dims[d] + (size_t)(k >= 0 ? k : 0);
        }
        if (inside)
            memcpy(out + o * s->esize, in + i * s->esize, s->esize);
        else if (s->esize == sizeof(float))
            memcpy(out + o * s->esize, &s->value, sizeof(float)); /* float32 (0.0f otherwise) */
        else
            memset(out + o * s->esize, 0, s->esize);
        for (int d = s->ndim - 1; d >= 0; d--) { /* next output multi-index */
            if (++idx[d] < s->out_dims[d]) break;
            idx[d] = 0;
        }
    }
    return EV_OK;
}

const ev_kernel ev_ref_pad_ex_kernel = {"ref_pad_ex", prepare, run, release};
