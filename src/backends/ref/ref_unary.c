/*
 * ref_unary.c - reference SQRT and CAST.
 *
 *   SQRT float32: kernels/elementwise.cc (reference Sqrt): y = std::sqrt(x) per element.
 *   CAST: kernels/cast.cc copyCast: y = static_cast<To>(x) per element, between float32,
 *        int32, int64, int16, uint8 and int8; quantization parameters are ignored (TFLite casts
 *        the stored integers). float -> integer truncates toward zero; values outside the
 *        target's range (undefined behaviour in C and C++) saturate here, NaN gives 0.
 *
 * Extend: another elementwise unary op is a case in run() and its type check in prepare().
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_unary {
    ev_op_type type;
    ev_dtype in_dt, out_dt;
    int in_t, out_t;
    size_t n;
} ref_unary;

static int cast_type_ok(ev_dtype d) {
    return d == EV_DTYPE_F32 || d == EV_DTYPE_I32 || d == EV_DTYPE_I64 || d == EV_DTYPE_I16 ||
           d == EV_DTYPE_U8 || d == EV_DTYPE_I8;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    const ev_tensor *in = NULL, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (ev_tensor_elems(in) != ev_tensor_elems(out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s and output %s differ in element count",
                          ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    if (op->type == EV_OP_SQRT) {
        if (in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32)
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s -> %s (float32 only)",
                              ev_dtype_name(in->dtype), ev_dtype_name(out->dtype));
    } else if (!cast_type_ok(in->dtype) || !cast_type_ok(out->dtype)) {
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "cast %s -> %s (float32, int32, int64, int16, "
                          "uint8, int8)", ev_dtype_name(in->dtype), ev_dtype_name(out->dtype));
    }
    ref_unary *s = malloc(sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->type = op->type;
    s->in_dt = in->dtype;
    s->out_dt = out->dtype;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->n = ev_tensor_elems(out);
    *state = s;
    return EV_OK;
}

/* Element i of p as a double (exact for every source type but int64 beyond 2^53). */
static double get(ev_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case EV_DTYPE_F32: return ((const float *)p)[i];
    case EV_DTYPE_I32: return ((const int32_t *)p)[i];
    case EV_DTYPE_I16: return ((const int16_t *)p)[i];
    case EV_DTYPE_U8: return ((const uint8_t *)p)[i];
    case EV_DTYPE_I8: return ((const int8_t *)p)[i];
    default: return 0.0;
    }
}

static int64_t sat(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v; /* truncation toward zero */
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_unary *s = state;
    const void *in = data[s->in_t];
    void *out = data[s->out_t];
    if (s->type == EV_OP_SQRT) {
        const float *x = in;
        float *y = out;
        for (size_t i = 0; i < s->n; i++) y[i] = sqrtf(x[i]);
        return EV_OK;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->in_dt == EV_DTYPE_I64) { /* integer -> anything: exact where C is */
            int64_t v = ((const int64_t *)in)[i];
            switch (s->out_dt) {
            case EV_DTYPE_F32: ((float *)out)[i] = (float)v; break;
            case EV_DTYPE_I64: ((int64_t *)out)[i] = v; break;
            case EV_DTYPE_I32: ((int32_t *)out)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
            case EV_DTYPE_I16: ((int16_t *)out)[i] = (int16_t)(uint16_t)(uint64_t)v; break;
            case EV_DTYPE_U8: ((uint8_t *)out)[i] = (uint8_t)(uint64_t)v; break;
            default: ((int8_t *)out)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
            }
            continue;
        }
        double v = get(s->in_dt, in, i);
        int is_f = s->in_dt == EV_DTYPE_F32;
        switch (s->out_dt) {
        case EV_DTYPE_F32: ((float *)out)[i] = (float)v; break;
        case EV_DTYPE_I64: ((int64_t *)out)[i] = sat(v, -9223372036854775808.0, 9223372036854774784.0); break;
        case EV_DTYPE_I32:
            ((int32_t *)out)[i] = (int32_t)sat(v, -2147483648.0, 2147483647.0);
            break;
        /* integer -> narrower integer: C's modular conversion, as static_cast */
        case EV_DTYPE_I16:
            ((int16_t *)out)[i] = is_f ? (int16_t)sat(v, -32768.0, 32767.0)
                                       : (int16_t)(uint16_t)(int64_t)v;
            break;
        case EV_DTYPE_U8:
            ((uint8_t *)out)[i] = is_f ? (uint8_t)sat(v, 0.0, 255.0) : (uint8_t)(int64_t)v;
            break;
        default:
            ((int8_t *)out)[i] = is_f ? (int8_t)sat(v, -128.0, 127.0)
                                      : (int8_t)(uint8_t)(int64_t)v;
            break;
        }
    }
    return EV_OK;
}

const ev_kernel ev_ref_unary_kernel = {"ref_unary", prepare, run, free};
