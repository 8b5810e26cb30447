/*
 * ref_resize.c - reference RESIZE_BILINEAR (NHWC, 4-D), the output size from the constant int32
 * input 1 ({height, width}), which must equal the output tensor's dims.
 *
 *   float32 and uint8: reference_ops::ResizeBilinear (TFLite 2.x, reference/resize_bilinear.h):
 *     scale = in / out (align_corners: (in - 1) / (out - 1)) in float; source coordinate
 *     v * scale, or (v + 0.5) * scale - 0.5 with half_pixel_centers; y0 = max(floor, 0),
 *     y1 = min(ceil, in - 1); the four-tap blend in float, then static_cast<T> (truncation for
 *     uint8).
 *   int8: the integer overload of reference_ops::ResizeBilinear (TFLite 2.x): scales in 1/1024
 *     units, scale_10 = (1024 * in + out / 2) / out (align_corners: (1024 * (in - 1) +
 *     (out - 1) / 2) / (out - 1)); source v * scale_10, or v * scale_10 + scale_10 / 2 - 512
 *     with half_pixel_centers; lower = max(src / 1024, 0) (C division), upper =
 *     min((src + 1023) / 1024, in - 1); the four products summed in int64 and divided by 2^20
 *     rounding half away from zero (TFLITE_SINGLE_ROUNDING off).
 *
 * Extend: int16 takes the integer path with its own cast; RESIZE_NEAREST_NEIGHBOR would be a
 * sibling kernel in this file.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_resize {
    ev_dtype dt;
    int in_t, out_t;
    int n, ih, iw, oh, ow, c;
    int align, half;
} ref_resize;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64];
    const ev_tensor *io_in[2] = {0}, *out = NULL;
    EV_TRY(ev_ref_io(ctx, 2, io_in, &out));
    const ev_tensor *in = io_in[0], *sz = io_in[1];
    if (in->dtype != out->dtype ||
        (in->dtype != EV_DTYPE_F32 && in->dtype != EV_DTYPE_U8 && in->dtype != EV_DTYPE_I8))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s -> %s (float32, uint8 or int8, "
                          "the same for both)", ev_dtype_name(in->dtype),
                          ev_dtype_name(out->dtype));
    if (in->ndim != 4 || out->ndim != 4 || in->dims[0] != out->dims[0] ||
        in->dims[3] != out->dims[3])
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s and output %s (NHWC, same batch and "
                          "channels)", ev_shape_str(in, s1, 64), ev_shape_str(out, s2, 64));
    if (!sz->data || sz->dtype != EV_DTYPE_I32 || ev_tensor_elems(sz) != 2)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "the size (input 1) must be a constant int32 "
                          "[2] tensor (dynamic sizes are not supported)");
    const int32_t *hw = sz->data;
    if (hw[0] != out->dims[1] || hw[1] != out->dims[2])
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "size %dx%d does not match the output %s", hw[0],
                          hw[1], ev_shape_str(out, s1, 64));
    if (out->dims[1] < 1 || out->dims[2] < 1 || in->dims[1] < 1 || in->dims[2] < 1 ||
        in->dims[1] > (1 << 20) || in->dims[2] > (1 << 20))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s to output %s", ev_shape_str(in, s1, 64),
                          ev_shape_str(out, s2, 64));
    if (in->dtype != EV_DTYPE_F32 &&
        (in->quant.count != out->quant.count ||
         (in->quant.count == 1 && (in->quant.scale[0] != out->quant.scale[0] ||
                                   in->quant.zero_point[0] != out->quant.zero_point[0]))))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input and output quantization differ "
                          "(TFLite's resize does not rescale)");
    ref_resize *s = malloc(sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->dt = in->dtype;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->n = in->dims[0];
    s->ih = in->dims[1];
    s->iw = in->dims[2];
    s->oh = out->dims[1];
    s->ow = out->dims[2];
    s->c = in->dims[3];
    s->align = op->p.resize.align_corners;
    s->half = op->p.resize.half_pixel_centers;
    *state = s;
    return EV_OK;
}

static void interp_f(float v, float scale, int half, int size, float *src, int *lo, int *hi) {
    *src = half ? ((v + 0.5f) * scale - 0.5f) : v * scale;
    float fl = floorf(*src);
    *lo = (int)fl > 0 ? (int)fl : 0;
    int c = (int)ceilf(*src);
    *hi = c < size - 1 ? c : size - 1;
}

static void interp_i(int32_t v, int32_t scale10, int half, int size, int32_t *src, int32_t *lo,
                     int32_t *hi) {
    *src = half ? v * scale10 + scale10 / 2 - (1 << 9) : v * scale10;
    *lo = *src / (1 << 10) > 0 ? *src / (1 << 10) : 0;
    int32_t u = (*src + (1 << 10) - 1) / (1 << 10);
    *hi = u < size - 1 ? u : size - 1;
}

static void run_int8(const ref_resize *s, const int8_t *in, int8_t *out) {
    int32_t hs = ((1 << 10) * s->ih + s->oh / 2) / s->oh;
    int32_t ws = ((1 << 10) * s->iw + s->ow / 2) / s->ow;
    if (s->align && s->oh > 1) hs = ((1 << 10) * (s->ih - 1) + (s->oh - 1) / 2) / (s->oh - 1);
    if (s->align && s->ow > 1) ws = ((1 << 10) * (s->iw - 1) + (s->ow - 1) / 2) / (s->ow - 1);
    const size_t C = (size_t)s->c;
#define AT(b, y, x) (in + (((size_t)(b) * (size_t)s->ih + (size_t)(y)) * (size_t)s->iw + (size_t)(x)) * C)
    for (int b = 0; b < s->n; b++)
        for (int y = 0; y < s->oh; y++) {
            int32_t iy, y0, y1;
            interp_i(y, hs, s->half, s->ih, &iy, &y0, &y1);
            const int64_t dy = iy - (1 << 10) * y0;
            for (int x = 0; x < s->ow; x++) {
                int32_t ix, x0, x1;
                interp_i(x, ws, s->half, s->iw, &ix, &x0, &x1);
                const int64_t dx = ix - (1 << 10) * x0;
                const int8_t *p00 = AT(b, y0, x0), *p10 = AT(b, y1, x0);
                const int8_t *p01 = AT(b, y0, x1), *p11 = AT(b, y1, x1);
                int8_t *o = out + (((size_t)b * (size_t)s->oh + (size_t)y) * (size_t)s->ow +
                                   (size_t)x) * C;
                for (size_t c = 0; c < C; c++) {
                    const int64_t v = (int64_t)p00[c] * ((1 << 10) - dy) * ((1 << 10) - dx) +
                                      (int64_t)p10[c] * dy * ((1 << 10) - dx) +
                                      (int64_t)p01[c] * ((1 << 10) - dy) * dx +
                                      (int64_t)p11[c] * dy * dx;
                    const int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
                    o[c] = (int8_t)((v + round) / (1 << 20));
                }
            }
        }
#undef AT
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_resize *s = state;
    if (s->dt == EV_DTYPE_I8) {
        run_int8(s, data[s->in_t], data[s->out_t]);
        return EV_OK;
    }
    float hs = (float)s->ih / (float)s->oh, ws = (float)s->iw / (float)s->ow;
    if (s->align && s->oh > 1) hs = (float)(s->ih - 1) / (float)(s->oh - 1);
    if (s->align && s->ow > 1) ws = (float)(s->iw - 1) / (float)(s->ow - 1);
    const size_t C = (size_t)s->c;
    for (int b = 0; b < s->n; b++)
        for (int y = 0; y < s->oh; y++) {
            float iy;
            int y0, y1;
            interp_f((float)y, hs, s->half, s->ih, &iy, &y0, &y1);
            for (int x = 0; x < s->ow; x++) {
                float ix;
                int x0, x1;
                interp_f((float)x, ws, s->half, s->iw, &ix, &x0, &x1);
                size_t i00 = (((size_t)b * (size_t)s->ih + (size_t)y0) * (size_t)s->iw + (size_t)x0) * C;
                size_t i10 = (((size_t)b * (size_t)s->ih + (size_t)y1) * (size_t)s->iw + (size_t)x0) * C;
                size_t i01 = (((size_t)b * (size_t)s->ih + (size_t)y0) * (size_t)s->iw + (size_t)x1) * C;
                size_t i11 = (((size_t)b * (size_t)s->ih + (size_t)y1) * (size_t)s->iw + (size_t)x1) * C;
                size_t io = (((size_t)b * (size_t)s->oh + (size_t)y) * (size_t)s->ow + (size_t)x) * C;
                const float wy = iy - (float)y0, wx = ix - (float)x0;
                for (size_t c = 0; c < C; c++) {
                    if (s->dt == EV_DTYPE_F32) {
                        const float *in = data[s->in_t];
                        ((float *)data[s->out_t])[io + c] =
                            in[i00 + c] * (1 - wy) * (1 - wx) + in[i10 + c] * wy * (1 - wx) +
                            in[i01 + c] * (1 - wy) * wx + in[i11 + c] * wy * wx;
                    } else {
                        const uint8_t *in = data[s->in_t];
                        float v = (float)in[i00 + c] * (1 - wy) * (1 - wx) +
                                  (float)in[i10 + c] * wy * (1 - wx) +
                                  (float)in[i01 + c] * (1 - wy) * wx +
                                  (float)in[i11 + c] * wy * wx;
                        ((uint8_t *)data[s->out_t])[io + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                    }
                }
            }
        }
    return EV_OK;
}

const ev_kernel ev_ref_resize_kernel = {"ref_resize_bilinear", prepare, run, free};
