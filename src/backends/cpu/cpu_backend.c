/*
 * cpu_backend.c - the cpu backend's vtable: fast kernels for the quantized convolutions that
 * dominate MobileNet-class models (conv.c, dwconv.c), and the reference kernels for everything
 * else (exact by construction, and cheap next to the convolutions).
 */
#include "backends/cpu/cpu.h"

extern const ev_backend ev_backend_ref;

static int quantized_input(const ev_kernel_ctx *ctx) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *in = ev_op_input(g, op, 0);
    return in && (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8);
}

static const ev_kernel *kernel_for(const ev_kernel_ctx *ctx) {
    const ev_op *op = &ctx->graph->ops[ctx->op_index];
    if (op->type == EV_OP_CONV_2D && quantized_input(ctx)) return &ev_cpu_conv_kernel;
    if (op->type == EV_OP_DEPTHWISE_CONV_2D && quantized_input(ctx) &&
        (op->p.conv.depth_multiplier <= 1))
        return &ev_cpu_dwconv_kernel;
    return ev_backend_ref.kernel_for(ctx);
}

const ev_backend ev_backend_cpu = {
    EV_BACKEND_ABI,
    "cpu",
    "fast CPU kernels (AVX-512 VNNI / AVX-512 / scalar, chosen at run time), bit-exact with ref",
    kernel_for,
};
