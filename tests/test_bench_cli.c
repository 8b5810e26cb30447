/*
 * test_bench_cli.c - `edgevision bench` and `edgevision pose` on video as other tools call them,
 * with tiny budgets (bench uses the fast cpu backend; pose the ref one, about a second a frame).
 *
 *   bench:   `bench --model M --backend cpu --backend nosuch --min-runs 2 --json out.json
 *            dance.mp4` prints the environment header and per-stage table, writes JSON whose
 *            result has stages.inference.median_ms and fps (= 1000 / mean end-to-end ms),
 *            stage counts equal to the runs, a pipelined FPS, and records the backend that is
 *            not compiled in as an error (exit 1) without losing the cpu result; the JSON feeds
 *            `report`.
 *   pose:    `pose --model M --max-frames 2 --draw out.mp4 dance.mp4` writes a 2-frame video
 *            of 514x496 and CSV rows named dance.mp4#0 and #1.
 *   errors:  a missing camera, a truncated video, a missing input.
 *   any:     bench on a classifier (MobileNet V2), an embedding extractor, the float PoseNet .pb
 *            with --input-size 353x481, PoseNet, and a head model with --input random (seeded)
 *            each writes result JSON with stages.inference.median_ms; pose stages only for the
 *            pose models; an image for a model that takes no image is refused naming 'random'.
 *   profile: `bench --profile P.csv --trace T.json` (and --profile P.json) writes one row per op
 *            (median ms, MACs summing to the model's, GOP/s, shares summing to 1), the same as
 *            JSON, and a Chrome trace of "X" events, one per op, in op order and not overlapping;
 *            the --json result file carries the profile and `report` lists its top 5 ops (op,
 *            type, kernel, median ms descending, share) under "## Top ops" for "... cpu x1: MODEL".
 *   movenet: `eval-pose --model MOVENET` on the COCO images gives an AP in [0, 1]; `bench` takes
 *            MoveNet beside PoseNet with --eval-annotations (the same AP) and `report` has one
 *            row per model, each with its own COCO AP.
 */
#include "ev_test.h"

#include "edgevision.h"

#include <cjson/cJSON.h>
#include <sys/wait.h>

#define MODEL_353 "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"

static char g_tmp[256], g_model[1024], g_dance[1024];

static char *slurp(const char *path) {
    size_t n = 0;
    unsigned char *b = ev_test_read(path, &n);
    if (!b) return strdup("");
    char *s = realloc(b, n + 1);
    s[n] = '\0';
    return s;
}

static int run(const char *args, char **out, char **err) {
    char cmd[8192], op[512], ep[512];
    snprintf(op, sizeof op, "%s/stdout", g_tmp);
    snprintf(ep, sizeof ep, "%s/stderr", g_tmp);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s' </dev/null", EV_CLI_PATH, args, op, ep);
    int rc = system(cmd);
    *out = slurp(op);
    *err = slurp(ep);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static double num_at(const cJSON *o, const char *a, const char *b, const char *c) {
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b) v = cJSON_GetObjectItem(v, b);
    if (c) v = cJSON_GetObjectItem(v, c);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_bench_json(void) {
    EV_REQUIRE_FILE(g_model);
    EV_REQUIRE_FILE(g_dance);
    char args[4096], json[512], *out, *err;
    snprintf(json, sizeof json, "%s/bench.json", g_tmp);
    snprintf(args, sizeof args,
             "bench --model '%s' --backend cpu --backend nosuch --threads 1 --warmup-runs 0 "
             "--min-runs 2 --min-secs 0 --max-secs 900 --pipelined --label testbox --json '%s' '%s'",
             g_model, json, g_dance);
    int rc = run(args, &out, &err);
    CHECK_MSG(rc == 1, "exit %d (want 1: one backend missing): %s", rc, err);
    CHECK_MSG(strstr(err, "backend 'nosuch' is not compiled into this build"), "%s", err);
    CHECK(strstr(out, "  cpu ") && strstr(out, "  isa path ") && strstr(out, "  os ") &&
          strstr(out, "  compiler ") && strstr(out, "FFmpeg"));
    CHECK(strstr(out, "inference") && strstr(out, "pose_decode") && strstr(out, "end_to_end"));
    CHECK(strstr(out, "FPS end to end") && strstr(out, "pipelined"));
    char *text = slurp(json);
    cJSON *root = cJSON_Parse(text);
    CHECK(root != NULL);
    cJSON *results = cJSON_GetObjectItem(root, "results");
    CHECK_EQ_INT(cJSON_GetArraySize(results), 1);
    cJSON *r = cJSON_GetArrayItem(results, 0);
    if (r) {
        double med = num_at(r, "stages", "inference", "median_ms");
        double mean_e2e = num_at(r, "stages", "end_to_end", "mean_ms");
        /* a property, not a speed: tests never time anything (emulated ARM runs are slow) */
        CHECK_MSG(med > 0 && isfinite(med), "inference median %g ms", med);
        CHECK_NEAR(num_at(r, "fps", NULL, NULL), 1000.0 / mean_e2e, 1e-9);
        CHECK_EQ_INT(num_at(r, "runs", NULL, NULL), 2);
        static const char *const stages[] = {"decode", "preprocess", "inference", "pose_decode",
                                             "end_to_end"};
        for (int i = 0; i < 5; i++) {
            CHECK_EQ_INT(num_at(r, "stages", stages[i], "count"), 2);
            double lo = num_at(r, "stages", stages[i], "min_ms");
            double p50 = num_at(r, "stages", stages[i], "median_ms");
            double hi = num_at(r, "stages", stages[i], "max_ms");
            CHECK_MSG(lo >= 0 && lo <= p50 && p50 <= hi, "%s: %g %g %g", stages[i], lo, p50, hi);
        }
        /* end to end covers the stages inside it */
        CHECK(num_at(r, "stages", "end_to_end", "min_ms") >= num_at(r, "stages", "inference", "min_ms"));
        CHECK(num_at(r, "fps_pipelined", NULL, NULL) > 0);
        CHECK(num_at(r, "peak_rss_mb", NULL, NULL) > 5);
        CHECK_EQ_INT(num_at(r, "frame", "width", NULL), 514);
        CHECK_EQ_INT(num_at(r, "model_input", "height", NULL), 353);
        cJSON *m = cJSON_GetObjectItem(r, "machine");
        CHECK(m && strcmp(cJSON_GetObjectItem(m, "label")->valuestring, "testbox") == 0);
        /* the cpu backend records the path it ran (vnni, avx2, neon, dotprod, ...) */
        CHECK(m && strcmp(cJSON_GetObjectItem(m, "isa")->valuestring, ev_cpu_isa_name()) == 0);
        CHECK(strcmp(cJSON_GetObjectItem(r, "input")->valuestring, "dance.mp4") == 0);
    }
    cJSON *errors = cJSON_GetObjectItem(root, "errors");
    CHECK_EQ_INT(cJSON_GetArraySize(errors), 1);
    cJSON *e0 = cJSON_GetArrayItem(errors, 0);
    CHECK(e0 && strcmp(cJSON_GetObjectItem(e0, "backend")->valuestring, "nosuch") == 0);
    cJSON_Delete(root);
    free(text);
    free(out);
    free(err);
    /* the file feeds the report */
    snprintf(args, sizeof args, "report --out '%s/rep' '%s'", g_tmp, json);
    rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "report: %s", err);
    char md[512];
    snprintf(md, sizeof md, "%s/rep/report.md", g_tmp);
    char *rep = slurp(md);
    CHECK(strstr(rep, "| testbox |") && strstr(rep, "posenet_mobilenet_v1_075_353_481_quant_decoder"));
    free(rep);
    free(out);
    free(err);
}

static void test_pose_video(void) {
    EV_REQUIRE_FILE(g_model);
    EV_REQUIRE_FILE(g_dance);
    char args[4096], vid[512], *out, *err;
    snprintf(vid, sizeof vid, "%s/annotated.mp4", g_tmp);
    snprintf(args, sizeof args, "pose --model '%s' --max-frames 2 --format csv --draw '%s' '%s'",
             g_model, vid, g_dance);
    int rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    CHECK(strncmp(out, "image,pose_id,pose_score,", 25) == 0);
    CHECK(strstr(out, "dance.mp4#0,0,") != NULL && strstr(out, "dance.mp4#1,0,") != NULL);
    CHECK(strstr(out, "dance.mp4#2,") == NULL);
    ev_video *v = NULL;
    CHECK_OK(ev_video_open(vid, &v));
    if (v) {
        CHECK_EQ_INT(ev_video_width(v), 514);
        CHECK_EQ_INT(ev_video_height(v), 496);
        int n = 0;
        ev_image *img = NULL;
        while (ev_video_read(v, &img) == EV_OK && img) {
            ev_image_free(img);
            n++;
        }
        CHECK_EQ_INT(n, 2);
        ev_video_free(v);
    }
    free(out);
    free(err);
    snprintf(args, sizeof args, "pose --model '%s' --draw '%s/x.png' '%s'", g_model, g_tmp, g_dance);
    rc = run(args, &out, &err);
    CHECK(rc == 2 && strstr(err, "--draw takes a video file name"));
    free(out);
    free(err);
}

static void test_errors(void) {
    EV_REQUIRE_FILE(g_model);
    char args[4096], cut[512], *out, *err;
    if (!ev_test_exists("/dev/video97")) {
        snprintf(args, sizeof args, "bench --model '%s' --min-runs 1 /dev/video97", g_model);
        int rc = run(args, &out, &err);
        CHECK(rc == 1 && strstr(err, "camera /dev/video97: No such device"));
        free(out);
        free(err);
    }
    if (ev_test_exists(g_dance)) {
        size_t n = 0;
        unsigned char *b = ev_test_read(g_dance, &n);
        snprintf(cut, sizeof cut, "%s/cut.mp4", g_tmp);
        FILE *f = fopen(cut, "wb");
        if (f && b) fwrite(b, 1, n / 3, f);
        if (f) fclose(f);
        free(b);
        snprintf(args, sizeof args, "pose --model '%s' '%s'", g_model, cut);
        int rc = run(args, &out, &err);
        CHECK_MSG(rc == 1 && strstr(err, "cut.mp4") && strstr(err, "moov"), "%d %s", rc, err);
        free(out);
        free(err);
    }
    snprintf(args, sizeof args, "bench --model '%s' --min-runs 1 /no/such.mp4", g_model);
    int rc = run(args, &out, &err);
    CHECK(rc == 1 && strstr(err, "/no/such.mp4") && strstr(err, "No such file"));
    free(out);
    free(err);
    rc = run("bench --min-runs 1 x.mp4", &out, &err);
    CHECK(rc == 2 && strstr(err, "--model is required"));
    free(out);
    free(err);
}

static void bench_one(const char *rel, const char *extra, const char *input, int pose) {
    char model[1024], args[4096], json[512], *out, *err;
    ev_test_path(model, sizeof model, rel);
    EV_REQUIRE_FILE(model);
    snprintf(json, sizeof json, "%s/any.json", g_tmp);
    remove(json);
    snprintf(args, sizeof args, "bench --model '%s' %s --warmup-runs 0 --min-runs 2 --min-secs 0 "
             "--quiet --json '%s' '%s'", model, extra, json, input);
    int rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "%s: exit %d: %s", rel, rc, err);
    CHECK_MSG(strstr(err, "not a PoseNet model") == NULL, "%s", err);
    char *text = slurp(json);
    cJSON *j = cJSON_Parse(text);
    CHECK_MSG(j != NULL, "%s: no result JSON", rel);
    cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
    double med = num_at(r0, "stages", "inference", "median_ms");
    CHECK_MSG(med > 0, "%s: inference median %g", rel, med);
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(r0, "stages"), "pose_decode") != NULL,
                 pose);
    CHECK(num_at(r0, "stages", "inference", "count") == 2);
    cJSON *be = cJSON_GetObjectItem(r0, "backend");
    CHECK(cJSON_IsString(be) && strcmp(be->valuestring, "auto") != 0); /* resolved */
    cJSON_Delete(j);
    free(text);
    free(out);
    free(err);
}

static void test_any_model(void) {
    char image[1024], head[1024], args[4096], *out, *err;
    ev_test_path(image, sizeof image, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(image);
    bench_one("models/mobilenet/mobilenet_v2_1.0_224_quant.tflite", "", image, 0);
    bench_one("models/mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", "", image,
              0);
    bench_one("models/posenet/posenet_mobilenet_v1_050_float.pb", "--input-size 353x481", image,
              1);
    bench_one("models/posenet/posenet_mobilenet_v1_075_353_481_quant.tflite", "", image, 1);
    bench_one("models/mobilenet/mobilenet_quant_v1_224_head_layers.tflite", "--seed 7", "random",
              0);
    /* an image for a model that takes no image: refused, pointing at 'random' */
    ev_test_path(head, sizeof head, "models/mobilenet/mobilenet_quant_v1_224_head_layers.tflite");
    snprintf(args, sizeof args, "bench --model '%s' --min-runs 1 --min-secs 0 --quiet '%s'", head,
             image);
    int rc = run(args, &out, &err);
    CHECK_EQ_INT(rc, 1);
    CHECK_MSG(strstr(err, "not an image") && strstr(err, "random"), "%s", err);
    free(out);
    free(err);
}

static void test_profile_trace(void) {
    char raw[1024];
    ev_test_path(raw, sizeof raw, "models/posenet/posenet_mobilenet_v1_075_353_481_quant.tflite");
    EV_REQUIRE_FILE(raw);
    char image[1024];
    ev_test_path(image, sizeof image, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(image);
    char args[4096], csv[512], pj[512], trace[512], rj[512], *out, *err;
    snprintf(rj, sizeof rj, "%s/profiled.json", g_tmp);
    snprintf(csv, sizeof csv, "%s/profile.csv", g_tmp);
    snprintf(pj, sizeof pj, "%s/profile.json", g_tmp);
    snprintf(trace, sizeof trace, "%s/trace.json", g_tmp);
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args,
                 "bench --model '%s' --backend cpu --threads 1 --warmup-runs 0 --min-runs 3 "
                 "--min-secs 0 --quiet --profile '%s' %s%s%s '%s'", raw, k ? pj : csv,
                 k ? "--json '" : "--trace '", k ? rj : trace, "'", image);
        int rc = run(args, &out, &err);
        CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
        free(out);
        free(err);
    }
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(raw, &m));
    int nops = ev_model_num_ops(m);
    int64_t total_macs = ev_model_macs(m);
    ev_model_free(m);
    /* CSV: header + one row per op */
    char *text = slurp(csv);
    const char *header = "model,backend,threads,input,op,type,kernel,reference,median_ms,macs,"
                         "gops,share\n";
    CHECK(strncmp(text, header, strlen(header)) == 0);
    int rows = 0;
    double share = 0, macs = 0;
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char *f = line + 1;
        for (int c = 0; c < 8 && f; c++) f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
        if (!f) break;
        double ms = atof(f);
        f = strchr(f, ',') + 1;
        macs += atof(f);
        f = strchr(f, ',') + 1;
        f = strchr(f, ',') + 1;
        share += atof(f);
        CHECK(ms > 0);
        rows++;
    }
    CHECK_EQ_INT(rows, nops);
    CHECK_NEAR(share, 1.0, 1e-3);
    CHECK(macs == (double)total_macs);
    free(text);
    /* JSON profile */
    text = slurp(pj);
    cJSON *j = cJSON_Parse(text);
    CHECK_MSG(j != NULL, "profile JSON does not parse: %.200s", text);
    cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "profiles"), 0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(p0, "ops")), nops);
    cJSON_Delete(j);
    free(text);
    /* trace: X events in op order, not overlapping */
    text = slurp(trace);
    j = cJSON_Parse(text);
    CHECK_MSG(j != NULL, "trace does not parse: %.200s", text);
    cJSON *ev, *events = cJSON_GetObjectItem(j, "traceEvents");
    int x = 0;
    double end = -1;
    cJSON_ArrayForEach(ev, events) {
        if (strcmp(cJSON_GetObjectItem(ev, "ph")->valuestring, "X") != 0) continue;
        double ts = cJSON_GetObjectItem(ev, "ts")->valuedouble;
        double dur = cJSON_GetObjectItem(ev, "dur")->valuedouble;
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(ev, "pid")) &&
              cJSON_IsNumber(cJSON_GetObjectItem(ev, "tid")));
        CHECK(ts >= end - 1e-3 && dur >= 0);
        end = ts + dur;
        x++;
    }
    CHECK_EQ_INT(x, nops);
    cJSON_Delete(j);
    free(text);
    /* the result file carries the profile; the report lists its top ops */
    snprintf(args, sizeof args, "report --out '%s/rep_prof' '%s'", g_tmp, rj);
    int rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "report: %s", err);
    free(out);
    free(err);
    char md[512];
    snprintf(md, sizeof md, "%s/rep_prof/report.md", g_tmp);
    text = slurp(md);
    const char *top = strstr(text, "## Top ops");
    CHECK_MSG(top != NULL, "no top ops section: %.400s", text);
    const char *sec = top ? strstr(top, "cpu x1: posenet_mobilenet_v1_075_353_481_quant\n") : NULL;
    CHECK_MSG(sec != NULL, "no section for the profiled result: %.600s", top ? top : text);
    if (sec) {
        const char *h = strstr(sec, "| op | type | kernel | median ms | share |");
        CHECK(h != NULL);
        /* five rows after the header and the rule, largest median first, each a conv */
        const char *line = h ? strchr(h, '\n') : NULL;
        line = line ? strchr(line + 1, '\n') : NULL;
        double prev = 1e300, share_sum = 0;
        int rows = 0;
        while (line && line[1] == '|' && line[2] == ' ') {
            int op = -1;
            char type[64] = "", kernel[96] = "";
            double ms = -1, share = -1;
            int got = sscanf(line + 1, "| %d | %63s | %95[^|]| %lf | %lf%% |", &op, type, kernel,
                             &ms, &share);
            CHECK_MSG(got == 5, "bad top-op row: %.120s", line + 1);
            CHECK(op >= 0 && op < nops && ms > 0 && ms <= prev && share > 0 && share <= 100);
            CHECK_MSG(strstr(type, "CONV_2D") != NULL, "top op type %s", type);
            CHECK(strlen(kernel) > 1);
            prev = ms;
            share_sum += share;
            rows++;
            line = strchr(line + 1, '\n');
        }
        CHECK_EQ_INT(rows, 5);
        CHECK(share_sum > 0 && share_sum <= 100.05);
    }
    free(text);
}

static double report_ap(const char *md, const char *model) {
    char key[256];
    snprintf(key, sizeof key, "| %s |", model);
    const char *row = strstr(md, key);
    if (!row) return NAN;
    const char *end = strchr(row, '\n'), *last = NULL;
    for (const char *p = row; p && p < end - 2; p = strchr(p + 1, '|'))
        if (p[1] == ' ' && p + 2 < end && strchr(p + 2, '|') && strchr(p + 2, '|') < end) last = p;
    return last ? atof(last + 1) : NAN;
}

static void test_movenet(void) {
    char mn[1024], ann[1024], imgs[1024], image[1024];
    ev_test_path(mn, sizeof mn, "models/movenet/movenet_single_pose_lightning_ptq.tflite");
    ev_test_path(ann, sizeof ann, "data/coco/test_coco.json");
    ev_test_path(imgs, sizeof imgs, "data/coco");
    ev_test_path(image, sizeof image, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(mn);
    EV_REQUIRE_FILE(ann);
    EV_REQUIRE_FILE(g_model);
    char args[8192], ej[512], bj[512], *out, *err;
    snprintf(ej, sizeof ej, "%s/movenet_eval.json", g_tmp);
    snprintf(args, sizeof args, "eval-pose --model '%s' --annotations '%s' --backend cpu "
             "--json '%s' '%s'", mn, ann, ej, imgs);
    int rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "eval-pose exit %d: %s", rc, err);
    free(out);
    free(err);
    char *text = slurp(ej);
    cJSON *j = cJSON_Parse(text);
    double ap = num_at(j, "ap", NULL, NULL);
    CHECK_MSG(ap >= 0 && ap <= 1, "MoveNet AP %g", ap);
    CHECK(num_at(j, "images", NULL, NULL) > 0);
    cJSON_Delete(j);
    free(text);
    /* bench: MoveNet beside PoseNet, with accuracy; report: a row per model */
    snprintf(bj, sizeof bj, "%s/movenet_bench.json", g_tmp);
    snprintf(args, sizeof args, "bench --model '%s' --model '%s' --backend cpu --threads 1 "
             "--warmup-runs 0 --min-runs 2 --min-secs 0 --quiet --eval-annotations '%s' "
             "--eval-images '%s' --json '%s' '%s'", mn, g_model, ann, imgs, bj, image);
    rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "bench exit %d: %s", rc, err);
    free(out);
    free(err);
    text = slurp(bj);
    j = cJSON_Parse(text);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 2);
    const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
    CHECK(num_at(r0, "stages", "pose_decode", "median_ms") >= 0);
    CHECK_NEAR(num_at(r0, "accuracy", "coco_ap", NULL), ap, 1e-9);
    cJSON_Delete(j);
    free(text);
    snprintf(args, sizeof args, "report --out '%s/rep_movenet' '%s'", g_tmp, bj);
    rc = run(args, &out, &err);
    CHECK_MSG(rc == 0, "report: %s", err);
    free(out);
    free(err);
    char md[512];
    snprintf(md, sizeof md, "%s/rep_movenet/report.md", g_tmp);
    text = slurp(md);
    double rap = report_ap(text, "movenet_single_pose_lightning_ptq");
    double pap = report_ap(text, "posenet_mobilenet_v1_075_353_481_quant_decoder");
    CHECK_MSG(rap >= 0 && rap <= 1 && fabs(rap - ap) < 0.0006, "report MoveNet AP %g (eval %g)",
              rap, ap);
    CHECK_MSG(pap >= 0 && pap <= 1, "report PoseNet AP %g", pap);
    free(text);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_bench_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    ev_test_path(g_model, sizeof g_model, MODEL_353);
    ev_test_path(g_dance, sizeof g_dance, "data/video/dance.mp4");
    EV_RUN(test_bench_json);
    EV_RUN(test_pose_video);
    EV_RUN(test_errors);
    EV_RUN(test_profile_trace);
    EV_RUN(test_any_model);
    EV_RUN(test_movenet);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
