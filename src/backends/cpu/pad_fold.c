/*
 * pad_fold.c - a float32 PAD whose output only feeds a float convolution, run as that
 * convolution's own zero padding (core/backend.h "Fusion"; the pair found by fusion.c).
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
 * Extend: another conv kernel that takes any leading padding calls ev_cpu_conv_fold_pad in its
 * prepare and is listed in ev_cpu_pad_fold_reads_through.
 */
#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "core/status.h"

#include <stdlib.h>

extern const ev_backend ev_backend_cpu; /* cpu_backend.c: its supports() names op j's kernel */

int ev_cpu_pad_fold_reads_through(const ev_kernel *k) {
    return k == &ev_cpu_conv_f32_kernel || k == &ev_cpu_dwconv_f32_kernel ||
           k == &ev_cpu_conv_f32_first_kernel;
}

ev_status ev_cpu_conv_fold_pad(const ev_kernel_ctx *ctx, ev_conv_desc *d) {
    const ev_cpu_ctx *c = ctx->backend;
    const ev_graph *g = ctx->graph;
    if (!c || c->fold_pad < 0 || c->fold_pad >= g->num_ops) return EV_OK;
    const ev_op *pad = &g->ops[c->fold_pad];
    if (pad->type != EV_OP_PAD || pad->num_outputs < 1 || pad->outputs[0] != d->in_t)
        return EV_OK; /* not this desc's input (a depthwise's absorbed 1x1) */
    const ev_tensor *in = ev_op_input(g, pad, 0), *p = ev_op_input(g, pad, 1);
    const int32_t *v = p && p->data && p->dtype == EV_DTYPE_I32 && p->ndim == 2 &&
                               p->dims[0] == 4 && p->dims[1] == 2
                           ? p->data
                           : NULL;
    if (!in || !v || in->ndim != 4 || v[0] || v[1] || v[6] || v[7] || v[2] < 0 || v[3] < 0 ||
        v[4] < 0 || v[5] < 0 || in->dims[0] != d->batch || in->dims[3] != d->in_c ||
        in->dims[1] + v[2] + v[3] != d->in_h || in->dims[2] + v[4] + v[5] != d->in_w)
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "cannot read through PAD op %d (not a zero "
                          "spatial padding of this conv's %dx%dx%dx%d input)", c->fold_pad,
                          d->batch, d->in_h, d->in_w, d->in_c);
    d->in_t = pad->inputs[0];
    d->in_h = in->dims[1];
    d->in_w = in->dims[2];
    d->pad_top += v[2];
    d->pad_left += v[4];
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
