/*
 * test_posenet.c - the Coral PoseNet models end to end against Google's own outputs.
 *
 *   layer_checksums: fed the golden resized input, every layer of the 353x481 model matches
 *                    layer_checksums.txt (byte sums and first four bytes), bit for bit.
 *   input_pipeline:  test_couple.jpg decoded and NEAREST-resized equals the golden raw input.
 *   reference_353:   exactly 2 poses within 4 px and 0.1 score of Coral's reference CSV.
 *   larger_models:   481x641 and 721x1281 give exactly 2 poses in the same order; keypoints
 *                    scoring > 0.5 in both lie within 32 px of the 353x481 result (image pixels).
 *   raw_heads:       the backbone-only model's heads through the multi decoder give the same 2
 *                    people; the single-pose decoder equals argmax*16+offset computed here.
 *   memory_plan:     the planned arena is smaller than the sum of activations.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"

#include "edgevision.h"
#include "util/sha1.h"

#define MODEL_DIR "models/posenet/"
#define GOLDEN "data/golden/posenet_353_481/"

typedef struct layer_ref {
    long long sum;
    int first[4];
    int h, w, c;
} layer_ref;

typedef struct layer_check {
    layer_ref ref[40];
    int nref;
    int seen;
    int mismatches;
} layer_check;

static int parse_checksums(const char *path, layer_check *lc) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        int op, h, w, c, a, b, d, e;
        long long sum;
        char name[128];
        if (sscanf(line, "op %d %127s shape %dx%dx%d sum %lld first4 [%d, %d, %d, %d]", &op, name,
                   &h, &w, &c, &sum, &a, &b, &d, &e) == 10 &&
            op >= 0 && op < 40) {
            lc->ref[op] = (layer_ref){sum, {a, b, d, e}, h, w, c};
            if (op + 1 > lc->nref) lc->nref = op + 1;
        }
    }
    fclose(f);
    return lc->nref;
}

static int on_op(void *user, int op, const char *name, const ev_tensor_info *info,
                 const void *data) {
    layer_check *lc = user;
    if (op >= lc->nref || info->dtype != EV_DTYPE_U8) return 0;
    const layer_ref *r = &lc->ref[op];
    const uint8_t *b = data;
    long long sum = 0;
    for (size_t i = 0; i < info->bytes; i++) sum += b[i];
    int ok = sum == r->sum && info->dims[1] == r->h && info->dims[2] == r->w &&
             info->dims[3] == r->c;
    for (int i = 0; i < 4; i++) ok = ok && b[i] == r->first[i];
    if (!ok) {
        lc->mismatches++;
        fprintf(stderr, "  op %d %s: sum %lld (want %lld) first [%d %d %d %d] (want [%d %d %d %d])\n",
                op, name, sum, r->sum, b[0], b[1], b[2], b[3], r->first[0], r->first[1],
                r->first[2], r->first[3]);
    }
    lc->seen++;
    return 0;
}

static void test_layer_checksums(void) {
    char mp[1024], ip[1024], cp[1024];
    ev_test_path(mp, sizeof mp, MODEL_DIR "posenet_mobilenet_v1_075_353_481_quant_decoder.tflite");
    ev_test_path(ip, sizeof ip, GOLDEN "input_353_481_rgb_u8.raw");
    ev_test_path(cp, sizeof cp, GOLDEN "layer_checksums.txt");
    EV_REQUIRE_FILE(mp);
    EV_REQUIRE_FILE(ip);
    EV_REQUIRE_FILE(cp);
    static layer_check lc;
    CHECK(parse_checksums(cp, &lc) == 32);
    size_t n = 0;
    unsigned char *input = ev_test_read(ip, &n);
    CHECK(input && n == 353 * 481 * 3);
    ev_model *m = NULL;
    ev_session *s = NULL;
    CHECK_OK(ev_model_load(mp, &m));
    CHECK_EQ_INT(ev_model_num_ops(m), 33);
    CHECK(strcmp(ev_model_op_name(m, 32), "PosenetDecoderOp") == 0);
    CHECK(strcmp(ev_model_op_name(m, 0), "CONV_2D") == 0);
    CHECK(strcmp(ev_model_op_name(m, 1), "DEPTHWISE_CONV_2D") == 0);
    CHECK(strcmp(ev_model_op_name(m, 31), "CONCATENATION") == 0);
    ev_tensor_info ii;
    CHECK_OK(ev_model_input_info(m, 0, &ii));
    CHECK(ii.dtype == EV_DTYPE_U8 && ii.dims[1] == 353 && ii.dims[2] == 481 && ii.dims[3] == 3);
    CHECK_NEAR(ii.scale, 0.0078125, 1e-9);
    CHECK_EQ_INT(ii.zero_point, 128);
    CHECK_OK(ev_session_create(m, NULL, &s));
    if (s && input) {
        ev_session_set_op_callback(s, on_op, &lc);
        CHECK_OK(ev_session_set_input(s, 0, input, n));
        CHECK_OK(ev_session_run(s));
        CHECK_EQ_INT(lc.seen, 32);
        CHECK_EQ_INT(lc.mismatches, 0);
        /* the decoder's count output */
        const void *d = NULL;
        ev_tensor_info oi;
        CHECK_OK(ev_session_output(s, 3, &d, &oi));
        CHECK(d && *(const float *)d == 2.0f);
        size_t planned, unplanned;
        ev_session_memory(s, &planned, &unplanned);
        CHECK_MSG(planned < unplanned / 2, "planned %zu unplanned %zu", planned, unplanned);
    }
    ev_session_free(s);
    ev_model_free(m);
    free(input);
}

static void test_input_pipeline(void) {
    char jp[1024], ip[1024];
    ev_test_path(jp, sizeof jp, "data/images/test_couple.jpg");
    ev_test_path(ip, sizeof ip, GOLDEN "input_353_481_rgb_u8.raw");
    EV_REQUIRE_FILE(jp);
    EV_REQUIRE_FILE(ip);
    size_t n = 0;
    unsigned char *raw = ev_test_read(ip, &n);
    ev_image *img = NULL, *small = NULL;
    CHECK_OK(ev_image_load(jp, &img));
    CHECK_OK(ev_image_resize(img, 481, 353, EV_RESIZE_NEAREST, &small));
    CHECK(raw && small && n == 353 * 481 * 3 && memcmp(ev_image_pixels(small), raw, n) == 0);
    ev_image_free(img);
    ev_image_free(small);
    free(raw);
}

typedef struct ref_pose {
    int n;
    ev_pose p[4];
} ref_pose;

static int load_reference(const char *path, ref_pose *r) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    memset(r, 0, sizeof *r);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        int id;
        float ps, ks, x, y;
        char label[64];
        if (sscanf(line, "%d,%f,%63[^,],%f,%f,%f", &id, &ps, label, &ks, &x, &y) != 6) continue;
        if (id < 0 || id >= 4) continue;
        int k = -1;
        for (int i = 0; i < EV_NUM_KEYPOINTS; i++)
            if (strcmp(label, ev_keypoint_label(i)) == 0) k = i;
        if (k < 0) continue;
        r->p[id].score = ps;
        r->p[id].keypoints[k] = (ev_keypoint){x, y, ks};
        if (id + 1 > r->n) r->n = id + 1;
        rows++;
    }
    fclose(f);
    return rows;
}

static int run_model(const char *size, ev_pose *poses, int *n, const ev_image *img) {
    char mp[1024], rel[256];
    snprintf(rel, sizeof rel, MODEL_DIR "posenet_mobilenet_v1_075_%s_quant_decoder.tflite", size);
    ev_test_path(mp, sizeof mp, rel);
    if (!ev_test_exists(mp)) return -1;
    ev_posenet *net = NULL;
    ev_status st = ev_posenet_create(mp, NULL, &net);
    CHECK_MSG(st == EV_OK, "%s: %s", size, ev_last_error());
    if (st != EV_OK) return -1;
    st = ev_posenet_run(net, img, poses, 10, n);
    CHECK_MSG(st == EV_OK, "%s: %s", size, ev_last_error());
    ev_posenet_free(net);
    return st == EV_OK ? 0 : -1;
}

static ev_pose g_small[10];
static int g_small_n = -1;
static ev_image *g_img;

static void test_reference_353(void) {
    char jp[1024], rp[1024];
    ev_test_path(jp, sizeof jp, "data/images/test_couple.jpg");
    ev_test_path(rp, sizeof rp,
                 "data/reference/posenet_mobilenet_v1_075_353_481_quant_decoder_reference.csv");
    EV_REQUIRE_FILE(jp);
    EV_REQUIRE_FILE(rp);
    ref_pose ref;
    CHECK_EQ_INT(load_reference(rp, &ref), 34);
    CHECK_OK(ev_image_load(jp, &g_img));
    if (!g_img || run_model("353_481", g_small, &g_small_n, g_img) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(g_small_n, 2);
    double max_d = 0, max_s = 0;
    for (int p = 0; p < 2 && p < g_small_n; p++) {
        CHECK_NEAR(g_small[p].score, ref.p[p].score, 0.1);
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            const ev_keypoint *a = &g_small[p].keypoints[k], *b = &ref.p[p].keypoints[k];
            CHECK_NEAR(a->x, b->x, 4.0);
            CHECK_NEAR(a->y, b->y, 4.0);
            CHECK_NEAR(a->score, b->score, 0.1);
            double d = fmax(fabs(a->x - b->x), fabs(a->y - b->y));
            if (d > max_d) max_d = d;
            if (fabs(a->score - b->score) > max_s) max_s = fabs(a->score - b->score);
        }
    }
    fprintf(stderr, "  353x481 vs Coral reference: max keypoint delta %.3f px, max score delta "
            "%.4f\n", max_d, max_s);
    /* Bit-exact pipeline: posenet.md section 6 gives pose 0's nose at (203.37, 97.58). */
    CHECK_NEAR(g_small[0].keypoints[0].x, 203.372726, 1e-3);
    CHECK_NEAR(g_small[0].keypoints[0].y, 97.5781403, 1e-3);
    CHECK_NEAR(g_small[0].score, 0.892099679, 1e-6);
}

static void test_larger_models(void) {
    if (g_small_n != 2 || !g_img) {
        fprintf(stderr, "SKIP %s: needs the 353x481 result\n", __func__);
        ev_t_skip++;
        return;
    }
    const char *sizes[2] = {"481_641", "721_1281"};
    const int dims[2][2] = {{641, 481}, {1281, 721}};
    float W = (float)ev_image_width(g_img), H = (float)ev_image_height(g_img);
    for (int s = 0; s < 2; s++) {
        ev_pose poses[10];
        int n = -1;
        if (run_model(sizes[s], poses, &n, g_img) != 0) {
            fprintf(stderr, "SKIP %s %s: model absent or failed\n", __func__, sizes[s]);
            continue;
        }
        CHECK_MSG(n == 2, "%s gives %d poses", sizes[s], n);
        double max_d = 0;
        int compared = 0;
        for (int p = 0; p < 2 && p < n; p++)
            for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
                const ev_keypoint *a = &poses[p].keypoints[k], *b = &g_small[p].keypoints[k];
                if (a->score <= 0.5f || b->score <= 0.5f) continue;
                double ax = a->x * W / dims[s][0], ay = a->y * H / dims[s][1];
                double bx = b->x * W / 481.0, by = b->y * H / 353.0;
                double d = hypot(ax - bx, ay - by);
                if (d > max_d) max_d = d;
                compared++;
                CHECK_MSG(d <= 32.0, "%s pose %d %s: %.1f px from the 353x481 result", sizes[s],
                          p, ev_keypoint_label(k), d);
            }
        CHECK(compared >= 20);
        fprintf(stderr, "  %s vs 353x481: %d keypoints compared, max distance %.2f image px\n",
                sizes[s], compared, max_d);
    }
}

static void test_raw_heads(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_DIR "posenet_mobilenet_v1_075_353_481_quant.tflite");
    EV_REQUIRE_FILE(mp);
    if (!g_img || g_small_n != 2) {
        fprintf(stderr, "SKIP %s: needs the 353x481 result\n", __func__);
        ev_t_skip++;
        return;
    }
    ev_posenet_options o;
    ev_posenet_options_init(&o);
    ev_posenet *net = NULL;
    CHECK_OK(ev_posenet_create(mp, &o, &net));
    if (!net) return;
    ev_pose poses[10];
    int n = 0;
    CHECK_OK(ev_posenet_run(net, g_img, poses, 10, &n));
    CHECK_EQ_INT(n, 2);
    /* Coarser head quantization, same people: noses within 8 input pixels. */
    for (int p = 0; p < 2 && p < n; p++) {
        CHECK_NEAR(poses[p].keypoints[0].x, g_small[p].keypoints[0].x, 8.0);
        CHECK_NEAR(poses[p].keypoints[0].y, g_small[p].keypoints[0].y, 8.0);
    }
    ev_posenet_free(net);

    /* Single pose: argmax cell * 16 + offset, computed here from the raw session outputs. */
    o.decoder = EV_DECODER_SINGLE;
    CHECK_OK(ev_posenet_create(mp, &o, &net));
    if (!net) return;
    ev_pose single;
    CHECK_OK(ev_posenet_run(net, g_img, &single, 1, &n));
    CHECK_EQ_INT(n, 1);
    ev_session *s = ev_posenet_session(net);
    const uint8_t *heat = NULL, *off = NULL;
    ev_tensor_info hi = {0}, oi = {0};
    for (int i = 0; i < 3; i++) {
        const void *d;
        ev_tensor_info info;
        CHECK_OK(ev_session_output(s, i, &d, &info));
        if (info.dims[3] == 17) heat = d, hi = info;
        if (info.dims[3] == 34) off = d, oi = info;
    }
    CHECK(heat && off);
    if (heat && off) {
        int H = hi.dims[1], W = hi.dims[2];
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            int best = -1, by = 0, bx = 0;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int v = heat[(y * W + x) * 17 + k];
                    if (v > best) best = v, by = y, bx = x;
                }
            const uint8_t *o2 = off + (by * W + bx) * 34;
            double ex = bx * 16 + (o2[17 + k] - oi.zero_point) * (double)oi.scale;
            double ey = by * 16 + (o2[k] - oi.zero_point) * (double)oi.scale;
            double es = 1.0 / (1.0 + exp(-(best - hi.zero_point) * (double)hi.scale));
            CHECK_NEAR(single.keypoints[k].x, ex, 1e-3);
            CHECK_NEAR(single.keypoints[k].y, ey, 1e-3);
            CHECK_NEAR(single.keypoints[k].score, es, 1e-5);
        }
    }
    ev_posenet_free(net);
}

/* The google-coral/test_data build of the same network and size (int8 weights, requantized
 * heads, max_detections 20): the file gives the decoder's outputs no shape; model load sizes
 * them as TFLite's Prepare does. Its weights and quantization differ from the project-posenet
 * build (a different conversion: int8 weights and activations with uint8 QUANTIZE heads, head
 * scales 0.0894 / 0.7224 / 1.4816 against 0.0471 / 0.3922 / 1.3876), so the two files are
 * different models and equal poses are impossible: TensorFlow Lite 2.9 itself, on the golden
 * 353x481 input (tools/layer_diff + bench/peers/tflite_tap.js --drop-last-ops 1, the decoder
 * dropped), gives heatmap logits up to 10.07 apart (mean 3.67) between the two files and a
 * different heatmap maximum for 13 of 17 keypoints. Against TFLite 2.9 each file's heads are
 * what edgevision computes: the test_data build's 37 ops bit-identical, the project build's
 * heads within one quantization step (5 of 81995 head values). Asserted here as the larger
 * models are (same count, keypoints within 32 image px). */
static void test_test_data_build(void) {
    char mp[1024];
    ev_test_path(mp, sizeof mp, MODEL_DIR "posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite");
    EV_REQUIRE_FILE(mp);
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(mp, &m));
    if (!m) return;
    static const int want[4][5] = {{4, 1, 20, 17, 2}, {3, 1, 20, 17}, {2, 1, 20}, {0}};
    CHECK_EQ_INT(ev_model_num_outputs(m), 4);
    for (int o = 0; o < 4 && o < ev_model_num_outputs(m); o++) {
        ev_tensor_info ti;
        CHECK_OK(ev_model_output_info(m, o, &ti));
        CHECK_EQ_INT(ti.dtype, EV_DTYPE_F32);
        CHECK_EQ_INT(ti.ndim, want[o][0]);
        for (int d = 0; d < want[o][0] && d < ti.ndim; d++) CHECK_EQ_INT(ti.dims[d], want[o][d + 1]);
    }
    ev_model_free(m);

    /* An unsized output that cannot be sized (options without max_detections) is an error
     * naming the op and the tensor. */
    uint8_t *bytes = NULL;
    size_t size = 0;
    FILE *f = fopen(mp, "rb");
    if (f && fseek(f, 0, SEEK_END) == 0 && (size = (size_t)ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc(size)) && fread(bytes, 1, size, f) == size) {
        int hits = 0;
        for (size_t i = 0; i + 14 <= size; i++)
            if (memcmp(bytes + i, "max_detections", 14) == 0) {
                bytes[i] = 'w';
                hits++;
            }
        CHECK_EQ_INT(hits, 1);
        ev_status st = ev_model_load_memory(bytes, size, "test_data build", &m);
        CHECK(st != EV_OK);
        const char *e = ev_last_error();
        CHECK_MSG(strstr(e, "op 37 (PosenetDecoderOp)") && strstr(e, "'poses'") &&
                  strstr(e, "max_detections"), "error: %s", e);
        if (st == EV_OK) ev_model_free(m);
    }
    if (f) fclose(f);
    free(bytes);

    if (g_small_n != 2 || !g_img) {
        fprintf(stderr, "SKIP %s poses: needs the 353x481 result\n", __func__);
        ev_t_skip++;
        return;
    }
    ev_posenet *net = NULL;
    CHECK_OK(ev_posenet_create(mp, NULL, &net));
    if (!net) return;
    ev_pose poses[10];
    int n = -1;
    CHECK_OK(ev_posenet_run(net, g_img, poses, 10, &n));
    ev_posenet_free(net);
    CHECK_EQ_INT(n, 2);
    float W = (float)ev_image_width(g_img), H = (float)ev_image_height(g_img);
    double max_d = 0, max_s = 0, max_ps = 0;
    int compared = 0;
    for (int p = 0; p < 2 && p < n; p++) {
        CHECK_NEAR(poses[p].score, g_small[p].score, 0.05);
        if (fabs(poses[p].score - g_small[p].score) > max_ps)
            max_ps = fabs(poses[p].score - g_small[p].score);
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            const ev_keypoint *a = &poses[p].keypoints[k], *b = &g_small[p].keypoints[k];
            if (fabs(a->score - b->score) > max_s) max_s = fabs(a->score - b->score);
            if (a->score <= 0.5f || b->score <= 0.5f) continue;
            double d = hypot((a->x - b->x) * W / 481.0, (a->y - b->y) * H / 353.0);
            if (d > max_d) max_d = d;
            compared++;
            CHECK_MSG(d <= 32.0, "pose %d %s: %.1f px from the project-posenet build", p,
                      ev_keypoint_label(k), d);
        }
    }
    CHECK(compared >= 20);
    fprintf(stderr, "  test_data _16_ build vs project-posenet 353x481: %d poses, %d keypoints "
            "compared (score > 0.5), max distance %.2f image px, max keypoint score delta %.3f, "
            "max pose score delta %.4f\n", n, compared, max_d, max_s, max_ps);
}

/* The test_data build's three uint8 heads (the decoder op's inputs) on the golden 353x481 input
 * against TensorFlow Lite 2.9's own, on ref and on cpu at every ISA path: SHA-1 of each head's
 * bytes as TFLite 2.9 produced them (2026-12-04, from the repository root, peers installed):
 *   ./build/layer_diff MODEL INPUT.raw /tmp/ld16
 *   node bench/peers/tflite_tap.js MODEL INPUT.raw /tmp/ld16 1 --drop-last-ops 1
 *   sha1sum /tmp/ld16/tfl_t98.bin /tmp/ld16/tfl_t100.bin /tmp/ld16/tfl_t96.bin
 * (tensors 98, 100, 96: heatmaps, short offsets, mid offsets, the decoder's inputs in order;
 * every one of the model's 37 ops is bit-identical there: layer_diff says so). */
static void test_test_data_build_vs_tflite(void) {
    static const struct {
        int tensor;
        size_t bytes;
        const char *sha1;
    } k_heads[3] = {{98, 12121, "53a19b06463636166ca72f204eff7507bef47536"},
                    {100, 24242, "1b3668ee74091c4a691de8085f84dd30cbd0668c"},
                    {96, 45632, "74c41b3af7a56e9a17d6181164f8268b61f64c73"}};
    char mp[1024], ip[1024];
    ev_test_path(mp, sizeof mp, MODEL_DIR "posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite");
    ev_test_path(ip, sizeof ip, GOLDEN "input_353_481_rgb_u8.raw");
    EV_REQUIRE_FILE(mp);
    EV_REQUIRE_FILE(ip);
    size_t in_n = 0;
    uint8_t *in = ev_test_read(ip, &in_n);
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(mp, &m));
    if (!m || !in) {
        free(in);
        ev_model_free(m);
        return;
    }
    int dec = ev_model_num_ops(m) - 1; /* the decoder op, last */
    /* ref (not under emulation: seconds there), then cpu on every path this machine has */
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8);
    for (int r = getenv("EV_TEST_EMULATED") ? 0 : -1; r < np; r++) {
        ev_session_options o;
        ev_session_options_init(&o);
        o.backend = r < 0 ? "ref" : "cpu";
        o.isa = r < 0 ? NULL : ev_isa_name(paths[r]);
        o.threads = 2;
        ev_session *s = NULL;
        CHECK_OK(ev_session_create(m, &o, &s));
        if (!s) continue;
        CHECK_OK(ev_session_set_input(s, 0, in, in_n));
        CHECK_OK(ev_session_run(s));
        for (int h = 0; h < 3; h++) {
            const void *data = NULL;
            ev_tensor_info ti;
            CHECK_OK(ev_session_op_input(s, dec, h, &data, &ti));
            if (!data) continue;
            char hex[41];
            ev_sha1_hex(data, ti.bytes, hex);
            CHECK_MSG(ti.bytes == k_heads[h].bytes && strcmp(hex, k_heads[h].sha1) == 0,
                      "%s %s: head %d (%zu bytes) sha1 %s, TFLite 2.9's %s\n", o.backend,
                      o.isa ? o.isa : "", h, ti.bytes, hex, k_heads[h].sha1);
        }
        ev_session_free(s);
    }
    free(in);
    ev_model_free(m);
}

int main(void) {
    EV_RUN(test_layer_checksums);
    EV_RUN(test_input_pipeline);
    EV_RUN(test_reference_353);
    EV_RUN(test_larger_models);
    EV_RUN(test_test_data_build);
    EV_RUN(test_test_data_build_vs_tflite);
    EV_RUN(test_raw_heads);
    ev_image_free(g_img);
    return ev_test_finish();
}
