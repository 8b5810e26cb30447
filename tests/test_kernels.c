/*
 * test_kernels.c - the ref backend's CONV_2D, DEPTHWISE_CONV_2D and CONCATENATION kernels against
 * an independent double-precision computation, on random single-op graphs built in memory
 * (graph_builder.h) and run through the public session API.
 *
 * Quantized conv/depthwise (int8 per-channel, uint8 per-tensor): every output within 1 unit of
 * round(real / out_scale) + out_zp clamped to the activation range, and > 95% exact. Float32:
 * max|y - ref| / max|ref| <= 1e-5. Concatenation: requantised inputs within 1, same-quantization
 * inputs byte-exact. Also: session-creation errors, that the memory plan of a 6-conv chain
 * reuses memory without changing any result, and the cpu backend's float GEMM lines
 * (gemm_f32.h: every line this machine runs, called directly) against double precision and
 * against the portable line, with row and channel remainders, strides above the widths, the
 * residual and the clamp, K up to 1300, NaN propagation, and nothing written past N. And the
 * quantized GEMM lines (gemm.h, every line this machine runs, called directly) on accumulators
 * landing on exact requantization ties: ties toward +infinity with the epilogue's round_half_up
 * (int8 CONV_2D as TFLite's runtime rounds it), away from zero without.
 *
 * Random cases come from a fixed-seed splitmix64; each case has its own seed (printed with the
 * case parameters on failure). Environment: EV_TEST_SEED=<n> changes the base seed;
 * EV_TEST_CASE_SEED=<seed> replays one conv case (printed seed) in each conv group;
 * EV_TEST_CASES=<n> sets the number of cases per conv group (default 1000).
 */
#include "ev_test.h"
#include "graph_builder.h"
#include "util.h"

#include "backends/cpu/cpu.h"
#include "core/quant.h" /* the GEMM lines' requantization oracle (test_gemm_q8_ties) */
#include "edgevision.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* Random numbers                                                                             */
/* ------------------------------------------------------------------------------------------ */

static uint64_t base_seed = 0x5EED0F7E57ull;
static uint64_t only_seed;    /* EV_TEST_CASE_SEED: replay one conv case (in every conv group) */
static int conv_cases = 1000; /* per conv group; EV_TEST_CASES overrides */

/* ------------------------------------------------------------------------------------------ */
/* Quantization, as TFLite defines it (written here independently of src/core/quant.h)       */
/* ------------------------------------------------------------------------------------------ */

static void qrange(ev_dtype dt, int32_t *qmin, int32_t *qmax) {
    *qmin = dt == EV_DTYPE_U8 ? 0 : -128;
    *qmax = dt == EV_DTYPE_U8 ? 255 : 127;
}

/* CalculateActivationRangeQuantized: quantize(f) = zp + (int32)TfLiteRound(f / scale). */
static void act_range_q(int act, float scale, int32_t zp, ev_dtype dt, int32_t *lo, int32_t *hi) {
    int32_t qmin, qmax;
    qrange(dt, &qmin, &qmax);
    int32_t q0 = zp + (int32_t)roundf(0.0f / scale);
    int32_t q6 = zp + (int32_t)roundf(6.0f / scale);
    int32_t qm1 = zp + (int32_t)roundf(-1.0f / scale);
    int32_t qp1 = zp + (int32_t)roundf(1.0f / scale);
    *lo = qmin;
    *hi = qmax;
    switch (act) {
    case EV_ACT_RELU: *lo = q0 > qmin ? q0 : qmin; break;
    case EV_ACT_RELU6:
        *lo = q0 > qmin ? q0 : qmin;
        *hi = q6 < qmax ? q6 : qmax;
        break;
    case EV_ACT_RELU_N1_TO_1:
        *lo = qm1 > qmin ? qm1 : qmin;
        *hi = qp1 < qmax ? qp1 : qmax;
        break;
    default: break;
    }
}

static void act_range_f(int act, double *lo, double *hi) {
    *lo = -INFINITY;
    *hi = INFINITY;
    if (act == EV_ACT_RELU) *lo = 0.0;
    if (act == EV_ACT_RELU6) *lo = 0.0, *hi = 6.0;
    if (act == EV_ACT_RELU_N1_TO_1) *lo = -1.0, *hi = 1.0;
}

/* round(real / scale) + zp, clamped to [lo, hi]. */
static int32_t quantize_real(double real, float scale, int32_t zp, int32_t lo, int32_t hi) {
    double v = round(real / (double)scale) + (double)zp;
    if (v < (double)lo) v = lo;
    if (v > (double)hi) v = hi;
    return (int32_t)v;
}

/* Element i of a quantized buffer as int. */
static int32_t qget(ev_dtype dt, const void *p, size_t i) {
    return dt == EV_DTYPE_U8 ? (int32_t)((const uint8_t *)p)[i] : (int32_t)((const int8_t *)p)[i];
}

static void qset(ev_dtype dt, void *p, size_t i, int32_t v) {
    if (dt == EV_DTYPE_U8)
        ((uint8_t *)p)[i] = (uint8_t)v;
    else
        ((int8_t *)p)[i] = (int8_t)v;
}

/* An output zero point and scale for real values r[0..n): zp random in the type's range, scale
 * so that the larger side fits (at least 40 levels each way, so a zp near the edge clips). */
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
    if (!(s > 1e-9) || !isfinite(s)) s = 0.01;
    *scale = (float)s;
}

/* ------------------------------------------------------------------------------------------ */
/* Convolutions                                                                               */
/* ------------------------------------------------------------------------------------------ */

typedef struct conv_spec {
    ev_dtype dt; /* F32, U8 or I8 (input, filter, output) */
    int dw;
    int batch, in_h, in_w, in_c, out_c, k_h, k_w, dm;
    ev_conv_params p;
    int has_bias;
    int out_h, out_w, pad_t, pad_l;
    float in_s, out_s;
    int32_t in_zp, out_zp;
    int nq_w;     /* filter scales: 1 or out_c */
    float *w_s;   /* [nq_w] */
    int32_t *w_zp; /* [nq_w] */
    void *w;      /* filter */
    void *bias;   /* int32 or float [out_c], NULL when absent */
    size_t w_elems;
    uint64_t seed;
} conv_spec;

static const char *act_name(int a) {
    switch (a) {
    case EV_ACT_NONE: return "NONE";
    case EV_ACT_RELU: return "RELU";
    case EV_ACT_RELU6: return "RELU6";
    case EV_ACT_RELU_N1_TO_1: return "RELU_N1_TO_1";
    }
    return "?";
}

static void describe_conv(const conv_spec *c, char *buf, size_t n) {
    snprintf(buf, n, "seed=0x%016llx %s %s in %dx%dx%dx%d k %dx%d out_c %d dm %d stride %dx%d "
             "dil %dx%d %s act %s bias %d -> out %dx%d pad %d,%d in q(%g,%d) out q(%g,%d) w zp0 %d",
             (unsigned long long)c->seed, ev_dtype_name(c->dt), c->dw ? "DEPTHWISE" : "CONV",
             c->batch, c->in_h, c->in_w, c->in_c, c->k_h, c->k_w, c->out_c, c->dm, c->p.stride_h,
             c->p.stride_w, c->p.dilation_h, c->p.dilation_w,
             c->p.padding == EV_PAD_SAME ? "SAME" : "VALID", act_name(c->p.activation),
             c->has_bias, c->out_h, c->out_w, c->pad_t, c->pad_l, (double)c->in_s, c->in_zp,
             (double)c->out_s, c->out_zp, c->w_zp ? c->w_zp[0] : 0);
}

static void conv_spec_free(conv_spec *c) {
    free(c->w_s);
    free(c->w_zp);
    free(c->w);
    free(c->bias);
    memset(c, 0, sizeof *c);
}

/* Output size and leading padding along one axis (TFLite padding.h, restated). */
static void geometry(ev_padding pad, int in, int k, int s, int d, int *out, int *before) {
    int eff = (k - 1) * d + 1;
    if (pad == EV_PAD_SAME)
        *out = (in + s - 1) / s;
    else
        *out = in < eff ? 0 : (in - eff) / s + 1;
    int total = (*out - 1) * s + eff - in;
    *before = total > 0 ? total / 2 : 0;
}

/* Fills c's filter/bias/quantization randomly for the geometry already set in c. Returns 0 when
 * the geometry has no output. */
static int conv_fill(ev_test_rng *r, conv_spec *c) {
    geometry(c->p.padding, c->in_h, c->k_h, c->p.stride_h, c->p.dilation_h, &c->out_h, &c->pad_t);
    geometry(c->p.padding, c->in_w, c->k_w, c->p.stride_w, c->p.dilation_w, &c->out_w, &c->pad_l);
    if (c->out_h <= 0 || c->out_w <= 0) return 0;
    int taps = c->k_h * c->k_w * (c->dw ? 1 : c->in_c);
    c->w_elems = (size_t)c->k_h * c->k_w * (c->dw ? (size_t)c->out_c : (size_t)c->out_c * c->in_c);
    c->nq_w = c->dt == EV_DTYPE_I8 ? c->out_c : 1;
    if (c->dt == EV_DTYPE_F32) c->nq_w = 0;
    c->w_s = calloc((size_t)c->out_c, sizeof(float));
    c->w_zp = calloc((size_t)c->out_c, sizeof(int32_t));
    c->w = malloc(c->w_elems * 4);
    c->bias = c->has_bias ? malloc((size_t)c->out_c * 4) : NULL;
    if (c->dt == EV_DTYPE_F32) {
        float *w = c->w;
        double a = 2.0 / sqrt((double)taps);
        for (size_t i = 0; i < c->w_elems; i++) w[i] = (float)ev_test_rng_uni(r, -a, a);
        if (c->bias)
            for (int i = 0; i < c->out_c; i++) ((float *)c->bias)[i] = (float)ev_test_rng_uni(r, -1, 1);
        return 1;
    }
    c->in_s = (float)ev_test_rng_uni(r, 0.005, 0.05);
    if (c->dt == EV_DTYPE_I8) {
        c->in_zp = ev_test_rng_int(r, -128, 127);
        for (int i = 0; i < c->out_c; i++) c->w_s[i] = (float)ev_test_rng_uni(r, 0.001, 0.02);
        for (size_t i = 0; i < c->w_elems; i++) ((int8_t *)c->w)[i] = (int8_t)ev_test_rng_int(r, -127, 127);
    } else {
        c->in_zp = ev_test_rng_int(r, 0, 255);
        c->w_s[0] = (float)ev_test_rng_uni(r, 0.001, 0.02);
        int k = ev_test_rng_int(r, 0, 3);
        c->w_zp[0] = k < 3 ? 127 + k : ev_test_rng_int(r, 0, 255);
        for (size_t i = 0; i < c->w_elems; i++) ((uint8_t *)c->w)[i] = (uint8_t)ev_test_rng_int(r, 0, 255);
    }
    if (c->bias) {
        int bmax = (int)(4000.0 * sqrt((double)taps));
        if (ev_test_rng_int(r, 0, 4) == 0) bmax *= 4;
        for (int i = 0; i < c->out_c; i++) ((int32_t *)c->bias)[i] = ev_test_rng_int(r, -bmax, bmax);
    }
    return 1;
}

/* A random case of the given kind (see the brief in the file comment). */
static void conv_random(ev_test_rng *r, ev_dtype dt, int dw, uint64_t seed, conv_spec *c) {
    for (;;) {
        memset(c, 0, sizeof *c);
        c->seed = seed;
        c->dt = dt;
        c->dw = dw;
        c->batch = ev_test_rng_int(r, 1, 2);
        c->in_h = ev_test_rng_int(r, 1, 13);
        c->in_w = ev_test_rng_int(r, 1, 13);
        c->in_c = ev_test_rng_int(r, 1, 19);
        if (dw) {
            c->dm = ev_test_rng_int(r, 1, 3);
            c->out_c = c->in_c * c->dm;
        } else {
            c->dm = 1;
            c->out_c = ev_test_rng_int(r, 1, 23);
        }
        int shape = ev_test_rng_int(r, 0, 3);
        c->k_h = ev_test_rng_int(r, 1, 5);
        c->k_w = shape == 0 ? c->k_h : ev_test_rng_int(r, 1, 5); /* a quarter square, the rest anything */
        c->p.stride_h = ev_test_rng_int(r, 1, 3);
        c->p.stride_w = ev_test_rng_int(r, 1, 3);
        c->p.dilation_h = ev_test_rng_int(r, 1, 2);
        c->p.dilation_w = ev_test_rng_int(r, 1, 2);
        c->p.padding = ev_test_rng_int(r, 0, 1) ? EV_PAD_VALID : EV_PAD_SAME;
        static const ev_activation acts[4] = {EV_ACT_NONE, EV_ACT_RELU, EV_ACT_RELU6,
                                              EV_ACT_RELU_N1_TO_1};
        c->p.activation = acts[ev_test_rng_int(r, 0, 3)];
        c->p.depth_multiplier = dw ? c->dm : 0;
        c->has_bias = ev_test_rng_int(r, 0, 4) != 0;
        if (conv_fill(r, c)) return;
    }
}

/* Real-valued input element i. */
static double in_real(const conv_spec *c, const void *x, size_t i) {
    if (c->dt == EV_DTYPE_F32) return ((const float *)x)[i];
    return (double)(qget(c->dt, x, i) - c->in_zp) * (double)c->in_s;
}

/* The reference: y[n][oy][ox][oc] in real numbers before the activation, in double. */
static void conv_ref(const conv_spec *c, const void *x, double *y) {
    double *xr = malloc(sizeof(double) * (size_t)c->batch * c->in_h * c->in_w * c->in_c + 8);
    double *wr = malloc(sizeof(double) * c->w_elems + 8);
    double br[64 * 4];
    for (size_t i = 0; i < (size_t)c->batch * c->in_h * c->in_w * c->in_c; i++)
        xr[i] = in_real(c, x, i);
    size_t per_oc = (size_t)c->k_h * c->k_w * c->in_c;
    for (size_t i = 0; i < c->w_elems; i++) {
        if (c->dt == EV_DTYPE_F32) {
            wr[i] = ((const float *)c->w)[i];
            continue;
        }
        int oc = c->dw ? (int)(i % (size_t)c->out_c) : (int)(i / per_oc);
        int q = c->nq_w > 1 ? oc : 0;
        wr[i] = (double)(qget(c->dt, c->w, i) - c->w_zp[q]) * (double)c->w_s[q];
    }
    for (int oc = 0; oc < c->out_c; oc++) {
        if (!c->bias)
            br[oc] = 0.0;
        else if (c->dt == EV_DTYPE_F32)
            br[oc] = ((const float *)c->bias)[oc];
        else
            br[oc] = (double)((const int32_t *)c->bias)[oc] * (double)c->in_s *
                     (double)c->w_s[c->nq_w > 1 ? oc : 0];
    }
    for (int n = 0; n < c->batch; n++)
        for (int oy = 0; oy < c->out_h; oy++)
            for (int ox = 0; ox < c->out_w; ox++)
                for (int oc = 0; oc < c->out_c; oc++) {
                    double acc = 0.0;
                    for (int ky = 0; ky < c->k_h; ky++) {
                        int iy = oy * c->p.stride_h - c->pad_t + ky * c->p.dilation_h;
                        if (iy < 0 || iy >= c->in_h) continue;
                        for (int kx = 0; kx < c->k_w; kx++) {
                            int ix = ox * c->p.stride_w - c->pad_l + kx * c->p.dilation_w;
                            if (ix < 0 || ix >= c->in_w) continue;
                            size_t xb = (((size_t)n * c->in_h + iy) * c->in_w + ix) * c->in_c;
                            if (c->dw) {
                                int ic = oc / c->dm;
                                acc += xr[xb + ic] * wr[((size_t)ky * c->k_w + kx) * c->out_c + oc];
                            } else {
                                size_t wb = (((size_t)oc * c->k_h + ky) * c->k_w + kx) * c->in_c;
                                for (int ic = 0; ic < c->in_c; ic++) acc += xr[xb + ic] * wr[wb + ic];
                            }
                        }
                    }
                    y[(((size_t)n * c->out_h + oy) * c->out_w + ox) * c->out_c + oc] = acc + br[oc];
                }
    free(xr);
    free(wr);
}

/* Adds c's filter, bias and op to a builder, reading tensor `in` and writing `out`. */
static void conv_add(gb *b, const conv_spec *c, int in, int out, const char *prefix) {
    char name[64];
    int wd_dw[4] = {1, c->k_h, c->k_w, c->out_c}, wd[4] = {c->out_c, c->k_h, c->k_w, c->in_c};
    size_t esz = ev_dtype_size(c->dt);
    snprintf(name, sizeof name, "%sfilter", prefix);
    int tw = gb_tensor(b, name, c->dt, 4, c->dw ? wd_dw : wd, c->w, c->w_elems * esz, c->nq_w,
                       c->w_s, c->w_zp, c->dw ? 3 : 0);
    int tb = -1;
    if (c->bias) {
        snprintf(name, sizeof name, "%sbias", prefix);
        if (c->dt == EV_DTYPE_F32) {
            tb = gb_tensor(b, name, EV_DTYPE_F32, 1, &c->out_c, c->bias, (size_t)c->out_c * 4, 0,
                           NULL, NULL, 0);
        } else {
            float bs[64 * 4];
            for (int i = 0; i < c->nq_w; i++) bs[i] = c->in_s * c->w_s[i];
            tb = gb_tensor(b, name, EV_DTYPE_I32, 1, &c->out_c, c->bias, (size_t)c->out_c * 4,
                           c->nq_w, bs, NULL, 0);
        }
    }
    ev_op_type type = c->dw ? EV_OP_DEPTHWISE_CONV_2D : EV_OP_CONV_2D;
    if (tb < 0 && (c->seed & 1)) { /* no bias as two inputs (else three with the third -1) */
        int ins[2] = {in, tw};
        int op = gb_op(b, type, c->dw ? "DEPTHWISE_CONV_2D" : "CONV_2D", c->dw ? 4 : 3, 2, ins, 1,
                       &out);
        if (op >= 0) b->g.ops[op].p.conv = c->p;
        return;
    }
    gb_op_conv(b, type, in, tw, tb, out, c->p);
}

static int conv_in_tensor(gb *b, const conv_spec *c, const char *name) {
    int d[4] = {c->batch, c->in_h, c->in_w, c->in_c};
    return gb_tensor_q(b, name, c->dt, 4, d, NULL, c->dt == EV_DTYPE_F32 ? 0.0f : c->in_s,
                       c->in_zp);
}

static int conv_out_tensor(gb *b, const conv_spec *c, const char *name) {
    int d[4] = {c->batch, c->out_h, c->out_w, c->out_c};
    return gb_tensor_q(b, name, c->dt, 4, d, NULL, c->dt == EV_DTYPE_F32 ? 0.0f : c->out_s,
                       c->out_zp);
}

/* A one-op model of c. */
static ev_status conv_model(const conv_spec *c, ev_model **m) {
    gb b;
    gb_init(&b);
    int ti = conv_in_tensor(&b, c, "input");
    int to = conv_out_tensor(&b, c, "output");
    conv_add(&b, c, ti, to, "");
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_status st = gb_finish(&b, m);
    if (st != EV_OK) fprintf(stderr, "graph builder: %s\n", b.msg);
    return st;
}

static void *random_input(ev_test_rng *r, const conv_spec *c, size_t *bytes) {
    size_t n = (size_t)c->batch * c->in_h * c->in_w * c->in_c;
    *bytes = n * ev_dtype_size(c->dt);
    void *x = malloc(*bytes);
    for (size_t i = 0; i < n; i++) {
        if (c->dt == EV_DTYPE_F32)
            ((float *)x)[i] = (float)ev_test_rng_uni(r, -1, 1);
        else if (c->dt == EV_DTYPE_U8)
            ((uint8_t *)x)[i] = (uint8_t)ev_test_rng_int(r, 0, 255);
        else
            ((int8_t *)x)[i] = (int8_t)ev_test_rng_int(r, -128, 127);
    }
    return x;
}

typedef struct stats {
    long cases, failed_cases;
    size_t elems, exact;
    int max_diff;
    double max_rel; /* float */
} stats;

/* Compares a run's output with the double reference y (before the activation). Returns 1 when
 * the case passes: quantized within 1 unit everywhere, float32 relative error <= 1e-5. */
static int conv_compare(const conv_spec *c, const double *y, const void *out, const char *desc,
                        stats *stt) {
    size_t n_out = (size_t)c->batch * c->out_h * c->out_w * c->out_c;
    if (c->dt == EV_DTYPE_F32) {
        double lo, hi, maxref = 0, maxerr = 0, worst_ref = 0;
        size_t worst = 0;
        act_range_f(c->p.activation, &lo, &hi);
        for (size_t i = 0; i < n_out; i++) {
            double ref = y[i] < lo ? lo : y[i] > hi ? hi : y[i];
            double err = fabs((double)((const float *)out)[i] - ref);
            if (fabs(ref) > maxref) maxref = fabs(ref);
            if (err > maxerr || i == 0) maxerr = err, worst = i, worst_ref = ref;
        }
        double rel = maxref > 0 ? maxerr / maxref : maxerr;
        if (rel > stt->max_rel) stt->max_rel = rel;
        CHECK_MSG(rel <= 1e-5, "%s: max|y-ref|/max|ref| = %g (element %zu: %.9g vs %.9g)", desc,
                  rel, worst, (double)((const float *)out)[worst], worst_ref);
        return rel <= 1e-5;
    }
    int32_t lo, hi;
    act_range_q(c->p.activation, c->out_s, c->out_zp, c->dt, &lo, &hi);
    size_t bad = 0, first_bad = 0;
    int maxd = 0;
    for (size_t i = 0; i < n_out; i++) {
        int32_t e = quantize_real(y[i], c->out_s, c->out_zp, lo, hi);
        int d = abs(qget(c->dt, out, i) - e);
        if (d == 0) stt->exact++;
        if (d > 1 && bad++ == 0) first_bad = i;
        if (d > maxd) maxd = d;
    }
    stt->elems += n_out;
    if (maxd > stt->max_diff) stt->max_diff = maxd;
    if (!bad) {
        CHECK(1);
        return 1;
    }
    size_t i = first_bad, pix = i / (size_t)c->out_c;
    CHECK_MSG(0, "%s: %zu of %zu outputs off by > 1 (max %d); first at [n=%zu y=%zu x=%zu c=%d]: "
              "got %d, expected %d (real/out_scale + zp = %.9g, act range [%d,%d])", desc, bad,
              n_out, maxd, pix / ((size_t)c->out_h * c->out_w),
              pix / (size_t)c->out_w % (size_t)c->out_h, pix % (size_t)c->out_w,
              (int)(i % (size_t)c->out_c), qget(c->dt, out, i),
              quantize_real(y[i], c->out_s, c->out_zp, lo, hi), y[i] / (double)c->out_s + c->out_zp,
              lo, hi);
    return 0;
}

/* One random case: build, run, compare. */
static void conv_case(ev_dtype dt, int dw, uint64_t seed, stats *stt) {
    ev_test_rng r = {seed};
    conv_spec c;
    conv_random(&r, dt, dw, seed, &c);
    size_t in_bytes;
    void *x = random_input(&r, &c, &in_bytes);
    size_t n_out = (size_t)c.batch * c.out_h * c.out_w * c.out_c;
    double *y = malloc(sizeof(double) * n_out);
    conv_ref(&c, x, y);
    if (dt != EV_DTYPE_F32) choose_out_q(&r, y, n_out, dt, &c.out_s, &c.out_zp);
    char desc[512];
    describe_conv(&c, desc, sizeof desc);

    ev_model *m = NULL;
    ev_session *s = NULL;
    const void *out = NULL;
    ev_tensor_info info;
    ev_status st = conv_model(&c, &m);
    if (st == EV_OK) st = ev_test_run(m, NULL, 1, (const void *const[]){x}, (const size_t[]){in_bytes}, &s, &out, &info);
    CHECK_MSG(st == EV_OK, "%s: %s: %s", desc, ev_status_string(st), ev_last_error());
    stt->cases++;
    int pass = st == EV_OK;
    if (st == EV_OK) {
        int shape_ok = info.dtype == dt && info.ndim == 4 && info.dims[0] == c.batch &&
                       info.dims[1] == c.out_h && info.dims[2] == c.out_w &&
                       info.dims[3] == c.out_c && info.bytes == n_out * ev_dtype_size(dt);
        CHECK_MSG(shape_ok, "%s: output info %s %dx%dx%dx%d", desc, ev_dtype_name(info.dtype),
                  info.dims[0], info.dims[1], info.dims[2], info.dims[3]);
        pass = shape_ok && conv_compare(&c, y, out, desc, stt);
    }
    if (!pass) stt->failed_cases++;
    ev_session_free(s);
    ev_model_free(m);
    free(x);
    free(y);
    conv_spec_free(&c);
}

static void conv_group(const char *label, int group, ev_dtype dt, int dw, int n) {
    stats s = {0};
    double t0 = ev_test_now();
    if (only_seed)
        conv_case(dt, dw, only_seed, &s);
    else
        for (int k = 0; k < n; k++) conv_case(dt, dw, ev_test_rng_seed(base_seed, group, k), &s);
    double t = ev_test_now() - t0;
    if (dt == EV_DTYPE_F32) {
        fprintf(stderr, "  %-28s %4ld cases, %ld failed, max rel err %.3g  (%.2f s)\n", label,
                s.cases, s.failed_cases, s.max_rel, t);
    } else {
        double frac = s.elems ? (double)s.exact / (double)s.elems : 0.0;
        fprintf(stderr, "  %-28s %4ld cases, %ld failed, %zu outputs, exact %.4f%%, max diff %d"
                "  (%.2f s)\n", label, s.cases, s.failed_cases, s.elems, 100.0 * frac,
                s.max_diff, t);
        CHECK_MSG(frac > 0.95, "%s: exact-match fraction %.4f", label, frac);
    }
}

static void test_conv_int8(void) {
    conv_group("int8 CONV_2D per-channel", 1, EV_DTYPE_I8, 0, conv_cases);
    conv_group("int8 DEPTHWISE per-channel", 2, EV_DTYPE_I8, 1, conv_cases);
}

static void test_conv_uint8(void) {
    conv_group("uint8 CONV_2D", 3, EV_DTYPE_U8, 0, conv_cases);
    conv_group("uint8 DEPTHWISE", 4, EV_DTYPE_U8, 1, conv_cases);
}

static void test_conv_float(void) {
    conv_group("float32 CONV_2D", 5, EV_DTYPE_F32, 0, conv_cases);
    conv_group("float32 DEPTHWISE", 6, EV_DTYPE_F32, 1, conv_cases);
}

/* ------------------------------------------------------------------------------------------ */
/* Concatenation                                                                              */
/* ------------------------------------------------------------------------------------------ */

#define CC_MAX_IN 4

typedef struct concat_spec {
    ev_dtype dt;
    int ndim, axis_stored, axis, n_in;
    int dims[CC_MAX_IN][EV_MAX_DIMS];
    int out_dims[EV_MAX_DIMS];
    float s[CC_MAX_IN], out_s;
    int32_t zp[CC_MAX_IN], out_zp;
    void *x[CC_MAX_IN];
    size_t elems[CC_MAX_IN];
    uint64_t seed;
} concat_spec;

static void describe_concat(const concat_spec *c, char *buf, size_t n) {
    int w = snprintf(buf, n, "seed=0x%016llx %s axis %d (stored %d) out q(%g,%d):",
                     (unsigned long long)c->seed, ev_dtype_name(c->dt), c->axis, c->axis_stored,
                     (double)c->out_s, c->out_zp);
    for (int i = 0; i < c->n_in && w > 0 && (size_t)w < n; i++) {
        w += snprintf(buf + w, n - (size_t)w, " in%d ", i);
        for (int d = 0; d < c->ndim && (size_t)w < n; d++)
            w += snprintf(buf + w, n - (size_t)w, d ? "x%d" : "%d", c->dims[i][d]);
        if ((size_t)w < n && c->dt != EV_DTYPE_F32)
            w += snprintf(buf + w, n - (size_t)w, " q(%g,%d)", (double)c->s[i], c->zp[i]);
    }
}

/* mode 0: mixed quantization (some inputs share the output's, the rest differ); 1: all inputs
 * share the output's quantization. axis_stored: the axis as written into the op (may be
 * negative); INT32_MIN picks one at random. */
static void concat_random(ev_test_rng *r, ev_dtype dt, int mode, int ndim, int axis_stored,
                          uint64_t seed, concat_spec *c) {
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->dt = dt;
    c->ndim = ndim;
    if (axis_stored == INT32_MIN) {
        axis_stored = ev_test_rng_int(r, 0, ndim - 1);
        if (ev_test_rng_int(r, 0, 2) == 0) axis_stored -= ndim;
    }
    c->axis_stored = axis_stored;
    c->axis = axis_stored < 0 ? axis_stored + ndim : axis_stored;
    c->n_in = ev_test_rng_int(r, 1, CC_MAX_IN);
    int base[EV_MAX_DIMS];
    for (int d = 0; d < ndim; d++) base[d] = ev_test_rng_int(r, 1, 6);
    c->out_dims[c->axis] = 0;
    int32_t qmin, qmax;
    qrange(dt, &qmin, &qmax);
    if (dt != EV_DTYPE_F32) {
        c->out_s = (float)ev_test_rng_uni(r, 0.005, 0.1);
        c->out_zp = ev_test_rng_int(r, qmin, qmax);
    }
    for (int i = 0; i < c->n_in; i++) {
        for (int d = 0; d < ndim; d++) c->dims[i][d] = base[d];
        c->dims[i][c->axis] = ev_test_rng_int(r, 1, 5);
        c->out_dims[c->axis] += c->dims[i][c->axis];
        c->elems[i] = 1;
        for (int d = 0; d < ndim; d++) c->elems[i] *= (size_t)c->dims[i][d];
        c->x[i] = malloc(c->elems[i] * ev_dtype_size(dt));
        for (size_t j = 0; j < c->elems[i]; j++) {
            if (dt == EV_DTYPE_F32)
                ((float *)c->x[i])[j] = (float)ev_test_rng_uni(r, -100, 100);
            else
                qset(dt, c->x[i], j, ev_test_rng_int(r, qmin, qmax));
        }
        if (dt != EV_DTYPE_F32) {
            if (mode == 1 || ev_test_rng_int(r, 0, 3) == 0) {
                c->s[i] = c->out_s;
                c->zp[i] = c->out_zp;
            } else {
                c->s[i] = (float)ev_test_rng_uni(r, 0.005, 0.1);
                c->zp[i] = ev_test_rng_int(r, qmin, qmax);
                if (ev_test_rng_int(r, 0, 4) == 0) c->s[i] = c->out_s; /* zero point differs only */
                else if (ev_test_rng_int(r, 0, 4) == 0) c->zp[i] = c->out_zp; /* scale differs only */
            }
        }
    }
    for (int d = 0; d < ndim; d++)
        if (d != c->axis) c->out_dims[d] = base[d];
}

static void concat_free(concat_spec *c) {
    for (int i = 0; i < c->n_in; i++) free(c->x[i]);
}

/* Builds and runs c; compares element by element against an independent gather. Inputs whose
 * quantization equals the output's must be copied exactly; the others within 1. */
static void concat_case(const concat_spec *c, stats *stt) {
    char desc[512];
    describe_concat(c, desc, sizeof desc);
    int quant = c->dt != EV_DTYPE_F32;
    gb b;
    gb_init(&b);
    int tin[CC_MAX_IN];
    for (int i = 0; i < c->n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "in%d", i);
        tin[i] = gb_tensor_q(&b, name, c->dt, c->ndim, c->dims[i], NULL, quant ? c->s[i] : 0.0f,
                             c->zp[i]);
    }
    int tout = gb_tensor_q(&b, "out", c->dt, c->ndim, c->out_dims, NULL, quant ? c->out_s : 0.0f,
                           c->out_zp);
    gb_op_concat(&b, c->n_in, tin, tout, c->axis_stored, EV_ACT_NONE);
    gb_inputs(&b, c->n_in, tin);
    gb_outputs(&b, 1, &tout);
    ev_model *m = NULL;
    ev_session *s = NULL;
    ev_status st = gb_finish(&b, &m);
    if (st != EV_OK) fprintf(stderr, "graph builder: %s\n", b.msg);
    if (st == EV_OK) st = ev_session_create(m, NULL, &s);
    for (int i = 0; i < c->n_in && st == EV_OK; i++)
        st = ev_session_set_input(s, i, c->x[i], c->elems[i] * ev_dtype_size(c->dt));
    if (st == EV_OK) st = ev_session_run(s);
    const void *out = NULL;
    ev_tensor_info info;
    if (st == EV_OK) st = ev_session_output(s, 0, &out, &info);
    CHECK_MSG(st == EV_OK, "%s: %s: %s", desc, ev_status_string(st), ev_last_error());
    stt->cases++;
    if (st != EV_OK) {
        stt->failed_cases++;
        ev_session_free(s);
        ev_model_free(m);
        return;
    }
    size_t outer = 1, inner = 1;
    for (int d = 0; d < c->axis; d++) outer *= (size_t)c->out_dims[d];
    for (int d = c->axis + 1; d < c->ndim; d++) inner *= (size_t)c->out_dims[d];
    int A = c->out_dims[c->axis];
    int32_t qmin = 0, qmax = 0;
    if (quant) qrange(c->dt, &qmin, &qmax);
    size_t bad = 0, idx = 0;
    int maxd = 0;
    char first[200] = "";
    for (size_t o = 0; o < outer; o++)
        for (int a = 0; a < A; a++) {
            int i = 0, off = 0;
            while (a >= off + c->dims[i][c->axis]) off += c->dims[i++][c->axis];
            size_t src = ((size_t)o * c->dims[i][c->axis] + (size_t)(a - off)) * inner;
            for (size_t j = 0; j < inner; j++, idx++) {
                int same = !quant || (c->s[i] == c->out_s && c->zp[i] == c->out_zp);
                int d;
                if (c->dt == EV_DTYPE_F32) {
                    float g = ((const float *)out)[idx], e = ((const float *)c->x[i])[src + j];
                    d = memcmp(&g, &e, sizeof g) != 0;
                } else if (same) {
                    d = abs(qget(c->dt, out, idx) - qget(c->dt, c->x[i], src + j));
                } else {
                    double real = (double)(qget(c->dt, c->x[i], src + j) - c->zp[i]) *
                                  (double)c->s[i];
                    d = abs(qget(c->dt, out, idx) -
                            quantize_real(real, c->out_s, c->out_zp, qmin, qmax));
                }
                if (d == 0) stt->exact++;
                if (d > maxd) maxd = d;
                if (d > (same ? 0 : 1) && bad++ == 0)
                    snprintf(first, sizeof first, "output %zu (from input %d element %zu, %s): "
                             "diff %d", idx, i, src + j, same ? "copied" : "requantised", d);
            }
        }
    stt->elems += idx;
    if (maxd > stt->max_diff) stt->max_diff = maxd;
    if (bad) stt->failed_cases++;
    CHECK_MSG(bad == 0, "%s: %zu bad outputs; first %s", desc, bad, first);
    ev_session_free(s);
    ev_model_free(m);
}

static void test_concat(void) {
    double t0 = ev_test_now();
    /* uint8 and int8 with differing input quantization (requantisation path). */
    for (int q = 0; q < 2; q++) {
        ev_dtype dt = q ? EV_DTYPE_I8 : EV_DTYPE_U8;
        stats s = {0};
        for (int k = 0; k < 400; k++) {
            uint64_t seed = ev_test_rng_seed(base_seed, 10 + q, k);
            ev_test_rng r = {seed};
            concat_spec c;
            concat_random(&r, dt, 0, ev_test_rng_int(&r, 1, 5), INT32_MIN, seed, &c);
            concat_case(&c, &s);
            concat_free(&c);
        }
        fprintf(stderr, "  %-28s %4ld cases, %ld failed, %zu outputs, exact %.4f%%, max diff %d\n",
                q ? "int8 CONCAT requant" : "uint8 CONCAT requant", s.cases, s.failed_cases,
                s.elems, 100.0 * (double)s.exact / (double)(s.elems ? s.elems : 1), s.max_diff);
    }
    /* Identical quantization everywhere: a byte-exact copy; float32 exact; axes 1, 2, 3, -1 and
     * random ones. */
    static const ev_dtype dts[3] = {EV_DTYPE_U8, EV_DTYPE_I8, EV_DTYPE_F32};
    static const int axes[5] = {1, 2, 3, -1, INT32_MIN};
    for (int t = 0; t < 3; t++) {
        stats s = {0};
        for (int a = 0; a < 5; a++)
            for (int k = 0; k < 30; k++) {
                uint64_t seed = ev_test_rng_seed(base_seed, 20 + t * 8 + a, k);
                ev_test_rng r = {seed};
                concat_spec c;
                int ndim = axes[a] == INT32_MIN ? ev_test_rng_int(&r, 1, 6) : 4;
                concat_random(&r, dts[t], 1, ndim, axes[a], seed, &c);
                concat_case(&c, &s);
                concat_free(&c);
            }
        CHECK_EQ_INT(s.exact, s.elems);
        fprintf(stderr, "  %-28s %4ld cases, %ld failed, %zu outputs, exact %.4f%%\n",
                t == 0 ? "uint8 CONCAT same quant" : t == 1 ? "int8 CONCAT same quant"
                                                             : "float32 CONCAT",
                s.cases, s.failed_cases, s.elems,
                100.0 * (double)s.exact / (double)(s.elems ? s.elems : 1));
    }
    fprintf(stderr, "  concat total %.2f s\n", ev_test_now() - t0);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors at session creation / input                                                         */
/* ------------------------------------------------------------------------------------------ */

/* A 1x5x5x3 -> 4-channel 3x3 SAME int8 conv whose output has the given dims. */
static ev_model *small_conv(const int out_dims[4], ev_dtype in_dt, ev_dtype w_dt) {
    static const int8_t w[4 * 3 * 3 * 3] = {1, 2, 3};
    static const float wf[4 * 3 * 3 * 3] = {1.0f};
    gb b;
    gb_init(&b);
    int di[4] = {1, 5, 5, 3}, dw[4] = {4, 3, 3, 3};
    int q_in = in_dt != EV_DTYPE_F32, q_w = w_dt != EV_DTYPE_F32;
    int ti = gb_tensor_q(&b, "x", in_dt, 4, di, NULL, q_in ? 0.02f : 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", w_dt, 4, dw, q_w ? (const void *)w : (const void *)wf,
                         q_w ? 0.01f : 0.0f, 0);
    int to = gb_tensor_q(&b, "y", in_dt, 4, out_dims, NULL, q_in ? 0.1f : 0.0f, 0);
    ev_conv_params p = {EV_PAD_SAME, 1, 1, 1, 1, 0, EV_ACT_NONE};
    gb_op_conv(&b, EV_OP_CONV_2D, ti, tw, -1, to, p);
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) fprintf(stderr, "graph builder: %s\n", b.msg);
    return m;
}

static void test_errors(void) {
    ev_session *s = NULL;
    static const int good[4] = {1, 5, 5, 4}, bad_c[4] = {1, 5, 5, 5}, bad_h[4] = {1, 4, 5, 4};

    /* Wrong output shape. */
    const int *bads[2] = {bad_c, bad_h};
    for (int i = 0; i < 2; i++) {
        ev_model *m = small_conv(bads[i], EV_DTYPE_I8, EV_DTYPE_I8);
        CHECK(m != NULL);
        ev_status st = ev_session_create(m, NULL, &s);
        CHECK_MSG(st == EV_ERR_SHAPE, "wrong output shape %d: %s: %s", i, ev_status_string(st),
                  ev_last_error());
        CHECK(s == NULL);
        CHECK_MSG(strstr(ev_last_error(), "op 0") != NULL, "message: %s", ev_last_error());
        ev_session_free(s);
        s = NULL;
        ev_model_free(m);
    }

    /* Float input with an int8 filter (hybrid). */
    {
        ev_model *m = small_conv(good, EV_DTYPE_F32, EV_DTYPE_I8);
        CHECK(m != NULL);
        ev_status st = ev_session_create(m, NULL, &s);
        CHECK_MSG(st == EV_ERR_UNSUPPORTED, "hybrid: %s: %s", ev_status_string(st),
                  ev_last_error());
        CHECK(s == NULL);
        ev_session_free(s);
        s = NULL;
        ev_model_free(m);
    }

    /* An op the IR does not know. */
    {
        gb b;
        gb_init(&b);
        int di[4] = {1, 4, 4, 3}, dout[4] = {1, 8, 8, 3};
        int ti = gb_tensor_q(&b, "img", EV_DTYPE_U8, 4, di, NULL, 0.02f, 128);
        int to = gb_tensor_q(&b, "big", EV_DTYPE_U8, 4, dout, NULL, 0.02f, 128);
        gb_op(&b, EV_OP_UNSUPPORTED, "RESIZE_BILINEAR", 23, 1, &ti, 1, &to);
        gb_inputs(&b, 1, &ti);
        gb_outputs(&b, 1, &to);
        ev_model *m = NULL;
        CHECK_OK(gb_finish(&b, &m));
        ev_status st = ev_session_create(m, NULL, &s);
        const char *e = ev_last_error();
        CHECK_MSG(st == EV_ERR_UNSUPPORTED, "%s: %s", ev_status_string(st), e);
        CHECK_MSG(strstr(e, "RESIZE_BILINEAR") && strstr(e, "op 0") && strstr(e, "ref"),
                  "message lacks op name/index/backend: %s", e);
        CHECK(s == NULL);
        CHECK(m && ev_model_op_name(m, 0) && strcmp(ev_model_op_name(m, 0), "RESIZE_BILINEAR") == 0);
        ev_session_free(s);
        s = NULL;
        ev_model_free(m);
    }

    /* Wrong input size. */
    {
        ev_model *m = small_conv(good, EV_DTYPE_I8, EV_DTYPE_I8);
        CHECK(m != NULL);
        CHECK_OK(ev_session_create(m, NULL, &s));
        if (s) {
            int8_t x[1 * 5 * 5 * 3 + 1] = {0};
            CHECK_EQ_INT(ev_session_set_input(s, 0, x, 75 - 1), EV_ERR_SHAPE);
            CHECK_EQ_INT(ev_session_set_input(s, 0, x, 75 + 1), EV_ERR_SHAPE);
            CHECK_EQ_INT(ev_session_set_input(s, 0, x, 0), EV_ERR_SHAPE);
            CHECK_OK(ev_session_set_input(s, 0, x, 75));
            CHECK_OK(ev_session_run(s));
        }
        ev_session_free(s);
        ev_model_free(m);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Memory plan: a 6-op chain equals its ops run one by one                                    */
/* ------------------------------------------------------------------------------------------ */

#define CHAIN 6

typedef struct chain_capture {
    void *copy[CHAIN];
    size_t bytes[CHAIN];
    int calls;
} chain_capture;

static int capture_cb(void *user, int op_index, const char *op_name, const ev_tensor_info *output,
                      const void *data) {
    chain_capture *cap = user;
    (void)op_name;
    if (op_index < 0 || op_index >= CHAIN) return 1;
    free(cap->copy[op_index]);
    cap->copy[op_index] = malloc(output->bytes);
    memcpy(cap->copy[op_index], data, output->bytes);
    cap->bytes[op_index] = output->bytes;
    cap->calls++;
    return 0;
}

static void chain_test(ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    conv_spec c[CHAIN];
    memset(c, 0, sizeof c);
    /* channels 5 -> 8 -> dw 8 -> 12 -> dw x2 24 -> 7 (stride 2) -> dw 7 */
    static const int out_c[CHAIN] = {8, 8, 12, 24, 7, 7};
    static const int is_dw[CHAIN] = {0, 1, 0, 1, 0, 1};
    static const int ks[CHAIN] = {3, 3, 1, 3, 3, 5};
    static const int st_[CHAIN] = {1, 1, 1, 1, 2, 1};
    int h = 11, w = 9, ch = 5;
    void *single_out[CHAIN] = {0};
    size_t in_bytes;
    void *x0 = NULL;
    const void *cur = NULL;
    size_t cur_bytes = 0;
    int ok = 1;
    for (int k = 0; k < CHAIN && ok; k++) {
        conv_spec *s = &c[k];
        memset(s, 0, sizeof *s);
        s->seed = seed;
        s->dt = dt;
        s->dw = is_dw[k];
        s->batch = 2;
        s->in_h = h;
        s->in_w = w;
        s->in_c = ch;
        s->out_c = out_c[k];
        s->dm = s->dw ? out_c[k] / ch : 1;
        s->k_h = s->k_w = ks[k];
        s->p = (ev_conv_params){EV_PAD_SAME, st_[k], st_[k], 1, 1, s->dw ? s->dm : 0,
                                k % 2 ? EV_ACT_RELU6 : EV_ACT_NONE};
        s->has_bias = 1;
        conv_fill(&r, s);
        if (k > 0) { /* the input quantization is the previous output's */
            s->in_s = c[k - 1].out_s;
            s->in_zp = c[k - 1].out_zp;
        }
        if (k == 0) {
            x0 = random_input(&r, s, &in_bytes);
            cur = x0;
            cur_bytes = in_bytes;
        }
        size_t n_out = (size_t)s->batch * s->out_h * s->out_w * s->out_c;
        double *y = malloc(sizeof(double) * n_out);
        conv_ref(s, cur, y);
        if (dt != EV_DTYPE_F32) choose_out_q(&r, y, n_out, dt, &s->out_s, &s->out_zp);
        ev_model *m = NULL;
        ev_session *ss = NULL;
        const void *out;
        ev_tensor_info info;
        ev_status st = conv_model(s, &m);
        if (st == EV_OK) st = ev_test_run(m, NULL, 1, (const void *const[]){cur}, (const size_t[]){cur_bytes}, &ss, &out, &info);
        CHECK_MSG(st == EV_OK, "chain %s op %d alone: %s", ev_dtype_name(dt), k, ev_last_error());
        if (st == EV_OK) {
            char desc[560];
            int w0 = snprintf(desc, sizeof desc, "chain op %d: ", k);
            describe_conv(s, desc + w0, sizeof desc - (size_t)w0);
            stats chain_stats = {0};
            conv_compare(s, y, out, desc, &chain_stats); /* the chain's reference is sound, too */
            single_out[k] = malloc(info.bytes);
            memcpy(single_out[k], out, info.bytes);
            cur = single_out[k];
            cur_bytes = info.bytes;
        } else {
            ok = 0;
        }
        ev_session_free(ss);
        ev_model_free(m);
        free(y);
        h = s->out_h;
        w = s->out_w;
        ch = s->out_c;
    }
    if (ok) {
        gb b;
        gb_init(&b);
        int t[CHAIN + 1];
        t[0] = conv_in_tensor(&b, &c[0], "input");
        for (int k = 0; k < CHAIN; k++) {
            char name[32], prefix[32];
            snprintf(name, sizeof name, "act%d", k + 1);
            snprintf(prefix, sizeof prefix, "op%d/", k);
            t[k + 1] = conv_out_tensor(&b, &c[k], name);
            conv_add(&b, &c[k], t[k], t[k + 1], prefix);
        }
        gb_inputs(&b, 1, &t[0]);
        gb_outputs(&b, 1, &t[CHAIN]);
        ev_model *m = NULL;
        CHECK_OK(gb_finish(&b, &m));
        ev_session *s = NULL;
        CHECK_OK(ev_session_create(m, NULL, &s));
        if (s) {
            chain_capture cap = {{0}, {0}, 0};
            size_t planned = 0, unplanned = 0;
            ev_session_memory(s, &planned, &unplanned);
            CHECK_MSG(planned > 0 && planned < unplanned, "%s chain: planned %zu, unplanned %zu",
                      ev_dtype_name(dt), planned, unplanned);
            fprintf(stderr, "  %s chain of %d: planned %zu bytes, unplanned %zu\n",
                    ev_dtype_name(dt), CHAIN, planned, unplanned);
            CHECK_EQ_INT(ev_model_num_ops(m), CHAIN);
            ev_session_set_op_callback(s, capture_cb, &cap);
            for (int rep = 0; rep < 2; rep++) { /* a second run on the same arena, too */
                CHECK_OK(ev_session_set_input(s, 0, x0, in_bytes));
                CHECK_OK(ev_session_run(s));
                CHECK_EQ_INT(cap.calls, CHAIN * (rep + 1));
                for (int k = 0; k < CHAIN; k++) {
                    size_t nb = (size_t)c[k].batch * c[k].out_h * c[k].out_w * c[k].out_c *
                                ev_dtype_size(dt);
                    CHECK_MSG(cap.copy[k] && cap.bytes[k] == nb &&
                              memcmp(cap.copy[k], single_out[k], nb) == 0,
                              "%s chain (seed 0x%016llx): op %d output differs from the op run "
                              "alone", ev_dtype_name(dt), (unsigned long long)seed, k);
                }
                const void *out = NULL;
                ev_tensor_info info;
                CHECK_OK(ev_session_output(s, 0, &out, &info));
                CHECK(out && info.bytes == cap.bytes[CHAIN - 1] &&
                      memcmp(out, single_out[CHAIN - 1], info.bytes) == 0);
            }
            for (int k = 0; k < CHAIN; k++) free(cap.copy[k]);
        }
        ev_session_free(s);
        ev_model_free(m);
    }
    for (int k = 0; k < CHAIN; k++) {
        free(single_out[k]);
        conv_spec_free(&c[k]);
    }
    free(x0);
}

static void test_memory_plan(void) {
    chain_test(EV_DTYPE_I8, ev_test_rng_seed(base_seed, 40, 0));
    chain_test(EV_DTYPE_U8, ev_test_rng_seed(base_seed, 41, 0));
    chain_test(EV_DTYPE_F32, ev_test_rng_seed(base_seed, 42, 0));
}

/* ------------------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------------------ */
/* The float GEMM lines (gemm_f32.h), called directly                                         */
/* ------------------------------------------------------------------------------------------ */

/* Every float GEMM line some ISA path of this machine chooses (scalar first). */
static int f32_gemm_lines(const ev_cpu_f32_gemm_entry **out, int max) {
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8), n = 0;
    for (int i = 0; i < np; i++) {
        ev_cpu_config cfg;
        ev_cpu_config_init(paths[i], &cfg);
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= out[j] == cfg.f32_gemm;
        if (cfg.f32_gemm && !seen && n < max) out[n++] = cfg.f32_gemm;
    }
    return n;
}

/* C = clamp(A W + bias + R) against a double computation: |y - y*| <= 2 (K + 2) u S + u |y*|,
 * S = |bias| + sum_k |a_k w_k| + |r| (each summation order is within gamma_(K+2) S of the exact
 * sum, Higham 3.1; the clamp is exact), and against the portable line within twice that. NaN in A
 * gives NaN in its row (the reference's clamp passes NaN). Columns N..ldc-1 must be untouched. */
static void test_gemm_f32(void) {
    const ev_cpu_f32_gemm_entry *lines[8];
    int nl = f32_gemm_lines(lines, 8);
    CHECK(nl >= 1 && strstr(lines[0]->name, "scalar") != NULL);
    fprintf(stderr, "  float GEMM lines:");
    for (int i = 0; i < nl; i++) fprintf(stderr, " %s", lines[i]->name);
    fprintf(stderr, "\n");
    static const int n_edges[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 97};
    static const float clamps[4][2] = {{-INFINITY, INFINITY}, {0, INFINITY}, {-1, 1}, {0, 6}};
    const double u = 1.0 / 16777216.0;
    const float sentinel = -12345.5f;
    int cases = 300, failed = 0;
    double worst = 0;
    for (int t = 0; t < cases; t++) {
        ev_test_rng r = {ev_test_rng_seed(base_seed, 77, t)};
        int M = ev_test_rng_int(&r, 1, 40);
        int N = ev_test_rng_int(&r, 0, 1) ? n_edges[ev_test_rng_int(&r, 0, 15)]
                                           : ev_test_rng_int(&r, 1, 100);
        int K = t % 10 == 0 ? ev_test_rng_int(&r, 1000, 1300) : ev_test_rng_int(&r, 1, 200);
        size_t lda = (size_t)K + (size_t)ev_test_rng_int(&r, 0, 3);
        size_t ldc = (size_t)N + (size_t)ev_test_rng_int(&r, 0, 5);
        size_t ldr = (size_t)N + (size_t)ev_test_rng_int(&r, 0, 5);
        int use_r = ev_test_rng_int(&r, 0, 1), use_b = ev_test_rng_int(&r, 0, 3) != 0;
        int nan_row = t % 7 == 3 ? ev_test_rng_int(&r, 0, M - 1) : -1;
        const float *cl = clamps[ev_test_rng_int(&r, 0, 3)];
        float *A = malloc(sizeof(float) * (size_t)M * lda);
        float *W = malloc(sizeof(float) * (size_t)N * (size_t)K);
        float *bias = malloc(sizeof(float) * (size_t)N);
        float *R = malloc(sizeof(float) * (size_t)M * ldr);
        float *C0 = malloc(sizeof(float) * (size_t)M * ldc);
        float *C = malloc(sizeof(float) * (size_t)M * ldc);
        double *want = malloc(sizeof(double) * (size_t)M * (size_t)N);
        double *tol = malloc(sizeof(double) * (size_t)M * (size_t)N);
        if (!A || !W || !bias || !R || !C0 || !C || !want || !tol) {
            CHECK_MSG(0, "out of memory");
            free(A), free(W), free(bias), free(R), free(C0), free(C), free(want), free(tol);
            return;
        }
        for (size_t i = 0; i < (size_t)M * lda; i++) A[i] = (float)ev_test_rng_uni(&r, -2, 2);
        for (size_t i = 0; i < (size_t)N * K; i++) W[i] = (float)ev_test_rng_uni(&r, -1, 1);
        for (int i = 0; i < N; i++) bias[i] = (float)ev_test_rng_uni(&r, -1, 1);
        for (size_t i = 0; i < (size_t)M * ldr; i++) R[i] = (float)ev_test_rng_uni(&r, -2, 2);
        if (nan_row >= 0) A[(size_t)nan_row * lda + (size_t)ev_test_rng_int(&r, 0, K - 1)] = NAN;
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double acc = use_b ? bias[n] : 0.0, mag = fabs(acc);
                for (int k = 0; k < K; k++) {
                    double p = (double)A[(size_t)m * lda + k] * W[(size_t)n * K + k];
                    acc += p;
                    mag += fabs(p);
                }
                if (use_r) acc += R[(size_t)m * ldr + n], mag += fabs(R[(size_t)m * ldr + n]);
                double v = acc < cl[0] ? cl[0] : acc > cl[1] ? cl[1] : acc;
                want[(size_t)m * N + n] = v;
                tol[(size_t)m * N + n] = 2.0 * (K + 2) * u * mag + u * fabs(v);
            }
        ev_f32_epi ep = {.min = cl[0], .max = cl[1], .residual = use_r ? R : NULL,
                         .ldr = use_r ? ldr : 0};
        char desc[160];
        snprintf(desc, sizeof desc, "case %d: M %d N %d K %d lda %zu ldc %zu residual %d (ldr %zu) "
                 "bias %d clamp [%g, %g] nan row %d", t, M, N, K, lda, ldc, use_r, ldr, use_b,
                 (double)cl[0], (double)cl[1], nan_row);
        for (int li = 0; li < nl; li++) {
            const ev_cpu_f32_gemm_entry *e = lines[li];
            float *Wp = malloc(ev_f32_gemm_packed_size(N, K, e->nr));
            float *out = li == 0 ? C0 : C;
            if (!Wp) {
                CHECK_MSG(0, "out of memory");
                continue;
            }
            ev_f32_gemm_pack(W, use_b ? bias : NULL, N, K, e->nr, Wp);
            for (size_t i = 0; i < (size_t)M * ldc; i++) out[i] = sentinel;
            e->gemm(M, N, K, A, lda, Wp, &ep, out, ldc);
            int bad = 0;
            for (int m = 0; m < M && !bad; m++) {
                for (size_t n = (size_t)N; n < ldc; n++)
                    if (out[(size_t)m * ldc + n] != sentinel) {
                        CHECK_MSG(0, "%s %s: wrote C[%d][%zu] past N", e->name, desc, m, n);
                        bad = 1;
                        break;
                    }
                for (int n = 0; n < N && !bad; n++) {
                    double y = out[(size_t)m * ldc + n], w = want[(size_t)m * N + n];
                    double tl = tol[(size_t)m * N + n];
                    int ok = isnan(w) ? isnan(y) : fabs(y - w) <= tl;
                    if (ok && li > 0 && !isnan(w))
                        ok = fabs(y - (double)C0[(size_t)m * ldc + n]) <= 2 * tl;
                    if (!isnan(w) && tl > 0 && fabs(y - w) / tl > worst) worst = fabs(y - w) / tl;
                    if (!ok) {
                        CHECK_MSG(0, "%s %s: C[%d][%d] = %.9g, double %.9g (tol %.3g), %s %.9g",
                                  e->name, desc, m, n, y, w, tl, lines[0]->name,
                                  (double)C0[(size_t)m * ldc + n]);
                        bad = 1;
                    }
                }
            }
            failed += bad;
            free(Wp);
        }
        free(A), free(W), free(bias), free(R), free(C0), free(C), free(want), free(tol);
    }
    fprintf(stderr, "  %d cases x %d lines, %d failed; worst |y - y*| / bound %.3g\n", cases, nl,
            failed, worst);
}

/* ------------------------------------------------------------------------------------------ */
/* The quantized GEMM lines (gemm.h), called directly: requantization ties                    */
/* ------------------------------------------------------------------------------------------ */

/* Every quantized GEMM line some ISA path of this machine chooses for uint8 or int8 (scalar
 * first). */
static int q8_gemm_lines(const ev_cpu_gemm_entry **out, int max) {
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8), n = 0;
    for (int i = 0; i < np; i++) {
        ev_cpu_config cfg;
        ev_cpu_config_init(paths[i], &cfg);
        const ev_cpu_gemm_entry *e[2] = {ev_cpu_config_gemm(&cfg, EV_DTYPE_U8, INT_MAX),
                                         ev_cpu_config_gemm(&cfg, EV_DTYPE_I8, INT_MAX)};
        for (int t = 0; t < 2; t++) {
            int seen = 0;
            for (int j = 0; j < n; j++) seen |= out[j] == e[t];
            if (e[t] && !seen && n < max) out[n++] = e[t];
        }
    }
    return n;
}

/* One quantized GEMM line set up for a test: W packed, its scratch, a requantization table from
 * (mult, shift) in ep, and ep.bias = gbias, the bias plus 128 * sum_k s_k for lines that read
 * x - 128 (conv.c). Returns 0 (everything freed, failure checked) when an allocation fails. */
static int q8_line_setup(const ev_cpu_gemm_entry *e, const int8_t *W, int N, int K, int KP, int M,
                         const int32_t *mult, const int *shift, int NP, const int32_t *bias,
                         const int32_t *sum_s, int32_t *gbias, void **Bp, void **scratch,
                         ev_gemm_epi *ep, int32_t **table) {
    *Bp = malloc(e->packed_size(N, KP));
    size_t ks = e->scratch ? e->scratch(M, KP) : 0;
    *scratch = ks ? aligned_alloc(64, (ks + 63) & ~(size_t)63) : NULL;
    memset(ep, 0, sizeof *ep);
    *table = NULL;
    CHECK(*Bp && (!ks || *scratch) && ev_gemm_epi_requant(ep, table, mult, shift, N, NP) == 0);
    if (!*Bp || (ks && !*scratch) || !*table) {
        free(*Bp), free(*scratch), free(*table);
        return 0;
    }
    e->pack(W, N, K, KP, *Bp);
    for (int n = 0; n < N; n++)
        gbias[n] = bias[n] + (e->flags & EV_GEMM_A_MINUS_128 ? 128 * sum_s[n] : 0);
    ep->bias = gbias;
    return 1;
}

/* Every line's epilogue against core/quant.h on accumulators built to land on exact ties of the
 * right shift: M0 = 2^30 makes the doubling high multiply v / 2 (rounded up when v is odd), and
 * the right shifts 1..4 then meet k + 1/2 for 1 in 2^e values, of both signs. With
 * round_half_up (int8 CONV_2D, ruy's rule) each output must be
 * ev_mul_by_quantized_multiplier_up's, without it ev_mul_by_quantized_multiplier's (uint8,
 * depthwise), for int8 and uint8 stores; negative ties, where the two rules differ by one step,
 * must occur in every configuration. Some channels left-shift instead (any_lshift). M and N
 * leave remainders of every tile; bytes past N in each row stay untouched. */
static void test_gemm_q8_ties(void) {
    const ev_cpu_gemm_entry *lines[8];
    int nl = q8_gemm_lines(lines, 8);
    CHECK(nl >= 1 && strstr(lines[0]->name, "scalar") != NULL);
    fprintf(stderr, "  quantized GEMM lines:");
    for (int i = 0; i < nl; i++) fprintf(stderr, " %s", lines[i]->name);
    fprintf(stderr, "\n");
    enum { M = 37, N = 45, K = 13, KP = 16, NP = 48, LDC = N + 3 };
    ev_test_rng r = {base_seed ^ 0x71E5};
    static uint8_t A[M * KP], C[M * LDC];
    static int8_t W[N * K];
    static int32_t v[M][N];
    int32_t mult[N], bias[NP] = {0}, gbias[NP] = {0}, sum_s[N];
    int shift[N];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < KP; k++) A[i * KP + k] = k < K ? (uint8_t)ev_test_rng_int(&r, 0, 15) : 0;
    for (int n = 0; n < N; n++) {
        sum_s[n] = 0;
        for (int k = 0; k < K; k++) sum_s[n] += W[n * K + k] = (int8_t)ev_test_rng_int(&r, -4, 4);
        bias[n] = ev_test_rng_int(&r, -300, 300);
        mult[n] = 1 << 30;
        shift[n] = n % 9 == 8 ? 1 : -(1 + n % 4);
    }
    for (int i = 0; i < M; i++)
        for (int n = 0; n < N; n++) {
            int32_t acc = bias[n];
            for (int k = 0; k < K; k++) acc += (int32_t)A[i * KP + k] * W[n * K + k];
            v[i][n] = acc;
        }
    for (int li = 0; li < nl; li++) {
        const ev_cpu_gemm_entry *e = lines[li];
        void *Bp, *scratch;
        ev_gemm_epi ep;
        int32_t *table;
        if (!q8_line_setup(e, W, N, K, KP, M, mult, shift, NP, bias, sum_s, gbias, &Bp, &scratch,
                           &ep, &table))
            continue;
        for (int cfg = 0; cfg < 4; cfg++) {
            ep.out_i8 = cfg & 1;
            ep.round_half_up = cfg >> 1;
            ep.out_zp = ep.out_i8 ? -5 : 120;
            ep.act_min = ep.out_i8 ? -128 : 0;
            ep.act_max = ep.out_i8 ? 127 : 255;
            memset(C, 0xA5, sizeof C);
            e->gemm(M, N, KP, A, KP, Bp, NULL, &ep, C, LDC, scratch);
            int bad = 0, neg_ties = 0, clamped = 0;
            for (int i = 0; i < M && bad < 5; i++) {
                for (int n = 0; n < N; n++) {
                    int32_t up = ev_mul_by_quantized_multiplier_up(v[i][n], mult[n], shift[n]);
                    int32_t away = ev_mul_by_quantized_multiplier(v[i][n], mult[n], shift[n]);
                    int32_t want = (ep.round_half_up ? up : away) + ep.out_zp;
                    if (want < ep.act_min || want > ep.act_max) clamped++;
                    want = want < ep.act_min ? ep.act_min : want > ep.act_max ? ep.act_max : want;
                    if (up != away && want > ep.act_min && want < ep.act_max) neg_ties++;
                    int32_t got = ep.out_i8 ? (int32_t)(int8_t)C[i * LDC + n] : C[i * LDC + n];
                    if (got != want && bad++ < 5)
                        CHECK_MSG(0, "%s out_i8 %d half_up %d row %d ch %d: acc %d -> %d, want %d",
                                  e->name, ep.out_i8, ep.round_half_up, i, n, v[i][n], got, want);
                }
                for (int j = N; j < LDC; j++)
                    if (C[i * LDC + j] != 0xA5 && bad++ < 5)
                        CHECK_MSG(0, "%s: row %d byte %d past N written", e->name, i, j);
            }
            CHECK_MSG(neg_ties >= 100 && clamped < M * N / 4,
                      "%s out_i8 %d: only %d negative ties inside the range (%d clamped)",
                      e->name, ep.out_i8, neg_ties, clamped);
            CHECK_EQ_INT(bad, 0);
        }
        free(Bp), free(scratch), free(table);
    }
}

/* requant_avx512.h's one-step rounding (p + A) >> (31 + e) against core/quant.h's two steps on
 * every kind of accumulator (INT32_MIN, INT32_MAX, random, small, around ties), multipliers
 * (2^30, 2^31 - 1, random) and shifts (left 1..7, right 0..31), both tie rules, zero points. */
static void test_requant_avx512(void) {
#if defined(EV_CPU_X86)
    if (!ev_cpu_isa_has(EV_ISA_VNNI)) {
        EV_SKIP("no AVX-512 VNNI on this CPU");
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    long bad = 0;
    for (int it = 0; it < 20000; it++) {
        int32_t mult[32], acc[32], out[32];
        int shift[32];
        for (int c = 0; c < 32; c++) {
            int kind = (int)(RND() % 4), r = (int)(RND() % 10);
            mult[c] = kind == 0 ? 1 << 30 : kind == 1 ? INT32_MAX
                                                      : (int32_t)((1u << 30) + RND() % (1u << 30));
            shift[c] = r < 2 ? 1 + (int)(RND() % 7) : r < 4 ? -(int)(RND() % 32)
                                                           : -(int)(RND() % 12);
            int k = (int)(RND() % 6);
            acc[c] = k == 0 ? (int32_t)RND() : k == 1 ? (int32_t)(RND() % 2000001) - 1000000
                   : k == 2 ? INT32_MIN : k == 3 ? INT32_MAX : (int32_t)(RND() % 65) - 32;
            if (shift[c] > 0) acc[c] = (int32_t)(RND() % 1000001) - 500000; /* x << s in range */
        }
        ev_gemm_epi ep;
        memset(&ep, 0, sizeof ep);
        int32_t *table = NULL;
        CHECK(ev_gemm_epi_requant(&ep, &table, mult, shift, 32, 32) == 0);
        ep.out_zp = (int32_t)(RND() % 256) - 128;
        ep.act_min = INT32_MIN;
        ep.act_max = INT32_MAX;
        ep.round_half_up = it & 1;
        for (int n0 = 0; n0 < 32; n0 += 16) {
            ev_requant16_avx512(acc + n0, &ep, n0, out + n0);
            for (int c = n0; c < n0 + 16; c++) {
                int32_t q = ep.round_half_up
                                ? ev_mul_by_quantized_multiplier_up(acc[c], mult[c], shift[c])
                                : ev_mul_by_quantized_multiplier(acc[c], mult[c], shift[c]);
                /* + zero point as the vector add does it (wrapping; the clamp follows) */
                int32_t want = (int32_t)((uint32_t)q + (uint32_t)ep.out_zp);
                if (out[c] != want && bad++ < 5)
                    fprintf(stderr, "requant16: acc %d M0 %d shift %d half_up %d: %d, want %d\n",
                            acc[c], mult[c], shift[c], ep.round_half_up, out[c], want);
            }
        }
        free(table);
    }
#undef RND
    CHECK_EQ_INT(bad, 0);
#endif
}

/* The per-tensor uint8 GEMM tests' reference: row sums of A's K bytes per row, and C (rows
 * ldc apart) checked against bias + delta rowsum + sum_k a s, requantized by (m0, -e) with core/
 * quant.h, + zp, clamped to 0..255; columns N..ldc must hold 0xA5. Reports the first mismatches
 * with `what` (the line and case) and returns their count. */
static void q8_row_sums(const uint8_t *A, size_t lda, int M, int K, int32_t *rs) {
    for (int i = 0; i < M; i++) {
        rs[i] = 0;
        for (int k = 0; k < K; k++) rs[i] += A[(size_t)i * lda + k];
    }
}
static int q8_per_tensor_bad(const char *what, const uint8_t *A, size_t lda, const int8_t *W,
                             int M, int N, int K, const int32_t *bias, const int32_t *delta,
                             const int32_t *rs, int32_t m0, int e, int zp, const uint8_t *C,
                             int ldc) {
    int bad = 0;
    for (int i = 0; i < M; i++)
        for (int n = 0; n < ldc; n++) {
            int32_t want = 0xA5;
            if (n < N) {
                int32_t acc = bias[n] + delta[n] * rs[i];
                for (int k = 0; k < K; k++) acc += (int32_t)A[(size_t)i * lda + k] * W[n * K + k];
                want = ev_mul_by_quantized_multiplier(acc, m0, -e) + zp;
                want = want < 0 ? 0 : want > 255 ? 255 : want;
            }
            if (C[i * ldc + n] != want && bad++ < 5)
                CHECK_MSG(0, "%s row %d ch %d: %d, want %d", what, i, n, C[i * ldc + n], want);
        }
    return bad;
}

/* Every quantized GEMM line on per-tensor uint8 layers (one multiplier, one right shift 1..16,
 * zero point 0, no clamp: the dot-product GEMM's straight epilogue) with the row-sum term
 * (delta) and without, on rows with zero bytes past K (own row sums where the line takes them)
 * and on direct rows K bytes apart with K % 4 != 0 (conv.c's 1x1 case: the caller's row sums
 * when delta is set, none otherwise), against core/quant.h. M and N leave edge tiles. */
static void test_gemm_q8_per_tensor(void) {
    const ev_cpu_gemm_entry *lines[8];
    int nl = q8_gemm_lines(lines, 8);
    enum { M = 41, N = 40, K = 27, KP = 28, NP = 48, LDC = N + 5 };
    ev_test_rng r = {base_seed ^ 0x9E7A};
    static uint8_t A[M * KP + 64], C[M * LDC];
    static int8_t W[N * K];
    int32_t bias[NP] = {0}, gbias[NP] = {0}, delta[NP] = {0}, sum_s[N], mult[N], rs[M];
    int shift[N];
    for (int trial = 0; trial < 8; trial++) {
        const int direct = trial & 1, with_delta = (trial >> 1) & 1;
        const size_t lda = direct ? K : KP;
        const int32_t m0 = ev_test_rng_int(&r, 1 << 30, INT32_MAX);
        const int e = 1 + (trial * 5) % 16; /* 1, 6, 11, 16, 5, 10, 15, 4 */
        for (size_t i = 0; i < sizeof A; i++) A[i] = (uint8_t)ev_test_rng_int(&r, 0, 255);
        if (!direct)
            for (int i = 0; i < M; i++) memset(A + (size_t)i * KP + K, 0, KP - K);
        for (int n = 0; n < N; n++) {
            sum_s[n] = 0;
            for (int k = 0; k < K; k++)
                sum_s[n] += W[n * K + k] = (int8_t)ev_test_rng_int(&r, -128, 127);
            bias[n] = ev_test_rng_int(&r, -20000, 20000);
            delta[n] = with_delta ? ev_test_rng_int(&r, -1, 1) : 0;
            mult[n] = m0;
            shift[n] = -e;
        }
        q8_row_sums(A, lda, M, K, rs);
        for (int li = 0; li < nl; li++) {
            const ev_cpu_gemm_entry *ln = lines[li];
            void *Bp, *scratch;
            ev_gemm_epi ep;
            int32_t *table;
            if (!q8_line_setup(ln, W, N, K, KP, M, mult, shift, NP, bias, sum_s, gbias, &Bp,
                               &scratch, &ep, &table))
                continue;
            ep.delta = with_delta ? delta : NULL;
            ep.act_min = 0;
            ep.act_max = 255;
            /* conv.c's rule: row sums given unless the line sums rows and the bytes past K are 0 */
            const int32_t *rowsum =
                with_delta && (!(ln->flags & EV_GEMM_OWN_ROWSUMS) || direct) ? rs : NULL;
            memset(C, 0xA5, sizeof C);
            ln->gemm(M, N, KP, A, lda, Bp, rowsum, &ep, C, LDC, scratch);
            char what[160];
            snprintf(what, sizeof what, "%s direct %d delta %d e %d", ln->name, direct,
                     with_delta, e);
            CHECK_EQ_INT(q8_per_tensor_bad(what, A, lda, W, M, N, K, bias, delta, rs, m0, e, 0,
                                           C, LDC), 0);
            free(Bp), free(scratch), free(table);
        }
    }
}

/* Per-tensor uint8 layers as the whole-tile paths of the ARM lines take them (weights in
 * [-127, 127], one row-sum coefficient d per 16-channel block or none, output zero point 0 or
 * not, K 27 / 24 / 40 so that Kp % 8 is 4 or 0, N 24 / 40 / 17 leaving a last block of 8 or
 * 1 channels, small right shifts for many ties): every line against core/quant.h, with its own
 * row sums where it claims them, and columns past N untouched. */
static void test_gemm_q8_whole_tiles(void) {
    const ev_cpu_gemm_entry *lines[8];
    int nl = q8_gemm_lines(lines, 8);
    enum { MMAX = 48, KMAX = 40, NMAX = 40, NP = 48, LDC = NMAX + 3 };
    static const int Ks[3] = {27, 24, 40}, Ns[3] = {24, 40, 17};
    ev_test_rng r = {base_seed ^ 0x3C8A};
    static uint8_t A[MMAX * KMAX + 64], C[MMAX * LDC];
    static int8_t W[NMAX * KMAX];
    int32_t bias[NP] = {0}, gbias[NP] = {0}, delta[NP] = {0}, sum_s[NMAX], mult[NMAX], rs[MMAX];
    int shift[NMAX];
    for (int trial = 0; trial < 36; trial++) {
        /* trials 24..35: extreme bytes (x 0 or 255) and weights (-128, -127, 127) with -128 at k
         * or k + 4 of a pair but not both, except for one channel in trials 30..35 */
        const int ext = trial >= 24, both = trial >= 30;
        const int K = Ks[trial % 3], KP = (K + 3) & ~3, N = Ns[(trial / 3) % 3];
        const int M = trial & 1 ? 41 : 48, direct = (trial / 9) & 1 && K % 4 == 0;
        const int dmode = trial % 4, zp = (trial / 4) % 2 ? 0 : 9;
        const size_t lda = direct ? (size_t)K : (size_t)KP;
        const int32_t m0 = ev_test_rng_int(&r, 1 << 30, INT32_MAX);
        const int e = 1 + trial % 3;
        for (size_t i = 0; i < sizeof A; i++)
            A[i] = (uint8_t)(ext ? 255 * ev_test_rng_int(&r, 0, 1) : ev_test_rng_int(&r, 0, 255));
        if (!direct)
            for (int i = 0; i < M; i++) memset(A + (size_t)i * KP + K, 0, (size_t)(KP - K));
        for (int n = 0; n < N; n++) {
            sum_s[n] = 0;
            for (int k = 0; k < K; k++) {
                int8_t v = (int8_t)ev_test_rng_int(&r, -127, 127);
                if (ext) {
                    static const int8_t ends[3] = {-128, -127, 127};
                    v = ends[ev_test_rng_int(&r, 0, 2)];
                    if (v == -128 && k % 8 >= 4 && W[n * K + k - 4] == -128 && !(both && n == 5))
                        v = 127;
                }
                sum_s[n] += W[n * K + k] = v;
            }
            bias[n] = ev_test_rng_int(&r, -30000, 10000);
            /* dmode 0: none; 1: d = 1 on some channels; 2: d = -3 on some; 3: d = 2 on all */
            delta[n] = dmode == 1   ? (ev_test_rng_int(&r, 0, 2) == 0)
                       : dmode == 2 ? -3 * (ev_test_rng_int(&r, 0, 1))
                       : dmode == 3 ? 2
                                    : 0;
            mult[n] = m0;
            shift[n] = -e;
        }
        q8_row_sums(A, lda, M, K, rs);
        for (int li = 0; li < nl; li++) {
            const ev_cpu_gemm_entry *ln = lines[li];
            void *Bp, *scratch;
            ev_gemm_epi ep;
            int32_t *table;
            if (!q8_line_setup(ln, W, N, K, KP, M, mult, shift, NP, bias, sum_s, gbias, &Bp,
                               &scratch, &ep, &table))
                continue;
            ep.delta = dmode ? delta : NULL;
            ep.out_zp = zp;
            ep.act_min = 0;
            ep.act_max = 255;
            const int32_t *rowsum =
                dmode && (!(ln->flags & EV_GEMM_OWN_ROWSUMS) || direct) ? rs : NULL;
            memset(C, 0xA5, sizeof C);
            ln->gemm(M, N, KP, A, lda, Bp, rowsum, &ep, C, LDC, scratch);
            char what[160];
            snprintf(what, sizeof what, "%s K %d N %d M %d direct %d dmode %d zp %d e %d",
                     ln->name, K, N, M, direct, dmode, zp, e);
            CHECK_EQ_INT(q8_per_tensor_bad(what, A, lda, W, M, N, K, bias, delta, rs, m0, e, zp,
                                           C, LDC), 0);
            free(Bp), free(scratch), free(table);
        }
    }
}

int main(void) {
    const char *env = getenv("EV_TEST_SEED");
    if (env && *env) base_seed = strtoull(env, NULL, 0);
    env = getenv("EV_TEST_CASE_SEED");
    if (env && *env) only_seed = strtoull(env, NULL, 0);
    env = getenv("EV_TEST_CASES");
    if (env && atoi(env) > 0) conv_cases = atoi(env);
    fprintf(stderr, "test_kernels: base seed 0x%llx (EV_TEST_SEED to change)\n",
            (unsigned long long)base_seed);
    double t0 = ev_test_now();
    EV_RUN(test_conv_int8);
    EV_RUN(test_conv_uint8);
    EV_RUN(test_conv_float);
    EV_RUN(test_concat);
    EV_RUN(test_errors);
    EV_RUN(test_memory_plan);
    EV_RUN(test_gemm_f32);
    EV_RUN(test_gemm_q8_ties);
    EV_RUN(test_requant_avx512);
    EV_RUN(test_gemm_q8_per_tensor);
    EV_RUN(test_gemm_q8_whole_tiles);
    fprintf(stderr, "total %.2f s\n", ev_test_now() - t0);
    return ev_test_finish();
}
