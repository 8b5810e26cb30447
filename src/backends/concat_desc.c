/*
 * concat_desc.c - CONCATENATION validation, geometry and input rescaling (concat_desc.h), for
 * the ref and cuda backends.
 */
#include "backends/concat_desc.h"

#include "core/status.h"

#include <stdlib.h>
#include <string.h>

void ev_concat_desc_release(ev_concat_desc *d) {
    free(d->in_t);
    free(d->chunk);
    free(d->requant);
    free(d->scale);
    free(d->bias);
    memset(d, 0, sizeof *d);
}

ev_status ev_concat_desc_init(const ev_kernel_ctx *ctx, ev_concat_desc *d) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *out = ev_op_output(g, op, 0);
    char s1[64], s2[64];
    memset(d, 0, sizeof *d);
    if (op->num_inputs < 1 || op->num_outputs != 1 || !out)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs inputs and one output");
    if (op->p.concat.activation != EV_ACT_NONE)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d",
                          (int)op->p.concat.activation);
    int axis = op->p.concat.axis;
    if (axis < 0) axis += out->ndim;
    if (axis < 0 || axis >= out->ndim)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "axis %d out of range for %s",
                          op->p.concat.axis, ev_shape_str(out, s1, 64));
    d->n_in = op->num_inputs;
    d->in_t = calloc((size_t)d->n_in, sizeof *d->in_t);
    d->chunk = calloc((size_t)d->n_in, sizeof *d->chunk);
    d->requant = calloc((size_t)d->n_in, sizeof *d->requant);
    d->scale = calloc((size_t)d->n_in, sizeof *d->scale);
    d->bias = calloc((size_t)d->n_in, sizeof *d->bias);
    if (!d->in_t || !d->chunk || !d->requant || !d->scale || !d->bias)
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    d->out_t = op->outputs[0];
    d->dtype = out->dtype;
    size_t esize = ev_dtype_size(out->dtype);
    if (!esize) return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output type");
    d->outer = 1;
    for (int k = 0; k < axis; k++) d->outer *= (size_t)out->dims[k];
    size_t inner = esize;
    for (int k = axis + 1; k < out->ndim; k++) inner *= (size_t)out->dims[k];
    int quantized = out->dtype == EV_DTYPE_U8 || out->dtype == EV_DTYPE_I8;
    if (quantized && out->quant.count != 1)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output needs per-tensor quantization");
    if (quantized) d->out_zp = out->quant.zero_point[0];
    long axis_sum = 0;
    for (int i = 0; i < d->n_in; i++) {
        const ev_tensor *in = ev_op_input(g, op, i);
        if (!in) return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "input %d missing", i);
        d->in_t[i] = op->inputs[i];
        int ok = in->dtype == out->dtype && in->ndim == out->ndim;
        for (int k = 0; ok && k < out->ndim; k++)
            if (k != axis && in->dims[k] != out->dims[k]) ok = 0;
        if (!ok)
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %d %s %s does not fit output %s %s "
                              "on axis %d", i, ev_shape_str(in, s1, 64), ev_dtype_name(in->dtype),
                              ev_shape_str(out, s2, 64), ev_dtype_name(out->dtype), axis);
        axis_sum += in->dims[axis];
        d->chunk[i] = inner * (size_t)in->dims[axis];
        d->out_row += d->chunk[i];
        if (quantized) {
            if (in->quant.count != 1)
                return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input %d needs per-tensor "
                                  "quantization", i);
            float is = in->quant.scale[0], os = out->quant.scale[0];
            int32_t iz = in->quant.zero_point[0];
            if (is != os || iz != d->out_zp) {
                d->requant[i] = 1;
                float inv = 1.0f / os;
                d->scale[i] = is * inv;
                d->bias[i] = (float)-iz * d->scale[i];
            }
        }
    }
    if (axis_sum != out->dims[axis])
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "inputs sum to %ld on axis %d, output has %d",
                          axis_sum, axis, out->dims[axis]);
    return EV_OK;
}
