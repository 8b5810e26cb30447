/*
 * conv_desc.c - CONV_2D / DEPTHWISE_CONV_2D validation and quantization parameters.
 *
 * Supported type combinations (input, filter, bias, output):
 *   uint8, uint8 per-tensor, int32, uint8      (TFLite's legacy uint8 path)
 *   int8,  int8 per-tensor or per-channel, int32, int8
 *   float32, float32, float32, float32
 * Multipliers follow TFLite's PopulateConvolutionQuantizationParams: for uint8 the scale product
 * is taken in float32 and then divided in double (GetQuantizedConvolutionMultipler); for int8,
 * in double throughout.
 */
#include "backends/conv_desc.h"

#include "core/quant.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

void ev_conv_desc_release(ev_conv_desc *d) {
    free(d->w_zp);
    free(d->mult);
    free(d->shift);
    d->w_zp = d->mult = NULL;
    d->shift = NULL;
}

static ev_status check_quant(const ev_kernel_ctx *ctx, const ev_tensor *t,
                             const char *role) {
    if (t->quant.count != 1)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s '%s' needs per-tensor quantization "
                          "(has %d scales)", role, t->name, t->quant.count);
    return EV_OK;
}

ev_status ev_conv_desc_init(const ev_kernel_ctx *ctx, ev_conv_desc *d) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    memset(d, 0, sizeof *d);
    d->depthwise = op->type == EV_OP_DEPTHWISE_CONV_2D;
    if (op->num_inputs < 2 || op->num_inputs > 3 || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "expects 2-3 inputs and 1 output, has %d and %d",
                          op->num_inputs, op->num_outputs);
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    const ev_tensor *b = ev_op_input(g, op, 2), *out = ev_op_output(g, op, 0);
    if (!in || !w || !out)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input, filter or output tensor");
    d->in_t = op->inputs[0];
    d->w_t = op->inputs[1];
    d->b_t = b ? op->inputs[2] : -1;
    d->out_t = op->outputs[0];
    char s1[64], s2[64], s3[64];
    if (in->ndim != 4 || w->ndim != 4 || out->ndim != 4)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "needs 4-D input/filter/output, got %s, %s, %s",
                          ev_shape_str(in, s1, 64), ev_shape_str(w, s2, 64),
                          ev_shape_str(out, s3, 64));
    if (!w->data)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "filter '%s' is not constant", w->name);
    if (b && !b->data)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "bias '%s' is not constant", b->name);
    const ev_conv_params *p = &op->p.conv;
    d->batch = in->dims[0];
    d->in_h = in->dims[1];
    d->in_w = in->dims[2];
    d->in_c = in->dims[3];
    d->k_h = w->dims[1];
    d->k_w = w->dims[2];
    d->stride_h = p->stride_h;
    d->stride_w = p->stride_w;
    d->dil_h = p->dilation_h;
    d->dil_w = p->dilation_w;
    if (d->depthwise) {
        if (w->dims[0] != 1)
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "depthwise filter %s must be 1xHxWxC",
                              ev_shape_str(w, s1, 64));
        d->out_c = w->dims[3];
        d->depth_multiplier = p->depth_multiplier;
        if (d->in_c <= 0 || d->out_c % d->in_c != 0)
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "filter %s does not fit input %s",
                              ev_shape_str(w, s1, 64), ev_shape_str(in, s2, 64));
        if (d->depth_multiplier <= 0) d->depth_multiplier = d->out_c / d->in_c;
        if (d->out_c != d->in_c * d->depth_multiplier)
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "filter %s != input channels %d x depth "
                              "multiplier %d", ev_shape_str(w, s1, 64), d->in_c,
                              d->depth_multiplier);
    } else {
        d->out_c = w->dims[0];
        d->depth_multiplier = 1;
        if (w->dims[3] != d->in_c)
            return EV_OP_FAIL(ctx, w->dims[3] > 0 && d->in_c % w->dims[3] == 0
                                       ? EV_ERR_UNSUPPORTED : EV_ERR_SHAPE,
                              "filter %s does not match input %s (grouped convolution is not "
                              "supported)", ev_shape_str(w, s1, 64), ev_shape_str(in, s2, 64));
    }
    if (d->k_h <= 0 || d->k_w <= 0 || d->out_c <= 0)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "empty filter %s", ev_shape_str(w, s1, 64));
    d->out_h = ev_conv_out_size(p->padding, d->in_h, d->k_h, d->stride_h, d->dil_h);
    d->out_w = ev_conv_out_size(p->padding, d->in_w, d->k_w, d->stride_w, d->dil_w);
    if (d->out_h <= 0 || d->out_w <= 0 || out->dims[0] != d->batch || out->dims[1] != d->out_h ||
        out->dims[2] != d->out_w || out->dims[3] != d->out_c)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output %s, but input %s with filter %s, stride "
                          "%dx%d gives %dx%dx%dx%d", ev_shape_str(out, s1, 64),
                          ev_shape_str(in, s2, 64), ev_shape_str(w, s3, 64), d->stride_h,
                          d->stride_w, d->batch, d->out_h, d->out_w, d->out_c);
    d->pad_top = ev_conv_pad_before(p->padding, d->in_h, d->k_h, d->stride_h, d->dil_h, d->out_h);
    d->pad_left = ev_conv_pad_before(p->padding, d->in_w, d->k_w, d->stride_w, d->dil_w, d->out_w);
    if (b && (b->ndim != 1 || b->dims[0] != d->out_c))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "bias %s does not match %d output channels",
                          ev_shape_str(b, s1, 64), d->out_c);

    d->dtype = in->dtype;
    if (in->dtype == EV_DTYPE_F32) {
        if (w->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32 ||
            (b && b->dtype != EV_DTYPE_F32))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 input with %s filter / %s "
                              "output (hybrid quantization is not supported)",
                              ev_dtype_name(w->dtype), ev_dtype_name(out->dtype));
        if (!ev_float_activation_range(p->activation, &d->f_min, &d->f_max))
            return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d",
                              (int)p->activation);
        return EV_OK;
    }
    if (in->dtype != EV_DTYPE_U8 && in->dtype != EV_DTYPE_I8)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input type %s", ev_dtype_name(in->dtype));
    if (w->dtype != in->dtype || out->dtype != in->dtype || (b && b->dtype != EV_DTYPE_I32))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s input, %s filter, %s bias, %s "
                          "output", ev_dtype_name(in->dtype), ev_dtype_name(w->dtype),
                          b ? ev_dtype_name(b->dtype) : "no", ev_dtype_name(out->dtype));
    EV_TRY(check_quant(ctx, in, "input"));
    EV_TRY(check_quant(ctx, out, "output"));
    int per_channel = w->quant.count > 1;
    if (w->quant.count < 1 || (per_channel && (w->quant.count != d->out_c ||
                                               w->quant.axis != (d->depthwise ? 3 : 0))))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "filter '%s' has %d scales on axis %d for "
                          "%d output channels", w->name, w->quant.count, w->quant.axis, d->out_c);
    if (per_channel && in->dtype == EV_DTYPE_U8)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "uint8 with per-channel filter scales");
    d->in_zp = in->quant.zero_point[0];
    d->out_zp = out->quant.zero_point[0];
    int32_t qmin = in->dtype == EV_DTYPE_U8 ? 0 : -128, qmax = in->dtype == EV_DTYPE_U8 ? 255 : 127;
    if (out->quant.scale[0] <= 0.0f || in->quant.scale[0] <= 0.0f)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "non-positive input/output scale");
    if (!ev_quant_activation_range(p->activation, out->quant.scale[0], d->out_zp, qmin, qmax,
                                   &d->act_min, &d->act_max))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d on a quantized op",
                          (int)p->activation);
    d->w_zp = malloc(sizeof(int32_t) * (size_t)d->out_c);
    d->mult = malloc(sizeof(int32_t) * (size_t)d->out_c);
    d->shift = malloc(sizeof(int) * (size_t)d->out_c);
    if (!d->w_zp || !d->mult || !d->shift) {
        ev_conv_desc_release(d);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    float in_s = in->quant.scale[0], out_s = out->quant.scale[0];
    for (int c = 0; c < d->out_c; c++) {
        int qi = per_channel ? c : 0;
        float w_s = w->quant.scale[qi];
        double real;
        if (in->dtype == EV_DTYPE_U8)
            real = (double)(float)(in_s * w_s) / (double)out_s;
        else
            real = (double)in_s * (double)w_s / (double)out_s;
        ev_quantize_multiplier(real, &d->mult[c], &d->shift[c]);
        d->w_zp[c] = w->quant.zero_point[qi];
    }
    return EV_OK;
}
