/*
 * cpu_backend.c - the cpu backend object: fast kernels for the quantized convolutions that
 * dominate MobileNet-class models (conv.c, dwconv.c), float32 elementwise, pooling, MEAN and PAD
 * for the shapes float CNNs use (eltwise_f32.c, pool_f32.c: f32_choice below), and the reference
 * kernels for everything else (exact by construction, and cheap next to the convolutions).
 *
 * init builds, once per session, the kernel config (config.c) for the ISA path of the CPU,
 * capped by the session's `isa` option or $EV_ISA, into the context every kernel of the session
 * reads; supports() names the chosen line ("u8s8_gemm_6x64__avx512vnni") for
 * ev_session_kernel_name. Ops the fast kernels do not take run the reference kernels, and their
 * errors say "cpu (reference kernel)".
 */
#include "backends/cpu/cpu.h"
#include "backends/ref/ref.h"
#include "core/status.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static int quantized_input(const ev_graph *g, const ev_op *op) {
    const ev_tensor *in = ev_op_input(g, op, 0);
    return in && (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8);
}

/* A float op whose weights (input 1) and bias (input 2) are constant float32: the float GEMM
 * packs them at prepare; anything else runs the reference kernel. */
static int float_gemm_op(const ev_graph *g, const ev_op *op) {
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    const ev_tensor *b = op->num_inputs > 2 ? ev_op_input(g, op, 2) : NULL;
    return in && in->dtype == EV_DTYPE_F32 && w && w->dtype == EV_DTYPE_F32 && w->data &&
           (!b || (b->dtype == EV_DTYPE_F32 && b->data));
}

/* A float CONV_2D the Winograd kernel takes: constant weights, 3x3, stride 1, dilation 1. */
static int winograd_conv(const ev_graph *g, const ev_op *op) {
    const ev_tensor *w = ev_op_input(g, op, 1);
    const ev_conv_params *p = &op->p.conv;
    return op->type == EV_OP_CONV_2D && float_gemm_op(g, op) && w->ndim == 4 &&
           w->dims[1] == 3 && w->dims[2] == 3 && p->stride_h == 1 && p->stride_w == 1 &&
           p->dilation_h == 1 && p->dilation_w == 1;
}

/* Float32 depthwise with depth multiplier 1 (input and filter channels equal): dwconv_f32.c. */
static int float_depthwise_m1(const ev_graph *g, const ev_op *op) {
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    return in && w && in->dtype == EV_DTYPE_F32 && in->ndim == 4 && w->ndim == 4 &&
           op->p.conv.depth_multiplier <= 1 && w->dims[3] == in->dims[3];
}

static ev_status init(const ev_graph *graph, const ev_backend_options *opts, void **context) {
    ev_cpu_ctx *c = calloc(1, sizeof *c);
    if (!c) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_cpu_config_init(ev_cpu_isa(opts ? opts->isa : NULL), &c->cfg);
    c->float_modes = opts ? opts->float_modes : 0;
    if ((c->float_modes & EV_FLOAT_BF16) && c->cfg.f32_gemm_bf16) {
        c->cfg.f32_gemm = c->cfg.f32_gemm_bf16; /* every float GEMM of the session */
        c->cfg.f32_gemm_split = NULL;
    }
    snprintf(c->wino_name, sizeof c->wino_name, "f32_conv3x3_winograd4x4__%s",
             ev_isa_name(c->cfg.isa));
    c->fold_pad = -1;
    c->scratch = calloc(1, sizeof *c->scratch);
    if (!c->scratch) {
        free(c);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    ev_status st = ev_cpu_fusion_find(graph, &c->partner);
    if (st != EV_OK) {
        free(c->scratch);
        free(c);
        return st;
    }
    *context = c;
    return EV_OK;
}

static void cpu_free(void *context) {
    ev_cpu_ctx *c = context;
    if (c) {
        free(c->partner);
        if (c->scratch) free(c->scratch->p);
        free(c->scratch);
    }
    free(c);
}

/* Float32 non-convolution ops the fast kernels take (eltwise_f32.c, pool_f32.c): 1 and the
 * choice filled, or 0 (the shapes they do not take run the reference kernels). */
static int f32_choice(const ev_cpu_config *cfg, const ev_graph *g, int i,
                      ev_kernel_choice *choice) {
    const ev_cpu_f32_ops *f = cfg->f32_ops;
    const ev_op *op = &g->ops[i];
    if (!f) return 0;
    switch (op->type) {
    case EV_OP_ADD:
    case EV_OP_SUB:
    case EV_OP_MUL:
    case EV_OP_DIV:
        if (!ev_cpu_f32_binary_takes(g, i)) return 0;
        choice->kernel = &ev_cpu_f32_binary_kernel;
        choice->name = f->name[op->type == EV_OP_ADD   ? EV_F32_ADD
                               : op->type == EV_OP_SUB ? EV_F32_SUB
                               : op->type == EV_OP_MUL ? EV_F32_MUL
                                                       : EV_F32_DIV];
        return 1;
    case EV_OP_RELU:
    case EV_OP_RELU6:
    case EV_OP_LOGISTIC:
        if (!ev_cpu_f32_unary_takes(g, i)) return 0;
        choice->kernel = &ev_cpu_f32_unary_kernel;
        choice->name = f->name[op->type == EV_OP_LOGISTIC ? EV_F32_SIGMOID : EV_F32_CLAMP];
        return 1;
    case EV_OP_MAX_POOL_2D:
    case EV_OP_AVERAGE_POOL_2D:
        if (!ev_cpu_f32_pool_takes(g, i)) return 0;
        choice->kernel = &ev_cpu_f32_pool_kernel;
        choice->name = f->name[op->type == EV_OP_MAX_POOL_2D ? EV_F32_MAXPOOL : EV_F32_AVGPOOL];
        return 1;
    case EV_OP_MEAN:
        if (!ev_cpu_f32_mean_takes(g, i)) return 0;
        choice->kernel = &ev_cpu_f32_mean_kernel;
        choice->name = f->name[EV_F32_MEAN];
        return 1;
    case EV_OP_PAD:
        if (!ev_cpu_f32_pad_takes(g, i)) return 0;
        choice->kernel = &ev_cpu_f32_pad_kernel;
        choice->name = "f32_pad_rows";
        return 1;
    default: return 0;
    }
}

static void supports(void *context, const ev_graph *g, int i, ev_kernel_choice *choice) {
    const ev_cpu_ctx *ctx = context;
    const ev_cpu_config *cfg = &ctx->cfg;
    const ev_op *op = &g->ops[i];
    if ((ctx->float_modes & EV_FLOAT_WINOGRAD) && cfg->f32_gemm && winograd_conv(g, op)) {
        choice->kernel = &ev_cpu_conv_f32_winograd_kernel;
        choice->name = ctx->wino_name;
        return;
    }
    if (op->type == EV_OP_CONV_2D && quantized_input(g, op)) {
        const ev_tensor *w = ev_op_input(g, op, 1);
        int kp = w && w->ndim == 4 ? (w->dims[1] * w->dims[2] * w->dims[3] + 3) & ~3 : INT_MAX;
        const ev_cpu_gemm_entry *k = ev_cpu_config_gemm(cfg, ev_op_input(g, op, 0)->dtype, kp);
        if (k) {
            choice->kernel = &ev_cpu_conv_kernel;
            choice->name = k->name;
            return;
        }
    }
    if (cfg->f32_first && ev_cpu_f32_first_takes(g, i)) { /* 1-4 input channels: direct */
        choice->kernel = &ev_cpu_conv_f32_first_kernel;
        choice->name = cfg->f32_first->name;
        return;
    }
    if ((op->type == EV_OP_CONV_2D || op->type == EV_OP_FULLY_CONNECTED) && cfg->f32_gemm &&
        float_gemm_op(g, op)) {
        choice->kernel = op->type == EV_OP_CONV_2D ? &ev_cpu_conv_f32_kernel
                                                   : &ev_cpu_fc_f32_kernel;
        choice->name = ev_cpu_conv_f32_split_takes(cfg, g, op) ? cfg->f32_gemm_split->name
                                                               : cfg->f32_gemm->name;
        if (op->type == EV_OP_CONV_2D && ctx->partner) choice->absorbs = ctx->partner[i];
        return;
    }
    if (op->type == EV_OP_DEPTHWISE_CONV_2D && quantized_input(g, op) &&
        op->p.conv.depth_multiplier <= 1) {
        const ev_tensor *w = ev_op_input(g, op, 1);
        int k_h = w && w->ndim == 4 ? w->dims[1] : 0;
        const ev_cpu_dw_entry *k = ev_cpu_config_dw(cfg, ev_op_input(g, op, 0)->dtype, k_h);
        if (k) {
            choice->kernel = &ev_cpu_dwconv_kernel;
            choice->name = k->name;
            return;
        }
    }
    if (op->type == EV_OP_DEPTHWISE_CONV_2D && float_depthwise_m1(g, op)) {
        const ev_cpu_f32_dw_entry *k = ev_cpu_config_f32_dw(cfg, ev_op_input(g, op, 1)->dims[1]);
        if (k) {
            choice->kernel = &ev_cpu_dwconv_f32_kernel;
            choice->name = k->name;
            /* the 1x1 conv it feeds (fusion.c), computed band by band through the float GEMM */
            if (ctx->partner && cfg->f32_gemm) choice->absorbs = ctx->partner[i];
            return;
        }
    }
    if (op->type == EV_OP_PAD && ctx->partner && ctx->partner[i] > i &&
        ev_cpu_f32_pad_takes(g, i)) { /* the conv it feeds reads through it (pad_fold.c) */
        ev_kernel_choice conv = {0};
        supports(context, g, ctx->partner[i], &conv);
        if (ev_cpu_pad_fold_reads_through(conv.kernel)) {
            choice->kernel = &ev_cpu_pad_fold_kernel;
            choice->name = "f32_pad_fold";
            choice->absorbs = ctx->partner[i];
            return;
        }
    }
    if (op->type == EV_OP_TRANSPOSE && ev_cpu_transpose_takes(g, i)) {
        choice->kernel = &ev_cpu_transpose_kernel;
        choice->name = "cpu_transpose";
        return;
    }
    if (f32_choice(cfg, g, i, choice)) return;
    choice->kernel = ev_ref_kernel_for(g, i);
    choice->reference = choice->kernel != NULL;
    choice->why = choice->kernel ? NULL : "no fast or reference kernel for this op type";
}

const ev_backend ev_backend_cpu = {
    .abi = EV_BACKEND_ABI,
    .name = "cpu",
    .description = "fast CPU kernels (AVX-512 VNNI / AVX-512 / AVX2 / NEON / scalar, chosen "
                   "once per session), bit-exact with ref",
    .init = init,
    .free = cpu_free,
    .supports = supports,
};
