/*
 * test_cli.c - the `edgevision pose` command as users and other tools call it.
 *
 *   contract:  `pose --model M --format csv --coords input IMAGE` prints exactly the header
 *              pose_id,pose_score,keypoint_label,keypoint_score,keypoint_x,keypoint_y and one
 *              row per keypoint, matching Coral's reference, exit 0.
 *   coords:    --coords image scales x by W_img/W_in and y by H_img/H_in.
 *   json/out:  --format json parses and holds the same poses; --output writes the file and
 *              nothing to stdout; --draw writes an image of the original size.
 *   defaults:  with no --backend/--threads, pose runs on the fastest backend (auto: cpu here)
 *              with the machine's cores, says so in one stderr line "edgevision: backend ...",
 *              and prints the same CSV as `--backend ref --threads 1`.
 *   help:      --help and --version of the program and every subcommand: stdout, exit 0.
 *   errors:    missing/truncated/empty/non-model files, Edge TPU models, unreadable images,
 *              unsupported ops, bad options: each its own message and a non-zero exit; with
 *              several images, a bad one does not lose the good ones' results.
 */
#include "ev_test.h"

#include "edgevision.h"

#include <cjson/cJSON.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL_353 "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"

static char g_tmp[256];

typedef struct run_result {
    int code;
    char *out, *err;
} run_result;

static char *slurp(const char *path) {
    size_t n = 0;
    unsigned char *b = ev_test_read(path, &n);
    if (!b) return NULL;
    char *s = realloc(b, n + 1);
    if (!s) {
        free(b);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

/* Runs the CLI with `args` (a shell fragment), capturing stdout and stderr. */
static run_result run_cli(const char *args) {
    char cmd[8192], op[512], ep[512];
    snprintf(op, sizeof op, "%s/stdout", g_tmp);
    snprintf(ep, sizeof ep, "%s/stderr", g_tmp);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s' </dev/null", EV_CLI_PATH, args, op, ep);
    int rc = system(cmd);
    run_result r = {WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), slurp(op), slurp(ep)};
    if (!r.out) r.out = strdup("");
    if (!r.err) r.err = strdup("");
    return r;
}

static void free_run(run_result *r) {
    free(r->out);
    free(r->err);
}

static char g_model[1024], g_image[1024], g_ref[1024];

static void test_csv_contract(void) {
    EV_REQUIRE_FILE(g_model);
    EV_REQUIRE_FILE(g_image);
    EV_REQUIRE_FILE(g_ref);
    char args[4096];
    snprintf(args, sizeof args, "pose --model '%s' --format csv --coords input '%s'", g_model,
             g_image);
    run_result r = run_cli(args);
    CHECK_MSG(r.code == 0, "exit %d: %s", r.code, r.err);
    const char *header = "pose_id,pose_score,keypoint_label,keypoint_score,keypoint_x,keypoint_y\n";
    CHECK(strncmp(r.out, header, strlen(header)) == 0);
    char *ref = slurp(g_ref);
    /* same rows, same labels, values within the tolerances */
    char *save1 = NULL, *save2 = NULL;
    char *l1 = strtok_r(r.out, "\n", &save1), *l2 = strtok_r(ref, "\n", &save2);
    int rows = 0;
    while ((l1 = strtok_r(NULL, "\n", &save1)) && (l2 = strtok_r(NULL, "\n", &save2))) {
        int i1, i2;
        float ps1, ps2, ks1, ks2, x1, x2, y1, y2;
        char lab1[64], lab2[64];
        CHECK(sscanf(l1, "%d,%f,%63[^,],%f,%f,%f", &i1, &ps1, lab1, &ks1, &x1, &y1) == 6);
        CHECK(sscanf(l2, "%d,%f,%63[^,],%f,%f,%f", &i2, &ps2, lab2, &ks2, &x2, &y2) == 6);
        CHECK(i1 == i2 && strcmp(lab1, lab2) == 0);
        CHECK_NEAR(x1, x2, 4.0);
        CHECK_NEAR(y1, y2, 4.0);
        CHECK_NEAR(ks1, ks2, 0.1);
        CHECK_NEAR(ps1, ps2, 0.1);
        rows++;
    }
    CHECK_EQ_INT(rows, 34);
    CHECK(l1 == NULL || strtok_r(NULL, "\n", &save1) == NULL);
    free(ref);
    free_run(&r);
}

static int parse_first_row(const char *csv, float *x, float *y) {
    const char *nl = strchr(csv, '\n');
    if (!nl) return -1;
    int id;
    float ps, ks;
    char lab[64];
    return sscanf(nl + 1, "%d,%f,%63[^,],%f,%f,%f", &id, &ps, lab, &ks, x, y) == 6 ? 0 : -1;
}

static void test_coords_json_output_draw(void) {
    EV_REQUIRE_FILE(g_model);
    EV_REQUIRE_FILE(g_image);
    char args[4096], path[512];
    snprintf(args, sizeof args, "pose --model '%s' --format csv --coords input '%s'", g_model,
             g_image);
    run_result a = run_cli(args);
    snprintf(args, sizeof args, "pose --model '%s' --format csv '%s'", g_model, g_image);
    run_result b = run_cli(args);
    float xi, yi, xo, yo;
    CHECK(a.code == 0 && b.code == 0);
    CHECK(parse_first_row(a.out, &xi, &yi) == 0 && parse_first_row(b.out, &xo, &yo) == 0);
    CHECK_NEAR(xo, xi * 1920.0 / 481.0, 1e-2);
    CHECK_NEAR(yo, yi * 1278.0 / 353.0, 1e-2);
    free_run(&a);
    free_run(&b);

    snprintf(path, sizeof path, "%s/poses.json", g_tmp);
    snprintf(args, sizeof args, "pose --model '%s' --format json --output '%s' '%s'", g_model,
             path, g_image);
    run_result j = run_cli(args);
    CHECK_MSG(j.code == 0, "%s", j.err);
    CHECK(j.out[0] == '\0');
    char *js = slurp(path);
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    CHECK(root != NULL);
    cJSON *imgs = cJSON_GetObjectItem(root, "images");
    cJSON *im0 = cJSON_GetArrayItem(imgs, 0);
    cJSON *poses = cJSON_GetObjectItem(im0, "poses");
    CHECK_EQ_INT(cJSON_GetArraySize(poses), 2);
    cJSON *kp0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(poses, 0), "keypoints"), 0);
    CHECK(kp0 && strcmp(cJSON_GetObjectItem(kp0, "label")->valuestring, "NOSE") == 0);
    CHECK_NEAR(cJSON_GetObjectItem(kp0, "x")->valuedouble, xo, 1e-2);
    CHECK_EQ_INT(cJSON_GetObjectItem(im0, "width")->valueint, 1920);
    cJSON_Delete(root);
    free(js);
    free_run(&j);

    snprintf(path, sizeof path, "%s/drawn.png", g_tmp);
    snprintf(args, sizeof args, "pose --model '%s' --draw '%s' '%s'", g_model, path, g_image);
    run_result d = run_cli(args);
    CHECK_MSG(d.code == 0, "%s", d.err);
    CHECK(strstr(d.out, "2 poses") != NULL);
    ev_image *drawn = NULL, *orig = NULL;
    CHECK_OK(ev_image_load(path, &drawn));
    CHECK_OK(ev_image_load(g_image, &orig));
    if (drawn && orig) {
        CHECK(ev_image_width(drawn) == 1920 && ev_image_height(drawn) == 1278);
        size_t diff = 0, n = 1920 * 1278 * 3;
        const uint8_t *p = ev_image_pixels(drawn), *q = ev_image_pixels(orig);
        for (size_t i = 0; i < n; i++) diff += p[i] != q[i];
        CHECK_MSG(diff > 10000 && diff < n / 4, "%zu bytes changed", diff);
        /* the nose of pose 0 is drawn on: the pixel there changed */
        size_t at = ((size_t)yo * 1920 + (size_t)xo) * 3;
        CHECK(memcmp(p + at, q + at, 3) != 0);
    }
    ev_image_free(drawn);
    ev_image_free(orig);
    free_run(&d);
}

static void expect_error(const char *args, int code, const char *needle) {
    run_result r = run_cli(args);
    CHECK_MSG(r.code == code, "'%s': exit %d, want %d (%s)", args, r.code, code, r.err);
    CHECK_MSG(strstr(r.err, needle) != NULL, "'%s': stderr lacks '%s': %s", args, needle, r.err);
    CHECK_MSG(strstr(r.err, "Sanitizer") == NULL && strstr(r.err, "runtime error") == NULL,
              "sanitizer report: %s", r.err);
    free_run(&r);
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void test_errors(void) {
    EV_REQUIRE_FILE(g_model);
    EV_REQUIRE_FILE(g_image);
    char args[4096], p1[512], p2[512];
    snprintf(args, sizeof args, "pose --model /no/such/model.tflite '%s'", g_image);
    expect_error(args, 1, "cannot open");
    snprintf(args, sizeof args, "pose --model '%s' /no/such/image.jpg", g_model);
    expect_error(args, 1, "/no/such/image.jpg");

    snprintf(p1, sizeof p1, "%s/empty.tflite", g_tmp);
    write_file(p1, "", 0);
    snprintf(args, sizeof args, "pose --model '%s' '%s'", p1, g_image);
    expect_error(args, 1, "empty file");

    size_t n = 0;
    unsigned char *model = ev_test_read(g_model, &n);
    snprintf(p1, sizeof p1, "%s/truncated.tflite", g_tmp);
    write_file(p1, model, n / 2);
    snprintf(args, sizeof args, "pose --model '%s' '%s'", p1, g_image);
    expect_error(args, 1, "truncated");
    free(model);

    snprintf(args, sizeof args, "pose --model '%s' '%s'", g_image, g_image);
    expect_error(args, 1, "not a model file");

    char tpu[1024];
    ev_test_path(tpu, sizeof tpu,
                 "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder_edgetpu.tflite");
    if (ev_test_exists(tpu)) {
        snprintf(args, sizeof args, "pose --model '%s' '%s'", tpu, g_image);
        expect_error(args, 1, "Edge TPU");
    }

    snprintf(p2, sizeof p2, "%s/not_an_image.jpg", g_tmp);
    write_file(p2, "hello", 5);
    snprintf(args, sizeof args, "pose --model '%s' '%s'", g_model, p2);
    expect_error(args, 1, "not_an_image.jpg");

    size_t jn = 0;
    unsigned char *jpg = ev_test_read(g_image, &jn);
    snprintf(p2, sizeof p2, "%s/half.jpg", g_tmp);
    write_file(p2, jpg, jn / 2);
    free(jpg);
    snprintf(args, sizeof args, "pose --model '%s' '%s'", g_model, p2);
    expect_error(args, 1, "half.jpg");

    /* a bad image among good ones: the good results are still written */
    snprintf(args, sizeof args, "pose --model '%s' --format csv --coords input '%s' '%s'",
             g_model, p2, g_image);
    run_result r = run_cli(args);
    CHECK(r.code == 1);
    CHECK(strstr(r.out, "image,pose_id") != NULL && strstr(r.out, "test_couple.jpg,0,") != NULL);
    free_run(&r);

    snprintf(args, sizeof args, "pose --model '%s' --format xml '%s'", g_model, g_image);
    expect_error(args, 2, "--format");
    snprintf(args, sizeof args, "pose --model '%s' --threads zero '%s'", g_model, g_image);
    expect_error(args, 2, "--threads");
    snprintf(args, sizeof args, "pose --model '%s'", g_model);
    expect_error(args, 2, "no input image");
    expect_error("pose --bogus x", 2, "--bogus");
    expect_error("frobnicate", 2, "unknown command");
    snprintf(args, sizeof args, "pose --model '%s' --backend tpu9000 '%s'", g_model, g_image);
    expect_error(args, 1, "tpu9000");
}

static void test_default_backend(void) {
    EV_REQUIRE_FILE(g_model);
    EV_REQUIRE_FILE(g_image);
    char args[4096];
    snprintf(args, sizeof args, "pose --model '%s' --format csv '%s'", g_model, g_image);
    run_result a = run_cli(args);
    snprintf(args, sizeof args, "pose --model '%s' --backend ref --threads 1 --format csv '%s'",
             g_model, g_image);
    run_result b = run_cli(args);
    CHECK_EQ_INT(a.code, 0);
    CHECK_EQ_INT(b.code, 0);
    CHECK_MSG(strcmp(a.out, b.out) == 0, "auto and ref CSV differ:\n%s\n---\n%s", a.out, b.out);
    CHECK(strstr(a.out, "edgevision: backend") == NULL);
    /* one line naming the backend that ran: the fastest compiled one that is not cuda here */
    const char *want = "ref";
    for (const char *const *n = ev_backend_names(); *n; n++)
        if (strcmp(*n, "cpu") == 0) want = "cpu";
    char line[64];
    snprintf(line, sizeof line, "edgevision: backend %s", want);
    CHECK_MSG(strstr(a.err, line) != NULL || strstr(a.err, "edgevision: backend cuda") != NULL,
              "stderr lacks '%s': %s", line, a.err);
    CHECK_MSG(strstr(b.err, "edgevision: backend ref, 1 thread\n") != NULL, "%s", b.err);
    free_run(&a);
    free_run(&b);
}

/* GNU conventions: --help and --version of the program and of every subcommand print to stdout
 * (nothing on stderr) and exit 0; no command at all is a usage error (stderr, exit 2). */
static void test_help_version(void) {
    static const char *const cmds[] = {"", "pose", "bench", "eval-pose", "report", "classify",
                                       "quantize", "train", "eval", "inspect", "version"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        for (int v = 0; v < 2; v++) {
            char args[128];
            snprintf(args, sizeof args, "%s %s", cmds[i], v ? "--version" : "--help");
            run_result r = run_cli(args);
            CHECK_MSG(r.code == 0, "'%s': exit %d", args, r.code);
            CHECK_MSG(r.err[0] == '\0', "'%s' wrote to stderr: %s", args, r.err);
            if (v)
                CHECK_MSG(strncmp(r.out, "edgevision " EV_VERSION_STRING "\n", 17) == 0,
                          "'%s': %s", args, r.out);
            else
                CHECK_MSG(strstr(r.out, "usage: edgevision") != NULL || i == 10, "'%s': %s", args,
                          r.out);
            free_run(&r);
        }
    }
    run_result r = run_cli("");
    CHECK_MSG(r.code == 2 && r.out[0] == '\0' && strstr(r.err, "usage: edgevision"),
              "no command: exit %d, stdout '%s'", r.code, r.out);
    free_run(&r);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_cli_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    ev_test_path(g_model, sizeof g_model, MODEL_353);
    ev_test_path(g_image, sizeof g_image, "data/images/test_couple.jpg");
    ev_test_path(g_ref, sizeof g_ref,
                 "data/reference/posenet_mobilenet_v1_075_353_481_quant_decoder_reference.csv");
    EV_RUN(test_help_version);
    EV_RUN(test_csv_contract);
    EV_RUN(test_coords_json_output_draw);
    EV_RUN(test_errors);
    EV_RUN(test_default_backend);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
