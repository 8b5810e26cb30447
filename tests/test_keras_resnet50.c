/*
 * test_keras_resnet50.c - Keras ResNet50 from HDF5 weights against an independent double-precision
 * implementation written here from the spec (shared/docs/transfer-learning.md section 1).
 *
 * The real ImageNet weights cannot be downloaded here, so the test writes files with Keras's
 * exact layout through the HDF5 C API (the shared writer tests/keras_resnet50_writer.c: root layer_names / backend / keras_version, one group per
 * layer with weight_names, datasets <layer>/<layer>/kernel:0 in HWIO, zero-length float64
 * weight_names for weightless layers; fixed-length NULLPAD strings that fill their slot exactly,
 * NULLTERM and variable-length strings; split layer_names0/1) and realistic random weights (He
 * normal kernels, BN variances near 1). The reference convolves, normalises (BN unfolded),
 * pads and pools in double on HWIO weights directly; outputs must agree within 1e-4 relative
 * (max|y - ref| / max|ref|), with and without the top, through the model API and the
 * classifier (nearest resize + caffe preprocessing recomputed here). The model runs on ref and
 * on the cpu backend (its float GEMM conv and dense; AVX2 and the machine's best path, two
 * threads), each against the double reference at the same 1e-4; at 192x192 the best path
 * against the ref backend (on AMX-BF16 machines its split line then runs stages 2-4). The
 * legacy resnet50.py naming (epsilon 1e-3, Keras-1 weight names, with and without pool1_pad)
 * runs on odd sizes.
 * Errors: missing layer, wrong shape, missing dataset, truncated file, non-ResNet and
 * non-Keras HDF5 files, bad options, each named in the message. The CLI: classify, and bench
 * reporting the inference median of a .h5 model.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "keras_resnet50_writer.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_H 64
#define IN_W 64
#define TOL 1e-4

/* ---------------------------------------------------------------- random weights ---------- */

/* The weights and the file writer are shared with bench/make_resnet50_h5.c
 * (keras_resnet50_writer.h); the reference below reads the same weights. */
static ev_test_rng g_rng = {0x9e3779b97f4a7c15ull};
static kr50_weights g_w;
#define CLASSES KR50_CLASSES
typedef kr50_conv convl;
typedef kr50_write_options wopt;

static convl *find_conv(int stage, int block, int k_idx) {
    return kr50_find_conv(&g_w, stage, block, k_idx);
}

static int write_file(const char *path, const wopt *o) { return kr50_write(path, &g_w, o); }

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
            double s = g_w.dense_b[o];
            for (int i = 0; i < 2048; i++) s += feat[i] * g_w.dense_w[(size_t)i * CLASSES + o];
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
    if (kr50_weights_random(&g_w, &g_rng) != 0) return -1;
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
        g_w.dense_w[i] = (float)(g_w.dense_w[i] * scale);
    for (int o = 0; o < CLASSES; o++) {
        double s = g_w.dense_b[o];
        for (int i = 0; i < 2048; i++) s += g_feat[i] * g_w.dense_w[(size_t)i * CLASSES + o];
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

/* At 192x192 (stage 4 at 12x12: 144 pixels) the cpu backend's best path on an AMX-BF16 machine
 * runs the split line (gemm_f32_amx.c) on stages 2-4's 3x3 and wide 1x1 convolutions, strided
 * and padded ones included: its probabilities and logits against the ref backend's on the same
 * model, within TOL (max |y - ref| / max |ref|; both float32, each op within 1e-5 of ref). */
static void test_top_192(void) {
    ev_model *m = NULL;
    CHECK_OK(load(g_top, 192, 192, -1, &m));
    if (!m) return;
    float *in = keras_input(g_img, 192, 192);
    size_t nr = 0, nc = 0;
    cap cr = {{0}, 0}, cc = {{0}, 0};
    float *yr = run_model_on(m, in, (size_t)192 * 192 * 3, &nr, &cr, &k_targets[0]);
    float *yc = run_model_on(m, in, (size_t)192 * 192 * 3, &nc, &cc, &k_targets[N_TARGETS - 1]);
    CHECK(yr && yc && nr == CLASSES && nc == CLASSES && cr.got && cc.got);
    if (yr && yc && nr == CLASSES && nc == CLASSES && cr.got && cc.got) {
        double pr[CLASSES], lr[CLASSES];
        for (int i = 0; i < CLASSES; i++) pr[i] = yr[i], lr[i] = cr.logits[i];
        const double ep = rel_err(yc, pr, CLASSES), el = rel_err(cc.logits, lr, CLASSES);
        fprintf(stderr, "  192x192 cpu/best against ref: probabilities %.3g, logits %.3g\n", ep,
                el);
        CHECK_MSG(ep < TOL && el < TOL, "192x192: probabilities %g, logits %g", ep, el);
    }
    free(yr), free(yc), free(in);
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

/* The benchmark contract on a Keras file: `edgevision bench --model X.h5 --backend cpu --threads 2
 * --min-runs N --json F IMAGE` reports the inference median. A Keras file's input is 224x224
 * (bench's --input-size is for free-size graphs), so two runs and no warm-up keep it to seconds on
 * reference float kernels. Runs after test_cli, which wrote image.png. */
static void test_bench_cli(void) {
    int have_cpu = 0;
    for (const char *const *b = ev_backend_names(); *b; b++) have_cpu |= strcmp(*b, "cpu") == 0;
    if (!have_cpu) {
        fprintf(stderr, "  no cpu backend in this build: skipped\n");
        return;
    }
    char img[400], json[400], cmd[2048];
    snprintf(img, sizeof img, "%s/image.png", g_dir);
    snprintf(json, sizeof json, "%s/bench.json", g_dir);
    snprintf(cmd, sizeof cmd, "'%s' bench --model '%s' --backend cpu --threads 2 --warmup-runs 0 "
             "--min-runs 2 --min-secs 0 --quiet --json '%s' '%s' >'%s.out' 2>&1", EV_CLI_PATH,
             g_top, json, img, json);
    int rc = system(cmd);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "exit status %d (output in %s.out)", rc, json);
    size_t len = 0;
    char *text = (char *)ev_test_read(json, &len);
    CHECK(text != NULL);
    if (!text) return;
    text = realloc(text, len + 1);
    text[len] = '\0';
    cJSON *j = cJSON_Parse(text);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
    const cJSON *med = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "stages"), "inference"), "median_ms");
    const cJSON *runs = cJSON_GetObjectItem(r, "runs"), *thr = cJSON_GetObjectItem(r, "threads");
    const cJSON *be = cJSON_GetObjectItem(r, "backend");
    CHECK(cJSON_IsNumber(med) && med->valuedouble > 0);
    CHECK(cJSON_IsNumber(runs) && runs->valueint >= 2);
    CHECK(cJSON_IsNumber(thr) && thr->valueint == 2);
    CHECK(cJSON_IsString(be) && strcmp(be->valuestring, "cpu") == 0);
    if (cJSON_IsNumber(med)) fprintf(stderr, "  bench: inference median %.1f ms\n", med->valuedouble);
    cJSON_Delete(j);
    free(text);
    remove(json);
    char out[420];
    snprintf(out, sizeof out, "%s.out", json);
    remove(out);
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
    EV_RUN(test_top_192);
    EV_RUN(test_model_load_default);
    EV_RUN(test_classifier);
    EV_RUN(test_cli);
    EV_RUN(test_bench_cli);
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
    kr50_weights_free(&g_w);
    return ev_test_finish();
}
