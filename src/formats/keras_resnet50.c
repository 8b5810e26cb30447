/*
 * keras_resnet50.c - Keras ResNet50 (keras.applications, resnet.py) built from its HDF5 weights,
 * exactly as Keras computes it (spec: shared/docs/transfer-learning.md section 1; docs/keras.md).
 *
 *   input 1xHxWx3 float32, caffe-preprocessed BGR (ev_graph.preprocess = CAFFE_BGR)
 *   stem:   PAD 3 -> conv1 7x7/2 VALID (+BN, ReLU) -> PAD 1 -> MAX_POOL 3x3/2 VALID
 *   stages: conv2..conv5 with 3, 4, 6, 3 bottleneck blocks, f = 64, 128, 256, 512, stride 1, 2,
 *           2, 2 on the first 1x1 of each conv block (and on its projection shortcut _0_conv);
 *           1x1 VALID -> 3x3 SAME (symmetric pad 1) -> 1x1, ADD with fused ReLU
 *   top:    MEAN over H, W (global average pooling) -> [1, 2048]; with include_top, then
 *           FULLY_CONNECTED (predictions) -> SOFTMAX
 * Every BatchNormalization (moving statistics, epsilon 1.001e-5) is folded into its convolution
 * at load, in double: s = gamma / sqrt(var + eps), W' = W s, b' = (b - mean) s + beta. Kernels
 * are read HWIO and stored OHWI (TFLite's layout); the dense kernel [in][out] becomes [out][in].
 * Weights are looked up by the names in each layer's weight_names and their shapes checked
 * against the architecture, so a missing layer or a wrong shape is an error naming the layer.
 *
 * The legacy file (keras-applications resnet50.py: conv1/bn_conv1/res2a_branch2a/bn2a_branch2a/
 * fc1000, Keras-1 weight names W/b/running_mean/running_std) is mapped: same topology, BN
 * epsilon 1e-3, and the max pool is padded only when the file lists its 'pool1_pad' layer (Keras
 * 2.2+; older Keras pooled the 112x112 map unpadded to 55x55).
 *
 * Extend: ResNet101/152 differ only in the block counts (k_blocks); another architecture is
 * another builder dispatched from ev_keras_h5_parse().
 */
#include "formats/keras_resnet50.h"

#include "core/graph_builder.h"
#include "core/model.h"
#include "core/status.h"
#include "formats/keras_h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS_RESNET 1.001e-5 /* resnet.py: BatchNormalization(epsilon=1.001e-5) */
#define EPS_LEGACY 1e-3     /* resnet50.py: Keras's default epsilon             */
#define FEATURES 2048

static const int k_blocks[4] = {3, 4, 6, 3};
static const int k_filters[4] = {64, 128, 256, 512};

typedef struct rn {
    gb b;
    ev_h5w *f;
    const char *what;
    int legacy;
    double eps;
    float *raw, *tmp; /* scratch: one layer's weights as read, and transformed */
    size_t cap;       /* floats in each scratch buffer */
} rn;

void ev_keras_options_init(ev_keras_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->input_width = 224;
    o->input_height = 224;
    o->include_top = -1;
}

/* Keras layer names of conv k (0: projection shortcut, 1..3: main path) of block `block` of
 * stage `stage` (1: the stem). */
static void layer_names(const rn *r, int stage, int block, int k, char *conv, char *bn) {
    static const char *const legacy_branch[4] = {"1", "2a", "2b", "2c"};
    if (stage == 1 && !r->legacy) {
        strcpy(conv, "conv1_conv");
        strcpy(bn, "conv1_bn");
    } else if (stage == 1) {
        strcpy(conv, "conv1");
        strcpy(bn, "bn_conv1");
    } else if (!r->legacy) {
        snprintf(conv, 64, "conv%d_block%d_%d_conv", stage, block, k);
        snprintf(bn, 64, "conv%d_block%d_%d_bn", stage, block, k);
    } else {
        snprintf(conv, 64, "res%d%c_branch%s", stage, 'a' + block - 1, legacy_branch[k]);
        snprintf(bn, 64, "bn%d%c_branch%s", stage, 'a' + block - 1, legacy_branch[k]);
    }
}

/* The weight of `layer` playing `role` (Keras 2 name, or its Keras 1 alias): the entry of
 * weight_names whose last path part, without ":0", is the role or ends in "_<alias>". NULL when
 * none. */
static const char *find_weight(char **names, const char *role, const char *alias) {
    for (char **p = names; p && *p; p++) {
        const char *base = strrchr(*p, '/');
        base = base ? base + 1 : *p;
        size_t n = strcspn(base, ":");
        if (n == strlen(role) && strncmp(base, role, n) == 0) return *p;
        size_t a = strlen(alias);
        if (alias[0] && n > a && base[n - a - 1] == '_' && strncmp(base + n - a, alias, a) == 0)
            return *p;
    }
    return NULL;
}

static ev_status need_weight(const rn *r, const char *layer, char **names, int count,
                             const char *role, const char *alias, const char **out) {
    *out = find_weight(names, role, alias);
    if (!*out) {
        char list[400] = "";
        size_t k = 0;
        for (int i = 0; i < count && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s'%s'", i ? ", " : "", names[i]);
        return EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s' has no '%s' weight (weight_names: %s)",
                       r->what, layer, role, count ? list : "none");
    }
    return EV_OK;
}

static ev_status grow(rn *r, size_t n) {
    if (n <= r->cap) return EV_OK;
    free(r->raw);
    free(r->tmp);
    r->raw = malloc(n * sizeof(float));
    r->tmp = malloc(n * sizeof(float));
    r->cap = r->raw && r->tmp ? n : 0;
    if (!r->cap) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for %zu weights", n);
    return EV_OK;
}

static ev_status check_finite(const rn *r, const char *layer, const char *weight, const float *v,
                              size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': '%s' holds a non-finite value (%g) at "
                           "element %zu", r->what, layer, weight, (double)v[i], i);
    return EV_OK;
}

/* Reads a [n] vector weight of `layer` into dst. */
static ev_status read_vec(rn *r, const char *layer, char **names, int count, const char *role,
                          const char *alias, int n, float *dst) {
    const char *w;
    EV_TRY(need_weight(r, layer, names, count, role, alias, &w));
    EV_TRY(ev_h5w_read(r->f, layer, w, 1, &n, "[channels]", dst));
    return check_finite(r, layer, w, dst, (size_t)n);
}

/* Conv `conv` (k x k, cin -> cout) with BN `bn` folded in, as OHWI weights and a bias, added to
 * the graph; *w_t and *b_t receive their tensors. */
static ev_status conv_bn_weights(rn *r, const char *conv, const char *bn, int k, int cin,
                                 int cout, int *w_t, int *b_t) {
    size_t kn = (size_t)k * k * cin * cout;
    EV_TRY(grow(r, kn));
    char **names = NULL;
    int count = 0;
    ev_status st;
    double *bias = calloc((size_t)cout, sizeof *bias);
    float *v = malloc(sizeof(float) * 4 * (size_t)cout);
    if (!bias || !v) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    /* convolution: kernel HWIO, bias optional */
    EV_TRY_GOTO(st, ev_h5w_weight_names(r->f, conv, &names, &count), done);
    const char *kw;
    EV_TRY_GOTO(st, need_weight(r, conv, names, count, "kernel", "W", &kw), done);
    int kd[4] = {k, k, cin, cout};
    EV_TRY_GOTO(st, ev_h5w_read(r->f, conv, kw, 4, kd, "HWIO: kh x kw x in x out", r->raw), done);
    EV_TRY_GOTO(st, check_finite(r, conv, kw, r->raw, kn), done);
    if (find_weight(names, "bias", "b")) {
        EV_TRY_GOTO(st, read_vec(r, conv, names, count, "bias", "b", cout, v), done);
        for (int o = 0; o < cout; o++) bias[o] = v[o];
    }
    ev_h5w_free_names(names);
    names = NULL;
    /* batch normalization: gamma, beta, moving mean, moving variance */
    EV_TRY_GOTO(st, ev_h5w_weight_names(r->f, bn, &names, &count), done);
    float *gamma = v, *beta = v + cout, *mean = v + 2 * cout, *var = v + 3 * cout;
    EV_TRY_GOTO(st, read_vec(r, bn, names, count, "gamma", "gamma", cout, gamma), done);
    EV_TRY_GOTO(st, read_vec(r, bn, names, count, "beta", "beta", cout, beta), done);
    EV_TRY_GOTO(st, read_vec(r, bn, names, count, "moving_mean", "running_mean", cout, mean),
                done);
    EV_TRY_GOTO(st, read_vec(r, bn, names, count, "moving_variance", "running_std", cout, var),
                done);
    float *bf = malloc(sizeof(float) * (size_t)cout);
    if (!bf) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int o = 0; o < cout; o++) {
        if (!((double)var[o] + r->eps > 0.0)) {
            free(bf);
            st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': moving_variance[%d] = %g is negative",
                         r->what, bn, o, (double)var[o]);
            goto done;
        }
        double s = (double)gamma[o] / sqrt((double)var[o] + r->eps);
        bf[o] = (float)((bias[o] - (double)mean[o]) * s + (double)beta[o]);
        const size_t taps = (size_t)k * k * cin;
        for (size_t t = 0; t < taps; t++) /* HWIO [t][o] -> OHWI [o][t] */
            r->tmp[(size_t)o * taps + t] = (float)((double)r->raw[t * (size_t)cout + o] * s);
    }
    int od[4] = {cout, k, k, cin}, bd[1] = {cout};
    *w_t = gb_tensor(&r->b, conv, EV_DTYPE_F32, 4, od, r->tmp, kn * sizeof(float), 0, NULL, NULL,
                     0);
    *b_t = gb_tensor(&r->b, bn, EV_DTYPE_F32, 1, bd, bf, (size_t)cout * sizeof(float), 0, NULL,
                     NULL, 0);
    free(bf);
    st = EV_OK;
done:
    ev_h5w_free_names(names);
    free(bias);
    free(v);
    return st;
}

static int act_tensor(rn *r, const char *name, int h, int w, int c) {
    int d[4] = {1, h, w, c};
    return gb_tensor_q(&r->b, name, EV_DTYPE_F32, 4, d, NULL, 0.0f, 0);
}

/* conv + folded BN (+ ReLU) from tensor `in` (h x w x cin); *out and its size returned. */
static ev_status conv_bn(rn *r, int stage, int block, int k_idx, int in, int h, int w, int cin,
                         int k, int cout, int stride, ev_padding pad, ev_activation act,
                         const char *out_name, int *out, int *oh, int *ow) {
    char conv[64], bn[64];
    layer_names(r, stage, block, k_idx, conv, bn);
    int wt = -1, bt = -1;
    EV_TRY(conv_bn_weights(r, conv, bn, k, cin, cout, &wt, &bt));
    *oh = ev_conv_out_size(pad, h, k, stride, 1);
    *ow = ev_conv_out_size(pad, w, k, stride, 1);
    *out = act_tensor(r, out_name, *oh, *ow, cout);
    ev_conv_params p = {pad, stride, stride, 1, 1, 0, act};
    gb_op_conv(&r->b, EV_OP_CONV_2D, in, wt, bt, *out, p);
    return EV_OK;
}

static int pad_op(rn *r, int in, int h, int w, int c, int p, const char *name) {
    int32_t pads[8] = {0, 0, p, p, p, p, 0, 0};
    int pd[2] = {4, 2};
    char pn[80];
    snprintf(pn, sizeof pn, "%s/paddings", name);
    int pt = gb_tensor(&r->b, pn, EV_DTYPE_I32, 2, pd, pads, sizeof pads, 0, NULL, NULL, 0);
    int out = act_tensor(r, name, h + 2 * p, w + 2 * p, c);
    int ins[2] = {in, pt};
    gb_op(&r->b, EV_OP_PAD, "PAD", 34, 2, ins, 1, &out);
    return out;
}

/* One bottleneck block; returns its output tensor in *x (size *h x *w x 4f). */
static ev_status block(rn *r, int stage, int blk, int *x, int *h, int *w, int *c) {
    const int f = k_filters[stage - 2];
    const int stride = blk == 1 && stage > 2 ? 2 : 1;
    char nm[96];
    int shortcut = *x, sh = *h, sw = *w;
    if (blk == 1) {
        snprintf(nm, sizeof nm, "conv%d_block%d_0_bn", stage, blk);
        EV_TRY(conv_bn(r, stage, blk, 0, *x, *h, *w, *c, 1, 4 * f, stride, EV_PAD_VALID,
                       EV_ACT_NONE, nm, &shortcut, &sh, &sw));
    }
    int t1, t2, t3, h1, w1, h2, w2, h3, w3;
    snprintf(nm, sizeof nm, "conv%d_block%d_1_relu", stage, blk);
    EV_TRY(conv_bn(r, stage, blk, 1, *x, *h, *w, *c, 1, f, stride, EV_PAD_VALID, EV_ACT_RELU, nm,
                   &t1, &h1, &w1));
    snprintf(nm, sizeof nm, "conv%d_block%d_2_relu", stage, blk);
    EV_TRY(conv_bn(r, stage, blk, 2, t1, h1, w1, f, 3, f, 1, EV_PAD_SAME, EV_ACT_RELU, nm, &t2,
                   &h2, &w2));
    snprintf(nm, sizeof nm, "conv%d_block%d_3_bn", stage, blk);
    EV_TRY(conv_bn(r, stage, blk, 3, t2, h2, w2, f, 1, 4 * f, 1, EV_PAD_VALID, EV_ACT_NONE, nm,
                   &t3, &h3, &w3));
    if (h3 != sh || w3 != sw)
        return EV_FAIL(EV_ERR_INTERNAL, "%s: block conv%d_block%d: paths of %dx%d and %dx%d",
                       r->what, stage, blk, h3, w3, sh, sw);
    snprintf(nm, sizeof nm, "conv%d_block%d_out", stage, blk);
    int out = act_tensor(r, nm, h3, w3, 4 * f);
    int ins[2] = {t3, shortcut};
    int op = gb_op(&r->b, EV_OP_ADD, "ADD", 0, 2, ins, 1, &out);
    if (op >= 0) r->b.g.ops[op].p.add.activation = EV_ACT_RELU;
    *x = out;
    *h = h3;
    *w = w3;
    *c = 4 * f;
    return EV_OK;
}

/* The dense top: FULLY_CONNECTED (weights [classes][2048]) + SOFTMAX from the pooled [1, 2048]. */
static ev_status top(rn *r, const char *layer, int pooled, int *out) {
    char **names = NULL;
    int count = 0, nd = 0, dims[EV_MAX_DIMS];
    const char *kw, *bw;
    ev_status st;
    float *bias = NULL;
    EV_TRY(ev_h5w_weight_names(r->f, layer, &names, &count));
    EV_TRY_GOTO(st, need_weight(r, layer, names, count, "kernel", "W", &kw), done);
    EV_TRY_GOTO(st, need_weight(r, layer, names, count, "bias", "b", &bw), done);
    EV_TRY_GOTO(st, ev_h5w_shape(r->f, layer, kw, &nd, dims), done);
    if (nd != 2 || dims[0] != FEATURES || dims[1] < 1 || dims[1] > 1000000) {
        st = EV_FAIL(EV_ERR_SHAPE, "%s: layer '%s': kernel '%s' must be [2048][classes] (the "
                     "pooled features in), has %d dimensions (%d x %d)", r->what, layer, kw, nd,
                     nd > 0 ? dims[0] : 0, nd > 1 ? dims[1] : 0);
        goto done;
    }
    const int classes = dims[1];
    const size_t n = (size_t)FEATURES * classes;
    EV_TRY_GOTO(st, grow(r, n), done);
    EV_TRY_GOTO(st, ev_h5w_read(r->f, layer, kw, 2, dims, "[in][out]", r->raw), done);
    EV_TRY_GOTO(st, check_finite(r, layer, kw, r->raw, n), done);
    bias = malloc(sizeof(float) * (size_t)classes);
    if (!bias) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    EV_TRY_GOTO(st, read_vec(r, layer, names, count, "bias", "b", classes, bias), done);
    for (int o = 0; o < classes; o++)
        for (int i = 0; i < FEATURES; i++)
            r->tmp[(size_t)o * FEATURES + i] = r->raw[(size_t)i * classes + o];
    int wd[2] = {classes, FEATURES}, bd[1] = {classes}, od[2] = {1, classes};
    int wt = gb_tensor(&r->b, kw, EV_DTYPE_F32, 2, wd, r->tmp, n * sizeof(float), 0, NULL, NULL,
                       0);
    int bt = gb_tensor(&r->b, bw, EV_DTYPE_F32, 1, bd, bias, (size_t)classes * sizeof(float), 0,
                       NULL, NULL, 0);
    int logits = gb_tensor_q(&r->b, "predictions/logits", EV_DTYPE_F32, 2, od, NULL, 0.0f, 0);
    int ins[3] = {pooled, wt, bt};
    gb_op(&r->b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, ins, 1, &logits);
    *out = gb_tensor_q(&r->b, "predictions", EV_DTYPE_F32, 2, od, NULL, 0.0f, 0);
    int op = gb_op(&r->b, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &logits, 1, out);
    if (op >= 0) r->b.g.ops[op].p.softmax.beta = 1.0f;
    st = EV_OK;
done:
    free(bias);
    ev_h5w_free_names(names);
    return st;
}

static ev_status build(rn *r, const ev_keras_options *o, ev_graph *out) {
    const int H = o->input_height, W = o->input_width;
    if (H < 32 || W < 32 || H > 8192 || W > 8192)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: ResNet50 input %dx%d: width and height must be in "
                       "[32, 8192] (Keras's minimum is 32)", r->what, W, H);
    /* which naming: resnet.py (target) or the legacy resnet50.py */
    if (ev_h5w_has_layer(r->f, "conv1_conv")) {
        r->legacy = 0;
        r->eps = EPS_RESNET;
    } else if (ev_h5w_has_layer(r->f, "res2a_branch2a") || ev_h5w_has_layer(r->f, "bn_conv1")) {
        r->legacy = 1;
        r->eps = EPS_LEGACY;
    } else {
        int n = ev_h5w_num_layers(r->f);
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: not a Keras ResNet50 weights file: no layer "
                       "'conv1_conv' (resnet.py naming) or 'res2a_branch2a' (legacy resnet50.py "
                       "naming); its %d layers run from '%s' to '%s'", r->what, n,
                       n ? ev_h5w_layer(r->f, 0) : "", n ? ev_h5w_layer(r->f, n - 1) : "");
    }
    const char *top_name = r->legacy ? "fc1000" : "predictions";
    int has_top = ev_h5w_has_layer(r->f, top_name);
    if (o->include_top == 1 && !has_top)
        return EV_FAIL(EV_ERR_FORMAT, "%s: include_top requested, but the file has no '%s' layer "
                       "(a _notop weights file?)", r->what, top_name);
    int want_top = o->include_top < 0 ? has_top : o->include_top;
    int pool_pad = !r->legacy || ev_h5w_has_layer(r->f, "pool1_pad");

    int d[4] = {1, H, W, 3};
    int x = gb_tensor_q(&r->b, "input_1", EV_DTYPE_F32, 4, d, NULL, 0.0f, 0);
    int input = x, h = H, w = W, c = 3;
    x = pad_op(r, x, h, w, c, 3, "conv1_pad");
    h += 6;
    w += 6;
    EV_TRY(conv_bn(r, 1, 0, 0, x, h, w, 3, 7, 64, 2, EV_PAD_VALID, EV_ACT_RELU, "conv1_relu", &x,
                   &h, &w));
    c = 64;
    if (pool_pad) {
        x = pad_op(r, x, h, w, c, 1, "pool1_pad");
        h += 2;
        w += 2;
    }
    int oh = ev_conv_out_size(EV_PAD_VALID, h, 3, 2, 1), ow = ev_conv_out_size(EV_PAD_VALID, w, 3,
                                                                                 2, 1);
    int pooled = act_tensor(r, "pool1_pool", oh, ow, c);
    int op = gb_op(&r->b, EV_OP_MAX_POOL_2D, "MAX_POOL_2D", 17, 1, &x, 1, &pooled);
    if (op >= 0) r->b.g.ops[op].p.pool = (ev_pool_params){EV_PAD_VALID, 2, 2, 3, 3, EV_ACT_NONE};
    x = pooled;
    h = oh;
    w = ow;
    for (int s = 2; s <= 5; s++)
        for (int bl = 1; bl <= k_blocks[s - 2]; bl++) EV_TRY(block(r, s, bl, &x, &h, &w, &c));
    /* global average pooling */
    int32_t axes[2] = {1, 2};
    int ad[1] = {2}, fd[2] = {1, FEATURES};
    int at = gb_tensor(&r->b, "avg_pool/axes", EV_DTYPE_I32, 1, ad, axes, sizeof axes, 0, NULL,
                       NULL, 0);
    int feat = gb_tensor_q(&r->b, "avg_pool", EV_DTYPE_F32, 2, fd, NULL, 0.0f, 0);
    int mins[2] = {x, at};
    gb_op(&r->b, EV_OP_MEAN, "MEAN", 40, 2, mins, 1, &feat); /* keep_dims 0 */
    int result = feat;
    if (want_top) EV_TRY(top(r, top_name, feat, &result));
    gb_inputs(&r->b, 1, &input);
    gb_outputs(&r->b, 1, &result);

    char desc[256];
    snprintf(desc, sizeof desc, "Keras ResNet50 (%s naming, BN epsilon %g, keras_version '%s', "
             "backend '%s'), %dx%d input, %s", r->legacy ? "legacy resnet50.py" : "resnet.py",
             r->eps, ev_h5w_root_attr(r->f, "keras_version"), ev_h5w_root_attr(r->f, "backend"),
             W, H, want_top ? "with its classification top" : "no top: 2048 pooled features");
    char *dsc = strdup(desc), *src = strdup(r->what);
    free(r->b.g.source);
    r->b.g.source = src;
    r->b.g.description = dsc;
    if (!dsc || !src) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    r->b.g.preprocess = EV_PREPROCESS_CAFFE_BGR;
    ev_model *m = NULL;
    if (gb_finish(&r->b, &m) != EV_OK)
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: building the ResNet50 graph: %s", r->what, r->b.msg);
    *out = m->graph;
    free(m);
    return EV_OK;
}

ev_status ev_keras_h5_parse(uint8_t *bytes, size_t size, const char *what,
                            const ev_keras_options *opts, ev_graph *out) {
    memset(out, 0, sizeof *out);
    ev_keras_options o;
    ev_keras_options_init(&o);
    if (opts) o = *opts;
    rn r;
    memset(&r, 0, sizeof r);
    r.what = what ? what : "<memory>";
    ev_status st = ev_h5w_open(bytes, size, r.what, &r.f);
    free(bytes); /* HDF5 holds its own copy */
    if (st != EV_OK) return st;
    gb_init(&r.b);
    st = build(&r, &o, out);
    if (st != EV_OK) gb_release(&r.b); /* gb_finish released it otherwise */
    ev_h5w_close(r.f);
    free(r.raw);
    free(r.tmp);
    return st;
}
