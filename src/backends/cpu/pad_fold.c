/*
 * pad_fold.c - a float32 PAD whose output only feeds a float convolution or a VALID max pool, run
 * as that op's own zero padding (core/backend.h "Fusion"; the pair found by fusion.c).
 *
 * ONNX files from PyTorch pad symmetrically (a 3x3 stride-2 conv on 112x112 pads 1 on every
 * side), which TFLite's SAME (0 before, 1 after there) does not express, so the ONNX reader
 * writes PAD + a VALID conv: MobileNetV2 has five such PADs (0.34 ms of its 3.4 ms at 2 threads,
 * each a full copy of a 0.6-4.8 MB activation), torchvision ResNet50 five. The cpu float conv
 * kernels already take any pad_top / pad_left (taps outside the input are zeros), so the PAD
 * costs nothing when the conv reads the PAD's input with the PAD's leading pads added to its own.
 *
 * How: the PAD op's choice (cpu_backend.c) is this kernel, absorbing the conv (op j). prepare
 * prepares the PAD's own kernel (for unfused runs: a per-op callback sees every op's output)
 * and the conv's kernel for op j, as the backend chooses it, through a copy of the backend's
 * context whose fold_pad names this PAD: the conv kernels call ev_cpu_conv_fold_pad after
 * ev_conv_desc_init, which rewrites their geometry only for that copy. A fused run runs the conv
 * (and what it absorbs itself: a depthwise's 1x1, which the session then skips too); an unfused
 * run runs the PAD, and the session runs op j's own kernel as usual. The conv's weights are
 * packed twice (here and in op j's own state): 12 MB more for ResNet50's three stride-2 3x3s.
 *
 * Keras ResNet50's ZeroPadding2D + MaxPooling2D (3x3/2 VALID on 114x114x64) is the pool case:
 * pool_f32.c reads the 112x112 input and takes a window's padded taps as zeros (in the reference's
 * order, bit-identical to PAD + pool), which saves the PAD's 3.3 MB write and read.
 *
 * Extend: another kernel that takes any leading padding calls ev_cpu_conv_fold_pad (or, without
 * a conv desc, ev_cpu_fold_pad_input) in its prepare and is listed in
 * ev_cpu_pad_fold_reads_through.
 */
#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "core/status.h"

#include <stdlib.h>

extern const ev_backend ev_backend_cpu; /* cpu_backend.c: its supports() names op j's kernel */

int ev_cpu_pad_fold_reads_through(const ev_kernel *k) {
    return k == &ev_cpu_conv_f32_kernel || k == &ev_cpu_dwconv_f32_kernel ||
           k == &ev_cpu_conv_f32_first_kernel || k == &ev_cpu_f32_pool_kernel;
}

ev_status ev_cpu_fold_pad_input(const ev_kernel_ctx *ctx, ev_fold_input *in_out) {
    const ev_cpu_ctx *c = ctx->backend;
    const ev_graph *g = ctx->graph;
    if (!c || c->fold_pad < 0 || c->fold_pad >= g->num_ops) return EV_OK;
    const ev_op *pad = &g->ops[c->fold_pad];
    ev_fold_input *f = in_out;
    if (pad->type != EV_OP_PAD || pad->num_outputs < 1 || pad->outputs[0] != f->t)
        return EV_OK; /* not this op's input (a depthwise's absorbed 1x1) */
    const ev_tensor *in = ev_op_input(g, pad, 0), *p = ev_op_input(g, pad, 1);
    const int32_t *v = p && p->data && p->dtype == EV_DTYPE_I32 && p->ndim == 2 &&
                               p->dims[0] == 4 && p->dims[1] == 2
                           ? p->data
                           : NULL;
    if (!in || !v || in->ndim != 4 || v[0] || v[1] || v[6] || v[7] || v[2] < 0 || v[3] < 0 ||
        v[4] < 0 || v[5] < 0 || in->dims[0] != f->batch || in->dims[3] != f->c ||
        in->dims[1] + v[2] + v[3] != f->h || in->dims[2] + v[4] + v[5] != f->w)
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "cannot read through PAD op %d (not a zero "
                          "spatial padding of this op's %dx%dx%dx%d input)", c->fold_pad,
                          f->batch, f->h, f->w, f->c);
    f->t = pad->inputs[0];
    f->h = in->dims[1];
    f->w = in->dims[2];
    f->top += v[2];
    f->left += v[4];
    f->folded = 1;
    return EV_OK;
}

ev_status ev_cpu_conv_fold_pad(const ev_kernel_ctx *ctx, ev_conv_desc *d) {
    ev_fold_input f = {d->in_t, d->batch, d->in_h, d->in_w, d->in_c, d->pad_top, d->pad_left, 0};
    EV_TRY(ev_cpu_fold_pad_input(ctx, &f));
    d->in_t = f.t;
    d->in_h = f.h;
    d->in_w = f.w;
    d->pad_top = f.top;
    d->pad_left = f.left;
    return EV_OK;
}

typedef struct pad_fold {
    void *pad_state;
    const ev_kernel *conv;
    void *conv_state;
    ev_cpu_ctx bctx;    /* the backend's context, fold_pad = this PAD */
    ev_kernel_ctx cctx; /* op j's context, backend = &bctx            */
} pad_fold;

static void release(void *state) {
    pad_fold *s = state;
    if (!s) return;
    if (s->pad_state) ev_cpu_f32_pad_kernel.release(s->pad_state);
    if (s->conv_state && s->conv->release) s->conv->release(s->conv_state);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const int j = ctx->absorbs;
    if (!ctx->backend || j <= ctx->op_index || j >= g->num_ops)
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "PAD fold without a later conv (absorbs %d)", j);
    pad_fold *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_cpu_f32_pad_kernel.prepare(ctx, &s->pad_state);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    s->bctx = *(const ev_cpu_ctx *)ctx->backend;
    s->bctx.fold_pad = ctx->op_index;
    ev_kernel_choice ch = {0};
    ev_backend_cpu.supports(ctx->backend, g, j, &ch);
    if (!ev_cpu_pad_fold_reads_through(ch.kernel)) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "op %d's kernel (%s) does not read through a "
                          "PAD", j, ch.kernel ? ch.kernel->name : "none");
    }
    s->conv = ch.kernel;
    s->cctx = *ctx;
    s->cctx.op_index = j;
    s->cctx.backend = &s->bctx;
    s->cctx.absorbs = ch.absorbs; /* fusion.c pairs a PAD only with a conv whose own partner is
                                     unique (a depthwise's 1x1), which the session grants too */
    s->cctx.fused = 0;
    st = s->conv->prepare(&s->cctx, &s->conv_state);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    pad_fold *s = state;
    if (!ctx->fused) return ev_cpu_f32_pad_kernel.run(ctx, s->pad_state, data);
    s->cctx.fused = s->cctx.absorbs > 0;
    return s->conv->run(&s->cctx, s->conv_state, data);
}

const ev_kernel ev_cpu_pad_fold_kernel = {"f32_pad_fold", prepare, run, release};
