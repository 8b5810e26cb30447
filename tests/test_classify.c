/*
 * test_classify.c - image classification with the MobileNet TFLite models of ../shared:
 *
 *   accuracy:     on cat.bmp, top-1 is class 286 ("Egyptian cat", line 287 of imagenet_labels.txt)
 *                 with score >= 0.78 (MobileNetV1 1.0 as embedding extractor + head), >= 0.51
 *                 (mobilenet_v1_0.5_160_quant), >= 0.7 (mobilenet_v2_1.0_224_quant).
 *   composition:  the embedding (extractor output, as floats) fed to the head alone gives exactly
 *                 the composed classifier's scores; a head whose input does not match the
 *                 extractor's output is refused with both shapes in the message.
 *   preprocess:   scores of an image equal those of the same image resized beforehand with the
 *                 chosen mode (bilinear by default, nearest on request): no crop, one resize.
 *   CLI:          `classify --model M [--head H] --labels L --top 5 IMAGE` prints exactly
 *                 `IMAGE RANK CLASS_ID SCORE LABEL` lines, ranks 1..5, scores descending; a model
 *                 with an op we lack (a patched opcode) names it and exits non-zero; so does a mismatched head.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "formats/flatbuf.h"

#include <sys/wait.h>
#include <unistd.h>

#define DIR_M "models/mobilenet/"
static char g_ext[1024], g_head[1024], g_v1_050[1024], g_v2[1024], g_labels[1024], g_cat[1024];
static char g_tmp[256];

static ev_image *load_cat(void) {
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(g_cat, &img));
    return img;
}

/* Top-1 of `model` (+ `head`) on cat.bmp must be class 286 with score >= min_score. */
static void expect_cat(const char *model, const char *head, double min_score) {
    ev_classifier *c = NULL;
    ev_image *img = load_cat();
    CHECK_OK(ev_classifier_create(model, head, NULL, &c));
    if (!c || !img) {
        ev_image_free(img);
        ev_classifier_free(c);
        return;
    }
    CHECK_EQ_INT(ev_classifier_num_classes(c), 1001);
    ev_class_score top[5];
    int n = 0;
    CHECK_OK(ev_classifier_top_k(c, img, 5, top, &n));
    CHECK_EQ_INT(n, 5);
    fprintf(stderr, "  %s%s%s: top-1 %d score %.6f, top-2 %d score %.6f\n", strrchr(model, '/') + 1,
            head ? " + " : "", head ? strrchr(head, '/') + 1 : "", top[0].class_id,
            (double)top[0].score, top[1].class_id, (double)top[1].score);
    CHECK_EQ_INT(top[0].class_id, 286);
    CHECK_MSG(top[0].score >= min_score, "score %.6f < %.2f", (double)top[0].score, min_score);
    for (int i = 1; i < n; i++) CHECK(top[i].score <= top[i - 1].score);
    ev_image_free(img);
    ev_classifier_free(c);
}

static void test_cat_v1_composed(void) {
    EV_REQUIRE_FILE(g_ext);
    EV_REQUIRE_FILE(g_head);
    EV_REQUIRE_FILE(g_cat);
    expect_cat(g_ext, g_head, 0.78);
}

static void test_cat_v1_050(void) {
    EV_REQUIRE_FILE(g_v1_050);
    EV_REQUIRE_FILE(g_cat);
    expect_cat(g_v1_050, NULL, 0.51);
}

static void test_cat_v2(void) {
    EV_REQUIRE_FILE(g_v2);
    EV_REQUIRE_FILE(g_cat);
    expect_cat(g_v2, NULL, 0.7);
}

/* The embedding, requantized and run through the head alone, gives the composed scores. */
static void test_embedding_composition(void) {
    EV_REQUIRE_FILE(g_ext);
    EV_REQUIRE_FILE(g_head);
    EV_REQUIRE_FILE(g_cat);
    ev_image *img = load_cat();
    ev_classifier *ext = NULL, *both = NULL;
    CHECK_OK(ev_classifier_create(g_ext, NULL, NULL, &ext));
    CHECK_OK(ev_classifier_create(g_ext, g_head, NULL, &both));
    ev_model *hm = NULL;
    CHECK_OK(ev_model_load(g_head, &hm));
    if (!img || !ext || !both || !hm) goto done;
    CHECK_EQ_INT(ev_classifier_embedding_size(ext), 1024);
    CHECK_EQ_INT(ev_classifier_embedding_size(both), 1024);
    CHECK_EQ_INT(ev_classifier_num_classes(both), 1001);
    float e1[1024], e2[1024], scores[1001], head_scores[1001];
    CHECK(ev_classifier_embedding(ext, img, e1, 100) == EV_ERR_INVALID_ARG);
    CHECK_OK(ev_classifier_embedding(ext, img, e1, 1024));
    CHECK_OK(ev_classifier_embedding(both, img, e2, 1024));
    CHECK(memcmp(e1, e2, sizeof e1) == 0);
    int nonzero = 0, finite = 1;
    for (int i = 0; i < 1024; i++) {
        nonzero += e1[i] != 0.0f;
        finite &= isfinite(e1[i]) && e1[i] >= 0.0f && e1[i] <= 6.0f + 1e-3f; /* ReLU6 average */
    }
    CHECK(finite);
    CHECK_MSG(nonzero > 100, "only %d non-zero embedding values", nonzero);
    CHECK_OK(ev_classifier_scores(both, img, scores, 1001));
    /* the head alone, fed the embedding quantized with its input parameters */
    ev_tensor_info hin, hout;
    CHECK_OK(ev_model_input_info(hm, 0, &hin));
    CHECK(hin.dtype == EV_DTYPE_U8 && hin.bytes == 1024);
    uint8_t q[1024];
    for (int i = 0; i < 1024; i++) {
        long v = lroundf(e1[i] / hin.scale) + hin.zero_point;
        q[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    ev_session *hs = NULL;
    CHECK_OK(ev_session_create(hm, NULL, &hs));
    const void *out = NULL;
    if (hs) {
        CHECK_OK(ev_session_set_input(hs, 0, q, sizeof q));
        CHECK_OK(ev_session_run(hs));
        CHECK_OK(ev_session_output(hs, 0, &out, &hout));
    }
    if (out) {
        CHECK_EQ_INT(hout.bytes, 1001);
        for (int i = 0; i < 1001; i++)
            head_scores[i] = hout.scale * (float)((int)((const uint8_t *)out)[i] - hout.zero_point);
        CHECK(memcmp(head_scores, scores, sizeof scores) == 0);
        double sum = 0;
        for (int i = 0; i < 1001; i++) sum += scores[i];
        CHECK_MSG(fabs(sum - 1.0) < 0.05, "softmax scores sum to %g", sum);
    }
    ev_session_free(hs);
done:
    ev_model_free(hm);
    ev_classifier_free(ext);
    ev_classifier_free(both);
    ev_image_free(img);
}

static void test_head_mismatch(void) {
    EV_REQUIRE_FILE(g_v1_050);
    EV_REQUIRE_FILE(g_head);
    ev_classifier *c = NULL;
    ev_status st = ev_classifier_create(g_v1_050, g_head, NULL, &c);
    const char *e = ev_last_error();
    CHECK(st == EV_ERR_SHAPE && c == NULL);
    CHECK_MSG(strstr(e, "1x1001") && strstr(e, "1x1x1x1024"), "message lacks both shapes: %s", e);
    ev_classifier_free(c);
}

/* Classifying an image equals classifying it pre-resized with the same mode. */
static void test_preprocessing(void) {
    EV_REQUIRE_FILE(g_v1_050);
    EV_REQUIRE_FILE(g_cat);
    ev_image *img = load_cat();
    for (int mode = 0; mode < 2 && img; mode++) {
        ev_classifier_options o;
        ev_classifier_options_init(&o);
        CHECK(o.resize == EV_RESIZE_BILINEAR);
        if (mode) o.resize = EV_RESIZE_NEAREST;
        ev_classifier *c = NULL;
        CHECK_OK(ev_classifier_create(g_v1_050, NULL, &o, &c));
        if (!c) continue;
        int w, h;
        ev_classifier_input_size(c, &w, &h);
        CHECK(w == 160 && h == 160);
        ev_image *small = NULL;
        CHECK_OK(ev_image_resize(img, w, h, o.resize, &small));
        float a[1001], b[1001];
        CHECK_OK(ev_classifier_scores(c, img, a, 1001));
        if (small) CHECK_OK(ev_classifier_scores(c, small, b, 1001));
        CHECK(small && memcmp(a, b, sizeof a) == 0);
        ev_class_score top[1];
        int n = 0;
        CHECK_OK(ev_classifier_top_k(c, img, 1, top, &n));
        fprintf(stderr, "  %s resize: top-1 %d score %.6f\n", mode ? "nearest" : "bilinear",
                top[0].class_id, (double)top[0].score);
        ev_image_free(small);
        ev_classifier_free(c);
    }
    /* the other mode gives different pixels, hence (here) different scores */
    ev_image_free(img);
    ev_class_score tk[3];
    float sc[3] = {0.5f, 0.9f, 0.5f};
    CHECK_EQ_INT(ev_classifier_top_k_of(sc, 3, 3, tk), 3);
    CHECK(tk[0].class_id == 1 && tk[1].class_id == 0 && tk[2].class_id == 2);
}

/* ------------------------------------------------------------------------------------------ */
/* CLI                                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct run_result {
    int code;
    char *out, *err;
} run_result;

static char *slurp(const char *path) {
    size_t n = 0;
    unsigned char *b = ev_test_read(path, &n);
    if (!b) return strdup("");
    char *s = realloc(b, n + 1);
    if (!s) {
        free(b);
        return strdup("");
    }
    s[n] = '\0';
    return s;
}

static run_result run_cli(const char *args) {
    char cmd[8192], op[512], ep[512];
    snprintf(op, sizeof op, "%s/stdout", g_tmp);
    snprintf(ep, sizeof ep, "%s/stderr", g_tmp);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s' </dev/null", EV_CLI_PATH, args, op, ep);
    int rc = system(cmd);
    run_result r = {WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), slurp(op), slurp(ep)};
    return r;
}

static void free_run(run_result *r) {
    free(r->out);
    free(r->err);
}

static void test_cli_format(void) {
    EV_REQUIRE_FILE(g_ext);
    EV_REQUIRE_FILE(g_head);
    EV_REQUIRE_FILE(g_labels);
    EV_REQUIRE_FILE(g_cat);
    char args[8192];
    snprintf(args, sizeof args, "classify --model '%s' --head '%s' --labels '%s' --top 5 '%s'",
             g_ext, g_head, g_labels, g_cat);
    run_result r = run_cli(args);
    CHECK_MSG(r.code == 0, "exit %d: %s", r.code, r.err);
    int lines = 0;
    double prev = 2.0;
    char *save = NULL;
    for (char *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lines++;
        char image[1024], label[256];
        int rank = 0, id = -1, used = 0;
        double score = -1;
        int f = sscanf(l, "%1023s %d %d %lf %n", image, &rank, &id, &score, &used);
        CHECK_MSG(f == 4 && used > 0, "line '%s' is not IMAGE RANK CLASS_ID SCORE LABEL", l);
        if (f != 4) continue;
        snprintf(label, sizeof label, "%s", l + used);
        CHECK_MSG(strcmp(image, g_cat) == 0, "image column '%s'", image);
        CHECK_EQ_INT(rank, lines);
        CHECK(id >= 0 && id < 1001 && score >= 0 && score <= 1 && score <= prev);
        CHECK(strlen(label) > 0);
        prev = score;
        if (lines == 1) {
            CHECK_EQ_INT(id, 286);
            CHECK_MSG(strcmp(label, "Egyptian cat") == 0, "label '%s'", label);
            CHECK_MSG(score >= 0.78, "score %g", score);
        }
    }
    CHECK_EQ_INT(lines, 5);
    free_run(&r);
    /* --top 2 --resize nearest on the single-file model, two images: 4 lines */
    snprintf(args, sizeof args, "classify --model '%s' --labels '%s' --top 2 --resize nearest "
             "'%s' '%s'", g_v1_050, g_labels, g_cat, g_cat);
    r = run_cli(args);
    CHECK_MSG(r.code == 0, "exit %d: %s", r.code, r.err);
    lines = 0;
    for (char *p = r.out; *p; p++) lines += *p == '\n';
    CHECK_EQ_INT(lines, 4);
    free_run(&r);
}

/* Patches the first OperatorCode whose one-byte code is `from` to `to`. */
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

static void test_cli_errors(void) {
    EV_REQUIRE_FILE(g_ext);
    EV_REQUIRE_FILE(g_head);
    EV_REQUIRE_FILE(g_v1_050);
    EV_REQUIRE_FILE(g_cat);
    /* a head whose SOFTMAX became TRANSPOSE, an op the ref backend lacks (39 > 25, so it wins
     * over builtin_code when the file sets both) */
    size_t n = 0;
    unsigned char *buf = ev_test_read(g_head, &n);
    CHECK(buf && patch_opcode(buf, n, 25 /* SOFTMAX */, 39 /* TRANSPOSE */));
    char patched[512], args[8192];
    snprintf(patched, sizeof patched, "%s/patched_head.tflite", g_tmp);
    FILE *f = fopen(patched, "wb");
    CHECK(f && buf && fwrite(buf, 1, n, f) == n);
    if (f) fclose(f);
    free(buf);
    snprintf(args, sizeof args, "classify --model '%s' --head '%s' '%s'", g_ext, patched, g_cat);
    run_result r = run_cli(args);
    CHECK_MSG(r.code == 1, "exit %d", r.code);
    CHECK_MSG(strstr(r.err, "TRANSPOSE") && strstr(r.err, "not supported"), "stderr: %s",
              r.err);
    CHECK_MSG(r.out[0] == '\0', "stdout: %s", r.out);
    free_run(&r);
    /* mismatched head: both shapes named */
    snprintf(args, sizeof args, "classify --model '%s' --head '%s' '%s'", g_v1_050, g_head, g_cat);
    r = run_cli(args);
    CHECK_MSG(r.code == 1, "exit %d", r.code);
    CHECK_MSG(strstr(r.err, "1x1001") && strstr(r.err, "1x1x1x1024"), "stderr: %s", r.err);
    free_run(&r);
    /* usage errors */
    r = run_cli("classify --top 5");
    CHECK(r.code == 2 && strstr(r.err, "--model is required"));
    free_run(&r);
    snprintf(args, sizeof args, "classify --model '%s' --resize cubic '%s'", g_v1_050, g_cat);
    r = run_cli(args);
    CHECK(r.code == 2 && strstr(r.err, "--resize"));
    free_run(&r);
    /* an unreadable image: exit 1, the good one's results still printed */
    snprintf(args, sizeof args, "classify --model '%s' --top 1 /nonexistent.bmp '%s'", g_v1_050,
             g_cat);
    r = run_cli(args);
    CHECK(r.code == 1 && strstr(r.err, "/nonexistent.bmp"));
    CHECK(strncmp(r.out, g_cat, strlen(g_cat)) == 0 && strstr(r.out, " 1 286 "));
    free_run(&r);
}

int main(void) {
    ev_test_path(g_ext, sizeof g_ext, DIR_M "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite");
    ev_test_path(g_head, sizeof g_head, DIR_M "mobilenet_quant_v1_224_head_layers.tflite");
    ev_test_path(g_v1_050, sizeof g_v1_050, DIR_M "mobilenet_v1_0.5_160_quant.tflite");
    ev_test_path(g_v2, sizeof g_v2, DIR_M "mobilenet_v2_1.0_224_quant.tflite");
    ev_test_path(g_labels, sizeof g_labels, DIR_M "imagenet_labels.txt");
    ev_test_path(g_cat, sizeof g_cat, "data/images/cat.bmp");
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_classify_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_cat_v1_composed);
    EV_RUN(test_cat_v1_050);
    EV_RUN(test_cat_v2);
    EV_RUN(test_embedding_composition);
    EV_RUN(test_head_mismatch);
    EV_RUN(test_preprocessing);
    EV_RUN(test_cli_format);
    EV_RUN(test_cli_errors);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
