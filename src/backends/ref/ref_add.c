/*
 * ref_add.c - reference ADD with NumPy broadcasting: float32, uint8 and int8.
 *
 * Quantized arithmetic is TFLite's (kernels/add.cc Prepare, reference/add.h and
 * integer_ops/add.h): left_shift = 20; with twice_max = 2 * max(scale1, scale2) in double,
 * input multipliers scale_i / twice_max and the output multiplier twice_max / (2^20 * out_scale),
 * each through QuantizeMultiplierSmallerThanOneExp. Per element
 *     a = ((x1 - zp1) << 20) * m1 >> s1,  b = ((x2 - zp2) << 20) * m2 >> s2   (rounding)
 *     y = (a + b) * m_out >> s_out + out_zp, clamped to the fused activation's range.
 * Float: y = clamp(x1 + x2). Broadcasting: shapes aligned on the right, each input dimension 1 or
 * the output's; the output shape must be the broadcast shape.
 *
 * Extend: the broadcasting is broadcast.h, shared with SUB/MUL/DIV/FLOOR_DIV (ref_binary.c).
 */
#include "backends/ref/broadcast.h"
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_add {
    ev_dtype dt;
    int a_t, b_t, out_t;
    ev_bcast bc;
    int32_t zp_a, zp_b, out_zp, amin, amax;
    int32_t m_a, m_b, m_out;
    int s_a, s_b, s_out;
    float fmin, fmax;
} ref_add;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64], s3[64];
    const ev_tensor *io_in[2] = {0}, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 2, io_in, &out));
    const ev_tensor *a = io_in[0], *b = io_in[1];
    if (a->dtype != out->dtype || b->dtype != out->dtype ||
        (out->dtype != EV_DTYPE_F32 && !ev_ref_is_q8(out->dtype)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s + %s -> %s (float32, uint8 or "
                          "int8, the same for all)", ev_dtype_name(a->dtype),
                          ev_dtype_name(b->dtype), ev_dtype_name(out->dtype));
    ref_add s = {0};
    s.dt = out->dtype;
    s.a_t = op->inputs[0];
    s.b_t = op->inputs[1];
    s.out_t = op->outputs[0];
    if (!ev_bcast_init(&s.bc, a, b, out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "inputs %s and %s do not broadcast to the "
                          "output %s", ev_shape_str(a, s1, 64), ev_shape_str(b, s2, 64),
                          ev_shape_str(out, s3, 64));
    ev_activation act = op->p.add.activation;
    if (s.dt == EV_DTYPE_F32) {
        if (!ev_float_activation_range(act, &s.fmin, &s.fmax))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d", (int)act);
    } else {
        EV_TRY(ev_ref_per_tensor(ctx, a, "input 0"));
        EV_TRY(ev_ref_per_tensor(ctx, b, "input 1"));
        EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
        s.zp_a = a->quant.zero_point[0];
        s.zp_b = b->quant.zero_point[0];
        s.out_zp = out->quant.zero_point[0];
        float fa = a->quant.scale[0], fb = b->quant.scale[0];
        const int left_shift = 20;
        const double twice_max = 2.0 * (double)(fa > fb ? fa : fb);
        const double ra = (double)fa / twice_max, rb = (double)fb / twice_max;
        const double ro = twice_max / ((double)(1 << left_shift) * (double)out->quant.scale[0]);
        ev_quantize_multiplier(ra, &s.m_a, &s.s_a);
        ev_quantize_multiplier(rb, &s.m_b, &s.s_b);
        ev_quantize_multiplier(ro, &s.m_out, &s.s_out);
        if (s.s_a > 0 || s.s_b > 0 || s.s_out > 0)
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "scales %g + %g -> %g need a "
                              "multiplier >= 1 (output scale more than 2^19 times finer than "
                              "the inputs')", (double)fa, (double)fb,
                              (double)out->quant.scale[0]);
        int32_t qmin, qmax;
        ev_ref_qrange(s.dt, &qmin, &qmax);
        if (!ev_quant_activation_range(act, out->quant.scale[0], s.out_zp, qmin, qmax, &s.amin,
                                       &s.amax))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d on a quantized "
                              "op", (int)act);
    }
    ref_add *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

static inline int32_t add_q(const ref_add *s, int32_t x, int32_t y) {
    const int32_t a = ev_mul_by_quantized_multiplier((x - s->zp_a) * (1 << 20), s->m_a, s->s_a);
    const int32_t b = ev_mul_by_quantized_multiplier((y - s->zp_b) * (1 << 20), s->m_b, s->s_b);
    int32_t v = ev_mul_by_quantized_multiplier(a + b, s->m_out, s->s_out) + s->out_zp;
    return v < s->amin ? s->amin : v > s->amax ? s->amax : v;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_add *s = state;
    switch (s->dt) {
    case EV_DTYPE_U8: {
        const uint8_t *a = data[s->a_t], *b = data[s->b_t];
        uint8_t *o = data[s->out_t];
        EV_BCAST_WALK(&s->bc, o[io] = (uint8_t)add_q(s, a[ia], b[ib]));
        break;
    }
    case EV_DTYPE_I8: {
        const int8_t *a = data[s->a_t], *b = data[s->b_t];
        int8_t *o = data[s->out_t];
        EV_BCAST_WALK(&s->bc, o[io] = (int8_t)add_q(s, a[ia], b[ib]));
        break;
    }
    case EV_DTYPE_F32: {
        const float *a = data[s->a_t], *b = data[s->b_t];
        float *o = data[s->out_t];
        EV_BCAST_WALK(&s->bc, {
            float v = a[ia] + b[ib];
            o[io] = v < s->fmin ? s->fmin : v > s->fmax ? s->fmax : v;
        });
        break;
    }
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref add: unexpected dtype");
    }
    return EV_OK;
}

const ev_kernel ev_ref_add_kernel = {"ref_add", prepare, run, free};
