/*
 * test_ops.c - the ref backend's classification ops against independent double-precision
 * computations, on random single-op graphs built in memory (graph_builder.h) and run through the
 * public session API:
 *   AVERAGE_POOL_2D, MAX_POOL_2D, SOFTMAX, FULLY_CONNECTED, ADD (with broadcasting), MEAN,
 *   LOGISTIC, QUANTIZE (float and requantization), DEQUANTIZE, RESHAPE.
 *
 * Quantized (uint8, int8; int8 FULLY_CONNECTED also per-channel): every output within 1 unit of
 * round(real / out_scale) + out_zp clamped to the (activation) range, where `real` is the op on
 * the dequantized inputs in double; max pooling and reshape must be exact. Float32:
 * max|y - ref| / max|ref| <= 1e-5. Also: prepare-time errors name what is wrong.
 *
 * Cases come from a fixed-seed splitmix64, one seed per case (printed on failure);
 * EV_TEST_SEED=<n> changes the base seed, EV_TEST_CASES=<n> the cases per group (default 150).
 */
#include "ev_test.h"
#include "graph_builder.h"
#include "util.h"

#include "edgevision.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* Random numbers, quantization (restated independently of src/)                              */
/* ------------------------------------------------------------------------------------------ */

static uint64_t base_seed = 0x0B5EED5ull;
static int n_cases = 150;

static void qrange(ev_dtype dt, int32_t *qmin, int32_t *qmax) {
    *qmin = dt == EV_DTYPE_U8 ? 0 : -128;
    *qmax = dt == EV_DTYPE_U8 ? 255 : 127;
}

static int32_t qget(ev_dtype dt, const void *p, size_t i) {
    return dt == EV_DTYPE_U8 ? (int32_t)((const uint8_t *)p)[i] : (int32_t)((const int8_t *)p)[i];
}

/* Activation range in quantized units: zp + round(f / scale), clipped to the type. */
static void act_range_q(int act, float scale, int32_t zp, ev_dtype dt, int32_t *lo, int32_t *hi) {
    int32_t qmin, qmax;
    qrange(dt, &qmin, &qmax);
    *lo = qmin;
    *hi = qmax;
    int32_t q0 = zp + (int32_t)round(0.0 / scale), q6 = zp + (int32_t)roundf(6.0f / scale);
    int32_t qm1 = zp + (int32_t)roundf(-1.0f / scale), qp1 = zp + (int32_t)roundf(1.0f / scale);
    if (act == EV_ACT_RELU || act == EV_ACT_RELU6) *lo = q0 > qmin ? q0 : qmin;
    if (act == EV_ACT_RELU6) *hi = q6 < qmax ? q6 : qmax;
    if (act == EV_ACT_RELU_N1_TO_1) {
        *lo = qm1 > qmin ? qm1 : qmin;
        *hi = qp1 < qmax ? qp1 : qmax;
    }
}

static double act_f(int act, double v) {
    if ((act == EV_ACT_RELU || act == EV_ACT_RELU6) && v < 0) v = 0;
    if (act == EV_ACT_RELU6 && v > 6) v = 6;
    if (act == EV_ACT_RELU_N1_TO_1) v = v < -1 ? -1 : v > 1 ? 1 : v;
    return v;
}

static int32_t quantize_real(double real, float scale, int32_t zp, int32_t lo, int32_t hi) {
    double v = round(real / (double)scale) + (double)zp;
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Output quantization fitting real values v[0..n): zp random, scale so the range fits. */
static void choose_out_q(ev_test_rng *r, const double *v, size_t n, ev_dtype dt, float *scale,
                         int32_t *zp) {
    int32_t qmin, qmax;
    qrange(dt, &qmin, &qmax);
    double mn = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < mn) mn = v[i];
        if (v[i] > mx) mx = v[i];
    }
    *zp = ev_test_rng_int(r, qmin, qmax);
    double up = qmax - *zp, dn = *zp - qmin;
    if (up < 40) up = 40;
    if (dn < 40) dn = 40;
    double s = mx / up;
    if (-mn / dn > s) s = -mn / dn;
    s *= ev_test_rng_uni(r, 0.8, 1.15);
    if (!(s > 1e-6) || !isfinite(s)) s = 0.01;
    *scale = (float)s;
}

static const ev_activation k_acts[4] = {EV_ACT_NONE, EV_ACT_RELU, EV_ACT_RELU6,
                                        EV_ACT_RELU_N1_TO_1};

static double real_at(ev_dtype dt, const void *p, size_t i, float s, int32_t zp) {
    if (dt == EV_DTYPE_F32) return ((const float *)p)[i];
    if (dt == EV_DTYPE_I16) return ((double)((const int16_t *)p)[i] - zp) * (double)s;
    return (double)(qget(dt, p, i) - zp) * (double)s;
}

static size_t prod(int nd, const int *d) {
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)d[i];
    return n;
}

static const char *shape_s(int nd, const int *d, char *buf) {
    int u = 0;
    buf[0] = '\0';
    for (int i = 0; i < nd; i++) u += sprintf(buf + u, i ? "x%d" : "%d", d[i]);
    if (!nd) strcpy(buf, "scalar");
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Running one model and comparing                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct stats {
    long cases, failed;
    size_t elems, exact;
    int max_diff;
    double max_rel;
} stats;

/* Quantized outputs vs round(ref / s) + zp in [lo, hi], within `tol` units. */
static int cmp_q(stats *stt, ev_dtype dt, const void *out, const double *ref, size_t n, float s,
                 int32_t zp, int32_t lo, int32_t hi, int tol, const char *desc) {
    size_t bad = 0, first = 0;
    int maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t e = quantize_real(ref[i], s, zp, lo, hi);
        int d = abs(qget(dt, out, i) - e);
        if (d == 0) stt->exact++;
        if (d > tol && bad++ == 0) first = i;
        if (d > maxd) maxd = d;
    }
    stt->elems += n;
    if (maxd > stt->max_diff) stt->max_diff = maxd;
    CHECK_MSG(!bad, "%s: %zu of %zu outputs off by more than %d (max %d); first [%zu]: got %d, "
              "expected %d (ref/scale + zp = %.6f)", desc, bad, n, tol, maxd, first,
              bad ? qget(dt, out, first) : 0, bad ? quantize_real(ref[first], s, zp, lo, hi) : 0,
              bad ? ref[first] / (double)s + zp : 0.0);
    return !bad;
}

/* Float outputs: max|y - ref| / max|ref| <= 1e-5. */
static int cmp_f(stats *stt, const float *out, const double *ref, size_t n, const char *desc) {
    double maxref = 0, maxerr = 0;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)out[i] - ref[i]);
        if (!(err <= maxerr)) maxerr = err, worst = i; /* NaN counts as worst */
        if (fabs(ref[i]) > maxref) maxref = fabs(ref[i]);
    }
    double rel = maxref > 0 ? maxerr / maxref : maxerr;
    if (!(rel <= stt->max_rel)) stt->max_rel = rel;
    CHECK_MSG(rel <= 1e-5, "%s: max|y-ref|/max|ref| = %g (element %zu: %.9g vs %.9g)", desc, rel,
              worst, n ? (double)out[worst] : 0.0, n ? ref[worst] : 0.0);
    return rel <= 1e-5;
}

/* Builds from `b`, runs, compares; frees everything. ref has n_out values (real, before
 * quantization); for quantized outputs (s, zp, lo, hi, tol) apply. */
typedef struct expect {
    ev_dtype dt;
    const double *ref;
    size_t n;
    float s;
    int32_t zp, lo, hi;
    int tol;
} expect;

static void finish_case(stats *stt, gb *b, int nin, const void *const *in, const size_t *bytes,
                        const expect *e, const char *desc) {
    ev_model *m = NULL;
    ev_session *sess = NULL;
    const void *out = NULL;
    ev_tensor_info info;
    stt->cases++;
    ev_status st = gb_finish(b, &m);
    CHECK_MSG(st == EV_OK, "%s: graph builder: %s", desc, b->msg);
    if (st == EV_OK) st = ev_test_run(m, NULL, nin, in, bytes, &sess, &out, &info);
    if (m) CHECK_MSG(st == EV_OK, "%s: %s: %s", desc, ev_status_string(st), ev_last_error());
    int pass = st == EV_OK;
    if (pass) {
        pass = info.dtype == e->dt && info.bytes == e->n * ev_dtype_size(e->dt);
        CHECK_MSG(pass, "%s: output is %s with %zu bytes", desc, ev_dtype_name(info.dtype),
                  info.bytes);
    }
    if (pass)
        pass = e->dt == EV_DTYPE_F32
                   ? cmp_f(stt, out, e->ref, e->n, desc)
                   : cmp_q(stt, e->dt, out, e->ref, e->n, e->s, e->zp, e->lo, e->hi, e->tol, desc);
    if (!pass) stt->failed++;
    ev_session_free(sess);
    ev_model_free(m);
}

static void report(const char *label, const stats *s, double t, double min_exact) {
    if (s->elems) {
        double frac = (double)s->exact / (double)s->elems;
        fprintf(stderr, "  %-26s %4ld cases, %ld failed, %8zu outputs, exact %.2f%%, max diff %d"
                "  (%.2f s)\n", label, s->cases, s->failed, s->elems, 100.0 * frac, s->max_diff,
                t);
        CHECK_MSG(frac >= min_exact, "%s: exact fraction %.4f below %.2f", label, frac, min_exact);
    } else {
        fprintf(stderr, "  %-26s %4ld cases, %ld failed, max rel err %.3g  (%.2f s)\n", label,
                s->cases, s->failed, s->max_rel, t);
    }
    CHECK(s->cases > 0);
}

static int qtensor(gb *b, const char *name, ev_dtype dt, int nd, const int *d, const void *data,
                   float s, int32_t zp) {
    return gb_tensor_q(b, name, dt, nd, d, data, dt == EV_DTYPE_F32 ? 0.0f : s, zp);
}

static const char *dt_s(ev_dtype dt) { return ev_dtype_name(dt); }

/* ------------------------------------------------------------------------------------------ */
/* Pooling                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void geometry(ev_padding pad, int in, int k, int s, int *out, int *before) {
    *out = pad == EV_PAD_SAME ? (in + s - 1) / s : (in < k ? 0 : (in - k) / s + 1);
    int total = (*out - 1) * s + k - in;
    *before = total > 0 ? total / 2 : 0;
}

static void pool_case(stats *stt, ev_dtype dt, int is_max, uint64_t seed) {
    ev_test_rng r = {seed};
    int n, ih, iw, c, fh, fw, sh, sw, oh, ow, pt, pl;
    ev_padding pad;
    do {
        n = ev_test_rng_int(&r, 1, 2), ih = ev_test_rng_int(&r, 1, 12), iw = ev_test_rng_int(&r, 1, 12);
        c = ev_test_rng_int(&r, 1, 8), fh = ev_test_rng_int(&r, 1, 5), fw = ev_test_rng_int(&r, 1, 5);
        sh = ev_test_rng_int(&r, 1, 3), sw = ev_test_rng_int(&r, 1, 3);
        pad = ev_test_rng_int(&r, 0, 1) ? EV_PAD_VALID : EV_PAD_SAME;
        if (ev_test_rng_int(&r, 0, 5) == 0) fh = ih, fw = iw, pad = EV_PAD_VALID; /* global pool */
        geometry(pad, ih, fh, sh, &oh, &pt);
        geometry(pad, iw, fw, sw, &ow, &pl);
    } while (oh <= 0 || ow <= 0);
    ev_activation act = k_acts[ev_test_rng_int(&r, 0, 3)];
    float s = (float)ev_test_rng_uni(&r, 0.01, 0.1);
    int32_t qmin = 0, qmax = 0, zp = 0;
    if (dt != EV_DTYPE_F32) qrange(dt, &qmin, &qmax), zp = ev_test_rng_int(&r, qmin, qmax);
    int id[4] = {n, ih, iw, c}, od[4] = {n, oh, ow, c};
    size_t nin = prod(4, id), nout = prod(4, od);
    void *x = ev_test_rng_data(&r, dt, nin, -3, 3);
    double *ref = malloc(sizeof(double) * nout);
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int ch = 0; ch < c; ch++) {
                    double acc = is_max ? -INFINITY : 0.0;
                    int cnt = 0;
                    for (int ky = 0; ky < fh; ky++)
                        for (int kx = 0; kx < fw; kx++) {
                            int y = oy * sh - pt + ky, xx = ox * sw - pl + kx;
                            if (y < 0 || y >= ih || xx < 0 || xx >= iw) continue;
                            double v = real_at(dt, x, (((size_t)b * ih + y) * iw + xx) * c + ch,
                                               s, zp);
                            acc = is_max ? (v > acc ? v : acc) : acc + v;
                            cnt++;
                        }
                    if (!is_max) acc /= cnt;
                    ref[(((size_t)b * oh + oy) * ow + ox) * c + ch] =
                        dt == EV_DTYPE_F32 ? act_f(act, acc) : acc;
                }
    char desc[256], s1[64], s2[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s %s in %s filter %dx%d stride %dx%d %s act %d "
             "-> %s q(%g,%d)", (unsigned long long)seed, dt_s(dt), is_max ? "MAX" : "AVG",
             shape_s(4, id, s1), fh, fw, sh, sw, pad == EV_PAD_SAME ? "SAME" : "VALID", act,
             shape_s(4, od, s2), (double)s, zp);
    gb b;
    gb_init(&b);
    int tx = qtensor(&b, "x", dt, 4, id, NULL, s, zp), ty = qtensor(&b, "y", dt, 4, od, NULL, s, zp);
    int op = gb_op(&b, is_max ? EV_OP_MAX_POOL_2D : EV_OP_AVERAGE_POOL_2D,
                   is_max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", is_max ? 17 : 1, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.pool = (ev_pool_params){pad, sw, sh, fw, fh, act};
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    expect e = {dt, ref, nout, s, zp, 0, 0, is_max ? 0 : 1};
    if (dt != EV_DTYPE_F32) act_range_q(act, s, zp, dt, &e.lo, &e.hi);
    const void *ins[1] = {x};
    size_t bytes[1] = {nin * ev_dtype_size(dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(ref);
}

/* ------------------------------------------------------------------------------------------ */
/* Softmax                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static int random_shape(ev_test_rng *r, int min_nd, int max_nd, int max_dim, int *d) {
    int nd = ev_test_rng_int(r, min_nd, max_nd);
    for (int i = 0; i < nd; i++) d[i] = ev_test_rng_int(r, 1, max_dim);
    return nd;
}

static void softmax_case(stats *stt, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4];
    int nd = random_shape(&r, 1, 4, 3, d);
    d[nd - 1] = ev_test_rng_int(&r, 0, 3) ? ev_test_rng_int(&r, 1, 40) : ev_test_rng_int(&r, 100, 1001);
    float beta = ev_test_rng_int(&r, 0, 1) ? 1.0f : (float)ev_test_rng_uni(&r, 0.3, 2.0);
    float s = (float)ev_test_rng_uni(&r, 0.02, 0.3), os = 1.0f / 256;
    int32_t qmin = 0, qmax = 0, zp = 0, ozp = dt == EV_DTYPE_I8 ? -128 : 0;
    if (dt != EV_DTYPE_F32) qrange(dt, &qmin, &qmax), zp = ev_test_rng_int(&r, qmin, qmax);
    size_t n = prod(nd, d), depth = (size_t)d[nd - 1];
    void *x = ev_test_rng_data(&r, dt, n, -8, 8);
    double *ref = malloc(sizeof(double) * n);
    for (size_t o = 0; o < n / depth; o++) {
        double mx = -INFINITY, sum = 0;
        for (size_t k = 0; k < depth; k++) {
            double v = real_at(dt, x, o * depth + k, s, zp);
            mx = v > mx ? v : mx;
        }
        for (size_t k = 0; k < depth; k++)
            sum += ref[o * depth + k] = exp(beta * (real_at(dt, x, o * depth + k, s, zp) - mx));
        for (size_t k = 0; k < depth; k++) ref[o * depth + k] /= sum;
    }
    char desc[256], s1[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s SOFTMAX %s beta %g in q(%g,%d)",
             (unsigned long long)seed, dt_s(dt), shape_s(nd, d, s1), (double)beta, (double)s, zp);
    gb b;
    gb_init(&b);
    int tx = qtensor(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = qtensor(&b, "y", dt, nd, d, NULL, os, ozp);
    int op = gb_op(&b, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.softmax.beta = beta;
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    expect e = {dt, ref, n, os, ozp, 0, 0, 1};
    if (dt != EV_DTYPE_F32) qrange(dt, &e.lo, &e.hi);
    const void *ins[1] = {x};
    size_t bytes[1] = {n * ev_dtype_size(dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(ref);
}

/* ------------------------------------------------------------------------------------------ */
/* Fully connected                                                                            */
/* ------------------------------------------------------------------------------------------ */

static void fc_case(stats *stt, ev_dtype dt, int per_channel, uint64_t seed) {
    ev_test_rng r = {seed};
    int batches = ev_test_rng_int(&r, 1, 4), depth = ev_test_rng_int(&r, 1, 80), units = ev_test_rng_int(&r, 1, 40);
    int has_bias = ev_test_rng_int(&r, 0, 3) != 0;
    ev_activation act = k_acts[ev_test_rng_int(&r, 0, 3)];
    int id[4], ind;
    if (ev_test_rng_int(&r, 0, 1)) {
        ind = 2, id[0] = batches, id[1] = depth;
    } else { /* 4-D input, flattened by the op */
        ind = 4, id[0] = 1, id[1] = batches, id[2] = 1, id[3] = depth;
    }
    int wd[2] = {units, depth}, od[2] = {batches, units};
    float in_s = (float)ev_test_rng_uni(&r, 0.005, 0.05);
    int32_t qmin = 0, qmax = 0, in_zp = 0;
    if (dt != EV_DTYPE_F32) qrange(dt, &qmin, &qmax), in_zp = ev_test_rng_int(&r, qmin, qmax);
    int nq = dt == EV_DTYPE_F32 ? 0 : per_channel ? units : 1;
    float ws[64];
    int32_t wz[64];
    for (int u = 0; u < (nq ? nq : 1); u++) {
        ws[u] = (float)ev_test_rng_uni(&r, 0.001, 0.02);
        wz[u] = dt == EV_DTYPE_U8 ? ev_test_rng_int(&r, 100, 155) : 0;
    }
    size_t nx = (size_t)batches * depth, nw = (size_t)units * depth, ny = (size_t)batches * units;
    void *x = ev_test_rng_data(&r, dt, nx, -2, 2);
    double a = 2.0 / sqrt((double)depth);
    void *w = ev_test_rng_data(&r, dt, nw, -a, a);
    if (dt == EV_DTYPE_I8)
        for (size_t i = 0; i < nw; i++)
            if (((int8_t *)w)[i] == -128) ((int8_t *)w)[i] = -127;
    void *bias = NULL;
    if (has_bias) {
        bias = malloc(sizeof(int32_t) * (size_t)units);
        for (int u = 0; u < units; u++) {
            if (dt == EV_DTYPE_F32)
                ((float *)bias)[u] = (float)ev_test_rng_uni(&r, -1, 1);
            else
                ((int32_t *)bias)[u] = ev_test_rng_int(&r, -20000, 20000);
        }
    }
    double *ref = malloc(sizeof(double) * ny);
    for (int bt = 0; bt < batches; bt++)
        for (int u = 0; u < units; u++) {
            int q = per_channel ? u : 0;
            double acc = 0;
            for (int k = 0; k < depth; k++)
                acc += real_at(dt, x, (size_t)bt * depth + k, in_s, in_zp) *
                       real_at(dt, w, (size_t)u * depth + k, ws[q], wz[q]);
            if (bias)
                acc += dt == EV_DTYPE_F32 ? ((float *)bias)[u]
                                          : ((int32_t *)bias)[u] * (double)in_s * (double)ws[q];
            ref[(size_t)bt * units + u] = acc;
        }
    float os = 0;
    int32_t ozp = 0;
    if (dt != EV_DTYPE_F32) choose_out_q(&r, ref, ny, dt, &os, &ozp);
    else
        for (size_t i = 0; i < ny; i++) ref[i] = act_f(act, ref[i]);
    char desc[256], s1[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s%s FULLY_CONNECTED in %s units %d bias %d act %d",
             (unsigned long long)seed, dt_s(dt), per_channel ? " per-channel" : "",
             shape_s(ind, id, s1), units, has_bias, act);
    gb b;
    gb_init(&b);
    int tx = qtensor(&b, "x", dt, ind, id, NULL, in_s, in_zp);
    int tw = gb_tensor(&b, "w", dt, 2, wd, w, nw * ev_dtype_size(dt), nq, ws, wz, 0);
    int tb = -1;
    if (bias) {
        float bs[64];
        for (int i = 0; i < nq; i++) bs[i] = in_s * ws[i];
        tb = gb_tensor(&b, "b", dt == EV_DTYPE_F32 ? EV_DTYPE_F32 : EV_DTYPE_I32, 1, &units, bias,
                       (size_t)units * 4, nq, bs, NULL, 0);
    }
    int ty = qtensor(&b, "y", dt, 2, od, NULL, os, ozp);
    int ins_t[3] = {tx, tw, tb};
    int op = gb_op(&b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, ins_t, 1, &ty);
    if (op >= 0) b.g.ops[op].p.fc.activation = act;
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    expect e = {dt, ref, ny, os, ozp, 0, 0, 1};
    if (dt != EV_DTYPE_F32) act_range_q(act, os, ozp, dt, &e.lo, &e.hi);
    const void *ins[1] = {x};
    size_t bytes[1] = {nx * ev_dtype_size(dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(w);
    free(bias);
    free(ref);
}

/* ------------------------------------------------------------------------------------------ */
/* Add                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* A shape that broadcasts to od[0..nd): some leading dims dropped, some dims set to 1. */
static int broadcast_from(ev_test_rng *r, int nd, const int *od, int *d) {
    if (ev_test_rng_int(r, 0, 2) == 0) {
        for (int i = 0; i < nd; i++) d[i] = od[i];
        return nd;
    }
    int drop = ev_test_rng_int(r, 0, nd - 1), k = 0;
    for (int i = drop; i < nd; i++) d[k++] = ev_test_rng_int(r, 0, 2) == 0 ? 1 : od[i];
    return k;
}

static void add_case(stats *stt, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int od[4], ad[4], bd[4];
    int nd = random_shape(&r, 1, 4, 6, od);
    int na = broadcast_from(&r, nd, od, ad), nb = broadcast_from(&r, nd, od, bd);
    /* the output is the broadcast shape: make sure one input reaches every output dim */
    if (ev_test_rng_int(&r, 0, 1)) {
        for (int i = 0; i < nd; i++) ad[i] = od[i];
        na = nd;
    }
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - na), ib = i - (nd - nb);
        int va = ia >= 0 ? ad[ia] : 1, vb = ib >= 0 ? bd[ib] : 1;
        if (va != od[i] && vb != od[i]) ad[ia >= 0 ? ia : 0] = od[i], na = nd > na ? na : na;
        (void)vb;
    }
    /* recheck (the fix-up above may leave a lower-rank a short of a dim): widen a if needed */
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - na), ib = i - (nd - nb);
        int va = ia >= 0 ? ad[ia] : 1, vb = ib >= 0 ? bd[ib] : 1;
        if (va != od[i] && vb != od[i]) {
            for (int k = 0; k < nd; k++) ad[k] = od[k];
            na = nd;
            break;
        }
    }
    ev_activation act = k_acts[ev_test_rng_int(&r, 0, 3)];
    float sa = (float)ev_test_rng_uni(&r, 0.01, 0.5), sb = (float)ev_test_rng_uni(&r, 0.01, 0.5);
    int32_t qmin = 0, qmax = 0, za = 0, zb = 0;
    if (dt != EV_DTYPE_F32) {
        qrange(dt, &qmin, &qmax);
        za = ev_test_rng_int(&r, qmin, qmax), zb = ev_test_rng_int(&r, qmin, qmax);
    }
    size_t nA = prod(na, ad), nB = prod(nb, bd), nO = prod(nd, od);
    void *xa = ev_test_rng_data(&r, dt, nA, -5, 5), *xb = ev_test_rng_data(&r, dt, nB, -5, 5);
    double *ref = malloc(sizeof(double) * nO);
    for (size_t o = 0; o < nO; o++) {
        size_t rem = o, ia = 0, ib = 0, sta = 1, stb = 1;
        for (int i = nd - 1; i >= 0; i--) {
            size_t c = rem % (size_t)od[i];
            rem /= (size_t)od[i];
            int ka = i - (nd - na), kb = i - (nd - nb);
            if (ka >= 0) {
                if (ad[ka] != 1) ia += c * sta;
                sta *= (size_t)ad[ka];
            }
            if (kb >= 0) {
                if (bd[kb] != 1) ib += c * stb;
                stb *= (size_t)bd[kb];
            }
        }
        ref[o] = real_at(dt, xa, ia, sa, za) + real_at(dt, xb, ib, sb, zb);
    }
    float os = 0;
    int32_t ozp = 0;
    if (dt != EV_DTYPE_F32) choose_out_q(&r, ref, nO, dt, &os, &ozp);
    else
        for (size_t i = 0; i < nO; i++) ref[i] = act_f(act, ref[i]);
    char desc[256], s1[64], s2[64], s3[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s ADD %s q(%g,%d) + %s q(%g,%d) -> %s act %d",
             (unsigned long long)seed, dt_s(dt), shape_s(na, ad, s1), (double)sa, za,
             shape_s(nb, bd, s2), (double)sb, zb, shape_s(nd, od, s3), act);
    gb b;
    gb_init(&b);
    int ta = qtensor(&b, "a", dt, na, ad, NULL, sa, za), tb = qtensor(&b, "b", dt, nb, bd, NULL, sb, zb);
    int ty = qtensor(&b, "y", dt, nd, od, NULL, os, ozp);
    int ins_t[2] = {ta, tb};
    int op = gb_op(&b, EV_OP_ADD, "ADD", 0, 2, ins_t, 1, &ty);
    if (op >= 0) b.g.ops[op].p.add.activation = act;
    gb_inputs(&b, 2, ins_t);
    gb_outputs(&b, 1, &ty);
    expect e = {dt, ref, nO, os, ozp, 0, 0, 1};
    if (dt != EV_DTYPE_F32) act_range_q(act, os, ozp, dt, &e.lo, &e.hi);
    const void *ins[2] = {xa, xb};
    size_t bytes[2] = {nA * ev_dtype_size(dt), nB * ev_dtype_size(dt)};
    finish_case(stt, &b, 2, ins, bytes, &e, desc);
    free(xa);
    free(xb);
    free(ref);
}

/* ------------------------------------------------------------------------------------------ */
/* Mean                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void mean_case(stats *stt, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int id[4], axes[8], nax = 0, keep;
    int nd;
    if (ev_test_rng_int(&r, 0, 2) == 0) { /* the global-average-pool form: 4-D, axes {1,2}, keep */
        nd = 4;
        id[0] = ev_test_rng_int(&r, 1, 2), id[1] = ev_test_rng_int(&r, 1, 9), id[2] = ev_test_rng_int(&r, 1, 9);
        id[3] = ev_test_rng_int(&r, 1, 16);
        int swap = ev_test_rng_int(&r, 0, 1);
        axes[nax++] = swap ? 2 : 1;
        axes[nax++] = swap ? 1 : 2;
        keep = 1;
    } else {
        nd = random_shape(&r, 1, 4, 7, id);
        for (int i = 0; i < nd; i++)
            if (ev_test_rng_int(&r, 0, 1)) axes[nax++] = ev_test_rng_int(&r, 0, 1) ? i : i - nd;
        if (!nax) axes[nax++] = ev_test_rng_int(&r, 0, nd - 1);
        if (ev_test_rng_int(&r, 0, 4) == 0) axes[nax] = axes[0], nax++; /* a duplicate */
        keep = ev_test_rng_int(&r, 0, 1);
    }
    int red[4] = {0};
    for (int i = 0; i < nax; i++) red[axes[i] < 0 ? axes[i] + nd : axes[i]] = 1;
    int od[4], ond = 0;
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        if (red[i]) count *= (size_t)id[i];
        if (!red[i]) od[ond++] = id[i];
        else if (keep) od[ond++] = 1;
    }
    float s = (float)ev_test_rng_uni(&r, 0.01, 0.2);
    int32_t qmin = 0, qmax = 0, zp = 0;
    if (dt != EV_DTYPE_F32) qrange(dt, &qmin, &qmax), zp = ev_test_rng_int(&r, qmin, qmax);
    size_t nin = prod(nd, id), nout = prod(ond, od);
    void *x = ev_test_rng_data(&r, dt, nin, -4, 4);
    double *ref = calloc(nout, sizeof(double));
    for (size_t i = 0; i < nin; i++) {
        size_t rem = i, o = 0, st = 1;
        for (int k = nd - 1; k >= 0; k--) {
            size_t c = rem % (size_t)id[k];
            rem /= (size_t)id[k];
            if (!red[k]) o += c * st, st *= (size_t)id[k];
        }
        ref[o] += real_at(dt, x, i, s, zp);
    }
    for (size_t o = 0; o < nout; o++) ref[o] /= (double)count;
    float os = s;
    int32_t ozp = zp;
    int same = dt == EV_DTYPE_F32 || ev_test_rng_int(&r, 0, 2) == 0;
    if (!same) choose_out_q(&r, ref, nout, dt, &os, &ozp);
    char desc[256], s1[64], s2[64], s3[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s MEAN %s axes %s keep %d -> %s in q(%g,%d) out "
             "q(%g,%d)", (unsigned long long)seed, dt_s(dt), shape_s(nd, id, s1),
             shape_s(nax, axes, s2), keep, shape_s(ond, od, s3), (double)s, zp, (double)os, ozp);
    gb b;
    gb_init(&b);
    int tx = qtensor(&b, "x", dt, nd, id, NULL, s, zp);
    int ta = gb_tensor(&b, "axes", EV_DTYPE_I32, 1, &nax, axes, sizeof(int) * (size_t)nax, 0, NULL,
                       NULL, 0);
    int ty = qtensor(&b, "y", dt, ond, od, NULL, os, ozp);
    int ins_t[2] = {tx, ta};
    int op = gb_op(&b, EV_OP_MEAN, "MEAN", 40, 2, ins_t, 1, &ty);
    if (op >= 0) b.g.ops[op].p.reduce.keep_dims = keep;
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    expect e = {dt, ref, nout, os, ozp, 0, 0, 1};
    if (dt != EV_DTYPE_F32) qrange(dt, &e.lo, &e.hi);
    const void *ins[1] = {x};
    size_t bytes[1] = {nin * ev_dtype_size(dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(ref);
}

/* ------------------------------------------------------------------------------------------ */
/* Logistic, quantize, dequantize, reshape                                                    */
/* ------------------------------------------------------------------------------------------ */

static void logistic_case(stats *stt, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4];
    int nd = random_shape(&r, 1, 4, 9, d);
    float s = (float)ev_test_rng_uni(&r, 0.01, 0.2), os = 1.0f / 256;
    int32_t qmin = 0, qmax = 0, zp = 0, ozp = dt == EV_DTYPE_I8 ? -128 : 0;
    if (dt != EV_DTYPE_F32) qrange(dt, &qmin, &qmax), zp = ev_test_rng_int(&r, qmin, qmax);
    size_t n = prod(nd, d);
    void *x = ev_test_rng_data(&r, dt, n, -20, 20);
    double *ref = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) ref[i] = 1.0 / (1.0 + exp(-real_at(dt, x, i, s, zp)));
    char desc[256], s1[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s LOGISTIC %s in q(%g,%d)",
             (unsigned long long)seed, dt_s(dt), shape_s(nd, d, s1), (double)s, zp);
    gb b;
    gb_init(&b);
    int tx = qtensor(&b, "x", dt, nd, d, NULL, s, zp), ty = qtensor(&b, "y", dt, nd, d, NULL, os, ozp);
    gb_op(&b, EV_OP_LOGISTIC, "LOGISTIC", 14, 1, &tx, 1, &ty);
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    expect e = {dt, ref, n, os, ozp, 0, 0, 1};
    if (dt != EV_DTYPE_F32) qrange(dt, &e.lo, &e.hi);
    const void *ins[1] = {x};
    size_t bytes[1] = {n * ev_dtype_size(dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(ref);
}

/* QUANTIZE from `in_dt` (F32, U8 or I8) to out_dt, or DEQUANTIZE (out_dt F32) from in_dt. */
static void quantize_case(stats *stt, ev_dtype in_dt, ev_dtype out_dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4];
    int nd = random_shape(&r, 1, 4, 9, d);
    int deq = out_dt == EV_DTYPE_F32;
    float s = (float)ev_test_rng_uni(&r, 0.005, 0.2), os = (float)ev_test_rng_uni(&r, 0.005, 0.2);
    int32_t zp = 0, ozp = 0, lo = 0, hi = 0, a, c;
    if (in_dt == EV_DTYPE_I16) zp = 0;
    else if (in_dt != EV_DTYPE_F32) qrange(in_dt, &a, &c), zp = ev_test_rng_int(&r, a, c);
    if (!deq) qrange(out_dt, &lo, &hi), ozp = ev_test_rng_int(&r, lo, hi);
    size_t n = prod(nd, d);
    double span = 200 * (double)os;
    void *x = ev_test_rng_data(&r, in_dt, n, -span, span);
    double *ref = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) ref[i] = real_at(in_dt, x, i, s, zp);
    char desc[256], s1[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s %s -> %s %s in q(%g,%d) out q(%g,%d)",
             (unsigned long long)seed, deq ? "DEQUANTIZE" : "QUANTIZE", dt_s(in_dt), dt_s(out_dt),
             shape_s(nd, d, s1), (double)s, zp, (double)os, ozp);
    gb b;
    gb_init(&b);
    int tx = in_dt == EV_DTYPE_F32 ? qtensor(&b, "x", in_dt, nd, d, NULL, 0, 0)
                                   : gb_tensor_q(&b, "x", in_dt, nd, d, NULL, s, zp);
    int ty = qtensor(&b, "y", out_dt, nd, d, NULL, os, ozp);
    gb_op(&b, deq ? EV_OP_DEQUANTIZE : EV_OP_QUANTIZE, deq ? "DEQUANTIZE" : "QUANTIZE",
          deq ? 6 : 114, 1, &tx, 1, &ty);
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    expect e = {out_dt, ref, n, os, ozp, lo, hi, 1};
    const void *ins[1] = {x};
    size_t bytes[1] = {n * ev_dtype_size(in_dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(ref);
}

static void reshape_case(stats *stt, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], od[3];
    int nd = random_shape(&r, 1, 4, 6, d);
    size_t n = prod(nd, d);
    /* output: [n] or [a, n / a] or [1, n, 1] */
    int ond, k = ev_test_rng_int(&r, 0, 2);
    if (k == 0) ond = 1, od[0] = (int)n;
    else if (k == 1) ond = 2, od[0] = d[0], od[1] = (int)(n / (size_t)d[0]);
    else ond = 3, od[0] = 1, od[1] = (int)n, od[2] = 1;
    void *x = ev_test_rng_data(&r, dt, n, -5, 5);
    float s = 0.05f;
    int32_t zp = dt == EV_DTYPE_U8 ? 7 : dt == EV_DTYPE_I8 ? -3 : 0;
    double *ref = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) ref[i] = real_at(dt, x, i, s, zp);
    char desc[256], s1[64], s2[64];
    snprintf(desc, sizeof desc, "seed=0x%016llx %s RESHAPE %s -> %s", (unsigned long long)seed,
             dt_s(dt), shape_s(nd, d, s1), shape_s(ond, od, s2));
    gb b;
    gb_init(&b);
    int tx = qtensor(&b, "x", dt, nd, d, NULL, s, zp), ty = qtensor(&b, "y", dt, ond, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_RESHAPE, "RESHAPE", 22, 1, &tx, 1, &ty);
    if (op >= 0) {
        b.g.ops[op].p.reshape.num_dims = ond;
        for (int i = 0; i < ond; i++) b.g.ops[op].p.reshape.dims[i] = od[i];
        if (ond > 1 && ev_test_rng_int(&r, 0, 1)) b.g.ops[op].p.reshape.dims[ond - 1] = -1;
    }
    gb_inputs(&b, 1, &tx);
    gb_outputs(&b, 1, &ty);
    int32_t lo = 0, hi = 0;
    if (dt != EV_DTYPE_F32) qrange(dt, &lo, &hi);
    expect e = {dt, ref, n, s, zp, lo, hi, 0};
    const void *ins[1] = {x};
    size_t bytes[1] = {n * ev_dtype_size(dt)};
    finish_case(stt, &b, 1, ins, bytes, &e, desc);
    free(x);
    free(ref);
}

/* ------------------------------------------------------------------------------------------ */
/* Groups                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef void (*case_fn)(stats *, ev_dtype, uint64_t);

static void group(const char *label, int id, case_fn fn, ev_dtype dt, double min_exact) {
    stats s = {0};
    double t0 = ev_test_now();
    for (int k = 0; k < n_cases; k++) fn(&s, dt, ev_test_rng_seed(base_seed, id, k));
    report(label, &s, ev_test_now() - t0, min_exact);
}

static void avg_case(stats *s, ev_dtype dt, uint64_t seed) { pool_case(s, dt, 0, seed); }
static void max_case(stats *s, ev_dtype dt, uint64_t seed) { pool_case(s, dt, 1, seed); }
static void fc_pt_case(stats *s, ev_dtype dt, uint64_t seed) { fc_case(s, dt, 0, seed); }
static void fc_pc_case(stats *s, ev_dtype dt, uint64_t seed) { fc_case(s, dt, 1, seed); }

static void test_pool(void) {
    group("AVERAGE_POOL_2D uint8", 1, avg_case, EV_DTYPE_U8, 0.9);
    group("AVERAGE_POOL_2D int8", 2, avg_case, EV_DTYPE_I8, 0.9);
    group("AVERAGE_POOL_2D float32", 3, avg_case, EV_DTYPE_F32, 0);
    group("MAX_POOL_2D uint8", 4, max_case, EV_DTYPE_U8, 1.0);
    group("MAX_POOL_2D int8", 5, max_case, EV_DTYPE_I8, 1.0);
    group("MAX_POOL_2D float32", 6, max_case, EV_DTYPE_F32, 0);
}

static void test_softmax(void) {
    group("SOFTMAX uint8", 10, softmax_case, EV_DTYPE_U8, 0.9);
    group("SOFTMAX int8", 11, softmax_case, EV_DTYPE_I8, 0.9);
    group("SOFTMAX float32", 12, softmax_case, EV_DTYPE_F32, 0);
}

static void test_fully_connected(void) {
    group("FULLY_CONNECTED uint8", 20, fc_pt_case, EV_DTYPE_U8, 0.9);
    group("FULLY_CONNECTED int8", 21, fc_pt_case, EV_DTYPE_I8, 0.9);
    group("FULLY_CONNECTED int8 per-ch", 22, fc_pc_case, EV_DTYPE_I8, 0.9);
    group("FULLY_CONNECTED float32", 23, fc_pt_case, EV_DTYPE_F32, 0);
}

static void test_add(void) {
    group("ADD uint8", 30, add_case, EV_DTYPE_U8, 0.9);
    group("ADD int8", 31, add_case, EV_DTYPE_I8, 0.9);
    group("ADD float32", 32, add_case, EV_DTYPE_F32, 0);
}

static void test_mean(void) {
    group("MEAN uint8", 40, mean_case, EV_DTYPE_U8, 0.8);
    group("MEAN int8", 41, mean_case, EV_DTYPE_I8, 0.8);
    group("MEAN float32", 42, mean_case, EV_DTYPE_F32, 0);
}

static void test_logistic(void) {
    group("LOGISTIC uint8", 50, logistic_case, EV_DTYPE_U8, 0.9);
    group("LOGISTIC int8", 51, logistic_case, EV_DTYPE_I8, 0.9);
    group("LOGISTIC float32", 52, logistic_case, EV_DTYPE_F32, 0);
}

static void test_quantize(void) {
    static const struct { const char *label; ev_dtype in, out; double exact; } k[] = {
        {"QUANTIZE float32->uint8", EV_DTYPE_F32, EV_DTYPE_U8, 0.99},
        {"QUANTIZE float32->int8", EV_DTYPE_F32, EV_DTYPE_I8, 0.99},
        {"QUANTIZE uint8->int8", EV_DTYPE_U8, EV_DTYPE_I8, 0.9},
        {"QUANTIZE int8->int8", EV_DTYPE_I8, EV_DTYPE_I8, 0.9},
        {"QUANTIZE int8->uint8", EV_DTYPE_I8, EV_DTYPE_U8, 0.9},
        {"DEQUANTIZE uint8", EV_DTYPE_U8, EV_DTYPE_F32, 0},
        {"DEQUANTIZE int8", EV_DTYPE_I8, EV_DTYPE_F32, 0},
        {"DEQUANTIZE int16", EV_DTYPE_I16, EV_DTYPE_F32, 0},
    };
    for (int i = 0; i < (int)(sizeof k / sizeof k[0]); i++) {
        stats s = {0};
        double t0 = ev_test_now();
        for (int c = 0; c < n_cases; c++) quantize_case(&s, k[i].in, k[i].out, ev_test_rng_seed(base_seed, 60 + i, c));
        report(k[i].label, &s, ev_test_now() - t0, k[i].exact);
    }
}

static void test_reshape(void) {
    group("RESHAPE uint8", 70, reshape_case, EV_DTYPE_U8, 1.0);
    group("RESHAPE int8", 71, reshape_case, EV_DTYPE_I8, 1.0);
    group("RESHAPE float32", 72, reshape_case, EV_DTYPE_F32, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Prepare-time errors                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Builds a one-op model with `build`, creates a session and expects `want` with `needle` (and
 * the op's name) in the message. */
static void expect_error(gb *b, ev_status want, const char *op_name, const char *needle) {
    ev_model *m = NULL;
    CHECK_MSG(gb_finish(b, &m) == EV_OK, "builder: %s", b->msg);
    if (!m) return;
    ev_session *s = NULL;
    ev_status st = ev_session_create(m, NULL, &s);
    const char *e = ev_last_error();
    CHECK_MSG(st == want, "%s: got %s (%s), expected %s", op_name, ev_status_string(st), e,
              ev_status_string(want));
    CHECK_MSG(strstr(e, op_name) && strstr(e, needle), "%s: message '%s' lacks '%s'", op_name, e,
              needle);
    ev_session_free(s);
    ev_model_free(m);
}

static void test_errors(void) {
    gb b;
    int d4[4] = {1, 4, 4, 3}, d1[4] = {1, 1, 1, 3}, d2[2] = {1, 5};
    /* pooling with different input and output quantization */
    gb_init(&b);
    int x = gb_tensor_q(&b, "x", EV_DTYPE_U8, 4, d4, NULL, 0.1f, 3);
    int y = gb_tensor_q(&b, "y", EV_DTYPE_U8, 4, d1, NULL, 0.2f, 3);
    int op = gb_op(&b, EV_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D", 1, 1, &x, 1, &y);
    b.g.ops[op].p.pool = (ev_pool_params){EV_PAD_VALID, 1, 1, 4, 4, EV_ACT_NONE};
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_UNSUPPORTED, "AVERAGE_POOL_2D", "pooling needs them equal");
    /* pooling whose output shape is wrong */
    gb_init(&b);
    x = gb_tensor_q(&b, "x", EV_DTYPE_F32, 4, d4, NULL, 0, 0);
    y = gb_tensor_q(&b, "y", EV_DTYPE_F32, 4, d4, NULL, 0, 0);
    op = gb_op(&b, EV_OP_MAX_POOL_2D, "MAX_POOL_2D", 17, 1, &x, 1, &y);
    b.g.ops[op].p.pool = (ev_pool_params){EV_PAD_VALID, 2, 2, 2, 2, EV_ACT_NONE};
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_SHAPE, "MAX_POOL_2D", "gives 1x2x2x3");
    /* uint8 softmax with a zero point other than 0 */
    gb_init(&b);
    x = gb_tensor_q(&b, "x", EV_DTYPE_U8, 2, d2, NULL, 0.1f, 3);
    y = gb_tensor_q(&b, "y", EV_DTYPE_U8, 2, d2, NULL, 1.0f / 256, 5);
    op = gb_op(&b, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &x, 1, &y);
    b.g.ops[op].p.softmax.beta = 1.0f;
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_UNSUPPORTED, "SOFTMAX", "zero point 5");
    /* ADD whose inputs do not broadcast */
    gb_init(&b);
    int da[2] = {2, 3}, db[2] = {2, 4};
    x = gb_tensor_q(&b, "a", EV_DTYPE_F32, 2, da, NULL, 0, 0);
    int x2 = gb_tensor_q(&b, "b", EV_DTYPE_F32, 2, db, NULL, 0, 0);
    y = gb_tensor_q(&b, "y", EV_DTYPE_F32, 2, db, NULL, 0, 0);
    int ins[2] = {x, x2};
    gb_op(&b, EV_OP_ADD, "ADD", 0, 2, ins, 1, &y);
    gb_inputs(&b, 2, ins);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_SHAPE, "ADD", "inputs 2x3 and 2x4 do not broadcast");
    /* MEAN whose axes are not constant */
    gb_init(&b);
    int one = 1;
    x = gb_tensor_q(&b, "x", EV_DTYPE_F32, 2, d2, NULL, 0, 0);
    x2 = gb_tensor_q(&b, "axes", EV_DTYPE_I32, 1, &one, NULL, 0, 0);
    y = gb_tensor_q(&b, "y", EV_DTYPE_F32, 1, &one, NULL, 0, 0);
    int ins2[2] = {x, x2};
    gb_op(&b, EV_OP_MEAN, "MEAN", 40, 2, ins2, 1, &y);
    gb_inputs(&b, 2, ins2);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_UNSUPPORTED, "MEAN", "must be a constant int32");
    /* FULLY_CONNECTED whose input is not whole rows of the weights' depth */
    gb_init(&b);
    int wd[2] = {4, 3};
    float w[12] = {0};
    x = gb_tensor_q(&b, "x", EV_DTYPE_F32, 2, d2, NULL, 0, 0);
    x2 = gb_tensor(&b, "w", EV_DTYPE_F32, 2, wd, w, sizeof w, 0, NULL, NULL, 0);
    int yd[2] = {1, 4};
    y = gb_tensor_q(&b, "y", EV_DTYPE_F32, 2, yd, NULL, 0, 0);
    int ins3[2] = {x, x2};
    gb_op(&b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 2, ins3, 1, &y);
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_SHAPE, "FULLY_CONNECTED", "not a whole number of rows of depth 3");
    /* quantized LOGISTIC whose output scale is not 1/256 */
    gb_init(&b);
    x = gb_tensor_q(&b, "x", EV_DTYPE_I8, 2, d2, NULL, 0.1f, 0);
    y = gb_tensor_q(&b, "y", EV_DTYPE_I8, 2, d2, NULL, 0.01f, -128);
    gb_op(&b, EV_OP_LOGISTIC, "LOGISTIC", 14, 1, &x, 1, &y);
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    expect_error(&b, EV_ERR_UNSUPPORTED, "LOGISTIC", "needs exactly 1/256");
}

int main(void) {
    const char *env = getenv("EV_TEST_SEED");
    if (env && *env) base_seed = strtoull(env, NULL, 0);
    env = getenv("EV_TEST_CASES");
    if (env && atoi(env) > 0) n_cases = atoi(env);
    fprintf(stderr, "test_ops: base seed 0x%llx (EV_TEST_SEED to change), %d cases per group\n",
            (unsigned long long)base_seed, n_cases);
    double t0 = ev_test_now();
    EV_RUN(test_pool);
    EV_RUN(test_softmax);
    EV_RUN(test_fully_connected);
    EV_RUN(test_add);
    EV_RUN(test_mean);
    EV_RUN(test_logistic);
    EV_RUN(test_quantize);
    EV_RUN(test_reshape);
    EV_RUN(test_errors);
    fprintf(stderr, "total %.2f s\n", ev_test_now() - t0);
    return ev_test_finish();
}
