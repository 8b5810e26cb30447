/*
 * ref_binary.c - reference SUB, MUL, DIV and FLOOR_DIV with NumPy broadcasting (ADD stays in
 * ref_add.c). Each reproduces TFLite 2.x's reference kernel:
 *
 *   SUB  float32 / int32: reference_ops::BroadcastSubSlow (y = clamp(a - b), the fused
 *        activation's range; int32 wraps on overflow where TFLite's is undefined).
 *        uint8 / int8: kernels/sub.cc PrepareGeneralSubOp + reference_ops::BroadcastSubSlow:
 *        left_shift 20, twice_max = 2 * max(s1, s2), multipliers s1/twice_max, s2/twice_max,
 *        twice_max / (2^20 * s_out), all through QuantizeMultiplierSmallerThanOneExp;
 *        y = MBQM((MBQM((x1-z1) << 20, m1) - MBQM((x2-z2) << 20, m2)), m_out) + z_out, clamped.
 *        (Like ref_add.c this refuses an output multiplier >= 1, which TFLite's reference
 *        SmallerThanOneExp path cannot represent either.)
 *   MUL  float32 / int32: reference_ops::BroadcastMul4DSlow (clamp(a * b)).
 *        uint8 / int8: kernels/mul.cc Prepare (real = s1 * s2 / s_out computed in float, then
 *        QuantizeMultiplier) + reference_integer_ops::BroadcastMul4DSlow:
 *        y = z_out + MultiplyByQuantizedMultiplier((x1 - z1) * (x2 - z2), M, shift), clamped.
 *   DIV  float32: reference_ops::BroadcastDivSlow (clamp(a / b)).
 *   FLOOR_DIV int32 / float32: kernels/floor_div.cc FloorDiv: floor((double)a / (double)b);
 *        an int32 division by zero fails the run ("Division by 0", as TFLite).
 *
 * Extend: a new binary op is an element function in run() and its type checks in prepare();
 * the broadcasting (broadcast.h) is shared with ADD.
 */
#include "backends/ref/broadcast.h"
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_bin {
    ev_op_type type;
    ev_dtype dt;
    int a_t, b_t, out_t;
    ev_bcast bc;
    int32_t zp_a, zp_b, out_zp, amin, amax;  /* amin/amax: also the int32 clamp        */
    int32_t m_a, m_b, m_out;
    int s_a, s_b, s_out;
    float fmin, fmax;
} ref_bin;

static ev_status prepare_q8(const ev_kernel_ctx *ctx, ref_bin *s, const ev_tensor *a,
                            const ev_tensor *b, const ev_tensor *out, ev_activation act) {
    EV_TRY(ev_ref_per_tensor(ctx, a, "input 0"));
    EV_TRY(ev_ref_per_tensor(ctx, b, "input 1"));
    EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
    s->zp_a = a->quant.zero_point[0];
    s->zp_b = b->quant.zero_point[0];
    s->out_zp = out->quant.zero_point[0];
    const float fa = a->quant.scale[0], fb = b->quant.scale[0], fo = out->quant.scale[0];
    if (s->type == EV_OP_SUB) {
        const float twice_max = 2.0f * (fa > fb ? fa : fb);
        ev_quantize_multiplier((double)fa / (double)twice_max, &s->m_a, &s->s_a);
        ev_quantize_multiplier((double)fb / (double)twice_max, &s->m_b, &s->s_b);
        ev_quantize_multiplier((double)twice_max / (double)((float)(1 << 20) * fo), &s->m_out,
                               &s->s_out);
        if (s->s_a > 0 || s->s_b > 0 || s->s_out > 0)
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "scales %g - %g -> %g need a multiplier "
                              ">= 1 (output scale more than 2^19 times finer than the inputs')",
                              (double)fa, (double)fb, (double)fo);
    } else {
        const float real = fa * fb / fo; /* float, as kernels/mul.cc */
        ev_quantize_multiplier((double)real, &s->m_out, &s->s_out);
    }
    int32_t qmin, qmax;
    ev_ref_qrange(s->dt, &qmin, &qmax);
    if (!ev_quant_activation_range(act, fo, s->out_zp, qmin, qmax, &s->amin, &s->amax))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d on a quantized op",
                          (int)act);
    return EV_OK;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64], s3[64];
    const ev_tensor *io_in[2] = {0}, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 2, io_in, &out));
    const ev_tensor *a = io_in[0], *b = io_in[1];
    ref_bin s = {0};
    s.type = op->type;
    s.dt = out->dtype;
    int ok_type = a->dtype == out->dtype && b->dtype == out->dtype;
    const char *allowed = "";
    switch (op->type) {
    case EV_OP_SUB:
    case EV_OP_MUL:
        allowed = "float32, int32, uint8 or int8";
        ok_type = ok_type && (s.dt == EV_DTYPE_F32 || s.dt == EV_DTYPE_I32 || ev_ref_is_q8(s.dt));
        break;
    case EV_OP_DIV:
        allowed = "float32";
        ok_type = ok_type && s.dt == EV_DTYPE_F32;
        break;
    case EV_OP_FLOOR_DIV:
        allowed = "float32 or int32";
        ok_type = ok_type && (s.dt == EV_DTYPE_F32 || s.dt == EV_DTYPE_I32);
        break;
    default: return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "not a binary op");
    }
    if (!ok_type)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s, %s -> %s (%s, the same for all)",
                          ev_dtype_name(a->dtype), ev_dtype_name(b->dtype),
                          ev_dtype_name(out->dtype), allowed);
    s.a_t = op->inputs[0];
    s.b_t = op->inputs[1];
    s.out_t = op->outputs[0];
    if (!ev_bcast_init(&s.bc, a, b, out))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "inputs %s and %s do not broadcast to the output %s",
                          ev_shape_str(a, s1, 64), ev_shape_str(b, s2, 64),
                          ev_shape_str(out, s3, 64));
    ev_activation act = op->type == EV_OP_FLOOR_DIV ? EV_ACT_NONE : op->p.arith.activation;
    if (s.dt == EV_DTYPE_F32) {
        if (!ev_float_activation_range(act, &s.fmin, &s.fmax))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d", (int)act);
    } else if (s.dt == EV_DTYPE_I32) {
        /* CalculateActivationRange<int32_t> */
        switch (act) {
        case EV_ACT_NONE: s.amin = INT32_MIN, s.amax = INT32_MAX; break;
        case EV_ACT_RELU: s.amin = 0, s.amax = INT32_MAX; break;
        case EV_ACT_RELU6: s.amin = 0, s.amax = 6; break;
        case EV_ACT_RELU_N1_TO_1: s.amin = -1, s.amax = 1; break;
        default: return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d", (int)act);
        }
    } else {
        EV_TRY(prepare_q8(ctx, &s, a, b, out, act));
    }
    ref_bin *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

static inline int32_t clampi(const ref_bin *s, int32_t v) {
    return v < s->amin ? s->amin : v > s->amax ? s->amax : v;
}

static inline float clampf(const ref_bin *s, float v) {
    return v < s->fmin ? s->fmin : v > s->fmax ? s->fmax : v;
}

static inline int32_t q8(const ref_bin *s, int32_t x, int32_t y) {
    if (s->type == EV_OP_SUB) {
        const int32_t a = ev_mul_by_quantized_multiplier((x - s->zp_a) * (1 << 20), s->m_a, s->s_a);
        const int32_t b = ev_mul_by_quantized_multiplier((y - s->zp_b) * (1 << 20), s->m_b, s->s_b);
        return clampi(s, ev_mul_by_quantized_multiplier(a - b, s->m_out, s->s_out) + s->out_zp);
    }
    return clampi(s, s->out_zp + ev_mul_by_quantized_multiplier((x - s->zp_a) * (y - s->zp_b),
                                                                 s->m_out, s->s_out));
}

static ev_status run_i32(const ev_kernel_ctx *ctx, const ref_bin *s, void *const *data) {
    const int32_t *a = data[s->a_t], *b = data[s->b_t];
    int32_t *o = data[s->out_t];
    int div0 = 0;
    switch (s->type) {
    case EV_OP_SUB:
        EV_BCAST_WALK(&s->bc, o[io] = clampi(s, (int32_t)((uint32_t)a[ia] - (uint32_t)b[ib])));
        break;
    case EV_OP_MUL:
        EV_BCAST_WALK(&s->bc, o[io] = clampi(s, (int32_t)((uint32_t)a[ia] * (uint32_t)b[ib])));
        break;
    default:
        EV_BCAST_WALK(&s->bc, {
            if (b[ib] == 0) {
                div0 = 1;
                o[io] = 0;
            } else {
                o[io] = (int32_t)floor((double)a[ia] / (double)b[ib]);
            }
        });
        if (div0) return EV_OP_FAIL(ctx, EV_ERR_INVALID_ARG, "Division by 0");
    }
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const ref_bin *s = state;
    switch (s->dt) {
    case EV_DTYPE_U8: {
        const uint8_t *a = data[s->a_t], *b = data[s->b_t];
        uint8_t *o = data[s->out_t];
        EV_BCAST_WALK(&s->bc, o[io] = (uint8_t)q8(s, a[ia], b[ib]));
        return EV_OK;
    }
    case EV_DTYPE_I8: {
        const int8_t *a = data[s->a_t], *b = data[s->b_t];
        int8_t *o = data[s->out_t];
        EV_BCAST_WALK(&s->bc, o[io] = (int8_t)q8(s, a[ia], b[ib]));
        return EV_OK;
    }
    case EV_DTYPE_I32: return run_i32(ctx, s, data);
    case EV_DTYPE_F32: {
        const float *a = data[s->a_t], *b = data[s->b_t];
        float *o = data[s->out_t];
        switch (s->type) {
        case EV_OP_SUB: EV_BCAST_WALK(&s->bc, o[io] = clampf(s, a[ia] - b[ib])); break;
        case EV_OP_MUL: EV_BCAST_WALK(&s->bc, o[io] = clampf(s, a[ia] * b[ib])); break;
        case EV_OP_DIV: EV_BCAST_WALK(&s->bc, o[io] = clampf(s, a[ia] / b[ib])); break;
        default:
            EV_BCAST_WALK(&s->bc, o[io] = (float)floor((double)a[ia] / (double)b[ib]));
            break;
        }
        return EV_OK;
    }
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref binary: unexpected dtype");
    }
}

const ev_kernel ev_ref_binary_kernel = {"ref_binary", prepare, run, free};
