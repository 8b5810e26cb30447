/*
 * ref_mean.c - reference MEAN over the axes given by a constant int32 input: float32, uint8 and
 * int8, keep_dims or not.
 *
 * The paths of TFLite's kernels/reduce.cc EvalMean (reference kernels), chosen the same way:
 *   - 4-D input, keep_dims, axes exactly {1, 2} or {2, 1} (global average over H, W):
 *       uint8 (reference_ops::Mean): acc = sum of q; bias = out_zp - (int)(in_zp * in_s / out_s
 *         rounded half away, in float); M = QuantizeMultiplier(in_s / (H*W * out_s) in float);
 *         y = clamp(MBQM(acc, M) + bias)
 *       int8 (reference_integer_ops::Mean): acc = sum of (q - in_zp); acc = MBQM(acc,
 *         M(in_s / out_s in double)); acc = round-half-away(acc / (H*W)); y = clamp(acc + out_zp)
 *   - otherwise, same input and output quantization: integer sum / count, truncated
 *   - otherwise (QuantizedMeanOrSum): mean = (float)sum / (float)count,
 *       y = clamp(roundf(mean * s + (-in_zp * s)) + out_zp) with s = in_s / out_s in float
 *   - float32: float sum in input order, / (float)count.
 * Sums run over the input in memory order into a per-output accumulator held in the state.
 *
 * Extend: SUM / REDUCE_MAX reuse prepare() and the walk; only the finishing step differs.
 */
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { M_F32, M_U8_HW, M_I8_HW, M_Q_SAME, M_Q_GENERAL } mean_mode;

typedef struct ref_mean {
    mean_mode mode;
    ev_dtype dt;
    int in_t, out_t;
    int ndim;
    int dims[EV_MAX_DIMS];
    size_t ostride[EV_MAX_DIMS]; /* output element stride per input dim, 0 where reduced */
    size_t in_n, out_n;
    int32_t count; /* elements reduced into each output */
    int32_t in_zp, out_zp, qmin, qmax, bias, mult;
    int shift;
    float scale;
    float *fsum;   /* [out_n] */
    int32_t *isum; /* [out_n] */
} ref_mean;

static void release(void *state) {
    ref_mean *s = state;
    if (!s) return;
    free(s->fsum);
    free(s->isum);
    free(s);
}

static ev_status setup(const ev_kernel_ctx *ctx, ref_mean *s) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    if (op->num_inputs != 2 || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "expects 2 inputs (data, axes) and 1 output, "
                          "has %d and %d", op->num_inputs, op->num_outputs);
    const ev_tensor *in = ev_op_input(g, op, 0), *ax = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!in || !ax || !out)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input, axes or output tensor");
    if (!ax->data || ax->dtype != EV_DTYPE_I32 || ax->ndim > 1)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "axes '%s' must be a constant int32 "
                          "scalar or vector (is %s %s%s)", ax->name, ev_dtype_name(ax->dtype),
                          ev_shape_str(ax, s1, 64), ax->data ? "" : ", not constant");
    if (in->dtype != out->dtype || (in->dtype != EV_DTYPE_F32 && !ev_ref_is_q8(in->dtype)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s output (float32, "
                          "uint8 or int8, the same for both)", ev_dtype_name(in->dtype),
                          ev_dtype_name(out->dtype));
    int keep = op->p.reduce.keep_dims;
    size_t nax = ev_tensor_elems(ax);
    const int32_t *axes = ax->data;
    int reduced[EV_MAX_DIMS] = {0};
    for (size_t i = 0; i < nax; i++) {
        int32_t a = axes[i];
        int32_t r = a < 0 ? a + in->ndim : a;
        if (r < 0 || r >= in->ndim)
            return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "axis %d out of range for input %s", a,
                              ev_shape_str(in, s1, 64));
        reduced[r] = 1;
    }
    /* expected output shape */
    int exp_nd = 0, exp_dims[EV_MAX_DIMS];
    int64_t count = 1;
    for (int d = 0; d < in->ndim; d++) {
        if (reduced[d]) {
            count *= in->dims[d];
            if (keep) exp_dims[exp_nd++] = 1;
        } else {
            exp_dims[exp_nd++] = in->dims[d];
        }
    }
    int ok = exp_nd == out->ndim;
    for (int d = 0; ok && d < exp_nd; d++)
        if (exp_dims[d] != out->dims[d]) ok = 0;
    if (!ok)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output %s does not match input %s reduced "
                          "over %zu axes with keep_dims=%d", ev_shape_str(out, s1, 64),
                          ev_shape_str(in, s2, 64), nax, keep);
    if (count < 1 || ev_tensor_elems(in) == 0)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "mean over an empty input %s",
                          ev_shape_str(in, s1, 64));
    if (count > (1 << 23))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "mean over %lld elements would overflow "
                          "the int32 accumulator", (long long)count);
    s->dt = in->dtype;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->ndim = in->ndim;
    s->count = (int32_t)count;
    s->in_n = ev_tensor_elems(in);
    s->out_n = ev_tensor_elems(out);
    size_t stride = 1;
    for (int d = in->ndim - 1; d >= 0; d--) {
        s->dims[d] = in->dims[d];
        s->ostride[d] = reduced[d] ? 0 : stride;
        if (!reduced[d]) stride *= (size_t)in->dims[d];
    }
    if (in->dtype == EV_DTYPE_F32) {
        s->mode = M_F32;
        s->fsum = malloc(sizeof(float) * (s->out_n ? s->out_n : 1));
        if (!s->fsum) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        return EV_OK;
    }
    EV_TRY(ev_ref_per_tensor(ctx, in, "input"));
    EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
    s->isum = malloc(sizeof(int32_t) * (s->out_n ? s->out_n : 1));
    if (!s->isum) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_ref_qrange(in->dtype, &s->qmin, &s->qmax);
    const float in_s = in->quant.scale[0], out_s = out->quant.scale[0];
    s->in_zp = in->quant.zero_point[0];
    s->out_zp = out->quant.zero_point[0];
    int hw = keep && in->ndim == 4 && nax == 2 &&
             ((axes[0] == 1 && axes[1] == 2) || (axes[0] == 2 && axes[1] == 1));
    if (hw && in->dtype == EV_DTYPE_U8) {
        s->mode = M_U8_HW;
        const float n = (float)(in->dims[1] * in->dims[2]);
        float temp = (float)s->in_zp * in_s / out_s;
        temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
        s->bias = s->out_zp - (int32_t)temp;
        ev_quantize_multiplier((double)(in_s / (n * out_s)), &s->mult, &s->shift);
    } else if (hw) {
        s->mode = M_I8_HW;
        ev_quantize_multiplier((double)in_s / (double)out_s, &s->mult, &s->shift);
    } else if (in_s == out_s && s->in_zp == s->out_zp) {
        s->mode = M_Q_SAME;
    } else {
        s->mode = M_Q_GENERAL;
        s->scale = in_s / out_s;
    }
    return EV_OK;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    ref_mean *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = setup(ctx, s);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    *state = s;
    return EV_OK;
}

/* For every input element i in memory order, with o its output offset: BODY. */
#define WALK_IN(s, BODY)                                                                          \
    do {                                                                                          \
        int idx_[EV_MAX_DIMS] = {0};                                                              \
        size_t o = 0;                                                                             \
        for (size_t i = 0; i < (s)->in_n; i++) {                                                  \
            BODY;                                                                                 \
            for (int d_ = (s)->ndim - 1; d_ >= 0; d_--) {                                         \
                o += (s)->ostride[d_];                                                            \
                if (++idx_[d_] < (s)->dims[d_]) break;                                            \
                o -= (s)->ostride[d_] * (size_t)(s)->dims[d_];                                    \
                idx_[d_] = 0;                                                                     \
            }                                                                                     \
        }                                                                                         \
    } while (0)

static int32_t finish_q(const ref_mean *s, int32_t sum) {
    int32_t acc, n = s->count;
    switch (s->mode) {
    case M_U8_HW: acc = ev_mul_by_quantized_multiplier(sum, s->mult, s->shift) + s->bias; break;
    case M_I8_HW:
        acc = ev_mul_by_quantized_multiplier(sum, s->mult, s->shift);
        acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
        acc += s->out_zp;
        break;
    case M_Q_SAME: acc = sum / n; break;
    default: {
        const float bias = (float)(-s->in_zp) * s->scale;
        const float mean = (float)sum / (float)n;
        float r = roundf(mean * s->scale + bias) + (float)s->out_zp;
        r = r < (float)s->qmin ? (float)s->qmin : r > (float)s->qmax ? (float)s->qmax : r;
        return (int32_t)r;
    }
    }
    return acc < s->qmin ? s->qmin : acc > s->qmax ? s->qmax : acc;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    ref_mean *s = state;
    if (s->mode == M_F32) {
        const float *x = data[s->in_t];
        float *y = data[s->out_t];
        memset(s->fsum, 0, sizeof(float) * s->out_n);
        WALK_IN(s, s->fsum[o] += x[i]);
        for (size_t k = 0; k < s->out_n; k++) y[k] = s->fsum[k] / (float)s->count;
        return EV_OK;
    }
    memset(s->isum, 0, sizeof(int32_t) * s->out_n);
    /* the int8 H,W path sums (q - in_zp); the others sum q */
    const int32_t zp = s->mode == M_I8_HW ? s->in_zp : 0;
    if (s->dt == EV_DTYPE_U8) {
        const uint8_t *x = data[s->in_t];
        uint8_t *y = data[s->out_t];
        WALK_IN(s, s->isum[o] += (int32_t)x[i] - zp);
        for (size_t k = 0; k < s->out_n; k++) y[k] = (uint8_t)finish_q(s, s->isum[k]);
    } else {
        const int8_t *x = data[s->in_t];
        int8_t *y = data[s->out_t];
        WALK_IN(s, s->isum[o] += (int32_t)x[i] - zp);
        for (size_t k = 0; k < s->out_n; k++) y[k] = (int8_t)finish_q(s, s->isum[k]);
    }
    return EV_OK;
}

const ev_kernel ev_ref_mean_kernel = {"ref_mean", prepare, run, release};
