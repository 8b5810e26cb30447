/*
 * report.c - ev_bench_report_write (see report.h).
 *
 * Rows keep the order of the files and of the results inside them. A (setup, model, input) seen
 * twice keeps its first result and the report says which file's duplicate was left out. The
 * ranking compares each setup with the baseline on the models both measured: the geometric
 * mean of FPS ratios (a setup twice as fast on every model scores 2.00), best first; setups with
 * no model in common are listed last, unranked.
 *
 * Results that carry a per-op profile (`bench --profile` / `--trace`) get a "Top ops" section:
 * per result (machine, backend, threads, model), the REPORT_TOP_OPS ops with the largest median
 * time, read straight from the result files (the profile is not part of ev_report_row).
 *
 * Extend: a new column is a header cell and a cell in write_table(); a new chart is another
 * ev_bar_chart filled in ev_bench_report_write; another per-op column is a field of the
 * result's "profile" entries printed in write_top_ops().
 */
#include "bench/report.h"

#include "bench/svg_chart.h"
#include "core/status.h"
#include "util/file.h"
#include "util/sbuf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define LABEL_N 256

typedef struct names {
    char (*v)[LABEL_N];
    int n;
} names;

static int names_find(const names *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0) return i;
    return -1;
}

/* Adds x if absent (capacity is the caller's: at most nrows entries). */
static int names_add(names *s, const char *x) {
    int i = names_find(s, x);
    if (i >= 0) return i;
    snprintf(s->v[s->n], LABEL_N, "%s", x);
    return s->n++;
}

static void setup_label(const ev_report_row *r, char *out, size_t n) {
    snprintf(out, n, "%.120s %.31s x%d", r->machine, r->backend, r->threads);
}

static void series_label(const ev_report_row *r, int many_inputs, char *out, size_t n) {
    if (many_inputs) snprintf(out, n, "%.150s (%.90s)", r->model, r->input);
    else snprintf(out, n, "%.200s", r->model);
}

static void fmt_opt(char *out, size_t n, double v, const char *fmt) {
    if (v < 0) snprintf(out, n, "-");
    else snprintf(out, n, fmt, v);
}

static void write_table(ev_sbuf *b, const ev_report_row *rows, const int *keep, int nrows) {
    ev_sbuf_printf(b, "| machine | CPU | ISA | backend | threads | model | input | runs | "
                   "inference median ms | end-to-end median ms | FPS | inference FPS | "
                   "pipelined FPS | peak RSS MB | COCO AP |\n"
                   "|---|---|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < nrows; i++) {
        if (!keep[i]) continue;
        const ev_report_row *r = &rows[i];
        char e2e[32], fi[32], fp[32], rss[32], ap[32], fps[32];
        fmt_opt(e2e, sizeof e2e, r->e2e_median_ms, "%.1f");
        fmt_opt(fi, sizeof fi, r->fps_inference, "%.3g");
        fmt_opt(fp, sizeof fp, r->fps_pipelined, "%.3g");
        fmt_opt(rss, sizeof rss, r->peak_rss_mb, "%.1f");
        fmt_opt(ap, sizeof ap, r->coco_ap, "%.3f");
        ev_svg_format_value(r->fps, fps, sizeof fps);
        ev_sbuf_printf(b, "| ");
        ev_sbuf_md(b, r->machine);
        ev_sbuf_printf(b, " | ");
        ev_sbuf_md(b, r->cpu);
        ev_sbuf_printf(b, " | ");
        ev_sbuf_md(b, r->isa);
        ev_sbuf_printf(b, " | ");
        ev_sbuf_md(b, r->backend);
        ev_sbuf_printf(b, " | %d | ", r->threads);
        ev_sbuf_md(b, r->model);
        ev_sbuf_printf(b, " | ");
        ev_sbuf_md(b, r->input);
        ev_sbuf_printf(b, " | %d | %.1f | %s | %s | %s | %s | %s | %s |\n", r->runs,
                       r->inference_median_ms, e2e, fps, fi, fp, rss, ap);
    }
}

/* Resolves --baseline to a setup index. */
static ev_status find_baseline(const names *setups, const ev_report_row *rows, const int *keep,
                               const int *row_setup, int nrows, const char *baseline, int *out) {
    *out = 0;
    if (!baseline) return EV_OK;
    int i = names_find(setups, baseline);
    if (i >= 0) {
        *out = i;
        return EV_OK;
    }
    int found = -1, several = 0;
    for (int r = 0; r < nrows; r++) {
        if (!keep[r] || strcmp(rows[r].machine, baseline) != 0) continue;
        if (found < 0) found = row_setup[r];
        else if (found != row_setup[r]) several = 1;
    }
    if (found >= 0 && !several) {
        *out = found;
        return EV_OK;
    }
    ev_sbuf b = {0};
    for (int s = 0; s < setups->n; s++) ev_sbuf_printf(&b, "%s'%s'", s ? ", " : "", setups->v[s]);
    ev_status st = EV_FAIL(EV_ERR_INVALID_ARG, "--baseline '%s' %s; the setups are: %s", baseline,
                           found >= 0 ? "names a machine with several setups, name one"
                                      : "matches no machine or setup in the results",
                           b.oom || !b.s ? "?" : b.s);
    free(b.s);
    return st;
}

#define REPORT_TOP_OPS 5

typedef struct top_op {
    const cJSON *e;
    double ms;
} top_op;

static int top_op_cmp(const void *a, const void *b) {
    double x = ((const top_op *)a)->ms, y = ((const top_op *)b)->ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

static const char *json_str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double json_num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "## Top ops": every result of every file with a "profile" array (the files were read and
 * validated by ev_results_load before; one that cannot be read again is skipped). */
static void write_top_ops(ev_sbuf *b, const char *const *files, int nfiles) {
    int any = 0;
    for (int f = 0; f < nfiles; f++) {
        char *text = NULL;
        size_t len = 0;
        if (ev_read_text(files[f], &text, &len) != EV_OK) {
            ev_clear_error();
            continue;
        }
        cJSON *root = cJSON_Parse(text);
        free(text);
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results"), *r;
        cJSON_ArrayForEach(r, res) {
            const cJSON *prof = cJSON_GetObjectItemCaseSensitive(r, "profile");
            int n = cJSON_GetArraySize(prof);
            if (!cJSON_IsArray(prof) || n < 1) continue;
            top_op *ops = malloc(sizeof *ops * (size_t)n);
            if (!ops) {
                b->oom = 1;
                break;
            }
            int k = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, prof) ops[k++] = (top_op){e, json_num(e, "median_ms")};
            qsort(ops, (size_t)k, sizeof *ops, top_op_cmp);
            if (!any) {
                ev_sbuf_printf(b, "\n## Top ops\n\nThe %d ops with the largest median time of "
                               "each profiled result (`edgevision bench --profile`): median over "
                               "the measured runs, share of the sum of every op's median.\n",
                               REPORT_TOP_OPS);
                any = 1;
            }
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "machine");
            ev_sbuf_printf(b, "\n### %s %s x%d: %s\n\n| op | type | kernel | median ms | share "
                           "|\n|---:|---|---|---:|---:|\n", json_str(m, "label"),
                           json_str(r, "backend"), (int)json_num(r, "threads"),
                           json_str(r, "model"));
            for (int i = 0; i < k && i < REPORT_TOP_OPS; i++)
                ev_sbuf_printf(b, "| %d | %s | %s%s | %.3f | %.1f%% |\n",
                               (int)json_num(ops[i].e, "op"), json_str(ops[i].e, "type"),
                               json_str(ops[i].e, "kernel"),
                               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ops[i].e, "reference"))
                                   ? " (reference)"
                                   : "",
                               ops[i].ms, 100.0 * json_num(ops[i].e, "share"));
            free(ops);
        }
        cJSON_Delete(root);
    }
}

static ev_status write_report(const ev_report_row *rows, int nrows, const char *const *files,
                              int nfiles, const char *baseline, const char *dir, names *setups,
                              names *series, int *keep, int *row_setup, int *row_series,
                              double *fps) {
    int many_inputs = 0;
    for (int i = 1; i < nrows; i++)
        if (strcmp(rows[i].input, rows[0].input) != 0) many_inputs = 1;
    ev_sbuf notes = {0};
    for (int i = 0; i < nrows; i++) {
        char sl[LABEL_N], ml[LABEL_N];
        setup_label(&rows[i], sl, sizeof sl);
        series_label(&rows[i], many_inputs, ml, sizeof ml);
        row_setup[i] = names_add(setups, sl);
        row_series[i] = names_add(series, ml);
        keep[i] = 1;
        for (int j = 0; j < i; j++)
            if (keep[j] && row_setup[j] == row_setup[i] && row_series[j] == row_series[i] &&
                strcmp(rows[j].input, rows[i].input) == 0) {
                keep[i] = 0;
                ev_sbuf_printf(&notes, "- Left out a duplicate of %s / %s from %s (kept the one "
                               "from %s).\n", sl, ml, rows[i].file, rows[j].file);
                break;
            }
    }
    for (int i = 0; i < setups->n * series->n; i++) fps[i] = NAN;
    for (int i = 0; i < nrows; i++)
        if (keep[i]) fps[row_setup[i] * series->n + row_series[i]] = rows[i].fps;
    int base = 0;
    ev_status st = find_baseline(setups, rows, keep, row_setup, nrows, baseline, &base);
    if (st != EV_OK) {
        free(notes.s);
        return st;
    }
    /* chart */
    const char **gl = calloc((size_t)setups->n + (size_t)series->n, sizeof *gl);
    char (*glab)[LABEL_N] = calloc((size_t)setups->n, LABEL_N);
    if (!gl || !glab) {
        free(gl), free(glab), free(notes.s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    for (int s = 0; s < setups->n; s++) { /* "machine\nbackend xN" */
        snprintf(glab[s], LABEL_N, "%s", setups->v[s]);
        char *sp = strrchr(glab[s], ' ');
        if (sp && sp > glab[s]) {
            *sp = '\0';
            char *sp2 = strrchr(glab[s], ' ');
            *sp = ' ';
            if (sp2) *sp2 = '\n';
        }
        gl[s] = glab[s];
    }
    for (int m = 0; m < series->n; m++) gl[setups->n + m] = series->v[m];
    ev_bar_chart chart = {"PoseNet frames per second by hardware setup and model",
                          "hardware setup (machine, backend, threads)",
                          "frames per second (end to end)", setups->n, series->n, gl,
                          gl + setups->n, fps};
    char *svg = NULL;
    st = ev_svg_bar_chart(&chart, &svg);
    free(gl);
    free(glab);
    char path[4096];
    if (st == EV_OK) {
        snprintf(path, sizeof path, "%s/fps.svg", dir);
        st = ev_write_file_atomic(path, svg, strlen(svg));
    }
    free(svg);
    if (st != EV_OK) {
        free(notes.s);
        return st;
    }
    /* markdown */
    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "# edgevision benchmark report\n\nMerged from %d result file%s:", nfiles,
                   nfiles == 1 ? "" : "s");
    for (int f = 0; f < nfiles; f++) ev_sbuf_printf(&b, "%s `%s`", f ? "," : "", files[f]);
    ev_sbuf_printf(&b, ". FPS is end to end (decode, preprocess, inference, pose decoding, and "
                   "drawing when measured): 1000 / mean end-to-end ms; inference FPS counts the "
                   "model alone. Medians are over the measured runs.\n\n## Results\n\n");
    write_table(&b, rows, keep, nrows);
    ev_sbuf_printf(&b, "\n## Ranking relative to `%s`\n\nSpeed-up: geometric mean over the models "
                   "both setups measured of FPS / baseline FPS.\n\n| rank | setup | speed-up | "
                   "models compared |\n|---:|---|---:|---:|\n", setups->v[base]);
    double *score = malloc(sizeof(double) * (size_t)setups->n);
    int *order = malloc(sizeof(int) * (size_t)setups->n), *common = calloc((size_t)setups->n, sizeof(int));
    if (!score || !order || !common) {
        free(score), free(order), free(common), free(b.s), free(notes.s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    for (int s = 0; s < setups->n; s++) {
        double logsum = 0;
        for (int m = 0; m < series->n; m++) {
            double a = fps[s * series->n + m], z = fps[base * series->n + m];
            if (isfinite(a) && isfinite(z) && a > 0 && z > 0) {
                logsum += log(a / z);
                common[s]++;
            }
        }
        score[s] = common[s] ? exp(logsum / common[s]) : NAN;
        order[s] = s;
    }
    for (int i = 1; i < setups->n; i++) /* insertion sort: best first, unranked last */
        for (int j = i; j > 0; j--) {
            double x = score[order[j]], y = score[order[j - 1]];
            int swap = (isfinite(x) && !isfinite(y)) || (isfinite(x) && isfinite(y) && x > y);
            if (!swap) break;
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < setups->n; i++) {
        int s = order[i];
        if (isfinite(score[s]))
            ev_sbuf_printf(&b, "| %d | %s%s | %.2fx | %d |\n", i + 1, setups->v[s],
                           s == base ? " (baseline)" : "", score[s], common[s]);
        else
            ev_sbuf_printf(&b, "| - | %s | no model in common | 0 |\n", setups->v[s]);
    }
    write_top_ops(&b, files, nfiles);
    ev_sbuf_printf(&b, "\n## Chart\n\n![FPS per hardware setup and model](fps.svg)\n");
    if (notes.len) ev_sbuf_printf(&b, "\n## Notes\n\n%s", notes.s);
    free(score), free(order), free(common), free(notes.s);
    if (b.oom) {
        free(b.s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(path, sizeof path, "%s/report.md", dir);
    st = ev_write_file_atomic(path, b.s, b.len);
    free(b.s);
    return st;
}

ev_status ev_bench_report_write(const ev_report_row *rows, int nrows, const char *const *files,
                          int nfiles, const char *baseline, const char *dir) {
    if (!rows || !dir || !files) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_bench_report_write: NULL argument");
    if (nrows < 1) return EV_FAIL(EV_ERR_INVALID_ARG, "no results to report: the files hold none");
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (mkdir(dir, 0777) != 0)
            return EV_FAIL(EV_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    } else if (!S_ISDIR(sb.st_mode)) {
        return EV_FAIL(EV_ERR_IO, "%s exists and is not a directory", dir);
    }
    names setups = {calloc((size_t)nrows, LABEL_N), 0}, series = {calloc((size_t)nrows, LABEL_N), 0};
    int *keep = calloc((size_t)nrows, sizeof(int)), *rs = calloc((size_t)nrows, sizeof(int));
    int *rm = calloc((size_t)nrows, sizeof(int));
    double *fps = calloc((size_t)nrows * (size_t)nrows, sizeof(double));
    ev_status st;
    if (!setups.v || !series.v || !keep || !rs || !rm || !fps)
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    else
        st = write_report(rows, nrows, files, nfiles, baseline, dir, &setups, &series, keep, rs,
                          rm, fps);
    free(setups.v), free(series.v), free(keep), free(rs), free(rm), free(fps);
    return st;
}
