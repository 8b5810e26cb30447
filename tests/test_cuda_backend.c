/*
 * test_cuda_backend.c - the cuda backend equals the reference backend bit for bit.
 *
 * Built without CUDA: "cuda" is not a backend of this build (asked for, it is an unknown
 * backend); then SKIP, exit 77.
 * Built with CUDA, always (no GPU needed):
 *   registered:      "cuda" is listed among the backends.
 *   requant_math:    the kernels' requantization (cuda_math.h) == core/quant.h, both rules
 *                    (ties away from zero; toward +infinity for int8 CONV_2D), on edge values,
 *                    random ones and exact ties.
 *   no_device:       without a device, creating a session on "cuda" returns
 *                    EV_ERR_NEEDS_DEVICE with "backend cuda: no CUDA device: <reason>".
 *   emulated_*:      the backend with its kernels emulated on the host (the same per-thread
 *                    code, host memory for device memory; ev_cuda_set_emulation): random
 *                    quantized and float convolutions, concatenations, a chain around a
 *                    host-only op, and the 353x481 Coral PoseNet per layer, == ref.
 * Then, without a device: SKIP "no CUDA device", exit 77 (1 if anything above failed).
 * With a device: the same on the GPU, more random cases, the three Coral models per layer.
 * Quantized outputs must be identical; float outputs within 1e-4 relative.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "random_graphs.h"

#include <stdint.h>

#ifdef EV_HAVE_CUDA
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_math.h"
#include "core/quant.h"
#endif

/* A one-conv model for the session checks. */
static ev_model *small_conv(size_t *in_bytes) {
    char desc[256];
    rg_rng.s = 0xC0DAull;
    return rg_conv(0, 0, in_bytes, desc, sizeof desc);
}

#ifndef EV_HAVE_CUDA

int main(void) {
    int listed = 0;
    for (const char *const *n = ev_backend_names(); *n; n++) listed |= strcmp(*n, "cuda") == 0;
    CHECK(!listed);
    size_t in_bytes = 0;
    ev_model *m = small_conv(&in_bytes);
    CHECK(m != NULL);
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cuda";
    ev_session *s = NULL;
    if (m) CHECK_EQ_INT(ev_session_create(m, &o, &s), EV_ERR_INVALID_ARG); /* unknown backend */
    CHECK(s == NULL);
    ev_model_free(m);
    printf("SKIP test_cuda_backend: built without CUDA (no CUDA compiler at configure time)\n");
    return ev_t_fail ? 1 : 77;
}

#else

/* 1 when equal: bytes for integer outputs, 1e-4 relative for float32. */
static int same_outputs(ev_model *m, const uint8_t *a, const uint8_t *b, size_t n, size_t *where) {
    ev_tensor_info oi;
    ev_model_output_info(m, 0, &oi);
    if (oi.dtype != EV_DTYPE_F32) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i]) {
                *where = i;
                return 0;
            }
        return 1;
    }
    for (size_t i = 0; i + 4 <= n; i += 4) {
        float x, y;
        memcpy(&x, a + i, 4);
        memcpy(&y, b + i, 4);
        float tol = 1e-4f * fmaxf(fabsf(x), fabsf(y)) + 1e-6f;
        if (!(fabsf(x - y) <= tol) && !(x == y)) {
            *where = i / 4;
            return 0;
        }
    }
    return 1;
}

/* One random model against ref; returns 1 when it matched. */
static int check_model(ev_model *m, const char *backend, int n_in, const size_t *in_bytes,
                       const char *desc, uint64_t seed, int *reported) {
    if (!m) return 0;
    uint8_t *in[4] = {0};
    ev_tensor_info ii;
    for (int i = 0; i < n_in; i++) {
        in[i] = malloc(in_bytes[i] + 1);
        ev_model_input_info(m, i, &ii);
        rg_fill(in[i], in_bytes[i], ii.dtype);
    }
    /* every output, back to back, on ref and on `backend` */
    size_t rb = 0, gbytes = 0;
    void *ref = NULL, *got = NULL;
    ev_run_opts ro = {.backend = "ref"}, go = {.backend = backend};
    const void *const *inp = (const void *const *)in;
    if (ev_test_run_copy(m, &ro, n_in, inp, in_bytes, 1, &ref, &rb) != EV_OK ||
        ev_test_run_copy(m, &go, n_in, inp, in_bytes, 1, &got, &gbytes) != EV_OK)
        fprintf(stderr, "  run (%s): %s\n", ref ? backend : "ref", ev_last_error());
    size_t where = 0;
    int ok = ref && got && rb == gbytes && same_outputs(m, ref, got, rb, &where);
    if (!ok && (*reported)++ < 5)
        fprintf(stderr, "  MISMATCH %s seed=%llx %s: first at %zu\n", backend,
                (unsigned long long)seed, desc, where);
    for (int i = 0; i < n_in; i++) free(in[i]);
    free(ref), free(got);
    return ok;
}

/* Random quantized/float convolutions, concatenations and chains, `reps` of each kind. */
static void random_ops(const char *label, int reps) {
    int cases = 0, bad = 0, reported = 0;
    char desc[256];
    for (int it = 0; it < reps; it++) {
        for (int kind = 0; kind < 9; kind++) {
            uint64_t seed = 0xC0DA0000ull + (uint64_t)it * 16 + (uint64_t)kind;
            rg_rng.s = seed;
            size_t in_bytes[4] = {0};
            int n_in = 1;
            ev_model *m = NULL;
            if (kind < 4)
                m = rg_conv(kind % 2, kind / 2, &in_bytes[0], desc, sizeof desc);
            else if (kind < 6)
                m = rg_conv_f32(kind % 2, &in_bytes[0], desc, sizeof desc);
            else if (kind < 8)
                m = rg_concat(kind == 6 ? (it % 2 ? EV_DTYPE_I8 : EV_DTYPE_U8) : EV_DTYPE_F32,
                              &n_in, in_bytes, desc, sizeof desc);
            else
                m = rg_chain(&in_bytes[0], desc, sizeof desc);
            CHECK(m != NULL);
            if (!m) continue;
            cases++;
            if (!check_model(m, "cuda", n_in, in_bytes, desc, seed, &reported)) bad++;
            ev_model_free(m);
        }
    }
    fprintf(stderr, "  %s: %d random graphs (conv/dw u8/i8/f32, concat, chains): %d mismatches\n",
            label, cases, bad);
    CHECK_EQ_INT(bad, 0);
}

/* Per-layer FNV-1a hashes of every op's first output. */
typedef struct layer_hashes {
    uint64_t h[64];
    int n;
} layer_hashes;

static int hash_cb(void *user, int op, const char *name, const ev_tensor_info *info,
                   const void *data) {
    (void)name;
    layer_hashes *lh = user;
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = data;
    for (size_t i = 0; i < info->bytes; i++) h = (h ^ p[i]) * 1099511628211ull;
    if (op < 64) lh->h[op] = h;
    if (op + 1 > lh->n) lh->n = op + 1;
    return 0;
}

static int model_hashes(const char *path, const char *backend, const uint8_t *input,
                        layer_hashes *lh) {
    ev_model *m = NULL;
    ev_session *s = NULL;
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = backend;
    memset(lh, 0, sizeof *lh);
    ev_tensor_info ii;
    int rc = -1;
    if (ev_model_load(path, &m) == EV_OK && ev_session_create(m, &o, &s) == EV_OK &&
        ev_model_input_info(m, 0, &ii) == EV_OK) {
        ev_session_set_op_callback(s, hash_cb, lh);
        /* twice: the second run starts from a device holding the first run's tensors */
        if (ev_session_set_input(s, 0, input, ii.bytes) == EV_OK && ev_session_run(s) == EV_OK &&
            ev_session_run(s) == EV_OK)
            rc = 0;
    }
    if (rc) fprintf(stderr, "  %s on %s: %s\n", path, backend, ev_last_error());
    ev_session_free(s);
    ev_model_free(m);
    return rc;
}

static void coral_models(const char *label, int n_models) {
    char img_path[1024];
    ev_test_path(img_path, sizeof img_path, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(img_path);
    const char *sizes[3] = {"353_481", "481_641", "721_1281"};
    const int dims[3][2] = {{481, 353}, {641, 481}, {1281, 721}};
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(img_path, &img));
    if (!img) return;
    for (int s = 0; s < n_models; s++) {
        char mp[1024], rel[256];
        snprintf(rel, sizeof rel, "models/posenet/posenet_mobilenet_v1_075_%s_quant_decoder.tflite",
                 sizes[s]);
        ev_test_path(mp, sizeof mp, rel);
        if (!ev_test_exists(mp)) {
            fprintf(stderr, "SKIP coral %s: model absent\n", sizes[s]);
            ev_t_skip++;
            continue;
        }
        ev_image *small = NULL;
        CHECK_OK(ev_image_resize(img, dims[s][0], dims[s][1], EV_RESIZE_NEAREST, &small));
        if (!small) continue;
        static layer_hashes ref, got;
        CHECK(model_hashes(mp, "ref", ev_image_pixels(small), &ref) == 0);
        CHECK_EQ_INT(ref.n, 33);
        CHECK(model_hashes(mp, "cuda", ev_image_pixels(small), &got) == 0);
        int bad = 0;
        for (int op = 0; op < ref.n; op++)
            if (ref.h[op] != got.h[op]) {
                if (!bad) fprintf(stderr, "  %s %s: op %d differs\n", label, sizes[s], op);
                bad++;
            }
        CHECK_MSG(bad == 0 && got.n == ref.n, "%s %s: %d layers differ", label, sizes[s], bad);
        fprintf(stderr, "  %s %s: %d of %d layers identical to ref\n", label, sizes[s],
                ref.n - bad, ref.n);
        ev_image_free(small);
    }
    ev_image_free(img);
}

static void test_registered(void) {
    int listed = 0;
    for (const char *const *n = ev_backend_names(); *n; n++) listed |= strcmp(*n, "cuda") == 0;
    CHECK(listed);
}

static void test_requant_math(void) {
    static const int32_t xs[] = {0, 1, -1, 2, -2, 100, -100, 32767, -32768, 1 << 20, -(1 << 20),
                                 INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
    static const double reals[] = {0.0, 1e-9, 0.0001, 0.0123, 0.25, 0.5, 0.75, 0.999999, 1.0,
                                   1.5, 3.0, 100.0};
    int bad = 0, n = 0;
    for (size_t r = 0; r < sizeof reals / sizeof reals[0]; r++) {
        int32_t m0;
        int sh;
        ev_quantize_multiplier(reals[r], &m0, &sh);
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            int32_t x = xs[i];
            if (sh > 0 && (x > (INT32_MAX >> sh) || x < (INT32_MIN >> sh))) continue;
            n++;
            if (ev_cu_requant(x, m0, sh) != ev_mul_by_quantized_multiplier(x, m0, sh)) bad++;
            if (ev_cu_requant_rule(x, m0, sh, 1) != ev_mul_by_quantized_multiplier_up(x, m0, sh))
                bad++;
        }
    }
    rg_rng.s = 0x5EEDull;
    for (int i = 0; i < 200000; i++) {
        int32_t m0;
        int sh;
        ev_quantize_multiplier((double)ev_test_rng_float(&rg_rng, 1e-6f, 0.9f), &m0, &sh);
        int32_t x = (int32_t)(uint32_t)ev_test_rng_next(&rg_rng) >> ev_test_rng_int(&rg_rng, 0, 20);
        n++;
        if (ev_cu_requant(x, m0, sh) != ev_mul_by_quantized_multiplier(x, m0, sh)) bad++;
        if (ev_cu_requant_rule(x, m0, sh, 1) != ev_mul_by_quantized_multiplier_up(x, m0, sh)) bad++;
    }
    /* exact ties of the right shift, both signs: the two rules one step apart below zero */
    for (int e = 1; e <= 12; e++) {
        int32_t m0 = 1 << 30; /* srdhm(x, 2^30) = x / 2 rounded: x even keeps it exact */
        for (int32_t q = -40; q <= 40; q++) {
            int32_t x = 2 * (q * (1 << e) + (1 << (e - 1))); /* q + 1/2 after the shift */
            n++;
            if (ev_cu_requant_rule(x, m0, -e, 1) != q + 1 ||
                ev_cu_requant_rule(x, m0, -e, 0) != (q >= 0 ? q + 1 : q))
                bad++;
        }
    }
    fprintf(stderr, "  requantization: %d cases, %d differ from core/quant.h\n", n, bad);
    CHECK_EQ_INT(bad, 0);
}

/* Without a device a cuda session fails cleanly at creation, saying why. */
static void test_no_device(void) {
    size_t in_bytes = 0;
    ev_model *m = small_conv(&in_bytes);
    CHECK(m != NULL);
    if (!m) return;
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cuda";
    ev_session *s = NULL;
    ev_status st = ev_session_create(m, &o, &s);
    CHECK_EQ_INT(st, EV_ERR_NEEDS_DEVICE);
    CHECK(s == NULL);
    const char *msg = ev_last_error();
    CHECK_MSG(strstr(msg, "backend cuda: no CUDA device: ") != NULL, "message: %s", msg);
    fprintf(stderr, "  without a device: %s: %s\n", ev_status_string(st), msg);
    ev_session_free(s);
    ev_model_free(m);
}

/* The transfer hook counts the uploads and downloads of a run. */
static void test_transfer_stats(void) {
    size_t in_bytes = 0;
    ev_model *m = small_conv(&in_bytes);
    CHECK(m != NULL);
    if (!m) return;
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cuda";
    ev_session *s = NULL;
    CHECK_OK(ev_session_create(m, &o, &s));
    if (s) {
        uint8_t *in = calloc(in_bytes, 1);
        CHECK_OK(ev_session_set_input(s, 0, in, in_bytes));
        CHECK_OK(ev_session_run(s));
        ev_cuda_transfer_stats t;
        CHECK_EQ_INT(ev_cuda_session_transfers(s, &t, 1), 0);
        ev_tensor_info oi;
        ev_model_output_info(m, 0, &oi);
        CHECK_EQ_INT(t.h2d_bytes, in_bytes);
        CHECK_EQ_INT(t.d2h_bytes, oi.bytes);
        CHECK_EQ_INT(t.h2d_copies, 1);
        CHECK_EQ_INT(t.d2h_copies, 1);
        CHECK_EQ_INT(ev_cuda_session_transfers(s, &t, 0), 0);
        CHECK_EQ_INT(t.h2d_bytes, 0); /* reset */
        free(in);
    }
    ev_session_free(s);
    ev_model_free(m);
}

static void test_emulated_random_ops(void) { random_ops("emulated", 12); }
static void test_emulated_coral(void) { coral_models("emulated", 1); }
static void test_device_random_ops(void) { random_ops("device", 60); }
static void test_device_transfer_stats(void) { test_transfer_stats(); }
static void test_device_coral(void) { coral_models("device", 3); }

int main(void) {
    EV_RUN(test_registered);
    EV_RUN(test_requant_math);
    char why[256];
    int have = ev_cuda_device_available(why, sizeof why);
    if (!have) EV_RUN(test_no_device);
    ev_cuda_set_emulation(1);
    EV_RUN(test_transfer_stats);
    EV_RUN(test_emulated_random_ops);
    EV_RUN(test_emulated_coral);
    ev_cuda_set_emulation(0);
    if (!have) {
        printf("%d passed, %d failed\n", ev_t_pass, ev_t_fail);
        printf("SKIP test_cuda_backend: no CUDA device (%s): device checks not run\n", why);
        return ev_t_fail ? 1 : 77;
    }
    EV_RUN(test_device_transfer_stats);
    EV_RUN(test_device_random_ops);
    EV_RUN(test_device_coral);
    return ev_test_finish();
}

#endif
