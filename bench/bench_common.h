/*
 * bench_common.h - what the benchmark programs that run peers share: the clock, the median, the
 * environment header ('#' lines: date, CPU, ISA flags, compiler, our backends), quoting for
 * popen, running a peer script for its one JSON line, and locating bench/peers. Header-only (static functions); bench programs only.
 *
 * Extend: a new header line every benchmark should print goes in bench_print_environment.
 */
#ifndef EV_BENCH_COMMON_H
#define EV_BENCH_COMMON_H

#include "edgevision.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts t[0, n) and returns its median (n >= 1). */
static inline double bench_median(double *t, size_t n) {
    qsort(t, n, sizeof *t, bench_cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Times ev_session_run of `s` (warm-up is the caller's) until at least min_runs runs and
 * min_secs seconds, or, with max_secs > 0, once past max_secs with 3 runs in: *t gets the
 * per-run milliseconds (malloc'd, the caller frees it, also on failure), *n their count and
 * *total their sum. EV_OK, EV_ERR_NO_MEMORY, or the failed run's status. */
static inline ev_status bench_time_runs(ev_session *s, int min_runs, double min_secs,
                                        double max_secs, double **t, size_t *n, double *total) {
    size_t cap = (size_t)(min_runs > 64 ? min_runs : 64);
    *n = 0;
    *total = 0;
    *t = malloc(cap * sizeof **t);
    if (!*t) return EV_ERR_NO_MEMORY;
    while ((int)*n < min_runs || *total < min_secs * 1000.0) {
        if (max_secs > 0 && *n >= 3 && *total > max_secs * 1000.0) break;
        if (*n == cap) {
            double *nt = realloc(*t, 2 * cap * sizeof *nt);
            if (!nt) return EV_ERR_NO_MEMORY;
            *t = nt;
            cap *= 2;
        }
        double a = bench_now_ms();
        ev_status st = ev_session_run(s);
        if (st != EV_OK) return st;
        (*t)[*n] = bench_now_ms() - a;
        *total += (*t)[(*n)++];
    }
    return EV_OK;
}

/* 1 when `name` is a whole word of /proc/cpuinfo's flags line `flags`. */
static inline int bench_has_flag(const char *flags, const char *name) {
    size_t n = strlen(name);
    for (const char *p = flags; (p = strstr(p, name)) != NULL; p += n) {
        int start = p == flags || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':';
        int end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n' || p[n] == '\t';
        if (start && end) return 1;
    }
    return 0;
}

/* '#' lines: date, CPU model and online cores, ISA flags, compiler (and whether optimized), our
 * backends. The caller prints its own title line first. */
static inline void bench_print_environment(void) {
    char model[256] = "unknown", line[8192], flags[8192] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (!colon) continue;
            const char *v = colon + 1;
            while (*v == ' ') v++;
            if (strncmp(line, "model name", 10) == 0 && strcmp(model, "unknown") == 0) {
                snprintf(model, sizeof model, "%s", v);
                model[strcspn(model, "\n")] = '\0';
            } else if (strncmp(line, "flags", 5) == 0 && !flags[0]) {
                snprintf(flags, sizeof flags, " %s", v);
            }
        }
        fclose(f);
    }
    char date[64];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("# date: %s\n", date);
    printf("# cpu: %s; %ld online cores\n", model, sysconf(_SC_NPROCESSORS_ONLN));
    static const char *const isa[] = {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni",
                                      "avx_vnni", "amx_int8"};
    printf("# isa:");
    for (size_t i = 0; i < sizeof isa / sizeof isa[0]; i++)
        printf(" %s=%s", isa[i], bench_has_flag(flags, isa[i]) ? "yes" : "no");
    printf("\n");
#ifdef __VERSION__
#ifdef __clang__
    printf("# compiler: clang %s", __VERSION__);
#else
    printf("# compiler: gcc %s", __VERSION__);
#endif
#else
    printf("# compiler: unknown");
#endif
#ifdef __OPTIMIZE__
    printf(" (optimized build)\n");
#else
    printf(" (NOT optimized: use -DCMAKE_BUILD_TYPE=Release)\n");
#endif
    printf("# backends:");
    for (const char *const *n = ev_backend_names(); *n; n++) printf(" %s", *n);
    printf("\n");
    fflush(stdout);
}

/* Appends `s` single-quoted for /bin/sh to the string in dst. */
static inline void bench_sh_quote(char *dst, size_t cap, const char *s) {
    size_t n = strlen(dst);
    if (n + 1 < cap) dst[n++] = '\'';
    for (; *s && n + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(dst + n, "'\\''", 4);
            n += 4;
        } else {
            dst[n++] = *s;
        }
    }
    if (n + 1 < cap) dst[n++] = '\'';
    dst[n] = '\0';
}

/* Runs a peer's command (popen) and parses the last line of its output that starts with '{'
 * (the peer scripts print exactly one JSON line) into *out (NULL: no such line, or not JSON; the
 * caller frees it with cJSON_Delete). Returns the command's status (pclose), or -1 when it could
 * not be started. */
static inline int bench_run_json(const char *cmd, cJSON **out) {
    *out = NULL;
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[16384], json[16384] = "";
    while (fgets(line, sizeof line, p))
        if (line[0] == '{') snprintf(json, sizeof json, "%s", line);
    int rc = pclose(p);
    *out = json[0] ? cJSON_Parse(json) : NULL;
    return rc;
}

/* The peer scripts' folder: $EV_BENCH_PEERS, else bench/peers (run from the repository root),
 * else ../bench/peers next to this executable; `probe` is a script that must be there. */
static inline const char *bench_find_peers_dir(char *buf, size_t cap, const char *probe) {
    const char *e = getenv("EV_BENCH_PEERS");
    if (e && *e) {
        snprintf(buf, cap, "%s", e);
        return buf;
    }
    char p[4300];
    snprintf(p, sizeof p, "bench/peers/%s", probe);
    if (access(p, R_OK) == 0) {
        snprintf(buf, cap, "bench/peers");
        return buf;
    }
    char exe[3968]; /* leaves room for "/../bench/peers" in a 4096 buffer */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/../bench/peers", exe);
            snprintf(p, sizeof p, "%s/%s", buf, probe);
            if (access(p, R_OK) == 0) return buf;
        }
    }
    return NULL;
}

#endif
