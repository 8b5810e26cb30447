/*
 * test_model_errors.c - bad models give their own clear error, never a crash (run under ASan).
 *
 *   missing / empty / non-model files, truncation at every length class, random byte
 *   corruption (fixed seed; every load either succeeds with a model that then prepares and runs
 *   safely, or fails with a message), an unsupported op named with its index and backend (an
 *   LSTM with its variable state tensors, written by the TFLite writer, too), an
 *   Edge TPU model refused with the device named, FlexBuffer options corrupted; a kernel's
 *   error names the backend that ran it ("cpu (reference kernel)" for a fallback) and the
 *   session reports which kernel runs each op.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "core/graph_builder.h"
#include "formats/flatbuf.h"
#include "util.h"
#include "formats/flexbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODEL_353 "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"

static ev_test_rng g_rng = {0x9E3779B97F4A7C15ull};
static uint64_t rnd(void) { return ev_test_rng_next(&g_rng); }

static void test_missing_empty_garbage(void) {
    ev_model *m = (ev_model *)1;
    CHECK(ev_model_load("/nonexistent/dir/model.tflite", &m) == EV_ERR_IO);
    CHECK(m == NULL);
    CHECK(strstr(ev_last_error(), "/nonexistent/dir/model.tflite") != NULL);
    CHECK(ev_model_load("/", &m) == EV_ERR_IO);
    CHECK(ev_model_load_memory("", 0, "empty", &m) == EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "empty") != NULL);
    const char text[] = "this is not a model, just some text\n";
    CHECK(ev_model_load_memory(text, sizeof text, "text", &m) == EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "TFL3") != NULL);
    /* identifier right, everything else garbage */
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rnd();
    memcpy(junk + 4, "TFL3", 4);
    CHECK(ev_model_load_memory(junk, sizeof junk, "junk", &m) == EV_ERR_FORMAT);
    CHECK(strlen(ev_last_error()) > 10);
    char jpg[1024];
    ev_test_path(jpg, sizeof jpg, "data/images/test_couple.jpg");
    if (ev_test_exists(jpg)) CHECK(ev_model_load(jpg, &m) == EV_ERR_FORMAT);
    CHECK(ev_status_string(EV_ERR_FORMAT)[0] != '\0');
}

static void test_truncated(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_353);
    EV_REQUIRE_FILE(mp);
    size_t n = 0;
    unsigned char *buf = ev_test_read(mp, &n);
    CHECK(buf != NULL);
    if (!buf) return;
    int failed = 0, tries = 0;
    size_t cuts[] = {1, 4, 7, 8, 12, 16, 100, 1000, n / 3, n / 2, n - 4096, n - 200, n - 64};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        ev_model *m = NULL;
        ev_status st = ev_model_load_memory(buf, cuts[i], "truncated", &m);
        tries++;
        if (st == EV_ERR_FORMAT && m == NULL && strlen(ev_last_error()) > 0) failed++;
        else fprintf(stderr, "  cut at %zu: status %d\n", cuts[i], st);
        ev_model_free(m);
    }
    CHECK_EQ_INT(failed, tries);
    free(buf);
}

static void test_corrupted(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_353);
    EV_REQUIRE_FILE(mp);
    size_t n = 0;
    unsigned char *buf = ev_test_read(mp, &n);
    unsigned char *copy = malloc(n);
    CHECK(buf && copy);
    if (!buf || !copy) return;
    /* The flatbuffer's tables and vectors sit in the last ~64 KiB, after the weight blobs at
     * the start: corrupt that region (where structure lives) and a few bytes anywhere. */
    size_t meta = n > 65536 ? n - 65536 : 0;
    uint8_t *input = calloc(353 * 481 * 3, 1);
    int loaded = 0, rejected = 0, ran = 0;
    for (int iter = 0; iter < 400; iter++) {
        memcpy(copy, buf, n);
        int flips = 1 + (int)(rnd() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = (iter % 4 == 0) ? (size_t)(rnd() % n) : meta + (size_t)(rnd() % (n - meta));
            copy[at] = (uint8_t)rnd();
        }
        ev_model *m = NULL;
        ev_status st = ev_model_load_memory(copy, n, "corrupt", &m);
        if (st != EV_OK) {
            CHECK_MSG(strlen(ev_last_error()) > 0, "status %d without a message", st);
            rejected++;
            continue;
        }
        loaded++;
        ev_session *s = NULL;
        st = ev_session_create(m, NULL, &s);
        if (st == EV_OK && ran < 3) {
            ev_tensor_info ii;
            if (ev_model_input_info(m, 0, &ii) == EV_OK && ii.bytes == 353 * 481 * 3) {
                ev_status rs = ev_session_set_input(s, 0, input, ii.bytes);
                if (rs == EV_OK) rs = ev_session_run(s);
                ran++;
                (void)rs;
            }
        } else if (st != EV_OK) {
            CHECK_MSG(strlen(ev_last_error()) > 0, "session status %d without a message", st);
        }
        ev_session_free(s);
        ev_model_free(m);
    }
    fprintf(stderr, "  400 corrupted models: %d rejected with a message, %d loaded, %d run\n",
            rejected, loaded, ran);
    CHECK(rejected > 0);
    free(input);
    free(copy);
    free(buf);
}

/* Patches the first OperatorCode holding `from` (deprecated one-byte code) to `to`. */
static int patch_opcode(unsigned char *buf, size_t n, int from, int to) {
    fb_reader r = {buf, n, 0, {0}};
    fb_table model = fb_root(&r);
    fb_vec codes = fb_vector(&r, &model, 1, 4);
    for (uint32_t i = 0; i < codes.len; i++) {
        fb_table oc = fb_vec_table(&r, &codes, i);
        uint64_t at = fb_field(&r, &oc, 0, 1);
        if (at && buf[at] == from) {
            buf[at] = (unsigned char)to;
            return 1;
        }
    }
    return 0;
}

static void test_unsupported_op(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_353);
    EV_REQUIRE_FILE(mp);
    size_t n = 0;
    unsigned char *buf = ev_test_read(mp, &n);
    CHECK(buf && patch_opcode(buf, n, 3 /* CONV_2D */, 16 /* LSTM: no kernel on any backend */));
    ev_model *m = NULL;
    CHECK_OK(ev_model_load_memory(buf, n, "patched.tflite", &m));
    ev_session *s = NULL;
    CHECK(ev_session_create(m, NULL, &s) == EV_ERR_UNSUPPORTED);
    const char *e = ev_last_error();
    CHECK_MSG(strstr(e, "op 0 (LSTM)") && strstr(e, "backend ref"), "%s", e);
    ev_model_free(m);
    /* an unknown backend is named */
    free(buf);
    buf = ev_test_read(mp, &n);
    CHECK_OK(ev_model_load_memory(buf, n, "ok.tflite", &m));
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "tpu9000";
    CHECK(ev_session_create(m, &o, &s) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "tpu9000") != NULL);
    ev_model_free(m);
    free(buf);
}

/* A TFLite LSTM (builtin `code`: UNIDIRECTIONAL_SEQUENCE_LSTM 44, or LSTM 16) after a RELU, with
 * its 24 inputs as TFLite lays them out (0 x; 1-4 input weights; 5-8 recurrent weights; 12-15
 * gate biases; 18 output state and 19 cell state, both variable tensors; the optional ones -1),
 * written by the TFLite writer and loaded back through the reader (is_variable included).
 * `add_state`: an ADD reading the output state instead (a supported op reading a variable). */
static ev_model *lstm_model(int code, int add_state) {
    const int seq = code == 44, in_n = 3, units = add_state ? in_n : 2; /* ADD: broadcastable */
    static const float w9[9] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.25f, -1.0f, 0.75f};
    static const float b3[3] = {0.0f, 0.5f, -0.5f}; /* enough values for units <= 3 */
    int xd[3] = {1, 2, in_n}, yd[3] = {1, 2, units}, iw[2] = {units, in_n}, rw[2] = {units, units};
    int sd[2] = {1, units}, bd[1] = {units};
    gb b;
    gb_init(&b);
    int x = gb_tensor_q(&b, "x", EV_DTYPE_F32, seq ? 3 : 2, seq ? xd : xd + 1, NULL, 0.0f, 0);
    int r = gb_tensor_q(&b, "relu", EV_DTYPE_F32, seq ? 3 : 2, seq ? xd : xd + 1, NULL, 0.0f, 0);
    int ins[24];
    for (int i = 0; i < 24; i++) ins[i] = -1;
    ins[0] = r;
    for (int i = 1; i <= 4; i++) ins[i] = gb_tensor_q(&b, "wi", EV_DTYPE_F32, 2, iw, w9, 0.0f, 0);
    for (int i = 5; i <= 8; i++) ins[i] = gb_tensor_q(&b, "wr", EV_DTYPE_F32, 2, rw, w9, 0.0f, 0);
    for (int i = 12; i <= 15; i++) ins[i] = gb_tensor_q(&b, "bias", EV_DTYPE_F32, 1, bd, b3, 0.0f, 0);
    ins[18] = gb_tensor_q(&b, "output_state", EV_DTYPE_F32, 2, sd, NULL, 0.0f, 0);
    ins[19] = gb_tensor_q(&b, "cell_state", EV_DTYPE_F32, 2, sd, NULL, 0.0f, 0);
    int y = gb_tensor_q(&b, "y", EV_DTYPE_F32, seq ? 3 : 2, seq ? yd : yd + 1, NULL, 0.0f, 0);
    if (!b.error) b.g.tensors[ins[18]].variable = b.g.tensors[ins[19]].variable = 1;
    gb_op(&b, EV_OP_RELU, "RELU", 19, 1, &x, 1, &r);
    if (add_state) {
        int a[2] = {r, ins[18]};
        gb_op(&b, EV_OP_ADD, "ADD", 0, 2, a, 1, &y);
    } else {
        gb_op(&b, EV_OP_UNSUPPORTED, seq ? "UNIDIRECTIONAL_SEQUENCE_LSTM" : "LSTM", code, 24, ins,
              1, &y);
    }
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    ev_model *m = NULL, *back = NULL;
    ev_status st = gb_finish(&b, &m);
    CHECK_MSG(st == EV_OK, "%s", b.msg); /* validation: the state tensors exist from the start */
    if (!m) return NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/ev_lstm_%d_%d_%ld.tflite", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             code, add_state, (long)getpid());
    CHECK_OK(ev_model_save_tflite(m, path));
    ev_model_free(m);
    st = ev_model_load(path, &back);
    CHECK_MSG(st == EV_OK, "%s", ev_last_error()); /* not "reads tensor N before any op writes it" */
    unlink(path);
    return back;
}

/* An LSTM is refused naming the op (its type and index) and the backend, on every backend that
 * starts here; a supported op reading a variable tensor is refused naming the tensor. */
static void test_lstm_named(void) {
    static const int codes[2] = {44, 16};
    static const char *const names[2] = {"op 1 (UNIDIRECTIONAL_SEQUENCE_LSTM)", "op 1 (LSTM)"};
    static const char *const backends[2] = {"ref", "cpu"};
    for (int c = 0; c < 2; c++) {
        ev_model *m = lstm_model(codes[c], 0);
        if (!m) continue;
        CHECK_EQ_INT(ev_model_num_ops(m), 2);
        for (int k = 0; k < 2; k++) {
            ev_session_options o;
            ev_session_options_init(&o);
            o.backend = backends[k];
            ev_session *s = NULL;
            CHECK(ev_session_create(m, &o, &s) == EV_ERR_UNSUPPORTED && !s);
            const char *e = ev_last_error();
            char want[64];
            snprintf(want, sizeof want, "backend %s", backends[k]);
            CHECK_MSG(strstr(e, names[c]) && strstr(e, "is not supported by") && strstr(e, want),
                      "%s", e);
        }
        ev_model_free(m);
    }
    ev_model *m = lstm_model(44, 1);
    if (!m) return;
    ev_session *s = NULL;
    CHECK(ev_session_create(m, NULL, &s) == EV_ERR_UNSUPPORTED && !s);
    const char *e = ev_last_error();
    CHECK_MSG(strstr(e, "op 1 (ADD) reads variable tensor") && strstr(e, "'output_state'"), "%s", e);
    ev_model_free(m);
}

/* A uint8 CONV_2D (a fast cpu kernel) feeding a LOGISTIC whose output has two scales (the
 * reference kernel refuses it at prepare). */
static ev_model *conv_then_bad_logistic(void) {
    gb b;
    gb_init(&b);
    uint8_t w[2 * 1 * 1 * 3] = {1, 2, 3, 4, 5, 6};
    int32_t bias[2] = {0, 0};
    int x = gb_tensor_q(&b, "x", EV_DTYPE_U8, 4, (int[]){1, 4, 4, 3}, NULL, 0.02f, 128);
    int wt = gb_tensor_q(&b, "w", EV_DTYPE_U8, 4, (int[]){2, 1, 1, 3}, w, 0.01f, 3);
    int bt = gb_tensor_q(&b, "b", EV_DTYPE_I32, 1, (int[]){2}, bias, 0.0002f, 0);
    int y = gb_tensor_q(&b, "y", EV_DTYPE_U8, 4, (int[]){1, 4, 4, 2}, NULL, 0.05f, 120);
    int z = gb_tensor(&b, "z", EV_DTYPE_U8, 4, (int[]){1, 4, 4, 2}, NULL, 0, 2,
                      (float[]){1.0f / 256, 1.0f / 128}, (int32_t[]){0, 0}, 3);
    ev_conv_params cp = {0};
    cp.stride_h = cp.stride_w = cp.dilation_h = cp.dilation_w = 1;
    cp.padding = EV_PAD_VALID;
    gb_op_conv(&b, EV_OP_CONV_2D, x, wt, bt, y, cp);
    gb_op(&b, EV_OP_LOGISTIC, "LOGISTIC", 14, 1, &y, 1, &z);
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &z);
    ev_model *m = NULL;
    ev_status st = gb_finish(&b, &m);
    CHECK_MSG(st == EV_OK, "%s", b.msg);
    return m;
}

static void test_backend_named(void) {
    ev_model *m = conv_then_bad_logistic();
    if (!m) return;
    ev_session_options o;
    ev_session_options_init(&o);
    ev_session *s = NULL;
    CHECK(ev_session_create(m, &o, &s) == EV_ERR_UNSUPPORTED);
    const char *e = ev_last_error();
    CHECK_MSG(strstr(e, "op 1 (LOGISTIC) on backend ref: ") && strstr(e, "per-tensor"), "%s", e);
    o.backend = "cpu";
    CHECK(ev_session_create(m, &o, &s) == EV_ERR_UNSUPPORTED);
    e = ev_last_error();
    CHECK_MSG(strstr(e, "op 1 (LOGISTIC) on backend cpu (reference kernel): "), "%s", e);
    ev_model_free(m);
}

static void test_kernel_names(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_353);
    EV_REQUIRE_FILE(mp);
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(mp, &m));
    ev_session_options o;
    ev_session_options_init(&o);
    for (int pass = 0; pass < 2; pass++) {
        o.backend = pass ? "cpu" : "ref";
        ev_session *s = NULL;
        CHECK_OK(ev_session_create(m, &o, &s));
        int ref = -1, fast = 0, convs = 0;
        CHECK(ev_session_kernel_name(s, -1, &ref) == NULL && ref == 0);
        CHECK(ev_session_kernel_name(s, ev_model_num_ops(m), NULL) == NULL);
        for (int i = 0; i < ev_model_num_ops(m); i++) {
            const char *k = ev_session_kernel_name(s, i, &ref);
            const char *op = ev_model_op_name(m, i);
            CHECK_MSG(k && *k, "op %d has no kernel name", i);
            if (!k) continue;
            if (strcmp(op, "PosenetDecoderOp") == 0) {
                CHECK_MSG(strcmp(k, "host_posenet_decoder") == 0 && !ref, "%s", k);
            } else if (!pass) {
                CHECK_MSG(strncmp(k, "ref_", 4) == 0 && !ref, "op %d %s on ref: %s", i, op, k);
            } else if (strstr(op, "CONV_2D")) { /* every uint8 convolution: a fast kernel */
                CHECK_MSG(!ref && strncmp(k, "ref_", 4) != 0, "op %d %s on cpu: %s", i, op, k);
                fast += !ref;
                convs++;
            } else { /* the rest: the reference kernels, flagged as such */
                CHECK_MSG(ref && strncmp(k, "ref_", 4) == 0, "op %d %s on cpu: %s", i, op, k);
            }
        }
        if (pass) CHECK_MSG(fast == convs && fast > 0, "%d fast of %d convolutions", fast, convs);
        ev_session_free(s);
    }
    ev_model_free(m);
}

static void test_edgetpu(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp,
                 "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder_edgetpu.tflite");
    EV_REQUIRE_FILE(mp);
    ev_model *m = NULL;
    CHECK(ev_model_load(mp, &m) == EV_ERR_NEEDS_DEVICE);
    CHECK(m == NULL);
    CHECK(strstr(ev_last_error(), "Edge TPU") != NULL);
}

static void test_flexbuf(void) {
    /* The decoder model's options, extracted by walking the file. */
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_353);
    EV_REQUIRE_FILE(mp);
    size_t n = 0;
    unsigned char *buf = ev_test_read(mp, &n);
    fb_reader r = {buf, n, 0, {0}};
    fb_table model = fb_root(&r);
    fb_vec sgs = fb_vector(&r, &model, 2, 4);
    fb_table sg = fb_vec_table(&r, &sgs, 0);
    fb_vec ops = fb_vector(&r, &sg, 3, 4);
    fb_table op = fb_vec_table(&r, &ops, ops.len - 1);
    fb_vec co = fb_vector(&r, &op, 5, 1);
    CHECK(fb_ok(&r) && co.len == 165);
    const uint8_t *opts = buf + co.start;
    flex_value v;
    CHECK_OK(flex_map_lookup(opts, co.len, "max_detections", &v));
    CHECK(flex_as_double(&v, -1) == 10);
    CHECK_OK(flex_map_lookup(opts, co.len, "score_threshold", &v));
    CHECK(v.kind == FLEX_FLOAT && (float)v.f == 0.2f);
    CHECK_OK(flex_map_lookup(opts, co.len, "stride", &v));
    CHECK(flex_as_double(&v, -1) == 16);
    CHECK_OK(flex_map_lookup(opts, co.len, "nms_radius", &v));
    CHECK(flex_as_double(&v, -1) == 10.0);
    CHECK_OK(flex_map_lookup(opts, co.len, "no_such_key", &v));
    CHECK(v.kind == FLEX_ABSENT);
    /* every truncation and every single-byte corruption: an answer or an error, no bad read */
    uint8_t tmp[165];
    int errors = 0;
    for (uint32_t len = 0; len < co.len; len++) {
        memcpy(tmp, opts + (co.len - len), len);
        if (flex_map_lookup(tmp, len, "stride", &v) != EV_OK) errors++;
    }
    CHECK(errors > 100);
    for (uint32_t at = 0; at < co.len; at++)
        for (int val = 0; val < 256; val += 37) {
            memcpy(tmp, opts, co.len);
            tmp[at] = (uint8_t)val;
            (void)flex_map_lookup(tmp, co.len, "nms_radius", &v);
        }
    free(buf);
}

int main(void) {
    EV_RUN(test_missing_empty_garbage);
    EV_RUN(test_truncated);
    EV_RUN(test_corrupted);
    EV_RUN(test_unsupported_op);
    EV_RUN(test_backend_named);
    EV_RUN(test_lstm_named);
    EV_RUN(test_kernel_names);
    EV_RUN(test_edgetpu);
    EV_RUN(test_flexbuf);
    return ev_test_finish();
}
