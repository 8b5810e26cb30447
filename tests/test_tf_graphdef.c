/*
 * test_tf_graphdef.c - the TensorFlow GraphDef loader (formats/tf_graphdef.c), op by op.
 *
 * Each test builds a small GraphDef in memory with the protobuf-c code generated from
 * src/formats/tf_proto/tf_graph.proto, loads it (ev_model_load_memory, named *.pb), runs it on
 * "ref" and compares with a double-precision computation written here from TensorFlow's
 * definitions (HWIO filters, SAME padding pad_before = total / 2, ...): max|y - ref| / max|ref|
 * must be below 1e-5. Then malformed graphs (each a clear error, never a crash) and the real
 * PoseNet 0.50 float graph (shapes, free input size, truncations).
 *
 * To test another op: build its node with the n_*() / a_*() helpers, run_graph(), and compare
 * with a direct computation.
 */
#include "edgevision.h"
#include "ev_test.h"
#include "util.h"
#include "tf_graph.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef Edgevision__Tf__NodeDef NodeDef;
typedef Edgevision__Tf__AttrValue AttrValue;

/* ---- a GraphDef under construction: everything malloc'd goes into one list ---------------- */

typedef struct tg {
    NodeDef *nodes[64];
    int n;
    void *mem[4096];
    int nmem;
} tg;

static void *gmem(tg *g, size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (g->nmem < 4096) g->mem[g->nmem++] = p;
    return p;
}

static char *gstr(tg *g, const char *s) {
    char *d = gmem(g, strlen(s) + 1);
    strcpy(d, s);
    return d;
}

static void tg_free(tg *g) {
    for (int i = 0; i < g->nmem; i++) free(g->mem[i]);
    g->nmem = 0;
    g->n = 0;
}

/* Node `name` of type `op` with up to 6 inputs (NULL-terminated). */
static NodeDef *n_node(tg *g, const char *name, const char *op, const char *in0, const char *in1,
                       const char *in2) {
    NodeDef *nd = gmem(g, sizeof *nd);
    edgevision__tf__node_def__init(nd);
    nd->name = gstr(g, name);
    nd->op = gstr(g, op);
    const char *ins[3] = {in0, in1, in2};
    nd->input = gmem(g, sizeof(char *) * 6);
    for (int i = 0; i < 3 && ins[i]; i++) nd->input[nd->n_input++] = gstr(g, ins[i]);
    nd->attr = gmem(g, sizeof(void *) * 8);
    g->nodes[g->n++] = nd;
    return nd;
}

static void n_add_input(tg *g, NodeDef *nd, const char *in) {
    nd->input[nd->n_input++] = gstr(g, in);
}

static AttrValue *a_new(tg *g, NodeDef *nd, const char *key) {
    Edgevision__Tf__NodeDef__AttrEntry *e = gmem(g, sizeof *e);
    edgevision__tf__node_def__attr_entry__init(e);
    e->key = gstr(g, key);
    e->value = gmem(g, sizeof *e->value);
    edgevision__tf__attr_value__init(e->value);
    nd->attr[nd->n_attr++] = e;
    return e->value;
}

static void a_s(tg *g, NodeDef *nd, const char *key, const char *s) {
    AttrValue *v = a_new(g, nd, key);
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_S;
    v->s.data = (uint8_t *)gstr(g, s);
    v->s.len = strlen(s);
}

static void a_type(tg *g, NodeDef *nd, const char *key, int dt) {
    AttrValue *v = a_new(g, nd, key);
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_TYPE;
    v->type = (Edgevision__Tf__DataType)dt;
}

static void a_b(tg *g, NodeDef *nd, const char *key, int b) {
    AttrValue *v = a_new(g, nd, key);
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_B;
    v->b = b;
}

static void a_f(tg *g, NodeDef *nd, const char *key, float f) {
    AttrValue *v = a_new(g, nd, key);
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_F;
    v->f = f;
}

static void a_ints(tg *g, NodeDef *nd, const char *key, int n, const int64_t *vals) {
    AttrValue *v = a_new(g, nd, key);
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_LIST;
    v->list = gmem(g, sizeof *v->list);
    edgevision__tf__attr_value__list_value__init(v->list);
    v->list->i = gmem(g, sizeof(int64_t) * (size_t)n);
    memcpy(v->list->i, vals, sizeof(int64_t) * (size_t)n);
    v->list->n_i = (size_t)n;
}

static void a_hw(tg *g, NodeDef *nd, const char *key, int h, int w) {
    int64_t v[4] = {1, h, w, 1};
    a_ints(g, nd, key, 4, v);
}

static Edgevision__Tf__TensorShapeProto *shape_proto(tg *g, int nd, const int *dims) {
    Edgevision__Tf__TensorShapeProto *sp = gmem(g, sizeof *sp);
    edgevision__tf__tensor_shape_proto__init(sp);
    sp->dim = gmem(g, sizeof(void *) * (size_t)(nd ? nd : 1));
    for (int i = 0; i < nd; i++) {
        sp->dim[i] = gmem(g, sizeof *sp->dim[i]);
        edgevision__tf__tensor_shape_proto__dim__init(sp->dim[i]);
        sp->dim[i]->size = dims[i];
    }
    sp->n_dim = (size_t)nd;
    return sp;
}

static NodeDef *n_placeholder(tg *g, const char *name, int nd, const int *dims) {
    NodeDef *n = n_node(g, name, "Placeholder", NULL, NULL, NULL);
    a_type(g, n, "dtype", EDGEVISION__TF__DATA_TYPE__DT_FLOAT);
    AttrValue *v = a_new(g, n, "shape");
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_SHAPE;
    v->shape = shape_proto(g, nd, dims);
    return n;
}

/* Float constant through tensor_content (raw bytes), as TensorFlow writes weights. */
static NodeDef *n_const_f(tg *g, const char *name, int nd, const int *dims, const float *data) {
    NodeDef *n = n_node(g, name, "Const", NULL, NULL, NULL);
    a_type(g, n, "dtype", EDGEVISION__TF__DATA_TYPE__DT_FLOAT);
    AttrValue *v = a_new(g, n, "value");
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_TENSOR;
    v->tensor = gmem(g, sizeof *v->tensor);
    edgevision__tf__tensor_proto__init(v->tensor);
    v->tensor->dtype = EDGEVISION__TF__DATA_TYPE__DT_FLOAT;
    v->tensor->tensor_shape = shape_proto(g, nd, dims);
    size_t e = 1;
    for (int i = 0; i < nd; i++) e *= (size_t)dims[i];
    v->tensor->tensor_content.data = gmem(g, e * 4);
    memcpy(v->tensor->tensor_content.data, data, e * 4);
    v->tensor->tensor_content.len = e * 4;
    return n;
}

/* int32 constant through int_val (the other encoding). */
static NodeDef *n_const_i(tg *g, const char *name, int nd, const int *dims, const int32_t *data,
                          int nvals) {
    NodeDef *n = n_node(g, name, "Const", NULL, NULL, NULL);
    a_type(g, n, "dtype", EDGEVISION__TF__DATA_TYPE__DT_INT32);
    AttrValue *v = a_new(g, n, "value");
    v->value_case = EDGEVISION__TF__ATTR_VALUE__VALUE_TENSOR;
    v->tensor = gmem(g, sizeof *v->tensor);
    edgevision__tf__tensor_proto__init(v->tensor);
    v->tensor->dtype = EDGEVISION__TF__DATA_TYPE__DT_INT32;
    v->tensor->tensor_shape = shape_proto(g, nd, dims);
    v->tensor->int_val = gmem(g, sizeof(int32_t) * (size_t)nvals);
    memcpy(v->tensor->int_val, data, sizeof(int32_t) * (size_t)nvals);
    v->tensor->n_int_val = (size_t)nvals;
    return n;
}

static uint8_t *pack(tg *g, size_t *len) {
    Edgevision__Tf__GraphDef gd;
    edgevision__tf__graph_def__init(&gd);
    gd.node = g->nodes;
    gd.n_node = (size_t)g->n;
    *len = edgevision__tf__graph_def__get_packed_size(&gd);
    uint8_t *buf = malloc(*len ? *len : 1);
    edgevision__tf__graph_def__pack(&gd, buf);
    return buf;
}

/* With EV_WRITE_SEEDS=DIR, every graph this test loads is also written there as a fuzzing seed
 * (scripts/fuzz.sh): small, valid and deliberately malformed GraphDefs of every op we read. */
static void write_seed(const uint8_t *buf, size_t len) {
    static int count;
    const char *dir = getenv("EV_WRITE_SEEDS");
    if (!dir || !*dir) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/graph_%03d.pb", dir, count++);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (len) fwrite(buf, 1, len, f);
    fclose(f);
}

static ev_status load_graph(tg *g, ev_model **m) {
    size_t len;
    uint8_t *buf = pack(g, &len);
    write_seed(buf, len);
    ev_status st = ev_model_load_memory(buf, len, "test.pb", m);
    free(buf);
    return st;
}

/* Loads, runs with `x` (n floats) as input 0 (and x2 as input 1 when given), copies output 0. */
static int run_graph(tg *g, const float *x, size_t n, const float *x2, size_t n2, float **y,
                     size_t *ny, ev_model **keep) {
    ev_model *m = NULL;
    ev_status st = load_graph(g, &m);
    CHECK_MSG(st == EV_OK, "load: %s", ev_last_error());
    if (st != EV_OK) return 0;
    const void *ins[2] = {x, x2};
    size_t bytes[2] = {n * sizeof(float), n2 * sizeof(float)};
    void *out = NULL;
    size_t len = 0;
    CHECK_OK(st = ev_test_run_copy(m, NULL, x2 ? 2 : 1, ins, bytes, 0, &out, &len));
    *y = out;
    *ny = len / sizeof(float);
    if (keep)
        *keep = m;
    else
        ev_model_free(m);
    return st == EV_OK;
}

static double rel_err(const float *y, const double *ref, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - ref[i]);
        if (d > md) md = d;
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return mr > 0 ? md / mr : md;
}

/* ---- references (double precision, TensorFlow semantics) ---------------------------------- */

static int out_size(int in, int k, int s, int d, int same) {
    int eff = (k - 1) * d + 1;
    return same ? (in + s - 1) / s : (in - eff) / s + 1;
}

/* NHWC x [H][W][C], HWIO (or HWCM for depthwise) filter; returns [OH][OW][OC]. */
static double *conv_ref(const float *x, int H, int W, int C, const float *w, int KH, int KW, int M,
                        int s, int d, int same, int depthwise, int *OH, int *OW) {
    int oh = out_size(H, KH, s, d, same), ow = out_size(W, KW, s, d, same);
    int pt = 0, pl = 0;
    if (same) {
        int th = (oh - 1) * s + (KH - 1) * d + 1 - H, tw = (ow - 1) * s + (KW - 1) * d + 1 - W;
        pt = th > 0 ? th / 2 : 0;
        pl = tw > 0 ? tw / 2 : 0;
    }
    int OC = depthwise ? C * M : M;
    double *y = calloc((size_t)oh * ow * OC, sizeof(double));
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int o = 0; o < OC; o++) {
                double acc = 0;
                for (int ky = 0; ky < KH; ky++)
                    for (int kx = 0; kx < KW; kx++) {
                        int iy = oy * s - pt + ky * d, ix = ox * s - pl + kx * d;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        if (depthwise) {
                            int c = o / M, m = o % M;
                            acc += (double)x[((size_t)iy * W + ix) * C + c] *
                                   w[(((size_t)ky * KW + kx) * C + c) * M + m];
                        } else {
                            for (int c = 0; c < C; c++)
                                acc += (double)x[((size_t)iy * W + ix) * C + c] *
                                       w[(((size_t)ky * KW + kx) * C + c) * M + o];
                        }
                    }
                y[((size_t)oy * ow + ox) * OC + o] = acc;
            }
    *OH = oh;
    *OW = ow;
    return y;
}

/* ---- op tests ------------------------------------------------------------------------------ */

/* Conv2D (SAME, stride 2 on even sizes; VALID with dilation) + BiasAdd + Relu6, fused. */
static void test_conv2d(void) {
    for (int variant = 0; variant < 3; variant++) {
        int H = 10, W = 12, C = 3, KH = 3, KW = 3, M = 5;
        int s = variant == 0 ? 2 : 1, d = variant == 1 ? 2 : 1, same = variant != 1;
        float x[10 * 12 * 3], w[3 * 3 * 3 * 5], b[5];
        ev_test_rng_fill(&(ev_test_rng){1 + variant}, x, sizeof x / 4, EV_DTYPE_F32, -1, 1);
        ev_test_rng_fill(&(ev_test_rng){7}, w, sizeof w / 4, EV_DTYPE_F32, -0.8f, 0.8f);
        ev_test_rng_fill(&(ev_test_rng){9}, b, 5, EV_DTYPE_F32, -0.5f, 0.5f);
        tg g = {0};
        n_placeholder(&g, "x", 4, (int[]){1, H, W, C});
        n_const_f(&g, "w", 4, (int[]){KH, KW, C, M}, w);
        n_node(&g, "w/read", "Identity", "w", NULL, NULL);
        n_const_f(&g, "b", 1, (int[]){M}, b);
        NodeDef *cv = n_node(&g, "conv", "Conv2D", "x", "w/read:0", NULL);
        a_type(&g, cv, "T", EDGEVISION__TF__DATA_TYPE__DT_FLOAT);
        a_hw(&g, cv, "strides", s, s);
        a_hw(&g, cv, "dilations", d, d);
        a_s(&g, cv, "padding", same ? "SAME" : "VALID");
        a_s(&g, cv, "data_format", "NHWC");
        NodeDef *ba = n_node(&g, "bias", "BiasAdd", "conv", "b", NULL);
        a_s(&g, ba, "data_format", "NHWC");
        n_node(&g, "y", variant == 2 ? "Relu" : "Relu6", "bias", NULL, NULL);
        float *y = NULL;
        size_t ny = 0;
        ev_model *m = NULL;
        if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, &m)) {
            int oh, ow;
            double *ref = conv_ref(x, H, W, C, w, KH, KW, M, s, d, same, 0, &oh, &ow);
            for (int i = 0; i < oh * ow * M; i++) {
                ref[i] += b[i % M];
                ref[i] = ref[i] < 0 ? 0 : (variant != 2 && ref[i] > 6) ? 6 : ref[i];
            }
            CHECK_EQ_INT(ny, (size_t)oh * ow * M);
            CHECK_EQ_INT(ev_model_num_ops(m), 1); /* bias and relu folded into the conv */
            double e = rel_err(y, ref, ny);
            CHECK_MSG(e < 1e-5, "conv variant %d: relative error %g", variant, e);
            fprintf(stderr, "  Conv2D variant %d (stride %d dilation %d %s): rel err %.2e\n",
                    variant, s, d, same ? "SAME" : "VALID", e);
            free(ref);
        }
        free(y);
        ev_model_free(m);
        tg_free(&g);
    }
}

/* DepthwiseConv2dNative, multiplier 2, stride 2 SAME, + Add of a constant + Relu. */
static void test_depthwise(void) {
    int H = 9, W = 8, C = 4, K = 3, M = 2, OC = 8;
    float x[9 * 8 * 4], w[3 * 3 * 4 * 2], b[8];
    ev_test_rng_fill(&(ev_test_rng){3}, x, sizeof x / 4, EV_DTYPE_F32, -1, 1);
    ev_test_rng_fill(&(ev_test_rng){4}, w, sizeof w / 4, EV_DTYPE_F32, -1, 1);
    ev_test_rng_fill(&(ev_test_rng){5}, b, 8, EV_DTYPE_F32, -0.3f, 0.3f);
    tg g = {0};
    n_placeholder(&g, "x", 4, (int[]){-1, H, W, C});
    n_const_f(&g, "w", 4, (int[]){K, K, C, M}, w);
    n_const_f(&g, "b", 1, (int[]){OC}, b);
    NodeDef *cv = n_node(&g, "dw", "DepthwiseConv2dNative", "x", "w", NULL);
    a_hw(&g, cv, "strides", 2, 2);
    a_s(&g, cv, "padding", "SAME");
    n_node(&g, "add", "AddV2", "b", "dw", NULL); /* constant first: still a bias */
    n_node(&g, "y", "Relu", "add", NULL, NULL);
    float *y = NULL;
    size_t ny = 0;
    ev_model *m = NULL;
    if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, &m)) {
        int oh, ow;
        double *ref = conv_ref(x, H, W, C, w, K, K, M, 2, 1, 1, 1, &oh, &ow);
        for (int i = 0; i < oh * ow * OC; i++) {
            ref[i] += b[i % OC];
            if (ref[i] < 0) ref[i] = 0;
        }
        CHECK_EQ_INT(ny, (size_t)oh * ow * OC);
        CHECK_EQ_INT(ev_model_num_ops(m), 1);
        double e = rel_err(y, ref, ny);
        CHECK_MSG(e < 1e-5, "relative error %g", e);
        fprintf(stderr, "  DepthwiseConv2dNative: rel err %.2e\n", e);
        free(ref);
    }
    free(y);
    ev_model_free(m);
    tg_free(&g);
}

/* FusedBatchNorm after a conv is folded into its weights and bias. */
static void test_batchnorm_folded(void) {
    int H = 6, W = 7, C = 3, K = 1, M = 4;
    float x[6 * 7 * 3], w[3 * 4], gam[4], bet[4], mean[4], var[4];
    ev_test_rng_fill(&(ev_test_rng){11}, x, sizeof x / 4, EV_DTYPE_F32, -2, 2);
    ev_test_rng_fill(&(ev_test_rng){12}, w, sizeof w / 4, EV_DTYPE_F32, -1, 1);
    ev_test_rng_fill(&(ev_test_rng){13}, gam, 4, EV_DTYPE_F32, 0.5f, 1.5f);
    ev_test_rng_fill(&(ev_test_rng){14}, bet, 4, EV_DTYPE_F32, -1, 1);
    ev_test_rng_fill(&(ev_test_rng){15}, mean, 4, EV_DTYPE_F32, -0.5f, 0.5f);
    ev_test_rng_fill(&(ev_test_rng){16}, var, 4, EV_DTYPE_F32, 0.2f, 2.0f);
    tg g = {0};
    n_placeholder(&g, "x", 4, (int[]){1, H, W, C});
    n_const_f(&g, "w", 4, (int[]){K, K, C, M}, w);
    n_const_f(&g, "gamma", 1, (int[]){M}, gam);
    n_const_f(&g, "beta", 1, (int[]){M}, bet);
    n_const_f(&g, "mean", 1, (int[]){M}, mean);
    n_const_f(&g, "var", 1, (int[]){M}, var);
    NodeDef *cv = n_node(&g, "conv", "Conv2D", "x", "w", NULL);
    a_hw(&g, cv, "strides", 1, 1);
    a_s(&g, cv, "padding", "VALID");
    NodeDef *bn = n_node(&g, "bn", "FusedBatchNorm", "conv", "gamma", "beta");
    n_add_input(&g, bn, "mean");
    n_add_input(&g, bn, "var");
    a_f(&g, bn, "epsilon", 0.001f);
    a_b(&g, bn, "is_training", 0);
    float *y = NULL;
    size_t ny = 0;
    ev_model *m = NULL;
    if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, &m)) {
        int oh, ow;
        double *ref = conv_ref(x, H, W, C, w, K, K, M, 1, 1, 0, 0, &oh, &ow);
        for (int i = 0; i < oh * ow * M; i++) {
            int c = i % M;
            ref[i] = (ref[i] - mean[c]) * gam[c] / sqrt((double)var[c] + (double)0.001f) + bet[c];
        }
        CHECK_EQ_INT(ev_model_num_ops(m), 1);
        double e = rel_err(y, ref, ny);
        CHECK_MSG(e < 1e-5, "relative error %g", e);
        fprintf(stderr, "  FusedBatchNorm (folded): rel err %.2e\n", e);
        free(ref);
    }
    free(y);
    ev_model_free(m);
    tg_free(&g);
    /* not after a conv: an error naming the node */
    tg h = {0};
    n_placeholder(&h, "x", 4, (int[]){1, 2, 2, 4});
    n_const_f(&h, "gamma", 1, (int[]){4}, gam);
    NodeDef *b2 = n_node(&h, "lonely_bn", "FusedBatchNormV3", "x", "gamma", "gamma");
    n_add_input(&h, b2, "gamma");
    n_add_input(&h, b2, "gamma");
    ev_model *m2 = NULL;
    ev_status st = load_graph(&h, &m2);
    CHECK_EQ_INT(st, EV_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(ev_last_error(), "lonely_bn") != NULL, "%s", ev_last_error());
    ev_model_free(m2);
    tg_free(&h);
}

/* Relu, Relu6 and Sigmoid as standalone ops (after an input, not a conv). */
static void test_unary(void) {
    static const char *ops[3] = {"Relu", "Relu6", "Sigmoid"};
    for (int k = 0; k < 3; k++) {
        float x[2 * 3 * 5];
        ev_test_rng_fill(&(ev_test_rng){20 + k}, x, 30, EV_DTYPE_F32, -9, 9);
        tg g = {0};
        n_placeholder(&g, "x", 4, (int[]){1, 2, 3, 5});
        n_node(&g, "y", ops[k], "x", NULL, NULL);
        float *y = NULL;
        size_t ny = 0;
        if (run_graph(&g, x, 30, NULL, 0, &y, &ny, NULL)) {
            double ref[30];
            for (int i = 0; i < 30; i++) {
                double v = x[i];
                ref[i] = k == 0 ? (v < 0 ? 0 : v)
                         : k == 1 ? (v < 0 ? 0 : v > 6 ? 6 : v)
                                  : 1.0 / (1.0 + exp(-v));
            }
            CHECK_EQ_INT(ny, 30);
            double e = rel_err(y, ref, 30);
            CHECK_MSG(e < 1e-5, "%s: relative error %g", ops[k], e);
            fprintf(stderr, "  %s: rel err %.2e\n", ops[k], e);
        }
        free(y);
        tg_free(&g);
    }
}

/* Add of two inputs, AddV2 broadcasting a constant vector, BiasAdd not after a conv. */
static void test_add(void) {
    float a[1 * 3 * 4 * 6], b[72], cvec[6];
    ev_test_rng_fill(&(ev_test_rng){30}, a, 72, EV_DTYPE_F32, -3, 3);
    ev_test_rng_fill(&(ev_test_rng){31}, b, 72, EV_DTYPE_F32, -3, 3);
    ev_test_rng_fill(&(ev_test_rng){32}, cvec, 6, EV_DTYPE_F32, -1, 1);
    static const char *ops[3] = {"Add", "AddV2", "BiasAdd"};
    for (int k = 0; k < 3; k++) {
        tg g = {0};
        n_placeholder(&g, "a", 4, (int[]){1, 3, 4, 6});
        if (k == 0)
            n_placeholder(&g, "b", 4, (int[]){1, 3, 4, 6});
        else
            n_const_f(&g, "b", 1, (int[]){6}, cvec);
        n_node(&g, "y", ops[k], "a", "b", NULL);
        float *y = NULL;
        size_t ny = 0;
        if (run_graph(&g, a, 72, k == 0 ? b : NULL, 72, &y, &ny, NULL)) {
            double ref[72];
            for (int i = 0; i < 72; i++) ref[i] = (double)a[i] + (k == 0 ? b[i] : cvec[i % 6]);
            CHECK_EQ_INT(ny, 72);
            double e = rel_err(y, ref, 72);
            CHECK_MSG(e < 1e-5, "%s: relative error %g", ops[k], e);
            fprintf(stderr, "  %s: rel err %.2e\n", ops[k], e);
        }
        free(y);
        tg_free(&g);
    }
}

/* MaxPool / AvgPool, SAME with partial windows (averages over the valid taps) and VALID. */
static void test_pools(void) {
    int H = 7, W = 6, C = 3;
    float x[7 * 6 * 3];
    ev_test_rng_fill(&(ev_test_rng){40}, x, sizeof x / 4, EV_DTYPE_F32, -5, 5);
    for (int k = 0; k < 4; k++) {
        int is_max = k & 1, same = k < 2, KS = 3, S = 2;
        tg g = {0};
        n_placeholder(&g, "x", 4, (int[]){1, H, W, C});
        NodeDef *p = n_node(&g, "y", is_max ? "MaxPool" : "AvgPool", "x", NULL, NULL);
        a_hw(&g, p, "ksize", KS, KS);
        a_hw(&g, p, "strides", S, S);
        a_s(&g, p, "padding", same ? "SAME" : "VALID");
        float *y = NULL;
        size_t ny = 0;
        if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, NULL)) {
            int oh = out_size(H, KS, S, 1, same), ow = out_size(W, KS, S, 1, same);
            int pt = same ? (((oh - 1) * S + KS - H) > 0 ? ((oh - 1) * S + KS - H) / 2 : 0) : 0;
            int pl = same ? (((ow - 1) * S + KS - W) > 0 ? ((ow - 1) * S + KS - W) / 2 : 0) : 0;
            double *ref = calloc((size_t)oh * ow * C, sizeof(double));
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < C; c++) {
                        double acc = is_max ? -1e300 : 0;
                        int cnt = 0;
                        for (int ky = 0; ky < KS; ky++)
                            for (int kx = 0; kx < KS; kx++) {
                                int iy = oy * S - pt + ky, ix = ox * S - pl + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                double v = x[((size_t)iy * W + ix) * C + c];
                                if (is_max)
                                    acc = v > acc ? v : acc;
                                else
                                    acc += v;
                                cnt++;
                            }
                        ref[((size_t)oy * ow + ox) * C + c] = is_max ? acc : acc / cnt;
                    }
            CHECK_EQ_INT(ny, (size_t)oh * ow * C);
            double e = rel_err(y, ref, ny);
            CHECK_MSG(e < 1e-5, "pool %d: relative error %g", k, e);
            fprintf(stderr, "  %s %s: rel err %.2e\n", is_max ? "MaxPool" : "AvgPool",
                    same ? "SAME" : "VALID", e);
            free(ref);
        }
        free(y);
        tg_free(&g);
    }
}

/* Mean over H, W (keep_dims false) feeding MatMul (transpose_b) + BiasAdd + Relu, fused. */
static void test_mean_matmul(void) {
    int H = 4, W = 5, C = 6, U = 3;
    float x[4 * 5 * 6], wt[3 * 6], b[3];
    ev_test_rng_fill(&(ev_test_rng){50}, x, sizeof x / 4, EV_DTYPE_F32, -2, 2);
    ev_test_rng_fill(&(ev_test_rng){51}, wt, sizeof wt / 4, EV_DTYPE_F32, -1, 1);
    ev_test_rng_fill(&(ev_test_rng){52}, b, 3, EV_DTYPE_F32, 1.0f, 2.0f); /* positive: the Relu keeps real values to compare */
    for (int keep = 0; keep < 2; keep++) {
        tg g = {0};
        n_placeholder(&g, "x", 4, (int[]){1, H, W, C});
        n_const_i(&g, "axes", 1, (int[]){2}, (int32_t[]){1, -2}, 2);
        NodeDef *mn = n_node(&g, "mean", "Mean", "x", "axes", NULL);
        a_b(&g, mn, "keep_dims", keep);
        double mref[6] = {0};
        for (int i = 0; i < H * W; i++)
            for (int c = 0; c < C; c++) mref[c] += x[i * C + c] / (double)(H * W);
        if (keep) { /* Mean alone, 1x1x1xC */
            float *y = NULL;
            size_t ny = 0;
            if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, NULL)) {
                CHECK_EQ_INT(ny, 6);
                double e = rel_err(y, mref, 6);
                CHECK_MSG(e < 1e-5, "mean: relative error %g", e);
                fprintf(stderr, "  Mean (keep_dims): rel err %.2e\n", e);
            }
            free(y);
            tg_free(&g);
            continue;
        }
        n_const_f(&g, "wt", 2, (int[]){U, C}, wt);
        NodeDef *mm = n_node(&g, "mm", "MatMul", "mean", "wt", NULL);
        a_b(&g, mm, "transpose_b", 1);
        n_const_f(&g, "b", 1, (int[]){U}, b);
        n_node(&g, "ba", "BiasAdd", "mm", "b", NULL);
        n_node(&g, "y", "Relu", "ba", NULL, NULL);
        float *y = NULL;
        size_t ny = 0;
        ev_model *m = NULL;
        if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, &m)) {
            double ref[3];
            for (int u = 0; u < U; u++) {
                double acc = b[u];
                for (int c = 0; c < C; c++) acc += mref[c] * wt[u * C + c];
                ref[u] = acc < 0 ? 0 : acc;
            }
            CHECK_EQ_INT(ny, 3);
            CHECK_EQ_INT(ev_model_num_ops(m), 2); /* MEAN, FULLY_CONNECTED (bias, relu fused) */
            double e = rel_err(y, ref, 3);
            CHECK_MSG(e < 1e-5, "mean+matmul: relative error %g", e);
            fprintf(stderr, "  Mean + MatMul + BiasAdd + Relu: rel err %.2e\n", e);
        }
        free(y);
        ev_model_free(m);
        tg_free(&g);
    }
}

/* Pad with int32 paddings given through int_val. */
static void test_pad(void) {
    int H = 3, W = 4, C = 2;
    float x[3 * 4 * 2];
    ev_test_rng_fill(&(ev_test_rng){60}, x, sizeof x / 4, EV_DTYPE_F32, -1, 1);
    tg g = {0};
    n_placeholder(&g, "x", 4, (int[]){1, H, W, C});
    n_const_i(&g, "pads", 2, (int[]){4, 2}, (int32_t[]){0, 0, 1, 2, 2, 0, 0, 1}, 8);
    n_node(&g, "y", "Pad", "x", "pads", NULL);
    float *y = NULL;
    size_t ny = 0;
    if (run_graph(&g, x, sizeof x / 4, NULL, 0, &y, &ny, NULL)) {
        int OH = H + 3, OW = W + 2, OC = C + 1;
        double *ref = calloc((size_t)OH * OW * OC, sizeof(double));
        for (int yy = 0; yy < H; yy++)
            for (int xx = 0; xx < W; xx++)
                for (int c = 0; c < C; c++)
                    ref[((size_t)(yy + 1) * OW + (xx + 2)) * OC + c] = x[(yy * W + xx) * C + c];
        CHECK_EQ_INT(ny, (size_t)OH * OW * OC);
        double e = rel_err(y, ref, ny);
        CHECK_MSG(e < 1e-5, "pad: relative error %g", e);
        fprintf(stderr, "  Pad: rel err %.2e\n", e);
        free(ref);
    }
    free(y);
    tg_free(&g);
}

/* ---- malformed graphs ---------------------------------------------------------------------- */

static void expect_error(tg *g, ev_status want, const char *needle) {
    ev_model *m = NULL;
    ev_status st = load_graph(g, &m);
    CHECK_MSG(st == want, "got %s, want %s: %s", ev_status_string(st), ev_status_string(want),
              ev_last_error());
    CHECK_MSG(strstr(ev_last_error(), needle) != NULL, "'%s' not in: %s", needle, ev_last_error());
    CHECK(m == NULL);
    ev_model_free(m);
    tg_free(g);
}

static void test_malformed(void) {
    float w[4] = {1, 2, 3, 4};
    tg g = {0};
    /* a cycle */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "a", "Relu", "b", NULL, NULL);
    n_node(&g, "b", "Relu", "a", NULL, NULL);
    n_node(&g, "y", "Add", "x", "b", NULL);
    expect_error(&g, EV_ERR_FORMAT, "cycle");
    /* a 6-D input of 2^120 elements: its size would wrap a 64-bit count */
    n_placeholder(&g, "x", 6, (int[]){1, 1 << 24, 1 << 24, 1 << 24, 1 << 24, 1 << 24});
    n_node(&g, "y", "Relu", "x", NULL, NULL);
    expect_error(&g, EV_ERR_FORMAT, "implausibly large");
    /* a missing input */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "y", "Relu", "nowhere", NULL, NULL);
    expect_error(&g, EV_ERR_FORMAT, "nowhere");
    /* control input to a missing node; output 1 of a node */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "y", "Relu", "x", "^ghost", NULL);
    expect_error(&g, EV_ERR_FORMAT, "ghost");
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "y", "Relu", "x:1", NULL, NULL);
    expect_error(&g, EV_ERR_UNSUPPORTED, "output 1");
    /* constant content does not match its shape */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    NodeDef *k = n_const_f(&g, "w", 4, (int[]){1, 1, 1, 4}, w);
    k->attr[1]->value->tensor->tensor_content.len = 12;
    n_node(&g, "y", "Conv2D", "x", "w", NULL);
    expect_error(&g, EV_ERR_FORMAT, "12 bytes");
    /* a missing attribute, an attribute of the wrong kind */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_const_f(&g, "w", 4, (int[]){1, 1, 1, 4}, w);
    NodeDef *cv = n_node(&g, "conv", "Conv2D", "x", "w", NULL);
    a_s(&g, cv, "padding", "SAME");
    expect_error(&g, EV_ERR_FORMAT, "'strides' is missing");
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_const_f(&g, "w", 4, (int[]){1, 1, 1, 4}, w);
    cv = n_node(&g, "conv", "Conv2D", "x", "w", NULL);
    a_s(&g, cv, "strides", "2");
    a_s(&g, cv, "padding", "SAME");
    expect_error(&g, EV_ERR_FORMAT, "'strides' holds a string");
    /* an op we do not have; atrous convolution written with SpaceToBatchND */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "y", "Tanh", "x", NULL, NULL);
    expect_error(&g, EV_ERR_UNSUPPORTED, "'Tanh'");
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "s2b", "SpaceToBatchND", "x", NULL, NULL);
    expect_error(&g, EV_ERR_UNSUPPORTED, "SpaceToBatchND");
    /* duplicate names; no nodes */
    n_placeholder(&g, "x", 4, (int[]){1, 2, 2, 1});
    n_node(&g, "x", "Relu", "x", NULL, NULL);
    expect_error(&g, EV_ERR_FORMAT, "two nodes");
    expect_error(&g, EV_ERR_FORMAT, "empty"); /* no nodes: zero bytes */
    /* bytes that are not a protobuf at all */
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
    ev_model *m = NULL;
    ev_status st = ev_model_load_memory(junk, sizeof junk, "junk.pb", &m);
    CHECK_EQ_INT(st, EV_ERR_FORMAT);
    CHECK_MSG(strstr(ev_last_error(), "GraphDef") != NULL, "%s", ev_last_error());
    ev_model_free(m);
}

/* ---- the real PoseNet 0.50 float graph ----------------------------------------------------- */

static void test_posenet_graph(void) {
    char path[512];
    ev_test_path(path, sizeof path, "models/posenet/posenet_mobilenet_v1_050_float.pb");
    EV_REQUIRE_FILE(path);
    ev_model *m = NULL;
    /* free input size: a clear error without one */
    CHECK_EQ_INT(ev_model_load(path, &m), EV_ERR_SHAPE);
    CHECK_MSG(strstr(ev_last_error(), "free") != NULL, "%s", ev_last_error());
    static const int sizes[3][2] = {{353, 481}, {257, 257}, {33, 17}};
    for (int k = 0; k < 3; k++) {
        CHECK_OK(ev_model_load_with_input(path, sizes[k][0], sizes[k][1], &m));
        if (!m) continue;
        CHECK_EQ_INT(ev_model_num_outputs(m), 4);
        CHECK_EQ_INT(ev_model_num_ops(m), 32); /* 18 conv + 13 depthwise + the sigmoid */
        int gh = (sizes[k][0] - 1) / 16 + 1, gw = (sizes[k][1] - 1) / 16 + 1, found = 0;
        for (int i = 0; i < ev_model_num_outputs(m); i++) {
            ev_tensor_info ti;
            CHECK_OK(ev_model_output_info(m, i, &ti));
            CHECK_EQ_INT(ti.dims[1], gh);
            CHECK_EQ_INT(ti.dims[2], gw);
            static const char *names[4] = {"heatmap", "offset_2", "displacement_fwd_2",
                                           "displacement_bwd_2"};
            static const int chans[4] = {17, 34, 32, 32};
            for (int j = 0; j < 4; j++)
                if (strcmp(ti.name, names[j]) == 0) {
                    found |= 1 << j;
                    CHECK_EQ_INT(ti.dims[3], chans[j]);
                }
        }
        CHECK_EQ_INT(found, 15);
        ev_model_free(m);
        m = NULL;
    }
    /* the TFLite writer round trip: same bytes out of both models */
    CHECK_OK(ev_model_load_with_input(path, 33, 49, &m));
    const char *tmp = "test_tf_graphdef_roundtrip.tflite";
    ev_model *m2 = NULL;
    if (m) CHECK_OK(ev_model_save_tflite(m, tmp));
    CHECK_OK(ev_model_load(tmp, &m2));
    if (m && m2) {
        ev_session *s1 = NULL, *s2 = NULL;
        CHECK_OK(ev_session_create(m, NULL, &s1));
        CHECK_OK(ev_session_create(m2, NULL, &s2));
        float *x = malloc(33 * 49 * 3 * sizeof(float));
        ev_test_rng_fill(&(ev_test_rng){70}, x, 33 * 49 * 3, EV_DTYPE_F32, -1, 1);
        if (s1 && s2) {
            CHECK_OK(ev_session_set_input(s1, 0, x, 33 * 49 * 3 * 4));
            CHECK_OK(ev_session_set_input(s2, 0, x, 33 * 49 * 3 * 4));
            CHECK_OK(ev_session_run(s1));
            CHECK_OK(ev_session_run(s2));
            for (int i = 0; i < 4; i++) {
                const void *a, *b;
                ev_tensor_info ia, ib;
                CHECK_OK(ev_session_output(s1, i, &a, &ia));
                CHECK_OK(ev_session_output(s2, i, &b, &ib));
                CHECK(strcmp(ia.name, ib.name) == 0);
                CHECK(ia.bytes == ib.bytes && memcmp(a, b, ia.bytes) == 0);
            }
        }
        free(x);
        ev_session_free(s1);
        ev_session_free(s2);
    }
    remove(tmp);
    ev_model_free(m);
    ev_model_free(m2);
    /* truncations and corruptions of the real file: errors, never a crash */
    size_t len = 0;
    unsigned char *bytes = ev_test_read(path, &len);
    CHECK(bytes != NULL);
    if (!bytes) return;
    const size_t cuts[] = {1, 2, 100, 1000, 54321, 1000000, 2000000};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        if (cuts[i] >= len) continue;
        m = NULL;
        ev_status st = ev_model_load_memory(bytes, cuts[i], "cut.pb", &m);
        CHECK_MSG(st != EV_OK, "truncated at %zu loaded", cuts[i]);
        ev_model_free(m);
    }
    for (size_t pos = 7; pos < len; pos += len / 13) {
        unsigned char save = bytes[pos];
        bytes[pos] ^= 0x5a;
        m = NULL;
        ev_status st = ev_model_load_memory(bytes, len, "flipped.pb", &m);
        CHECK_MSG(st == EV_OK || st == EV_ERR_FORMAT || st == EV_ERR_UNSUPPORTED ||
                      st == EV_ERR_SHAPE,
                  "byte %zu flipped: %s", pos, ev_last_error());
        ev_model_free(m);
        bytes[pos] = save;
    }
    free(bytes);
}

int main(void) {
    EV_RUN(test_conv2d);
    EV_RUN(test_depthwise);
    EV_RUN(test_batchnorm_folded);
    EV_RUN(test_unary);
    EV_RUN(test_add);
    EV_RUN(test_pools);
    EV_RUN(test_mean_matmul);
    EV_RUN(test_pad);
    EV_RUN(test_malformed);
    EV_RUN(test_posenet_graph);
    return ev_test_finish();
}
