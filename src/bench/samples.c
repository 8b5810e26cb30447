/*
 * samples.c - per-stage timing samples with bounded memory (see samples.h).
 */
#include "bench/samples.h"

#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ev_status samples_init(samples *s, size_t limit) {
    memset(s, 0, sizeof *s);
    s->limit = limit ? limit : SAMPLE_CAP;
    ev_rng_seed(&s->rng, 0x9E3779B97F4A7C15ull);
    /* Allocated and touched up front, so resident memory does not grow during a long run. */
    for (int i = 0; i < EV_STAGE_COUNT; i++) {
        s->v[i] = calloc(s->limit, sizeof(double));
        if (!s->v[i]) {
            samples_free(s);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for %zu samples", s->limit);
        }
        memset(s->v[i], 0, s->limit * sizeof(double));
    }
    s->cap = s->limit;
    return EV_OK;
}

ev_status samples_push(samples *s, const double *t) {
    s->seen++;
    for (int i = 0; i < EV_STAGE_COUNT; i++) {
        double d = t[i] - s->mean[i];
        s->mean[i] += d / (double)s->seen;
        s->m2[i] += d * (t[i] - s->mean[i]);
        if (s->seen == 1 || t[i] < s->min[i]) s->min[i] = t[i];
        if (s->seen == 1 || t[i] > s->max[i]) s->max[i] = t[i];
    }
    size_t slot = s->n;
    if (s->n == s->limit) {
        slot = (size_t)ev_rng_below(&s->rng, s->seen);
        if (slot >= s->limit) return EV_OK;
    } else if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap > s->limit) cap = s->limit;
        for (int i = 0; i < EV_STAGE_COUNT; i++) {
            double *p = realloc(s->v[i], cap * sizeof *p);
            if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            s->v[i] = p;
        }
        s->cap = cap;
    }
    for (int i = 0; i < EV_STAGE_COUNT; i++) s->v[i][slot] = t[i];
    if (slot == s->n) s->n++;
    return EV_OK;
}

/* Statistics of stage i: exact when every sample is stored; past the cap the percentiles come
 * from the reservoir and the rest from the running sums. */
ev_status samples_stats(const samples *s, int i, ev_stats *out) {
    EV_TRY(ev_stats_compute(s->v[i], s->n, out));
    if (s->seen > s->n) {
        out->count = s->seen;
        out->min = s->min[i];
        out->max = s->max[i];
        out->mean = s->mean[i];
        out->std = s->seen > 1 ? sqrt(s->m2[i] / (double)(s->seen - 1)) : 0.0;
    }
    return EV_OK;
}

void samples_free(samples *s) {
    for (int i = 0; i < EV_STAGE_COUNT; i++) free(s->v[i]);
}

