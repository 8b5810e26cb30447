/*
 * test_train_resume.c - the run folder: a training process killed (SIGKILL) right after epoch 2
 * is resumed and ends with exactly the weights and history of an uninterrupted run; killed at
 * 12 random moments (mid-epoch, mid-write of a checkpoint) and resumed each time, the same; a second
 * run into the same folder without --resume is refused, a resume with other settings too; the
 * curves hold the history's values. Then the CLI end to end on a small subset of the vehicle
 * crops with the MobileNetV1 extractor: train, eval, classify --model RUN, and a mismatched
 * backbone refused with both hashes.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "train/fsutil.h"
#include "util/clock.h"
#include "util/file.h"
#include "train/trainer.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_base[] = "/tmp/ev_train_resumeXXXXXX";

enum { N = 300, D = 12 };
static float g_x[N * D];
static int g_y[N], g_tr[200], g_va[100];

static void data(void) {
    ev_rng r;
    ev_rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        g_y[i] = (i * 7) % 3 == 0;
        for (int k = 0; k < D; k++)
            g_x[i * D + k] = (g_y[i] ? 0.4f : -0.4f) * (k < 4) + 2 * ev_rng_float(&r) - 1;
    }
    for (int i = 0; i < 200; i++) g_tr[i] = i;
    for (int i = 0; i < 100; i++) g_va[i] = 200 + i;
}

static int kill_after_2(void *user, const ev_train_progress *p) {
    (void)user;
    if (p->stage == EV_TRAIN_EPOCH && p->epoch == 2) raise(SIGKILL);
    return 0;
}

static ev_status fit(const char *dir, int epochs, int resume, float lr,
                     ev_train_progress_fn progress) {
    static const int hidden[2] = {16, 8};
    ev_fit_config c = {hidden, 2, 0.3f, lr, 32, epochs, 0, 42, dir, resume, progress, NULL};
    ev_fit_data d = {g_x, g_y, D, g_tr, g_va, 200, 100, "synthetic"};
    ev_model_meta meta;
    memset(&meta, 0, sizeof meta);
    strcpy(meta.labels[0], "neg");
    strcpy(meta.labels[1], "pos");
    ev_mlp best;
    ev_fit_result res;
    ev_tr_mkdirs(dir);
    ev_status st = ev_fit(&c, &d, &meta, &best, &res);
    ev_mlp_free(&best);
    return st;
}

static char *slurp(const char *dir, const char *name) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *t = NULL;
    if (ev_read_text(p, &t, NULL) != EV_OK) return NULL;
    return t;
}

/* The CSV without its last column (seconds differ between runs). */
static void strip_seconds(char *csv) {
    char *w = csv;
    for (char *line = csv; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t keep = len;
        while (keep > 0 && line[keep - 1] != ',') keep--;
        keep = keep ? keep - 1 : len;
        memmove(w, line, keep);
        w += keep;
        *w++ = '\n';
        if (!nl) break;
        line = nl + 1;
    }
    *w = '\0';
}

static void test_kill_and_resume(void) {
    data();
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/uninterrupted", g_base);
    snprintf(b, sizeof b, "%s/killed", g_base);
    CHECK_OK(fit(a, 5, 0, 0.01f, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        fit(b, 5, 0, 0.01f, kill_after_2);
        _exit(0); /* not reached: killed after epoch 2 */
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    char *h = slurp(b, "history.csv");
    int rows = 0;
    for (char *c = h; c && *c; c++) rows += *c == '\n';
    CHECK_EQ_INT(rows, 3); /* header + 2 epochs survived the kill */
    free(h);
    /* Without --resume the folder is not overwritten. */
    CHECK(fit(b, 5, 0, 0.01f, NULL) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "already holds a training run") != NULL);
    /* Other settings: refused. */
    CHECK(fit(b, 5, 1, 0.02f, NULL) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "cannot resume") != NULL);
    CHECK_OK(fit(b, 5, 1, 0.01f, NULL));
    char *ma = slurp(a, "model.json"), *mb = slurp(b, "model.json");
    char *ha = slurp(a, "history.csv"), *hb = slurp(b, "history.csv");
    CHECK(ma && mb && strcmp(ma, mb) == 0);
    CHECK(ha && hb);
    if (ha && hb) {
        strip_seconds(ha), strip_seconds(hb);
        CHECK_MSG(strcmp(ha, hb) == 0, "histories differ:\n%s\n--\n%s", ha, hb);
        const char *hdr = "epoch,loss,accuracy,val_loss,val_accuracy\n1,";
        CHECK(strncmp(ha, hdr, strlen(hdr)) == 0);
    }
    char *sa = slurp(a, "train.state"), *sb = slurp(b, "train.state");
    CHECK(sa && sb);
    free(sa), free(sb);
    /* The accuracy chart holds the history's validation accuracy of epoch 5. */
    char *svg = slurp(a, "accuracy.svg");
    char *hist = slurp(a, "history.csv");
    CHECK(svg && strstr(svg, "data-name=\"train\"") && strstr(svg, "data-name=\"validation\""));
    if (svg && hist) {
        char *last = strstr(hist, "\n5,");
        double ep, loss, acc, vl, va;
        CHECK(last && sscanf(last + 1, "%lf,%lf,%lf,%lf,%lf", &ep, &loss, &acc, &vl, &va) == 5);
        char want[64];
        snprintf(want, sizeof want, "data-x=\"5\" data-y=\"%.6g\"", va);
        CHECK_MSG(strstr(svg, want) != NULL, "%s not in accuracy.svg", want);
    }
    free(svg), free(hist);
    /* Resuming a finished run with more epochs continues it. */
    CHECK_OK(fit(b, 7, 1, 0.01f, NULL));
    h = slurp(b, "history.csv");
    rows = 0;
    for (char *c = h; c && *c; c++) rows += *c == '\n';
    CHECK_EQ_INT(rows, 8);
    free(h);
    free(ma), free(mb), free(ha), free(hb);
}

/* SIGKILL at random moments: each attempt resumes what the last one left, until one finishes;
 * the files must equal those of the uninterrupted run. The delays are drawn (fixed seed) up to
 * 1/8 of the time an uninterrupted run takes, so kills land anywhere: before the first checkpoint,
 * between epochs, inside the atomic writes of model.json, history.csv or train.state. */
static void test_random_kills(void) {
    data();
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/random_ref", g_base);
    snprintf(b, sizeof b, "%s/random_killed", g_base);
    const int epochs = 30;
    double t0 = ev_clock_s();
    CHECK_OK(fit(a, epochs, 0, 0.005f, NULL));
    double span_us = (ev_clock_s() - t0) * 1e6;
    ev_rng r;
    ev_rng_seed(&r, 2026);
    int killed = 0, finished = 0;
    /* A sequence that finishes with fewer than 6 kills (the machine got faster than when the
     * uninterrupted run was timed: other work on the same cores ended) starts again from
     * nothing with delays half as long, so the kills still land inside the run. */
    for (int round = 0; round < 4; round++, span_us /= 2) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b);
        if (round > 0 && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", b);
        killed = 0, finished = 0;
        for (int attempt = 0; attempt < 40 && !finished; attempt++) {
            pid_t pid = fork();
            if (pid == 0) _exit(fit(b, epochs, 1, 0.005f, NULL) == EV_OK ? 0 : 1);
            if (killed < 12) {
                usleep((useconds_t)(ev_rng_float(&r) * span_us / 8)); /* a few epochs at most */
                kill(pid, SIGKILL);
            }
            int status = 0;
            CHECK(waitpid(pid, &status, 0) == pid);
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
                killed++;
            } else {
                CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "attempt %d: status %d",
                          attempt, status);
                finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            }
        }
        if (!finished || killed >= 6) break;
    }
    printf("  %d kills over %.1f ms runs, then finished: %s\n", killed, span_us / 1000,
           finished ? "yes" : "no");
    CHECK(finished);
    CHECK(killed >= 6); /* most attempts die before finishing */
    static const char *const files[] = {"model.json", "history.csv"};
    for (int i = 0; i < 2; i++) {
        char *fa = slurp(a, files[i]), *fb = slurp(b, files[i]);
        CHECK_MSG(fa && fb, "%s missing", files[i]);
        if (fa && fb && i == 1) strip_seconds(fa), strip_seconds(fb);
        CHECK_MSG(fa && fb && strcmp(fa, fb) == 0, "%s differs after the kills", files[i]);
        free(fa), free(fb);
    }
}

static int run_cli(const char *args, char *out, size_t n) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", EV_CLI_PATH, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void) {
    char veh[512], model[512], other[512];
    ev_test_path(veh, sizeof veh, "data/vehicles/car");
    ev_test_path(model, sizeof model,
                 "models/mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite");
    ev_test_path(other, sizeof other, "models/mobilenet/mobilenet_v1_0.5_160_quant.tflite");
    EV_REQUIRE_FILE(veh);
    EV_REQUIRE_FILE(model);
    ev_test_path(veh, sizeof veh, "data/vehicles");
    static char out[1 << 16];
    char args[3000], run[600];
    snprintf(run, sizeof run, "%s/run", g_base);
    snprintf(args, sizeof args, "train --data %s --limit 8 --split group --group-size 4 "
             "--backbone %s --epochs 4 --out %s --quiet", veh, model, run);
    int rc = run_cli(args, out, sizeof out);
    CHECK_MSG(rc == 0, "train exited %d: %s", rc, out);
    CHECK(strstr(out, "test: ") != NULL && strstr(out, "accuracy") != NULL);
    const char *files[] = {"model.json", "history.csv", "accuracy.svg", "loss.svg",
                           "manifest.tsv", "skipped.tsv", "report.md", "report.json",
                           "misclassified.tsv", "misclassified.png", "run.json", "train.state",
                           "features.cache"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", run, files[i]);
        CHECK_MSG(ev_tr_is_file(p), "missing %s", p);
    }
    char *man = slurp(run, "manifest.tsv");
    int rows = 0;
    for (char *c = man; c && *c; c++) rows += *c == '\n';
    CHECK_EQ_INT(rows, 1 + 7 * 8); /* 7 source folders x 8 */
    free(man);
    /* Again into the same folder: refused, nothing lost. */
    rc = run_cli(args, out, sizeof out);
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "pass --resume") != NULL);
    /* eval on one class folder: every image is a car. */
    char car[600];
    snprintf(car, sizeof car, "%s/car/GTI_Far", veh);
    snprintf(args, sizeof args, "eval --model %s --data %s/car --limit 3 --quiet", run, veh);
    rc = run_cli(args, out, sizeof out);
    CHECK_MSG(rc == 0, "eval exited %d: %s", rc, out);
    CHECK(strstr(out, "| 15 |") != NULL); /* 5 car sources x 3 */
    CHECK(strstr(out, "Confusion matrix") != NULL);
    char ev_dir[700];
    snprintf(ev_dir, sizeof ev_dir, "%s/eval/report.json", run);
    CHECK(ev_tr_is_file(ev_dir));
    /* classify --model RUN */
    snprintf(args, sizeof args, "classify --model %s --top 2 %s/image0000.png", run, car);
    rc = run_cli(args, out, sizeof out);
    CHECK_MSG(rc == 0, "classify exited %d: %s", rc, out);
    char img[700], lab[64], lab2[64];
    int rank, id, rank2, id2;
    double p1, p2;
    CHECK(sscanf(out, "%699s %d %d %lf %63s\n%*s %d %d %lf %63s", img, &rank, &id, &p1, lab,
                 &rank2, &id2, &p2, lab2) == 9);
    CHECK_EQ_INT(rank, 1);
    CHECK_EQ_INT(rank2, 2);
    CHECK(id + id2 == 1);
    CHECK_NEAR(p1 + p2, 1.0, 2e-6);
    CHECK(p1 >= 0.5);
    CHECK(strcmp(id ? lab : lab2, "car") == 0);
    /* The library refuses another backbone, naming both hashes. */
    ev_head_model *hm = NULL;
    CHECK(ev_head_model_load(run, other, NULL, &hm) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "was trained on backbone") && strstr(ev_last_error(), "sha1"));
    CHECK(hm == NULL);
    CHECK_OK(ev_head_model_load(run, NULL, NULL, &hm));
    if (hm) {
        ev_image *im;
        float p;
        snprintf(img, sizeof img, "%s/image0000.png", car);
        CHECK_OK(ev_image_load(img, &im));
        CHECK_OK(ev_head_model_predict(hm, im, &p));
        CHECK_NEAR(p, id ? p1 : p2, 1e-6);
        ev_image_free(im);
        CHECK(strcmp(ev_head_model_label(hm, 0), "not_car") == 0);
        ev_head_model_free(hm);
    }
    /* Usage errors exit 2. */
    CHECK_EQ_INT(run_cli("train --data", out, sizeof out), 2);
    CHECK_EQ_INT(run_cli("train --out /tmp/x", out, sizeof out), 2);
    CHECK(strstr(out, "--data DIR is required") != NULL);
    CHECK_EQ_INT(run_cli("train --data x --out y --split diagonal", out, sizeof out), 2);
}

int main(void) {
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_kill_and_resume);
    EV_RUN(test_random_kills);
    EV_RUN(test_cli);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_base);
    return ev_test_finish();
}
