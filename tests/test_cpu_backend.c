/*
 * test_cpu_backend.c - the cpu backend equals the reference backend bit for bit.
 *
 *   (random single ops on every ISA path: test_backend_ops.c, the op x backend matrix, which took
 *   over this file's random_ops generator, rg_conv, with 1-3 threads)
 *   dw_edges:     DEPTHWISE_CONV_2D shapes aimed at the SIMD row kernels' edges (3-wide stride
 *                 1/2 fast paths, channel tails, borders, extreme values and left shifts).
 *   coral_models: every layer of the three Coral PoseNet models (a 64-bit hash of each op's
 *                 output bytes) and the decoded poses, cpu vs ref, on test_couple.jpg; the
 *                 353x481 model under every ISA path.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "edgevision.h"
#include "graph_builder.h"
#include "util.h"

#include <stdint.h>

/* The EV_ISA name of an ISA level (cpu.h's ev_isa_name; the levels are not a dense list) */
static const char *isa_name(int isa) { return ev_isa_name((ev_isa)isa); }

static ev_test_rng rg_rng; /* the depthwise generator's draws */

/* One uint8/int8 DEPTHWISE_CONV_2D of the given geometry with random data; `extreme` draws
 * inputs and weights from the ends of the range (|w - wz| = 255, |x - xz| = 255) and a large
 * multiplier (left shifts). */
static ev_model *dw_model(int i8, int h, int w, int c, int kh, int kw, int sh, int sw, int dh,
                          int dwl, ev_padding pad, int extreme, uint8_t *in, char *desc,
                          size_t dn) {
    int oh = ev_conv_out_size(pad, h, kh, sh, dh), ow = ev_conv_out_size(pad, w, kw, sw, dwl);
    if (oh <= 0 || ow <= 0) return NULL;
    ev_dtype dt = i8 ? EV_DTYPE_I8 : EV_DTYPE_U8;
    int in_dims[4] = {1, h, w, c}, out_dims[4] = {1, oh, ow, c};
    int w_dims[4] = {1, kh, kw, c}, b_dims[1] = {c};
    size_t wn = (size_t)kh * kw * c;
    uint8_t *wd = malloc(wn);
    int32_t *bd = malloc(sizeof(int32_t) * (size_t)c), *wz = calloc((size_t)c, sizeof(int32_t));
    float *ws = malloc(sizeof(float) * (size_t)c);
    int32_t wzp = i8 ? 0 : (extreme ? ((ev_test_rng_next(&rg_rng) & 1) ? 0 : 255) : ev_test_rng_int(&rg_rng, 0, 255));
    uint8_t lo = i8 ? 0x80 : 0, hi = i8 ? 0x7F : 0xFF;
    for (size_t i = 0; i < wn; i++)
        wd[i] = extreme ? ((ev_test_rng_next(&rg_rng) & 1) ? lo : hi) : (uint8_t)ev_test_rng_next(&rg_rng);
    for (int k = 0; k < c; k++) {
        bd[k] = ev_test_rng_int(&rg_rng, -30000, 30000);
        ws[k] = ev_test_rng_float(&rg_rng, 0.001f, 0.02f);
        wz[k] = i8 ? ev_test_rng_int(&rg_rng, -127, 127) * (extreme ? 1 : 0) : wzp;
    }
    for (size_t i = 0; i < (size_t)h * w * c; i++)
        in[i] = extreme ? ((ev_test_rng_next(&rg_rng) & 1) ? lo : hi) : (uint8_t)ev_test_rng_next(&rg_rng);
    float in_s = ev_test_rng_float(&rg_rng, 0.005f, 0.05f), out_s = extreme ? ev_test_rng_float(&rg_rng, 0.00005f, 0.0005f)
                                                           : ev_test_rng_float(&rg_rng, 0.02f, 0.6f);
    int32_t in_zp = extreme ? (i8 ? ((ev_test_rng_next(&rg_rng) & 1) ? -128 : 127) : ((ev_test_rng_next(&rg_rng) & 1) ? 0 : 255))
                            : (i8 ? ev_test_rng_int(&rg_rng, -128, 127) : ev_test_rng_int(&rg_rng, 0, 255));
    int32_t out_zp = i8 ? ev_test_rng_int(&rg_rng, -100, 100) : ev_test_rng_int(&rg_rng, 0, 255);
    int act = (int)(ev_test_rng_next(&rg_rng) % 4);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", dt, 4, in_dims, NULL, in_s, in_zp);
    int tw = gb_tensor(&b, "w", dt, 4, w_dims, wd, wn, i8 ? c : 1, ws, wz, 3);
    int tb = gb_tensor(&b, "b", EV_DTYPE_I32, 1, b_dims, bd, sizeof(int32_t) * c, 0, NULL, NULL, 0);
    int to = gb_tensor_q(&b, "out", dt, 4, out_dims, NULL, out_s, out_zp);
    ev_conv_params p = {pad, sw, sh, dwl, dh, 1, (ev_activation)act};
    gb_op_conv(&b, EV_OP_DEPTHWISE_CONV_2D, ti, tw, tb, to, p);
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) m = NULL;
    snprintf(desc, dn, "dw %s %dx%dx%d k%dx%d s%dx%d d%dx%d pad%d act%d ext%d in_zp%d",
             i8 ? "i8" : "u8", h, w, c, kh, kw, sh, sw, dh, dwl, pad, act, extreme, (int)in_zp);
    free(wd), free(bd), free(ws), free(wz);
    return m;
}

/* Depthwise shapes aimed at the SIMD row kernels' edges (dwconv_avx2.c's fast path: 3 wide,
 * stride 1/2, 1-3 valid rows, 4 outputs per step; channel blocks of 8 and 16 and their tails;
 * borders; taller kernels and row dilation on the fast path; extreme values), wider than
 * the matrix's random images, under every ISA path. */
static void test_dw_edges(void) {
    int cases = 0, mismatches = 0;
    ev_isa paths[8];
    int npaths = ev_cpu_isa_paths(paths, 8);
    static const int chans[] = {1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 32, 40, 48};
    for (int pi = 0; pi < npaths; pi++) {
        int isa = (int)paths[pi];
        for (int it = 0; it < 80; it++) {
            rg_rng.s = 0xD0E0000ull + (uint64_t)isa * 1000 + (uint64_t)it;
            int i8 = it % 2, extreme = (it / 2) % 4 == 3;
            int kw = (it % 5 == 4) ? ev_test_rng_int(&rg_rng, 1, 5) : 3, kh = (it % 7 == 6) ? ev_test_rng_int(&rg_rng, 1, 5) : 3;
            int sw = (it % 11 == 10) ? 3 : 1 + (it / 3) % 2, sh = ev_test_rng_int(&rg_rng, 1, 2);
            int dh = (it % 9 == 8) ? 2 : 1, dwl = (it % 13 == 12) ? 2 : 1;
            int h = ev_test_rng_int(&rg_rng, 1, 7), w = ev_test_rng_int(&rg_rng, 1, 41), c = chans[ev_test_rng_next(&rg_rng) % (sizeof chans / sizeof *chans)];
            ev_padding pad = (ev_test_rng_next(&rg_rng) & 1) ? EV_PAD_SAME : EV_PAD_VALID;
            uint8_t *in = malloc((size_t)h * w * c);
            char desc[256];
            ev_model *m = dw_model(i8, h, w, c, kh, kw, sh, sw, dh, dwl, pad, extreme, in, desc,
                                   sizeof desc);
            if (!m) {
                free(in);
                continue;
            }
            size_t rb = 0, gb_ = 0, in_bytes = (size_t)h * w * c;
            const void *ins[1] = {in};
            ev_run_opts ro = {.backend = "ref", .threads = 1};
            ev_run_opts co = {.backend = "cpu", .threads = 1 + it % 2, .isa = isa_name(isa)};
            void *rv = NULL, *gv = NULL;
            int ok = ev_test_run_copy(m, &ro, 1, ins, &in_bytes, 0, &rv, &rb) == EV_OK &&
                     ev_test_run_copy(m, &co, 1, ins, &in_bytes, 0, &gv, &gb_) == EV_OK &&
                     rb == gb_ && memcmp(rv, gv, rb) == 0;
            cases++;
            if (!ok && ++mismatches <= 5) {
                const uint8_t *ref = rv, *got = gv;
                size_t first = 0, n = rb < gb_ ? rb : gb_;
                while (first < n && ref[first] == got[first]) first++;
                fprintf(stderr, "  MISMATCH isa=%s %s: first at %zu (ref %d, cpu %d) %s\n",
                        isa_name(isa), desc, first, first < n ? ref[first] : -1,
                        first < n ? got[first] : -1, ev_last_error());
            }
            free(in), free(rv), free(gv);
            ev_model_free(m);
        }
    }
    fprintf(stderr, "  %d depthwise edge cases over %d ISA paths: %d mismatches\n", cases, npaths,
            mismatches);
    CHECK(cases > 100);
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
            setenv("EV_ISA", isa_name(isa), 1);
            int threads = s == 0 ? 1 + isa % 2 : 2;
            CHECK(model_hashes(mp, "cpu", threads, ev_image_pixels(small), &got) == 0);
            int bad = 0;
            for (int op = 0; op < ref.n; op++)
                if (ref.h[op] != got.h[op]) {
                    if (!bad)
                        fprintf(stderr, "  %s isa=%s: op %d differs\n", sizes[s], isa_name(isa),
                                op);
                    bad++;
                }
            CHECK_MSG(bad == 0 && got.n == ref.n, "%s isa=%s threads=%d: %d layers differ",
                      sizes[s], isa_name(isa), threads, bad);
            fprintf(stderr, "  %s isa=%s threads=%d: %d layers identical to ref\n", sizes[s],
                    isa_name(isa), threads, ref.n - bad);
        }
        unsetenv("EV_ISA");
        ev_image_free(small);
    }
    ev_image_free(img);
}

int main(void) {
    fprintf(stderr, "cpu features: %s; best path: %s\n", ev_cpu_features(),
            isa_name(ev_cpu_isa_supported()));
    EV_RUN(test_dw_edges);
    EV_RUN(test_coral_models);
    return ev_test_finish();
}
