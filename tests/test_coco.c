/*
 * test_coco.c - COCO keypoint evaluation (src/bench/coco_eval.c) against properties and hand
 * computation.
 *
 *   oks:      one labelled keypoint (the nose, sigma .026) 5 px off (3, 4) on a gt of area
 *             10000: var = (2 * .026)^2 = .002704, e = 25 / .002704 / 10000 / 2 = .46227811,
 *             OKS = exp(-e) = .62984715; two labelled keypoints average their terms; a gt with
 *             no labelled keypoint measures distances to its box enlarged by its size.
 *   gt as prediction: the 4-image subset in ../shared/data/coco/ with every annotated person
 *             (num_keypoints > 0) as a prediction of score 1 gives AP = AR = 1.0.
 *   thresholds: one gt, one prediction of OKS .62985 is a match at .50, .55, .60 and not above:
 *             AP = AR = 3 / 10; the AP at .50 is 1 and at .75 is 0.
 *   errors:   malformed JSON, missing fields, predictions for an unknown image.
 */
#include "ev_test.h"

#include "bench/coco_eval.h"

#include <cjson/cJSON.h>

#include <math.h>

static char g_tmp[256];

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_oks_by_hand(void) {
    double g[51] = {0}, d[34] = {0}, bb[4] = {0, 0, 100, 100};
    g[0] = 50, g[1] = 60, g[2] = 2;
    for (int k = 0; k < 17; k++) d[2 * k] = 1000, d[2 * k + 1] = 1000; /* far: unlabelled */
    d[0] = 53, d[1] = 64;
    double e = 25.0 / 0.002704 / 10000.0 / 2.0;
    CHECK_NEAR(e, 0.46227811, 1e-8);
    CHECK_NEAR(ev_coco_oks(g, bb, 10000, d), exp(-e), 1e-12);
    CHECK_NEAR(ev_coco_oks(g, bb, 10000, d), 0.62984715, 1e-8);
    /* add the left hip (sigma .107) exactly on target: mean of the two terms */
    g[33] = 20, g[34] = 30, g[35] = 1;
    d[22] = 20, d[23] = 30;
    CHECK_NEAR(ev_coco_oks(g, bb, 10000, d), (exp(-e) + 1.0) / 2.0, 1e-12);
    /* no labelled keypoint: distance outside the box [x - w, x + 2w] per axis; the box is
     * 0..100 -> [-100, 200]; every keypoint at (250, 0) is 50 px out in x only */
    double g0[51] = {0}, d0[34];
    for (int k = 0; k < 17; k++) d0[2 * k] = 250, d0[2 * k + 1] = 0;
    double sum = 0;
    for (int k = 0; k < 17; k++) {
        double var = 4 * ev_coco_sigmas[k] * ev_coco_sigmas[k];
        sum += exp(-(2500.0 / var / 10000.0 / 2.0));
    }
    CHECK_NEAR(ev_coco_oks(g0, bb, 10000, d0), sum / 17, 1e-12);
    /* inside the enlarged box: distance 0, OKS 1 */
    for (int k = 0; k < 17; k++) d0[2 * k] = 150;
    CHECK_NEAR(ev_coco_oks(g0, bb, 10000, d0), 1.0, 1e-12);
}

static void test_gt_as_prediction(void) {
    char ann[1024];
    ev_test_path(ann, sizeof ann, "data/coco/test_coco.json");
    EV_REQUIRE_FILE(ann);
    ev_coco_eval *ev = NULL;
    CHECK_OK(ev_coco_eval_load(ann, &ev));
    if (!ev) return;
    CHECK_EQ_INT(ev_coco_eval_num_images(ev), 4);
    /* read the same annotations again to make predictions of them */
    size_t n = 0;
    unsigned char *text = ev_test_read(ann, &n);
    char *s = realloc(text, n + 1);
    s[n] = '\0';
    cJSON *root = cJSON_Parse(s);
    free(s);
    cJSON *a;
    int added = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(root, "annotations")) {
        if (cJSON_GetObjectItem(a, "num_keypoints")->valueint == 0) continue;
        ev_pose p;
        p.score = 1.0f;
        cJSON *kp = cJSON_GetObjectItem(a, "keypoints");
        for (int k = 0; k < 17; k++) {
            p.keypoints[k].x = (float)cJSON_GetArrayItem(kp, 3 * k)->valuedouble;
            p.keypoints[k].y = (float)cJSON_GetArrayItem(kp, 3 * k + 1)->valuedouble;
            p.keypoints[k].score = 1.0f;
        }
        CHECK_OK(ev_coco_eval_add(ev, (int64_t)cJSON_GetObjectItem(a, "image_id")->valuedouble,
                                  &p, 1));
        added++;
    }
    cJSON_Delete(root);
    CHECK_EQ_INT(added, 12);
    ev_coco_stats st;
    CHECK_OK(ev_coco_eval_compute(ev, &st));
    CHECK_NEAR(st.ap, 1.0, 1e-12);
    CHECK_NEAR(st.ap50, 1.0, 1e-12);
    CHECK_NEAR(st.ap75, 1.0, 1e-12);
    CHECK_NEAR(st.ar, 1.0, 1e-12);
    CHECK_EQ_INT(st.num_gt, 14);
    CHECK_EQ_INT(st.num_dt, 12);
    /* a wrong extra prediction with a higher score costs precision: AP drops below 1 */
    ev_pose bad;
    bad.score = 2.0f;
    for (int k = 0; k < 17; k++) bad.keypoints[k] = (ev_keypoint){5.0f, 5.0f, 1.0f};
    CHECK_OK(ev_coco_eval_add(ev, 785, &bad, 1));
    CHECK_OK(ev_coco_eval_compute(ev, &st));
    CHECK_MSG(st.ap < 1.0 && st.ap > 0.9, "AP %g", st.ap);
    CHECK_NEAR(st.ar, 1.0, 1e-12);
    ev_coco_eval_free(ev);
}

static const char *k_one_gt =
    "{\"images\":[{\"id\":7,\"file_name\":\"a.jpg\",\"width\":200,\"height\":200}],"
    "\"categories\":[{\"id\":1,\"name\":\"person\"}],"
    "\"annotations\":[{\"id\":3,\"image_id\":7,\"category_id\":1,\"iscrowd\":0,"
    "\"area\":10000,\"bbox\":[0,0,100,100],\"num_keypoints\":1,"
    "\"keypoints\":[50,60,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}";

static void test_thresholds(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/one.json", g_tmp);
    write_text(path, k_one_gt);
    ev_coco_eval *ev = NULL;
    CHECK_OK(ev_coco_eval_load(path, &ev));
    if (!ev) return;
    ev_pose p;
    p.score = 0.9f;
    for (int k = 0; k < 17; k++) p.keypoints[k] = (ev_keypoint){53, 64, 1};
    CHECK_OK(ev_coco_eval_add(ev, 7, &p, 1));
    ev_coco_stats st;
    CHECK_OK(ev_coco_eval_compute(ev, &st));
    /* OKS .6298: matched at .50 .55 .60 only -> precision 1 at every recall point for those 3
     * thresholds, 0 for the other 7 */
    CHECK_NEAR(st.ap, 0.3, 1e-12);
    CHECK_NEAR(st.ar, 0.3, 1e-12);
    CHECK_NEAR(st.ap50, 1.0, 1e-12);
    CHECK_NEAR(st.ap75, 0.0, 1e-12);
    /* the gt (area 10000) is large: nothing medium -> -1, large = all */
    CHECK_NEAR(st.ap_medium, -1, 0);
    CHECK_NEAR(st.ap_large, 0.3, 1e-12);
    int64_t id;
    const char *file;
    int w, h;
    CHECK_OK(ev_coco_eval_image(ev, 0, &id, &file, &w, &h));
    CHECK(id == 7 && strcmp(file, "a.jpg") == 0 && w == 200 && h == 200);
    CHECK_EQ_INT(ev_coco_eval_add(ev, 8, &p, 1), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "image 8") != NULL);
    ev_coco_eval_free(ev);
}

static void test_errors(void) {
    char path[512];
    ev_coco_eval *ev = NULL;
    snprintf(path, sizeof path, "%s/bad.json", g_tmp);
    write_text(path, "{\"images\": [ {\"id\": 1,, } ]}");
    CHECK_EQ_INT(ev_coco_eval_load(path, &ev), EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "not valid JSON") && strstr(ev_last_error(), "bad.json"));
    write_text(path, "{\"images\": []}");
    CHECK_EQ_INT(ev_coco_eval_load(path, &ev), EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "'annotations'") != NULL);
    write_text(path, "{\"images\":[{\"id\":1,\"file_name\":\"x.jpg\"}],\"annotations\":[{\"id\":2,"
               "\"image_id\":1,\"category_id\":1,\"area\":5,\"bbox\":[0,0,1,1],"
               "\"keypoints\":[1,2,3]}]}");
    CHECK_EQ_INT(ev_coco_eval_load(path, &ev), EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "annotations[0]") && strstr(ev_last_error(), "keypoints[51]"));
    CHECK_EQ_INT(ev_coco_eval_load("/no/such/ann.json", &ev), EV_ERR_IO);
    CHECK(ev == NULL);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_coco_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_oks_by_hand);
    EV_RUN(test_gt_as_prediction);
    EV_RUN(test_thresholds);
    EV_RUN(test_errors);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
