/*
 * environment.h - what a benchmark ran on: host, CPU, ISA, OS, compiler and library versions,
 * and the process's peak resident memory. Filled by environment.c, printed by `edgevision bench`
 * and stored in every result file (docs/results-schema.md).
 *
 * Extend: a new field is a member here, filled in ev_bench_env_get and written by results.c.
 */
#ifndef EV_BENCH_ENVIRONMENT_H
#define EV_BENCH_ENVIRONMENT_H

#include "edgevision.h"

typedef struct ev_bench_env {
    char host[128];      /* gethostname                                                   */
    char cpu[160];       /* /proc/cpuinfo "model name"                                    */
    int cores;           /* online logical CPUs                                           */
    char features[160];  /* the CPU's SIMD features (avx2 avx512f avx512_vnni amx_int8 ...) */
    char cpu_isa[32];    /* the path the cpu backend takes here (ev_cpu_isa_name)         */
    char os[160];        /* /etc/os-release PRETTY_NAME, kernel release, machine          */
    char compiler[96];   /* the compiler that built libedgevision                         */
    char libraries[256]; /* edgevision, FFmpeg, cJSON, libpng versions                    */
} ev_bench_env;

void ev_bench_env_get(ev_bench_env *env);

/* The ISA path a backend uses: "portable C" for ref, ev_cpu_isa_name() for cpu, else "". */
const char *ev_bench_backend_isa(const char *backend);

/* Peak resident set size of this process in MiB since the last reset (VmHWM; ru_maxrss when
 * /proc is unavailable). */
double ev_bench_peak_rss_mb(void);
/* Resets the peak to the current RSS (Linux /proc/self/clear_refs "5"); 0 on success. */
int ev_bench_peak_rss_reset(void);

#endif
