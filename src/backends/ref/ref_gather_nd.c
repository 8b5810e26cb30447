/*
 * ref_gather_nd.c - reference GATHER_ND: reference_ops::GatherNd (TFLite 2.x,
 * reference/reference_ops.h). indices (int32 or int64) of shape [..., k]: each index tuple
 * selects the slice params[i0, ..., i(k-1), :, ...]; the output is indices.shape[:-1] +
 * params.shape[k:]. A byte copy for any params type (quantized outputs share the params'
 * quantization, as in TFLite). An index outside params fails the run naming it (TFLite 2.9
 * returns an error for out-of-bounds indices too).
 *
 * Extend: nothing per dtype; SCATTER_ND would be its own file.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_gather_nd {
    int p_t, i_t, out_t;
    ev_dtype idx_dt;
    int k;                       /* index depth                              */
    int pdims[EV_MAX_DIMS];
    size_t stride[EV_MAX_DIMS];  /* elements per step of params dim j, j < k  */
    size_t n_slices, slice_bytes, esize;
} ref_gather_nd;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64], s3[64];
    const ev_tensor *io_in[2] = {0}, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 2, io_in, &out));
    const ev_tensor *p = io_in[0], *ix = io_in[1];
    size_t esize = ev_dtype_size(p->dtype);
    if (!esize || p->dtype != out->dtype)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "params %s, output %s (the same type)",
                          ev_dtype_name(p->dtype), ev_dtype_name(out->dtype));
    if (ix->dtype != EV_DTYPE_I32 && ix->dtype != EV_DTYPE_I64)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "indices type %s (int32 or int64)",
                          ev_dtype_name(ix->dtype));
    if (ix->ndim < 1 || p->ndim < 1)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "params %s and indices %s need rank >= 1",
                          ev_shape_str(p, s1, 64), ev_shape_str(ix, s2, 64));
    int k = ix->dims[ix->ndim - 1];
    int ok = k >= 1 && k <= p->ndim && out->ndim == ix->ndim - 1 + p->ndim - k;
    for (int d = 0; ok && d < ix->ndim - 1; d++) ok = out->dims[d] == ix->dims[d];
    for (int d = k; ok && d < p->ndim; d++) ok = out->dims[ix->ndim - 1 + d - k] == p->dims[d];
    if (!ok)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "params %s, indices %s: output %s expected "
                          "indices.shape[:-1] + params.shape[k:]", ev_shape_str(p, s1, 64),
                          ev_shape_str(ix, s2, 64), ev_shape_str(out, s3, 64));
    ref_gather_nd *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->p_t = op->inputs[0];
    s->i_t = op->inputs[1];
    s->out_t = op->outputs[0];
    s->idx_dt = ix->dtype;
    s->k = k;
    s->esize = esize;
    size_t slice = 1;
    for (int d = k; d < p->ndim; d++) slice *= (size_t)p->dims[d];
    for (int j = k - 1; j >= 0; j--) {
        s->stride[j] = slice;
        s->pdims[j] = p->dims[j];
        slice *= (size_t)p->dims[j];
    }
    s->slice_bytes = s->stride[k - 1] * esize;
    s->n_slices = ev_tensor_elems(ix) / (size_t)k;
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const ref_gather_nd *s = state;
    const uint8_t *p = data[s->p_t];
    uint8_t *o = data[s->out_t];
    for (size_t i = 0; i < s->n_slices; i++) {
        size_t from = 0;
        for (int j = 0; j < s->k; j++) {
            int64_t v = s->idx_dt == EV_DTYPE_I32
                            ? ((const int32_t *)data[s->i_t])[i * (size_t)s->k + (size_t)j]
                            : ((const int64_t *)data[s->i_t])[i * (size_t)s->k + (size_t)j];
            if (v < 0 || v >= s->pdims[j])
                return EV_OP_FAIL(ctx, EV_ERR_INVALID_ARG, "index %lld of tuple %zu (dimension "
                                  "%d) is outside params (size %d)", (long long)v, i, j,
                                  s->pdims[j]);
            from += (size_t)v * s->stride[j];
        }
        memcpy(o + i * s->slice_bytes, p + from * s->esize, s->slice_bytes);
    }
    return EV_OK;
}

const ev_kernel ev_ref_gather_nd_kernel = {"ref_gather_nd", prepare, run, free};
