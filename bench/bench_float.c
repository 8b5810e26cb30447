/*
 * bench_float.c - benchmark (not a test): our float32 path against ONNX Runtime in one run, on two
 * float networks, in milliseconds, GFLOP/s and percent of the machine's measured FMA limit, in
 * total and per op group (conv 3x3, conv 1x1, depthwise, other).
 *
 *   resnet50:   ours  Keras ResNet50 HDF5 (bench/peers/models/resnet50.h5, random weights from
 *                     build/make_resnet50_h5), 224x224, with its top
 *               peer  torchvision ResNet50 (weights=None) exported to ONNX (resnet50_tv.onnx)
 *   posenet050: ours  $EDGEVISION_SHARED/models/posenet/posenet_mobilenet_v1_050_float.pb at
 *                     353x481 (TF GraphDef: MobileNetV1 0.50, output stride 16, four heads)
 *               peer  the same layer list defined in torch and exported (posenet_mnv1_050.onnx)
 * The ONNX files and the .h5 come from `bash bench/peers/setup.sh --float` (export_float.sh).
 * Ours: the cpu backend on each ISA path (--isa: best = what the CPU has, then caps such as
 * avx2), at each --threads count; NHWC input. ORT: node bench/peers/peer_ort_float.js with
 * bench_backbone's settings (intra-op threads = threads, inter-op 1, optimization 'all',
 * sequential); NCHW input. Both sides get the same values: the benchmark bytes (golden image at
 * 353x481, xorshift32 seed 12345 elsewhere) as x / 127.5 - 1, element (y, x, c) = (c, y, x).
 *
 * MACs: each network's own count (ours from the model, ev_op_info; the peer's from its ONNX graph,
 * MODEL.onnx.json); GFLOP/s = 2 x MAC / time. The FMA limit is measured here (fma_peak.h: the
 * vfmadd231 limit of one core per width), x threads; the path's width decides which: ymm for avx2
 * and avxvnni, zmm for avx512, vnni and ORT (which uses AVX-512 where the CPU has it).
 * Per group: a separate profiled pass after the timed runs (ours: ev_session_op_time; ORT: its
 * profiler's kernel times), each group's median over the profiled runs (one run stalled by the
 * machine does not move it); "other" holds every op not in the first three
 * (ResNet's 7x7 stem and dense layer, pooling, adds, the sigmoid).
 *
 * Output: '#' header lines, one parsable line per case and one per case and group:
 *   result net=resnet50 threads=2 runtime=cpu isa=vnni kind=ours version=0.1.0 runs=.. median_ms=..
 *          min_ms=.. mean_ms=.. gmac=.. gflops=.. limit_gflops=.. pct_limit=.. ref_ops=53/73
 *   group net=resnet50 threads=2 runtime=cpu isa=vnni group=conv1x1 ms=.. gmac=.. gflops=.. pct_limit=..
 * (result ... status=error|skipped msg="..." when a case cannot run), then the tables: speedup vs
 * ORT = ORT median ms / our median ms (> 1: ours is faster) and % of the FMA limit.
 *
 * Usage: bench_float [--nets resnet50,posenet050] [--threads 1,2] [--isa best,avx2]
 *                    [--min-runs 10] [--min-secs 1] [--max-secs 60] [--profile-runs 7]
 *                    [--peers none|ort] [--models-dir bench/peers/models] [--resnet50 FILE]
 *                    [--posenet FILE] [--node PATH]
 * Extend: another network is a k_nets line (its ONNX file from export_float.py's MODELS); another
 * peer is a peer_X_float.js printing the same JSON line and a call beside bench_peer's.
 */
#include "bench_common.h"
#include "edgevision.h"
#include "fma_peak.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LIST 8
#define MAX_RESULTS 128

enum { G_C3 = 0, G_C1, G_DW, G_OTHER, NUM_GROUPS };
static const char *const k_groups[NUM_GROUPS] = {"conv3x3", "conv1x1", "depthwise", "other"};

typedef struct net_desc {
    const char *key, *what, *onnx;
    int h, w;
} net_desc;

static const net_desc k_nets[] = {
    {"resnet50", "ResNet50 224x224 (ours: Keras .h5; ORT: torchvision)", "resnet50_tv.onnx", 224,
     224},
    {"posenet050", "PoseNet MobileNetV1 0.50 float 353x481 (ours: .pb; ORT: torch, same layers)",
     "posenet_mnv1_050.onnx", 353, 481},
};
#define NUM_NETS ((int)(sizeof k_nets / sizeof k_nets[0]))

typedef struct result {
    int net, threads, is_peer, ok;
    char runtime[16], isa[16];
    double median_ms, min_ms, mean_ms;
    int runs;
    double gmac, limit_gflops; /* limit: threads x one core's FMA limit of the path */
    int have_groups;
    int fused_pairs; /* ours: op pairs run fused (their MACs in the absorbing op's group) */
    double group_ms[NUM_GROUPS], group_gmac[NUM_GROUPS];
    int ref_ops, nops;
} result;

static result g_res[MAX_RESULTS];
static int g_nres;
static fma_peak g_peak;

static result *new_result(int net, int threads, const char *runtime, const char *isa,
                          int is_peer) {
    static result spare;
    result *r = g_nres < MAX_RESULTS ? &g_res[g_nres++] : &spare;
    memset(r, 0, sizeof *r);
    r->net = net;
    r->threads = threads;
    r->is_peer = is_peer;
    snprintf(r->runtime, sizeof r->runtime, "%s", runtime);
    snprintf(r->isa, sizeof r->isa, "%s", isa);
    return r;
}

static void print_bad(const result *r, const char *status, const char *msg) {
    printf("result net=%s threads=%d runtime=%s isa=%s kind=%s status=%s msg=\"", k_nets[r->net].key,
           r->threads, r->runtime, r->isa, r->is_peer ? "peer" : "ours", status);
    for (const char *p = msg; *p && *p != '\n'; p++) putchar(*p == '"' ? '\'' : *p);
    printf("\"\n");
    fflush(stdout);
}

static double gflops(double gmac, double ms) { return ms > 0 ? 2.0 * gmac / (ms / 1000.0) : 0; }
static double pct(double gf, double limit) { return limit > 0 ? 100.0 * gf / limit : 0; }

static void print_ok(const result *r, const char *version) {
    double gf = gflops(r->gmac, r->median_ms);
    printf("result net=%s threads=%d runtime=%s isa=%s kind=%s version=%s runs=%d median_ms=%.3f "
           "min_ms=%.3f mean_ms=%.3f gmac=%.4f gflops=%.2f limit_gflops=%.1f pct_limit=%.1f",
           k_nets[r->net].key, r->threads, r->runtime, r->isa, r->is_peer ? "peer" : "ours",
           version, r->runs, r->median_ms, r->min_ms, r->mean_ms, r->gmac, gf, r->limit_gflops,
           pct(gf, r->limit_gflops));
    if (!r->is_peer) printf(" ref_ops=%d/%d", r->ref_ops, r->nops);
    printf("\n");
    for (int g = 0; r->have_groups && g < NUM_GROUPS; g++) {
        double ggf = gflops(r->group_gmac[g], r->group_ms[g]);
        printf("group net=%s threads=%d runtime=%s isa=%s group=%s ms=%.3f gmac=%.4f gflops=%.2f "
               "pct_limit=%.1f\n",
               k_nets[r->net].key, r->threads, r->runtime, r->isa, k_groups[g], r->group_ms[g],
               r->group_gmac[g], ggf, pct(ggf, r->limit_gflops));
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* Input: the same values as bench/peers/peer_ort_float.js                                    */
/* ------------------------------------------------------------------------------------------ */

/* NHWC float input of h x w x 3: the benchmark bytes (bench_backbone's fill_input and common.js
 * inputBytes: the golden resized image at 353x481, else xorshift32 from 12345) as x / 127.5 - 1. */
static void fill_float(float *d, int h, int w, const char *shared, const char **kind) {
    size_t n = (size_t)h * w * 3;
    unsigned char *b = malloc(n);
    if (!b) {
        memset(d, 0, n * sizeof *d);
        *kind = "zeros";
        return;
    }
    *kind = "random";
    int got = 0;
    if (h == 353 && w == 481) {
        char path[4096];
        snprintf(path, sizeof path, "%s/data/golden/posenet_353_481/input_353_481_rgb_u8.raw",
                 shared);
        FILE *f = fopen(path, "rb");
        if (f) {
            got = fread(b, 1, n, f) == n;
            fclose(f);
        }
        if (got) *kind = "golden";
    }
    if (!got) {
        uint32_t x = 12345u;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b[i] = (unsigned char)(x & 0xff);
        }
    }
    for (size_t i = 0; i < n; i++) d[i] = (float)((double)b[i] / 127.5 - 1.0);
    free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* Ours                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Op group: CONV_2D by its kernel (weights OHWI), DEPTHWISE_CONV_2D, everything else. */
static int op_group(const ev_model *m, int i) {
    ev_op_info oi;
    if (ev_model_op_info(m, i, &oi) != EV_OK) return G_OTHER;
    if (strcmp(oi.type, "DEPTHWISE_CONV_2D") == 0) return G_DW;
    if (strcmp(oi.type, "CONV_2D") != 0 || oi.num_inputs < 2 || oi.inputs[1] < 0) return G_OTHER;
    ev_tensor_info w;
    if (ev_model_tensor_info(m, oi.inputs[1], &w, NULL) != EV_OK || w.ndim != 4) return G_OTHER;
    if (w.dims[1] == 1 && w.dims[2] == 1) return G_C1;
    if (w.dims[1] == 3 && w.dims[2] == 3) return G_C3;
    return G_OTHER;
}

typedef struct run_cfg {
    int min_runs, profile_runs;
    double min_secs, max_secs;
    const char *shared;
} run_cfg;

static void bench_ours(int net, const ev_model *m, const char *isa_cap, int threads,
                       const run_cfg *cfg) {
    const char *isa_label = isa_cap ? isa_cap : ev_cpu_isa_name();
    result *r = new_result(net, threads, "cpu", isa_label, 0);
    r->gmac = (double)ev_model_macs(m) / 1e9;
    r->limit_gflops = threads * fma_peak_for_isa(&g_peak, isa_label);
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cpu";
    o.threads = threads;
    o.isa = isa_cap;
    ev_session *s = NULL;
    double *t = NULL;
    ev_status st = ev_session_create(m, &o, &s);
    ev_tensor_info ii;
    if (st == EV_OK) st = ev_model_input_info(m, 0, &ii);
    if (st == EV_OK && (ii.dtype != EV_DTYPE_F32 || ii.ndim != 4 || ii.dims[3] != 3)) {
        print_bad(r, "error", "the model's input is not float32 NHWC with 3 channels");
        goto done;
    }
    if (st == EV_OK) {
        float *in = malloc(ii.bytes);
        const char *kind;
        if (!in) {
            st = EV_ERR_NO_MEMORY;
        } else {
            fill_float(in, ii.dims[1], ii.dims[2], cfg->shared, &kind);
            st = ev_session_set_input(s, 0, in, ii.bytes);
            free(in);
        }
    }
    r->nops = ev_model_num_ops(m);
    for (int i = 0; st == EV_OK && i < r->nops; i++) {
        int ref = 0;
        ev_session_kernel_name(s, i, &ref);
        r->ref_ops += ref;
    }
    if (st == EV_OK) st = ev_session_run(s); /* warm-up */
    size_t n = 0;
    double total = 0;
    if (st == EV_OK)
        st = bench_time_runs(s, cfg->min_runs, cfg->min_secs, cfg->max_secs, &t, &n, &total);
    if (st != EV_OK) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: %s", ev_status_string(st), ev_last_error());
        print_bad(r, "error", msg);
        goto done;
    }
    r->runs = (int)n;
    r->mean_ms = total / (double)n;
    r->median_ms = bench_median(t, n);
    r->min_ms = t[0];
    /* per group: a separate profiled pass */
    if (cfg->profile_runs > 0 && ev_session_set_profiling(s, 1) == EV_OK) {
        /* A fused pair's time is the absorbing op's (the absorbed op takes none): its MACs are
         * counted in the absorbing op's group too (a depthwise + 1x1 pair counts as depthwise). */
        ev_kernel_report *kr = calloc((size_t)r->nops + 1, sizeof *kr);
        int *owner = malloc(sizeof(int) * ((size_t)r->nops + 1));
        for (int i = 0; owner && i < r->nops; i++) owner[i] = i;
        if (kr && owner && ev_backend_kernels(m, &o, kr, r->nops) == EV_OK)
            for (int i = 0; i < r->nops; i++) {
                const char *plus = strstr(kr[i].kernel, " + op ");
                int j = plus ? atoi(plus + 6) : -1;
                if (j > i && j < r->nops) owner[j] = i, r->fused_pairs++;
            }
        for (int i = 0; i < r->nops; i++) {
            ev_op_info oi;
            if (ev_model_op_info(m, i, &oi) == EV_OK)
                r->group_gmac[op_group(m, owner ? owner[i] : i)] += (double)oi.macs / 1e9;
        }
        free(kr);
        free(owner);
        /* each run's group sums, then each group's median run (one stalled run, e.g. a
         * real-time throttling pause, does not move it) */
        const int pr = cfg->profile_runs;
        double *per = calloc((size_t)pr * NUM_GROUPS, sizeof *per);
        double *col = malloc(sizeof *col * (size_t)pr);
        int ok = per && col;
        for (int k = 0; ok && k < pr; k++) {
            ok = ev_session_run(s) == EV_OK;
            for (int i = 0; ok && i < r->nops; i++) {
                double start, sec;
                if (ev_session_op_time(s, i, &start, &sec) == EV_OK)
                    per[(size_t)k * NUM_GROUPS + (size_t)op_group(m, i)] += sec * 1000.0;
            }
        }
        for (int g = 0; ok && g < NUM_GROUPS; g++) {
            for (int k = 0; k < pr; k++) col[k] = per[(size_t)k * NUM_GROUPS + (size_t)g];
            r->group_ms[g] = bench_median(col, (size_t)pr);
        }
        free(per);
        free(col);
        r->have_groups = ok;
    }
    r->ok = 1;
    print_ok(r, EV_VERSION_STRING);
done:
    free(t);
    ev_session_free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* The peer                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void bench_peer(int net, const char *onnx, int threads, const run_cfg *cfg,
                       const char *node, const char *peers_dir) {
    result *r = new_result(net, threads, "ort", "best", 1);
    r->limit_gflops = threads * fma_peak_for_isa(&g_peak, NULL);
    char cmd[8192] = "", script[4200], tail[160];
    snprintf(script, sizeof script, "%s/peer_ort_float.js", peers_dir);
    bench_sh_quote(cmd, sizeof cmd, node);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, script);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, onnx);
    snprintf(tail, sizeof tail, " %d %d 3 %g %d", threads, cfg->min_runs, cfg->min_secs,
             cfg->profile_runs);
    strncat(cmd, tail, sizeof cmd - strlen(cmd) - 1);
    fflush(stdout);
    cJSON *j;
    int rc = bench_run_json(cmd, &j);
    if (rc == -1 && !j) {
        print_bad(r, "error", "popen failed");
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *med = cJSON_GetObjectItemCaseSensitive(j, "median_ms");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(j, "min_ms");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(j, "mean_ms");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    const cJSON *macs = cJSON_GetObjectItemCaseSensitive(j, "macs");
    const cJSON *gm = cJSON_GetObjectItemCaseSensitive(j, "group_macs");
    const cJSON *gms = cJSON_GetObjectItemCaseSensitive(j, "groups_ms");
    if (cJSON_IsString(err)) {
        print_bad(r, "error", err->valuestring);
    } else if (!cJSON_IsNumber(med) || !cJSON_IsNumber(mn) || !cJSON_IsNumber(mean) ||
               !cJSON_IsNumber(runs) || med->valuedouble <= 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "no result line from peer_ort_float.js (exit status %d)", rc);
        print_bad(r, "error", msg);
    } else {
        r->ok = 1;
        r->median_ms = med->valuedouble;
        r->min_ms = mn->valuedouble;
        r->mean_ms = mean->valuedouble;
        r->runs = runs->valueint;
        r->gmac = cJSON_IsNumber(macs) ? macs->valuedouble / 1e9 : 0;
        if (cJSON_IsObject(gm) && cJSON_IsObject(gms)) {
            r->have_groups = 1;
            for (int g = 0; g < NUM_GROUPS; g++) {
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(gm, k_groups[g]);
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(gms, k_groups[g]);
                r->group_gmac[g] = cJSON_IsNumber(a) ? a->valuedouble / 1e9 : 0;
                r->group_ms[g] = cJSON_IsNumber(b) ? b->valuedouble : 0;
            }
        }
        char v[64];
        snprintf(v, sizeof v, "%s", cJSON_IsString(ver) ? ver->valuestring : "unknown");
        for (char *c = v; *c; c++)
            if (*c == ' ') *c = '_';
        print_ok(r, v);
    }
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------------------------ */
/* Tables                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static const result *find_peer(int net, int threads) {
    for (int i = 0; i < g_nres; i++)
        if (g_res[i].is_peer && g_res[i].net == net && g_res[i].threads == threads && g_res[i].ok)
            return &g_res[i];
    return NULL;
}

static void print_tables(void) {
    printf("\n%-10s %3s  %-4s %-8s %10s %8s %9s %8s %7s  %s\n", "net", "thr", "side", "isa",
           "median_ms", "GMAC", "GFLOP/s", "% limit", "vs ort", "ops on reference kernels");
    for (int i = 0; i < g_nres; i++) {
        const result *r = &g_res[i];
        printf("%-10s %3d  %-4s %-8s", k_nets[r->net].key, r->threads, r->runtime, r->isa);
        if (!r->ok) {
            printf(" %10s\n", "failed");
            continue;
        }
        double gf = gflops(r->gmac, r->median_ms);
        printf(" %10.2f %8.3f %9.1f %7.1f%%", r->median_ms, r->gmac, gf, pct(gf, r->limit_gflops));
        const result *q = r->is_peer ? NULL : find_peer(r->net, r->threads);
        if (q)
            printf(" %6.2fx", q->median_ms / r->median_ms);
        else
            printf(" %7s", "-");
        if (!r->is_peer) printf("  %d of %d", r->ref_ops, r->nops);
        printf("\n");
    }
    printf("vs ort = speedup = ORT median ms / our median ms (> 1: ours is faster), each side on "
           "its own network (GMAC column). %% limit = GFLOP/s / (threads x one core's measured "
           "FMA limit of the path's width).\n");

    printf("\nper op group, median ms per run of the profiled runs (GFLOP/s, %% of the limit);\n"
           "ours: an op fused into another (conv + residual ADD, depthwise + its 1x1) counts in\n"
           "the absorbing op's group, MACs and time (PoseNet's depthwise group is then depthwise\n"
           "+ 1x1 pairs):\n");
    printf("%-10s %3s  %-4s %-8s", "net", "thr", "side", "isa");
    for (int g = 0; g < NUM_GROUPS; g++) printf("  %-24s", k_groups[g]);
    printf("\n");
    for (int i = 0; i < g_nres; i++) {
        const result *r = &g_res[i];
        if (!r->ok || !r->have_groups) continue;
        printf("%-10s %3d  %-4s %-8s", k_nets[r->net].key, r->threads, r->runtime, r->isa);
        for (int g = 0; g < NUM_GROUPS; g++) {
            char cell[64];
            double gf = gflops(r->group_gmac[g], r->group_ms[g]);
            if (r->group_gmac[g] > 0)
                snprintf(cell, sizeof cell, "%.2f (%.1f, %.1f%%)", r->group_ms[g], gf,
                         pct(gf, r->limit_gflops));
            else
                snprintf(cell, sizeof cell, "%.2f", r->group_ms[g]);
            printf("  %-24s", cell);
        }
        printf("\n");
    }
    printf("group GMAC per net:");
    for (int n = 0; n < NUM_NETS; n++)
        for (int i = 0; i < g_nres; i++)
            if (g_res[i].net == n && g_res[i].have_groups && !g_res[i].is_peer) {
                printf(" %s ours", k_nets[n].key);
                for (int g = 0; g < NUM_GROUPS; g++) printf(" %s %.3f", k_groups[g], g_res[i].group_gmac[g]);
                printf(";");
                break;
            }
    for (int n = 0; n < NUM_NETS; n++)
        for (int i = 0; i < g_nres; i++)
            if (g_res[i].net == n && g_res[i].have_groups && g_res[i].is_peer) {
                printf(" %s ort", k_nets[n].key);
                for (int g = 0; g < NUM_GROUPS; g++) printf(" %s %.3f", k_groups[g], g_res[i].group_gmac[g]);
                printf(";");
                break;
            }
    printf("\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_float [--nets resnet50,posenet050] [--threads 1,2] [--isa best,avx2]\n"
            "                   [--min-runs 10] [--min-secs 1] [--max-secs 60] [--profile-runs 7]\n"
            "                   [--peers none|ort] [--models-dir bench/peers/models]\n"
            "                   [--resnet50 FILE.h5] [--posenet FILE.pb] [--node PATH]\n"
            "Times our cpu backend (each ISA path) and ONNX Runtime on float ResNet50 and PoseNet\n"
            "0.50; set up once with `bash bench/peers/setup.sh --float`. See bench/README.md.\n");
}

/* Splits a comma list into out[] (pointers into a static copy). */
static int split_list(const char *arg, const char **out, int max) {
    static char bufs[4][512];
    static int next;
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof bufs[0], "%s", arg);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == max) return -1;
        out[n++] = tok;
    }
    return n;
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "bench_float: %s takes a number in [%g, %g], got '%s'\n", opt, lo, hi, v);
        return 1;
    }
    *out = x;
    return 0;
}

int main(int argc, char **argv) {
    const char *nets_l[MAX_LIST] = {"resnet50", "posenet050"}, *thr_l[MAX_LIST] = {"1", "2"};
    const char *isa_l[MAX_LIST] = {"best", "avx2"};
    int nnets = 2, nthr = 2, nisa = 2, peers = 1;
    run_cfg cfg = {10, 3, 1.0, 60.0, NULL};
    const char *models_dir = "bench/peers/models", *resnet = NULL, *posenet = NULL,
               *node = "node";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "bench_float: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--nets") == 0) {
            nnets = split_list(v, nets_l, MAX_LIST);
        } else if (strcmp(a, "--threads") == 0) {
            nthr = split_list(v, thr_l, MAX_LIST);
        } else if (strcmp(a, "--isa") == 0) {
            nisa = split_list(v, isa_l, MAX_LIST);
        } else if (strcmp(a, "--min-runs") == 0) {
            if (parse_num(a, v, 1, 1e6, &x)) return 2;
            cfg.min_runs = (int)x;
        } else if (strcmp(a, "--min-secs") == 0) {
            if (parse_num(a, v, 0, 3600, &cfg.min_secs)) return 2;
        } else if (strcmp(a, "--max-secs") == 0) {
            if (parse_num(a, v, 0, 36000, &cfg.max_secs)) return 2;
        } else if (strcmp(a, "--profile-runs") == 0) {
            if (parse_num(a, v, 0, 1000, &x)) return 2;
            cfg.profile_runs = (int)x;
        } else if (strcmp(a, "--peers") == 0) {
            if (strcmp(v, "none") != 0 && strcmp(v, "ort") != 0) {
                fprintf(stderr, "bench_float: --peers takes none or ort, got '%s'\n", v);
                return 2;
            }
            peers = strcmp(v, "ort") == 0;
        } else if (strcmp(a, "--models-dir") == 0) {
            models_dir = v;
        } else if (strcmp(a, "--resnet50") == 0) {
            resnet = v;
        } else if (strcmp(a, "--posenet") == 0) {
            posenet = v;
        } else if (strcmp(a, "--node") == 0) {
            node = v;
        } else {
            fprintf(stderr, "bench_float: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    int threads[MAX_LIST], net_idx[MAX_LIST];
    if (nnets <= 0 || nthr <= 0 || nisa <= 0) {
        fprintf(stderr, "bench_float: empty or too long list (at most %d values)\n", MAX_LIST);
        return 2;
    }
    for (int i = 0; i < nthr; i++) {
        double x;
        if (parse_num("--threads", thr_l[i], 1, 1024, &x)) return 2;
        threads[i] = (int)x;
    }
    for (int i = 0; i < nnets; i++) {
        net_idx[i] = -1;
        for (int k = 0; k < NUM_NETS; k++)
            if (strcmp(nets_l[i], k_nets[k].key) == 0) net_idx[i] = k;
        if (net_idx[i] < 0) {
            fprintf(stderr, "bench_float: --nets: unknown '%s' (resnet50, posenet050)\n", nets_l[i]);
            return 2;
        }
    }
    int have_cpu = 0;
    for (const char *const *b = ev_backend_names(); *b; b++) have_cpu |= strcmp(*b, "cpu") == 0;
    if (!have_cpu) {
        fprintf(stderr, "bench_float: this build has no cpu backend\n");
        return 1;
    }

    const char *shared = getenv("EDGEVISION_SHARED");
    if (!shared || !*shared) shared = "../shared";
    setenv("EDGEVISION_SHARED", shared, 1); /* the peer script reads the golden input there */
    cfg.shared = shared;
    char rbuf[4096], pbuf[4096], peers_buf[4096];
    if (!resnet) snprintf(rbuf, sizeof rbuf, "%s/resnet50.h5", models_dir), resnet = rbuf;
    if (!posenet)
        snprintf(pbuf, sizeof pbuf, "%s/models/posenet/posenet_mobilenet_v1_050_float.pb", shared),
            posenet = pbuf;
    const char *peers_dir = bench_find_peers_dir(peers_buf, sizeof peers_buf, "peer_ort_float.js");

    printf("# bench_float: edgevision %s, float32 networks, cpu backend vs ONNX Runtime\n",
           EV_VERSION_STRING);
    bench_print_environment();
    printf("# cpu isa path (best): %s; features: %s\n", ev_cpu_isa_name(), ev_cpu_features());
    g_peak = fma_peak_measure();
    printf("# fma limit per core (fma_peak.h, 12 chains of vfmadd231, best of 5): ss %.1f, ymm "
           "%.1f, zmm %.1f GFLOP/s\n", g_peak.ss, g_peak.ymm, g_peak.zmm);
    if (peers) {
        char probe[4400];
        snprintf(probe, sizeof probe, "%s/node_modules/onnxruntime-node/package.json",
                 peers_dir ? peers_dir : "bench/peers");
        if (!peers_dir || access(probe, R_OK) != 0) {
            printf("peer ort: not installed (run bash bench/peers/setup.sh --float)\n");
            peers = 0;
        }
    }
    if (peers) {
        char cmd[4200] = "", ver[128] = "";
        bench_sh_quote(cmd, sizeof cmd, node);
        strncat(cmd, " --version 2>/dev/null", sizeof cmd - strlen(cmd) - 1);
        FILE *p = popen(cmd, "r");
        if (p) {
            if (!fgets(ver, sizeof ver, p)) ver[0] = '\0';
            pclose(p);
        }
        ver[strcspn(ver, "\n")] = '\0';
        if (!ver[0]) {
            printf("peer ort: node ('%s') not found: skipped (install Node.js >= 18)\n", node);
            peers = 0;
        } else {
            printf("# node: %s; peers: %s\n", ver, peers_dir);
        }
    }
    printf("# models: resnet50 %s; posenet050 %s; onnx in %s\n", resnet, posenet, models_dir);
    printf("# timing: warm-up 1 (ours) / 3 (ort), then >= %d runs and >= %g s (ours stop after "
           "%g s once 3 runs are in); %d profiled runs per case for the groups\n",
           cfg.min_runs, cfg.min_secs, cfg.max_secs, cfg.profile_runs);
    fflush(stdout);

    for (int k = 0; k < nnets; k++) {
        int net = net_idx[k];
        const net_desc *d = &k_nets[net];
        const char *path = net == 0 ? resnet : posenet;
        printf("# %s: %s\n", d->key, d->what);
        ev_model *m = NULL;
        ev_status st = access(path, R_OK) == 0 ? ev_model_load_with_input(path, d->h, d->w, &m)
                                               : EV_ERR_IO;
        char onnx[4400];
        snprintf(onnx, sizeof onnx, "%s/%s", models_dir, d->onnx);
        int have_onnx = access(onnx, R_OK) == 0;
        for (int ti = 0; ti < nthr; ti++) {
            for (int ii = 0; ii < nisa; ii++) {
                const char *cap = strcmp(isa_l[ii], "best") == 0 ? NULL : isa_l[ii];
                if (st != EV_OK) {
                    result *r = new_result(net, threads[ti], "cpu", cap ? cap : "best", 0);
                    char msg[4400];
                    if (st == EV_ERR_IO)
                        snprintf(msg, sizeof msg, "%.4000s absent (bash bench/peers/setup.sh --float)",
                                 path);
                    else
                        snprintf(msg, sizeof msg, "%s: %s", ev_status_string(st), ev_last_error());
                    print_bad(r, st == EV_ERR_IO ? "skipped" : "error", msg);
                    continue;
                }
                bench_ours(net, m, cap, threads[ti], &cfg);
            }
            if (peers && have_onnx) {
                bench_peer(net, onnx, threads[ti], &cfg, node, peers_dir);
            } else if (peers) {
                result *r = new_result(net, threads[ti], "ort", "best", 1);
                print_bad(r, "skipped", "ONNX model absent (bash bench/peers/setup.sh --float)");
            }
        }
        ev_model_free(m);
    }
    print_tables();
    return 0;
}
