/*
 * ref_logistic.c - reference LOGISTIC (sigmoid): float32, uint8 and int8.
 *
 * Quantized: TFLite 2.x's reference and generic kernels (kernels/activations.cc SigmoidPrepare,
 * PopulateLookupTable) use a 256-entry table built in float,
 *     y[q] = clamp((int)(roundf((1 / (1 + expf(-in_s * (q - in_zp)))) * (1 / out_s)) + out_zp)),
 * and require an output scale of exactly 1/256. Float: reference/logistic.h, 1 above
 * x > 16.619047164916992188, expf(x) below x < -9, else 1 / (1 + expf(-x)).
 *
 * Extend: TANH is the same table with tanhf (output scale 1/128).
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_logistic {
    ev_dtype dt;
    int in_t, out_t;
    size_t n;
    uint8_t table[256]; /* indexed by the input byte */
} ref_logistic;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    const ev_tensor *in = NULL, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (!ev_ref_same_shape(in, out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s and output %s differ",
                          ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    if (in->dtype != out->dtype || (in->dtype != EV_DTYPE_F32 && !ev_ref_is_q8(in->dtype)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s output (float32, "
                          "uint8 or int8, the same for both)", ev_dtype_name(in->dtype),
                          ev_dtype_name(out->dtype));
    ref_logistic s;
    s.dt = in->dtype;
    s.in_t = op->inputs[0];
    s.out_t = op->outputs[0];
    s.n = ev_tensor_elems(in);
    if (ev_ref_is_q8(s.dt)) {
        EV_TRY(ev_ref_per_tensor(ctx, in, "input"));
        EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
        if ((double)out->quant.scale[0] != 1.0 / 256)
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output scale %g (TFLite's quantized "
                              "logistic needs exactly 1/256)", (double)out->quant.scale[0]);
        const float in_s = in->quant.scale[0], inv = 1 / out->quant.scale[0];
        const int32_t in_zp = in->quant.zero_point[0], out_zp = out->quant.zero_point[0];
        int32_t lo = s.dt == EV_DTYPE_U8 ? 0 : -128, hi = s.dt == EV_DTYPE_U8 ? 255 : 127;
        for (int32_t v = lo; v <= hi; v++) {
            const float x = in_s * (float)(v - in_zp);
            const float y = 1.0f / (1.0f + expf(-x));
            const int32_t q = (int32_t)(roundf(y * inv) + (float)out_zp);
            const int32_t c = q < lo ? lo : q > hi ? hi : q;
            s.table[(uint8_t)v] = (uint8_t)c;
        }
    }
    ref_logistic *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_logistic *s = state;
    if (s->dt == EV_DTYPE_F32) {
        const float *x = data[s->in_t];
        float *y = data[s->out_t];
        for (size_t i = 0; i < s->n; i++) {
            const float v = x[i];
            y[i] = v > 16.619047164916992188f ? 1.0f
                   : v < -9.0f                ? expf(v)
                                              : 1.0f / (1.0f + expf(-v));
        }
    } else {
        const uint8_t *x = data[s->in_t];
        uint8_t *y = data[s->out_t];
        for (size_t i = 0; i < s->n; i++) y[i] = s->table[x[i]];
    }
    return EV_OK;
}

const ev_kernel ev_ref_logistic_kernel = {"ref_logistic", prepare, run, free};
