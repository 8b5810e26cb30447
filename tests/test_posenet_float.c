/*
 * test_posenet_float.c - PoseNet from TensorFlow float graphs (posenet_mobilenet_v1_050_float.pb).
 *
 *   - at 353x481 on test_couple.jpg it finds the same two people as the Coral 0.75 uint8 model
 *     at 353x481: per person, over the keypoints both score above 0.5 (at least 10), median
 *     distance < 6 px and largest < 20 px (model-input pixels);
 *   - the single-pose decoder on the probability heatmap: every keypoint is the first argmax
 *     cell of p, scored with p itself, placed at cell * 16 + offset (computed here from the raw
 *     outputs);
 *   - input sizes that do not fit the output stride read from the graph are EV_ERR_SHAPE;
 *   - the same code loads MobileNet 0.75 / 1.00 graphs of this family: their weights are not
 *     available, so the 0.50 graph is widened here (every backbone channel count x1.5 or x2,
 *     random weights) and must load, plan and run with the right head shapes.
 */
#include "edgevision.h"
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "tf_graph.pb-c.h"

#include <stdlib.h>
#include <string.h>

#define FLOAT_PB "models/posenet/posenet_mobilenet_v1_050_float.pb"
#define CORAL "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"
#define COUPLE "data/images/test_couple.jpg"

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Keypoints both poses score above 0.5: how many, median and largest distance. */
static int agreement(const ev_pose *a, const ev_pose *b, float *median, float *maxd) {
    float d[EV_NUM_KEYPOINTS];
    int n = 0;
    for (int k = 0; k < EV_NUM_KEYPOINTS; k++)
        if (a->keypoints[k].score > 0.5f && b->keypoints[k].score > 0.5f)
            d[n++] = hypotf(a->keypoints[k].x - b->keypoints[k].x,
                            a->keypoints[k].y - b->keypoints[k].y);
    qsort(d, (size_t)n, sizeof *d, cmp_float);
    *median = n ? (n % 2 ? d[n / 2] : 0.5f * (d[n / 2 - 1] + d[n / 2])) : 1e9f;
    *maxd = n ? d[n - 1] : 1e9f;
    return n;
}

static ev_status run_model(const char *path, int h, int w, const ev_image *img,
                           ev_pose_decoder dec, ev_pose *poses, int *n, ev_posenet **keep) {
    ev_posenet_options o;
    ev_posenet_options_init(&o);
    o.decoder = dec;
    ev_posenet *net = NULL;
    ev_status st = ev_posenet_create_with_input(path, h, w, &o, &net);
    if (st == EV_OK) st = ev_posenet_run(net, img, poses, 10, n);
    if (keep && st == EV_OK)
        *keep = net;
    else
        ev_posenet_free(net);
    return st;
}

static void test_float_matches_coral(void) {
    char fp[512], cp[512], ip[512];
    ev_test_path(fp, sizeof fp, FLOAT_PB);
    ev_test_path(cp, sizeof cp, CORAL);
    ev_test_path(ip, sizeof ip, COUPLE);
    EV_REQUIRE_FILE(fp);
    EV_REQUIRE_FILE(cp);
    EV_REQUIRE_FILE(ip);
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(ip, &img));
    if (!img) return;
    ev_pose fpose[10], cpose[10];
    int nf = 0, nc = 0;
    CHECK_OK(run_model(fp, 353, 481, img, EV_DECODER_MULTI, fpose, &nf, NULL));
    CHECK_OK(run_model(cp, 0, 0, img, EV_DECODER_AUTO, cpose, &nc, NULL));
    CHECK_EQ_INT(nc, 2);
    CHECK_EQ_INT(nf, 2);
    int used[10] = {0};
    for (int i = 0; i < nc && i < 2; i++) { /* each Coral person: the closest float pose */
        int best = -1;
        float bm = 1e9f, bx = 0;
        int bn = 0;
        for (int j = 0; j < nf; j++) {
            float med, mx;
            int n = agreement(&cpose[i], &fpose[j], &med, &mx);
            if (!used[j] && n > 0 && med < bm) best = j, bm = med, bx = mx, bn = n;
        }
        CHECK_MSG(best >= 0, "Coral person %d has no float counterpart", i);
        if (best < 0) continue;
        used[best] = 1;
        fprintf(stderr, "  person %d: float pose %d (score %.3f vs Coral %.3f): %d keypoints "
                "above 0.5 in both, median %.2f px, max %.2f px\n", i, best,
                (double)fpose[best].score, (double)cpose[i].score, bn, (double)bm, (double)bx);
        CHECK_MSG(bn >= 10, "person %d: %d keypoints compared", i, bn);
        CHECK_MSG(bm < 6.0f, "person %d: median %.2f px", i, (double)bm);
        CHECK_MSG(bx < 20.0f, "person %d: max %.2f px", i, (double)bx);
    }
    ev_image_free(img);
}

/* The cpu backend's float kernels (every ISA path, 2 threads) against ref on test_couple.jpg:
 * the same poses, every keypoint within 0.5 px of ref's (image pixels, which are about 4x the
 * model input's here: the float kernels' rounding differences, of order 1e-6 of the heads, move
 * no argmax and shift offsets by far less than a pixel). */
static void test_cpu_matches_ref(void) {
    char fp[512], ip[512];
    ev_test_path(fp, sizeof fp, FLOAT_PB);
    ev_test_path(ip, sizeof ip, COUPLE);
    EV_REQUIRE_FILE(fp);
    EV_REQUIRE_FILE(ip);
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(ip, &img));
    if (!img) return;
    ev_pose rpose[10];
    int nr = 0;
    ev_posenet_options o;
    ev_posenet_options_init(&o);
    o.decoder = EV_DECODER_MULTI;
    o.session.backend = "ref";
    ev_posenet *net = NULL;
    CHECK_OK(ev_posenet_create_with_input(fp, 353, 481, &o, &net));
    if (net) CHECK_OK(ev_posenet_run(net, img, rpose, 10, &nr));
    ev_posenet_free(net);
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8);
    for (int p = 0; p < np; p++) {
        ev_pose cpose[10];
        int nc = 0;
        o.session.backend = "cpu";
        o.session.threads = 2;
        o.session.isa = ev_isa_name(paths[p]);
        net = NULL;
        CHECK_OK(ev_posenet_create_with_input(fp, 353, 481, &o, &net));
        if (net) CHECK_OK(ev_posenet_run(net, img, cpose, 10, &nc));
        ev_posenet_free(net);
        CHECK_MSG(nc == nr, "%s: %d poses, ref %d", o.session.isa, nc, nr);
        double worst = 0;
        for (int i = 0; i < nc && i < nr; i++)
            for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
                double dx = fabs(cpose[i].keypoints[k].x - rpose[i].keypoints[k].x);
                double dy = fabs(cpose[i].keypoints[k].y - rpose[i].keypoints[k].y);
                if (dx > worst) worst = dx;
                if (dy > worst) worst = dy;
            }
        fprintf(stderr, "  cpu %s vs ref: %d poses, largest keypoint difference %.4f px\n",
                o.session.isa, nc, worst);
        CHECK_MSG(worst <= 0.5, "%s: keypoint %.3f px from ref", o.session.isa, worst);
    }
    ev_image_free(img);
}

/* The single-pose decoder on probabilities, recomputed from the raw heads. */
static void test_single_decoder_on_probabilities(void) {
    char fp[512], ip[512];
    ev_test_path(fp, sizeof fp, FLOAT_PB);
    ev_test_path(ip, sizeof ip, COUPLE);
    EV_REQUIRE_FILE(fp);
    EV_REQUIRE_FILE(ip);
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(ip, &img));
    if (!img) return;
    ev_pose pose[10];
    int n = 0;
    ev_posenet *net = NULL;
    CHECK_OK(run_model(fp, 353, 481, img, EV_DECODER_SINGLE, pose, &n, &net));
    CHECK_EQ_INT(n, 1);
    if (net) {
        ev_session *s = ev_posenet_session(net);
        const float *heat = NULL, *off = NULL;
        int gh = 0, gw = 0;
        for (int i = 0; i < 4; i++) {
            const void *d;
            ev_tensor_info ti;
            CHECK_OK(ev_session_output(s, i, &d, &ti));
            if (strcmp(ti.name, "heatmap") == 0) heat = d, gh = ti.dims[1], gw = ti.dims[2];
            if (strcmp(ti.name, "offset_2") == 0) off = d;
        }
        CHECK(heat && off && gh == 23 && gw == 31);
        float total = 0;
        for (int k = 0; heat && off && k < EV_NUM_KEYPOINTS; k++) {
            int best = 0;
            for (int c = 1; c < gh * gw; c++)
                if (heat[c * 17 + k] > heat[best * 17 + k]) best = c;
            float p = heat[best * 17 + k];
            float y = (float)(best / gw) * 16.0f + off[best * 34 + k];
            float x = (float)(best % gw) * 16.0f + off[best * 34 + 17 + k];
            CHECK_MSG(pose[0].keypoints[k].score == p, "keypoint %d: score %g, p %g", k,
                      (double)pose[0].keypoints[k].score, (double)p);
            CHECK_NEAR(pose[0].keypoints[k].x, x, 1e-3);
            CHECK_NEAR(pose[0].keypoints[k].y, y, 1e-3);
            total += p;
        }
        CHECK_NEAR(pose[0].score, total / 17.0f, 1e-6);
    }
    ev_posenet_free(net);
    ev_image_free(img);
}

static void test_input_sizes(void) {
    char fp[512];
    ev_test_path(fp, sizeof fp, FLOAT_PB);
    EV_REQUIRE_FILE(fp);
    ev_posenet *net = NULL;
    CHECK_EQ_INT(ev_posenet_create_with_input(fp, 353, 480, NULL, &net), EV_ERR_SHAPE);
    CHECK_MSG(strstr(ev_last_error(), "output stride 16") != NULL, "%s", ev_last_error());
    CHECK(net == NULL);
    CHECK_EQ_INT(ev_posenet_create(fp, NULL, &net), EV_ERR_SHAPE); /* free size, none given */
    CHECK_OK(ev_posenet_create_with_input(fp, 257, 257, NULL, &net));
    int w = 0, h = 0;
    ev_posenet_input_size(net, &w, &h);
    CHECK_EQ_INT(w, 257);
    CHECK_EQ_INT(h, 257);
    ev_posenet_free(net);
}

/* MobileNet 0.75 / 1.00 graphs of this family: the 0.50 graph widened. */
static int widen(int64_t *d, double f) {
    static const int64_t widths[] = {16, 32, 64, 128, 256, 512};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++)
        if (*d == widths[i]) {
            *d = (int64_t)(widths[i] * f);
            return 1;
        }
    return 0;
}

static void test_wider_family(void) {
    char fp[512];
    ev_test_path(fp, sizeof fp, FLOAT_PB);
    EV_REQUIRE_FILE(fp);
    size_t len = 0;
    unsigned char *bytes = ev_test_read(fp, &len);
    CHECK(bytes != NULL);
    if (!bytes) return;
    static const double factors[2] = {1.5, 2.0}; /* 0.75 and 1.00 from 0.50 */
    for (int fi = 0; fi < 2; fi++) {
        Edgevision__Tf__GraphDef *gd = edgevision__tf__graph_def__unpack(NULL, len, bytes);
        CHECK(gd != NULL);
        if (!gd) break;
        unsigned seed = 1;
        for (size_t i = 0; i < gd->n_node; i++) {
            Edgevision__Tf__NodeDef *nd = gd->node[i];
            if (strcmp(nd->op, "Const") != 0) continue;
            int head = strstr(nd->name, "heatmap_2") || strstr(nd->name, "offset_2") ||
                       strstr(nd->name, "displacement_");
            for (size_t a = 0; a < nd->n_attr; a++) {
                Edgevision__Tf__TensorProto *t = nd->attr[a]->value->tensor;
                if (strcmp(nd->attr[a]->key, "value") != 0 || !t || !t->tensor_shape) continue;
                Edgevision__Tf__TensorShapeProto *sp = t->tensor_shape;
                size_t elems = 1;
                for (size_t k = 0; k < sp->n_dim; k++) {
                    /* heads keep their output channels (17, 34, 32) */
                    int is_out = k + 1 == sp->n_dim;
                    if (!(head && is_out)) widen(&sp->dim[k]->size, factors[fi]);
                    elems *= (size_t)sp->dim[k]->size;
                }
                float *w = malloc(elems * sizeof(float));
                for (size_t k = 0; k < elems; k++) {
                    seed = seed * 1664525u + 1013904223u;
                    w[k] = ((float)((seed >> 9) & 0xffff) / 65535.0f - 0.5f) * 0.2f;
                }
                free(t->tensor_content.data); /* protobuf-c's default allocator is malloc */
                t->tensor_content.data = (uint8_t *)w;
                t->tensor_content.len = elems * sizeof(float);
            }
        }
        size_t n = edgevision__tf__graph_def__get_packed_size(gd);
        uint8_t *buf = malloc(n);
        edgevision__tf__graph_def__pack(gd, buf);
        edgevision__tf__graph_def__free_unpacked(gd, NULL);
        char path[64];
        snprintf(path, sizeof path, "test_posenet_float_x%.1f.pb", factors[fi]);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f) {
            CHECK(fwrite(buf, 1, n, f) == n);
            fclose(f);
        }
        free(buf);
        ev_posenet *net = NULL;
        CHECK_OK(ev_posenet_create_with_input(path, 257, 353, NULL, &net));
        if (net) {
            uint8_t *rgb = calloc(257 * 353 * 3, 1);
            ev_pose poses[10];
            int np = -1;
            CHECK_OK(ev_posenet_run_input(net, rgb, poses, 10, &np));
            CHECK(np >= 0);
            free(rgb);
            ev_session *s = ev_posenet_session(net);
            for (int i = 0; i < 4; i++) {
                const void *d;
                ev_tensor_info ti;
                CHECK_OK(ev_session_output(s, i, &d, &ti));
                CHECK_EQ_INT(ti.dims[1], 17);
                CHECK_EQ_INT(ti.dims[2], 23);
            }
            fprintf(stderr, "  MobileNet x%.2f-width graph: loads and runs at 257x353\n",
                    0.5 * factors[fi]);
        }
        ev_posenet_free(net);
        remove(path);
    }
    free(bytes);
}

int main(void) {
    EV_RUN(test_float_matches_coral);
    EV_RUN(test_cpu_matches_ref);
    EV_RUN(test_single_decoder_on_probabilities);
    EV_RUN(test_input_sizes);
    EV_RUN(test_wider_family);
    return ev_test_finish();
}
