/*
 * environment.h - what a benchmark ran on: host, CPU, ISA, OS, compiler and library versions,
 * and the process's peak resident memory. Filled by environment.c, printed by `edgevision bench`
 * and stored in every result file (docs/results-schema.md).
 *
 * ev_bench_env, ev_bench_env_get and ev_bench_backend_isa are public (include/edgevision.h);
 * this header keeps the memory probes the runner uses.
 *
 * Extend: a new field is a member of ev_bench_env (edgevision.h), filled in ev_bench_env_get and
 * written by results.c.
 */
#ifndef EV_BENCH_ENVIRONMENT_H
#define EV_BENCH_ENVIRONMENT_H

#include "edgevision.h"

/* Peak resident set size of this process in MiB since the last reset (VmHWM; ru_maxrss when
 * /proc is unavailable). */
double ev_bench_peak_rss_mb(void);
/* Resets the peak to the current RSS (Linux /proc/self/clear_refs "5"); 0 on success. */
int ev_bench_peak_rss_reset(void);

#endif
