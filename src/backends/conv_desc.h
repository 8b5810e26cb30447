/*
 * conv_desc.h - a convolution as every backend sees it: geometry, dtypes, zero points and the
 * per-output-channel fixed-point multipliers, derived once from the graph with TFLite's exact
 * rules (posenet.md section 3). Backends share this so they agree on the arithmetic and differ
 * only in loops.
 */
#ifndef EV_BACKENDS_CONV_DESC_H
#define EV_BACKENDS_CONV_DESC_H

#include "core/backend.h"

typedef struct ev_conv_desc {
    int depthwise;
    ev_dtype dtype; /* of input and output: U8, I8 or F32                                     */
    int batch, in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int k_h, k_w;
    int stride_h, stride_w, dil_h, dil_w;
    int pad_top, pad_left;
    int depth_multiplier; /* depthwise: out_c = in_c * depth_multiplier                     */
    /* quantized */
    int32_t in_zp, out_zp;
    int32_t *w_zp;   /* [out_c]                                                             */
    int32_t *mult;   /* [out_c] M0                                                          */
    int *shift;      /* [out_c] exponent (negative: right shift)                           */
    int32_t act_min, act_max;
    /* float */
    float f_min, f_max;
    /* tensors */
    int in_t, w_t, b_t, out_t; /* b_t = -1 when there is no bias                             */
} ev_conv_desc;

/* Validates op ctx->op_index (CONV_2D or DEPTHWISE_CONV_2D) and fills `d` (allocating its
 * per-channel arrays; release with ev_conv_desc_release). Errors name ctx->backend_name. */
ev_status ev_conv_desc_init(const ev_kernel_ctx *ctx, ev_conv_desc *d);
void ev_conv_desc_release(ev_conv_desc *d);

#endif
