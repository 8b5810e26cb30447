/*
 * posenet.c - the PoseNet pipeline: image -> model input -> session -> poses.
 *
 * Three kinds of model are handled:
 *   - with Coral's PosenetDecoderOp (the *_quant_decoder.tflite files): "multi" decoding is the
 *     op itself; "single" reads the op's input heads, which are still intact after the run
 *     because the decoder is the last op.
 *   - raw-head models (*_quant.tflite): the outputs are the heads, found by channel count (17
 *     heatmap, 34 short offsets, 64 mid displacements, or 32+32 forward/backward by name), and
 *     decoded here with the Coral multi-pose decoder or the tfjs single-pose one.
 *   - float graphs (TensorFlow posenet_mobilenet_v1_*_float.pb, free input size: created with
 *     ev_posenet_create_with_input) and their int8 quantization: heads named heatmap, offset_2,
 *     displacement_fwd_2, displacement_bwd_2. A heatmap made by a sigmoid (LOGISTIC op) holds
 *     probabilities: the multi decoder gets clamped logits, the single decoder scores with p.
 * The output stride is read from the graph: the product of the conv/pool strides from the input
 * to the heatmap; (input - 1) must be (grid - 1) * stride on both axes.
 * MoveNet SinglePose models (one float32 [1,1,17,3] output) run through the same handle; their
 * input filling and decoding are in movenet.c (one pose per image).
 * Preprocessing is Pillow NEAREST resize (media/resize.c) and the raw RGB bytes as input (the
 * Coral models' input quantization is (q-128)/128); int8 and float32 inputs get the same real
 * values, quantized with their own parameters.
 */
#include "core/model.h"
#include "core/status.h"
#include "media/image.h"
#include "pose/movenet.h"
#include "pose/posenet_decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ev_posenet {
    ev_model *model;
    ev_session *session;
    ev_posenet_options opts;
    int in_w, in_h;
    ev_dtype in_dtype;
    float in_scale;
    int32_t in_zp;
    uint8_t *in_buf; /* model input bytes */
    size_t in_bytes;
    int decoder_op;   /* index of the PosenetDecoderOp, or -1 */
    int head_t[4];    /* heat, short, mid (or fwd), bwd (-1 when mid is one tensor) */
    int head_src[4];  /* where a run's heads are read (public session API): the index of the
                         model output, or of the decoder op's input when decoder_op >= 0 */
    int grid_h, grid_w, stride;
    int heat_prob;    /* the heatmap is a sigmoid output (probabilities), not logits */
    float *heads[3];  /* dequantized heat, offsets, displacements (64 channels) */
    ev_posenet_decoder_params params;
    int movenet;      /* MoveNet SinglePose (movenet.c): no heads, the output is the pose */
};

void ev_posenet_options_init(ev_posenet_options *o) {
    memset(o, 0, sizeof *o);
    ev_session_options_init(&o->session);
    o->decoder = EV_DECODER_AUTO;
    o->legacy_edge16 = 1;
}

void ev_posenet_free(ev_posenet *net) {
    if (!net) return;
    ev_session_free(net->session);
    ev_model_free(net->model);
    for (int i = 0; i < 3; i++) free(net->heads[i]);
    free(net->in_buf);
    free(net);
}

static int name_has(const char *name, const char *needle) {
    return name && strstr(name, needle) != NULL;
}

/* Finds the heads among the graph outputs of a raw-head model. */
static ev_status find_raw_heads(ev_posenet *net) {
    const ev_graph *g = &net->model->graph;
    int heat = -1, off = -1, mid = -1, fwd = -1, bwd = -1;
    /* The float graphs' output names first (tfjs / TensorFlow PoseNet)... */
    for (int i = 0; i < g->num_outputs; i++) {
        const char *n = g->tensors[g->outputs[i]].name;
        if (!n) continue;
        if (strcmp(n, "heatmap") == 0) heat = i;
        else if (strcmp(n, "offset_2") == 0) off = i;
        else if (strcmp(n, "displacement_fwd_2") == 0) fwd = i;
        else if (strcmp(n, "displacement_bwd_2") == 0) bwd = i;
    }
    if (heat >= 0 && off >= 0 && fwd >= 0 && bwd >= 0) {
        const int src[4] = {heat, off, fwd, bwd};
        for (int k = 0; k < 4; k++) {
            net->head_src[k] = src[k];
            net->head_t[k] = g->outputs[src[k]];
        }
        return EV_OK;
    }
    heat = off = fwd = bwd = -1;
    /* ... then channel counts (the Coral raw-head models). */
    for (int i = 0; i < g->num_outputs; i++) {
        const ev_tensor *t = &g->tensors[g->outputs[i]];
        if (t->ndim != 4 || t->dims[0] != 1) continue;
        int c = t->dims[3];
        if (c == EV_POSENET_HEAT_CHANNELS) heat = i;
        else if (c == EV_POSENET_OFFSET_CHANNELS) off = i;
        else if (c == EV_POSENET_DISP_CHANNELS) mid = i;
        else if (c == 32 && name_has(t->name, "fwd")) fwd = i;
        else if (c == 32 && name_has(t->name, "bwd")) bwd = i;
    }
    if (heat < 0 || off < 0 || (mid < 0 && (fwd < 0 || bwd < 0)))
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: not a PoseNet model: no PosenetDecoderOp and no "
                       "outputs with 17 (heatmap), 34 (offsets) and 64 (displacements) channels",
                       g->source);
    net->head_src[0] = heat;
    net->head_src[1] = off;
    net->head_src[2] = mid >= 0 ? mid : fwd;
    net->head_src[3] = mid >= 0 ? -1 : bwd;
    for (int k = 0; k < 4; k++)
        net->head_t[k] = net->head_src[k] >= 0 ? g->outputs[net->head_src[k]] : -1;
    return EV_OK;
}

/* The op writing tensor t, or NULL. */
static const ev_op *producer(const ev_graph *g, int t) {
    for (int i = 0; i < g->num_ops; i++)
        for (int j = 0; j < g->ops[i].num_outputs; j++)
            if (g->ops[i].outputs[j] == t) return &g->ops[i];
    return NULL;
}

/* Product of the vertical strides of the conv/pool ops from the graph input to tensor t,
 * following each op's first input; 0 when the path meets an op it cannot see through. */
static int graph_stride(const ev_graph *g, int t) {
    long stride = 1;
    for (int steps = 0; steps <= g->num_ops; steps++) {
        if (t == g->inputs[0]) return stride <= 1024 ? (int)stride : 0;
        const ev_op *op = producer(g, t);
        if (!op || op->num_inputs < 1 || op->inputs[0] < 0) return 0;
        switch (op->type) {
        case EV_OP_CONV_2D:
        case EV_OP_DEPTHWISE_CONV_2D: stride *= op->p.conv.stride_h; break;
        case EV_OP_AVERAGE_POOL_2D:
        case EV_OP_MAX_POOL_2D: stride *= op->p.pool.stride_h; break;
        case EV_OP_LOGISTIC:
        case EV_OP_RELU:
        case EV_OP_RELU6:
        case EV_OP_QUANTIZE:
        case EV_OP_DEQUANTIZE:
        case EV_OP_ADD:
        case EV_OP_CONCATENATION: break;
        default: return 0;
        }
        if (stride > 1024) return 0;
        t = op->inputs[0];
    }
    return 0;
}

static ev_status check_heads(ev_posenet *net) {
    const ev_graph *g = &net->model->graph;
    const ev_tensor *h = &g->tensors[net->head_t[0]];
    char sh[64];
    net->grid_h = h->dims[1];
    net->grid_w = h->dims[2];
    for (int i = 0; i < 4; i++) {
        if (net->head_t[i] < 0) continue;
        const ev_tensor *t = &g->tensors[net->head_t[i]];
        if (t->ndim != 4 || t->dims[1] != net->grid_h || t->dims[2] != net->grid_w)
            return EV_FAIL(EV_ERR_SHAPE, "%s: head '%s' %s does not match the heatmap grid %dx%d",
                           g->source, t->name, ev_shape_str(t, sh, 64), net->grid_h, net->grid_w);
        if (!(t->dtype == EV_DTYPE_F32 ||
              ((t->dtype == EV_DTYPE_U8 || t->dtype == EV_DTYPE_I8) && t->quant.count == 1)))
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: head '%s' has type %s", g->source, t->name,
                           ev_dtype_name(t->dtype));
    }
    /* Output stride: read from the graph; PoseNet grids satisfy (in - 1) = (grid - 1) * stride. */
    int gs = graph_stride(g, net->head_t[0]);
    if (gs > 0) {
        if ((net->in_h - 1) % gs != 0 || (net->in_w - 1) % gs != 0 ||
            (net->in_h - 1) / gs + 1 != net->grid_h || (net->in_w - 1) / gs + 1 != net->grid_w)
            return EV_FAIL(EV_ERR_SHAPE, "%s: input %dx%d (height x width) does not fit the "
                           "model's output stride %d: (size - 1) must be a multiple of %d, e.g. "
                           "%dx%d", g->source, net->in_h, net->in_w, gs, gs,
                           (net->in_h - 1) / gs * gs + 1, (net->in_w - 1) / gs * gs + 1);
        net->stride = gs;
    } else {
        net->stride = 16;
        if (net->grid_h > 1) net->stride = (net->in_h - 1) / (net->grid_h - 1);
        if (net->stride < 1) net->stride = 16;
    }
    const ev_op *prod = producer(g, net->head_t[0]);
    net->heat_prob = prod && prod->type == EV_OP_LOGISTIC;
    size_t cells = (size_t)net->grid_h * (size_t)net->grid_w;
    static const int ch[3] = {EV_POSENET_HEAT_CHANNELS, EV_POSENET_OFFSET_CHANNELS,
                              EV_POSENET_DISP_CHANNELS};
    for (int i = 0; i < 3; i++) {
        net->heads[i] = malloc(sizeof(float) * cells * (size_t)ch[i]);
        if (!net->heads[i]) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    return EV_OK;
}

ev_status ev_posenet_create(const char *model_path, const ev_posenet_options *opts,
                            ev_posenet **out) {
    return ev_posenet_create_with_input(model_path, 0, 0, opts, out);
}

ev_status ev_posenet_create_with_input(const char *model_path, int height, int width,
                                       const ev_posenet_options *opts, ev_posenet **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_posenet_create: out is NULL");
    *out = NULL;
    ev_posenet *net = calloc(1, sizeof *net);
    if (!net) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_posenet_options_init(&net->opts);
    if (opts) net->opts = *opts;
    ev_status st;
    if (height > 0 || width > 0)
        EV_TRY_GOTO(st, ev_model_load_with_input(model_path, height, width, &net->model), fail);
    else
        EV_TRY_GOTO(st, ev_model_load(model_path, &net->model), fail);
    const ev_graph *g = &net->model->graph;
    const ev_tensor *in = &g->tensors[g->inputs[0]];
    char sh[64];
    if (g->num_inputs != 1 || in->ndim != 4 || in->dims[0] != 1 || in->dims[3] != 3) {
        st = EV_FAIL(EV_ERR_SHAPE, "%s: a PoseNet model takes one 1xHxWx3 image, this one takes "
                     "%d input(s), the first %s", model_path, g->num_inputs,
                     ev_shape_str(in, sh, 64));
        goto fail;
    }
    net->in_h = in->dims[1];
    net->in_w = in->dims[2];
    net->in_dtype = in->dtype;
    net->movenet = ev_movenet_match(g);
    if (net->movenet) {
        EV_TRY_GOTO(st, ev_movenet_check_input(g, model_path), fail);
    } else if (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8) {
        if (in->quant.count != 1) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input is not per-tensor quantized", model_path);
            goto fail;
        }
        net->in_scale = in->quant.scale[0];
        net->in_zp = in->quant.zero_point[0];
    } else if (in->dtype != EV_DTYPE_F32) {
        st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input type %s", model_path,
                     ev_dtype_name(in->dtype));
        goto fail;
    }
    net->in_bytes = in->bytes;
    net->in_buf = malloc(in->bytes);
    if (!net->in_buf) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    EV_TRY_GOTO(st, ev_model_set_decoder_edge16(net->model, net->opts.legacy_edge16 != 0), fail);
    EV_TRY_GOTO(st, ev_session_create(net->model, &net->opts.session, &net->session), fail);
    net->decoder_op = -1;
    if (net->movenet) {
        *out = net;
        return EV_OK;
    }
    for (int i = 0; i < g->num_ops; i++)
        if (g->ops[i].type == EV_OP_CUSTOM && strcmp(g->ops[i].name, "PosenetDecoderOp") == 0)
            net->decoder_op = i;
    if (net->decoder_op >= 0) {
        const ev_op *op = &g->ops[net->decoder_op];
        if (g->num_outputs < 4) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: PosenetDecoderOp model with %d outputs", model_path,
                         g->num_outputs);
            goto fail;
        }
        for (int i = 0; i < 3; i++) {
            net->head_t[i] = op->inputs[i];
            net->head_src[i] = i;
        }
        net->head_t[3] = net->head_src[3] = -1;
    } else {
        EV_TRY_GOTO(st, find_raw_heads(net), fail);
        if (net->opts.decoder == EV_DECODER_AUTO) net->opts.decoder = EV_DECODER_MULTI;
    }
    EV_TRY_GOTO(st, check_heads(net), fail);
    net->params.max_detections = net->opts.max_detections > 0 ? net->opts.max_detections : 10;
    net->params.score_threshold =
        net->opts.score_threshold > 0 ? net->opts.score_threshold : 0.2f;
    net->params.nms_radius = net->opts.nms_radius > 0 ? net->opts.nms_radius : 10.0f;
    net->params.stride = net->stride;
    net->params.legacy_edge16 = net->opts.legacy_edge16 != 0;
    *out = net;
    return EV_OK;
fail:
    ev_posenet_free(net);
    return st;
}

void ev_posenet_input_size(const ev_posenet *net, int *w, int *h) {
    if (w) *w = net ? net->in_w : 0;
    if (h) *h = net ? net->in_h : 0;
}

ev_session *ev_posenet_session(ev_posenet *net) { return net ? net->session : NULL; }

/* Head k of the last run, through the public session API: a model output, or an input of the
 * decoder op (the decoder op is the last op, so its inputs are intact after the run). */
static ev_status head_data(ev_posenet *net, int k, const void **data, ev_tensor_info *info) {
    if (net->decoder_op >= 0)
        return ev_session_op_input(net->session, net->decoder_op, net->head_src[k], data, info);
    return ev_session_output(net->session, net->head_src[k], data, info);
}

static void dequantize_head(const ev_tensor_info *t, const void *data, float *out, int dst_c,
                            int dst_off, size_t cells) {
    size_t c = (size_t)t->dims[3];
    for (size_t p = 0; p < cells; p++)
        ev_posenet_dequantize_head(t->dtype, t->scale, t->zero_point, data, p * c, c, out + p * (size_t)dst_c + dst_off);
}

/* Probabilities -> logits log(p / (1 - p)), p clamped to [1e-12, 1 - 1e-12] (finite, and
 * strictly increasing over every float p, so argmaxes and orderings are unchanged). */
static void heat_to_logits(float *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double p = h[i];
        if (!(p > 1e-12)) p = 1e-12;
        if (p > 1.0 - 1e-12) p = 1.0 - 1e-12;
        h[i] = (float)log(p / (1.0 - p));
    }
}

/* Single pose on a probability heatmap: the keypoint score is p itself at the argmax cell (the
 * decoder's rule: first maximum in row-major order), not sigmoid(logit(p)). */
static void rescore_single(ev_posenet *net, const ev_tensor_info *t, const void *raw,
                           ev_pose *pose, size_t cells) {
    const int K = EV_POSENET_HEAT_CHANNELS;
    float total = 0.0f;
    for (int k = 0; k < K; k++) {
        size_t best = 0;
        for (size_t c = 1; c < cells; c++)
            if (net->heads[0][c * K + k] > net->heads[0][best * K + k]) best = c;
        float p;
        ev_posenet_dequantize_head(t->dtype, t->scale, t->zero_point, raw, best * K + k, 1, &p);
        pose->keypoints[k].score = p;
        total += p;
    }
    pose->score = total / (float)K;
}

static ev_status decode_heads(ev_posenet *net, ev_pose *poses, int max_poses, int *num) {
    size_t cells = (size_t)net->grid_h * (size_t)net->grid_w;
    const void *data[4] = {NULL, NULL, NULL, NULL};
    ev_tensor_info info[4];
    for (int k = 0; k < 4; k++)
        if (net->head_src[k] >= 0) EV_TRY(head_data(net, k, &data[k], &info[k]));
    dequantize_head(&info[0], data[0], net->heads[0], 17, 0, cells);
    dequantize_head(&info[1], data[1], net->heads[1], 34, 0, cells);
    /* separate forward and backward displacements are concatenated per cell */
    dequantize_head(&info[2], data[2], net->heads[2], 64, 0, cells);
    if (net->head_src[3] >= 0) dequantize_head(&info[3], data[3], net->heads[2], 64, 32, cells);
    if (net->heat_prob) heat_to_logits(net->heads[0], cells * EV_POSENET_HEAT_CHANNELS);
    if (net->opts.decoder == EV_DECODER_SINGLE) {
        *num = 0;
        if (max_poses < 1) return EV_OK;
        EV_TRY(ev_posenet_decode_single(net->heads[0], net->heads[1], net->grid_h, net->grid_w,
                                        net->stride, &poses[0]));
        if (net->heat_prob) rescore_single(net, &info[0], data[0], &poses[0], cells);
        *num = 1;
        return EV_OK;
    }
    return ev_posenet_decode_multi(net->heads[0], net->heads[1], net->heads[2], net->grid_h,
                                   net->grid_w, &net->params, poses, max_poses, num);
}

static ev_status read_decoder_outputs(ev_posenet *net, ev_pose *poses, int max_poses, int *num) {
    const void *d[4];
    ev_tensor_info info[4];
    for (int i = 0; i < 4; i++) EV_TRY(ev_session_output(net->session, i, &d[i], &info[i]));
    const float *kp = d[0], *ks = d[1], *ps = d[2];
    float count = *(const float *)d[3];
    int slots = info[0].dims[1];
    int n = (int)count;
    if (!(count >= 0) || n > slots)
        return EV_FAIL(EV_ERR_INTERNAL, "decoder op reported %g poses for %d slots",
                       (double)count, slots);
    if (n > max_poses) n = max_poses;
    float thr = net->opts.score_threshold;
    int m = 0;
    for (int p = 0; p < n; p++) {
        if (thr > 0 && ps[p] < thr) continue;
        poses[m].score = ps[p];
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            poses[m].keypoints[k].y = kp[(p * EV_NUM_KEYPOINTS + k) * 2 + 0];
            poses[m].keypoints[k].x = kp[(p * EV_NUM_KEYPOINTS + k) * 2 + 1];
            poses[m].keypoints[k].score = ks[p * EV_NUM_KEYPOINTS + k];
        }
        m++;
    }
    *num = m;
    return EV_OK;
}

ev_status ev_posenet_run_input(ev_posenet *net, const uint8_t *rgb, ev_pose *poses, int max_poses,
                               int *num_poses) {
    if (!net || !rgb || !num_poses || (max_poses > 0 && !poses))
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_posenet_run_input: NULL argument");
    *num_poses = 0;
    size_t n = (size_t)net->in_w * (size_t)net->in_h * 3;
    if (net->movenet) {
        ev_movenet_fill_input(net->in_dtype, rgb, n, net->in_buf);
        EV_TRY(ev_session_set_input(net->session, 0, net->in_buf, net->in_bytes));
        EV_TRY(ev_session_run(net->session));
        const void *d;
        ev_tensor_info info;
        EV_TRY(ev_session_output(net->session, 0, &d, &info));
        if (max_poses < 1) return EV_OK;
        ev_movenet_decode(d, net->in_w, net->in_h, &poses[0]);
        *num_poses = 1;
        return EV_OK;
    }
    if (net->in_dtype == EV_DTYPE_U8 && net->in_zp == 128 && fabsf(net->in_scale - 0.0078125f) < 1e-9f) {
        memcpy(net->in_buf, rgb, n);
    } else if (net->in_dtype == EV_DTYPE_F32) {
        float *f = (float *)net->in_buf;
        for (size_t i = 0; i < n; i++) f[i] = (float)rgb[i] / 127.5f - 1.0f;
    } else { /* other quantization: the same real values, (p - 128) / 128 */
        int32_t lo = net->in_dtype == EV_DTYPE_U8 ? 0 : -128;
        int32_t hi = net->in_dtype == EV_DTYPE_U8 ? 255 : 127;
        for (size_t i = 0; i < n; i++) {
            float real = ((float)rgb[i] - 128.0f) / 128.0f;
            int32_t q = (int32_t)roundf(real / net->in_scale) + net->in_zp;
            q = q < lo ? lo : q > hi ? hi : q;
            if (net->in_dtype == EV_DTYPE_U8)
                net->in_buf[i] = (uint8_t)q;
            else
                ((int8_t *)net->in_buf)[i] = (int8_t)q;
        }
    }
    EV_TRY(ev_session_set_input(net->session, 0, net->in_buf, net->in_bytes));
    EV_TRY(ev_session_run(net->session));
    if (net->decoder_op >= 0 && net->opts.decoder != EV_DECODER_SINGLE)
        return read_decoder_outputs(net, poses, max_poses, num_poses);
    return decode_heads(net, poses, max_poses, num_poses);
}

ev_status ev_posenet_run(ev_posenet *net, const ev_image *img, ev_pose *poses, int max_poses,
                         int *num_poses) {
    if (!net || !img) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_posenet_run: NULL argument");
    ev_image *resized = NULL;
    EV_TRY(ev_image_resize(img, net->in_w, net->in_h, EV_RESIZE_NEAREST, &resized));
    ev_status st = ev_posenet_run_input(net, ev_image_pixels(resized), poses, max_poses, num_poses);
    ev_image_free(resized);
    return st;
}
