/*
 * test_decoder.c - PoseNet decoders (src/pose/posenet_decoder.c).
 *
 *   golden_multi        Coral multi-pose decoder on the golden 353x481 heads against
 *                       decoded_353_481.csv (the shipped posenet_decoder.so, LEGACY on).
 *   golden_single       tfjs single-pose decoder on the same heads against an independent argmax.
 *   synthetic_*         properties on hand-made heads: nothing above threshold, a single peak,
 *                       the LEGACY edge-16 switch, libstdc++ heap tie order, repeatability,
 *                       max_poses truncation, bad args.
 *
 * To extend: data-dependent tests call EV_REQUIRE_FILE first so they skip loudly without
 * shared/; synthetic heads are built with heads_alloc() (in pixels, logits for heat) and freed
 * with heads_free().
 */
#include "ev_test.h"

#include "edgevision.h"
#include "pose/posenet_decoder.h"

#include <stdint.h>

#define H 23
#define W 31
#define NK EV_NUM_KEYPOINTS

/* Decoder-model head quantisation (posenet.md section 1). */
#define HEAT_SCALE 0.0470588244f
#define HEAT_ZP 128
#define SHORT_SCALE 0.392156869f
#define SHORT_ZP 128
#define MID_SCALE 1.38757646f
#define MID_ZP 117

static const char *k_dir = "data/golden/posenet_353_481";

typedef struct {
    float *heat, *off, *disp;
    int h, w;
} heads_t;

static void heads_free(heads_t *hd) {
    free(hd->heat);
    free(hd->off);
    free(hd->disp);
    memset(hd, 0, sizeof *hd);
}

/* Synthetic heads filled with constants (heat logits, offsets and displacements in pixels). */
static int heads_alloc(heads_t *hd, int h, int w, float heat, float off, float disp) {
    size_t cells = (size_t)h * (size_t)w;
    hd->h = h;
    hd->w = w;
    hd->heat = malloc(cells * NK * sizeof(float));
    hd->off = malloc(cells * 34 * sizeof(float));
    hd->disp = malloc(cells * 64 * sizeof(float));
    if (!hd->heat || !hd->off || !hd->disp) {
        heads_free(hd);
        return 0;
    }
    for (size_t i = 0; i < cells * NK; i++) hd->heat[i] = heat;
    for (size_t i = 0; i < cells * 34; i++) hd->off[i] = off;
    for (size_t i = 0; i < cells * 64; i++) hd->disp[i] = disp;
    return 1;
}

#define AT(t, hd, c_count, y, x, c) (t)[((size_t)(y) * (size_t)(hd).w + (size_t)(x)) * (c_count) + (c)]

/* Loads and dequantizes one golden head of `c` channels. */
static float *load_head(const char *name, int c, float scale, int zp) {
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "%s/heads_353_481_%s_u8.raw", k_dir, name);
    ev_test_path(path, sizeof path, rel);
    size_t len = 0;
    unsigned char *q = ev_test_read(path, &len);
    CHECK_MSG(q != NULL, "cannot read %s", path);
    if (!q) return NULL;
    CHECK_EQ_INT(len, (size_t)H * W * c);
    float *f = NULL;
    if (len == (size_t)H * W * c) {
        f = malloc(len * sizeof *f);
        if (f) ev_posenet_dequantize(q, len, scale, zp, f);
    }
    free(q);
    return f;
}

static int load_golden(heads_t *hd) {
    hd->h = H;
    hd->w = W;
    hd->heat = load_head("heat", NK, HEAT_SCALE, HEAT_ZP);
    hd->off = load_head("short", 34, SHORT_SCALE, SHORT_ZP);
    hd->disp = load_head("mid", 64, MID_SCALE, MID_ZP);
    if (!hd->heat || !hd->off || !hd->disp) {
        heads_free(hd);
        return 0;
    }
    return 1;
}

static ev_posenet_decoder_params coral_params(void) {
    ev_posenet_decoder_params p;
    p.max_detections = 10;
    p.score_threshold = 0.2f;
    p.nms_radius = 10.0f;
    p.stride = 16;
    p.legacy_edge16 = 1;
    return p;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct {
    int pose_id;
    float pose_score;
    char label[32];
    float kscore, x, y;
} csv_row;

static int read_csv(const char *path, csv_row *rows, int cap) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n < cap && fgets(line, sizeof line, f)) {
        csv_row r;
        if (sscanf(line, "%d,%f,%31[^,],%f,%f,%f", &r.pose_id, &r.pose_score, r.label, &r.kscore,
                   &r.x, &r.y) != 6)
            continue;
        rows[n++] = r;
    }
    fclose(f);
    return n;
}

/* Within 1e-6 relative or 1e-5 absolute. */
static int close_enough(double a, double b) {
    double d = fabs(a - b);
    return d <= 1e-5 || d <= 1e-6 * fabs(b);
}

static void golden_multi(void) {
    char rel[256], csv[1024], heat[1024];
    snprintf(rel, sizeof rel, "%s/decoded_353_481.csv", k_dir);
    ev_test_path(csv, sizeof csv, rel);
    snprintf(rel, sizeof rel, "%s/heads_353_481_heat_u8.raw", k_dir);
    ev_test_path(heat, sizeof heat, rel);
    EV_REQUIRE_FILE(csv);
    EV_REQUIRE_FILE(heat);

    heads_t hd;
    if (!load_golden(&hd)) return;
    csv_row rows[10 * NK];
    int nrows = read_csv(csv, rows, 10 * NK);
    CHECK_MSG(nrows > 0 && nrows % NK == 0, "%s: %d rows", csv, nrows);
    if (nrows <= 0 || nrows % NK) {
        heads_free(&hd);
        return;
    }
    int nref = nrows / NK;

    ev_posenet_decoder_params p = coral_params();
    ev_pose poses[10];
    int n = -1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, H, W, &p, poses, 10, &n));
    CHECK_EQ_INT(n, nref);

    double max_xy = 0, max_ks = 0, max_ps = 0;
    int exact = 0, total = 0;
    for (int i = 0; i < n && i < nref; i++) {
        for (int k = 0; k < NK; k++) {
            const csv_row *r = &rows[i * NK + k];
            const ev_keypoint *kp = &poses[i].keypoints[k];
            CHECK_EQ_INT(r->pose_id, i);
            CHECK_MSG(strcmp(r->label, ev_keypoint_label(k)) == 0, "row %d label %s vs %s",
                      i * NK + k, r->label, ev_keypoint_label(k));
            CHECK_MSG(close_enough(poses[i].score, r->pose_score), "pose %d score %.9g vs %.9g", i,
                      (double)poses[i].score, (double)r->pose_score);
            CHECK_MSG(close_enough(kp->score, r->kscore), "pose %d %s score %.9g vs %.9g", i,
                      r->label, (double)kp->score, (double)r->kscore);
            CHECK_MSG(close_enough(kp->x, r->x), "pose %d %s x %.9g vs %.9g", i, r->label,
                      (double)kp->x, (double)r->x);
            CHECK_MSG(close_enough(kp->y, r->y), "pose %d %s y %.9g vs %.9g", i, r->label,
                      (double)kp->y, (double)r->y);
            max_xy = fmax(max_xy, fmax(fabs((double)kp->x - r->x), fabs((double)kp->y - r->y)));
            max_ks = fmax(max_ks, fabs((double)kp->score - r->kscore));
            max_ps = fmax(max_ps, fabs((double)poses[i].score - r->pose_score));
            /* 9 significant digits round-trip a float: equal bits read back as equal floats. */
            exact += kp->x == r->x && kp->y == r->y && kp->score == r->kscore &&
                     poses[i].score == r->pose_score;
            total++;
        }
    }
    fprintf(stderr,
            "      golden: %d poses; max |dxy| %.3g px, max |dkscore| %.3g, max |dpose| %.3g; "
            "%d/%d keypoint rows bit-identical\n",
            n, max_xy, max_ks, max_ps, exact, total);

    /* The fixed edge-16 decoder gives the same answer on this image (posenet.md 4.3). */
    ev_pose fixed[10];
    int nf = -1;
    p.legacy_edge16 = 0;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, H, W, &p, fixed, 10, &nf));
    CHECK_EQ_INT(nf, n);
    CHECK(n >= 0 && memcmp(fixed, poses, (size_t)n * sizeof *poses) == 0);

    /* max_poses truncates the output without changing what is written. */
    ev_pose one[1];
    int n1 = -1;
    p.legacy_edge16 = 1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, H, W, &p, one, 1, &n1));
    CHECK_EQ_INT(n1, n > 0 ? 1 : 0);
    CHECK(n1 != 1 || memcmp(one, poses, sizeof one) == 0);

    /* max_detections 1: only the best root's pose. */
    p.max_detections = 1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, H, W, &p, one, 1, &n1));
    CHECK_EQ_INT(n1, 1);
    heads_free(&hd);
}

static float sigmoid_ref(float v) { return 1.0f / (1.0f + expf(-v)); }

static void golden_single(void) {
    char rel[256], heat[1024];
    snprintf(rel, sizeof rel, "%s/heads_353_481_heat_u8.raw", k_dir);
    ev_test_path(heat, sizeof heat, rel);
    EV_REQUIRE_FILE(heat);
    heads_t hd;
    if (!load_golden(&hd)) return;

    ev_pose pose;
    CHECK_OK(ev_posenet_decode_single(hd.heat, hd.off, H, W, 16, &pose));
    float sum = 0.0f;
    for (int k = 0; k < NK; k++) {
        int by = 0, bx = 0;
        float bv = AT(hd.heat, hd, NK, 0, 0, k);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                if (AT(hd.heat, hd, NK, y, x, k) > bv) {
                    bv = AT(hd.heat, hd, NK, y, x, k);
                    by = y;
                    bx = x;
                }
        float ey = (float)(by * 16) + AT(hd.off, hd, 34, by, bx, k);
        float ex = (float)(bx * 16) + AT(hd.off, hd, 34, by, bx, NK + k);
        float es = sigmoid_ref(bv);
        sum += es;
        CHECK_NEAR(pose.keypoints[k].y, ey, 0);
        CHECK_NEAR(pose.keypoints[k].x, ex, 0);
        CHECK_NEAR(pose.keypoints[k].score, es, 0);
        CHECK(pose.keypoints[k].x >= -100 && pose.keypoints[k].x <= 600);
    }
    CHECK_NEAR(pose.score, sum / NK, 1e-7);
    heads_free(&hd);
}

/* ------------------------------------------------------------------------------------------ */

static void synthetic_below_threshold(void) {
    heads_t hd;
    if (!heads_alloc(&hd, 9, 11, -2.0f, 3.0f, 5.0f)) return;
    ev_posenet_decoder_params p = coral_params(); /* logit threshold -1.386 */
    ev_pose poses[4];
    int n = -1;
    poses[0].score = 123.0f;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, poses, 4, &n));
    CHECK_EQ_INT(n, 0);
    CHECK(poses[0].score == 0.0f); /* unused slots are zeroed */
    heads_free(&hd);
}

/* Heat bump centred on (cy, cx) for every keypoint: base_k - 0.5 * d^2. */
static void make_bump(heads_t *hd, int cy, int cx, const float base[NK]) {
    for (int y = 0; y < hd->h; y++)
        for (int x = 0; x < hd->w; x++)
            for (int k = 0; k < NK; k++) {
                float d2 = (float)((y - cy) * (y - cy) + (x - cx) * (x - cx));
                AT(hd->heat, *hd, NK, y, x, k) = base[k] - 0.5f * d2;
            }
}

static void synthetic_single_peak(void) {
    heads_t hd;
    if (!heads_alloc(&hd, 9, 11, 0.0f, 0.0f, 0.0f)) return;
    float base[NK];
    for (int k = 0; k < NK; k++) base[k] = 3.0f;
    base[0] = 5.0f; /* the nose is the root */
    make_bump(&hd, 4, 5, base);
    AT(hd.off, hd, 34, 4, 5, 0) = 3.0f;       /* nose dy, pixels */
    AT(hd.off, hd, 34, 4, 5, NK + 0) = -5.0f; /* nose dx         */

    ev_posenet_decoder_params p = coral_params();
    ev_pose poses[4];
    int n = -1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, poses, 4, &n));
    CHECK_EQ_INT(n, 1);
    if (n >= 1) {
        CHECK_NEAR(poses[0].keypoints[0].y, 4 * 16 + 3, 0);
        CHECK_NEAR(poses[0].keypoints[0].x, 5 * 16 - 5, 0);
        CHECK(poses[0].keypoints[0].score > 0.9f); /* sigmoid of the bump sampled near its top */
        CHECK(poses[0].score >= 0.2f && poses[0].score <= 1.0f);
        for (int k = 0; k < NK; k++) {
            CHECK(poses[0].keypoints[k].x >= 0 && poses[0].keypoints[k].x <= (hd.w - 1) * 16);
            CHECK(poses[0].keypoints[k].y >= 0 && poses[0].keypoints[k].y <= (hd.h - 1) * 16);
            CHECK(poses[0].keypoints[k].score > 0.0f && poses[0].keypoints[k].score < 1.0f);
        }
    }

    /* Single-pose decoder on the same heads: argmax cell (4,5) plus the offset. */
    ev_pose single;
    CHECK_OK(ev_posenet_decode_single(hd.heat, hd.off, hd.h, hd.w, 16, &single));
    CHECK_NEAR(single.keypoints[0].y, 67.0, 0);
    CHECK_NEAR(single.keypoints[0].x, 75.0, 0);
    CHECK_NEAR(single.keypoints[1].y, 64.0, 0);
    CHECK_NEAR(single.keypoints[0].score, sigmoid_ref(5.0f), 0);

    /* Calling twice gives identical results. */
    ev_pose again[4];
    int n2 = -1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, again, 4, &n2));
    CHECK_EQ_INT(n2, n);
    CHECK(memcmp(again, poses, sizeof poses) == 0);
    heads_free(&hd);
}

/* leftEye is the only keypoint above threshold; displacement channels 16, 32 and 48 differ, so
 * the leftEye -> nose edge (16) lands elsewhere with the LEGACY quirk (dy ch16, dx ch32) than
 * with the fix (dy ch32, dx ch48). Short offsets are zero, so positions are exact. */
static void synthetic_legacy_edge16(void) {
    heads_t hd;
    if (!heads_alloc(&hd, 12, 12, -2.5f, 0.0f, 0.0f)) return;
    AT(hd.heat, hd, NK, 5, 6, 1) = 6.0f;
    for (int y = 0; y < hd.h; y++)
        for (int x = 0; x < hd.w; x++) {
            AT(hd.disp, hd, 64, y, x, 16) = 16.0f;  /* +1 block */
            AT(hd.disp, hd, 64, y, x, 32) = -32.0f; /* -2 blocks */
            AT(hd.disp, hd, 64, y, x, 48) = 48.0f;  /* +3 blocks */
        }
    ev_posenet_decoder_params p = coral_params();
    p.score_threshold = 0.1f; /* logit -2.197: only the leftEye peak passes */
    ev_pose legacy[2], fixed[2];
    int nl = -1, nf = -1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, legacy, 2, &nl));
    p.legacy_edge16 = 0;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, fixed, 2, &nf));
    CHECK_EQ_INT(nl, 1);
    CHECK_EQ_INT(nf, 1);
    if (nl == 1 && nf == 1) {
        CHECK_NEAR(legacy[0].keypoints[1].y, 80, 0); /* leftEye at the peak (5,6) */
        CHECK_NEAR(legacy[0].keypoints[1].x, 96, 0);
        CHECK_NEAR(legacy[0].keypoints[0].y, (5 + 1) * 16, 0); /* nose: dy ch16, dx ch32 */
        CHECK_NEAR(legacy[0].keypoints[0].x, (6 - 2) * 16, 0);
        CHECK_NEAR(fixed[0].keypoints[0].y, (5 - 2) * 16, 0); /* nose: dy ch32, dx ch48 */
        CHECK_NEAR(fixed[0].keypoints[0].x, (6 + 3) * 16, 0);
        CHECK(memcmp(legacy, fixed, sizeof(ev_pose)) != 0);
    }

    /* Equal channels: both modes agree. */
    for (int y = 0; y < hd.h; y++)
        for (int x = 0; x < hd.w; x++) {
            AT(hd.disp, hd, 64, y, x, 16) = 16.0f;
            AT(hd.disp, hd, 64, y, x, 32) = 16.0f;
            AT(hd.disp, hd, 64, y, x, 48) = 16.0f;
        }
    p.legacy_edge16 = 1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, legacy, 2, &nl));
    p.legacy_edge16 = 0;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, fixed, 2, &nf));
    CHECK_EQ_INT(nl, nf);
    CHECK(memcmp(legacy, fixed, sizeof legacy) == 0);
    heads_free(&hd);
}

/* Two well separated people: two poses, best first. */
static void synthetic_two_poses(void) {
    heads_t hd;
    if (!heads_alloc(&hd, 10, 20, -8.0f, 0.0f, 0.0f)) return;
    for (int y = 0; y < hd.h; y++)
        for (int x = 0; x < hd.w; x++)
            for (int k = 0; k < NK; k++) {
                float d1 = (float)((y - 4) * (y - 4) + (x - 4) * (x - 4));
                float d2 = (float)((y - 5) * (y - 5) + (x - 15) * (x - 15));
                float a = 4.0f - 0.5f * d1, b = 3.0f - 0.5f * d2;
                AT(hd.heat, hd, NK, y, x, k) = a > b ? a : b;
            }
    ev_posenet_decoder_params p = coral_params();
    ev_pose poses[10];
    int n = -1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, poses, 10, &n));
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK(poses[0].score >= poses[1].score);
        CHECK_NEAR(poses[0].keypoints[0].x, 64, 0);
        CHECK_NEAR(poses[1].keypoints[0].x, 240, 0);
    }
    heads_free(&hd);
}

/* Root candidates that all tie (logit 4.0): which cells get accepted under max_detections 2
 * depends on the exact std::priority_queue pop order. A 1x4 grid whose cells hold 15, 5, 9 and
 * 14 candidate keypoints (k < count at 4.0, the rest at -10) pushes 43 tied items in scan order;
 * libstdc++'s heap (checked with g++ std::priority_queue) first pops cell 0, then cell 3, so
 * the poses are at x = 0 and x = 48. A FIFO tie order, or ties favouring the left child,
 * accepts cell 1 (x = 16) instead. */
static void synthetic_heap_ties(void) {
    static const int counts[4] = {15, 5, 9, 14};
    heads_t hd;
    if (!heads_alloc(&hd, 1, 4, -10.0f, 0.0f, 0.0f)) return;
    for (int x = 0; x < 4; x++)
        for (int k = 0; k < counts[x]; k++) AT(hd.heat, hd, NK, 0, x, k) = 4.0f;
    ev_posenet_decoder_params p = coral_params();
    p.max_detections = 2;
    ev_pose poses[4];
    int n = -1;
    CHECK_OK(ev_posenet_decode_multi(hd.heat, hd.off, hd.disp, hd.h, hd.w, &p, poses, 4, &n));
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        for (int k = 0; k < NK; k++) {
            CHECK_NEAR(poses[0].keypoints[k].x, 0, 0);
            CHECK_NEAR(poses[1].keypoints[k].x, 48, 0);
            CHECK_NEAR(poses[1].keypoints[k].y, 0, 0);
        }
        float s4 = sigmoid_ref(4.0f);
        CHECK_NEAR(poses[0].keypoints[0].score, s4, 0);
        CHECK_NEAR(poses[1].keypoints[14].score, sigmoid_ref(-10.0f), 0);
        CHECK(poses[0].score > poses[1].score);
    }
    heads_free(&hd);
}

static void invalid_args(void) {
    heads_t hd;
    if (!heads_alloc(&hd, 4, 4, 0.0f, 0.0f, 0.0f)) return;
    ev_posenet_decoder_params p = coral_params(), q;
    ev_pose poses[2];
    int n = 5;
#define MULTI(heat, off, disp, h, w, prm, out, maxp, np)                                           \
    ev_posenet_decode_multi(heat, off, disp, h, w, prm, out, maxp, np)
    CHECK_EQ_INT(MULTI(NULL, hd.off, hd.disp, 4, 4, &p, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "heat") != NULL);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(MULTI(hd.heat, NULL, hd.disp, 4, 4, &p, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, NULL, 4, 4, &p, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, NULL, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &p, NULL, 2, &n), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &p, poses, 2, NULL), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &p, poses, -1, &n), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 0, 4, &p, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, -1, &p, poses, 2, &n), EV_ERR_INVALID_ARG);
    q = p;
    q.stride = 0;
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &q, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "stride") != NULL);
    q = p;
    q.max_detections = 0;
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &q, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "max_detections") != NULL);
    q = p;
    q.score_threshold = NAN;
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &q, poses, 2, &n), EV_ERR_INVALID_ARG);
    q = p;
    q.nms_radius = -1.0f;
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &q, poses, 2, &n), EV_ERR_INVALID_ARG);
    hd.off[7] = NAN;
    CHECK_EQ_INT(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &p, poses, 2, &n), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "offsets") != NULL);
    hd.off[7] = 0.0f;
    /* max_poses 0 with poses NULL is allowed: the decoder runs and reports nothing. */
    CHECK_OK(MULTI(hd.heat, hd.off, hd.disp, 4, 4, &p, NULL, 0, &n));
    CHECK_EQ_INT(n, 0);
#undef MULTI

    ev_pose pose;
    CHECK_EQ_INT(ev_posenet_decode_single(NULL, hd.off, 4, 4, 16, &pose), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_posenet_decode_single(hd.heat, NULL, 4, 4, 16, &pose), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_posenet_decode_single(hd.heat, hd.off, 4, 4, 16, NULL), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_posenet_decode_single(hd.heat, hd.off, 0, 4, 16, &pose), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_posenet_decode_single(hd.heat, hd.off, 4, 4, 0, &pose), EV_ERR_INVALID_ARG);
    CHECK_OK(ev_posenet_decode_single(hd.heat, hd.off, 4, 4, 16, &pose));
    heads_free(&hd);
}

static void dequantize(void) {
    const uint8_t q[4] = {0, 117, 128, 255};
    float out[4];
    ev_posenet_dequantize(q, 4, MID_SCALE, MID_ZP, out);
    CHECK(out[0] == (0.0f - 117.0f) * MID_SCALE);
    CHECK(out[1] == 0.0f);
    CHECK(out[2] == 11.0f * MID_SCALE);
    CHECK(out[3] == 138.0f * MID_SCALE);
}

int main(void) {
    EV_RUN(golden_multi);
    EV_RUN(golden_single);
    EV_RUN(synthetic_below_threshold);
    EV_RUN(synthetic_single_peak);
    EV_RUN(synthetic_legacy_edge16);
    EV_RUN(synthetic_two_poses);
    EV_RUN(synthetic_heap_ties);
    EV_RUN(invalid_args);
    EV_RUN(dequantize);
    return ev_test_finish();
}
