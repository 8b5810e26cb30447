/*
 * test_keras_resnet50.c - Keras ResNet50 from HDF5 weights against an independent double-precision
 * implementation written here from the spec (shared/docs/transfer-learning.md section 1).
 *
 * The real ImageNet weights cannot be downloaded here, so the test writes files with Keras's
 * exact layout through the HDF5 C API (root layer_names / backend / keras_version, one group per
 * layer with weight_names, datasets <layer>/<layer>/kernel:0 in HWIO, zero-length float64
 * weight_names for weightless layers; fixed-length NULLPAD strings that fill their slot exactly,
 * NULLTERM and variable-length strings; split layer_names0/1) and realistic random weights (He
 * normal kernels, BN variances near 1). The reference convolves, normalises (BN unfolded),
 * pads and pools in double on HWIO weights directly; outputs must agree within 1e-4 relative
 * (max|y - ref| / max|ref|), with and without the top, through the model API and the
 * classifier (nearest resize + caffe preprocessing recomputed here). The model runs on ref and
 * on the cpu backend (its float GEMM conv and dense; AVX2 and the machine's best path, two
 * threads), each against the double reference at the same 1e-4. The legacy resnet50.py
 * naming (epsilon 1e-3, Keras-1 weight names, with and without pool1_pad) runs on odd sizes.
 * Errors: missing layer, wrong shape, missing dataset, truncated file, non-ResNet and
 * non-Keras HDF5 files, bad options, each named in the message.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "util.h"

#include <hdf5.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_H 64
#define IN_W 64
#define CLASSES 1000
#define TOL 1e-4

/* ---------------------------------------------------------------- random weights ---------- */

static ev_test_rng g_rng = {0x9e3779b97f4a7c15ull};

typedef struct convl {
    int stage, block, k_idx; /* stage 1: stem; k_idx 0: projection, 1..3 main path */
    int k, cin, cout, stride, pad;
    float *w, *b, *gamma, *beta, *mean, *var; /* w: HWIO */
} convl;

static convl g_conv[53];
static int g_nconv;
static float *g_dense_w, *g_dense_b; /* [2048][1000], [1000] */

static float *frand(size_t n, double mean, double sd, double lo, double hi) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(sd > 0 ? mean + sd * ev_test_rng_normal(&g_rng) : lo + (hi - lo) * ev_test_rng_open01(&g_rng));
    return p;
}

static void add_conv(int stage, int block, int k_idx, int k, int cin, int cout, int stride,
                     int pad) {
    convl *c = &g_conv[g_nconv++];
    *c = (convl){stage, block, k_idx, k, cin, cout, stride, pad, 0, 0, 0, 0, 0, 0};
    size_t n = (size_t)k * k * cin * cout;
    c->w = frand(n, 0.0, sqrt(2.0 / (k * k * cin)), 0, 0); /* He normal */
    c->b = frand((size_t)cout, 0.0, 0.05, 0, 0);
    /* the last BN of a residual branch a little smaller, so 16 blocks keep activations sane */
    int last = k_idx == 3 || k_idx == 0;
    c->gamma = frand((size_t)cout, 0, 0, last ? 0.2 : 0.7, last ? 0.5 : 1.3);
    c->beta = frand((size_t)cout, 0.0, 0.1, 0, 0);
    c->mean = frand((size_t)cout, 0.0, 0.1, 0, 0);
    c->var = frand((size_t)cout, 0, 0, 0.6, 1.4);
}

static void make_weights(void) {
    add_conv(1, 0, 0, 7, 3, 64, 2, 0);
    static const int blocks[4] = {3, 4, 6, 3}, filt[4] = {64, 128, 256, 512};
    int c = 64;
    for (int s = 2; s <= 5; s++)
        for (int b = 1; b <= blocks[s - 2]; b++) {
            int f = filt[s - 2], st = b == 1 && s > 2 ? 2 : 1;
            if (b == 1) add_conv(s, b, 0, 1, c, 4 * f, st, 0);
            add_conv(s, b, 1, 1, c, f, st, 0);
            add_conv(s, b, 2, 3, f, f, 1, 1);
            add_conv(s, b, 3, 1, f, 4 * f, 1, 0);
            c = 4 * f;
        }
    g_dense_w = frand((size_t)2048 * CLASSES, 0.0, 1.0, 0, 0); /* rescaled after the reference */
    g_dense_b = frand(CLASSES, 0.0, 0.1, 0, 0);
}

static convl *find_conv(int stage, int block, int k_idx) {
    for (int i = 0; i < g_nconv; i++)
        if (g_conv[i].stage == stage && g_conv[i].block == block && g_conv[i].k_idx == k_idx)
            return &g_conv[i];
    return NULL;
}

/* ---------------------------------------------------------------- reference (double) ------ */

typedef struct dt {
    double *d;
    int h, w, c;
} dt;

static dt dt_new(int h, int w, int c) {
    dt t = {calloc((size_t)h * w * c, sizeof(double)), h, w, c};
    return t;
}

/* conv (explicit symmetric zero padding), then BN in inference mode, then optional ReLU */
static dt ref_conv_bn(dt x, const convl *L, double eps, int relu) {
    int oh = (x.h + 2 * L->pad - L->k) / L->stride + 1;
    int ow = (x.w + 2 * L->pad - L->k) / L->stride + 1;
    dt y = dt_new(oh, ow, L->cout);
    double *acc = malloc(sizeof(double) * (size_t)L->cout);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            for (int o = 0; o < L->cout; o++) acc[o] = L->b[o];
            for (int i = 0; i < L->k; i++) {
                int iy = oy * L->stride - L->pad + i;
                if (iy < 0 || iy >= x.h) continue;
                for (int j = 0; j < L->k; j++) {
                    int ix = ox * L->stride - L->pad + j;
                    if (ix < 0 || ix >= x.w) continue;
                    const double *xp = x.d + ((size_t)iy * x.w + ix) * x.c;
                    for (int ci = 0; ci < L->cin; ci++) {
                        const float *wp = L->w + (((size_t)i * L->k + j) * L->cin + ci) * L->cout;
                        double v = xp[ci];
                        for (int o = 0; o < L->cout; o++) acc[o] += v * wp[o];
                    }
                }
            }
            double *yp = y.d + ((size_t)oy * ow + ox) * L->cout;
            for (int o = 0; o < L->cout; o++) {
                double v = L->gamma[o] * (acc[o] - L->mean[o]) / sqrt((double)L->var[o] + eps) +
                           L->beta[o];
                yp[o] = relu && v < 0 ? 0 : v;
            }
        }
    free(acc);
    return y;
}

/* Features [2048] and (with dense weights) logits [1000] of a caffe-preprocessed HWC input. */
static void ref_forward(const float *in, int h, int w, double eps, int pool_pad, double *feat,
                        double *logits) {
    dt x = dt_new(h, w, 3);
    for (size_t i = 0; i < (size_t)h * w * 3; i++) x.d[i] = in[i];
    /* ZeroPadding2D(3) then conv1 7x7/2 VALID: the same as pad 3 inside the conv */
    convl stem = *find_conv(1, 0, 0);
    stem.pad = 3;
    dt y = ref_conv_bn(x, &stem, eps, 1);
    free(x.d);
    /* ZeroPadding2D(1) (zeros, not -inf) then MaxPool 3x3/2 VALID */
    int p = pool_pad ? 1 : 0;
    int ph = y.h + 2 * p, pw = y.w + 2 * p;
    int oh = (ph - 3) / 2 + 1, ow = (pw - 3) / 2 + 1;
    x = dt_new(oh, ow, y.c);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int ch = 0; ch < y.c; ch++) {
                double m = -1e300;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) {
                        int iy = oy * 2 + i - p, ix = ox * 2 + j - p;
                        double v = iy < 0 || ix < 0 || iy >= y.h || ix >= y.w
                                       ? 0.0
                                       : y.d[((size_t)iy * y.w + ix) * y.c + ch];
                        if (v > m) m = v;
                    }
                x.d[((size_t)oy * ow + ox) * y.c + ch] = m;
            }
    free(y.d);
    static const int blocks[4] = {3, 4, 6, 3};
    for (int s = 2; s <= 5; s++)
        for (int b = 1; b <= blocks[s - 2]; b++) {
            dt sc = x;
            if (b == 1) sc = ref_conv_bn(x, find_conv(s, b, 0), eps, 0);
            dt t1 = ref_conv_bn(x, find_conv(s, b, 1), eps, 1);
            dt t2 = ref_conv_bn(t1, find_conv(s, b, 2), eps, 1);
            dt t3 = ref_conv_bn(t2, find_conv(s, b, 3), eps, 0);
            for (size_t i = 0; i < (size_t)t3.h * t3.w * t3.c; i++) {
                double v = t3.d[i] + sc.d[i];
                t3.d[i] = v > 0 ? v : 0;
            }
            free(t1.d);
            free(t2.d);
            if (sc.d != x.d) free(sc.d);
            free(x.d);
            x = t3;
        }
    for (int ch = 0; ch < 2048; ch++) {
        double s = 0;
        for (int i = 0; i < x.h * x.w; i++) s += x.d[(size_t)i * 2048 + ch];
        feat[ch] = s / (x.h * x.w);
    }
    free(x.d);
    if (logits)
        for (int o = 0; o < CLASSES; o++) {
            double s = g_dense_b[o];
            for (int i = 0; i < 2048; i++) s += feat[i] * g_dense_w[(size_t)i * CLASSES + o];
            logits[o] = s;
        }
}

static void softmax_d(const double *z, double *p, int n) {
    double m = z[0], s = 0;
    for (int i = 1; i < n; i++) m = z[i] > m ? z[i] : m;
    for (int i = 0; i < n; i++) s += (p[i] = exp(z[i] - m));
    for (int i = 0; i < n; i++) p[i] /= s;
}

static double rel_err(const float *y, const double *ref, int n) {
    double md = 0, mr = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)y[i] - ref[i]);
        md = d > md ? d : md;
        mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
    }
    return mr > 0 ? md / mr : md;
}

/* ---------------------------------------------------------------- the HDF5 writer --------- */

typedef struct wopt {
    int legacy;       /* resnet50.py names                                          */
    int keras1;       /* Keras-1 weight names (conv1_W:0, bn_conv1_running_std:0)    */
    int pool_pad;     /* list pool1_pad (legacy only; resnet.py always has it)       */
    int top;          /* write the predictions / fc1000 layer                       */
    int split;        /* layer_names split into layer_names0/1                      */
    int names_style;  /* layer_names: 0 fixed NULLPAD exact, 1 fixed NULLTERM, 2 vlen */
    const char *skip_layer, *bad_shape_layer, *drop_dataset_layer;
    int not_resnet, no_layer_names;
} wopt;

/* Writes strings as an attribute: style 0 fixed-length NULLPAD exactly as long as the longest
 * (h5py's numpy 'S' arrays), 1 fixed NULLTERM with room for the NUL, 2 variable-length. */
static void write_str_attr(hid_t obj, const char *name, const char *const *s, int n, int style,
                           int scalar) {
    hid_t type = H5Tcopy(H5T_C_S1);
    size_t maxlen = 1;
    for (int i = 0; i < n; i++) maxlen = strlen(s[i]) > maxlen ? strlen(s[i]) : maxlen;
    hsize_t dim = (hsize_t)n;
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    if (style == 2) {
        H5Tset_size(type, H5T_VARIABLE);
        hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, type, s);
        H5Aclose(a);
    } else {
        size_t sz = maxlen + (style == 1);
        H5Tset_size(type, sz);
        H5Tset_strpad(type, style == 0 ? H5T_STR_NULLPAD : H5T_STR_NULLTERM);
        char *buf = calloc((size_t)n, sz);
        for (int i = 0; i < n; i++) memcpy(buf + (size_t)i * sz, s[i], strlen(s[i]));
        hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, type, buf);
        H5Aclose(a);
        free(buf);
    }
    H5Sclose(space);
    H5Tclose(type);
}

static void write_empty_weight_names(hid_t g) {
    hsize_t zero = 0;
    hid_t space = H5Screate_simple(1, &zero, NULL);
    hid_t a = H5Acreate2(g, "weight_names", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    double dummy = 0;
    H5Awrite(a, H5T_NATIVE_DOUBLE, &dummy);
    H5Aclose(a);
    H5Sclose(space);
}

static void write_ds(hid_t g, const char *path, int nd, const hsize_t *dims, const float *data) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(g, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(lcpl);
}

typedef struct lay {
    char name[48];
    int kind; /* 0 weightless, 1 conv, 2 bn, 3 dense */
    convl *c;
} lay;

static void conv_names(const wopt *o, const convl *c, char *conv, char *bn) {
    static const char *const lb[4] = {"1", "2a", "2b", "2c"};
    if (c->stage == 1) {
        strcpy(conv, o->legacy ? "conv1" : "conv1_conv");
        strcpy(bn, o->legacy ? "bn_conv1" : "conv1_bn");
    } else if (o->legacy) {
        sprintf(conv, "res%d%c_branch%s", c->stage, 'a' + c->block - 1, lb[c->k_idx]);
        sprintf(bn, "bn%d%c_branch%s", c->stage, 'a' + c->block - 1, lb[c->k_idx]);
    } else {
        sprintf(conv, "conv%d_block%d_%d_conv", c->stage, c->block, c->k_idx);
        sprintf(bn, "conv%d_block%d_%d_bn", c->stage, c->block, c->k_idx);
    }
}

/* Keras's layer order (resnet.py: conv block _1, _2, _0 conv, _3 conv, _0 bn, _3 bn, add, out). */
static int layer_list(const wopt *o, lay *L) {
    int n = 0, act = 1;
    char cv[48], bn[48];
#define PUSH(nm, kd, cp)                                                                          \
    do {                                                                                          \
        snprintf(L[n].name, sizeof L[n].name, "%s", nm);                                          \
        L[n].kind = kd;                                                                           \
        L[n].c = cp;                                                                              \
        n++;                                                                                      \
    } while (0)
    char tmp[48];
    PUSH("input_1", 0, NULL);
    PUSH(o->legacy ? "zero_padding2d_1" : "conv1_pad", 0, NULL);
    convl *st = find_conv(1, 0, 0);
    conv_names(o, st, cv, bn);
    PUSH(cv, 1, st);
    PUSH(bn, 2, st);
    PUSH(o->legacy ? "activation_1" : "conv1_relu", 0, NULL);
    if (!o->legacy || o->pool_pad) PUSH("pool1_pad", 0, NULL);
    PUSH(o->legacy ? "max_pooling2d_1" : "pool1_pool", 0, NULL);
    static const int blocks[4] = {3, 4, 6, 3};
    for (int s = 2; s <= 5; s++)
        for (int b = 1; b <= blocks[s - 2]; b++) {
            char pre[32];
            snprintf(pre, sizeof pre, "conv%d_block%d", s, b);
            for (int k = 1; k <= 3; k++) {
                convl *c = find_conv(s, b, k);
                conv_names(o, c, cv, bn);
                if (k == 3 && b == 1) { /* _0_conv, _3_conv, _0_bn, _3_bn */
                    char cv0[48], bn0[48];
                    conv_names(o, find_conv(s, b, 0), cv0, bn0);
                    PUSH(o->legacy ? cv : cv0, 1, o->legacy ? c : find_conv(s, b, 0));
                    PUSH(o->legacy ? cv0 : cv, 1, o->legacy ? find_conv(s, b, 0) : c);
                    PUSH(o->legacy ? bn : bn0, 2, o->legacy ? c : find_conv(s, b, 0));
                    PUSH(o->legacy ? bn0 : bn, 2, o->legacy ? find_conv(s, b, 0) : c);
                } else {
                    PUSH(cv, 1, c);
                    PUSH(bn, 2, c);
                }
                if (k < 3) {
                    if (o->legacy)
                        snprintf(tmp, sizeof tmp, "activation_%d", ++act);
                    else
                        snprintf(tmp, sizeof tmp, "%s_%d_relu", pre, k);
                    PUSH(tmp, 0, NULL);
                }
            }
            if (o->legacy)
                snprintf(tmp, sizeof tmp, "add_%d", s * 10 + b);
            else
                snprintf(tmp, sizeof tmp, "%s_add", pre);
            PUSH(tmp, 0, NULL);
            if (o->legacy)
                snprintf(tmp, sizeof tmp, "activation_%d", ++act);
            else
                snprintf(tmp, sizeof tmp, "%s_out", pre);
            PUSH(tmp, 0, NULL);
        }
    if (o->top) {
        PUSH("avg_pool", 0, NULL);
        PUSH(o->legacy ? "fc1000" : "predictions", 3, NULL);
    }
#undef PUSH
    return n;
}

static void weight_name(const wopt *o, const char *layer, const char *role, const char *k1,
                        char *out) {
    if (o->keras1)
        snprintf(out, 96, "%.40s_%.20s:0", layer, k1);
    else
        snprintf(out, 96, "%.40s/%.20s:0", layer, role);
}

static int write_file(const char *path, const wopt *o) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    static lay L[400];
    int n = o->not_resnet ? 0 : layer_list(o, L);
    if (o->not_resnet) {
        snprintf(L[0].name, sizeof L[0].name, "dense_1");
        L[0].kind = 0;
        n = 1;
    }
    const char *names[400];
    int nn = 0;
    for (int i = 0; i < n; i++)
        if (!o->skip_layer || strcmp(L[i].name, o->skip_layer) != 0) names[nn++] = L[i].name;
    if (!o->no_layer_names) {
        if (o->split) {
            write_str_attr(f, "layer_names0", names, nn / 2, o->names_style, 0);
            write_str_attr(f, "layer_names1", names + nn / 2, nn - nn / 2, o->names_style, 0);
        } else {
            write_str_attr(f, "layer_names", names, nn, o->names_style, 0);
        }
    }
    const char *be = "tensorflow", *kv = "2.10.0";
    write_str_attr(f, "backend", &be, 1, 0, 1);
    write_str_attr(f, "keras_version", &kv, 1, 2, 1);
    for (int i = 0; i < n; i++) {
        if (o->skip_layer && strcmp(L[i].name, o->skip_layer) == 0) continue;
        hid_t g = H5Gcreate2(f, L[i].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int style = i % 3;
        char wn[4][96];
        const char *wp[4] = {wn[0], wn[1], wn[2], wn[3]};
        int bad = o->bad_shape_layer && strcmp(L[i].name, o->bad_shape_layer) == 0;
        int drop = o->drop_dataset_layer && strcmp(L[i].name, o->drop_dataset_layer) == 0;
        if (L[i].kind == 0) {
            write_empty_weight_names(g);
        } else if (L[i].kind == 1) {
            convl *c = L[i].c;
            weight_name(o, L[i].name, "kernel", "W", wn[0]);
            weight_name(o, L[i].name, "bias", "b", wn[1]);
            write_str_attr(g, "weight_names", wp, 2, style, 0);
            hsize_t kd[4] = {(hsize_t)c->k, (hsize_t)c->k, (hsize_t)c->cin,
                             (hsize_t)(bad ? c->cout / 2 : c->cout)};
            hsize_t bd[1] = {(hsize_t)c->cout};
            if (!drop) write_ds(g, wn[0], 4, kd, c->w);
            write_ds(g, wn[1], 1, bd, c->b);
        } else if (L[i].kind == 2) {
            convl *c = L[i].c;
            static const char *const roles[4] = {"gamma", "beta", "moving_mean",
                                                 "moving_variance"};
            static const char *const k1[4] = {"gamma", "beta", "running_mean", "running_std"};
            const float *data[4] = {c->gamma, c->beta, c->mean, c->var};
            for (int r = 0; r < 4; r++) weight_name(o, L[i].name, roles[r], k1[r], wn[r]);
            write_str_attr(g, "weight_names", wp, 4, style, 0);
            hsize_t bd[1] = {(hsize_t)c->cout};
            for (int r = 0; r < 4; r++)
                if (!(drop && r == 3)) write_ds(g, wn[r], 1, bd, data[r]);
        } else {
            weight_name(o, L[i].name, "kernel", "W", wn[0]);
            weight_name(o, L[i].name, "bias", "b", wn[1]);
            write_str_attr(g, "weight_names", wp, 2, style, 0);
            hsize_t kd[2] = {2048, CLASSES}, bd[1] = {CLASSES};
            write_ds(g, wn[0], 2, kd, g_dense_w);
            write_ds(g, wn[1], 1, bd, g_dense_b);
        }
        H5Gclose(g);
    }
    H5Fclose(f);
    return 0;
}

/* ---------------------------------------------------------------- fixtures ---------------- */

static char g_dir[256], g_notop[300], g_top[300];
static ev_image *g_img;       /* the test image */
static float *g_in64;         /* its Keras input at 64x64: nearest resize + caffe */
static double g_feat[2048], g_logits[CLASSES], g_prob[CLASSES];

/* Pillow's NEAREST (accumulating source position) and Keras's caffe preprocessing, in float32
 * as numpy computes x[..., 0] -= 103.939 on a float32 array. */
static float *keras_input(const ev_image *img, int w, int h) {
    int sw = ev_image_width(img), sh = ev_image_height(img);
    const uint8_t *px = ev_image_pixels(img);
    float *in = malloc(sizeof(float) * (size_t)w * h * 3);
    int *xs = malloc(sizeof(int) * (size_t)w), *ys = malloc(sizeof(int) * (size_t)h);
    double a = (double)sw / w, pos = a * 0.5;
    for (int i = 0; i < w; i++, pos += a) xs[i] = (int)pos;
    a = (double)sh / h;
    pos = a * 0.5;
    for (int i = 0; i < h; i++, pos += a) ys[i] = (int)pos;
    static const float mean[3] = {103.939f, 116.779f, 123.68f};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = px + ((size_t)ys[y] * sw + xs[x]) * 3;
            float *o = in + ((size_t)y * w + x) * 3;
            for (int ch = 0; ch < 3; ch++) o[ch] = (float)p[2 - ch] - mean[ch];
        }
    free(xs);
    free(ys);
    return in;
}

static int setup(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/ev_keras_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    double t0 = ev_test_now();
    make_weights();
    /* an image with structure: gradients plus noise, 97x83 so the resize is not trivial */
    int w = 97, h = 83;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < 3; ch++)
                rgb[((size_t)y * w + x) * 3 + ch] =
                    (uint8_t)((x * 2 + y * (ch + 1) * 3 + (int)(60 * ev_test_rng_open01(&g_rng))) % 256);
    ev_image_create(w, h, rgb, &g_img);
    free(rgb);
    g_in64 = keras_input(g_img, IN_W, IN_H);
    double t1 = ev_test_now();
    ref_forward(g_in64, IN_H, IN_W, 1.001e-5, 1, g_feat, NULL);
    /* scale the dense kernel so the logits spread over a few units: probabilities that mean
     * something rather than a one-hot */
    double fs = 0;
    for (int i = 0; i < 2048; i++) fs += g_feat[i] * g_feat[i];
    double scale = 3.0 / sqrt(fs);
    for (size_t i = 0; i < (size_t)2048 * CLASSES; i++)
        g_dense_w[i] = (float)(g_dense_w[i] * scale);
    for (int o = 0; o < CLASSES; o++) {
        double s = g_dense_b[o];
        for (int i = 0; i < 2048; i++) s += g_feat[i] * g_dense_w[(size_t)i * CLASSES + o];
        g_logits[o] = s;
    }
    softmax_d(g_logits, g_prob, CLASSES);
    double t2 = ev_test_now();
    snprintf(g_notop, sizeof g_notop, "%s/resnet50_notop.h5", g_dir);
    snprintf(g_top, sizeof g_top, "%s/resnet50.h5", g_dir);
    wopt o = {0};
    o.split = 1; /* layer_names0/1, fixed NULLPAD filling the slot exactly */
    if (write_file(g_notop, &o)) return -1;
    o.split = 0;
    o.top = 1;
    o.names_style = 2;
    if (write_file(g_top, &o)) return -1;
    fprintf(stderr, "setup: weights %.2f s, reference %dx%d %.2f s, two files %.2f s\n", t1 - t0,
            IN_W, IN_H, t2 - t1, ev_test_now() - t2);
    return 0;
}

/* ---------------------------------------------------------------- tests ------------------- */

static ev_status load(const char *path, int w, int h, int top, ev_model **m) {
    ev_keras_options o;
    ev_keras_options_init(&o);
    o.input_width = w;
    o.input_height = h;
    o.include_top = top;
    return ev_keras_resnet50_load(path, &o, m);
}

typedef struct cap {
    float logits[CLASSES];
    int got;
} cap;

static int capture_fc(void *user, int op, const char *name, const ev_tensor_info *t,
                      const void *data) {
    (void)op;
    cap *c = user;
    if (strcmp(name, "FULLY_CONNECTED") == 0 && t->bytes == sizeof c->logits) {
        memcpy(c->logits, data, sizeof c->logits);
        c->got = 1;
    }
    return 0;
}

/* The backends (and cpu ISA paths) the model runs on and is compared against the double
 * reference: ref, and the cpu backend (float conv and dense through its float GEMM) on its AVX2
 * path and on the best path of this machine, two threads. */
typedef struct target {
    const char *backend, *isa;
    int threads;
    const char *label;
} target;
static const target k_targets[] = {
    {"ref", NULL, 1, "ref"}, {"cpu", "avx2", 2, "cpu/avx2"}, {"cpu", NULL, 2, "cpu/best"}};
#define N_TARGETS ((int)(sizeof k_targets / sizeof k_targets[0]))

/* Runs model m on `in` on target tg and returns a malloc'd copy of output 0 (n floats). */
static float *run_model_on(ev_model *m, const float *in, size_t in_n, size_t *n, cap *c,
                           const target *tg) {
    ev_run_opts o = {.backend = tg->backend, .isa = tg->isa, .threads = tg->threads,
                     .cb = c ? capture_fc : NULL, .cb_user = c};
    size_t bytes = in_n * sizeof(float), len = 0;
    void *out = NULL;
    CHECK_OK(ev_test_run_copy(m, &o, 1, (const void *const[]){in}, &bytes, 0, &out, &len));
    if (out)
        fprintf(stderr, "  run on %s: %.3f s\n", tg->label, o.run_s);
    *n = len / sizeof(float);
    return out;
}

static float *run_model(ev_model *m, const float *in, size_t in_n, size_t *n, cap *c) {
    return run_model_on(m, in, in_n, n, c, &k_targets[0]);
}

static void test_notop(void) {
    ev_model *m = NULL;
    CHECK_OK(load(g_notop, IN_W, IN_H, -1, &m));
    if (!m) return;
    ev_tensor_info ii, oi;
    CHECK_OK(ev_model_input_info(m, 0, &ii));
    CHECK_OK(ev_model_output_info(m, 0, &oi));
    CHECK(ii.dtype == EV_DTYPE_F32 && ii.ndim == 4 && ii.dims[1] == IN_H && ii.dims[2] == IN_W &&
          ii.dims[3] == 3);
    CHECK(oi.ndim == 2 && oi.dims[0] == 1 && oi.dims[1] == 2048);
    CHECK(ev_model_preprocess(m) == EV_PREPROCESS_CAFFE_BGR);
    for (int t = 0; t < N_TARGETS; t++) {
        size_t n = 0;
        float *y = run_model_on(m, g_in64, (size_t)IN_W * IN_H * 3, &n, NULL, &k_targets[t]);
        CHECK_EQ_INT(n, 2048);
        if (y && n == 2048) {
            double e = rel_err(y, g_feat, 2048);
            double mr = 0;
            for (int i = 0; i < 2048; i++) mr = fabs(g_feat[i]) > mr ? fabs(g_feat[i]) : mr;
            fprintf(stderr, "  no top on %s: features relative error %.3g (max |ref| %.3g)\n",
                    k_targets[t].label, e, mr);
            CHECK_MSG(e < TOL, "%s: relative error %g", k_targets[t].label, e);
        }
        free(y);
    }
    ev_model_free(m);
}

static void test_top(void) {
    ev_model *m = NULL;
    CHECK_OK(load(g_top, IN_W, IN_H, -1, &m));
    if (!m) return;
    ev_tensor_info oi;
    CHECK_OK(ev_model_output_info(m, 0, &oi));
    CHECK(oi.ndim == 2 && oi.dims[1] == CLASSES);
    size_t n = 0;
    float *y = NULL;
    for (int t = 0; t < N_TARGETS; t++) {
        cap c = {{0}, 0};
        free(y);
        y = run_model_on(m, g_in64, (size_t)IN_W * IN_H * 3, &n, &c, &k_targets[t]);
        CHECK_EQ_INT(n, CLASSES);
        CHECK(c.got);
        if (y && n == CLASSES) {
            double ep = rel_err(y, g_prob, CLASSES), el = rel_err(c.logits, g_logits, CLASSES);
            double pmax = 0;
            for (int i = 0; i < CLASSES; i++) pmax = g_prob[i] > pmax ? g_prob[i] : pmax;
            fprintf(stderr, "  top on %s: probabilities relative error %.3g (max p %.3f), logits "
                    "%.3g\n", k_targets[t].label, ep, pmax, el);
            CHECK_MSG(ep < TOL, "%s: probabilities: relative error %g", k_targets[t].label, ep);
            CHECK_MSG(el < TOL, "%s: logits: relative error %g", k_targets[t].label, el);
            CHECK(pmax > 0.01 && pmax < 0.99); /* the comparison means something */
        }
    }
    free(y);
    ev_model_free(m);
    /* include_top = 0 on a file with a top: the pooled features */
    CHECK_OK(load(g_top, IN_W, IN_H, 0, &m));
    if (m) {
        y = run_model(m, g_in64, (size_t)IN_W * IN_H * 3, &n, NULL);
        CHECK_EQ_INT(n, 2048);
        if (y && n == 2048) CHECK(rel_err(y, g_feat, 2048) < TOL);
        free(y);
        ev_model_free(m);
    }
}

/* ev_model_load by content: 224x224, top as the file has it (not run: slow on ref in CI) */
static void test_model_load_default(void) {
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(g_top, &m));
    if (!m) return;
    ev_tensor_info ii, oi;
    ev_model_input_info(m, 0, &ii);
    ev_model_output_info(m, 0, &oi);
    CHECK(ii.dims[1] == 224 && ii.dims[2] == 224 && oi.dims[1] == CLASSES);
    CHECK(ev_model_preprocess(m) == EV_PREPROCESS_CAFFE_BGR);
    /* 53 convs, 2 pads, max pool, 16 adds, mean, dense, softmax */
    CHECK_EQ_INT(ev_model_num_ops(m), 53 + 2 + 1 + 16 + 1 + 2);
    ev_model_free(m);
    CHECK_OK(ev_model_load(g_notop, &m));
    if (m) {
        ev_model_output_info(m, 0, &oi);
        CHECK(oi.ndim == 2 && oi.dims[1] == 2048);
        ev_model_free(m);
    }
}

/* The classifier: the image resized with nearest and caffe-preprocessed by the library */
static void test_classifier(void) {
    ev_keras_options ko;
    ev_keras_options_init(&ko);
    ko.input_width = IN_W;
    ko.input_height = IN_H;
    ev_classifier_options co;
    ev_classifier_options_init(&co);
    co.resize = EV_RESIZE_NEAREST;
    ev_classifier *c = NULL;
    CHECK_OK(ev_classifier_create_keras(g_notop, &ko, &co, &c));
    if (c) {
        CHECK_EQ_INT(ev_classifier_embedding_size(c), 2048);
        float emb[2048];
        CHECK_OK(ev_classifier_embedding(c, g_img, emb, 2048));
        double e = rel_err(emb, g_feat, 2048);
        fprintf(stderr, "  classifier embedding: relative error %.3g\n", e);
        CHECK_MSG(e < TOL, "embedding relative error %g", e);
        ev_classifier_free(c);
    }
    c = NULL;
    CHECK_OK(ev_classifier_create_keras(g_top, &ko, &co, &c));
    if (c) {
        CHECK_EQ_INT(ev_classifier_num_classes(c), CLASSES);
        ev_class_score top[5];
        int cnt = 0;
        CHECK_OK(ev_classifier_top_k(c, g_img, 5, top, &cnt));
        CHECK_EQ_INT(cnt, 5);
        ev_class_score ref[5];
        float pf[CLASSES];
        for (int i = 0; i < CLASSES; i++) pf[i] = (float)g_prob[i];
        ev_classifier_top_k_of(pf, CLASSES, 5, ref);
        for (int i = 0; i < cnt; i++) {
            CHECK_EQ_INT(top[i].class_id, ref[i].class_id);
            CHECK_NEAR(top[i].score, g_prob[ref[i].class_id], 1e-4 * g_prob[ref[0].class_id]);
        }
        ev_classifier_free(c);
    }
}

/* The CLI: .h5 model, --input-size, nearest by default, 1001-line labels (background first) */
static void test_cli(void) {
    char img[400], labels[400], out[400], cmd[2048];
    snprintf(img, sizeof img, "%s/image.png", g_dir);
    snprintf(labels, sizeof labels, "%s/labels.txt", g_dir);
    snprintf(out, sizeof out, "%s/cli.txt", g_dir);
    CHECK_OK(ev_image_save(g_img, img));
    FILE *f = fopen(labels, "w");
    if (!f) return;
    fprintf(f, "background\n");
    for (int i = 0; i < CLASSES; i++) fprintf(f, "class %d\n", i);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' classify --model '%s' --input-size %dx%d --labels '%s' "
             "--top 3 '%s' >'%s' 2>'%s.err'", EV_CLI_PATH, g_top, IN_W, IN_H, labels, img, out,
             out); /* stdout is the contract; stderr says which backend ran */
    int rc = system(cmd);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "exit status %d", rc);
    size_t len = 0;
    char *text = (char *)ev_test_read(out, &len);
    if (!text) return;
    text = realloc(text, len + 1);
    text[len] = '\0';
    ev_class_score ref[3];
    float pf[CLASSES];
    for (int i = 0; i < CLASSES; i++) pf[i] = (float)g_prob[i];
    ev_classifier_top_k_of(pf, CLASSES, 3, ref);
    char *save = NULL;
    int r = 0;
    for (char *l = strtok_r(text, "\n", &save); l && r < 3; l = strtok_r(NULL, "\n", &save), r++) {
        char path[400], label[64];
        int rank, id, k;
        double score;
        int got = sscanf(l, "%399s %d %d %lf class %d", path, &rank, &id, &score, &k);
        CHECK_MSG(got == 5, "line '%s'", l);
        if (got != 5) break;
        snprintf(label, sizeof label, "class %d", k);
        CHECK_EQ_INT(rank, r + 1);
        CHECK_EQ_INT(id, ref[r].class_id);
        CHECK_EQ_INT(k, id); /* the background line is skipped */
    }
    CHECK_EQ_INT(r, 3);
    free(text);
}

/* The legacy resnet50.py file: mapped names, epsilon 1e-3, Keras-1 weight names; without
 * pool1_pad the max pool runs unpadded. Odd, non-square sizes exercise the VALID floors. */
static void test_legacy(void) {
    for (int variant = 0; variant < 2; variant++) {
        const int w = variant ? 35 : 40, h = variant ? 33 : 32;
        char path[300];
        snprintf(path, sizeof path, "%s/legacy%d.h5", g_dir, variant);
        wopt o = {0};
        o.legacy = 1;
        o.top = 1;
        o.keras1 = variant;
        o.pool_pad = !variant;
        o.names_style = 1;
        CHECK(write_file(path, &o) == 0);
        float *in = malloc(sizeof(float) * (size_t)w * h * 3);
        for (int i = 0; i < w * h * 3; i++) in[i] = (float)(255.0 * ev_test_rng_open01(&g_rng) - 120.0);
        double feat[2048], logits[CLASSES], prob[CLASSES];
        ref_forward(in, h, w, 1e-3, o.pool_pad, feat, logits);
        softmax_d(logits, prob, CLASSES);
        ev_model *m = NULL;
        CHECK_OK(load(path, w, h, -1, &m));
        if (m) {
            size_t n = 0;
            cap c = {{0}, 0};
            float *y = run_model(m, in, (size_t)w * h * 3, &n, &c);
            CHECK_EQ_INT(n, CLASSES);
            if (y && n == CLASSES) {
                double el = rel_err(c.logits, logits, CLASSES), ep = rel_err(y, prob, CLASSES);
                fprintf(stderr, "  legacy %s, %dx%d: logits relative error %.3g, "
                        "probabilities %.3g\n", variant ? "Keras-1 names, no pool1_pad" :
                        "with pool1_pad", w, h, el, ep);
                CHECK_MSG(el < TOL && ep < TOL, "legacy variant %d: %g %g", variant, el, ep);
            }
            free(y);
            ev_model_free(m);
        }
        free(in);
        remove(path);
    }
}

/* An error case: writes the file with `o`, loads it, expects `want` and every `needles` in the
 * message. */
static void expect_error(const char *tag, const wopt *o, int w, ev_status want,
                         const char *const *needles) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s.h5", g_dir, tag);
    if (o)
        CHECK(write_file(path, o) == 0);
    else
        snprintf(path, sizeof path, "%s", g_notop);
    ev_model *m = NULL;
    ev_status st = load(path, w, w, -1, &m);
    const char *msg = ev_last_error();
    fprintf(stderr, "  %s: %s\n", tag, msg);
    CHECK_MSG(st == want, "%s: status %d (%s), expected %d", tag, (int)st, msg, (int)want);
    for (int i = 0; needles[i]; i++)
        CHECK_MSG(strstr(msg, needles[i]) != NULL, "%s: '%s' not in '%s'", tag, needles[i], msg);
    CHECK(m == NULL);
    ev_model_free(m);
    if (o) remove(path);
}

static void test_errors(void) {
    wopt o = {0};
    o.skip_layer = "conv3_block2_2_bn";
    expect_error("missing_layer", &o, 64, EV_ERR_FORMAT,
                 (const char *const[]){"conv3_block2_2_bn", "missing", NULL});
    o = (wopt){0};
    o.bad_shape_layer = "conv4_block1_2_conv";
    expect_error("wrong_shape", &o, 64, EV_ERR_SHAPE,
                 (const char *const[]){"conv4_block1_2_conv", "3x3x256x128", "3x3x256x256", NULL});
    o = (wopt){0};
    o.drop_dataset_layer = "conv5_block3_3_bn";
    expect_error("missing_dataset", &o, 64, EV_ERR_FORMAT,
                 (const char *const[]){"conv5_block3_3_bn", "moving_variance:0", NULL});
    o = (wopt){0};
    o.not_resnet = 1;
    expect_error("not_resnet", &o, 64, EV_ERR_UNSUPPORTED,
                 (const char *const[]){"not a Keras ResNet50", "dense_1", NULL});
    o = (wopt){0};
    o.no_layer_names = 1;
    expect_error("no_layer_names", &o, 64, EV_ERR_FORMAT, (const char *const[]){"layer_names",
                 NULL});
    expect_error("too_small", NULL, 16, EV_ERR_INVALID_ARG, (const char *const[]){"16x16", NULL});
    /* include_top = 1 on a no-top file */
    ev_model *m = NULL;
    CHECK(load(g_notop, 64, 64, 1, &m) == EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "predictions") != NULL);
    /* truncated: the first 60% of the no-top file names a layer past the cut */
    size_t len = 0;
    unsigned char *bytes = ev_test_read(g_notop, &len);
    if (bytes) {
        static const int pcts[3] = {60, 20, 1};
        for (int pi = 0; pi < 3; pi++) {
            const int pct = pcts[pi];
            char path[300];
            snprintf(path, sizeof path, "%s/truncated.h5", g_dir);
            FILE *f = fopen(path, "wb");
            size_t cut = len * (size_t)pct / 100;
            fwrite(bytes, 1, cut, f);
            fclose(f);
            ev_status st = ev_model_load(path, &m);
            const char *msg = ev_last_error();
            fprintf(stderr, "  truncated at %d%%: %s\n", pct, msg);
            CHECK(st == EV_ERR_FORMAT && m == NULL);
            CHECK_MSG(strstr(msg, "the file is truncated") != NULL, "%s", msg);
            if (pct == 60) CHECK_MSG(strstr(msg, "layer '") != NULL, "no layer named: %s", msg);
            ev_model_free(m);
            m = NULL;
            remove(path);
        }
        /* not HDF5 at all through the Keras entry point */
        char path[300];
        snprintf(path, sizeof path, "%s/junk.h5", g_dir);
        FILE *f = fopen(path, "wb");
        fwrite("not hdf5 at all", 1, 15, f);
        fclose(f);
        CHECK(load(path, 64, 64, -1, &m) == EV_ERR_FORMAT);
        CHECK(strstr(ev_last_error(), "HDF5") != NULL);
        remove(path);
        /* the real file with its superblock's group leaf node K set to 34567: libhdf5 would
         * allocate 2.27 GB for it (found by fuzz_keras_h5); refused before libhdf5 sees it */
        CHECK(len > 24 && bytes[8] == 0 && bytes[16] == 4 && bytes[17] == 0); /* v0, K = 4 */
        bytes[16] = 0x07, bytes[17] = 0x87;
        CHECK(ev_model_load_memory(bytes, len, "leaf_k.h5", &m) == EV_ERR_FORMAT && m == NULL);
        CHECK_MSG(strstr(ev_last_error(), "group leaf node K is 34567") != NULL, "%s",
                  ev_last_error());
        bytes[16] = 4, bytes[17] = 0;
        /* its base address made "undefined" (all ones): libhdf5 sized a buffer of gigabytes */
        CHECK(bytes[13] == 8);         /* 8-byte offsets; the base address is at 24 */
        memset(bytes + 24, 0xff, 8);
        CHECK(ev_model_load_memory(bytes, len, "base.h5", &m) == EV_ERR_FORMAT && m == NULL);
        CHECK_MSG(strstr(ev_last_error(), "undefined or implausible") != NULL, "%s",
                  ev_last_error());
        free(bytes);
    }
}

int main(void) {
    if (setup() != 0) {
        fprintf(stderr, "cannot set up the test files in /tmp\n");
        return 1;
    }
    EV_RUN(test_notop);
    EV_RUN(test_top);
    EV_RUN(test_model_load_default);
    EV_RUN(test_classifier);
    EV_RUN(test_cli);
    EV_RUN(test_legacy);
    EV_RUN(test_errors);
    remove(g_notop);
    remove(g_top);
    char p[400];
    snprintf(p, sizeof p, "%s/image.png", g_dir);
    remove(p);
    snprintf(p, sizeof p, "%s/labels.txt", g_dir);
    remove(p);
    snprintf(p, sizeof p, "%s/cli.txt", g_dir);
    remove(p);
    rmdir(g_dir);
    ev_image_free(g_img);
    free(g_in64);
    for (int i = 0; i < g_nconv; i++) {
        convl *c = &g_conv[i];
        free(c->w);
        free(c->b);
        free(c->gamma);
        free(c->beta);
        free(c->mean);
        free(c->var);
    }
    free(g_dense_w);
    free(g_dense_b);
    return ev_test_finish();
}
