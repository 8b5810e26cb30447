/*
 * concat_desc.h - a CONCATENATION as every backend sees it: the checks, the byte geometry (outer
 * steps, bytes per step of each input) and the rescaling of quantized inputs, derived once from
 * the graph. Backends share this so they agree on what they accept and on the arithmetic, and
 * differ only in how they move the bytes (ref: memcpy on the host; cuda: device copies).
 *
 * Quantized inputs whose scale/zero point differ from the output's are requantised as TFLite's
 * ConcatenationWithScaling does: float scale = in_scale * (1/out_scale), bias = -in_zp * scale,
 * q = round_half_away(x * scale + bias) + out_zp, clamped to the type's range.
 */
#ifndef EV_BACKENDS_CONCAT_DESC_H
#define EV_BACKENDS_CONCAT_DESC_H

#include "core/backend.h"

#include <stddef.h>

typedef struct ev_concat_desc {
    int n_in;
    int *in_t;      /* [n_in] input tensors                                                   */
    int out_t;
    ev_dtype dtype; /* of every input and the output                                          */
    size_t outer;   /* product of the output's dims before the axis                           */
    size_t *chunk;  /* [n_in] bytes of each input per outer step                              */
    size_t out_row; /* bytes of the output per outer step (the sum of the chunks)             */
    int *requant;   /* [n_in] 1 when a quantized input needs rescaling                        */
    float *scale;   /* [n_in] when requant[i]                                                 */
    float *bias;    /* [n_in] when requant[i]                                                 */
    int32_t out_zp; /* quantized output's zero point                                          */
} ev_concat_desc;

/* Validates op ctx->op_index (CONCATENATION) and fills `d` (allocating its per-input arrays;
 * release with ev_concat_desc_release, also after a failure). Errors name ctx->backend_name. */
ev_status ev_concat_desc_init(const ev_kernel_ctx *ctx, ev_concat_desc *d);
void ev_concat_desc_release(ev_concat_desc *d);

#endif
