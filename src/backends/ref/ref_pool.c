/*
 * ref_pool.c - reference AVERAGE_POOL_2D and MAX_POOL_2D for uint8, int8 and float32 (NHWC).
 *
 * TFLite reference arithmetic (kernels/internal/reference/pooling.h, integer_ops/pooling.h):
 * windows are clipped to the input (padded taps are not counted); quantized average is the
 * int32 sum divided with rounding half away from zero, (sum + n/2) / n for sum > 0 and
 * (sum - n/2) / n otherwise; quantized max starts from the type's minimum; both then clamp to the
 * fused activation's quantized range. Input and output must share scale and zero point, as
 * TFLite requires. Float average is sum / count in float, float max starts from -FLT_MAX; both
 * clamp to the activation range. Geometry is the convolution's (SAME/VALID, dilation 1).
 *
 * Extend: another dtype is one more loop in run(); another pooling (L2) a new op type that reuses
 * prepare().
 */
#include "backends/ref/ref.h"
#include "core/quant.h"
#include "core/status.h"

#include <float.h>
#include <stdlib.h>

typedef struct ref_pool {
    int is_max;
    ev_dtype dt;
    int in_t, out_t;
    int n, ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl;
    int32_t amin, amax;
    float fmin, fmax;
} ref_pool;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_pool_params *p = &op->p.pool;
    char s1[64], s2[64];
    const ev_tensor *in = NULL, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (in->ndim != 4 || out->ndim != 4)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "needs 4-D input and output, got %s and %s",
                          ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    if (in->dtype != out->dtype ||
        (in->dtype != EV_DTYPE_F32 && in->dtype != EV_DTYPE_U8 && in->dtype != EV_DTYPE_I8))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s output (float32, "
                          "uint8 or int8, the same for both)", ev_dtype_name(in->dtype),
                          ev_dtype_name(out->dtype));
    if (p->stride_w < 1 || p->stride_h < 1 || p->filter_w < 1 || p->filter_h < 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "invalid stride %dx%d or filter %dx%d",
                          p->stride_h, p->stride_w, p->filter_h, p->filter_w);
    ref_pool s = {0};
    s.is_max = op->type == EV_OP_MAX_POOL_2D;
    s.dt = in->dtype;
    s.in_t = op->inputs[0];
    s.out_t = op->outputs[0];
    s.n = in->dims[0];
    s.ih = in->dims[1];
    s.iw = in->dims[2];
    s.c = in->dims[3];
    s.fh = p->filter_h;
    s.fw = p->filter_w;
    s.sh = p->stride_h;
    s.sw = p->stride_w;
    s.oh = ev_conv_out_size(p->padding, s.ih, s.fh, s.sh, 1);
    s.ow = ev_conv_out_size(p->padding, s.iw, s.fw, s.sw, 1);
    if (s.oh <= 0 || s.ow <= 0 || out->dims[0] != s.n || out->dims[1] != s.oh ||
        out->dims[2] != s.ow || out->dims[3] != s.c)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output %s, but input %s with filter %dx%d, "
                          "stride %dx%d, %s padding gives %dx%dx%dx%d", ev_shape_str(out, s1, 64),
                          ev_shape_str(in, s2, 64), s.fh, s.fw, s.sh, s.sw,
                          p->padding == EV_PAD_SAME ? "SAME" : "VALID", s.n, s.oh, s.ow, s.c);
    s.pt = ev_conv_pad_before(p->padding, s.ih, s.fh, s.sh, 1, s.oh);
    s.pl = ev_conv_pad_before(p->padding, s.iw, s.fw, s.sw, 1, s.ow);
    /* every window must overlap the input (TFLite fails at run time otherwise) */
    if ((s.oh - 1) * s.sh - s.pt >= s.ih || (s.ow - 1) * s.sw - s.pl >= s.iw ||
        s.fh - s.pt <= 0 || s.fw - s.pl <= 0)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "a %dx%d window at stride %dx%d falls "
                          "entirely in the padding of %s", s.fh, s.fw, s.sh, s.sw,
                          ev_shape_str(in, s1, 64));
    if (s.dt == EV_DTYPE_F32) {
        if (!ev_float_activation_range(p->activation, &s.fmin, &s.fmax))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d",
                              (int)p->activation);
    } else {
        EV_TRY(ev_ref_per_tensor(ctx, in, "input"));
        EV_TRY(ev_ref_per_tensor(ctx, out, "output"));
        if (in->quant.scale[0] != out->quant.scale[0] ||
            in->quant.zero_point[0] != out->quant.zero_point[0])
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input quantization (%g, %d) differs "
                              "from output (%g, %d); pooling needs them equal",
                              (double)in->quant.scale[0], in->quant.zero_point[0],
                              (double)out->quant.scale[0], out->quant.zero_point[0]);
        int32_t qmin, qmax;
        ev_ref_qrange(s.dt, &qmin, &qmax);
        if (!ev_quant_activation_range(p->activation, out->quant.scale[0],
                                       out->quant.zero_point[0], qmin, qmax, &s.amin, &s.amax))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d on a quantized "
                              "op", (int)p->activation);
    }
    ref_pool *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

#define DEFINE_POOL_Q(NAME, T)                                                                    \
    static void NAME(const ref_pool *s, const T *in, T *out) {                                    \
        for (int b = 0; b < s->n; b++)                                                            \
            for (int oy = 0; oy < s->oh; oy++) {                                                  \
                int y0 = oy * s->sh - s->pt;                                                      \
                int fy0 = y0 < 0 ? -y0 : 0, fy1 = s->ih - y0 < s->fh ? s->ih - y0 : s->fh;        \
                for (int ox = 0; ox < s->ow; ox++) {                                              \
                    int x0 = ox * s->sw - s->pl;                                                  \
                    int fx0 = x0 < 0 ? -x0 : 0, fx1 = s->iw - x0 < s->fw ? s->iw - x0 : s->fw;    \
                    T *o = out + (((size_t)b * s->oh + oy) * s->ow + ox) * s->c;                  \
                    for (int ch = 0; ch < s->c; ch++) {                                           \
                        int32_t acc = s->is_max ? -2147483647 - 1 : 0, count = 0;                 \
                        for (int fy = fy0; fy < fy1; fy++)                                        \
                            for (int fx = fx0; fx < fx1; fx++) {                                  \
                                int32_t v = in[(((size_t)b * s->ih + y0 + fy) * s->iw + x0 + fx) * \
                                                   s->c + ch];                                    \
                                if (s->is_max)                                                    \
                                    acc = v > acc ? v : acc;                                      \
                                else                                                              \
                                    acc += v;                                                     \
                                count++;                                                          \
                            }                                                                     \
                        if (!s->is_max)                                                           \
                            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count; \
                        if (acc < s->amin) acc = s->amin;                                         \
                        if (acc > s->amax) acc = s->amax;                                         \
                        o[ch] = (T)acc;                                                           \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
    }

DEFINE_POOL_Q(pool_u8, uint8_t)
DEFINE_POOL_Q(pool_i8, int8_t)

static void pool_f32(const ref_pool *s, const float *in, float *out) {
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++) {
            int y0 = oy * s->sh - s->pt;
            int fy0 = y0 < 0 ? -y0 : 0, fy1 = s->ih - y0 < s->fh ? s->ih - y0 : s->fh;
            for (int ox = 0; ox < s->ow; ox++) {
                int x0 = ox * s->sw - s->pl;
                int fx0 = x0 < 0 ? -x0 : 0, fx1 = s->iw - x0 < s->fw ? s->iw - x0 : s->fw;
                float *o = out + (((size_t)b * s->oh + oy) * s->ow + ox) * s->c;
                for (int ch = 0; ch < s->c; ch++) {
                    float acc = s->is_max ? -FLT_MAX : 0.0f, count = 0.0f;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++) {
                            float v = in[(((size_t)b * s->ih + y0 + fy) * s->iw + x0 + fx) * s->c +
                                         ch];
                            if (s->is_max)
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                            count += 1.0f;
                        }
                    if (!s->is_max) acc = acc / count;
                    o[ch] = acc < s->fmin ? s->fmin : acc > s->fmax ? s->fmax : acc;
                }
            }
        }
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_pool *s = state;
    switch (s->dt) {
    case EV_DTYPE_U8: pool_u8(s, data[s->in_t], data[s->out_t]); break;
    case EV_DTYPE_I8: pool_i8(s, data[s->in_t], data[s->out_t]); break;
    case EV_DTYPE_F32: pool_f32(s, data[s->in_t], data[s->out_t]); break;
    default: return EV_FAIL(EV_ERR_INTERNAL, "ref pool: unexpected dtype");
    }
    return EV_OK;
}

const ev_kernel ev_ref_pool_kernel = {"ref_pool", prepare, run, free};
