/*
 * test_limits.c - resource limits on untrusted model files (issue 10).
 *
 * Each model is built with the graph builder, written as a TFLite file and loaded back through
 * the public API, as a downloaded file would be:
 *   huge activations:  a float RELU on 1x24000x24000x1 (2.1 GiB in and out) is refused when the
 *                      session is created, before anything is allocated: over the 4 GiB memory
 *                      cap on 64-bit builds (the error names the cap), beyond the address space
 *                      on 32-bit ones;
 *   memory cap:        EV_MEMORY_CAP_MB=1 refuses a 2 MiB graph and the error says "1.0 MiB";
 *                      the same graph runs under the default cap;
 *   huge tensors:      a tensor of 2^31 elements is refused when the file is read;
 *   cycles:            an op that reads a tensor a later op writes: a format error naming it;
 *   deep graphs:       EV_MAX_OPS + 1 ops are refused, naming the limit;
 *   saved head models: a model.json declaring 2^31-1 inputs with 6 kernel numbers is refused
 *                      before allocating (it asked for 8 GiB; found by fuzz_saved_model).
 */
#define _GNU_SOURCE /* mkdtemp, setenv */
#include "ev_test.h"
#include "graph_builder.h"

#include "edgevision.h"
#include "train/model_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_tmp[64];

/* in -> RELU -> out, shape 1 x h x w x c, uint8 (scale 0.5) or float32. */
static ev_status relu_model(ev_dtype dt, int h, int w, int c, ev_model **out) {
    gb b;
    gb_init(&b);
    int dims[4] = {1, h, w, c};
    float scale = dt == EV_DTYPE_U8 ? 0.5f : 0.0f;
    int in = gb_tensor_q(&b, "in", dt, 4, dims, NULL, scale, 0);
    int o = gb_tensor_q(&b, "out", dt, 4, dims, NULL, scale, 0);
    gb_op(&b, EV_OP_RELU, "RELU", 19, 1, &in, 1, &o);
    gb_inputs(&b, 1, &in);
    gb_outputs(&b, 1, &o);
    ev_status st = gb_finish(&b, out);
    if (st != EV_OK) fprintf(stderr, "  builder: %s\n", b.msg);
    return st;
}

/* Writes `m` as a TFLite file and loads it back (the model `m` is freed). */
static ev_status roundtrip(ev_model *m, const char *name, ev_model **out) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s.tflite", g_tmp, name);
    ev_status st = ev_model_save_tflite(m, path);
    ev_model_free(m);
    *out = NULL;
    if (st != EV_OK) {
        fprintf(stderr, "  save %s: %s\n", name, ev_last_error());
        return st;
    }
    st = ev_model_load(path, out);
    unlink(path);
    return st;
}

static void test_huge_activations(void) {
    ev_model *m = NULL, *back = NULL;
    CHECK_OK(relu_model(EV_DTYPE_F32, 24000, 24000, 1, &m));
    if (!m) return;
    CHECK_OK(roundtrip(m, "huge", &back));
    if (!back) return;
    ev_session *s = NULL;
    ev_status st = ev_session_create(back, NULL, &s);
    CHECK(st == EV_ERR_NO_MEMORY);
    CHECK(s == NULL);
    const char *want = sizeof(size_t) >= 8 ? "over the memory cap of 4096.0 MiB"
                                            : "more than this platform can address";
    CHECK_MSG(strstr(ev_last_error(), want) != NULL, "'%s' not in: %s", want, ev_last_error());
    printf("  %s\n", ev_last_error());
    ev_model_free(back);
}

static void test_memory_cap(void) {
    ev_model *m = NULL, *back = NULL;
    CHECK_OK(relu_model(EV_DTYPE_U8, 512, 512, 4, &m)); /* 1 MiB in, 1 MiB out */
    if (!m) return;
    CHECK_OK(roundtrip(m, "cap", &back));
    if (!back) return;
    ev_session *s = NULL;
    setenv("EV_MEMORY_CAP_MB", "1", 1);
    ev_status st = ev_session_create(back, NULL, &s);
    unsetenv("EV_MEMORY_CAP_MB");
    CHECK(st == EV_ERR_NO_MEMORY && s == NULL);
    CHECK_MSG(strstr(ev_last_error(), "2.0 MiB, over the memory cap of 1.0 MiB") != NULL, "%s",
              ev_last_error());
    printf("  %s\n", ev_last_error());
    ev_session_free(s);
    s = NULL;
    CHECK_OK(ev_session_create(back, NULL, &s)); /* the default cap: it runs */
    if (s) {
        static uint8_t x[512 * 512 * 4];
        for (size_t i = 0; i < sizeof x; i++) x[i] = (uint8_t)(i * 7);
        CHECK_OK(ev_session_set_input(s, 0, x, sizeof x));
        CHECK_OK(ev_session_run(s));
        const void *y = NULL;
        ev_tensor_info ti;
        CHECK_OK(ev_session_output(s, 0, &y, &ti));
        CHECK(y && ti.bytes == sizeof x && memcmp(y, x, sizeof x) == 0); /* zero point 0 */
    }
    ev_session_free(s);
    ev_model_free(back);
}

static void test_huge_tensor(void) {
    /* 46341^2 = 2147488281 > 2^31 - 1 elements: the builder refuses it like the readers do */
    gb b;
    gb_init(&b);
    int t = gb_tensor_q(&b, "big", EV_DTYPE_U8, 4, (int[]){1, 46341, 46341, 1}, NULL, 0.5f, 0);
    CHECK(t < 0 && b.error);
    CHECK_MSG(strstr(b.msg, "implausibly large") != NULL, "%s", b.msg);
    gb_release(&b);
    /* the TFLite reader: a file written with a legal shape, then its dimension patched */
    ev_model *m = NULL, *back = NULL;
    CHECK_OK(relu_model(EV_DTYPE_U8, 1, 1, 3, &m));
    if (!m) return;
    char path[128];
    snprintf(path, sizeof path, "%s/patch.tflite", g_tmp);
    CHECK_OK(ev_model_save_tflite(m, path));
    ev_model_free(m);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    /* the shapes are int32 vectors {1, 1, 1, 3}: length 4, then the values */
    static const int32_t shape[5] = {4, 1, 1, 1, 3};
    int patched = 0;
    for (size_t i = 0; i + sizeof shape <= n; i += 4)
        if (memcmp(buf + i, shape, sizeof shape) == 0) {
            int32_t big[2] = {65536, 65536}; /* 1 x 65536 x 65536 x 3 */
            memcpy(buf + i + 8, big, sizeof big);
            patched++;
        }
    CHECK_MSG(patched >= 1, "shape vector not found in the %zu-byte file", n);
    ev_status st = ev_model_load_memory(buf, n, "patched.tflite", &back);
    CHECK(st == EV_ERR_FORMAT && back == NULL);
    CHECK_MSG(strstr(ev_last_error(), "implausibly large") != NULL, "%s", ev_last_error());
    printf("  %s\n", ev_last_error());
    ev_model_free(back);
    unlink(path);
}

static void test_cycle(void) {
    gb b;
    gb_init(&b);
    int dims[4] = {1, 2, 2, 1};
    int in = gb_tensor_q(&b, "in", EV_DTYPE_U8, 4, dims, NULL, 0.5f, 0);
    int a = gb_tensor_q(&b, "a", EV_DTYPE_U8, 4, dims, NULL, 0.5f, 0);
    int c = gb_tensor_q(&b, "c", EV_DTYPE_U8, 4, dims, NULL, 0.5f, 0);
    int o = gb_tensor_q(&b, "out", EV_DTYPE_U8, 4, dims, NULL, 0.5f, 0);
    gb_op(&b, EV_OP_RELU, "RELU", 19, 1, &c, 1, &a); /* reads c, written by the next op */
    gb_op(&b, EV_OP_RELU, "RELU", 19, 1, &a, 1, &c);
    gb_op_concat(&b, 2, (int[]){in, c}, o, 3, EV_ACT_NONE);
    gb_inputs(&b, 1, &in);
    gb_outputs(&b, 1, &o);
    ev_model *m = NULL, *back = NULL;
    CHECK_OK(gb_finish(&b, &m));
    if (!m) return;
    ev_status st = roundtrip(m, "cycle", &back);
    CHECK(st == EV_ERR_FORMAT && back == NULL);
    CHECK_MSG(strstr(ev_last_error(), "before any op writes it (a cycle") != NULL, "%s",
              ev_last_error());
    printf("  %s\n", ev_last_error());
    ev_model_free(back);
}

static void test_deep_graph(void) {
    const int n_ops = 100001; /* EV_MAX_OPS + 1 */
    gb b;
    gb_init(&b);
    int dims[2] = {1, 1};
    int prev = gb_tensor_q(&b, "in", EV_DTYPE_U8, 2, dims, NULL, 0.5f, 0);
    int in = prev;
    for (int i = 0; i < n_ops && !b.error; i++) {
        int next = gb_tensor_q(&b, "", EV_DTYPE_U8, 2, dims, NULL, 0.5f, 0);
        gb_op(&b, EV_OP_RELU, "RELU", 19, 1, &prev, 1, &next);
        prev = next;
    }
    gb_inputs(&b, 1, &in);
    gb_outputs(&b, 1, &prev);
    ev_model *m = NULL, *back = NULL;
    CHECK_OK(gb_finish(&b, &m));
    if (!m) return;
    ev_status st = roundtrip(m, "deep", &back);
    CHECK(st == EV_ERR_UNSUPPORTED && back == NULL);
    CHECK_MSG(strstr(ev_last_error(), "100001 ops (at most 100000 supported)") != NULL, "%s",
              ev_last_error());
    printf("  %s\n", ev_last_error());
    ev_model_free(back);
}

static void test_saved_model_sizes(void) {
    static const char json[] =
        "{\"format\": \"edgevision-head\", \"version\": 1, \"backbone\": {\"path\": \"b.tflite\", "
        "\"sha1\": \"0\", \"cut\": \"out\", \"preprocessing\": \"\", \"features\": 3}, "
        "\"labels\": [\"not_car\", \"car\"], \"head\": {\"dropout\": 0.3, \"layers\": "
        "[{\"units\": 1, \"kernel\": [0.1, -0.2, 0.3, 0.4, -0.5, 0.6], \"bias\": [0.0], "
        "\"inputs\": 2222222222222222222222}]}}";
    char path[128];
    snprintf(path, sizeof path, "%s/model.json", g_tmp);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(json, 1, sizeof json - 1, f);
    fclose(f);
    static ev_model_meta meta;
    ev_mlp mlp;
    memset(&mlp, 0, sizeof mlp);
    ev_status st = ev_model_file_load(path, &meta, &mlp);
    CHECK(st == EV_ERR_FORMAT);
    CHECK(mlp.params == NULL);
    CHECK_MSG(strstr(ev_last_error(), "'kernel' must hold 2147483647 numbers") != NULL, "%s",
              ev_last_error());
    printf("  %s\n", ev_last_error());
    ev_mlp_free(&mlp);
    unlink(path);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_limits_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    unsetenv("EV_MEMORY_CAP_MB");
    EV_RUN(test_huge_activations);
    EV_RUN(test_memory_cap);
    EV_RUN(test_huge_tensor);
    EV_RUN(test_cycle);
    EV_RUN(test_deep_graph);
    EV_RUN(test_saved_model_sizes);
    rmdir(g_tmp);
    return ev_test_finish();
}
