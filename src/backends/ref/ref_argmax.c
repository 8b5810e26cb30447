/*
 * ref_argmax.c - reference ARG_MAX: reference_ops::ArgMinMax with std::greater (TFLite 2.x,
 * reference/arg_min_max.h): along the axis (constant int32/int64 input 1, negative counts from
 * the end), the index of the first maximum (strictly greater replaces, so ties keep the lowest
 * index). Inputs float32, int32, uint8, int8 (compared as stored, quantization ignored);
 * output int32 or int64 with the input's shape less the axis.
 *
 * Extend: ARG_MIN is the same walk with the comparison reversed (a flag in the state).
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_argmax {
    ev_dtype in_dt, out_dt;
    int in_t, out_t;
    size_t outer, axis_n, inner;
} ref_argmax;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    const ev_tensor *io_in[2] = {0}, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 2, io_in, &out));
    const ev_tensor *in = io_in[0], *ax = io_in[1];
    if (in->dtype != EV_DTYPE_F32 && in->dtype != EV_DTYPE_I32 && !ev_ref_is_q8(in->dtype))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input type %s (float32, int32, uint8, int8)",
                          ev_dtype_name(in->dtype));
    if ((out->dtype != EV_DTYPE_I32 && out->dtype != EV_DTYPE_I64) ||
        (op->p.arg.output_type != EV_DTYPE_UNKNOWN && op->p.arg.output_type != out->dtype))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output type %s (int32 or int64, as the "
                          "options' output_type)", ev_dtype_name(out->dtype));
    if (!ax->data || ev_tensor_elems(ax) != 1 ||
        (ax->dtype != EV_DTYPE_I32 && ax->dtype != EV_DTYPE_I64))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "the axis (input 1) must be one constant "
                          "int32 or int64");
    long axis = ax->dtype == EV_DTYPE_I32 ? (long)*(const int32_t *)ax->data
                                          : (long)*(const int64_t *)ax->data;
    if (axis < 0) axis += in->ndim;
    if (axis < 0 || axis >= in->ndim)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "axis out of range for input %s",
                          ev_shape_str(in, s1, 64));
    int ok = out->ndim == in->ndim - 1;
    for (int d = 0, o = 0; ok && d < in->ndim; d++)
        if (d != axis && out->dims[o++] != in->dims[d]) ok = 0;
    if (!ok || in->dims[axis] < 1)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output %s is not input %s without axis %ld",
                          ev_shape_str(out, s2, 64), ev_shape_str(in, s1, 64), axis);
    ref_argmax *s = malloc(sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_dt = in->dtype;
    s->out_dt = out->dtype;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->outer = s->inner = 1;
    for (int d = 0; d < axis; d++) s->outer *= (size_t)in->dims[d];
    for (int d = (int)axis + 1; d < in->ndim; d++) s->inner *= (size_t)in->dims[d];
    s->axis_n = (size_t)in->dims[axis];
    *state = s;
    return EV_OK;
}

#define ARGMAX_LOOP(T)                                                                            \
    do {                                                                                          \
        const T *x = data[s->in_t];                                                               \
        for (size_t o = 0; o < s->outer; o++)                                                     \
            for (size_t i = 0; i < s->inner; i++) {                                               \
                const T *p = x + o * s->axis_n * s->inner + i;                                    \
                T best = p[0];                                                                    \
                size_t bi = 0;                                                                    \
                for (size_t k = 1; k < s->axis_n; k++)                                            \
                    if (p[k * s->inner] > best) best = p[k * s->inner], bi = k;                   \
                if (s->out_dt == EV_DTYPE_I32)                                                    \
                    ((int32_t *)data[s->out_t])[o * s->inner + i] = (int32_t)bi;                  \
                else                                                                              \
                    ((int64_t *)data[s->out_t])[o * s->inner + i] = (int64_t)bi;                  \
            }                                                                                     \
    } while (0)

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_argmax *s = state;
    switch (s->in_dt) {
    case EV_DTYPE_F32: ARGMAX_LOOP(float); break;
    case EV_DTYPE_I32: ARGMAX_LOOP(int32_t); break;
    case EV_DTYPE_U8: ARGMAX_LOOP(uint8_t); break;
    default: ARGMAX_LOOP(int8_t); break;
    }
    return EV_OK;
}

const ev_kernel ev_ref_argmax_kernel = {"ref_arg_max", prepare, run, free};
