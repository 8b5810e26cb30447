/*
 * ref_pack.c - reference PACK and UNPACK: reference_ops::Pack and ::Unpack (TFLite 2.x,
 * reference/reference_ops.h). PACK stacks values_count tensors of one shape along a new axis
 * (axis in [-(rank+1), rank]); UNPACK splits along an axis into num tensors without it. Byte
 * copies for any type; quantized tensors must all share one scale and zero point (kernels/pack.cc
 * checks the same: packing does not rescale).
 *
 * Extend: SPLIT / SPLIT_V are the UNPACK walk with chunks wider than one.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_pack {
    int unpack;
    int n; /* values packed / outputs unpacked */
    int *t;
    int big_t;
    size_t outer, copy_bytes;
} ref_pack;

static void release(void *state) {
    ref_pack *s = state;
    if (s) free(s->t);
    free(s);
}

static int same_q(const ev_tensor *a, const ev_tensor *b) {
    if (a->quant.count != b->quant.count || a->quant.count > 1) return a->quant.count == b->quant.count && a->quant.count == 0;
    return a->quant.count == 0 ||
           (a->quant.scale[0] == b->quant.scale[0] && a->quant.zero_point[0] == b->quant.zero_point[0]);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    int unpack = op->type == EV_OP_UNPACK;
    int n = unpack ? op->num_outputs : op->num_inputs;
    if (n < 1 || (unpack ? op->num_inputs : op->num_outputs) != 1 ||
        (op->p.pack.count && op->p.pack.count != n))
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "%d inputs and %d outputs for a count of %d",
                          op->num_inputs, op->num_outputs, op->p.pack.count);
    const ev_tensor *big = unpack ? ev_op_input(g, op, 0) : ev_op_output(g, op, 0);
    if (!big) return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input or output");
    int axis = op->p.pack.axis;
    if (axis < 0) axis += big->ndim;
    if (axis < 0 || axis >= big->ndim || big->dims[axis] != n)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "axis %d of %s does not hold %d values",
                          op->p.pack.axis, ev_shape_str(big, s1, 64), n);
    size_t esize = ev_dtype_size(big->dtype);
    if (!esize) return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "type %s", ev_dtype_name(big->dtype));
    for (int i = 0; i < n; i++) {
        const ev_tensor *t = unpack ? ev_op_output(g, op, i) : ev_op_input(g, op, i);
        if (!t) return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "value %d missing", i);
        int ok = t->dtype == big->dtype && t->ndim == big->ndim - 1;
        for (int d = 0, e = 0; ok && d < big->ndim; d++)
            if (d != axis && t->dims[e++] != big->dims[d]) ok = 0;
        if (!ok)
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "value %d (%s %s) is not %s without axis %d", i,
                              ev_dtype_name(t->dtype), ev_shape_str(t, s2, 64),
                              ev_shape_str(big, s1, 64), axis);
        if (!same_q(t, big))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "value %d's quantization differs from "
                              "the packed tensor's (no rescaling)", i);
    }
    ref_pack *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->t = malloc(sizeof(int) * (size_t)n);
    if (!s->t) {
        free(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    s->unpack = unpack;
    s->n = n;
    for (int i = 0; i < n; i++) s->t[i] = unpack ? op->outputs[i] : op->inputs[i];
    s->big_t = unpack ? op->inputs[0] : op->outputs[0];
    s->outer = 1;
    s->copy_bytes = esize;
    for (int d = 0; d < axis; d++) s->outer *= (size_t)big->dims[d];
    for (int d = axis + 1; d < big->ndim; d++) s->copy_bytes *= (size_t)big->dims[d];
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_pack *s = state;
    uint8_t *big = data[s->big_t];
    for (int i = 0; i < s->n; i++) {
        uint8_t *v = data[s->t[i]];
        for (size_t o = 0; o < s->outer; o++) {
            uint8_t *b = big + (o * (size_t)s->n + (size_t)i) * s->copy_bytes;
            if (s->unpack)
                memcpy(v + o * s->copy_bytes, b, s->copy_bytes);
            else
                memcpy(b, v + o * s->copy_bytes, s->copy_bytes);
        }
    }
    return EV_OK;
}

const ev_kernel ev_ref_pack_kernel = {"ref_pack", prepare, run, release};
