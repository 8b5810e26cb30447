/*
 * results.c - the benchmark result file (docs/results-schema.md): building it with cJSON,
 * writing it atomically, and reading it back into flat rows for the report.
 *
 * Sections: writing (ev_results_begin/add/add_error/write), reading (ev_results_load with
 * precise messages: "FILE: not valid JSON at line L, column C", "FILE: results[2]: 'fps' is
 * missing or not a number").
 */
#include "bench/results.h"

#include "core/status.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ev_results {
    cJSON *root, *results, *errors;
    ev_bench_env env;
    char label[128];
};

void ev_results_model_name(const char *path, char *out, size_t n) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    size_t l = strlen(out);
    if (l > 7 && strcmp(out + l - 7, ".tflite") == 0) out[l - 7] = '\0';
}

static const char *base_name(const char *p) {
    size_t l = strlen(p);
    while (l > 1 && p[l - 1] == '/') l--; /* "dir/" names the folder */
    const char *b = p;
    for (size_t i = 0; i + 1 < l; i++)
        if (p[i] == '/') b = p + i + 1;
    return b;
}

void ev_results_free(ev_results *r) {
    if (!r) return;
    cJSON_Delete(r->root);
    free(r);
}

#define CHECKED(expr)                                                                             \
    do {                                                                                          \
        if (!(expr)) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory building the result file"); \
    } while (0)

ev_status ev_results_begin(const ev_bench_env *env, const char *label, const char *command,
                           const ev_bench_config *cfg, ev_results **out) {
    if (!env || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_results_begin: NULL argument");
    *out = NULL;
    ev_results *r = calloc(1, sizeof *r);
    if (!r) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    r->env = *env;
    snprintf(r->label, sizeof r->label, "%s", label && *label ? label : env->host);
    r->root = cJSON_CreateObject();
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    cJSON *e = NULL, *c = NULL;
    int ok = r->root && cJSON_AddStringToObject(r->root, "schema", EV_RESULTS_SCHEMA) &&
             cJSON_AddStringToObject(r->root, "tool", "edgevision " EV_VERSION_STRING) &&
             cJSON_AddStringToObject(r->root, "created", created) &&
             cJSON_AddStringToObject(r->root, "command", command ? command : "") &&
             (e = cJSON_AddObjectToObject(r->root, "environment")) &&
             cJSON_AddStringToObject(e, "label", r->label) &&
             cJSON_AddStringToObject(e, "host", env->host) &&
             cJSON_AddStringToObject(e, "cpu", env->cpu) &&
             cJSON_AddNumberToObject(e, "cores", env->cores) &&
             cJSON_AddStringToObject(e, "cpu_features", env->features) &&
             cJSON_AddStringToObject(e, "cpu_isa", env->cpu_isa) &&
             cJSON_AddStringToObject(e, "os", env->os) &&
             cJSON_AddStringToObject(e, "compiler", env->compiler) &&
             cJSON_AddStringToObject(e, "libraries", env->libraries);
    if (ok && cfg)
        ok = (c = cJSON_AddObjectToObject(r->root, "config")) &&
             cJSON_AddNumberToObject(c, "warmup_runs", cfg->warmup_runs) &&
             cJSON_AddNumberToObject(c, "min_runs", cfg->min_runs) &&
             cJSON_AddNumberToObject(c, "min_secs", cfg->min_secs) &&
             cJSON_AddNumberToObject(c, "max_secs", cfg->max_secs) &&
             cJSON_AddBoolToObject(c, "loop", cfg->loop) &&
             cJSON_AddBoolToObject(c, "draw", cfg->draw || cfg->encode) &&
             cJSON_AddBoolToObject(c, "pipelined", cfg->pipelined);
    ok = ok && (r->results = cJSON_AddArrayToObject(r->root, "results")) &&
         (r->errors = cJSON_AddArrayToObject(r->root, "errors"));
    if (!ok) {
        ev_results_free(r);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory building the result file");
    }
    *out = r;
    return EV_OK;
}

static int add_stage(cJSON *stages, const char *name, const ev_stats *s) {
    cJSON *o = cJSON_AddObjectToObject(stages, name);
    return o && cJSON_AddNumberToObject(o, "median_ms", s->p50) &&
           cJSON_AddNumberToObject(o, "mean_ms", s->mean) &&
           cJSON_AddNumberToObject(o, "p90_ms", s->p90) &&
           cJSON_AddNumberToObject(o, "p99_ms", s->p99) &&
           cJSON_AddNumberToObject(o, "min_ms", s->min) &&
           cJSON_AddNumberToObject(o, "max_ms", s->max) &&
           cJSON_AddNumberToObject(o, "std_ms", s->std) &&
           cJSON_AddNumberToObject(o, "count", (double)s->count);
}

/* The identifying fields every result and error carries. */
static int add_identity(cJSON *o, const ev_results *r, const ev_bench_config *cfg) {
    char model[256];
    ev_results_model_name(cfg->model, model, sizeof model);
    cJSON *m = NULL;
    return cJSON_AddStringToObject(o, "model", model) &&
           cJSON_AddStringToObject(o, "model_path", cfg->model) &&
           cJSON_AddStringToObject(o, "backend", cfg->backend ? cfg->backend : "ref") &&
           cJSON_AddNumberToObject(o, "threads", cfg->threads > 0 ? cfg->threads : 1) &&
           cJSON_AddStringToObject(o, "input", base_name(cfg->input)) &&
           cJSON_AddStringToObject(o, "input_path", cfg->input) &&
           (m = cJSON_AddObjectToObject(o, "machine")) &&
           cJSON_AddStringToObject(m, "label", r->label) &&
           cJSON_AddStringToObject(m, "host", r->env.host) &&
           cJSON_AddStringToObject(m, "cpu", r->env.cpu) &&
           cJSON_AddNumberToObject(m, "cores", r->env.cores) &&
           cJSON_AddStringToObject(m, "isa", ev_bench_backend_isa(cfg->backend)) &&
           cJSON_AddStringToObject(m, "cpu_features", r->env.features);
}

ev_status ev_results_add(ev_results *r, const ev_bench_config *cfg, const ev_bench_result *res) {
    if (!r || !cfg || !res) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_results_add: NULL argument");
    cJSON *o = cJSON_CreateObject();
    CHECKED(o && cJSON_AddItemToArray(r->results, o));
    cJSON *mi = NULL, *fr = NULL, *st = NULL;
    CHECKED(add_identity(o, r, cfg) && (mi = cJSON_AddObjectToObject(o, "model_input")) &&
            cJSON_AddNumberToObject(mi, "width", res->model_w) &&
            cJSON_AddNumberToObject(mi, "height", res->model_h) &&
            cJSON_AddStringToObject(o, "input_kind", res->input_kind ? res->input_kind : "") &&
            (fr = cJSON_AddObjectToObject(o, "frame")) &&
            cJSON_AddNumberToObject(fr, "width", res->frame_w) &&
            cJSON_AddNumberToObject(fr, "height", res->frame_h) &&
            cJSON_AddNumberToObject(o, "init_ms", res->init_ms) &&
            cJSON_AddNumberToObject(o, "first_inference_ms", res->first_inference_ms) &&
            cJSON_AddNumberToObject(o, "warmup_runs", res->warmup_runs) &&
            cJSON_AddNumberToObject(o, "runs", res->runs) &&
            cJSON_AddNumberToObject(o, "elapsed_s", res->elapsed_s) &&
            cJSON_AddStringToObject(o, "stopped_by", res->stopped_by ? res->stopped_by : "") &&
            (st = cJSON_AddObjectToObject(o, "stages")));
    if (res->note[0]) CHECKED(cJSON_AddStringToObject(o, "note", res->note));
    for (int i = 0; i < EV_STAGE_COUNT; i++)
        if (res->has_stage[i]) CHECKED(add_stage(st, ev_bench_stage_name(i), &res->stages[i]));
    CHECKED(cJSON_AddNumberToObject(o, "fps", res->fps) &&
            cJSON_AddNumberToObject(o, "fps_inference", res->fps_inference));
    if (res->pipelined_runs > 0)
        CHECKED(cJSON_AddNumberToObject(o, "fps_pipelined", res->fps_pipelined) &&
                cJSON_AddNumberToObject(o, "pipelined_runs", res->pipelined_runs));
    CHECKED(cJSON_AddNumberToObject(o, "peak_rss_mb", res->peak_rss_mb));
    if (res->has_accuracy) {
        const ev_coco_stats *a = &res->accuracy;
        cJSON *ac = cJSON_AddObjectToObject(o, "accuracy");
        CHECKED(ac && cJSON_AddStringToObject(ac, "metric", "COCO keypoint AP (OKS)") &&
                cJSON_AddNumberToObject(ac, "coco_ap", a->ap) &&
                cJSON_AddNumberToObject(ac, "coco_ap50", a->ap50) &&
                cJSON_AddNumberToObject(ac, "coco_ap75", a->ap75) &&
                cJSON_AddNumberToObject(ac, "coco_ar", a->ar) &&
                cJSON_AddNumberToObject(ac, "images", a->num_images));
    }
    if (res->profile && res->num_profile_ops > 0) { /* --profile / --trace: per-op medians */
        cJSON *pr = cJSON_AddArrayToObject(o, "profile");
        CHECKED(pr);
        for (int k = 0; k < res->num_profile_ops; k++) {
            const ev_bench_op_profile *p = &res->profile[k];
            cJSON *e = cJSON_CreateObject();
            CHECKED(e && cJSON_AddItemToArray(pr, e));
            CHECKED(cJSON_AddNumberToObject(e, "op", p->op) &&
                    cJSON_AddStringToObject(e, "type", p->type ? p->type : "") &&
                    cJSON_AddStringToObject(e, "kernel", p->kernel) &&
                    cJSON_AddBoolToObject(e, "reference", p->reference) &&
                    cJSON_AddNumberToObject(e, "median_ms", p->median_ms) &&
                    cJSON_AddNumberToObject(e, "macs", (double)p->macs) &&
                    cJSON_AddNumberToObject(e, "share", p->share));
        }
    }
    return EV_OK;
}

ev_status ev_results_add_error(ev_results *r, const ev_bench_config *cfg, const char *message) {
    if (!r || !cfg) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_results_add_error: NULL argument");
    cJSON *o = cJSON_CreateObject();
    CHECKED(o && cJSON_AddItemToArray(r->errors, o));
    CHECKED(add_identity(o, r, cfg) &&
            cJSON_AddStringToObject(o, "error", message ? message : "unknown error"));
    return EV_OK;
}

ev_status ev_results_write(const ev_results *r, const char *path) {
    if (!r || !path) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_results_write: NULL argument");
    char *s = cJSON_Print(r->root);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory printing %s", path);
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        cJSON_free(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    ev_status st = ev_write_file_atomic(path, t, n + 1);
    free(t);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* The item at a dotted path ("stages.inference.median_ms"), or NULL. */
static const cJSON *at(const cJSON *o, const char *dotted) {
    char key[64];
    const char *p = dotted;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l >= sizeof key) return NULL;
        memcpy(key, p, l);
        key[l] = '\0';
        o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
        p += l + (dot ? 1 : 0);
    }
    return o;
}

static ev_status get_num(const char *file, int i, const cJSON *o, const char *key, int required,
                         double *out) {
    const cJSON *v = at(o, key);
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return EV_OK;
    }
    if (!v && !required) {
        *out = -1;
        return EV_OK;
    }
    return EV_FAIL(EV_ERR_FORMAT, "%s: results[%d]: '%s' is %s", file, i, key,
                   v ? "not a number" : "missing");
}

static ev_status get_str(const char *file, int i, const cJSON *o, const char *key, char *out,
                         size_t n) {
    const cJSON *v = at(o, key);
    if (!cJSON_IsString(v))
        return EV_FAIL(EV_ERR_FORMAT, "%s: results[%d]: '%s' is %s", file, i, key,
                       v ? "not a string" : "missing");
    snprintf(out, n, "%s", v->valuestring);
    return EV_OK;
}

static ev_status row_from_json(const char *file, int i, const cJSON *o, ev_report_row *row) {
    memset(row, 0, sizeof *row);
    double threads = 0, runs = 0;
    snprintf(row->file, sizeof row->file, "%s", file);
    if (!cJSON_IsObject(o))
        return EV_FAIL(EV_ERR_FORMAT, "%s: results[%d] is not an object", file, i);
    EV_TRY(get_str(file, i, o, "machine.label", row->machine, sizeof row->machine));
    EV_TRY(get_str(file, i, o, "machine.cpu", row->cpu, sizeof row->cpu));
    EV_TRY(get_str(file, i, o, "machine.isa", row->isa, sizeof row->isa));
    EV_TRY(get_str(file, i, o, "backend", row->backend, sizeof row->backend));
    EV_TRY(get_str(file, i, o, "model", row->model, sizeof row->model));
    EV_TRY(get_str(file, i, o, "input", row->input, sizeof row->input));
    EV_TRY(get_num(file, i, o, "threads", 1, &threads));
    EV_TRY(get_num(file, i, o, "runs", 0, &runs));
    EV_TRY(get_num(file, i, o, "stages.inference.median_ms", 1, &row->inference_median_ms));
    EV_TRY(get_num(file, i, o, "stages.end_to_end.median_ms", 0, &row->e2e_median_ms));
    EV_TRY(get_num(file, i, o, "fps", 1, &row->fps));
    EV_TRY(get_num(file, i, o, "fps_inference", 0, &row->fps_inference));
    EV_TRY(get_num(file, i, o, "fps_pipelined", 0, &row->fps_pipelined));
    EV_TRY(get_num(file, i, o, "peak_rss_mb", 0, &row->peak_rss_mb));
    EV_TRY(get_num(file, i, o, "accuracy.coco_ap", 0, &row->coco_ap));
    if (!(row->fps >= 0))
        return EV_FAIL(EV_ERR_FORMAT, "%s: results[%d]: 'fps' is negative", file, i);
    row->threads = (int)threads;
    row->runs = (int)runs;
    return EV_OK;
}

/* Line and column (1-based) of byte `off` in `s`. */
static void line_col(const char *s, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && s[i]; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

ev_status ev_results_load(const char *path, ev_report_row **rows, int *n) {
    if (!path || !rows || !n) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_results_load: NULL argument");
    char *buf = NULL;
    size_t len = 0;
    EV_TRY(ev_read_text(path, &buf, &len));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    ev_status st = EV_OK;
    if (!root) {
        int line, col;
        size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
        line_col(buf, off, &line, &col);
        st = len == 0 ? EV_FAIL(EV_ERR_FORMAT, "%s: empty file, not a result file", path)
                      : EV_FAIL(EV_ERR_FORMAT, "%s: not valid JSON at line %d, column %d", path,
                                line, col);
        free(buf);
        return st;
    }
    free(buf);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
    if (!cJSON_IsArray(res)) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: no 'results' array: not an edgevision bench result file",
                     path);
        goto done;
    }
    int count = cJSON_GetArraySize(res);
    ev_report_row *r = realloc(*rows, (size_t)(*n + count + 1) * sizeof *r);
    if (!r) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    *rows = r;
    for (int i = 0; i < count; i++) {
        st = row_from_json(path, i, cJSON_GetArrayItem(res, i), &r[*n]);
        if (st != EV_OK) goto done;
        (*n)++;
    }
done:
    cJSON_Delete(root);
    return st;
}
