/*
 * test_cpu_backend.c - the cpu backend equals the reference backend bit for bit.
 *
 *   random_ops:   uint8 (per-tensor, weight zero points 127/128/129/random, weights of 255 at
 *                 zp 127 to force the row-sum correction) and int8 (per-channel) CONV_2D and
 *                 DEPTHWISE_CONV_2D on random shapes, strides, dilations, padding, activations;
 *                 under every EV_ISA path this CPU supports (x86 scalar..vnni, ARM scalar, neon,
 *                 dotprod: ev_cpu_isa_paths) and 1, 2 and 3 threads.
 *   coral_models: every layer of the three Coral PoseNet models (a 64-bit hash of each op's
 *                 output bytes) and the decoded poses, cpu vs ref, on test_couple.jpg; the
 *                 353x481 model under every ISA path.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "edgevision.h"
#include "graph_builder.h"
#include "random_graphs.h"

#include <stdint.h>

/* EV_ISA names, indexed by ev_isa */
static const char *const k_isas[] = {"scalar", "avx2", "avx512", "vnni", "neon", "dotprod"};

static int run_once(ev_model *m, const char *backend, int threads, const uint8_t *in,
                    size_t in_bytes, uint8_t *out, size_t *out_bytes) {
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = backend;
    o.threads = threads;
    ev_session *s = NULL;
    if (ev_session_create(m, &o, &s) != EV_OK) {
        fprintf(stderr, "  session (%s): %s\n", backend, ev_last_error());
        return -1;
    }
    const void *d;
    ev_tensor_info info;
    int rc = ev_session_set_input(s, 0, in, in_bytes) == EV_OK && ev_session_run(s) == EV_OK &&
                     ev_session_output(s, 0, &d, &info) == EV_OK
                 ? 0
                 : -1;
    if (rc == 0) {
        memcpy(out, d, info.bytes);
        *out_bytes = info.bytes;
    } else {
        fprintf(stderr, "  run (%s): %s\n", backend, ev_last_error());
    }
    ev_session_free(s);
    return rc;
}

static void test_random_ops(void) {
    int supported = (int)ev_cpu_isa_supported();
    int cases = 0, mismatches = 0;
    ev_isa paths[8];
    int npaths = ev_cpu_isa_paths(paths, 8);
    for (int pi = 0; pi < npaths; pi++) {
        int isa = (int)paths[pi];
        setenv("EV_ISA", k_isas[isa], 1);
        for (int it = 0; it < 120; it++) {
            uint64_t seed = 0x5EED0000ull + (uint64_t)isa * 1000 + (uint64_t)it;
            rg_rng.s = seed;
            char desc[256];
            size_t in_bytes = 0;
            int dw = it % 2, i8 = (it / 2) % 2;
            ev_model *m = rg_conv(dw, i8, &in_bytes, desc, sizeof desc);
            CHECK(m != NULL);
            if (!m) continue;
            uint8_t *in = malloc(in_bytes);
            for (size_t i = 0; i < in_bytes; i++) in[i] = (uint8_t)ev_rng_next(&rg_rng);
            ev_tensor_info oi;
            ev_model_output_info(m, 0, &oi);
            uint8_t *ref = malloc(oi.bytes + 1), *got = malloc(oi.bytes + 1);
            size_t rb = 0, gbytes = 0;
            int threads = 1 + it % 3;
            int ok = run_once(m, "ref", 1, in, in_bytes, ref, &rb) == 0 &&
                     run_once(m, "cpu", threads, in, in_bytes, got, &gbytes) == 0 &&
                     rb == gbytes && memcmp(ref, got, rb) == 0;
            cases++;
            if (!ok) {
                mismatches++;
                if (mismatches <= 5) {
                    size_t first = 0;
                    while (first < rb && ref[first] == got[first]) first++;
                    fprintf(stderr, "  MISMATCH isa=%s threads=%d seed=%llx %s: first at %zu "
                            "(ref %d, cpu %d)\n", k_isas[isa], threads, (unsigned long long)seed,
                            desc, first, first < rb ? ref[first] : -1, first < rb ? got[first] : -1);
                }
            }
            free(in), free(ref), free(got);
            ev_model_free(m);
        }
    }
    unsetenv("EV_ISA");
    fprintf(stderr, "  %d random ops over ISA paths scalar..%s: %d mismatches\n", cases,
            k_isas[supported], mismatches);
    CHECK_EQ_INT(mismatches, 0);
}

/* Per-layer FNV-1a hashes of every op's output. */
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

static int model_hashes(const char *path, const char *backend, int threads, const uint8_t *input,
                        layer_hashes *lh) {
    ev_model *m = NULL;
    ev_session *s = NULL;
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = backend;
    o.threads = threads;
    memset(lh, 0, sizeof *lh);
    ev_tensor_info ii;
    int rc = -1;
    if (ev_model_load(path, &m) == EV_OK && ev_session_create(m, &o, &s) == EV_OK &&
        ev_model_input_info(m, 0, &ii) == EV_OK) {
        ev_session_set_op_callback(s, hash_cb, lh);
        if (ev_session_set_input(s, 0, input, ii.bytes) == EV_OK && ev_session_run(s) == EV_OK)
            rc = 0;
    }
    if (rc) fprintf(stderr, "  %s on %s: %s\n", path, backend, ev_last_error());
    ev_session_free(s);
    ev_model_free(m);
    return rc;
}

static void test_coral_models(void) {
    char img_path[1024];
    ev_test_path(img_path, sizeof img_path, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(img_path);
    const char *sizes[3] = {"353_481", "481_641", "721_1281"};
    const int dims[3][2] = {{481, 353}, {641, 481}, {1281, 721}};
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(img_path, &img));
    if (!img) return;
    ev_isa paths[8];
    int npaths = ev_cpu_isa_paths(paths, 8);
    for (int s = 0; s < 3; s++) {
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
        CHECK(model_hashes(mp, "ref", 1, ev_image_pixels(small), &ref) == 0);
        CHECK_EQ_INT(ref.n, 33);
        /* every ISA path on the smallest model, the best path (2 threads) on the others */
        for (int pi = s == 0 ? 0 : npaths - 1; pi < npaths; pi++) {
            int isa = (int)paths[pi];
            setenv("EV_ISA", k_isas[isa], 1);
            int threads = s == 0 ? 1 + isa % 2 : 2;
            CHECK(model_hashes(mp, "cpu", threads, ev_image_pixels(small), &got) == 0);
            int bad = 0;
            for (int op = 0; op < ref.n; op++)
                if (ref.h[op] != got.h[op]) {
                    if (!bad) fprintf(stderr, "  %s isa=%s: op %d differs\n", sizes[s], k_isas[isa], op);
                    bad++;
                }
            CHECK_MSG(bad == 0 && got.n == ref.n, "%s isa=%s threads=%d: %d layers differ",
                      sizes[s], k_isas[isa], threads, bad);
            fprintf(stderr, "  %s isa=%s threads=%d: %d layers identical to ref\n", sizes[s],
                    k_isas[isa], threads, ref.n - bad);
        }
        unsetenv("EV_ISA");
        ev_image_free(small);
    }
    ev_image_free(img);
}

int main(void) {
    fprintf(stderr, "cpu features: %s; best path: %s\n", ev_cpu_features(),
            k_isas[ev_cpu_isa_supported()]);
    EV_RUN(test_random_ops);
    EV_RUN(test_coral_models);
    return ev_test_finish();
}
