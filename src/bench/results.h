/*
 * results.h - benchmark result files (docs/results-schema.md): written by `edgevision bench`
 * (one JSON per invocation, atomically), read back by `edgevision report`.
 *
 * Extend: a new result field is written in results.c's result_json() and, if the report needs
 * it, read into ev_report_row in row_from_json(); bump the schema string only when a field
 * changes meaning.
 */
#ifndef EV_BENCH_RESULTS_H
#define EV_BENCH_RESULTS_H

#include "bench/environment.h"
#include "bench/runner.h"

#define EV_RESULTS_SCHEMA "edgevision-bench/1"

typedef struct ev_results ev_results;

/* Starts a result document; `label` names the machine in reports (NULL: the host name). */
ev_status ev_results_begin(const ev_bench_env *env, const char *label, const char *command,
                           const ev_bench_config *cfg, ev_results **out);
ev_status ev_results_add(ev_results *r, const ev_bench_config *cfg, const ev_bench_result *res);
/* Records a combination that could not be measured (missing backend, bad input ...). */
ev_status ev_results_add_error(ev_results *r, const ev_bench_config *cfg, const char *message);
/* Writes the document to `path` through PATH.tmp renamed into place. */
ev_status ev_results_write(const ev_results *r, const char *path);
void ev_results_free(ev_results *r);

/* One result as the report sees it. Absent optional figures are -1. */
typedef struct ev_report_row {
    char file[256];
    char machine[128]; /* label (host name unless --label was given) */
    char cpu[160], isa[64];
    char backend[32];
    int threads;
    char model[160], input[160];
    int runs;
    double inference_median_ms, e2e_median_ms, fps, fps_inference, fps_pipelined, peak_rss_mb;
    double coco_ap;
} ev_report_row;

/* Reads a result file and appends its results to *rows (realloc'd; *n updated). Malformed JSON
 * and missing fields are EV_ERR_FORMAT naming the file, the line/column or the result index and
 * the field. */
ev_status ev_results_load(const char *path, ev_report_row **rows, int *n);

/* Short model name: the file name without directory and ".tflite". */
void ev_results_model_name(const char *path, char *out, size_t n);

#endif
