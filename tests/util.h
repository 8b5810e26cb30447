/*
 * util.h - what tests share beyond the assertion harness (ev_test.h): one random number
 * generator, random tensor data, a clock, and running a graph on a session.
 *
 *   ev_test_rng r = {seed};                       splitmix64; a zero seed is fine
 *   ev_test_rng_next(&r)                          64 random bits
 *   ev_test_rng_int(&r, lo, hi)                   uniform integer in [lo, hi]
 *   ev_test_rng_uni(&r, lo, hi)                   uniform double in [lo, hi) (53 bits)
 *   ev_test_rng_float(&r, lo, hi)                 uniform float in [lo, hi), computed in float
 *   ev_test_rng_open01(&r)                        uniform double in (0, 1) (never 0: safe for log)
 *   ev_test_rng_normal(&r)                        standard normal (Box-Muller)
 *   ev_test_rng_seed(base, group, k)              the seed of case k of test group `group`
 *   ev_test_rng_fill(&r, p, n, dt, lo, hi)        n elements of dt: integers uniform over the whole
 *                                            type, float32 uniform in [lo, hi)
 *   ev_test_rng_data(&r, dt, n, lo, hi)           the same into a new malloc'd buffer (+1 byte)
 *   ev_test_now()                            monotonic seconds
 *
 *   ev_test_run(m, &opts, n_in, in, bytes, &sess, &out, &info)
 *       creates a session for m (opts NULL: ref, 1 thread), sets inputs 0..n_in-1, runs, and
 *       points out/info (either may be NULL) at output 0. On success *sess holds the session
 *       (the caller frees it; out lives as long as it); on failure *sess is NULL and the status
 *       and ev_last_error() say why. opts->run_s receives the seconds ev_session_run took.
 *   ev_test_run_copy(m, &opts, n_in, in, bytes, all, &buf, &len)
 *       the same, copying output 0 (all = 0) or every output back to back (all = 1) into a new
 *       malloc'd buffer (+1 byte); the session is freed.
 *
 * Everything is static inline, so a test includes what it uses and nothing more.
 */
#ifndef EV_TESTS_UTIL_H
#define EV_TESTS_UTIL_H

#include "edgevision.h"
#include "util/rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* Random numbers (splitmix64 of util/rng.h: every test draws from this one generator)         */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_test_rng {
    uint64_t s;
} ev_test_rng;

/* The library's splitmix64 step (util/rng.h, which seeds its generator with it): one algorithm. */
static inline uint64_t ev_test_rng_next(ev_test_rng *r) { return ev_splitmix64(&r->s); }

static inline int ev_test_rng_int(ev_test_rng *r, int lo, int hi) {
    return lo + (int)(ev_test_rng_next(r) % (uint64_t)((int64_t)hi - lo + 1));
}

static inline double ev_test_rng_uni(ev_test_rng *r, double lo, double hi) {
    return lo + (hi - lo) * (double)(ev_test_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline float ev_test_rng_float(ev_test_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)(ev_test_rng_next(r) >> 11) / 9007199254740992.0f;
}

static inline double ev_test_rng_open01(ev_test_rng *r) {
    return ((double)(ev_test_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static inline double ev_test_rng_normal(ev_test_rng *r) {
    double u = ev_test_rng_open01(r), v = ev_test_rng_open01(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static inline uint64_t ev_test_rng_seed(uint64_t base, int group, int k) {
    ev_test_rng r = {base ^ ((uint64_t)group << 32) ^ (uint64_t)k};
    return ev_test_rng_next(&r);
}

static inline void ev_test_rng_fill(ev_test_rng *r, void *p, size_t n, ev_dtype dt, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        if (dt == EV_DTYPE_U8) ((uint8_t *)p)[i] = (uint8_t)ev_test_rng_int(r, 0, 255);
        else if (dt == EV_DTYPE_I8) ((int8_t *)p)[i] = (int8_t)ev_test_rng_int(r, -128, 127);
        else if (dt == EV_DTYPE_I16) ((int16_t *)p)[i] = (int16_t)ev_test_rng_int(r, -32768, 32767);
        else if (dt == EV_DTYPE_I32) ((int32_t *)p)[i] = (int32_t)ev_test_rng_int(r, (int)lo, (int)hi);
        else ((float *)p)[i] = (float)ev_test_rng_uni(r, lo, hi);
    }
}

static inline void *ev_test_rng_data(ev_test_rng *r, ev_dtype dt, size_t n, double lo, double hi) {
    void *p = malloc(n * ev_dtype_size(dt) + 1);
    if (p) ev_test_rng_fill(r, p, n, dt, lo, hi);
    return p;
}

static inline double ev_test_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------ */
/* Running a graph                                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_run_opts {
    const char *backend; /* NULL: "ref"                                                     */
    int threads;         /* 0: 1                                                            */
    const char *isa;     /* the cpu backend's ISA path (ev_session_options.isa); NULL: best   */
    ev_op_callback cb;   /* optional, set before the run                                     */
    void *cb_user;
    double run_s;        /* out: seconds ev_session_run took                                 */
    unsigned float_modes; /* ev_session_options.float_modes (last: positional initializers)  */
} ev_run_opts;

static inline ev_status ev_test_run(const ev_model *m, ev_run_opts *opts, int n_in,
                                    const void *const *in, const size_t *bytes, ev_session **sess,
                                    const void **out, ev_tensor_info *info) {
    ev_session_options o;
    ev_session_options_init(&o);
    if (opts) {
        if (opts->backend) o.backend = opts->backend;
        o.threads = opts->threads;
        o.isa = opts->isa;
        o.float_modes = opts->float_modes;
    }
    *sess = NULL;
    ev_session *s = NULL;
    ev_status st = ev_session_create(m, &o, &s);
    if (st == EV_OK && opts && opts->cb) ev_session_set_op_callback(s, opts->cb, opts->cb_user);
    for (int i = 0; st == EV_OK && i < n_in; i++) st = ev_session_set_input(s, i, in[i], bytes[i]);
    if (st == EV_OK) {
        double t0 = ev_test_now();
        st = ev_session_run(s);
        if (opts) opts->run_s = ev_test_now() - t0;
    }
    const void *d = NULL;
    ev_tensor_info ti;
    if (st == EV_OK) st = ev_session_output(s, 0, &d, &ti);
    if (st != EV_OK) {
        ev_session_free(s);
        return st;
    }
    if (out) *out = d;
    if (info) *info = ti;
    *sess = s;
    return EV_OK;
}

static inline ev_status ev_test_run_copy(const ev_model *m, ev_run_opts *opts, int n_in,
                                         const void *const *in, const size_t *bytes, int all,
                                         void **buf, size_t *len) {
    ev_session *s = NULL;
    *buf = NULL;
    *len = 0;
    ev_status st = ev_test_run(m, opts, n_in, in, bytes, &s, NULL, NULL);
    if (st != EV_OK) return st;
    int n_out = all ? ev_model_num_outputs(m) : 1;
    size_t total = 0;
    for (int i = 0; i < n_out; i++) {
        ev_tensor_info ti;
        if ((st = ev_model_output_info(m, i, &ti)) != EV_OK) break;
        total += ti.bytes;
    }
    uint8_t *b = st == EV_OK ? malloc(total + 1) : NULL;
    if (st == EV_OK && !b) st = EV_ERR_NO_MEMORY;
    size_t off = 0;
    for (int i = 0; st == EV_OK && i < n_out; i++) {
        const void *d;
        ev_tensor_info ti;
        st = ev_session_output(s, i, &d, &ti);
        if (st == EV_OK && off + ti.bytes > total) st = EV_ERR_INTERNAL;
        if (st == EV_OK) {
            memcpy(b + off, d, ti.bytes);
            off += ti.bytes;
        }
    }
    ev_session_free(s);
    if (st != EV_OK) {
        free(b);
        return st;
    }
    *buf = b;
    *len = off;
    return EV_OK;
}

#endif
