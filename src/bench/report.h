/*
 * report.h - merging benchmark results from any number of files and machines into
 * DIR/report.md (a table, and a ranking against a baseline setup) and DIR/fps.svg (FPS per
 * hardware setup x model), see report.c.
 *
 * A "setup" is a machine label with a backend and a thread count ("vm ref x1"); a "series" is a
 * model (with its input appended when the files hold more than one input).
 * ev_bench_report_write is public (include/edgevision.h).
 */
#ifndef EV_BENCH_REPORT_H
#define EV_BENCH_REPORT_H

#include "bench/results.h"

#endif
