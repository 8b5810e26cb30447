/*
 * results.h - benchmark result files (docs/results-schema.md): written by `edgevision bench`
 * (one JSON per invocation, atomically), read back by `edgevision report`.
 *
 * The calls are public (include/edgevision.h, "Benchmark runs"); this header keeps the schema.
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

#endif
