/*
 * bench_tflite.c - benchmark (not a test): our cpu backend against TensorFlow Lite 2.9 (npm
 * tfjs-tflite-node, bench/peers/peer_tflite_any.js) on the SAME .tflite file, for any model, in
 * one run: MoveNet Lightning, the MobileNet classifiers and embedding extractor, the PoseNet
 * backbones (and a PoseNet with the Coral PosenetDecoderOp, which TFLite cannot run: its row says
 * so).
 *
 * Ours: the public API only (ev_model_load, ev_session_create with backend "cpu" on the ISA path
 * the CPU has, ev_cpu_isa_name; session threads), every input filled once with the values of
 * `edgevision bench --input random --seed SEED` (src/bench/runner.c prepare_inputs: one
 * xoshiro256** stream, inputs in order; uint8/int8 the top byte of each draw, float32 uniform
 * [-1, 1), other types 0). Only ev_session_run is timed. The peer fills its inputs the same way
 * from the model's own input spec and reports an FNV-1a hash of them; a hash that differs from
 * ours is printed as input=DIFFERENT (the speed is still reported).
 * Timing, both sides: warm-up 3 runs, then at least --min-runs runs and --min-secs seconds;
 * the median is reported. --repeat N measures every case N times (ours, then TFLite, in turn):
 * the table shows the median of the N medians and their spread ((max - min) / median).
 *
 * Output: '#' header lines (date, CPU, ISA flags, compiler, ISA path, Node.js), one parsable line
 * per case and repeat:
 *   result model=movenet_single_pose_lightning_ptq threads=1 rep=1 runtime=cpu kind=ours isa=vnni
 *          runs=.. median_ms=.. min_ms=.. mean_ms=.. input=random_seed_1
 *   result model=... runtime=tflite kind=peer version=2.9 runs=.. median_ms=.. input=same
 *   result model=... runtime=tflite kind=peer status=error msg="..."
 * then a table: model, threads, ours ms, TFLite ms, speedup = TFLite ms / ours ms (> 1: ours
 * is faster), and the spreads.
 *
 * Usage: bench_tflite [--models NAME|FILE,...] [--threads 1,2] [--min-runs 30] [--min-secs 1]
 *                     [--repeat 1] [--seed 1] [--peers none|tflite] [--node PATH]
 * A NAME is a k_models short name (movenet, mnv1_050_160, ...); anything with a '/' or ending in
 * .tflite is a file. Run it under `chrt -f 5` (SCHED_FIFO; the node children inherit it) on a
 * shared machine.
 * Extend: another default model is a k_models line; another peer is a script printing the same
 * JSON line and a second bench_peer call.
 */
#include "bench_common.h"
#include "edgevision.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct model_desc {
    const char *name, *file; /* file: under $EDGEVISION_SHARED/models/ */
} model_desc;

static const model_desc k_models[] = {
    {"movenet", "movenet/movenet_single_pose_lightning_ptq.tflite"},
    {"mnv1_050_160", "mobilenet/mobilenet_v1_0.5_160_quant.tflite"},
    {"mnv2_100_224", "mobilenet/mobilenet_v2_1.0_224_quant.tflite"},
    {"mnv1_extractor", "mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"},
    {"mnv1_head", "mobilenet/mobilenet_quant_v1_224_head_layers.tflite"},
    {"posenet_353_481", "posenet/posenet_mobilenet_v1_075_353_481_quant.tflite"},
    {"posenet_481_641", "posenet/posenet_mobilenet_v1_075_481_641_quant.tflite"},
    {"posenet_721_1281", "posenet/posenet_mobilenet_v1_075_721_1281_quant.tflite"},
    {"posenet_353_481_decoder", "posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"},
};
#define NUM_DEFAULT (sizeof k_models / sizeof k_models[0])
#define MAX_MODELS 32
#define MAX_THREADS 8
#define MAX_REPEAT 16

typedef struct cell {
    double med[MAX_REPEAT];
    int n;
    char err[256];
} cell;

typedef struct model_run {
    char name[128], path[4096];
    cell ours[MAX_THREADS], peer[MAX_THREADS];
} model_run;

static model_run g_runs[MAX_MODELS];

/* --- the random input: src/util/rng.h's xoshiro256** through splitmix64 ------------------ */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

static size_t dtype_size(ev_dtype t) {
    switch (t) {
    case EV_DTYPE_F32: return 4;
    case EV_DTYPE_U8:
    case EV_DTYPE_I8: return 1;
    default: return 0;
    }
}

/* Fills `buf` (one input) as prepare_inputs does; updates the FNV-1a hash *h. */
static void fill_input(void *buf, const ev_tensor_info *t, rng *r, uint32_t *h) {
    size_t es = dtype_size(t->dtype);
    size_t n = es ? t->bytes / es : 0;
    if (t->dtype == EV_DTYPE_F32) {
        float *f = buf;
        for (size_t k = 0; k < n; k++) f[k] = (float)(rng_next(r) >> 40) * 0x1p-24f * 2.0f - 1.0f;
    } else if (t->dtype == EV_DTYPE_U8 || t->dtype == EV_DTYPE_I8) {
        uint8_t *b = buf;
        for (size_t k = 0; k < n; k++) b[k] = (uint8_t)(rng_next(r) >> 56);
    } else {
        memset(buf, 0, t->bytes);
    }
    const uint8_t *b = buf;
    for (size_t k = 0; k < t->bytes; k++) *h = (*h ^ b[k]) * 16777619u;
}

/* --- ours ----------------------------------------------------------------------------------- */

/* Times ev_session_run; returns the median (ms) or -1 with err filled. *fnv: the input hash. */
static double bench_ours(const char *path, int threads, int min_runs, double min_secs,
                         uint64_t seed, uint32_t *fnv, double *min_ms, double *mean_ms,
                         int *runs, char *err, size_t errcap) {
    ev_model *m = NULL;
    ev_session *s = NULL;
    void **bufs = NULL;
    double *t = NULL, med = -1;
    int nin = 0;
    if (ev_model_load(path, &m) != EV_OK) goto fail;
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cpu";
    o.threads = threads;
    if (ev_session_create(m, &o, &s) != EV_OK) goto fail;
    nin = ev_model_num_inputs(m);
    bufs = calloc((size_t)nin + 1, sizeof *bufs);
    if (!bufs) goto fail;
    rng r;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&x);
    *fnv = 2166136261u;
    for (int i = 0; i < nin; i++) {
        ev_tensor_info ti;
        if (ev_model_input_info(m, i, &ti) != EV_OK) goto fail;
        bufs[i] = calloc(ti.bytes + 1, 1);
        if (!bufs[i]) goto fail;
        fill_input(bufs[i], &ti, &r, fnv);
        if (ev_session_set_input(s, i, bufs[i], ti.bytes) != EV_OK) goto fail;
    }
    for (int i = 0; i < 3; i++)
        if (ev_session_run(s) != EV_OK) goto fail;
    size_t cap = 1024, n = 0;
    t = malloc(cap * sizeof *t);
    if (!t) goto fail;
    double total = 0;
    while ((int)n < min_runs || total < min_secs * 1e3) {
        double a = bench_now_ms();
        if (ev_session_run(s) != EV_OK) goto fail;
        double d = bench_now_ms() - a;
        if (n == cap) {
            double *nt = realloc(t, (cap *= 2) * sizeof *t);
            if (!nt) goto fail;
            t = nt;
        }
        t[n++] = d;
        total += d;
    }
    *mean_ms = total / (double)n;
    *runs = (int)n;
    med = bench_median(t, n);
    *min_ms = t[0];
    goto done;
fail:
    snprintf(err, errcap, "%s", ev_last_error());
    med = -1;
done:
    free(t);
    if (bufs)
        for (int i = 0; i < nin; i++) free(bufs[i]);
    free(bufs);
    ev_session_free(s);
    ev_model_free(m);
    return med;
}

/* --- the peer ------------------------------------------------------------------------------- */

static void print_error(const char *model, int threads, int rep, const char *runtime,
                        const char *kind, const char *msg) {
    printf("result model=%s threads=%d rep=%d runtime=%s kind=%s status=error msg=\"", model,
           threads, rep, runtime, kind);
    for (const char *c = msg; *c; c++) putchar(*c == '"' ? '\'' : *c == '\n' ? ' ' : *c);
    printf("\"\n");
    fflush(stdout);
}

/* Runs peer_tflite_any.js once; returns the median (ms) or -1 with err filled. */
static double bench_peer(const char *model_name, const char *path, int threads, int rep,
                         int min_runs, double min_secs, uint64_t seed, uint32_t our_fnv,
                         int have_ours, const char *node, const char *peers_dir, char *err,
                         size_t errcap) {
    char cmd[16384] = "", script[4200], tail[160];
    snprintf(script, sizeof script, "%s/peer_tflite_any.js", peers_dir);
    bench_sh_quote(cmd, sizeof cmd, node);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, script);
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    bench_sh_quote(cmd, sizeof cmd, path);
    snprintf(tail, sizeof tail, " %d %d 3 %g %llu 2>/dev/null", threads, min_runs, min_secs,
             (unsigned long long)seed);
    strncat(cmd, tail, sizeof cmd - strlen(cmd) - 1);
    fflush(stdout);
    cJSON *j;
    int rc = bench_run_json(cmd, &j);
    if (rc == -1 && !j) {
        snprintf(err, errcap, "popen failed");
        return -1;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *med = cJSON_GetObjectItemCaseSensitive(j, "median_ms");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(j, "min_ms");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(j, "mean_ms");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
    const cJSON *fnv = cJSON_GetObjectItemCaseSensitive(j, "input_fnv");
    double r = -1;
    if (cJSON_IsString(e)) {
        snprintf(err, errcap, "%s", e->valuestring);
    } else if (!cJSON_IsNumber(med) || !cJSON_IsNumber(mn) || !cJSON_IsNumber(mean) ||
               !cJSON_IsNumber(runs)) {
        snprintf(err, errcap, "no result line from peer_tflite_any.js (exit status %d; is node "
                 "installed, and bench/peers/setup.sh run?)", rc);
    } else {
        const char *same = !have_ours           ? "unchecked"
                           : !cJSON_IsNumber(fnv) ? "unknown"
                           : (uint32_t)fnv->valuedouble == our_fnv ? "same"
                                                                   : "DIFFERENT";
        printf("result model=%s threads=%d rep=%d runtime=tflite kind=peer version=2.9 runs=%d "
               "median_ms=%.3f min_ms=%.3f mean_ms=%.3f input=%s\n",
               model_name, threads, rep, runs->valueint, med->valuedouble, mn->valuedouble,
               mean->valuedouble, same);
        fflush(stdout);
        r = med->valuedouble;
    }
    cJSON_Delete(j);
    return r;
}

/* --- table ---------------------------------------------------------------------------------- */

/* Median of the repeats and their spread in percent ((max - min) / median). */
static double cell_median(const cell *c, double *spread) {
    double v[MAX_REPEAT];
    memcpy(v, c->med, (size_t)c->n * sizeof *v);
    double m = bench_median(v, (size_t)c->n);
    *spread = m > 0 ? 100.0 * (v[c->n - 1] - v[0]) / m : 0;
    return m;
}

static void print_table(int nmodels, const int *threads, int nthreads, int repeat) {
    printf("\n| model | threads | ours ms | TFLite ms | speedup |%s\n",
           repeat > 1 ? " ours spread | TFLite spread |" : "");
    printf("|---|---:|---:|---:|---:|%s\n", repeat > 1 ? "---:|---:|" : "");
    for (int mi = 0; mi < nmodels; mi++) {
        for (int ti = 0; ti < nthreads; ti++) {
            const cell *o = &g_runs[mi].ours[ti], *p = &g_runs[mi].peer[ti];
            double so = 0, sp = 0, mo = o->n ? cell_median(o, &so) : -1,
                   mp = p->n ? cell_median(p, &sp) : -1;
            char a[64], b[300], c[32], d[32] = "", e[32] = "";
            if (o->n) snprintf(a, sizeof a, "%.3f", mo);
            else snprintf(a, sizeof a, "error");
            if (p->n) snprintf(b, sizeof b, "%.3f", mp);
            else if (strstr(p->err, "custom op")) snprintf(b, sizeof b, "cannot run (custom op)");
            else snprintf(b, sizeof b, "%s", p->err[0] ? "error" : "-");
            if (o->n && p->n) snprintf(c, sizeof c, "%.2f", mp / mo);
            else snprintf(c, sizeof c, "-");
            if (repeat > 1) {
                snprintf(d, sizeof d, " %.0f%% |", so);
                if (p->n) snprintf(e, sizeof e, " %.0f%% |", sp);
                else snprintf(e, sizeof e, " - |");
            }
            printf("| %s | %d | %s | %s | %s |%s%s\n", g_runs[mi].name, threads[ti], a, b, c, d,
                   e);
        }
    }
    printf("\nspeedup = TFLite median ms / ours median ms (> 1: ours is faster)%s\n",
           repeat > 1 ? "; medians of the repeats, spread = (max - min) / median of them" : "");
}

/* --- main ----------------------------------------------------------------------------------- */

static int parse_ints(const char *arg, int *out, int *n, int max) {
    *n = 0;
    for (const char *p = arg; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 256 || *n == max) return -1;
        out[(*n)++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return *n ? 0 : -1;
}

static void usage(FILE *f, const char *argv0) {
    fprintf(f,
            "usage: %s [--models NAME|FILE,...] [--threads 1,2] [--min-runs 30] [--min-secs 1]\n"
            "          [--repeat 1] [--seed 1] [--peers none|tflite] [--node PATH]\n"
            "models (default: all):",
            argv0);
    for (size_t i = 0; i < NUM_DEFAULT; i++) fprintf(f, " %s", k_models[i].name);
    fprintf(f, "\n");
}

int main(int argc, char **argv) {
    const char *shared = getenv("EDGEVISION_SHARED");
    if (!shared || !*shared) shared = "../shared";
    const char *models_arg = NULL, *node = "node";
    int threads[MAX_THREADS] = {1, 2}, nthreads = 2, min_runs = 30, repeat = 1, peers = 1;
    double min_secs = 1;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout, argv[0]);
            return 0;
        }
        if (!v) {
            usage(stderr, argv[0]);
            return 2;
        }
        i++;
        if (strcmp(a, "--models") == 0) models_arg = v;
        else if (strcmp(a, "--threads") == 0) {
            if (parse_ints(v, threads, &nthreads, MAX_THREADS)) {
                fprintf(stderr, "bad --threads '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--min-runs") == 0) min_runs = atoi(v) > 0 ? atoi(v) : 1;
        else if (strcmp(a, "--min-secs") == 0) min_secs = atof(v) > 0 ? atof(v) : 0;
        else if (strcmp(a, "--repeat") == 0) {
            repeat = atoi(v);
            if (repeat < 1 || repeat > MAX_REPEAT) {
                fprintf(stderr, "--repeat takes 1..%d\n", MAX_REPEAT);
                return 2;
            }
        } else if (strcmp(a, "--seed") == 0) seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--peers") == 0) peers = strcmp(v, "none") != 0;
        else if (strcmp(a, "--node") == 0) node = v;
        else {
            usage(stderr, argv[0]);
            return 2;
        }
    }

    int nmodels = 0;
    if (!models_arg) {
        for (size_t i = 0; i < NUM_DEFAULT; i++, nmodels++) {
            snprintf(g_runs[nmodels].name, sizeof g_runs[nmodels].name, "%s", k_models[i].name);
            snprintf(g_runs[nmodels].path, sizeof g_runs[nmodels].path, "%s/models/%s", shared,
                     k_models[i].file);
        }
    } else {
        char buf[8192];
        snprintf(buf, sizeof buf, "%s", models_arg);
        for (char *tok = strtok(buf, ","); tok && nmodels < MAX_MODELS; tok = strtok(NULL, ",")) {
            model_run *r = &g_runs[nmodels];
            size_t k = 0;
            for (; k < NUM_DEFAULT; k++)
                if (strcmp(k_models[k].name, tok) == 0) break;
            if (k < NUM_DEFAULT) {
                snprintf(r->name, sizeof r->name, "%s", tok);
                snprintf(r->path, sizeof r->path, "%s/models/%s", shared, k_models[k].file);
            } else if (strchr(tok, '/') || strstr(tok, ".tflite")) {
                ev_results_model_name(tok, r->name, sizeof r->name);
                snprintf(r->path, sizeof r->path, "%s", tok);
            } else {
                fprintf(stderr, "unknown model '%s'\n", tok);
                usage(stderr, argv[0]);
                return 2;
            }
            nmodels++;
        }
    }

    char pbuf[4096];
    const char *peers_dir = peers ? bench_find_peers_dir(pbuf, sizeof pbuf, "peer_tflite_any.js")
                                  : NULL;
    printf("# bench_tflite: ours (cpu backend) vs TensorFlow Lite 2.9 (npm tfjs-tflite-node) on "
           "the same .tflite\n");
    bench_print_environment();
    printf("# ours: cpu backend, ISA path %s (%s); input: random, seed %llu (both sides)\n",
           ev_cpu_isa_name(), ev_cpu_features(), (unsigned long long)seed);
    printf("# runs: warm-up 3, then >= %d runs and >= %g s per case; %d repeat(s)\n", min_runs,
           min_secs, repeat);
    if (peers && peers_dir) {
        char cmd[4200] = "";
        bench_sh_quote(cmd, sizeof cmd, node);
        strncat(cmd, " --version 2>/dev/null", sizeof cmd - strlen(cmd) - 1);
        char ver[64] = "not found";
        FILE *p = popen(cmd, "r");
        if (p) {
            if (!fgets(ver, sizeof ver, p)) snprintf(ver, sizeof ver, "not found");
            ver[strcspn(ver, "\n")] = '\0';
            pclose(p);
        }
        printf("# node: %s; peers: %s\n", ver, peers_dir);
    } else if (peers) {
        printf("# peer tflite: peer_tflite_any.js not found (set EV_BENCH_PEERS)\n");
        peers = 0;
    }
    fflush(stdout);

    for (int rep = 1; rep <= repeat; rep++) {
        for (int mi = 0; mi < nmodels; mi++) {
            model_run *r = &g_runs[mi];
            for (int ti = 0; ti < nthreads; ti++) {
                char err[1024] = "";
                uint32_t fnv = 0;
                double mn = 0, mean = 0;
                int runs = 0;
                double med = bench_ours(r->path, threads[ti], min_runs, min_secs, seed, &fnv, &mn,
                                        &mean, &runs, err, sizeof err);
                if (med >= 0) {
                    r->ours[ti].med[r->ours[ti].n++] = med;
                    printf("result model=%s threads=%d rep=%d runtime=cpu kind=ours isa=%s runs=%d "
                           "median_ms=%.3f min_ms=%.3f mean_ms=%.3f input=random_seed_%llu\n",
                           r->name, threads[ti], rep, ev_cpu_isa_name(), runs, med, mn, mean,
                           (unsigned long long)seed);
                    fflush(stdout);
                } else {
                    snprintf(r->ours[ti].err, sizeof r->ours[ti].err, "%.255s", err); /* cut to fit */
                    print_error(r->name, threads[ti], rep, "cpu", "ours", err);
                }
                if (!peers) continue;
                err[0] = '\0';
                med = bench_peer(r->name, r->path, threads[ti], rep, min_runs, min_secs, seed, fnv,
                                 med >= 0, node, peers_dir, err, sizeof err);
                if (med >= 0) {
                    r->peer[ti].med[r->peer[ti].n++] = med;
                } else {
                    snprintf(r->peer[ti].err, sizeof r->peer[ti].err, "%.255s", err); /* cut to fit */
                    print_error(r->name, threads[ti], rep, "tflite", "peer", err);
                }
            }
        }
    }
    print_table(nmodels, threads, nthreads, repeat);
    return 0;
}
