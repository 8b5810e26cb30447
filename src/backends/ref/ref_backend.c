/*
 * ref_backend.c - the reference backend's vtable: which kernel runs which op type.
 *
 * To add an op: write src/backends/ref/ref_<op>.c exporting an ev_kernel, declare it in ref.h
 * and map the op type below.
 */
#include "backends/ref/ref.h"

/* The reference kernel of an op type, or NULL (the cpu backend falls back to these too). */
const ev_kernel *ev_ref_kernel_for(const ev_graph *graph, int op) {
    switch (graph->ops[op].type) {
    case EV_OP_CONV_2D:
    case EV_OP_DEPTHWISE_CONV_2D: return &ev_ref_conv_kernel;
    case EV_OP_CONCATENATION: return &ev_ref_concat_kernel;
    case EV_OP_AVERAGE_POOL_2D:
    case EV_OP_MAX_POOL_2D: return &ev_ref_pool_kernel;
    case EV_OP_RESHAPE: return &ev_ref_reshape_kernel;
    case EV_OP_SOFTMAX: return &ev_ref_softmax_kernel;
    case EV_OP_FULLY_CONNECTED: return &ev_ref_fc_kernel;
    case EV_OP_ADD: return &ev_ref_add_kernel;
    case EV_OP_QUANTIZE:
    case EV_OP_DEQUANTIZE: return &ev_ref_quantize_kernel;
    case EV_OP_MEAN: return &ev_ref_mean_kernel;
    case EV_OP_LOGISTIC: return &ev_ref_logistic_kernel;
    case EV_OP_PAD: return &ev_ref_pad_kernel;
    case EV_OP_RELU:
    case EV_OP_RELU6: return &ev_ref_relu_kernel;
    case EV_OP_SUB:
    case EV_OP_MUL:
    case EV_OP_DIV:
    case EV_OP_FLOOR_DIV: return &ev_ref_binary_kernel;
    case EV_OP_SQRT:
    case EV_OP_CAST: return &ev_ref_unary_kernel;
    case EV_OP_RESIZE_BILINEAR: return &ev_ref_resize_kernel;
    case EV_OP_ARG_MAX: return &ev_ref_argmax_kernel;
    case EV_OP_GATHER_ND: return &ev_ref_gather_nd_kernel;
    case EV_OP_PACK:
    case EV_OP_UNPACK: return &ev_ref_pack_kernel;
    case EV_OP_TRANSPOSE: return &ev_ref_transpose_kernel;
    case EV_OP_LEAKY_RELU:
    case EV_OP_HARD_SIGMOID:
    case EV_OP_HARD_SWISH: return &ev_ref_activation_kernel;
    case EV_OP_MINIMUM:
    case EV_OP_MAXIMUM: return &ev_ref_minmax_kernel;
    case EV_OP_BATCH_MATMUL: return &ev_ref_batch_matmul_kernel;
    case EV_OP_RESIZE: return &ev_ref_resize2_kernel;
    case EV_OP_PAD_EX: return &ev_ref_pad_ex_kernel;
    case EV_OP_CONV_TRANSPOSE: return &ev_ref_conv_transpose_kernel;
    case EV_OP_POOL_ND: return &ev_ref_pool_nd_kernel;
    case EV_OP_CONV_ND: return &ev_ref_conv_nd_kernel;
    default: return 0;
    }
}

static void supports(void *context, const ev_graph *graph, int op, ev_kernel_choice *choice) {
    (void)context;
    choice->kernel = ev_ref_kernel_for(graph, op);
    choice->why = choice->kernel ? NULL : "no reference kernel for this op type";
}

/* The reference backend has no per-session state: no init, no run hooks. */
const ev_backend ev_backend_ref = {
    .abi = EV_BACKEND_ABI,
    .name = "ref",
    .description = "portable C reference kernels (TFLite reference arithmetic; the oracle)",
    .supports = supports,
};
