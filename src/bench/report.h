/*
 * report.h - merging benchmark results from any number of files and machines into
 * DIR/report.md (a table, and a ranking against a baseline setup) and DIR/fps.svg (FPS per
 * hardware setup x model), see report.c.
 *
 * A "setup" is a machine label with a backend and a thread count ("vm ref x1"); a "series" is a
 * model (with its input appended when the files hold more than one input).
 */
#ifndef EV_BENCH_REPORT_H
#define EV_BENCH_REPORT_H

#include "bench/results.h"

/* Writes DIR/report.md and DIR/fps.svg (DIR is created when missing). `baseline` names a setup
 * ("vm ref x1") or a machine label with a single setup; NULL means the first setup read. */
ev_status ev_bench_report_write(const ev_report_row *rows, int nrows, const char *const *files,
                          int nfiles, const char *baseline, const char *dir);

#endif
