/*
 * test_onnx.c - ONNX models end to end through the public API and the CLI:
 *   - the shared PoseNet s8w ONNX models ($EDGEVISION_SHARED/models/posenet/onnx/..._s8w.onnx,
 *     QLinearConv, NHWC by Transpose nodes) give heads bit-identical (bytes, shapes,
 *     quantization) to the TFLite backbones of the same size: cpu at 353x481, 481x641 and
 *     721x1281 (2 threads), ref at 353x481 (ref takes seconds a run at the larger sizes);
 *   - `edgevision pose --decoder multi --format csv` prints the same bytes for the ONNX and the
 *     TFLite model of each size (cpu);
 *   - tensor files: .pb (ONNX TensorProto) and .npy round trips of every dtype the API takes
 *     (dtype, shape, data), scalars included; truncated tensor files are errors;
 *   - models written here byte by byte (a small protobuf writer below, independent of the
 *     reader's protobuf-c): QuantizeLinear rounds ties to even as ONNX does; MaxPool with pads
 *     SAME does not reproduce runs exactly after a Relu (zero padding) and without one (-inf
 *     padding); malformed attributes of ConvTranspose, 3-D / dilated pools and 3-D Conv are
 *     refused naming op and attribute; an initializer
 *     with data_location EXTERNAL is refused naming the external file; every truncation of a
 *     model and random corruptions give errors or valid runs, never crashes;
 *   - `edgevision run` writes output_0.pb with the right values (exit 0), and exits 1 naming
 *     the op type for an unsupported op.
 * The PoseNet parts skip (loudly) when the shared data is absent.
 *
 * Extend: another hand-written model is a builder like model_relu() with the pb_* writer; a
 * shared model pair is a line in k_sizes.
 */
#include "ev_test.h"
#include "util.h"

#include "edgevision.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const k_sizes[] = {"353_481", "481_641", "721_1281"};

/* ------------------------------------------------------------------------------------------ */
/* A minimal protobuf writer (wire format: varints and length-delimited fields)                */
/* ------------------------------------------------------------------------------------------ */

typedef struct pb {
    uint8_t *d;
    size_t n, cap;
} pb;

static void pb_bytes(pb *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *d = realloc(b->d, cap);
        if (!d) abort();
        b->d = d, b->cap = cap;
    }
    if (n) memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void pb_varint(pb *b, uint64_t v) {
    uint8_t t[10];
    int n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_bytes(b, t, (size_t)n);
}

static void pb_int(pb *b, int field, int64_t v) { /* varint field */
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, (uint64_t)v);
}

static void pb_len(pb *b, int field, const void *p, size_t n) { /* length-delimited field */
    pb_varint(b, ((uint64_t)field << 3) | 2);
    pb_varint(b, n);
    pb_bytes(b, p, n);
}

static void pb_str(pb *b, int field, const char *s) { pb_len(b, field, s, strlen(s)); }

static void pb_msg(pb *b, int field, pb *m) { /* embeds m and frees it */
    pb_len(b, field, m->d, m->n);
    free(m->d);
    memset(m, 0, sizeof *m);
}

static void pb_float_attr(pb *node, const char *name, float f) {
    pb a = {0};
    pb_str(&a, 1, name);
    pb_varint(&a, (2 << 3) | 5); /* f: fixed32 */
    pb_bytes(&a, &f, 4);
    pb_int(&a, 20, 1); /* type FLOAT */
    pb_msg(node, 5, &a);
}

static void pb_ints_attr(pb *node, const char *name, int n, const int64_t *v) {
    pb a = {0};
    pb_str(&a, 1, name);
    for (int i = 0; i < n; i++) pb_int(&a, 8, v[i]);
    pb_int(&a, 20, 7); /* type INTS */
    pb_msg(node, 5, &a);
}

/* ONNX TensorProto.DataType values */
enum { T_FLOAT = 1, T_UINT8 = 2, T_INT8 = 3, T_INT32 = 6, T_INT64 = 7 };

/* ValueInfoProto of a tensor elem_type with dims. */
static void pb_value_info(pb *g, int field, const char *name, int elem, int nd, const int *dims) {
    pb shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int i = 0; i < nd; i++) {
        pb dim = {0};
        pb_int(&dim, 1, dims[i]);
        pb_msg(&shape, 1, &dim);
    }
    pb_int(&tt, 1, elem);
    pb_msg(&tt, 2, &shape);
    pb_msg(&type, 1, &tt);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    pb_msg(g, field, &vi);
}

/* An initializer (TensorProto, raw_data); external: data_location EXTERNAL in `location`. */
static void pb_initializer(pb *g, const char *name, int elem, int nd, const int *dims,
                           const void *raw, size_t n, const char *external) {
    pb t = {0};
    for (int i = 0; i < nd; i++) pb_int(&t, 1, dims[i]);
    pb_int(&t, 2, elem);
    pb_str(&t, 8, name);
    if (external) {
        pb e = {0};
        pb_str(&e, 1, "location");
        pb_str(&e, 2, external);
        pb_msg(&t, 13, &e);
        pb_int(&t, 14, 1); /* EXTERNAL */
    } else {
        pb_len(&t, 9, raw, n);
    }
    pb_msg(g, 5, &t);
}

static void pb_node(pb *g, const char *op, const char *name, int n_in, const char *const *ins,
                    const char *out, pb *attrs) {
    pb nd = {0};
    for (int i = 0; i < n_in; i++) pb_str(&nd, 1, ins[i]);
    pb_str(&nd, 2, out);
    pb_str(&nd, 3, name);
    pb_str(&nd, 4, op);
    if (attrs && attrs->n) pb_bytes(&nd, attrs->d, attrs->n);
    if (attrs) free(attrs->d);
    pb_msg(g, 1, &nd);
}

/* ModelProto around graph g (opset 13); the graph is the last field, so any truncation that
 * reaches into it leaves a length that runs past the end. */
static uint8_t *pb_model(pb *g, size_t *size) {
    pb m = {0}, op = {0};
    pb_int(&m, 1, 7); /* ir_version */
    pb_str(&m, 2, "edgevision test_onnx");
    pb_str(&op, 1, "");
    pb_int(&op, 2, 13);
    pb_msg(&m, 8, &op);
    pb_str(g, 2, "g");
    pb_msg(&m, 7, g);
    *size = m.n;
    return m.d;
}

/* x [1, 4] float -> y = LeakyRelu(x, alpha 0.25) + bias (initializer [4]). */
static uint8_t *model_leaky(size_t *size, const char *op_type) {
    pb g = {0}, at = {0};
    int d[2] = {1, 4}, four = 4;
    float bias[4] = {0.5f, -1.0f, 2.0f, 0.0f};
    const char *in1[1] = {"x"}, *in2[2] = {"h", "bias"};
    pb_float_attr(&at, "alpha", 0.25f);
    pb_node(&g, op_type, "act", 1, in1, "h", &at);
    pb_node(&g, "Add", "add", 2, in2, "y", NULL);
    pb_initializer(&g, "bias", T_FLOAT, 1, &four, bias, sizeof bias, NULL);
    pb_value_info(&g, 11, "x", T_FLOAT, 2, d);
    pb_value_info(&g, 12, "y", T_FLOAT, 2, d);
    return pb_model(&g, size);
}

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static char g_tmp[256];

static const char *tmp_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", g_tmp, name);
    return buf;
}

/* The model around graph g written to the temporary file `name` and loaded from there. */
static ev_status load_graph(pb *g, const char *name, ev_model **m) {
    size_t size;
    uint8_t *bytes = pb_model(g, &size);
    char path[300];
    tmp_path(path, sizeof path, name);
    CHECK(write_file(path, bytes, size) == 0);
    free(bytes);
    *m = NULL;
    return ev_model_load(path, m);
}

/* ------------------------------------------------------------------------------------------ */
/* PoseNet: ONNX s8w against the TFLite backbone                                               */
/* ------------------------------------------------------------------------------------------ */

static void posenet_paths(const char *size, char *onnx, char *tfl, size_t n) {
    char rel[160];
    snprintf(rel, sizeof rel, "models/posenet/onnx/posenet_mobilenet_v1_075_%s_quant_s8w.onnx",
             size);
    ev_test_path(onnx, n, rel);
    snprintf(rel, sizeof rel, "models/posenet/posenet_mobilenet_v1_075_%s_quant.tflite", size);
    ev_test_path(tfl, n, rel);
}

/* The golden resized test_couple.jpg at 353x481, xorshift32 bytes (seed 12345) elsewhere. */
static uint8_t *posenet_input(const ev_tensor_info *ii) {
    uint8_t *in = malloc(ii->bytes);
    char p[512];
    ev_test_path(p, sizeof p, "data/golden/posenet_353_481/input_353_481_rgb_u8.raw");
    size_t len = 0;
    unsigned char *g = ii->dims[1] == 353 ? ev_test_read(p, &len) : NULL;
    if (g && len == ii->bytes) {
        memcpy(in, g, len);
    } else {
        uint32_t x = 12345;
        for (size_t i = 0; i < ii->bytes; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            in[i] = (uint8_t)x;
        }
    }
    free(g);
    return in;
}

static void test_posenet_heads(void) {
    char onnx[512], tfl[512];
    posenet_paths(k_sizes[0], onnx, tfl, sizeof onnx);
    EV_REQUIRE_FILE(onnx);
    EV_REQUIRE_FILE(tfl);
    for (int si = 0; si < 3; si++) {
        posenet_paths(k_sizes[si], onnx, tfl, sizeof onnx);
        if (!ev_test_exists(onnx) || !ev_test_exists(tfl)) {
            fprintf(stderr, "  %s: absent, not compared\n", k_sizes[si]);
            continue;
        }
        ev_model *mo = NULL, *mt = NULL;
        CHECK_OK(ev_model_load(onnx, &mo));
        CHECK_OK(ev_model_load(tfl, &mt));
        if (!mo || !mt) {
            ev_model_free(mo), ev_model_free(mt);
            continue;
        }
        CHECK_EQ_INT(ev_model_num_inputs(mo), 1);
        CHECK_EQ_INT(ev_model_num_outputs(mo), ev_model_num_outputs(mt));
        ev_tensor_info io, it;
        CHECK_OK(ev_model_input_info(mo, 0, &io));
        CHECK_OK(ev_model_input_info(mt, 0, &it));
        CHECK(io.dtype == it.dtype && io.bytes == it.bytes && io.scale == it.scale &&
              io.zero_point == it.zero_point);
        for (int k = 0; k < ev_model_num_outputs(mt); k++) {
            ev_tensor_info a, b;
            CHECK_OK(ev_model_output_info(mo, k, &a));
            CHECK_OK(ev_model_output_info(mt, k, &b));
            CHECK_MSG(a.dtype == b.dtype && a.ndim == b.ndim &&
                          memcmp(a.dims, b.dims, sizeof a.dims) == 0 && a.scale == b.scale &&
                          a.zero_point == b.zero_point && strcmp(a.name, b.name) == 0,
                      "%s output %d: %s vs %s", k_sizes[si], k, a.name, b.name);
        }
        uint8_t *in = posenet_input(&it);
        const void *ins[1] = {in};
        for (int be = 0; be < 2; be++) {
            if (be == 1 && si > 0) continue; /* ref: the smallest size only (seconds a run) */
            ev_run_opts o = {.backend = be ? "ref" : "cpu", .threads = 2};
            void *yo = NULL, *yt = NULL;
            size_t no = 0, nt = 0;
            CHECK_OK(ev_test_run_copy(mo, &o, 1, ins, &it.bytes, 1, &yo, &no));
            CHECK_OK(ev_test_run_copy(mt, &o, 1, ins, &it.bytes, 1, &yt, &nt));
            int same = yo && yt && no == nt && memcmp(yo, yt, no) == 0;
            size_t diff = 0;
            for (size_t i = 0; yo && yt && i < no && i < nt; i++)
                diff += ((uint8_t *)yo)[i] != ((uint8_t *)yt)[i];
            CHECK_MSG(same, "%s on %s: heads differ in %zu of %zu bytes", k_sizes[si], o.backend,
                      diff, no);
            fprintf(stderr, "  %-8s %-3s: three heads, %zu bytes, %s\n", k_sizes[si], o.backend,
                    no, same ? "bit-identical to the TFLite backbone" : "DIFFERENT");
            free(yo), free(yt);
        }
        free(in);
        ev_model_free(mo), ev_model_free(mt);
    }
}

/* Runs the CLI with `args`, stdout to out_path; returns the exit status (-1: not run). */
static int cli(const char *args, const char *out_path, const char *err_path) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s' </dev/null", EV_CLI_PATH, args, out_path,
             err_path);
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void test_pose_csv(void) {
    char onnx[512], tfl[512], img[512];
    ev_test_path(img, sizeof img, "data/images/test_couple.jpg");
    posenet_paths(k_sizes[0], onnx, tfl, sizeof onnx);
    EV_REQUIRE_FILE(img);
    EV_REQUIRE_FILE(onnx);
    EV_REQUIRE_FILE(tfl);
    for (int si = 0; si < 3; si++) {
        posenet_paths(k_sizes[si], onnx, tfl, sizeof onnx);
        if (!ev_test_exists(onnx) || !ev_test_exists(tfl)) continue;
        char a[4096], oo[300], ot[300], err[300];
        tmp_path(oo, sizeof oo, "pose_onnx.csv");
        tmp_path(ot, sizeof ot, "pose_tflite.csv");
        tmp_path(err, sizeof err, "pose.err");
        snprintf(a, sizeof a, "pose --model '%s' --backend cpu --threads 2 --decoder multi "
                 "--format csv '%s'", onnx, img);
        CHECK_EQ_INT(cli(a, oo, err), 0);
        snprintf(a, sizeof a, "pose --model '%s' --backend cpu --threads 2 --decoder multi "
                 "--format csv '%s'", tfl, img);
        CHECK_EQ_INT(cli(a, ot, err), 0);
        size_t lo = 0, lt = 0;
        unsigned char *co = ev_test_read(oo, &lo), *ct = ev_test_read(ot, &lt);
        int lines = 0;
        for (size_t i = 0; co && i < lo; i++) lines += co[i] == '\n';
        CHECK_MSG(co && ct && lo == lt && lo > 0 && memcmp(co, ct, lo) == 0,
                  "%s: pose CSV differs (%zu vs %zu bytes)", k_sizes[si], lo, lt);
        CHECK_MSG(lines > 2, "%s: %d CSV lines", k_sizes[si], lines);
        fprintf(stderr, "  %-8s pose --decoder multi --format csv: %d lines, %s\n", k_sizes[si],
                lines, co && ct && lo == lt && memcmp(co, ct, lo) == 0 ? "identical" : "DIFFERENT");
        free(co), free(ct);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Tensor files                                                                                */
/* ------------------------------------------------------------------------------------------ */

static void test_tensor_files(void) {
    static const ev_dtype dts[] = {EV_DTYPE_F32, EV_DTYPE_U8,  EV_DTYPE_I8,
                                   EV_DTYPE_I16, EV_DTYPE_I32, EV_DTYPE_I64};
    static const int shapes[4][7] = {{0}, {1, 5}, {3, 2, 3, 4}, {6, 1, 2, 1, 3, 1, 2}};
    ev_test_rng r = {0x70B5};
    int n_ok = 0;
    for (size_t di = 0; di < sizeof dts / sizeof dts[0]; di++)
        for (int si = 0; si < 4; si++)
            for (int fmt = 0; fmt < 2; fmt++) {
                ev_tensor_info info = {0};
                info.name = "t";
                info.dtype = dts[di];
                info.ndim = shapes[si][0];
                size_t n = 1;
                for (int k = 0; k < info.ndim; k++) n *= (size_t)(info.dims[k] = shapes[si][k + 1]);
                size_t es = ev_dtype_size(info.dtype);
                info.bytes = n * es;
                uint8_t *data = malloc(info.bytes);
                for (size_t i = 0; i < info.bytes; i++) data[i] = (uint8_t)ev_test_rng_next(&r);
                if (info.dtype == EV_DTYPE_F32) /* finite values (NaN payloads need not survive) */
                    for (size_t i = 0; i < n; i++) ((float *)data)[i] = (float)ev_test_rng_uni(&r, -1e6, 1e6);
                char path[300];
                tmp_path(path, sizeof path, fmt ? "t.npy" : "t.pb");
                CHECK_OK(ev_tensor_file_write(path, &info, data));
                ev_tensor_file *f = NULL;
                CHECK_OK(ev_tensor_file_read(path, &f));
                int ok = f && f->info.dtype == info.dtype && f->info.ndim == info.ndim &&
                         memcmp(f->info.dims, info.dims, sizeof(int) * (size_t)info.ndim) == 0 &&
                         f->info.bytes == info.bytes && memcmp(f->data, data, info.bytes) == 0;
                CHECK_MSG(ok, "%s round trip of %s rank %d", fmt ? ".npy" : ".pb",
                          ev_dtype_name(info.dtype), info.ndim);
                n_ok += ok;
                if (fmt == 1 && si == 2) { /* the .npy header: magic, version, descr, shape */
                    size_t len = 0;
                    unsigned char *b = ev_test_read(path, &len);
                    CHECK(b && len > 10 && memcmp(b, "\x93NUMPY", 6) == 0);
                    CHECK(b && strstr((const char *)b + 10, "(2, 3, 4)") != NULL);
                    free(b);
                }
                /* the file cut short is an error, not a crash */
                size_t len = 0;
                unsigned char *b = ev_test_read(path, &len);
                if (b && len > 1 && info.bytes > 0) {
                    char cut[300];
                    tmp_path(cut, sizeof cut, fmt ? "cut.npy" : "cut.pb");
                    write_file(cut, b, len - 1);
                    ev_tensor_file *g = NULL;
                    ev_status st = ev_tensor_file_read(cut, &g);
                    CHECK_MSG(st != EV_OK && g == NULL, "%s cut by one byte read as OK",
                              fmt ? ".npy" : ".pb");
                    CHECK(strlen(ev_last_error()) > 0);
                }
                free(b);
                ev_tensor_file_free(f);
                free(data);
            }
    fprintf(stderr, "  %d .pb / .npy round trips exact\n", n_ok);
}

/* ------------------------------------------------------------------------------------------ */
/* Hand-written models                                                                         */
/* ------------------------------------------------------------------------------------------ */

static void test_hand_model(void) {
    size_t size = 0;
    uint8_t *bytes = model_leaky(&size, "LeakyRelu");
    char path[300];
    tmp_path(path, sizeof path, "leaky.onnx");
    CHECK(write_file(path, bytes, size) == 0);
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(path, &m));
    if (m) {
        float x[4] = {-2.0f, 3.0f, -0.5f, 0.0f}, y[4];
        const void *ins[1] = {x};
        size_t nb = sizeof x;
        void *out = NULL;
        size_t len = 0;
        CHECK_OK(ev_test_run_copy(m, NULL, 1, ins, &nb, 0, &out, &len));
        CHECK_EQ_INT((int)len, 16);
        if (out && len == 16) {
            memcpy(y, out, 16);
            CHECK(y[0] == -0.5f + 0.5f && y[1] == 3.0f - 1.0f && y[2] == -0.125f + 2.0f &&
                  y[3] == 0.0f);
        }
        free(out);
        ev_model_free(m);
    }
    free(bytes);
}

/* QuantizeLinear(x, 0.5, zp) on exact ties: ONNX rounds halves to even (numpy.rint). */
static void test_quantize_linear_ties(void) {
    for (int s8 = 0; s8 < 2; s8++) {
        pb g = {0};
        const int n = 12;
        int d[1] = {n};
        float scale = 0.5f;
        uint8_t zp = s8 ? (uint8_t)(int8_t)-3 : 100;
        const char *ins[3] = {"x", "scale", "zp"};
        pb_node(&g, "QuantizeLinear", "q", 3, ins, "y", NULL);
        pb_initializer(&g, "scale", T_FLOAT, 0, NULL, &scale, 4, NULL);
        pb_initializer(&g, "zp", s8 ? T_INT8 : T_UINT8, 0, NULL, &zp, 1, NULL);
        pb_value_info(&g, 11, "x", T_FLOAT, 1, d);
        pb_value_info(&g, 12, "y", s8 ? T_INT8 : T_UINT8, 1, d);
        ev_model *m = NULL;
        CHECK_OK(load_graph(&g, "quantize.onnx", &m));
        if (!m) continue;
        /* x / 0.5 = -5.5 .. 5.5 in steps of 1: every one a tie */
        float x[12];
        for (int i = 0; i < n; i++) x[i] = (float)(i - 6 + 0.5) * 0.5f;
        const void *in[1] = {x};
        size_t nb = sizeof x;
        for (int be = 0; be < 2; be++) {
            ev_run_opts o = {.backend = be ? "cpu" : "ref"};
            void *out = NULL;
            size_t len = 0;
            CHECK_OK(ev_test_run_copy(m, &o, 1, in, &nb, 0, &out, &len));
            CHECK_EQ_INT((int)len, n);
            for (int i = 0; out && len == (size_t)n && i < n; i++) {
                double t = (i - 6 + 0.5), e = nearbyint(t); /* the default mode: ties to even */
                int zpv = s8 ? -3 : 100;
                int got = s8 ? ((int8_t *)out)[i] : ((uint8_t *)out)[i];
                CHECK_MSG(got == (int)e + zpv, "%s %s: x/scale %g -> %d, ONNX gives %d",
                          o.backend, s8 ? "int8" : "uint8", t, got, (int)e + zpv);
            }
            free(out);
        }
        ev_model_free(m);
    }
}

/* MaxPool 3x3 / 2 with pads (1, 1, 1, 1) on 1x3xHxW (ResNet's stem pool), after a Relu or not:
 * TFLite's SAME padding places those windows differently; after a Relu the reader pads with
 * zeros (exact for values >= 0) and pools VALID; without one it pads with -inf (PAD_EX). Both
 * equal ONNX's max over the window's real taps, on ref and cpu. */
static void test_maxpool_pads(void) {
    for (int relu = 1; relu >= 0; relu--)
        for (int h = 5; h <= 8; h++) {
            const int w = h + 1, oh = (h + 2 - 3) / 2 + 1, ow = (w + 2 - 3) / 2 + 1;
            pb g = {0}, at = {0};
            int d[4] = {1, 3, h, w}, od[4] = {1, 3, oh, ow};
            const int64_t k[2] = {3, 3}, st[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
            const char *in0[1] = {"x"}, *in1[1] = {relu ? "r" : "x"};
            if (relu) pb_node(&g, "Relu", "relu", 1, in0, "r", NULL);
            pb_ints_attr(&at, "kernel_shape", 2, k);
            pb_ints_attr(&at, "strides", 2, st);
            pb_ints_attr(&at, "pads", 4, pads);
            pb_node(&g, "MaxPool", "pool", 1, in1, "y", &at);
            pb_value_info(&g, 11, "x", T_FLOAT, 4, d);
            pb_value_info(&g, 12, "y", T_FLOAT, 4, od);
            ev_model *m = NULL;
            /* after a Relu: a zero PAD; without: a -inf PAD_EX; VALID pool either way */
            ev_status ls = load_graph(&g, "maxpool.onnx", &m);
            CHECK_OK(ls);
            if (!m) continue;
            ev_test_rng r = {(uint64_t)h};
            size_t n = (size_t)3 * h * w;
            float *x = ev_test_rng_data(&r, EV_DTYPE_F32, n, -2, 2);
            const void *ins[1] = {x};
            size_t nb = n * sizeof(float);
            for (int be = 0; be < 2; be++) {
                ev_run_opts o = {.backend = be ? "cpu" : "ref"};
                void *out = NULL;
                size_t len = 0;
                CHECK_OK(ev_test_run_copy(m, &o, 1, ins, &nb, 0, &out, &len));
                CHECK_EQ_INT((int)len, (int)(sizeof(float) * 3 * oh * ow));
                int bad = 0;
                for (int c = 0; out && !bad && c < 3; c++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++) {
                            float e = -INFINITY; /* ONNX: the max over the window's real taps */
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++) {
                                    int yy = oy * 2 - 1 + ky, xx = ox * 2 - 1 + kx;
                                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                                    float v = x[((size_t)c * h + yy) * w + xx];
                                    if (relu) v = v > 0 ? v : 0; /* the Relu */
                                    e = v > e ? v : e;
                                }
                            bad += ((float *)out)[((size_t)c * oh + oy) * ow + ox] != e;
                        }
                CHECK_MSG(out && !bad, "maxpool pads on %s, input %dx%d: %d wrong", o.backend, h,
                          w, bad);
                free(out);
            }
            free(x);
            ev_model_free(m);
        }
}

static void test_external_data(void) {
    pb g = {0};
    int d[2] = {1, 4}, four = 4;
    const char *ins[2] = {"x", "w"};
    pb_node(&g, "Add", "add", 2, ins, "y", NULL);
    pb_initializer(&g, "w", T_FLOAT, 1, &four, NULL, 0, "weights.bin");
    pb_value_info(&g, 11, "x", T_FLOAT, 2, d);
    pb_value_info(&g, 12, "y", T_FLOAT, 2, d);
    char bin[300];
    tmp_path(bin, sizeof bin, "weights.bin");
    float w[4] = {1, 2, 3, 4};
    CHECK(write_file(bin, w, sizeof w) == 0); /* present, and still not read */
    ev_model *m = NULL;
    ev_status st = load_graph(&g, "external.onnx", &m);
    CHECK(st == EV_ERR_UNSUPPORTED && m == NULL);
    const char *e = ev_last_error();
    CHECK_MSG(strstr(e, "weights.bin") && strstr(e, "external"), "message: %s", e);
    fprintf(stderr, "  external data: %s\n", e);
    ev_model_free(m);
}

/* Malformed attributes of the ops added for the conformance suite (ConvTranspose, 3-D and
 * dilated pools, 3-D Conv, Pad modes): each model is refused with a format / shape error naming
 * the op type and what is wrong, never loaded, never a crash (the ASan build runs this too). */
static void test_bad_attrs(void) {
    static const struct {
        const char *op, *attr1, *attr2, *want;
        int n1, n2, xnd, wnd;
        int64_t v1[6], v2[6];
        int xd[5], wd[5];
    } k[] = {
        {"ConvTranspose", "strides", "output_padding", "output_padding", 2, 2, 4, 4, {2, 2},
         {3, 3}, {1, 2, 3, 3}, {2, 1, 2, 2}},
        {"ConvTranspose", "group", NULL, "group", 1, 0, 4, 4, {3}, {0}, {1, 2, 3, 3},
         {2, 1, 2, 2}},
        {"ConvTranspose", "pads", NULL, "pads", 3, 0, 4, 4, {1, 1, 1}, {0}, {1, 2, 3, 3},
         {2, 1, 2, 2}},
        {"MaxPool", "kernel_shape", NULL, "larger than the padded input", 3, 0, 5, 0, {9, 9, 9},
         {0}, {1, 1, 4, 4, 4}, {0}},
        {"MaxPool", "kernel_shape", "dilations", "dilations has 3 entries", 2, 3, 4, 0, {2, 2},
         {2, 2, 2}, {1, 1, 4, 4}, {0}},
        {"AveragePool", "kernel_shape", "pads", "pads has 4 entries", 3, 4, 5, 0, {2, 2, 2},
         {1, 1, 1, 1}, {1, 1, 4, 4, 4}, {0}},
        {"Conv", "strides", NULL, "strides has 2 entries", 2, 0, 5, 5, {1, 1}, {0},
         {1, 2, 3, 3, 3}, {4, 2, 2, 2, 2}},
        {"Conv", "kernel_shape", NULL, "kernel_shape", 3, 0, 5, 5, {3, 3, 3}, {0},
         {1, 2, 3, 3, 3}, {4, 2, 2, 2, 2}},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        pb g = {0}, at = {0};
        if (k[i].n1 == 1 && strcmp(k[i].attr1, "group") == 0) {
            pb a = {0};
            pb_str(&a, 1, "group");
            pb_int(&a, 3, k[i].v1[0]);
            pb_int(&a, 20, 2); /* type INT */
            pb_msg(&at, 5, &a);
        } else {
            pb_ints_attr(&at, k[i].attr1, k[i].n1, k[i].v1);
        }
        if (k[i].attr2) pb_ints_attr(&at, k[i].attr2, k[i].n2, k[i].v2);
        const char *ins[2] = {"x", "w"};
        pb_node(&g, k[i].op, "node", k[i].wnd ? 2 : 1, ins, "y", &at);
        if (k[i].wnd) {
            size_t wn = 1;
            for (int d = 0; d < k[i].wnd; d++) wn *= (size_t)k[i].wd[d];
            float *w = calloc(wn, sizeof(float));
            pb_initializer(&g, "w", T_FLOAT, k[i].wnd, k[i].wd, w, wn * sizeof(float), NULL);
            free(w);
        }
        pb_value_info(&g, 11, "x", T_FLOAT, k[i].xnd, k[i].xd);
        pb_value_info(&g, 12, "y", T_FLOAT, 0, NULL);
        ev_model *m = NULL;
        ev_status st = load_graph(&g, "bad_attr.onnx", &m);
        const char *e = ev_last_error();
        CHECK_MSG(st != EV_OK && st != EV_ERR_INTERNAL && m == NULL && strstr(e, k[i].op) &&
                      strstr(e, k[i].want),
                  "%s %s: status %d, message: %s", k[i].op, k[i].want, (int)st, e);
        fprintf(stderr, "  %s\n", strstr(e, "node ") ? strstr(e, "node ") : e);
        ev_model_free(m);
    }
}

/* Loads bytes through a file; a model that loads is also run (ref) on zeros. */
static ev_status load_and_run(const uint8_t *b, size_t n, const char *path) {
    if (write_file(path, b, n)) return EV_ERR_IO;
    ev_model *m = NULL;
    ev_status st = ev_model_load(path, &m);
    if (st != EV_OK) return st;
    ev_session *s = NULL;
    ev_status rs = ev_session_create(m, NULL, &s);
    for (int i = 0; rs == EV_OK && i < ev_model_num_inputs(m); i++) {
        ev_tensor_info ii;
        rs = ev_model_input_info(m, i, &ii);
        void *z = rs == EV_OK ? calloc(1, ii.bytes + 1) : NULL;
        if (z) rs = ev_session_set_input(s, i, z, ii.bytes);
        free(z);
    }
    if (rs == EV_OK) rs = ev_session_run(s);
    ev_session_free(s);
    ev_model_free(m);
    return st;
}

static void test_truncated_corrupted(void) {
    size_t size = 0;
    uint8_t *bytes = model_leaky(&size, "LeakyRelu");
    char path[300];
    tmp_path(path, sizeof path, "damaged.onnx");
    int refused = 0;
    for (size_t cut = 0; cut < size; cut++) {
        ev_status st = load_and_run(bytes, cut, path);
        CHECK_MSG(st != EV_OK, "the model cut to %zu of %zu bytes loaded", cut, size);
        refused += st != EV_OK;
        CHECK(st == EV_OK || strlen(ev_last_error()) > 0);
    }
    ev_test_rng r = {0xC0DE};
    int loaded = 0, runs = 400;
    uint8_t *c = malloc(size);
    for (int k = 0; k < runs; k++) {
        memcpy(c, bytes, size);
        int flips = ev_test_rng_int(&r, 1, 4);
        for (int f = 0; f < flips; f++) c[ev_test_rng_int(&r, 0, (int)size - 1)] ^= (uint8_t)ev_test_rng_int(&r, 1, 255);
        loaded += load_and_run(c, size, path) == EV_OK;
    }
    free(c);
    CHECK(1); /* reaching here: no crash */
    fprintf(stderr, "  %zu truncations refused (of %zu); %d corruptions: %d still loaded and ran, "
            "%d refused\n", (size_t)refused, size, runs, loaded, runs - loaded);
    free(bytes);
    /* a real model cut short */
    char onnx[512], tfl[512];
    posenet_paths(k_sizes[0], onnx, tfl, sizeof onnx);
    size_t len = 0;
    unsigned char *pm = ev_test_exists(onnx) ? ev_test_read(onnx, &len) : NULL;
    if (pm) {
        const size_t cuts[] = {16, 1000, len / 3, len / 2, len - 1};
        for (int i = 0; i < 5; i++) {
            ev_status st = load_and_run(pm, cuts[i], path);
            CHECK_MSG(st != EV_OK, "PoseNet cut to %zu of %zu bytes loaded", cuts[i], len);
        }
        free(pm);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* edgevision run                                                                              */
/* ------------------------------------------------------------------------------------------ */

static void test_run_cli(void) {
    char model[300], bad[300], in[300], dir[300], out[300], err[300], args[2048];
    tmp_path(model, sizeof model, "run_leaky.onnx");
    tmp_path(bad, sizeof bad, "run_erf.onnx");
    tmp_path(in, sizeof in, "run_x.pb");
    tmp_path(dir, sizeof dir, "run_out");
    tmp_path(out, sizeof out, "run.stdout");
    tmp_path(err, sizeof err, "run.stderr");
    size_t size;
    uint8_t *b = model_leaky(&size, "LeakyRelu");
    CHECK(write_file(model, b, size) == 0);
    free(b);
    b = model_leaky(&size, "Erf");
    CHECK(write_file(bad, b, size) == 0);
    free(b);
    float x[4] = {-2.0f, 3.0f, -0.5f, 0.0f};
    ev_tensor_info info = {.name = "x", .dtype = EV_DTYPE_F32, .ndim = 2, .dims = {1, 4},
                           .bytes = sizeof x};
    CHECK_OK(ev_tensor_file_write(in, &info, x));

    snprintf(args, sizeof args, "run --model '%s' --input x='%s' --output-dir '%s'", model, in,
             dir);
    CHECK_EQ_INT(cli(args, out, err), 0);
    char o0[400];
    snprintf(o0, sizeof o0, "%s/output_0.pb", dir);
    ev_tensor_file *f = NULL;
    CHECK_OK(ev_tensor_file_read(o0, &f));
    if (f) {
        const float *y = f->data;
        CHECK(f->info.dtype == EV_DTYPE_F32 && f->info.ndim == 2 && f->info.dims[1] == 4);
        CHECK(f->info.bytes == 16 && y[0] == 0.0f && y[1] == 2.0f && y[2] == 1.875f &&
              y[3] == 0.0f);
        ev_tensor_file_free(f);
    }

    snprintf(args, sizeof args, "run --model '%s' --input x='%s' --output-dir '%s'", bad, in, dir);
    CHECK_EQ_INT(cli(args, out, err), 1);
    size_t len = 0;
    unsigned char *e = ev_test_read(err, &len);
    CHECK_MSG(e && strstr((const char *)e, "Erf"), "stderr: %s", e ? (const char *)e : "(none)");
    if (e) fprintf(stderr, "  run, unsupported op: %s", (const char *)e);
    free(e);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_onnx_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        fprintf(stderr, "cannot create a temporary folder\n");
        return 1;
    }
    EV_RUN(test_tensor_files);
    EV_RUN(test_hand_model);
    EV_RUN(test_quantize_linear_ties);
    EV_RUN(test_maxpool_pads);
    EV_RUN(test_external_data);
    EV_RUN(test_bad_attrs);
    EV_RUN(test_truncated_corrupted);
    EV_RUN(test_run_cli);
    EV_RUN(test_posenet_heads);
    EV_RUN(test_pose_csv);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
