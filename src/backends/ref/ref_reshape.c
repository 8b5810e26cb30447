/*
 * ref_reshape.c - reference RESHAPE: a byte copy into the output tensor's (static) shape.
 *
 * Checked at prepare: same dtype, same element count, the same quantization for quantized types
 * (a reshape never rescales), and, when the file gave ReshapeOptions.new_shape, that it resolves
 * (its one -1 filled in) to the output tensor's shape. The optional second input (the shape as a
 * tensor) is not read: shapes are static in this IR.
 *
 * Extend: nothing to add per dtype; dynamic shapes would need the planner first.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_reshape {
    int in_t, out_t;
    size_t bytes;
} ref_reshape;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    if (op->num_inputs < 1 || op->num_inputs > 2 || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "expects 1-2 inputs and 1 output, has %d and "
                          "%d", op->num_inputs, op->num_outputs);
    const ev_tensor *in = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
    if (!in || !out) return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input or output");
    if (in->dtype != out->dtype || !ev_dtype_size(in->dtype))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s output",
                          ev_dtype_name(in->dtype), ev_dtype_name(out->dtype));
    if (ev_tensor_elems(in) != ev_tensor_elems(out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s and output %s differ in element "
                          "count", ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    if (in->quant.count != out->quant.count ||
        (in->quant.count == 1 && (in->quant.scale[0] != out->quant.scale[0] ||
                                  in->quant.zero_point[0] != out->quant.zero_point[0])) ||
        in->quant.count > 1)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input and output quantization differ "
                          "(a reshape cannot rescale)");
    const ev_reshape_params *p = &op->p.reshape;
    if (p->num_dims >= 0) {
        int ok = p->num_dims == out->ndim;
        for (int i = 0; ok && i < p->num_dims; i++)
            if (p->dims[i] != -1 && p->dims[i] != out->dims[i]) ok = 0;
        if (!ok) {
            int used = 0;
            s2[0] = '\0';
            for (int i = 0; i < p->num_dims && used < 60; i++)
                used += snprintf(s2 + used, 64 - (size_t)used, i ? "x%d" : "%d", p->dims[i]);
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "new_shape %s does not match the output "
                              "%s", p->num_dims ? s2 : "scalar", ev_shape_str(out, s1, 64));
        }
    }
    ref_reshape *s = malloc(sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->bytes = out->bytes;
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_reshape *s = state;
    if (s->bytes && data[s->out_t] != data[s->in_t])
        memmove(data[s->out_t], data[s->in_t], s->bytes);
    return EV_OK;
}

const ev_kernel ev_ref_reshape_kernel = {"ref_reshape", prepare, run, free};
