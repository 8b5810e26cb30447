/*
 * profile.h - per-op profile of a benchmark (profile.c): every measured run's per-op times,
 * read from the session's timing hook (ev_session_set_profiling / ev_session_op_time), reduced
 * to a median per op with its MACs, GOP/s and share of the total (ev_bench_op_profile).
 *
 * Extend: another per-op statistic (p90, say) is a field of ev_bench_op_profile filled in
 * op_profile_finish from the same per-op sample columns.
 */
#ifndef EV_BENCH_PROFILE_H
#define EV_BENCH_PROFILE_H

#include "edgevision.h"

/* Runs kept per op (the first ones; medians of more add nothing to a profile). */
#define OP_PROFILE_CAP 4096

typedef struct op_profile {
    ev_session *session;
    const ev_model *model;
    int num_ops;
    size_t runs;
    double *t; /* [OP_PROFILE_CAP][num_ops] seconds */
    double *last_start, *last_dur;
} op_profile;

/* Turns profiling on in `session` and allocates the samples. */
ev_status op_profile_begin(op_profile *p, ev_session *session);
/* Records the session's last run. */
void op_profile_add(op_profile *p);
/* Fills out->profile (medians, MACs, GOP/s, shares, the last run's timeline). */
ev_status op_profile_finish(op_profile *p, ev_bench_result *out);
/* Turns profiling off and frees the samples. */
void op_profile_end(op_profile *p);

#endif
