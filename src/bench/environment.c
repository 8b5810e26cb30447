/*
 * environment.c - the benchmark's environment header and peak memory (see environment.h).
 *
 * Sources: gethostname, /proc/cpuinfo (model name, flags), sysconf, uname, /etc/os-release,
 * __VERSION__ of the compiler that built this file, FFmpeg/cJSON/libpng version calls. Peak RSS
 * reads VmHWM from /proc/self/status after resetting it per result through /proc/self/clear_refs,
 * so each result reports its own peak, not the largest of every model the process ran before.
 *
 * Extend: add the field to ev_bench_env and fill it here; absent information stays "unknown".
 */
#include "bench/environment.h"

#include <cjson/cJSON.h>
#include <libavutil/avutil.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
}

/* Value of the first "key\t: value" line of /proc/cpuinfo. */
static int cpuinfo_field(const char *key, char *out, size_t n) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    char line[8192];
    size_t kl = strlen(key);
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != '\t' && line[kl] != ':'))
            continue;
        char *c = strchr(line, ':');
        if (!c) continue;
        c++;
        while (*c == ' ') c++;
        snprintf(out, n, "%s", c);
        trim(out);
        found = 0;
        break;
    }
    fclose(f);
    return found;
}

static int has_flag(const char *flags, const char *flag) {
    size_t n = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += n)
        if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    return 0;
}

static void cpu_features(char *out, size_t n) {
    static char flags[8192];
    static const char *const wanted[] = {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                                         "avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16",
                                         "neon", "asimd", "asimddp", NULL};
    out[0] = '\0';
    if (cpuinfo_field("flags", flags, sizeof flags) != 0 &&
        cpuinfo_field("Features", flags, sizeof flags) != 0) {
        snprintf(out, n, "unknown");
        return;
    }
    for (int i = 0; wanted[i]; i++)
        if (has_flag(flags, wanted[i])) {
            size_t l = strlen(out);
            snprintf(out + l, n - l, "%s%s", l ? " " : "", wanted[i]);
        }
    if (!out[0]) snprintf(out, n, "none of avx2/avx512/amx/neon");
}

static void os_name(char *out, size_t n) {
    char pretty[128] = "unknown";
    FILE *f = fopen("/etc/os-release", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
                char *v = line + 12;
                if (*v == '"') v++;
                trim(v);
                size_t l = strlen(v);
                if (l && v[l - 1] == '"') v[l - 1] = '\0';
                snprintf(pretty, sizeof pretty, "%s", v);
            }
        fclose(f);
    }
    struct utsname u;
    snprintf(out, n, "%s", pretty);
    if (uname(&u) == 0) {
        size_t l = strlen(out);
        if (l < n) snprintf(out + l, n - l, ", %.32s %.64s %.32s", u.sysname, u.release, u.machine);
    }
}

const char *ev_bench_backend_isa(const char *backend) {
    if (!backend || strcmp(backend, "ref") == 0) return "portable C";
    if (strcmp(backend, "cpu") == 0) return ev_cpu_isa_name();
    return "";
}

void ev_bench_env_get(ev_bench_env *e) {
    memset(e, 0, sizeof *e);
    if (gethostname(e->host, sizeof e->host - 1) != 0) snprintf(e->host, sizeof e->host, "unknown");
    if (cpuinfo_field("model name", e->cpu, sizeof e->cpu) != 0 &&
        cpuinfo_field("Model", e->cpu, sizeof e->cpu) != 0)
        snprintf(e->cpu, sizeof e->cpu, "unknown");
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    e->cores = c > 0 ? (int)c : 0;
    cpu_features(e->features, sizeof e->features);
    snprintf(e->cpu_isa, sizeof e->cpu_isa, "%s", ev_cpu_isa_name());
    os_name(e->os, sizeof e->os);
#ifdef __VERSION__
#if defined(__clang__)
    snprintf(e->compiler, sizeof e->compiler, "clang %s", __VERSION__);
#elif defined(__GNUC__)
    snprintf(e->compiler, sizeof e->compiler, "gcc %s", __VERSION__);
#else
    snprintf(e->compiler, sizeof e->compiler, "%s", __VERSION__);
#endif
#else
    snprintf(e->compiler, sizeof e->compiler, "unknown");
#endif
    snprintf(e->libraries, sizeof e->libraries, "edgevision %s, FFmpeg %s, cJSON %s, libpng %s",
             EV_VERSION_STRING, av_version_info(), cJSON_Version(), png_get_libpng_ver(NULL));
}

double ev_bench_peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        long kb = -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
        fclose(f);
        if (kb >= 0) return (double)kb / 1024.0;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

int ev_bench_peak_rss_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}
