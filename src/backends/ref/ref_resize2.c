/*
 * ref_resize2.c - reference RESIZE: ONNX Resize (opset 11+) of the H and W dims of an NHWC
 * tensor, nearest or linear, float32 (and uint8/int8 nearest, a pure copy of stored values).
 *
 * Per axis (input size in, output size out, scale s = the file's output/input ratio, or out/in
 * when the op gives none) the source coordinate of output index x is, in double:
 *   half_pixel (x + 0.5) / s - 0.5;  asymmetric x / s;  pytorch_half_pixel len > 1 ?
 *   (x + 0.5) / s - 0.5 : 0;  align_corners len > 1 ? x * (in - 1) / (len - 1) : 0;
 * with len = in * s unfloored when the op gave scales (ONNX's length_resized), else out;
 *   tf_half_pixel_for_nn (x + 0.5) / s.
 * Nearest rounds it by the op's nearest mode (round_prefer_floor: halves down; round_prefer_ceil:
 * halves up; floor; ceil) and clamps to [0, in - 1]. Linear clamps the coordinate to
 * [0, in - 1], takes x0 = floor, x1 = min(x0 + 1, in - 1), w = coordinate - x0, and blends
 * along W then H: top = a + (b - a) * w ... written as (1 - w) * a + w * b in float, as ONNX's
 * reference interpolates each axis in turn.
 *
 * Extend: cubic would be four taps per axis with the cubic coefficients (a = -0.75).
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_rsz {
    int in_t, out_t, linear;
    int n, ih, iw, c, oh, ow;
    size_t esize;
    int *y0, *y1, *x0, *x1; /* [oh], [ow]: source rows / columns */
    float *wy, *wx;
    int *cy, *cx;           /* cubic: [oh * 4], [ow * 4] tap indices                     */
    double *ky, *kx;        /* cubic: their weights                                       */
    char *outy, *outx;      /* [oh], [ow]: 1 where tf_crop_and_resize extrapolates        */
    float extrapolation;
} ref_rsz;

/* `out` is the resized length as ONNX's coordinate formulas see it: in * scale (not floored)
 * when the op gave scales, the output size when it gave sizes. */
static double src_coord(const ev_resize2_params *p, int x, int in, double out, double s) {
    switch (p->coord) {
    case EV_COORD_ASYMMETRIC: return x / s;
    case EV_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case EV_COORD_ALIGN_CORNERS: return out > 1 ? (double)x * (in - 1) / (out - 1) : 0.0;
    case EV_COORD_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    default: return (x + 0.5) / s - 0.5;
    }
}

/* tf_crop_and_resize: the coordinate of x in the region [r0, r1] (fractions of in - 1). */
static double crop_coord(int x, int in, double out, double r0, double r1) {
    double v = out > 1 ? x * (r1 - r0) * (in - 1) / (out - 1) : (r1 - r0) * (in - 1) / 2;
    return v + r0 * (in - 1);
}

static int clampi(long v, int in) { return v < 0 ? 0 : v > in - 1 ? in - 1 : (int)v; }

static void axis(const ev_resize2_params *p, int linear, int in, int out, double scale, int *i0,
                 int *i1, float *w, int *ci, double *cw, char *outside, double r0, double r1) {
    double s = scale > 0.0 ? scale : (double)out / (double)in;
    double len = scale > 0.0 ? in * scale : (double)out;
    for (int x = 0; x < out; x++) {
        double v;
        outside[x] = 0;
        if (p->coord == EV_COORD_TF_CROP_AND_RESIZE) {
            v = crop_coord(x, in, len, r0, r1);
            if (!(v >= 0 && v <= in - 1)) outside[x] = 1, v = 0; /* NaN too */
        } else {
            v = src_coord(p, x, in, len, s);
        }
        if (linear == 2) {
            /* beyond [-3, in + 2] every tap reads the same edge pixel: clamping v there changes
             * nothing and keeps the index arithmetic in range */
            v = v < -3 ? -3 : v > in + 2 ? in + 2 : v;
            const double A = p->cubic_a, f = floor(v), r = v - f, t = 1 - r;
            double k[4] = {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
                           ((A + 2) * r - (A + 3)) * r * r + 1,
                           ((A + 2) * t - (A + 3)) * t * t + 1,
                           ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A};
            double sum = 0;
            for (int j = 0; j < 4; j++) {
                long idx = (long)f - 1 + j;
                if (p->exclude_outside && (idx < 0 || idx > in - 1)) k[j] = 0;
                sum += k[j];
                ci[4 * x + j] = clampi(idx, in);
            }
            for (int j = 0; j < 4; j++) /* a zero sum (no tap inside) keeps the weights */
                cw[4 * x + j] = p->exclude_outside && sum != 0 ? k[j] / sum : k[j];
            i0[x] = i1[x] = 0;
            w[x] = 0.0f;
        } else if (!linear) {
            double f = floor(v), r;
            switch (p->nearest) {
            case EV_NEAREST_FLOOR: r = f; break;
            case EV_NEAREST_CEIL: r = ceil(v); break;
            case EV_NEAREST_ROUND_PREFER_CEIL: r = v - f >= 0.5 ? f + 1 : f; break;
            default: r = v - f > 0.5 ? f + 1 : f; break;
            }
            i0[x] = i1[x] = clampi((long)r, in);
            w[x] = 0.0f;
        } else {
            if (v < 0) v = 0;
            if (v > in - 1) v = in - 1;
            int a = (int)floor(v);
            i0[x] = a;
            i1[x] = a + 1 < in ? a + 1 : in - 1;
            w[x] = (float)(v - a);
        }
    }
}

static void rsz_free(void *state) {
    ref_rsz *s = state;
    if (!s) return;
    free(s->y0), free(s->y1), free(s->x0), free(s->x1), free(s->wy), free(s->wx);
    free(s->cy), free(s->cx), free(s->ky), free(s->kx), free(s->outy), free(s->outx);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_resize2_params *p = &op->p.rsz;
    const ev_tensor *in = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
    char s1[64], s2[64];
    if (!in || !out || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs an input and one output");
    if (in->ndim != 4 || out->ndim != 4 || in->dims[0] != out->dims[0] ||
        in->dims[3] != out->dims[3] || in->dtype != out->dtype || in->dims[1] < 1 ||
        in->dims[2] < 1)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s %s, output %s %s (NHWC, H and W resized)",
                          ev_shape_str(in, s1, 64), ev_dtype_name(in->dtype),
                          ev_shape_str(out, s2, 64), ev_dtype_name(out->dtype));
    if (p->linear < 0 || p->linear > 2 || (int)p->coord < 0 ||
        p->coord > EV_COORD_TF_CROP_AND_RESIZE)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "mode %d, coordinate transformation %d",
                          p->linear, (int)p->coord);
    if (p->coord == EV_COORD_TF_CROP_AND_RESIZE && in->dtype != EV_DTYPE_F32)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "tf_crop_and_resize of %s (float32 only)",
                          ev_dtype_name(in->dtype));
    if (p->linear ? in->dtype != EV_DTYPE_F32
                  : !(in->dtype == EV_DTYPE_F32 || ev_ref_is_q8(in->dtype)))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s resize of %s",
                          p->linear == 2 ? "cubic" : p->linear ? "linear" : "nearest",
                          ev_dtype_name(in->dtype));
    if (ev_ref_is_q8(in->dtype) &&
        (in->quant.count != out->quant.count ||
         (in->quant.count && (in->quant.scale[0] != out->quant.scale[0] ||
                              in->quant.zero_point[0] != out->quant.zero_point[0]))))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input and output quantization differ");
    ref_rsz *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->linear = p->linear;
    s->n = in->dims[0], s->ih = in->dims[1], s->iw = in->dims[2], s->c = in->dims[3];
    s->oh = out->dims[1], s->ow = out->dims[2];
    s->esize = ev_dtype_size(in->dtype);
    size_t nh = (size_t)(s->oh ? s->oh : 1), nw = (size_t)(s->ow ? s->ow : 1);
    s->y0 = malloc(sizeof(int) * nh), s->y1 = malloc(sizeof(int) * nh);
    s->x0 = malloc(sizeof(int) * nw), s->x1 = malloc(sizeof(int) * nw);
    s->wy = malloc(sizeof(float) * nh), s->wx = malloc(sizeof(float) * nw);
    s->cy = malloc(sizeof(int) * 4 * nh), s->cx = malloc(sizeof(int) * 4 * nw);
    s->ky = malloc(sizeof(double) * 4 * nh), s->kx = malloc(sizeof(double) * 4 * nw);
    s->outy = malloc(nh), s->outx = malloc(nw);
    if (!s->y0 || !s->y1 || !s->x0 || !s->x1 || !s->wy || !s->wx || !s->cy || !s->cx ||
        !s->ky || !s->kx || !s->outy || !s->outx) {
        rsz_free(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    s->extrapolation = p->extrapolation;
    axis(p, p->linear, s->ih, s->oh, p->scale_h, s->y0, s->y1, s->wy, s->cy, s->ky, s->outy,
         p->roi_h0, p->roi_h1);
    axis(p, p->linear, s->iw, s->ow, p->scale_w, s->x0, s->x1, s->wx, s->cx, s->kx, s->outx,
         p->roi_w0, p->roi_w1);
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_rsz *s = state;
    const size_t c = (size_t)s->c;
    for (int b = 0; b < s->n; b++) {
        const size_t ib = (size_t)b * s->ih * s->iw * c, ob = (size_t)b * s->oh * s->ow * c;
        for (int y = 0; y < s->oh; y++)
            for (int x = 0; x < s->ow; x++) {
                size_t o = ob + ((size_t)y * s->ow + x) * c;
                if (s->outy[y] || s->outx[x]) { /* float32 (tf_crop_and_resize) */
                    float *out = data[s->out_t];
                    for (size_t k = 0; k < c; k++) out[o + k] = s->extrapolation;
                    continue;
                }
                if (s->linear == 2) {
                    const float *in = data[s->in_t];
                    float *out = data[s->out_t];
                    for (size_t k = 0; k < c; k++) {
                        double acc = 0;
                        for (int i = 0; i < 4; i++) {
                            const float *row = in + ib + (size_t)s->cy[4 * y + i] * s->iw * c + k;
                            double r = 0;
                            for (int j = 0; j < 4; j++)
                                r += s->kx[4 * x + j] * row[(size_t)s->cx[4 * x + j] * c];
                            acc += s->ky[4 * y + i] * r;
                        }
                        out[o + k] = (float)acc;
                    }
                    continue;
                }
                if (!s->linear) {
                    size_t i = ib + ((size_t)s->y0[y] * s->iw + s->x0[x]) * c;
                    memcpy((uint8_t *)data[s->out_t] + o * s->esize,
                           (const uint8_t *)data[s->in_t] + i * s->esize, c * s->esize);
                    continue;
                }
                const float *in = data[s->in_t];
                float *out = data[s->out_t];
                const float *p00 = in + ib + ((size_t)s->y0[y] * s->iw + s->x0[x]) * c;
                const float *p01 = in + ib + ((size_t)s->y0[y] * s->iw + s->x1[x]) * c;
                const float *p10 = in + ib + ((size_t)s->y1[y] * s->iw + s->x0[x]) * c;
                const float *p11 = in + ib + ((size_t)s->y1[y] * s->iw + s->x1[x]) * c;
                const float wy = s->wy[y], wx = s->wx[x];
                for (size_t k = 0; k < c; k++) {
                    float top = (1.0f - wx) * p00[k] + wx * p01[k];
                    float bot = (1.0f - wx) * p10[k] + wx * p11[k];
                    out[o + k] = (1.0f - wy) * top + wy * bot;
                }
            }
    }
    return EV_OK;
}

const ev_kernel ev_ref_resize2_kernel = {"ref_resize2", prepare, run, rsz_free};
