/*
 * classify.c - image classification: image -> model input -> session(s) -> class scores.
 *
 * Models: a TFLite classifier (one 1xHxWx3 input, one output holding N class scores, e.g. the
 * 1x1001 softmax of the MobileNets), or an embedding extractor plus a head model: the
 * extractor's one output feeds the head's one input. Composition is checked once at creation:
 * same dtype, same shape, same quantization, or EV_ERR_SHAPE naming both tensors and shapes.
 *
 * Preprocessing (what Coral's classification tests do): resize the whole image to the model
 * input (no crop) with bilinear interpolation, half-pixel centres, values truncated to uint8
 * (media/resize.c; EV_RESIZE_NEAREST on request). uint8 inputs take the pixel bytes as they
 * are (the MobileNets' input quantization, scale 1/128 and zero point 128, maps them to about
 * [-1, 1]); float32 inputs take the real value the uint8 models imply, p / 127.5 - 1; int8
 * inputs take that real value quantized with their own scale and zero point. A model that
 * declares Keras's "caffe" preprocessing (graph.preprocess = EV_PREPROCESS_CAFFE_BGR: the Keras
 * ResNet50 read from HDF5) takes float32 B, G, R minus 103.939, 116.779, 123.68, each computed
 * in float32 as Keras does ((float)p - 103.939f); Keras's own pipeline resizes with nearest, so
 * pass EV_RESIZE_NEAREST for its exact input.
 *
 * Outputs are dequantized to float: scores (last stage) and the embedding (first stage's output).
 *
 * Extend: another preprocessing (crop, mean/std) is one more option and a branch in
 * fill_input(); another output layout, a branch in create's output checks.
 */
#include "classify/classify.h"

#include "core/status.h"
#include "media/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ev_classifier_options_init(ev_classifier_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    ev_session_options_init(&o->session);
    o->resize = EV_RESIZE_BILINEAR;
}

void ev_classifier_free(ev_classifier *c) {
    if (!c) return;
    for (int i = 0; i < EV_CLASSIFIER_MAX_STAGES; i++) {
        ev_session_free(c->session[i]);
        ev_model_free(c->model[i]);
    }
    free(c->in_buf);
    free(c);
}

static const ev_tensor *graph_input(const ev_model *m) {
    return &m->graph.tensors[m->graph.inputs[0]];
}

static const ev_tensor *graph_output(const ev_model *m) {
    return &m->graph.tensors[m->graph.outputs[0]];
}

static int dequantizable(const ev_tensor *t) {
    return t->dtype == EV_DTYPE_F32 ||
           ((t->dtype == EV_DTYPE_U8 || t->dtype == EV_DTYPE_I8) && t->quant.count == 1);
}

static const char *quant_str(const ev_tensor *t, char *buf, size_t n) {
    if (t->quant.count == 1)
        snprintf(buf, n, "%s scale %.9g zero point %d", ev_dtype_name(t->dtype),
                 (double)t->quant.scale[0], t->quant.zero_point[0]);
    else if (t->quant.count > 1)
        snprintf(buf, n, "%s per-channel (%d scales)", ev_dtype_name(t->dtype), t->quant.count);
    else
        snprintf(buf, n, "%s", ev_dtype_name(t->dtype));
    return buf;
}

static int same_shape(const ev_tensor *a, const ev_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

/* The extractor's output must be exactly the head's input. */
static ev_status check_composition(const ev_model *ext, const ev_model *head) {
    const ev_graph *ge = &ext->graph, *gh = &head->graph;
    char s1[64], s2[64], q1[96], q2[96];
    if (ge->num_outputs != 1 || gh->num_inputs != 1)
        return EV_FAIL(EV_ERR_SHAPE, "cannot compose %s (%d outputs) with head %s (%d inputs): "
                       "each needs exactly one", ge->source, ge->num_outputs, gh->source,
                       gh->num_inputs);
    const ev_tensor *o = graph_output(ext), *i = graph_input(head);
    if (!same_shape(o, i))
        return EV_FAIL(EV_ERR_SHAPE, "head %s does not fit extractor %s: extractor output '%s' "
                       "has shape %s, head input '%s' has shape %s", gh->source, ge->source,
                       o->name, ev_shape_str(o, s1, 64), i->name, ev_shape_str(i, s2, 64));
    int same_q = o->dtype == i->dtype && o->quant.count == i->quant.count;
    for (int k = 0; same_q && k < o->quant.count; k++)
        if (o->quant.scale[k] != i->quant.scale[k] ||
            o->quant.zero_point[k] != i->quant.zero_point[k])
            same_q = 0;
    if (!same_q)
        return EV_FAIL(EV_ERR_SHAPE, "head %s does not fit extractor %s: extractor output '%s' "
                       "(%s, %s) and head input '%s' (%s, %s) differ in type or quantization",
                       gh->source, ge->source, o->name, ev_shape_str(o, s1, 64),
                       quant_str(o, q1, sizeof q1), i->name, ev_shape_str(i, s2, 64),
                       quant_str(i, q2, sizeof q2));
    return EV_OK;
}

static ev_status load_stage(ev_classifier *c, int k, const char *path,
                            ev_classifier_loader load, void *load_user) {
    if (load)
        EV_TRY(load(load_user, path, &c->model[k]));
    else
        EV_TRY(ev_model_load(path, &c->model[k]));
    const ev_graph *g = &c->model[k]->graph;
    if (g->num_outputs != 1) {
        char s[64];
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: a classifier has one output, this model has %d "
                       "(the first %s)", path, g->num_outputs,
                       ev_shape_str(graph_output(c->model[k]), s, 64));
    }
    const ev_tensor *o = graph_output(c->model[k]);
    if (!dequantizable(o))
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: output '%s' is %s (needs float32, or uint8/int8 "
                       "with per-tensor quantization)", path, o->name, ev_dtype_name(o->dtype));
    if (ev_tensor_elems(o) < 1 || ev_tensor_elems(o) > (1u << 26))
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: output '%s' has %zu elements", path, o->name,
                       ev_tensor_elems(o));
    return EV_OK;
}

ev_status ev_classifier_create_with(const char *model_path, const char *head_path,
                                   ev_classifier_loader load, void *load_user,
                                   const ev_classifier_options *opts, ev_classifier **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_create: out is NULL");
    *out = NULL;
    if (!model_path) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_create: model is NULL");
    ev_classifier *c = calloc(1, sizeof *c);
    if (!c) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_classifier_options_init(&c->opts);
    if (opts) c->opts = *opts;
    ev_status st;
    if (c->opts.resize != EV_RESIZE_NEAREST && c->opts.resize != EV_RESIZE_BILINEAR) {
        st = EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_create: unknown resize mode %d",
                     (int)c->opts.resize);
        goto fail;
    }
    c->num_stages = head_path ? 2 : 1;
    EV_TRY_GOTO(st, load_stage(c, 0, model_path, load, load_user), fail);
    if (head_path) {
        EV_TRY_GOTO(st, load_stage(c, 1, head_path, NULL, NULL), fail);
        EV_TRY_GOTO(st, check_composition(c->model[0], c->model[1]), fail);
    }
    const ev_graph *g = &c->model[0]->graph;
    const ev_tensor *in = graph_input(c->model[0]);
    char sh[64];
    if (g->num_inputs != 1 || in->ndim != 4 || in->dims[0] != 1 || in->dims[3] != 3 ||
        in->dims[1] < 1 || in->dims[2] < 1) {
        st = EV_FAIL(EV_ERR_SHAPE, "%s: a classifier takes one 1xHxWx3 image, this model takes "
                     "%d input(s), the first %s", model_path, g->num_inputs,
                     ev_shape_str(in, sh, 64));
        goto fail;
    }
    c->in_h = in->dims[1];
    c->in_w = in->dims[2];
    c->in_dtype = in->dtype;
    c->preprocess = g->preprocess;
    if (c->preprocess == EV_PREPROCESS_CAFFE_BGR && in->dtype != EV_DTYPE_F32) {
        st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: caffe preprocessing needs a float32 input, '%s' is "
                     "%s", model_path, in->name, ev_dtype_name(in->dtype));
        goto fail;
    }
    if (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8) {
        if (in->quant.count != 1 || !(in->quant.scale[0] > 0.0f)) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input '%s' is not per-tensor quantized",
                         model_path, in->name);
            goto fail;
        }
        c->in_scale = in->quant.scale[0];
        c->in_zp = in->quant.zero_point[0];
    } else if (in->dtype != EV_DTYPE_F32) {
        st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input '%s' has type %s (needs uint8, int8 or "
                     "float32)", model_path, in->name, ev_dtype_name(in->dtype));
        goto fail;
    }
    c->in_bytes = in->bytes;
    c->in_buf = malloc(in->bytes);
    if (!c->in_buf) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for a %zu-byte input", in->bytes);
        goto fail;
    }
    for (int k = 0; k < c->num_stages; k++)
        EV_TRY_GOTO(st, ev_session_create(c->model[k], &c->opts.session, &c->session[k]), fail);
    c->embedding_size = (int)ev_tensor_elems(graph_output(c->model[0]));
    c->num_classes = (int)ev_tensor_elems(graph_output(c->model[c->num_stages - 1]));
    *out = c;
    return EV_OK;
fail:
    ev_classifier_free(c);
    return st;
}

ev_status ev_classifier_create(const char *model_path, const char *head_path,
                               const ev_classifier_options *opts, ev_classifier **out) {
    return ev_classifier_create_with(model_path, head_path, NULL, NULL, opts, out);
}

void ev_classifier_input_size(const ev_classifier *c, int *w, int *h) {
    if (w) *w = c ? c->in_w : 0;
    if (h) *h = c ? c->in_h : 0;
}

int ev_classifier_num_classes(const ev_classifier *c) { return c ? c->num_classes : 0; }

int ev_classifier_embedding_size(const ev_classifier *c) { return c ? c->embedding_size : 0; }

ev_session *ev_classifier_session(ev_classifier *c, int stage) {
    return c && stage >= 0 && stage < c->num_stages ? c->session[stage] : NULL;
}

/* Model input bytes from n model-size RGB bytes, by the input's preprocessing, type and
 * quantization (the classifier's convention, documented in edgevision.h). */
static void fill_pixels(ev_preprocess pp, ev_dtype dtype, float scale, int32_t zp,
                        const uint8_t *rgb, size_t n, void *out) {
    if (pp == EV_PREPROCESS_CAFFE_BGR) { /* checked float32 by the callers */
        float *f = (float *)out;
        for (size_t i = 0; i < n; i += 3) {
            f[i + 0] = (float)rgb[i + 2] - 103.939f;
            f[i + 1] = (float)rgb[i + 1] - 116.779f;
            f[i + 2] = (float)rgb[i + 0] - 123.68f;
        }
    } else if (dtype == EV_DTYPE_U8) {
        memcpy(out, rgb, n);
    } else if (dtype == EV_DTYPE_F32) {
        float *f = (float *)out;
        for (size_t i = 0; i < n; i++) f[i] = (float)rgb[i] / 127.5f - 1.0f;
    } else {
        int8_t *q = (int8_t *)out;
        for (size_t i = 0; i < n; i++) {
            float real = (float)rgb[i] / 127.5f - 1.0f;
            int32_t v = (int32_t)roundf(real / scale) + zp;
            q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
}

static void fill_input(ev_classifier *c, const uint8_t *rgb) {
    size_t n = (size_t)c->in_w * (size_t)c->in_h * 3;
    fill_pixels(c->preprocess, c->in_dtype, c->in_scale, c->in_zp, rgb, n, c->in_buf);
}

ev_status ev_model_image_input(const ev_model *model, const ev_image *img, ev_resize_mode mode,
                               void *out, size_t bytes) {
    if (!model || !img || !out)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_image_input: NULL argument");
    const ev_graph *g = &model->graph;
    const ev_tensor *in = &g->tensors[g->inputs[0]];
    char sh[64];
    if (in->ndim != 4 || in->dims[0] != 1 || in->dims[3] != 3 || in->dims[1] < 1 ||
        in->dims[2] < 1)
        return EV_FAIL(EV_ERR_SHAPE, "%s: input 0 '%s' is %s, not an image (1xHxWx3)", g->source,
                       in->name, ev_shape_str(in, sh, sizeof sh));
    float scale = 0;
    int32_t zp = 0;
    if (g->preprocess == EV_PREPROCESS_CAFFE_BGR && in->dtype != EV_DTYPE_F32)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: caffe preprocessing needs a float32 input",
                       g->source);
    if (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8) {
        if (in->quant.count != 1 || !(in->quant.scale[0] > 0.0f))
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input '%s' is not per-tensor quantized",
                           g->source, in->name);
        scale = in->quant.scale[0];
        zp = in->quant.zero_point[0];
    } else if (in->dtype != EV_DTYPE_F32) {
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: input '%s' has type %s (an image input needs "
                       "uint8, int8 or float32)", g->source, in->name, ev_dtype_name(in->dtype));
    }
    if (bytes != in->bytes)
        return EV_FAIL(EV_ERR_SHAPE, "%s: input '%s' takes %zu bytes, the buffer has %zu",
                       g->source, in->name, in->bytes, bytes);
    int w = in->dims[2], h = in->dims[1];
    ev_image *resized = NULL;
    const uint8_t *px = ev_image_pixels(img);
    if (ev_image_width(img) != w || ev_image_height(img) != h) {
        EV_TRY(ev_image_resize(img, w, h, mode, &resized));
        px = ev_image_pixels(resized);
    }
    fill_pixels(g->preprocess, in->dtype, scale, zp, px, (size_t)w * (size_t)h * 3, out);
    ev_image_free(resized);
    return EV_OK;
}

/* Runs stages [0, last] on `img`. */
static ev_status run_stages(ev_classifier *c, const ev_image *img, int last) {
    ev_image *resized = NULL;
    const uint8_t *px;
    if (ev_image_width(img) == c->in_w && ev_image_height(img) == c->in_h) {
        px = ev_image_pixels(img);
    } else {
        EV_TRY(ev_image_resize(img, c->in_w, c->in_h, c->opts.resize, &resized));
        px = ev_image_pixels(resized);
    }
    fill_input(c, px);
    ev_image_free(resized);
    EV_TRY(ev_session_set_input(c->session[0], 0, c->in_buf, c->in_bytes));
    EV_TRY(ev_session_run(c->session[0]));
    for (int k = 1; k <= last; k++) {
        const void *data;
        ev_tensor_info info;
        EV_TRY(ev_session_output(c->session[k - 1], 0, &data, &info));
        EV_TRY(ev_session_set_input(c->session[k], 0, data, info.bytes));
        EV_TRY(ev_session_run(c->session[k]));
    }
    return EV_OK;
}

/* Output 0 of stage k as floats into out[0, n). */
static ev_status read_floats(ev_classifier *c, int k, float *out, size_t n) {
    const void *data;
    ev_tensor_info info;
    EV_TRY(ev_session_output(c->session[k], 0, &data, &info));
    size_t elems = info.bytes / ev_dtype_size(info.dtype);
    if (n < elems)
        return EV_FAIL(EV_ERR_INVALID_ARG, "output buffer holds %zu floats, %zu needed", n, elems);
    for (size_t i = 0; i < elems; i++) {
        switch (info.dtype) {
        case EV_DTYPE_F32: out[i] = ((const float *)data)[i]; break;
        case EV_DTYPE_U8:
            out[i] = info.scale * (float)((int32_t)((const uint8_t *)data)[i] - info.zero_point);
            break;
        case EV_DTYPE_I8:
            out[i] = info.scale * (float)((int32_t)((const int8_t *)data)[i] - info.zero_point);
            break;
        default: return EV_FAIL(EV_ERR_INTERNAL, "classifier output type checked at creation");
        }
    }
    return EV_OK;
}

ev_status ev_classifier_scores(ev_classifier *c, const ev_image *img, float *scores, size_t n) {
    if (!c || !img || !scores)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_scores: NULL argument");
    EV_TRY(run_stages(c, img, c->num_stages - 1));
    return read_floats(c, c->num_stages - 1, scores, n);
}

ev_status ev_classifier_embedding(ev_classifier *c, const ev_image *img, float *out, size_t n) {
    if (!c || !img || !out)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_embedding: NULL argument");
    if (n < (size_t)c->embedding_size)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_embedding: buffer holds %zu floats, the "
                       "embedding has %d", n, c->embedding_size);
    EV_TRY(run_stages(c, img, 0));
    return read_floats(c, 0, out, n);
}

int ev_classifier_top_k_of(const float *scores, int n, int k, ev_class_score *out) {
    if (!scores || !out || n < 1 || k < 1) return 0;
    if (k > n) k = n;
    int m = 0;
    for (int i = 0; i < n; i++) {
        float s = scores[i];
        if (m == k && !(s > out[m - 1].score)) continue; /* ties keep the lower class id */
        int j = m < k ? m++ : k - 1;
        while (j > 0 && s > out[j - 1].score) {
            out[j] = out[j - 1];
            j--;
        }
        out[j].class_id = i;
        out[j].score = s;
    }
    return m;
}

ev_status ev_classifier_top_k(ev_classifier *c, const ev_image *img, int k, ev_class_score *out,
                              int *count) {
    if (!c || !img || !out || !count)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_top_k: NULL argument");
    *count = 0;
    if (k < 1) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_classifier_top_k: k = %d", k);
    float *scores = malloc(sizeof(float) * (size_t)c->num_classes);
    if (!scores) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_classifier_scores(c, img, scores, (size_t)c->num_classes);
    if (st == EV_OK) *count = ev_classifier_top_k_of(scores, c->num_classes, k, out);
    free(scores);
    return st;
}
