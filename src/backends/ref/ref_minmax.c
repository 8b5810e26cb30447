/*
 * ref_minmax.c - reference MINIMUM and MAXIMUM with NumPy broadcasting (broadcast.h): float32,
 * int32, and uint8/int8 when both inputs and the output share scale and zero point (a max of
 * the stored integers is then the max of the values, as TFLite's maximum_minimum.cc requires).
 * Float: NaN propagates (ONNX Min/Max); otherwise the usual comparison.
 *
 * Extend: another dtype is one more loop in run().
 */
#include "backends/ref/broadcast.h"
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_mm {
    int is_max;
    ev_dtype dt;
    int a_t, b_t, out_t;
    ev_bcast bc;
} ref_mm;

static int same_q(const ev_tensor *a, const ev_tensor *b) {
    if (a->quant.count != b->quant.count) return 0;
    for (int i = 0; i < a->quant.count; i++)
        if (a->quant.scale[i] != b->quant.scale[i] || a->quant.zero_point[i] != b->quant.zero_point[i])
            return 0;
    return 1;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *io[2] = {0}, *out = NULL;
    char s1[64], s2[64], s3[64];
    EV_TRY(ev_ref_io(ctx, 2, io, &out));
    ref_mm s = {0};
    s.is_max = op->type == EV_OP_MAXIMUM;
    s.dt = out->dtype;
    if (io[0]->dtype != s.dt || io[1]->dtype != s.dt ||
        !(s.dt == EV_DTYPE_F32 || s.dt == EV_DTYPE_I32 || ev_ref_is_q8(s.dt)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s, %s -> %s (float32, int32, uint8 or "
                          "int8, the same for all)", ev_dtype_name(io[0]->dtype),
                          ev_dtype_name(io[1]->dtype), ev_dtype_name(out->dtype));
    if (ev_ref_is_q8(s.dt) && (!same_q(io[0], out) || !same_q(io[1], out)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "quantized inputs and output must share scale "
                          "and zero point");
    if (!ev_bcast_init(&s.bc, io[0], io[1], out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "inputs %s and %s do not broadcast to the output %s",
                          ev_shape_str(io[0], s1, 64), ev_shape_str(io[1], s2, 64),
                          ev_shape_str(out, s3, 64));
    s.a_t = op->inputs[0];
    s.b_t = op->inputs[1];
    s.out_t = op->outputs[0];
    ref_mm *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

#define MM_LOOP(T, s, data)                                                                       \
    do {                                                                                          \
        const T *a = (data)[(s)->a_t], *b = (data)[(s)->b_t];                                     \
        T *o = (data)[(s)->out_t];                                                                \
        if ((s)->is_max)                                                                          \
            EV_BCAST_WALK(&(s)->bc, o[io] = a[ia] > b[ib] ? a[ia] : b[ib]);                      \
        else                                                                                      \
            EV_BCAST_WALK(&(s)->bc, o[io] = a[ia] < b[ib] ? a[ia] : b[ib]);                      \
    } while (0)

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_mm *s = state;
    switch (s->dt) {
    case EV_DTYPE_F32: {
        const float *a = data[s->a_t], *b = data[s->b_t];
        float *o = data[s->out_t];
        if (s->is_max)
            EV_BCAST_WALK(&s->bc, o[io] = isnan(a[ia]) || a[ia] > b[ib] ? a[ia] : b[ib]);
        else
            EV_BCAST_WALK(&s->bc, o[io] = isnan(a[ia]) || a[ia] < b[ib] ? a[ia] : b[ib]);
        break;
    }
    case EV_DTYPE_I32: MM_LOOP(int32_t, s, data); break;
    case EV_DTYPE_U8: MM_LOOP(uint8_t, s, data); break;
    case EV_DTYPE_I8: MM_LOOP(int8_t, s, data); break;
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref minmax: unexpected dtype");
    }
    return EV_OK;
}

const ev_kernel ev_ref_minmax_kernel = {"ref_minmax", prepare, run, free};
