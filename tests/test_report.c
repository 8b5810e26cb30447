/*
 * test_report.c - result files and the merged report (src/bench/results.c, report.c,
 * svg_chart.c) through `edgevision report`, on two hand-written result files:
 *
 *   alpha (ref x1):  m1 2.0 FPS, m2 1.0 FPS        beta (cpu x2):  m1 8.0 FPS, m2 2.0 FPS
 *
 *   table:    report.md holds one row per result with the figures as written;
 *   ranking:  against alpha, beta's speed-up is the geometric mean sqrt(8/2 * 2/1) = 2.83x;
 *   chart:    fps.svg is well-formed XML (every tag closed in order) with 4 bars whose
 *             data-value are the FPS, heights proportional to them, value labels, both axis
 *             labels and a legend naming m1 and m2;
 *   errors:   malformed JSON (with its line), a missing field, a missing file, an unknown
 *             baseline: each a clear message and nothing written.
 */
#include "ev_test.h"

#include "edgevision.h"

#include <sys/wait.h>

static char g_tmp[256];

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path) {
    size_t n = 0;
    unsigned char *b = ev_test_read(path, &n);
    if (!b) return NULL;
    char *s = realloc(b, n + 1);
    s[n] = '\0';
    return s;
}

static int run(const char *args, char **err) {
    char cmd[4096], ep[512];
    snprintf(ep, sizeof ep, "%s/stderr", g_tmp);
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", EV_CLI_PATH, args, ep);
    int rc = system(cmd);
    *err = slurp(ep);
    if (!*err) *err = strdup("");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static void result_json(char *out, size_t n, const char *label, const char *backend, int threads,
                        const char *model, double fps, double inf_ms) {
    snprintf(out, n,
             "{\"machine\":{\"label\":\"%s\",\"host\":\"h\",\"cpu\":\"CPU %s\",\"isa\":\"x\"},"
             "\"backend\":\"%s\",\"threads\":%d,\"model\":\"%s\",\"input\":\"dance.mp4\","
             "\"runs\":30,\"stages\":{\"inference\":{\"median_ms\":%g},"
             "\"end_to_end\":{\"median_ms\":%g}},\"fps\":%g,\"peak_rss_mb\":50.5}",
             label, label, backend, threads, model, inf_ms, inf_ms + 1, fps);
}

static void write_results(const char *path, const char *label, const char *backend, int threads,
                          double fps1, double fps2) {
    char a[1024], b[1024], doc[2400];
    result_json(a, sizeof a, label, backend, threads, "m1", fps1, 1000 / fps1 - 1);
    result_json(b, sizeof b, label, backend, threads, "m2", fps2, 1000 / fps2 - 1);
    snprintf(doc, sizeof doc, "{\"schema\":\"edgevision-bench/1\",\"results\":[%s,\n%s]}", a, b);
    write_text(path, doc);
}

/* Checks that every <tag> is closed in order (no attributes with '>' inside: ours have none). */
static int xml_balanced(const char *s) {
    char stack[64][32];
    int depth = 0;
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        if (p[1] == '?' || p[1] == '!') continue;
        const char *end = strchr(p, '>');
        if (!end) return 0;
        int closing = p[1] == '/', self = end[-1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " />");
        if (len == 0 || len >= 32) return 0;
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], name, len) != 0 ||
                stack[depth - 1][len] != '\0')
                return 0;
            depth--;
        } else if (!self) {
            if (depth == 64) return 0;
            memcpy(stack[depth], name, len);
            stack[depth++][len] = '\0';
        }
    }
    return depth == 0;
}

static double attr(const char *tag, const char *name) {
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(tag, key);
    return p ? atof(p + strlen(key)) : NAN;
}

static void test_merge(void) {
    char a[512], b[512], out[512], args[2048], path[600];
    snprintf(a, sizeof a, "%s/alpha.json", g_tmp);
    snprintf(b, sizeof b, "%s/beta.json", g_tmp);
    snprintf(out, sizeof out, "%s/report", g_tmp);
    write_results(a, "alpha", "ref", 1, 2.0, 1.0);
    write_results(b, "beta", "cpu", 2, 8.0, 2.0);
    char *err = NULL;
    snprintf(args, sizeof args, "report --baseline alpha --out '%s' '%s' '%s'", out, a, b);
    int rc = run(args, &err);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp(path);
    CHECK(md != NULL);
    if (md) {
        CHECK(strstr(md, "| alpha | CPU alpha | x | ref | 1 | m1 | dance.mp4 | 30 | 499.0 | 500.0 "
                         "| 2.00 |") != NULL);
        CHECK(strstr(md, "| alpha | CPU alpha | x | ref | 1 | m2 | dance.mp4 | 30 | 999.0 | 1000.0 "
                         "| 1.00 |") != NULL);
        CHECK(strstr(md, "| beta | CPU beta | x | cpu | 2 | m1 | dance.mp4 | 30 | 124.0 | 125.0 "
                         "| 8.00 |") != NULL);
        CHECK(strstr(md, "| beta | CPU beta | x | cpu | 2 | m2 | dance.mp4 | 30 | 499.0 | 500.0 "
                         "| 2.00 |") != NULL);
        CHECK(strstr(md, "## Ranking relative to `alpha ref x1`") != NULL);
        CHECK(strstr(md, "| 1 | beta cpu x2 | 2.83x | 2 |") != NULL);
        CHECK(strstr(md, "| 2 | alpha ref x1 (baseline) | 1.00x | 2 |") != NULL);
        CHECK(strstr(md, "(fps.svg)") != NULL);
    }
    free(md);
    snprintf(path, sizeof path, "%s/fps.svg", out);
    char *svg = slurp(path);
    CHECK(svg != NULL);
    if (!svg) return;
    CHECK(xml_balanced(svg));
    CHECK(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
    const double want[2][2] = {{2.0, 1.0}, {8.0, 2.0}};
    int bars = 0;
    double h_per_fps = NAN;
    for (const char *p = strstr(svg, "<rect class=\"bar\""); p;
         p = strstr(p + 1, "<rect class=\"bar\"")) {
        int g = (int)attr(p, "data-group"), s = (int)attr(p, "data-series");
        double v = attr(p, "data-value"), h = attr(p, "height");
        CHECK(g >= 0 && g < 2 && s >= 0 && s < 2);
        if (g < 0 || g > 1 || s < 0 || s > 1) continue;
        CHECK_NEAR(v, want[g][s], 1e-9);
        if (isnan(h_per_fps)) h_per_fps = h / v;
        CHECK_NEAR(h / v, h_per_fps, 0.05); /* bar heights proportional to FPS */
        bars++;
    }
    CHECK_EQ_INT(bars, 4);
    CHECK(strstr(svg, ">8.00</text>") != NULL && strstr(svg, ">1.00</text>") != NULL);
    CHECK(strstr(svg, "class=\"y-label\"") && strstr(svg, "frames per second"));
    CHECK(strstr(svg, "class=\"x-label\"") && strstr(svg, "hardware setup"));
    CHECK(strstr(svg, "class=\"legend\"") && strstr(svg, ">m1</text>") && strstr(svg, ">m2</text>"));
    CHECK(strstr(svg, "<tspan") && strstr(svg, ">beta</tspan>") && strstr(svg, ">cpu x2</tspan>"));
    free(svg);
}

static void expect_error(const char *args, int code, const char *n1, const char *n2) {
    char *err = NULL;
    int rc = run(args, &err);
    CHECK_MSG(rc == code, "'%s': exit %d, want %d: %s", args, rc, code, err);
    CHECK_MSG(strstr(err, n1) && (!n2 || strstr(err, n2)), "'%s': stderr: %s", args, err);
    free(err);
}

static void test_errors(void) {
    char good[512], bad[512], out[512], args[2048];
    snprintf(good, sizeof good, "%s/good.json", g_tmp);
    snprintf(bad, sizeof bad, "%s/bad.json", g_tmp);
    snprintf(out, sizeof out, "%s/never", g_tmp);
    write_results(good, "alpha", "ref", 1, 2.0, 1.0);
    write_text(bad, "{\"results\": [\n  {\"fps\": 1.0,,}\n]}\n");
    snprintf(args, sizeof args, "report --out '%s' '%s' '%s'", out, good, bad);
    expect_error(args, 1, "bad.json: not valid JSON at line 2", NULL);
    CHECK(!ev_test_exists(out));
    write_text(bad, "{\"results\": [{\"machine\":{\"label\":\"a\",\"cpu\":\"c\",\"isa\":\"i\"},"
                    "\"backend\":\"ref\",\"threads\":1,\"model\":\"m\",\"input\":\"i\","
                    "\"stages\":{\"inference\":{\"median_ms\":3}}}]}");
    expect_error(args, 1, "bad.json: results[0]: 'fps' is missing", NULL);
    write_text(bad, "[1, 2]");
    expect_error(args, 1, "no 'results' array", NULL);
    snprintf(args, sizeof args, "report --out '%s' '%s/none.json'", out, g_tmp);
    expect_error(args, 1, "none.json", "cannot open");
    snprintf(args, sizeof args, "report --baseline gamma --out '%s' '%s'", out, good);
    expect_error(args, 2, "--baseline 'gamma' matches no machine", "'alpha ref x1'");
    snprintf(args, sizeof args, "report '%s'", good);
    expect_error(args, 2, "--out DIR is required", NULL);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_report_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_merge);
    EV_RUN(test_errors);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
