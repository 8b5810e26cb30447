/*
 * test_onnx_ort.c - torchvision ResNet50 and MobileNetV2 (bench/peers/models/..._tv.onnx, written
 * by bench/peers/export_float.sh: weights=None, opset 17) run through the ONNX reader on the cpu
 * backend give ONNX Runtime's outputs on the same input within ONNX's tolerances.
 *
 * The input: xorshift32 bytes (seed 12345) on the NHWC shape as x / 127.5 - 1, stored NCHW (the
 * benchmarks' input), written as .npy; ONNX Runtime runs it through bench/peers/ort_run.js
 * (npm onnxruntime-node, installed by bench/peers/setup.sh) and writes its outputs as .npy.
 * Check, every element: |y - e| <= rtol |e| + atol with rtol 1e-3 and atol = min(1e-7,
 * 1e-5 max|e|): ONNX's backend-test tolerances (rtol 1e-3, atol 1e-7), with atol also scaled to
 * the output (MobileNetV2 with torchvision's random init has logits of about 1e-9, all below
 * 1e-7, where an absolute 1e-7 alone would accept anything); and max|y - e| / max|e| <= 1e-4.
 * Also the shapes and the top-1 class. Nothing here needs the network.
 *
 * Skipped (77) with a message when node, onnxruntime-node or the exported models are absent
 * (they are generated, never committed).
 * Extend: another exported model is a line in k_models.
 */
#include "ev_test.h"
#include "util.h"

#include "edgevision.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EV_SOURCE_DIR
#define EV_SOURCE_DIR "."
#endif

static const char *const k_models[] = {"resnet50_tv", "mobilenetv2_tv"};

static char g_tmp[256];

static void fill_input(float *d, int ch, int h, int w) {
    size_t total = (size_t)ch * h * w;
    uint8_t *b = malloc(total);
    uint32_t x = 12345;
    for (size_t i = 0; i < total; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++)
            for (int k = 0; k < ch; k++)
                d[((size_t)k * h + y) * w + xx] = (float)b[((size_t)y * w + xx) * ch + k] / 127.5f - 1.0f;
    free(b);
}

static void compare_model(const char *key, const char *node) {
    char model[1024], in_path[512], out_dir[512], cmd[4096], o0[600];
    snprintf(model, sizeof model, "%s/bench/peers/models/%s.onnx", EV_SOURCE_DIR, key);
    if (!ev_test_exists(model)) {
        fprintf(stderr, "SKIP %s: %s absent (bash bench/peers/setup.sh --float)\n", key, model);
        ev_t_skip++;
        return;
    }
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(model, &m));
    if (!m) return;
    ev_tensor_info ii;
    CHECK_OK(ev_model_input_info(m, 0, &ii));
    CHECK(ii.dtype == EV_DTYPE_F32 && ii.ndim == 4 && ii.dims[0] == 1);
    float *x = malloc(ii.bytes);
    fill_input(x, ii.dims[1], ii.dims[2], ii.dims[3]);
    snprintf(in_path, sizeof in_path, "%s/%s_in.npy", g_tmp, key);
    snprintf(out_dir, sizeof out_dir, "%s/%s_ort", g_tmp, key);
    CHECK_OK(ev_tensor_file_write(in_path, &ii, x));
    snprintf(cmd, sizeof cmd, "'%s' '%s/bench/peers/ort_run.js' '%s' '%s' '%s' >'%s/%s.json' 2>&1",
             node, EV_SOURCE_DIR, model, out_dir, in_path, g_tmp, key);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "%s: ort_run.js failed (see %s/%s.json)", key, g_tmp, key);
    snprintf(o0, sizeof o0, "%s/output_0.npy", out_dir);
    ev_tensor_file *e = NULL;
    if (rc == 0) CHECK_OK(ev_tensor_file_read(o0, &e));

    ev_run_opts o = {.backend = "cpu", .threads = 2};
    const void *ins[1] = {x};
    ev_session *s = NULL;
    const void *y = NULL;
    ev_tensor_info yi;
    CHECK_OK(ev_test_run(m, &o, 1, ins, &ii.bytes, &s, &y, &yi));
    if (e && y) {
        CHECK_MSG(yi.dtype == e->info.dtype && yi.ndim == e->info.ndim &&
                      memcmp(yi.dims, e->info.dims, sizeof(int) * (size_t)yi.ndim) == 0 &&
                      yi.bytes == e->info.bytes,
                  "%s: output shapes differ", key);
        size_t n = yi.bytes / sizeof(float);
        const float *a = y, *b = e->data;
        double emax = 0, dmax = 0;
        size_t bad = 0, first = 0, am = 0, bm = 0;
        for (size_t i = 0; i < n; i++) emax = fmax(emax, fabs(b[i]));
        double atol = fmin(1e-7, 1e-5 * emax);
        for (size_t i = 0; i < n && yi.bytes == e->info.bytes; i++) {
            double d = fabs((double)a[i] - (double)b[i]);
            dmax = fmax(dmax, d);
            if (!(d <= 1e-3 * fabs(b[i]) + atol) && bad++ == 0) first = i;
            if (a[i] > a[am]) am = i;
            if (b[i] > b[bm]) bm = i;
        }
        CHECK_MSG(bad == 0, "%s: %zu of %zu elements outside rtol 1e-3 / atol %g; first %zu: "
                  "ours %.9g, ORT %.9g", key, bad, n, atol, first, (double)a[first],
                  (double)b[first]);
        CHECK_MSG(dmax <= 1e-4 * emax, "%s: max |ours - ORT| %.3g is %.3g of max |ORT|", key, dmax,
                  dmax / emax);
        CHECK_MSG(am == bm, "%s: top-1 class %zu (ours) vs %zu (ORT)", key, am, bm);
        fprintf(stderr, "  %-15s %zu outputs: max|ORT| %.4g, max|ours - ORT| %.3g (%.2g of max), "
                "%zu outside rtol 1e-3 / atol %.3g, top-1 %zu / %zu\n", key, n, emax, dmax,
                emax > 0 ? dmax / emax : 0.0, bad, atol, am, bm);
    }
    ev_session_free(s);
    ev_tensor_file_free(e);
    free(x);
    ev_model_free(m);
}

static void test_torchvision_vs_ort(void) {
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/bench/peers/node_modules/onnxruntime-node/package.json",
             EV_SOURCE_DIR);
    if (!ev_test_exists(probe))
        EV_SKIP("onnxruntime-node is not installed in bench/peers (bash bench/peers/setup.sh)");
    if (system("command -v node >/dev/null 2>&1") != 0) EV_SKIP("node is not on PATH");
    for (size_t i = 0; i < sizeof k_models / sizeof k_models[0]; i++)
        compare_model(k_models[i], "node");
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_onnx_ort_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        fprintf(stderr, "cannot create a temporary folder\n");
        return 1;
    }
    EV_RUN(test_torchvision_vs_ort);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
