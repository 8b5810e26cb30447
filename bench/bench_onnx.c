/*
 * bench_onnx.c - benchmark (not a test): the same ONNX file on our cpu backend (through the
 * ONNX reader) and on ONNX Runtime, in one run, at the same thread count:
 *
 *   resnet50     bench/peers/models/resnet50_tv.onnx      torchvision ResNet50, float32 NCHW
 *   mobilenetv2  bench/peers/models/mobilenetv2_tv.onnx   torchvision MobileNetV2, float32 NCHW
 *   posenet481   $EDGEVISION_SHARED/models/posenet/onnx/posenet_mobilenet_v1_075_481_641_quant_s8w.onnx
 *                                                         PoseNet MobileNetV1 0.75, QLinearConv,
 *                                                         uint8 NHWC 481x641
 * (the torchvision files: `bash bench/peers/setup.sh --float`, export_float.sh).
 *
 * Ours: ev_model_load of the file, session on the cpu backend with `threads`; timed:
 * ev_session_run (input set once). ORT: node bench/peers/peer_ort_float.js (float models) or
 * peer_ort.js (the uint8 PoseNet), intra-op threads = threads, inter-op 1, optimization 'all',
 * sequential; timed: session.run(). Both sides: warm-up, then at least --min-runs runs and
 * --min-secs seconds, median. The inputs hold the same values on both sides: xorshift32 bytes
 * (seed 12345) on the NHWC shape, as uint8 (PoseNet) or x / 127.5 - 1 in NCHW order (float).
 * --rounds N alternates ours / ORT N times per case; each side's figure is the lowest of its
 * round medians (the machine may be shared: the alternation and the minimum keep a burst of
 * other work from landing on one side only), and every round's median is printed.
 *
 * Output: '#' header lines, one parsable line per round and side:
 *   round net=resnet50 threads=2 round=1 runtime=cpu median_ms=.. min_ms=.. runs=.. ref_ops=2/79
 *   round net=resnet50 threads=2 round=1 runtime=ort median_ms=.. min_ms=.. runs=.. version=1.30.0
 * (status=error msg="..." when a side cannot run), then a table: net, threads, ours ms, ORT ms,
 * speedup = ORT ms / ours ms (> 1: ours is faster), and the ops our cpu backend ran on reference
 * kernels.
 *
 * Usage: bench_onnx [--nets resnet50,mobilenetv2,posenet481] [--threads 2] [--rounds 2]
 *                   [--min-runs 10] [--min-secs 1] [--models-dir bench/peers/models] [--node PATH]
 * Extend: another network is a k_nets line (its file and which peer script takes it).
 */
#include "bench_common.h"
#include "edgevision.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LIST 8

typedef struct net_desc {
    const char *key, *what;
    const char *file; /* under --models-dir, or under $EDGEVISION_SHARED when shared */
    int shared;
    const char *peer; /* peer script */
} net_desc;

static const net_desc k_nets[] = {
    {"resnet50", "torchvision ResNet50 float32 1x3x224x224", "resnet50_tv.onnx", 0,
     "peer_ort_float.js"},
    {"mobilenetv2", "torchvision MobileNetV2 float32 1x3x224x224", "mobilenetv2_tv.onnx", 0,
     "peer_ort_float.js"},
    {"posenet481", "PoseNet MobileNetV1-0.75 s8w uint8 1x481x641x3",
     "models/posenet/onnx/posenet_mobilenet_v1_075_481_641_quant_s8w.onnx", 1, "peer_ort.js"},
};
#define NUM_NETS ((int)(sizeof k_nets / sizeof k_nets[0]))

typedef struct side {
    int ok;
    double best_median, best_min;
    char msg[512];
} side;

/* xorshift32 bytes, seed 12345 (peers/common.js inputBytes off the golden size). */
static void fill_bytes(uint8_t *d, size_t n) {
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        d[i] = (uint8_t)x;
    }
}

/* Our input: uint8 as the bytes (NHWC), float32 NCHW [1, C, H, W] from the NHWC bytes. */
static ev_status fill_input(const ev_tensor_info *ii, void **out) {
    *out = NULL;
    if (ii->ndim != 4) return EV_ERR_SHAPE;
    if (ii->dtype == EV_DTYPE_U8) {
        uint8_t *d = malloc(ii->bytes);
        if (!d) return EV_ERR_NO_MEMORY;
        fill_bytes(d, ii->bytes);
        *out = d;
        return EV_OK;
    }
    if (ii->dtype != EV_DTYPE_F32) return EV_ERR_UNSUPPORTED;
    int n = ii->dims[0], ch = ii->dims[1], h = ii->dims[2], w = ii->dims[3];
    size_t total = (size_t)n * ch * h * w;
    uint8_t *b = malloc(total);
    float *d = malloc(total * sizeof(float));
    if (!b || !d) {
        free(b), free(d);
        return EV_ERR_NO_MEMORY;
    }
    fill_bytes(b, total);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < ch; k++)
                d[((size_t)k * h + y) * w + x] = (float)b[((size_t)y * w + x) * ch + k] / 127.5f - 1.0f;
    free(b);
    *out = d;
    return EV_OK;
}

typedef struct cfg {
    int min_runs;
    double min_secs;
    const char *node, *peers_dir;
} cfg;

static void print_err(const char *net, int threads, int round, const char *rt, const char *msg,
                      side *s) {
    printf("round net=%s threads=%d round=%d runtime=%s status=error msg=\"%s\"\n", net, threads,
           round, rt, msg);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    fflush(stdout);
}

static void run_ours(const net_desc *nd, const ev_model *m, int threads, int round,
                     const cfg *c, side *sd) {
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cpu";
    o.threads = threads;
    ev_session *s = NULL;
    void *in = NULL;
    double *t = NULL;
    ev_tensor_info ii;
    ev_status st = ev_session_create(m, &o, &s);
    if (st == EV_OK) st = ev_model_input_info(m, 0, &ii);
    if (st == EV_OK) st = fill_input(&ii, &in);
    if (st == EV_OK) st = ev_session_set_input(s, 0, in, ii.bytes);
    int nops = ev_model_num_ops(m), ref_ops = 0;
    for (int i = 0; st == EV_OK && i < nops; i++) {
        int ref = 0;
        ev_session_kernel_name(s, i, &ref);
        ref_ops += ref;
    }
    for (int w = 0; st == EV_OK && w < 2; w++) st = ev_session_run(s); /* warm-up */
    size_t n = 0;
    double total = 0;
    if (st == EV_OK) st = bench_time_runs(s, c->min_runs, c->min_secs, 0, &t, &n, &total);
    if (st != EV_OK) {
        char msg[480];
        snprintf(msg, sizeof msg, "%s: %s", ev_status_string(st), ev_last_error());
        print_err(nd->key, threads, round, "cpu", msg, sd);
    } else {
        double med = bench_median(t, n); /* sorts t */
        printf("round net=%s threads=%d round=%d runtime=cpu median_ms=%.3f min_ms=%.3f runs=%zu "
               "ref_ops=%d/%d\n", nd->key, threads, round, med, t[0], n, ref_ops, nops);
        fflush(stdout);
        if (!sd->ok || med < sd->best_median) sd->best_median = med;
        if (!sd->ok || t[0] < sd->best_min) sd->best_min = t[0];
        sd->ok = 1;
    }
    free(t);
    free(in);
    ev_session_free(s);
}

static void run_peer(const net_desc *nd, const char *path, int threads, int round, const cfg *c,
                     side *sd) {
    if (!c->peers_dir) {
        print_err(nd->key, threads, round, "ort", "peer scripts not found (bench/peers)", sd);
        return;
    }
    char cmd[9000] = "", script[4400], tail[128];
    snprintf(script, sizeof script, "%s/%s", c->peers_dir, nd->peer);
    bench_sh_quote(cmd, sizeof cmd, c->node);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, script);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, path);
    snprintf(tail, sizeof tail, " %d %d 3 %g 2>/dev/null", threads, c->min_runs, c->min_secs);
    strncat(cmd, tail, sizeof cmd - strlen(cmd) - 1);
    fflush(stdout);
    cJSON *j;
    int rc = bench_run_json(cmd, &j);
    if (rc == -1 && !j) {
        print_err(nd->key, threads, round, "ort", "popen failed", sd);
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *med = cJSON_GetObjectItemCaseSensitive(j, "median_ms");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(j, "min_ms");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    if (cJSON_IsString(err)) {
        print_err(nd->key, threads, round, "ort", err->valuestring, sd);
    } else if (!cJSON_IsNumber(med) || !cJSON_IsNumber(mn) || !cJSON_IsNumber(runs)) {
        char msg[200];
        snprintf(msg, sizeof msg, "no result line from %s (exit status %d; is onnxruntime-node "
                 "installed? bash bench/peers/setup.sh)", nd->peer, rc);
        print_err(nd->key, threads, round, "ort", msg, sd);
    } else {
        printf("round net=%s threads=%d round=%d runtime=ort median_ms=%.3f min_ms=%.3f runs=%d "
               "version=%s\n", nd->key, threads, round, med->valuedouble, mn->valuedouble,
               (int)runs->valuedouble, cJSON_IsString(ver) ? ver->valuestring : "?");
        fflush(stdout);
        if (!sd->ok || med->valuedouble < sd->best_median) sd->best_median = med->valuedouble;
        if (!sd->ok || mn->valuedouble < sd->best_min) sd->best_min = mn->valuedouble;
        sd->ok = 1;
    }
    cJSON_Delete(j);
}

static int split_list(char *s, char **items, int max) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) items[n++] = tok;
    return n;
}

static void usage(void) {
    fprintf(stderr, "usage: bench_onnx [--nets resnet50,mobilenetv2,posenet481] [--threads 2] "
                    "[--rounds 2] [--min-runs 10] [--min-secs 1] [--models-dir DIR] "
                    "[--node PATH]\n");
}

int main(int argc, char **argv) {
    char nets_s[256] = "resnet50,mobilenetv2,posenet481", thr_s[64] = "2";
    const char *models_dir = "bench/peers/models";
    int rounds = 2;
    cfg c = {10, 1.0, "node", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return 0;
        }
        if (!v) {
            usage();
            return 2;
        }
        if (strcmp(a, "--nets") == 0) snprintf(nets_s, sizeof nets_s, "%s", v);
        else if (strcmp(a, "--threads") == 0) snprintf(thr_s, sizeof thr_s, "%s", v);
        else if (strcmp(a, "--rounds") == 0) rounds = atoi(v);
        else if (strcmp(a, "--min-runs") == 0) c.min_runs = atoi(v);
        else if (strcmp(a, "--min-secs") == 0) c.min_secs = atof(v);
        else if (strcmp(a, "--models-dir") == 0) models_dir = v;
        else if (strcmp(a, "--node") == 0) c.node = v;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (rounds < 1 || c.min_runs < 1 || c.min_secs < 0) {
        usage();
        return 2;
    }
    char *nets[MAX_LIST], *thr[MAX_LIST];
    int nn = split_list(nets_s, nets, MAX_LIST), nt = split_list(thr_s, thr, MAX_LIST);
    char peers[4096];
    c.peers_dir = bench_find_peers_dir(peers, sizeof peers, "peer_ort_float.js");
    const char *shared = getenv("EDGEVISION_SHARED");
    if (!shared || !*shared) shared = "../shared";
    bench_print_environment();
    printf("# bench_onnx: the same ONNX file on our cpu backend and on ONNX Runtime; %d round(s) "
           "per case, at least %d runs and %g s per side and round\n", rounds, c.min_runs,
           c.min_secs);
    typedef struct row {
        int net, threads, ref_ops, nops;
        side ours, ort;
    } row;
    row rows[MAX_LIST * MAX_LIST];
    int nrows = 0;
    for (int ni = 0; ni < nn; ni++) {
        int net = -1;
        for (int k = 0; k < NUM_NETS; k++)
            if (strcmp(nets[ni], k_nets[k].key) == 0) net = k;
        if (net < 0) {
            fprintf(stderr, "bench_onnx: unknown net '%s'\n", nets[ni]);
            return 2;
        }
        const net_desc *nd = &k_nets[net];
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", nd->shared ? shared : models_dir, nd->file);
        printf("# %s: %s (%s)\n", nd->key, nd->what, path);
        ev_model *m = NULL;
        ev_status st = access(path, R_OK) == 0 ? ev_model_load(path, &m) : EV_ERR_IO;
        for (int ti = 0; ti < nt; ti++) {
            row *r = &rows[nrows++];
            memset(r, 0, sizeof *r);
            r->net = net;
            r->threads = atoi(thr[ti]) > 0 ? atoi(thr[ti]) : 1;
            if (st != EV_OK) {
                char msg[480];
                snprintf(msg, sizeof msg, "%s", access(path, R_OK) ? "model file absent (bash "
                         "bench/peers/setup.sh --float, or EDGEVISION_SHARED)" : ev_last_error());
                print_err(nd->key, r->threads, 0, "cpu", msg, &r->ours);
                print_err(nd->key, r->threads, 0, "ort", msg, &r->ort);
                continue;
            }
            r->nops = ev_model_num_ops(m);
            for (int k = 1; k <= rounds; k++) {
                run_ours(nd, m, r->threads, k, &c, &r->ours);
                run_peer(nd, path, r->threads, k, &c, &r->ort);
            }
            /* the reference-kernel count of one session */
            ev_session_options o;
            ev_session_options_init(&o);
            o.backend = "cpu";
            o.threads = r->threads;
            ev_session *s = NULL;
            if (ev_session_create(m, &o, &s) == EV_OK)
                for (int i = 0; i < r->nops; i++) {
                    int ref = 0;
                    ev_session_kernel_name(s, i, &ref);
                    r->ref_ops += ref;
                }
            ev_session_free(s);
        }
        ev_model_free(m);
    }
    printf("\n%-12s %7s %12s %12s %10s  %s\n", "net", "threads", "ours ms", "ORT ms",
           "speedup", "our ops on reference kernels");
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        char a[32] = "error", b[32] = "error", sp[32] = "-";
        if (r->ours.ok) snprintf(a, sizeof a, "%.2f", r->ours.best_median);
        if (r->ort.ok) snprintf(b, sizeof b, "%.2f", r->ort.best_median);
        if (r->ours.ok && r->ort.ok)
            snprintf(sp, sizeof sp, "%.2fx", r->ort.best_median / r->ours.best_median);
        printf("%-12s %7d %12s %12s %10s  %d of %d\n", k_nets[r->net].key, r->threads, a, b, sp,
               r->ref_ops, r->nops);
    }
    printf("(ms: the lowest round median; speedup = ORT ms / ours ms, > 1: ours is faster)\n");
    return 0;
}
