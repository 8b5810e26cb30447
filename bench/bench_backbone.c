/*
 * bench_backbone.c - benchmark (not a test): our backends against the peer runtimes in one run, on
 * the three Coral PoseNet MobileNetV1-0.75 backbones (backbone only: uint8 NHWC image in, three
 * uint8 heads out; no decoder on either side).
 *
 *   ours:   ../shared/models/posenet/posenet_mobilenet_v1_075_<size>_quant.tflite, every backend
 *           of ev_backend_names() (ref only at 353x481 unless --with-ref: it takes seconds a run);
 *           the cpu backend once per ISA path (--isa: by default every path this machine has
 *           but scalar, ev_cpu_isa_list), as runtime "cpu/<path>" 
 *   ort:    ONNX Runtime (npm onnxruntime-node) on ../shared/models/posenet/onnx/..._quant_s8w.onnx
 *   tflite: TensorFlow Lite 2.9 (npm tfjs-tflite-node) on the same _quant.tflite as ours
 * The peers run as `node bench/peers/peer_{ort,tflite}.js MODEL THREADS MIN_RUNS WARMUP MIN_SECS`
 * (install them with `bash bench/peers/setup.sh`); each prints one JSON line.
 *
 * Every case: warm-up 3 runs, then at least --min-runs runs and at least --min-secs seconds; the
 * input is the golden resized test_couple.jpg at 353x481, elsewhere the same xorshift32 bytes the
 * peer scripts generate. Output: an environment header ('#' lines), "cpu==ref: yes|no" (our cpu
 * backend's output bytes against the ref backend's at 353x481), one parsable line per case
 *   result size=353x481 threads=1 runtime=cpu kind=ours version=0.1.0 runs=.. median_ms=..
 *          min_ms=.. mean_ms=.. fps=.. gops=..
 * (or status=error|skipped msg="..."), then a table with speedup = peer_ms / our_ms per peer and,
 * for each cpu path, its GOP/s as a share of the threads' int8 limit for that path, measured at
 * the start of the same run (int8_peak.h: vpmaddubsw ymm for avx2, vpdpbusd ymm / zmm for
 * avxvnni / vnni, tdpbusd for amx). "cpu==ref" is checked on every path listed.
 *
 * Usage: bench_backbone [--sizes 353_481,481_641,721_1281] [--threads 1,2] [--min-runs 30]
 *                       [--min-secs 2] [--peers none|ort|tflite|all] [--backends ref,cpu]
 *                       [--isa simd|all|best|PATH,...] [--with-ref] [--node PATH]
 * Environment: EDGEVISION_SHARED (default ../shared), EV_BENCH_PEERS (default bench/peers, or
 * ../bench/peers next to this executable).
 */
#include "bench_common.h"
#include "edgevision.h"
#include "int8_peak.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZES 8
#define MAX_THREADS 8
#define MAX_BACKENDS 8
#define MAX_RESULTS 256
#define MAX_ISAS 16

static int8_peak g_peak;

typedef struct size_desc {
    const char *tag; /* file-name part: 353_481 */
    const char *label;
    int h, w;
    double gmac;
} size_desc;

/* MACs of the backbone (convolutions), counted from the model's ops. GOP = 2 * GMAC. */
static const size_desc k_sizes[] = {
    {"353_481", "353x481", 353, 481, 1.246},
    {"481_641", "481x641", 481, 641, 2.231},
    {"721_1281", "721x1281", 721, 1281, 6.575},
};
#define NUM_KNOWN_SIZES ((int)(sizeof k_sizes / sizeof k_sizes[0]))

enum { PEER_ORT = 0, PEER_TFLITE = 1, NUM_PEERS = 2 };
static const char *const k_peer_names[NUM_PEERS] = {"ort", "tflite"};
static const char *const k_peer_scripts[NUM_PEERS] = {"peer_ort.js", "peer_tflite.js"};
static const char *const k_peer_pkgs[NUM_PEERS] = {"onnxruntime-node", "tfjs-tflite-node"};

typedef struct result {
    int size;    /* index into k_sizes */
    int threads;
    char runtime[32];
    int is_peer;
    int ok;
    double median_ms, min_ms, mean_ms;
    int runs;
} result;

static result g_results[MAX_RESULTS];
static int g_nresults;

static void usage(FILE *f, const char *argv0) {
    fprintf(f,
            "usage: %s [--sizes 353_481,481_641,721_1281] [--threads 1,2] [--min-runs 30]\n"
            "          [--min-secs 2] [--peers none|ort|tflite|all] [--backends NAME,...]\n"
            "          [--isa simd|all|best|PATH,...] [--with-ref] [--node PATH]\n"
            "--isa: the cpu backend's paths to time (simd: every path of ev_cpu_isa_list but\n"
            "scalar, the default; all: with scalar; best: only the best; or names)\n"
            "Times our backends and the peer runtimes (bench/peers; install with\n"
            "`bash bench/peers/setup.sh`) on the PoseNet backbones; see bench/README.md.\n",
            argv0);
}

/* ------------------------------------------------------------------------------------------ */
/* Environment                                                                                */
/* ------------------------------------------------------------------------------------------ */

static void print_environment(const char *shared, const char *peers_dir) {
    printf("# bench_backbone: edgevision %s, PoseNet MobileNetV1-0.75 backbones (no decoder)\n",
           EV_VERSION_STRING);
    bench_print_environment();
    printf("# shared: %s\n# peers: %s\n", shared, peers_dir ? peers_dir : "(bench/peers not found)");
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* Input bytes: the same as bench/peers/common.js                                             */
/* ------------------------------------------------------------------------------------------ */

static void fill_input(uint8_t *d, size_t n, int h, int w, const char *shared, const char **kind) {
    if (h == 353 && w == 481 && n == (size_t)353 * 481 * 3) {
        char path[4096];
        snprintf(path, sizeof path, "%s/data/golden/posenet_353_481/input_353_481_rgb_u8.raw",
                 shared);
        FILE *f = fopen(path, "rb");
        if (f) {
            size_t got = fread(d, 1, n, f);
            fclose(f);
            if (got == n) {
                *kind = "golden";
                return;
            }
        }
    }
    uint32_t x = 12345u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        d[i] = (uint8_t)(x & 0xff);
    }
    *kind = "random";
}

/* ------------------------------------------------------------------------------------------ */
/* Our backends                                                                               */
/* ------------------------------------------------------------------------------------------ */

static void add_result(int size, int threads, const char *runtime, int is_peer, int ok,
                       double med, double mn, double mean, int runs) {
    if (g_nresults >= MAX_RESULTS) return;
    result *r = &g_results[g_nresults++];
    memset(r, 0, sizeof *r);
    r->size = size;
    r->threads = threads;
    snprintf(r->runtime, sizeof r->runtime, "%s", runtime);
    r->is_peer = is_peer;
    r->ok = ok;
    r->median_ms = med;
    r->min_ms = mn;
    r->mean_ms = mean;
    r->runs = runs;
}

static void print_ok_line(int si, int threads, const char *runtime, const char *kind,
                          const char *version, int runs, double med, double mn, double mean) {
    double gop = 2.0 * k_sizes[si].gmac;
    printf("result size=%s threads=%d runtime=%s kind=%s version=%s runs=%d median_ms=%.3f "
           "min_ms=%.3f mean_ms=%.3f fps=%.2f gops=%.2f\n",
           k_sizes[si].label, threads, runtime, kind, version, runs, med, mn, mean, 1000.0 / med,
           gop / (med / 1000.0));
    fflush(stdout);
}

static void print_bad_line(int si, int threads, const char *runtime, const char *kind,
                           const char *status, const char *msg) {
    printf("result size=%s threads=%d runtime=%s kind=%s status=%s msg=\"", k_sizes[si].label,
           threads, runtime, kind, status);
    for (const char *p = msg; *p && *p != '\n'; p++) putchar(*p == '"' ? '\'' : *p);
    printf("\"\n");
    fflush(stdout);
}

/* Loads `path`, creates a session on `backend` with `threads`, feeds the benchmark input. */
static ev_status open_session(const char *path, const char *backend, const char *isa,
                              int threads, const char *shared, ev_model **m, ev_session **s,
                              int si) {
    *m = NULL;
    *s = NULL;
    ev_status st = ev_model_load(path, m);
    if (st != EV_OK) return st;
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = backend;
    o.threads = threads;
    o.isa = isa;
    st = ev_session_create(*m, &o, s);
    if (st != EV_OK) return st;
    ev_tensor_info ii;
    st = ev_model_input_info(*m, 0, &ii);
    if (st != EV_OK) return st;
    if (ii.ndim != 4 || ii.dims[1] != k_sizes[si].h || ii.dims[2] != k_sizes[si].w) {
        fprintf(stderr, "warning: %s: input is %dx%d, expected %s\n", path, ii.dims[1],
                ii.dims[2], k_sizes[si].label);
    }
    uint8_t *in = malloc(ii.bytes);
    if (!in) return EV_ERR_NO_MEMORY;
    const char *kind;
    fill_input(in, ii.bytes, ii.ndim == 4 ? ii.dims[1] : 0, ii.ndim == 4 ? ii.dims[2] : 0, shared,
               &kind);
    st = ev_session_set_input(*s, 0, in, ii.bytes);
    free(in);
    return st;
}

/* Runtime label of our rows: the backend, "cpu/<path>" for the cpu backend on a path. */
static const char *runtime_label(char *buf, size_t n, const char *backend, const char *isa) {
    if (isa) snprintf(buf, n, "%s/%s", backend, isa);
    else snprintf(buf, n, "%s", backend);
    return buf;
}

static void bench_ours(int si, const char *path, const char *backend, const char *isa,
                       int threads, int min_runs, double min_secs, const char *shared) {
    ev_model *m;
    ev_session *s;
    char label[32];
    const char *rt = runtime_label(label, sizeof label, backend, isa);
    ev_status st = open_session(path, backend, isa, threads, shared, &m, &s, si);
    for (int i = 0; st == EV_OK && i < 3; i++) st = ev_session_run(s); /* warm-up */
    double *t = NULL, total = 0;
    size_t n = 0;
    if (st == EV_OK) st = bench_time_runs(s, min_runs, min_secs, 0, &t, &n, &total);
    if (st != EV_OK) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: %s", ev_status_string(st), ev_last_error());
        print_bad_line(si, threads, rt, "ours", "error", msg);
        add_result(si, threads, rt, 0, 0, 0, 0, 0, 0);
    } else {
        double med = bench_median(t, n);
        print_ok_line(si, threads, rt, "ours", EV_VERSION_STRING, (int)n, med, t[0],
                      total / (double)n);
        add_result(si, threads, rt, 0, 1, med, t[0], total / (double)n, (int)n);
    }
    free(t);
    ev_session_free(s);
    ev_model_free(m);
}

/* One run on `backend`; copies all outputs into one malloc'd block (*out, *bytes). */
static ev_status run_once_outputs(const char *path, const char *backend, const char *isa,
                                  int threads, const char *shared, int si, uint8_t **out,
                                  size_t *bytes) {
    ev_model *m;
    ev_session *s;
    *out = NULL;
    *bytes = 0;
    ev_status st = open_session(path, backend, isa, threads, shared, &m, &s, si);
    if (st == EV_OK) st = ev_session_run(s);
    int nout = st == EV_OK ? ev_model_num_outputs(m) : 0;
    for (int k = 0; st == EV_OK && k < nout; k++) {
        const void *d;
        ev_tensor_info info;
        st = ev_session_output(s, k, &d, &info);
        if (st != EV_OK) break;
        uint8_t *grown = realloc(*out, *bytes + info.bytes);
        if (!grown) {
            st = EV_ERR_NO_MEMORY;
            break;
        }
        *out = grown;
        memcpy(*out + *bytes, d, info.bytes);
        *bytes += info.bytes;
    }
    ev_session_free(s);
    ev_model_free(m);
    return st;
}

static int backend_compiled(const char *name) {
    for (const char *const *n = ev_backend_names(); *n; n++)
        if (strcmp(*n, name) == 0) return 1;
    return 0;
}

/* cpu backend output bytes == ref backend output bytes at 353x481, for each path and thread
 * count. */
static void check_cpu_vs_ref(const char *shared, const int *threads, int nthreads,
                             const char *const *isas, int nisas) {
    if (!backend_compiled("cpu") || !backend_compiled("ref")) {
        printf("cpu==ref: n/a (this build lacks the %s backend)\n",
               backend_compiled("cpu") ? "ref" : "cpu");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/models/posenet/posenet_mobilenet_v1_075_353_481_quant.tflite",
             shared);
    if (access(path, R_OK) != 0) {
        printf("cpu==ref: n/a (%s: %s)\n", path, strerror(errno));
        return;
    }
    uint8_t *ref = NULL;
    size_t ref_bytes = 0;
    ev_status st = run_once_outputs(path, "ref", NULL, 1, shared, 0, &ref, &ref_bytes);
    if (st != EV_OK) {
        printf("cpu==ref: n/a (ref failed: %s: %s)\n", ev_status_string(st), ev_last_error());
        free(ref);
        return;
    }
    int all_same = 1;
    char detail[1024] = "";
    size_t dl = 0;
    for (int c = 0; c < nthreads * nisas; c++) {
        int i = c % nthreads;
        const char *isa = isas[c / nthreads];
        uint8_t *cpu = NULL;
        size_t cpu_bytes = 0;
        st = run_once_outputs(path, "cpu", isa, threads[i], shared, 0, &cpu, &cpu_bytes);
        if (st != EV_OK) {
            all_same = 0;
            dl += (size_t)snprintf(detail + dl, dl < sizeof detail ? sizeof detail - dl : 0,
                                   " %s threads=%d: cpu failed: %s: %s;", isa ? isa : "best", threads[i],
                                   ev_status_string(st), ev_last_error());
        } else if (cpu_bytes != ref_bytes) {
            all_same = 0;
            dl += (size_t)snprintf(detail + dl, dl < sizeof detail ? sizeof detail - dl : 0,
                                   " %s threads=%d: %zu output bytes vs ref %zu;", isa ? isa : "best", threads[i],
                                   cpu_bytes, ref_bytes);
        } else {
            size_t diff = 0, first = 0;
            int maxd = 0;
            for (size_t j = 0; j < ref_bytes; j++) {
                int d = abs((int)cpu[j] - (int)ref[j]);
                if (d) {
                    if (!diff) first = j;
                    diff++;
                    if (d > maxd) maxd = d;
                }
            }
            if (diff) {
                all_same = 0;
                dl += (size_t)snprintf(detail + dl, dl < sizeof detail ? sizeof detail - dl : 0,
                                       " %s threads=%d: %zu of %zu bytes differ (first at %zu, "
                                       "max |diff| %d);",
                                       isa ? isa : "best", threads[i], diff, ref_bytes, first,
                                       maxd);
            } else {
                dl += (size_t)snprintf(detail + dl, dl < sizeof detail ? sizeof detail - dl : 0,
                                       " %s threads=%d: %zu bytes identical;", isa ? isa : "best",
                                       threads[i], ref_bytes);
            }
        }
        free(cpu);
        if (dl >= sizeof detail) dl = sizeof detail - 1;
    }
    free(ref);
    printf("cpu==ref: %s (353x481 backbone, golden input;%s)\n", all_same ? "yes" : "no", detail);
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* Peers                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Runs one peer script; prints its result line and records it. */
static void bench_peer(int peer, int si, const char *model, int threads, int min_runs,
                       double min_secs, const char *node, const char *peers_dir) {
    char cmd[8192] = "";
    char script[4200];
    snprintf(script, sizeof script, "%s/%s", peers_dir, k_peer_scripts[peer]);
    bench_sh_quote(cmd, sizeof cmd, node);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, script);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, model);
    char tail[128];
    snprintf(tail, sizeof tail, " %d %d 3 %g", threads, min_runs, min_secs);
    strncat(cmd, tail, sizeof cmd - strlen(cmd) - 1);

    fflush(stdout);
    cJSON *j;
    int rc = bench_run_json(cmd, &j);
    if (rc == -1 && !j) {
        print_bad_line(si, threads, k_peer_names[peer], "peer", "error", "popen failed");
        add_result(si, threads, k_peer_names[peer], 1, 0, 0, 0, 0, 0);
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *med = cJSON_GetObjectItemCaseSensitive(j, "median_ms");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(j, "min_ms");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(j, "mean_ms");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    if (cJSON_IsString(err)) {
        print_bad_line(si, threads, k_peer_names[peer], "peer", "error", err->valuestring);
        add_result(si, threads, k_peer_names[peer], 1, 0, 0, 0, 0, 0);
    } else if (!cJSON_IsNumber(med) || !cJSON_IsNumber(mn) || !cJSON_IsNumber(mean) ||
               !cJSON_IsNumber(runs) || med->valuedouble <= 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "no result line from %s (exit status %d; is node installed?)",
                 k_peer_scripts[peer], rc);
        print_bad_line(si, threads, k_peer_names[peer], "peer", "error", msg);
        add_result(si, threads, k_peer_names[peer], 1, 0, 0, 0, 0, 0);
    } else {
        char v[64];
        snprintf(v, sizeof v, "%s", cJSON_IsString(ver) ? ver->valuestring : "unknown");
        for (char *c = v; *c; c++)
            if (*c == ' ') *c = '_';
        print_ok_line(si, threads, k_peer_names[peer], "peer", v, runs->valueint, med->valuedouble,
                      mn->valuedouble, mean->valuedouble);
        add_result(si, threads, k_peer_names[peer], 1, 1, med->valuedouble, mn->valuedouble,
                   mean->valuedouble, runs->valueint);
    }
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------------------------ */
/* Table                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static const result *find_result(int si, int threads, const char *runtime) {
    for (int i = 0; i < g_nresults; i++)
        if (g_results[i].size == si && g_results[i].threads == threads &&
            strcmp(g_results[i].runtime, runtime) == 0)
            return &g_results[i];
    return NULL;
}

static void print_table(const int *peers_on) {
    printf("\n%-9s %3s  %-12s %10s %8s %8s %7s", "size", "thr", "runtime", "median_ms", "FPS",
           "GOP/s", "%peak");
    for (int p = 0; p < NUM_PEERS; p++) {
        char h[32];
        snprintf(h, sizeof h, "vs %s", k_peer_names[p]);
        if (peers_on[p]) printf("  %15s", h);
    }
    printf("\n");
    for (int i = 0; i < g_nresults; i++) {
        const result *r = &g_results[i];
        printf("%-9s %3d  %-12s", k_sizes[r->size].label, r->threads, r->runtime);
        if (!r->ok) {
            printf(" %10s %8s %8s %7s", "failed", "-", "-", "-");
        } else {
            double gops = 2.0 * k_sizes[r->size].gmac / (r->median_ms / 1000.0);
            const char *slash = strchr(r->runtime, '/');
            double lim = !r->is_peer && slash ? int8_peak_for_isa(&g_peak, slash + 1, NULL) : 0;
            printf(" %10.2f %8.1f %8.1f", r->median_ms, 1000.0 / r->median_ms, gops);
            if (lim > 0) printf(" %6.1f%%", 100.0 * gops / (lim * r->threads));
            else printf(" %7s", "-");
        }
        for (int p = 0; p < NUM_PEERS; p++) {
            if (!peers_on[p]) continue;
            const result *q = find_result(r->size, r->threads, k_peer_names[p]);
            if (r->is_peer || !r->ok || !q || !q->ok)
                printf("  %15s", "-");
            else
                printf("  %14.2fx", q->median_ms / r->median_ms);
        }
        printf("\n");
    }
    printf("vs PEER = speedup = peer median ms / our median ms (> 1: ours is faster); "
           "GOP = 2 x MAC (2.49 / 4.46 / 13.15 GOP). Compare within one run: figures drift "
           "~10%% between runs on shared machines.\n"
           "%%peak = GOP/s / (threads x one core's measured int8 limit for the path:");
    static const char *const paths[] = {"avx2", "avxvnni", "avx512", "vnni", "amx"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *name;
        double v = int8_peak_for_isa(&g_peak, paths[i], &name);
        if (v > 0) printf(" %s %s %.0f GOP/s;", paths[i], name, v);
    }
    printf(" see the '# int8 peak' line).\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static int parse_sizes(const char *arg, int *out, int *n) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        for (char *c = tok; *c; c++)
            if (*c == 'x') *c = '_';
        int found = -1;
        for (int i = 0; i < NUM_KNOWN_SIZES; i++)
            if (strcmp(tok, k_sizes[i].tag) == 0) found = i;
        if (found < 0 || *n >= MAX_SIZES) {
            fprintf(stderr, "error: --sizes: unknown size '%s' (353_481, 481_641, 721_1281)\n",
                    tok);
            return 0;
        }
        out[(*n)++] = found;
    }
    return *n > 0;
}

static int parse_ints(const char *arg, int *out, int *n, int max) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end || v < 1 || v > 1024 || *n >= max) return 0;
        out[(*n)++] = (int)v;
    }
    return *n > 0;
}

int main(int argc, char **argv) {
    int sizes[MAX_SIZES] = {0, 1, 2}, nsizes = 3;
    int threads[MAX_THREADS] = {1, 2}, nthreads = 2;
    int min_runs = 30;
    double min_secs = 2.0;
    int peers_on[NUM_PEERS] = {1, 1};
    int with_ref = 0;
    const char *backends_arg = NULL;
    const char *isa_arg = "simd";
    const char *node = "node";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(a, "--with-ref") == 0) {
            with_ref = 1;
            takes = 0;
        } else if (!v) {
            fprintf(stderr, "error: %s needs a value (or is unknown)\n", a);
            usage(stderr, argv[0]);
            return 2;
        } else if (strcmp(a, "--sizes") == 0) {
            if (!parse_sizes(v, sizes, &nsizes)) return 2;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_ints(v, threads, &nthreads, MAX_THREADS)) {
                fprintf(stderr, "error: --threads: '%s' is not a list of counts like 1,2\n", v);
                return 2;
            }
        } else if (strcmp(a, "--min-runs") == 0) {
            char *end;
            long r = strtol(v, &end, 10);
            if (*end || r < 1 || r > 1000000) {
                fprintf(stderr, "error: --min-runs: '%s' is not a count >= 1\n", v);
                return 2;
            }
            min_runs = (int)r;
        } else if (strcmp(a, "--min-secs") == 0) {
            char *end;
            min_secs = strtod(v, &end);
            if (*end || !(min_secs >= 0) || min_secs > 3600) {
                fprintf(stderr, "error: --min-secs: '%s' is not seconds >= 0\n", v);
                return 2;
            }
        } else if (strcmp(a, "--peers") == 0) {
            if (strcmp(v, "none") == 0) {
                peers_on[PEER_ORT] = peers_on[PEER_TFLITE] = 0;
            } else if (strcmp(v, "ort") == 0) {
                peers_on[PEER_ORT] = 1;
                peers_on[PEER_TFLITE] = 0;
            } else if (strcmp(v, "tflite") == 0) {
                peers_on[PEER_ORT] = 0;
                peers_on[PEER_TFLITE] = 1;
            } else if (strcmp(v, "all") == 0) {
                peers_on[PEER_ORT] = peers_on[PEER_TFLITE] = 1;
            } else {
                fprintf(stderr, "error: --peers: '%s' (none, ort, tflite or all)\n", v);
                return 2;
            }
        } else if (strcmp(a, "--backends") == 0) {
            backends_arg = v;
        } else if (strcmp(a, "--isa") == 0) {
            isa_arg = v;
        } else if (strcmp(a, "--node") == 0) {
            node = v;
        } else {
            fprintf(stderr, "error: unknown option %s\n", a);
            usage(stderr, argv[0]);
            return 2;
        }
        i += takes;
    }

    /* Our backends: all compiled in, or the --backends list (each must be compiled in). */
    const char *backends[MAX_BACKENDS];
    int nbackends = 0;
    static char bbuf[256];
    if (backends_arg) {
        snprintf(bbuf, sizeof bbuf, "%s", backends_arg);
        for (char *save = NULL, *tok = strtok_r(bbuf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            if (!backend_compiled(tok)) {
                fprintf(stderr, "error: --backends: '%s' is not in this build (have:", tok);
                for (const char *const *n = ev_backend_names(); *n; n++)
                    fprintf(stderr, " %s", *n);
                fprintf(stderr, ")\n");
                return 2;
            }
            if (nbackends < MAX_BACKENDS) backends[nbackends++] = tok;
        }
    } else {
        for (const char *const *n = ev_backend_names(); *n && nbackends < MAX_BACKENDS; n++)
            backends[nbackends++] = *n;
    }

    /* The cpu backend's paths: simd (default), all, best, or a list of this machine's names. */
    const char *have[MAX_ISAS], *isas[MAX_ISAS];
    int nhave = ev_cpu_isa_list(have, MAX_ISAS), nisas = 0;
    if (nhave > MAX_ISAS) nhave = MAX_ISAS;
    static char ibuf[256];
    if (strcmp(isa_arg, "best") == 0) {
        isas[nisas++] = NULL;
    } else if (strcmp(isa_arg, "simd") == 0 || strcmp(isa_arg, "all") == 0) {
        for (int i = 0; i < nhave; i++)
            if (strcmp(have[i], "scalar") != 0 || strcmp(isa_arg, "all") == 0 || nhave == 1)
                isas[nisas++] = have[i];
    } else {
        snprintf(ibuf, sizeof ibuf, "%s", isa_arg);
        for (char *save = NULL, *tok = strtok_r(ibuf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            int found = 0;
            for (int i = 0; i < nhave; i++) found |= strcmp(have[i], tok) == 0;
            if (!found) {
                fprintf(stderr, "error: --isa: '%s' is not a path of this machine (have:", tok);
                for (int i = 0; i < nhave; i++) fprintf(stderr, " %s", have[i]);
                fprintf(stderr, ")\n");
                return 2;
            }
            if (nisas < MAX_ISAS) isas[nisas++] = tok;
        }
    }

    const char *shared = getenv("EDGEVISION_SHARED");
    if (!shared || !*shared) shared = "../shared";
    /* The peer scripts read the golden input from the same place. */
    setenv("EDGEVISION_SHARED", shared, 1);
    char peers_buf[4096];
    const char *peers_dir = bench_find_peers_dir(peers_buf, sizeof peers_buf, "peer_ort.js");

    print_environment(shared, peers_dir);
    int8_peak_measure(&g_peak, 2000000L, 3);
    printf("# int8 peak per core (GOP/s, measured now, thread CPU time): vpmaddubsw ymm %.0f, "
           "vpmaddwd ymm %.0f, vpdpbusd ymm %.0f, vpdpbusd zmm %.0f, tdpbusd tile %.0f "
           "(0: not on this CPU)\n# cpu paths timed:",
           g_peak.maddubs_ymm, g_peak.maddwd_ymm, g_peak.dpbusd_ymm, g_peak.dpbusd_zmm,
           g_peak.tdpbusd);
    for (int i = 0; i < nisas; i++) printf(" %s", isas[i] ? isas[i] : ev_cpu_isa_name());
    printf("\n");

    /* Peers: installed? */
    for (int p = 0; p < NUM_PEERS; p++) {
        if (!peers_on[p]) continue;
        char probe[4400];
        snprintf(probe, sizeof probe, "%s/node_modules/%s/package.json",
                 peers_dir ? peers_dir : "bench/peers", k_peer_pkgs[p]);
        if (!peers_dir || access(probe, R_OK) != 0) {
            printf("peer %s: not installed (run bench/peers/setup.sh)\n", k_peer_names[p]);
            peers_on[p] = 0;
        }
    }
    if (peers_on[PEER_ORT] || peers_on[PEER_TFLITE]) {
        char cmd[4200] = "";
        bench_sh_quote(cmd, sizeof cmd, node);
        strncat(cmd, " --version 2>/dev/null", sizeof cmd - strlen(cmd) - 1);
        FILE *p = popen(cmd, "r");
        char ver[128] = "";
        if (p) {
            if (!fgets(ver, sizeof ver, p)) ver[0] = '\0';
            pclose(p);
        }
        ver[strcspn(ver, "\n")] = '\0';
        if (!ver[0]) {
            printf("peers: node ('%s') not found: peers skipped (install Node.js >= 18)\n", node);
            peers_on[PEER_ORT] = peers_on[PEER_TFLITE] = 0;
        } else {
            printf("# node: %s\n", ver);
        }
    }
    printf("# timing: warm-up 3, then >= %d runs and >= %g s per case; threads:", min_runs,
           min_secs);
    for (int t = 0; t < nthreads; t++) printf(" %d", threads[t]);
    printf("\n");
    fflush(stdout);

    check_cpu_vs_ref(shared, threads, nthreads, isas, nisas);

    for (int k = 0; k < nsizes; k++) {
        int si = sizes[k];
        char model[4096], onnx[4096];
        snprintf(model, sizeof model, "%s/models/posenet/posenet_mobilenet_v1_075_%s_quant.tflite",
                 shared, k_sizes[si].tag);
        snprintf(onnx, sizeof onnx,
                 "%s/models/posenet/onnx/posenet_mobilenet_v1_075_%s_quant_s8w.onnx", shared,
                 k_sizes[si].tag);
        int have_model = access(model, R_OK) == 0, have_onnx = access(onnx, R_OK) == 0;
        for (int ti = 0; ti < nthreads; ti++) {
            int th = threads[ti];
            for (int b = 0; b < nbackends; b++) {
                if (!have_model) {
                    print_bad_line(si, th, backends[b], "ours", "skipped",
                                   "model absent from $EDGEVISION_SHARED");
                    continue;
                }
                if (strcmp(backends[b], "ref") == 0 && si != 0 && !with_ref) {
                    print_bad_line(si, th, backends[b], "ours", "skipped",
                                   "ref takes seconds a run above 353x481 (use --with-ref)");
                    continue;
                }
                if (strcmp(backends[b], "cpu") == 0)
                    for (int i = 0; i < nisas; i++)
                        bench_ours(si, model, "cpu", isas[i] ? isas[i] : ev_cpu_isa_name(), th,
                                   min_runs, min_secs, shared);
                else
                    bench_ours(si, model, backends[b], NULL, th, min_runs, min_secs, shared);
            }
            if (peers_on[PEER_ORT]) {
                if (have_onnx)
                    bench_peer(PEER_ORT, si, onnx, th, min_runs, min_secs, node, peers_dir);
                else
                    print_bad_line(si, th, "ort", "peer", "skipped",
                                   "ONNX model absent from $EDGEVISION_SHARED");
            }
            if (peers_on[PEER_TFLITE]) {
                if (have_model)
                    bench_peer(PEER_TFLITE, si, model, th, min_runs, min_secs, node, peers_dir);
                else
                    print_bad_line(si, th, "tflite", "peer", "skipped",
                                   "model absent from $EDGEVISION_SHARED");
            }
        }
    }
    print_table(peers_on);
    return 0;
}
