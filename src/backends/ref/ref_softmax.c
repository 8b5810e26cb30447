/*
 * ref_softmax.c - reference SOFTMAX over the last dimension: float32, uint8 and int8.
 *
 * Quantized arithmetic: TFLite 2.x's uint8/int8 path, which every kernel type (reference
 * included) takes since the classic gemmlowp fixed-point path (input_beta_multiplier,
 * kScaledDiffIntegerBits = 5) was retired: kernels/activations.cc SoftmaxPrepare fills a float
 * table with PopulateSoftmaxLookupTable, table[255 - v] = expf(-input_scale * beta * v), and
 * optimized_ops::Softmax does, per row,
 *     max = max(x); sum = float sum of table[255 - max + x] in order;
 *     inv = 1.0f / (sum * output_scale);
 *     q = (int)(table[...] * inv + 0.5f)          (uint8, x86: add-and-truncate)
 *     q = (int)roundf(table[...] * inv) + out_zp   (int8)
 * clamped to the type. uint8 output therefore needs zero point 0 (the usual 1/256, 0); int8
 * takes any (the usual 1/256, -128). Float: TFLite reference order, max, expf((x - max) * beta),
 * float sum, divide.
 *
 * Extend: int16 output would be another QuantizeSoftmaxOutput variant.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_softmax {
    ev_dtype dt;
    int in_t, out_t;
    size_t outer, depth;
    float beta;
    float out_scale;
    int32_t out_zp;
    float table[256];
} ref_softmax;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    const ev_tensor *in = NULL, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (in->ndim < 1 || !ev_ref_same_shape(in, out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s and output %s must have the same "
                          "shape of rank >= 1", ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    if (in->dtype != out->dtype ||
        (in->dtype != EV_DTYPE_F32 && in->dtype != EV_DTYPE_U8 && in->dtype != EV_DTYPE_I8))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s output (float32, "
                          "uint8 or int8, the same for both)", ev_dtype_name(in->dtype),
                          ev_dtype_name(out->dtype));
    float beta = op->p.softmax.beta;
    if (!(beta > 0.0f) || !isfinite(beta))
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "beta %g is not a positive number",
                          (double)beta);
    ref_softmax *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->dt = in->dtype;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->depth = (size_t)in->dims[in->ndim - 1];
    s->outer = s->depth ? ev_tensor_elems(in) / s->depth : 0;
    s->beta = beta;
    if (ev_ref_is_q8(s->dt)) {
        ev_status st = ev_ref_per_tensor(ctx, in, "input");
        if (st == EV_OK) st = ev_ref_per_tensor(ctx, out, "output");
        if (st == EV_OK && s->dt == EV_DTYPE_U8 && out->quant.zero_point[0] != 0)
            st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "uint8 output zero point %d (TFLite's "
                            "uint8 softmax needs 0)", out->quant.zero_point[0]);
        if (st != EV_OK) {
            free(s);
            return st;
        }
        s->out_scale = out->quant.scale[0];
        s->out_zp = out->quant.zero_point[0];
        const float scale = -in->quant.scale[0] * beta;
        for (int v = 0; v <= 255; v++) s->table[255 - v] = expf(scale * (float)v);
    }
    *state = s;
    return EV_OK;
}

static void softmax_f32(const ref_softmax *s, const float *in, float *out) {
    for (size_t i = 0; i < s->outer; i++, in += s->depth, out += s->depth) {
        float mx = -INFINITY;
        for (size_t c = 0; c < s->depth; c++) mx = in[c] > mx ? in[c] : mx;
        float sum = 0.0f;
        for (size_t c = 0; c < s->depth; c++) {
            float e = expf((in[c] - mx) * s->beta);
            out[c] = e;
            sum += e;
        }
        for (size_t c = 0; c < s->depth; c++) out[c] = out[c] / sum;
    }
}

#define DEFINE_SOFTMAX_Q(NAME, T, QMIN, QMAX, QUANTIZE)                                           \
    static void NAME(const ref_softmax *s, const T *in, T *out) {                                 \
        for (size_t i = 0; i < s->outer; i++, in += s->depth, out += s->depth) {                  \
            int32_t mx = QMIN;                                                                    \
            for (size_t c = 0; c < s->depth; c++) mx = in[c] > mx ? in[c] : mx;                   \
            const int32_t off = 255 - mx; /* table[off + x] = exp(-scale*beta*(mx - x)) */        \
            float sum = 0.0f;                                                                     \
            for (size_t c = 0; c < s->depth; c++) sum += s->table[off + in[c]];                   \
            const float inv = 1.0f / (sum * s->out_scale);                                        \
            for (size_t c = 0; c < s->depth; c++) {                                               \
                const float prob = s->table[off + in[c]] * inv;                                   \
                int32_t q = QUANTIZE;                                                             \
                out[c] = (T)(q < QMIN ? QMIN : q > QMAX ? QMAX : q);                              \
            }                                                                                     \
        }                                                                                         \
    }

DEFINE_SOFTMAX_Q(softmax_u8, uint8_t, 0, 255, (int32_t)(prob + 0.5f))
DEFINE_SOFTMAX_Q(softmax_i8, int8_t, -128, 127, (int32_t)roundf(prob) + s->out_zp)

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_softmax *s = state;
    switch (s->dt) {
    case EV_DTYPE_U8: softmax_u8(s, data[s->in_t], data[s->out_t]); break;
    case EV_DTYPE_I8: softmax_i8(s, data[s->in_t], data[s->out_t]); break;
    case EV_DTYPE_F32: softmax_f32(s, data[s->in_t], data[s->out_t]); break;
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref softmax: unexpected dtype");
    }
    return EV_OK;
}

const ev_kernel ev_ref_softmax_kernel = {"ref_softmax", prepare, run, free};
