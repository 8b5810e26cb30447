/*
 * ref_backend.c - the reference backend's vtable: which kernel runs which op type.
 *
 * To add an op: write src/backends/ref/ref_<op>.c exporting an ev_kernel, declare it in ref.h
 * and map the op type below.
 */
#include "backends/ref/ref.h"

static const ev_kernel *kernel_for(const ev_kernel_ctx *ctx) {
    switch (ctx->graph->ops[ctx->op_index].type) {
    case EV_OP_CONV_2D:
    case EV_OP_DEPTHWISE_CONV_2D: return &ev_ref_conv_kernel;
    case EV_OP_CONCATENATION: return &ev_ref_concat_kernel;
    default: return 0;
    }
}

const ev_backend ev_backend_ref = {
    EV_BACKEND_ABI,
    "ref",
    "portable C reference kernels (TFLite reference arithmetic; the oracle)",
    kernel_for,
};
