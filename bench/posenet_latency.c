/*
 * posenet_latency.c - benchmark (not a test): single-image inference time of a PoseNet model on
 * one backend. Feeds the golden resized input (or zeros when absent), warms up, then times
 * ev_session_run over N runs and prints one parsable line:
 *   model=... backend=... threads=... runs=N median_ms=... min_ms=... mean_ms=... fps=...
 * Usage: posenet_latency MODEL.tflite [backend] [runs] [threads] [HxW]
 * HxW: the input size of a graph whose size is free (PoseNet's float .pb: 353x481), loaded with
 * ev_model_load_with_input; a float input gets zeros (the golden bytes are uint8 353x481x3).
 * With EV_PROFILE=1 it also prints the median time of every op (from the per-op callback).
 */
#include "edgevision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define MAX_OPS 256
typedef struct op_prof {
    double last;
    double *t; /* [runs][MAX_OPS] */
    const char *names[MAX_OPS];
    int run, nops;
} op_prof;

static int on_op(void *user, int op, const char *name, const ev_tensor_info *info,
                 const void *data) {
    (void)info, (void)data;
    op_prof *p = user;
    double now = now_ms();
    if (op < MAX_OPS && p->t) {
        p->t[(size_t)p->run * MAX_OPS + op] = now - p->last;
        p->names[op] = name;
        if (op + 1 > p->nops) p->nops = op + 1;
    }
    p->last = now;
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.tflite [backend] [runs] [threads] [HxW]\n", argv[0]);
        return 2;
    }
    ev_session_options o;
    ev_session_options_init(&o);
    if (argc > 2) o.backend = argv[2];
    int runs = argc > 3 ? atoi(argv[3]) : 10;
    if (runs < 1) runs = 1;
    if (argc > 4) o.threads = atoi(argv[4]);
    if (o.threads < 1) o.threads = 1;
    const char *prof = getenv("EV_PROFILE");
    int profile = prof && *prof == '1';
    ev_model *m = NULL;
    ev_session *s = NULL;
    int in_h = 0, in_w = 0;
    if (argc > 5 && sscanf(argv[5], "%dx%d", &in_h, &in_w) != 2) {
        fprintf(stderr, "error: input size '%s' is not HxW\n", argv[5]);
        return 2;
    }
    ev_status st = in_h > 0 && in_w > 0 ? ev_model_load_with_input(argv[1], in_h, in_w, &m)
                                        : ev_model_load(argv[1], &m);
    if (st == EV_OK) st = ev_session_create(m, &o, &s);
    if (st != EV_OK) {
        fprintf(stderr, "error: %s: %s\n", ev_status_string(st), ev_last_error());
        ev_model_free(m);
        return 1;
    }
    ev_tensor_info ii;
    ev_model_input_info(m, 0, &ii);
    unsigned char *in = calloc(1, ii.bytes);
    const char *sh = getenv("EDGEVISION_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/golden/posenet_353_481/input_353_481_rgb_u8.raw",
             sh && *sh ? sh : "../shared");
    FILE *f = fopen(path, "rb");
    if (f && ii.bytes == 353 * 481 * 3 && fread(in, 1, ii.bytes, f) != ii.bytes)
        memset(in, 0, ii.bytes);
    if (f) fclose(f);
    double *t = calloc((size_t)runs, sizeof *t);
    ev_session_set_input(s, 0, in, ii.bytes);
    double t0 = now_ms();
    ev_session_run(s); /* warm-up */
    double first = now_ms() - t0;
    double sum = 0;
    op_prof pr = {0};
    if (profile) {
        pr.t = calloc((size_t)runs * MAX_OPS, sizeof(double));
        ev_session_set_op_callback(s, on_op, &pr);
    }
    for (int i = 0; i < runs; i++) {
        double a = now_ms();
        pr.run = i;
        pr.last = a;
        if (ev_session_run(s) != EV_OK) {
            fprintf(stderr, "error: %s\n", ev_last_error());
            return 1;
        }
        t[i] = now_ms() - a;
        sum += t[i];
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    double med = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    size_t planned, unplanned;
    ev_session_memory(s, &planned, &unplanned);
    printf("model=%s backend=%s threads=%d input=%dx%d runs=%d first_ms=%.2f median_ms=%.2f "
           "min_ms=%.2f mean_ms=%.2f fps=%.2f arena_mb=%.2f unplanned_mb=%.2f\n",
           argv[1], o.backend, o.threads, ii.dims[1], ii.dims[2], runs, first, med, t[0],
           sum / runs, 1000.0 / med, planned / 1048576.0, unplanned / 1048576.0);
    if (profile) {
        double col[4096];
        printf("%-4s %-22s %10s\n", "op", "name", "median_ms");
        for (int op = 0; op < pr.nops; op++) {
            int n = runs < 4096 ? runs : 4096;
            for (int i = 0; i < n; i++) col[i] = pr.t[(size_t)i * MAX_OPS + op];
            qsort(col, (size_t)n, sizeof *col, cmp);
            printf("%-4d %-22s %10.3f\n", op, pr.names[op] ? pr.names[op] : "?", col[n / 2]);
        }
        free(pr.t);
    }
    free(t);
    free(in);
    ev_session_free(s);
    ev_model_free(m);
    return 0;
}
