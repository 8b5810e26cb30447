/*
 * test_cpu_backend.c - the cpu backend equals the reference backend bit for bit.
 *
 *   (random single ops on every ISA path: test_backend_ops.c, the op x backend matrix, which took
 *   over this file's random_ops generator, rg_conv, with 1-3 threads)
 *   coral_models: every layer of the three Coral PoseNet models (a 64-bit hash of each op's
 *                 output bytes) and the decoded poses, cpu vs ref, on test_couple.jpg; the
 *                 353x481 model under every ISA path.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "edgevision.h"
#include "graph_builder.h"

#include <stdint.h>

/* EV_ISA names, indexed by ev_isa */
static const char *const k_isas[] = {"scalar", "avx2", "avx512", "vnni", "neon", "dotprod"};

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
    EV_RUN(test_coral_models);
    return ev_test_finish();
}
