/*
 * profile.c - the per-op profile of a benchmark (see profile.h). Times come from the session's
 * own timing hook: two reads of the library clock around each kernel, so they exclude the
 * per-op callback and the run's begin/end work; the sum of the medians is therefore a little
 * under the inference stage's median.
 *
 * Extend: see profile.h.
 */
#include "bench/profile.h"

#include "core/session.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

ev_status op_profile_begin(op_profile *p, ev_session *session) {
    memset(p, 0, sizeof *p);
    p->session = session;
    p->model = session->model;
    p->num_ops = ev_model_num_ops(p->model);
    size_t n = (size_t)p->num_ops + 1;
    p->t = malloc(sizeof *p->t * n * OP_PROFILE_CAP);
    p->last_start = calloc(n, sizeof *p->last_start);
    p->last_dur = calloc(n, sizeof *p->last_dur);
    if (!p->t || !p->last_start || !p->last_dur) {
        op_profile_end(p);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory (per-op profile)");
    }
    return ev_session_set_profiling(session, 1);
}

void op_profile_add(op_profile *p) {
    if (!p->t) return;
    for (int i = 0; i < p->num_ops; i++) {
        double start = 0, dur = 0;
        if (ev_session_op_time(p->session, i, &start, &dur) != EV_OK) return;
        p->last_start[i] = start;
        p->last_dur[i] = dur;
        if (p->runs < OP_PROFILE_CAP) p->t[p->runs * (size_t)p->num_ops + (size_t)i] = dur;
    }
    if (p->runs < OP_PROFILE_CAP) p->runs++;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

ev_status op_profile_finish(op_profile *p, ev_bench_result *out) {
    if (!p->t || p->runs == 0) return EV_OK;
    ev_bench_op_profile *ops = calloc((size_t)p->num_ops + 1, sizeof *ops);
    double *col = malloc(sizeof *col * p->runs);
    if (!ops || !col) {
        free(ops);
        free(col);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory (per-op profile)");
    }
    double total = 0;
    for (int i = 0; i < p->num_ops; i++) {
        for (size_t r = 0; r < p->runs; r++) col[r] = p->t[r * (size_t)p->num_ops + (size_t)i];
        qsort(col, p->runs, sizeof *col, cmp_double);
        ev_bench_op_profile *o = &ops[i];
        o->median_ms = ev_percentile_sorted(col, p->runs, 50) * 1e3;
        ev_op_info oi;
        if (ev_model_op_info(p->model, i, &oi) == EV_OK) {
            o->type = oi.type;
            o->macs = oi.macs;
        }
        o->op = i;
        const char *k = ev_session_kernel_name(p->session, i, &o->reference);
        snprintf(o->kernel, sizeof o->kernel, "%s", k ? k : "?");
        o->gops = o->median_ms > 0 ? 2.0 * (double)o->macs / (o->median_ms * 1e-3) / 1e9 : 0;
        o->start_us = p->last_start[i] * 1e6;
        o->dur_us = p->last_dur[i] * 1e6;
        total += o->median_ms;
    }
    for (int i = 0; i < p->num_ops; i++) ops[i].share = total > 0 ? ops[i].median_ms / total : 0;
    free(col);
    free(out->profile);
    out->profile = ops;
    out->num_profile_ops = p->num_ops;
    return EV_OK;
}

void op_profile_end(op_profile *p) {
    if (p->session) ev_session_set_profiling(p->session, 0);
    free(p->t);
    free(p->last_start);
    free(p->last_dur);
    memset(p, 0, sizeof *p);
}

void ev_bench_result_release(ev_bench_result *r) {
    if (!r) return;
    free(r->profile);
    r->profile = NULL;
    r->num_profile_ops = 0;
}
