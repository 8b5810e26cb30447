/*
 * decoder_op.c - the PosenetDecoderOp TFLite custom op as a host kernel (any backend).
 *
 * Inputs: heatmap logits [1,H,W,17], short offsets [1,H,W,34], mid displacements [1,H,W,64]
 * (uint8 with per-tensor quantization, or float32), in pixels. Options (FlexBuffer map):
 * max_detections, score_threshold, stride, nms_radius. Outputs (float32): poses [1,N,17,2] as
 * (y, x) input pixels, keypoint scores [1,N,17], pose scores [1,N], and the count as a float.
 * Slots past the count are zeroed. Decoding is ev_posenet_decode_multi (posenet_decoder.c).
 */
#include "core/backend.h"
#include "core/model.h"
#include "core/status.h"
#include "formats/flexbuf.h"
#include "pose/posenet_decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct dec_state {
    int H, W;
    int in_t[3], out_t[4];
    ev_posenet_decoder_params params;
    float *buf[3]; /* dequantized heads */
    ev_pose *poses;
    int max_out; /* output slots */
} dec_state;

static const int k_channels[3] = {17, 34, 64};
static const char *const k_roles[3] = {"heatmap", "short offsets", "mid displacements"};

static void release(void *state) {
    dec_state *s = state;
    if (!s) return;
    for (int i = 0; i < 3; i++) free(s->buf[i]);
    free(s->poses);
    free(s);
}

static ev_status read_options(const ev_kernel_ctx *ctx, const ev_op *op,
                              ev_posenet_decoder_params *p) {
    static const char *const keys[4] = {"max_detections", "score_threshold", "stride",
                                        "nms_radius"};
    double v[4] = {-1, -1, -1, -1};
    for (int i = 0; i < 4; i++) {
        flex_value fv;
        ev_status st = flex_map_lookup(op->custom_options, op->custom_options_size, keys[i], &fv);
        if (st != EV_OK) {
            ev_error_prefix("op %d (%s)", ctx->op_index, op->name);
            return st;
        }
        if (fv.kind == FLEX_ABSENT || fv.kind == FLEX_OTHER)
            return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "custom options lack numeric '%s'",
                              keys[i]);
        v[i] = flex_as_double(&fv, -1);
    }
    if (!(v[0] >= 1 && v[0] <= 1000) || !(v[1] >= 0 && v[1] <= 1) || !(v[2] >= 1 && v[2] <= 64) ||
        !(v[3] >= 0 && v[3] <= 1e6))
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "implausible options max_detections=%g "
                          "score_threshold=%g stride=%g nms_radius=%g", v[0], v[1], v[2], v[3]);
    p->max_detections = (int)v[0];
    p->score_threshold = (float)v[1];
    p->stride = (int)v[2];
    p->nms_radius = (float)v[3];
    return EV_OK;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char sh[64];
    if (op->num_inputs != 3 || op->num_outputs != 4)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs 3 inputs and 4 outputs, has %d and %d",
                          op->num_inputs, op->num_outputs);
    dec_state *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = read_options(ctx, op, &s->params);
    if (st != EV_OK) goto fail;
    s->params.legacy_edge16 = !op->p.custom.edge16_fix;
    for (int i = 0; i < 3; i++) {
        const ev_tensor *t = ev_op_input(g, op, i);
        if (!t || t->ndim != 4 || t->dims[0] != 1 || t->dims[3] != k_channels[i]) {
            st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "%s input must be 1xHxWx%d, got %s",
                            k_roles[i], k_channels[i], t ? ev_shape_str(t, sh, 64) : "none");
            goto fail;
        }
        if (i == 0) {
            s->H = t->dims[1];
            s->W = t->dims[2];
        } else if (t->dims[1] != s->H || t->dims[2] != s->W) {
            st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "%s grid %s differs from heatmap %dx%d",
                            k_roles[i], ev_shape_str(t, sh, 64), s->H, s->W);
            goto fail;
        }
        if (!(t->dtype == EV_DTYPE_F32 || (t->dtype == EV_DTYPE_U8 && t->quant.count == 1))) {
            st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s input of type %s",
                            k_roles[i], ev_dtype_name(t->dtype));
            goto fail;
        }
        s->in_t[i] = op->inputs[i];
        s->buf[i] = malloc(sizeof(float) * (size_t)s->H * (size_t)s->W * (size_t)k_channels[i]);
        if (!s->buf[i]) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
    }
    const ev_tensor *o0 = ev_op_output(g, op, 0);
    if (o0->ndim != 4 || o0->dims[2] != EV_NUM_KEYPOINTS || o0->dims[3] != 2) {
        st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "poses output must be 1xNx17x2, got %s",
                        ev_shape_str(o0, sh, 64));
        goto fail;
    }
    s->max_out = o0->dims[1];
    const ev_tensor *o1 = ev_op_output(g, op, 1), *o2 = ev_op_output(g, op, 2);
    const ev_tensor *o3 = ev_op_output(g, op, 3);
    if (ev_tensor_elems(o1) != (size_t)s->max_out * EV_NUM_KEYPOINTS ||
        ev_tensor_elems(o2) != (size_t)s->max_out || ev_tensor_elems(o3) != 1) {
        st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output sizes do not match %d poses",
                        s->max_out);
        goto fail;
    }
    for (int i = 0; i < 4; i++) {
        const ev_tensor *t = ev_op_output(g, op, i);
        if (t->dtype != EV_DTYPE_F32) {
            st = EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "output %d of type %s (float32 "
                            "expected)", i, ev_dtype_name(t->dtype));
            goto fail;
        }
        s->out_t[i] = op->outputs[i];
    }
    s->poses = calloc((size_t)s->max_out + 1, sizeof(ev_pose));
    if (!s->poses) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    *state = s;
    return EV_OK;
fail:
    release(s);
    return st;
}

/* Dequantizes the three heads (ev_posenet_dequantize_head), decodes them and writes the four
 * outputs. */
static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    dec_state *s = state;
    const ev_graph *g = ctx->graph;
    for (int i = 0; i < 3; i++) {
        const ev_tensor *t = &g->tensors[s->in_t[i]];
        ev_posenet_dequantize_head(t->dtype, t->quant.scale[0], t->quant.zero_point[0], data[s->in_t[i]], 0, ev_tensor_elems(t), s->buf[i]);
    }
    int n = 0;
    EV_TRY(ev_posenet_decode_multi(s->buf[0], s->buf[1], s->buf[2], s->H, s->W, &s->params,
                                   s->poses, s->max_out, &n));
    float *kp = data[s->out_t[0]], *ks = data[s->out_t[1]], *ps = data[s->out_t[2]];
    float *count = data[s->out_t[3]];
    memset(kp, 0, sizeof(float) * (size_t)s->max_out * EV_NUM_KEYPOINTS * 2);
    memset(ks, 0, sizeof(float) * (size_t)s->max_out * EV_NUM_KEYPOINTS);
    memset(ps, 0, sizeof(float) * (size_t)s->max_out);
    for (int p = 0; p < n; p++) {
        ps[p] = s->poses[p].score;
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            kp[(p * EV_NUM_KEYPOINTS + k) * 2 + 0] = s->poses[p].keypoints[k].y;
            kp[(p * EV_NUM_KEYPOINTS + k) * 2 + 1] = s->poses[p].keypoints[k].x;
            ks[p * EV_NUM_KEYPOINTS + k] = s->poses[p].keypoints[k].score;
        }
    }
    *count = (float)n;
    return EV_OK;
}

const ev_kernel ev_kernel_posenet_decoder = {"host_posenet_decoder", prepare, run, release};

/* The op's shape function (custom_ops.c; run once at model load by ev_model_adopt), as the
 * Prepare of libcoral's posenet_decoder_op.cc resizes the outputs: poses [1, N, 17, 2], keypoint
 * scores [1, N, 17], pose scores [1, N], N = max_detections from the options. The test_data
 * builds (google-coral/test_data, *_16_quant_decoder.tflite) give these outputs no shape; the
 * project-posenet builds declare them. Only outputs the file left at rank 0 are sized; declared
 * shapes stay as they are and prepare checks them, so those builds load exactly as before. The
 * count (output 3) is left a scalar: TFLite resizes it to [1], the same single float, and the
 * project-posenet builds declare it a scalar, so both builds report the same shapes. */
ev_status ev_posenet_decoder_shapes(ev_graph *g, int op_index) {
    ev_op *op = &g->ops[op_index];
    if (op->num_outputs != 4) return EV_OK; /* prepare reports it */
    const int nd[3] = {4, 3, 2};
    int unsized = -1;
    for (int o = 0; o < 3 && unsized < 0; o++)
        if (g->tensors[op->outputs[o]].ndim == 0) unsized = o;
    if (unsized < 0) return EV_OK;
    ev_kernel_ctx ctx = {g, op_index, NULL, NULL, "host", 0, 0};
    ev_posenet_decoder_params p;
    ev_status st = read_options(&ctx, op, &p);
    if (st != EV_OK) {
        ev_error_prefix("%s: output %d (tensor %d '%s') of op %d (%s) has no shape in the file "
                        "and cannot be sized", g->source, unsized, op->outputs[unsized],
                        g->tensors[op->outputs[unsized]].name, op_index, op->name);
        return st;
    }
    for (int o = 0; o < 3; o++) {
        ev_tensor *t = &g->tensors[op->outputs[o]];
        if (t->ndim != 0) continue;
        if (t->data)
            return EV_FAIL(EV_ERR_FORMAT, "%s: output %d (tensor %d '%s') of op %d (%s) is a "
                           "constant", g->source, o, op->outputs[o], t->name, op_index,
                           op->name);
        const int dims[4] = {1, p.max_detections, EV_NUM_KEYPOINTS, 2};
        size_t bytes;
        if (ev_tensor_bytes_checked(nd[o], dims, t->dtype, &bytes))
            return EV_FAIL(EV_ERR_SHAPE, "%s: output %d (tensor %d '%s') of op %d (%s): %d "
                           "poses do not fit a tensor", g->source, o, op->outputs[o], t->name,
                           op_index, op->name, p.max_detections);
        t->ndim = nd[o];
        memcpy(t->dims, dims, sizeof(int) * (size_t)nd[o]);
        t->bytes = bytes;
    }
    return EV_OK;
}

ev_status ev_model_set_decoder_edge16(ev_model *model, int legacy) {
    if (!model) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_set_decoder_edge16: NULL model");
    ev_graph *g = &model->graph;
    for (int i = 0; i < g->num_ops; i++)
        if (g->ops[i].type == EV_OP_CUSTOM && g->ops[i].custom_code &&
            strcmp(g->ops[i].custom_code, "PosenetDecoderOp") == 0)
            g->ops[i].p.custom.edge16_fix = !legacy;
    return EV_OK;
}
