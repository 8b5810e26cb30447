/*
 * test_ops_movenet.c - the ref backend's MoveNet ops against independent double-precision
 * computations on random single-op graphs (graph_builder.h), run through the public session API:
 *   SUB, MUL (uint8, int8, float32, int32; broadcasting), DIV (float32), FLOOR_DIV (int32,
 *   float32), SQRT, CAST, RESIZE_BILINEAR (int8, uint8, float32; plain, align_corners,
 *   half_pixel_centers), ARG_MAX, GATHER_ND, PACK, UNPACK.
 *
 * Tolerances: quantized outputs within 1 unit of round(real / s_out) + zp_out clamped to the
 * activation range, with at least 90% exact (TFLite's fixed-point arithmetic rounds twice);
 * float32 within 1e-5 relative (sqrt, division: the correctly rounded value); integer and
 * data-movement ops (int32 arithmetic, ARG_MAX, GATHER_ND, PACK, UNPACK, CAST) exact.
 * RESIZE_BILINEAR's sample positions are part of its definition (TFLite's int8 kernel places
 * them in 1/1024 steps, the float one in float): the double reference takes the same positions
 * and blends exactly.
 *
 * Extend: a new op is a case function (build the graph, compute the double reference, call
 * check()) and a group() line in main. EV_TEST_SEED=<n> changes the base seed.
 */
#include "ev_test.h"
#include "graph_builder.h"
#include "util.h"

#include "edgevision.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t base_seed = 0x30E7E7ull;
#define CASES 60

typedef struct stats {
    long cases, failed;
    size_t elems, exact;
} stats;

static void qrange(ev_dtype dt, int32_t *lo, int32_t *hi) {
    *lo = dt == EV_DTYPE_U8 ? 0 : -128;
    *hi = dt == EV_DTYPE_U8 ? 255 : 127;
}

static double getd(ev_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case EV_DTYPE_U8: return ((const uint8_t *)p)[i];
    case EV_DTYPE_I8: return ((const int8_t *)p)[i];
    case EV_DTYPE_I32: return ((const int32_t *)p)[i];
    case EV_DTYPE_F32: return ((const float *)p)[i];
    default: return NAN;
    }
}

static size_t prod(int nd, const int *d) {
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)d[i];
    return n;
}

/* Activation range in real units (quantized: converted by the caller). */
static void act_real(ev_activation a, double *lo, double *hi) {
    *lo = -INFINITY, *hi = INFINITY;
    if (a == EV_ACT_RELU) *lo = 0;
    if (a == EV_ACT_RELU6) *lo = 0, *hi = 6;
    if (a == EV_ACT_RELU_N1_TO_1) *lo = -1, *hi = 1;
}

/* Runs the one-op model in `b` and compares output 0 (dtype odt, n elements) with `ref`
 * (real values; quantized through s/zp and clamped to [qlo, qhi]). exact_only: no tolerance. */
static void check(stats *st, gb *b, int n_in, const int *ins, int out, const void *const *data,
                  ev_dtype odt, const double *ref, size_t n, float s, int32_t zp, int32_t qlo,
                  int32_t qhi, int exact_only, const char *desc) {
    ev_model *m = NULL;
    ev_session *sess = NULL;
    const void *y = NULL;
    ev_tensor_info yi;
    st->cases++;
    int rs = gb_test_run(b, n_in, ins, out, data, &m, &sess, &y, &yi);
    CHECK_MSG(rs == 0, "%s: %s%s", desc, rs == -1 ? "builder: " : "",
              rs == -1 ? b->msg : ev_last_error());
    if (rs != 0) {
        st->failed++;
        return;
    }
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        double got = getd(odt, y, i);
        if (odt == EV_DTYPE_U8 || odt == EV_DTYPE_I8) {
            double e = nearbyint(ref[i] / s) + zp;
            e = e < qlo ? qlo : e > qhi ? qhi : e;
            st->elems++;
            if (got == e) st->exact++;
            if (fabs(got - e) > (exact_only ? 0 : 1)) bad = 1;
        } else if (odt == EV_DTYPE_F32 && !exact_only) {
            if (isnan(ref[i]) ? !isnan(got)
                              : fabs(got - ref[i]) > 1e-5 * (fabs(ref[i]) > 1 ? fabs(ref[i]) : 1))
                bad = 1;
        } else if (!(got == ref[i] || (isnan(got) && isnan(ref[i])))) {
            bad = 1;
        }
        if (bad)
            CHECK_MSG(0, "%s: element %zu is %.9g, expected %.9g (real %.9g)", desc, i, got,
                      (odt == EV_DTYPE_U8 || odt == EV_DTYPE_I8) ? nearbyint(ref[i] / s) + zp
                                                                 : ref[i],
                      ref[i]);
    }
    if (bad) st->failed++;
    ev_session_free(sess);
    ev_model_free(m);
}

static int rshape(ev_test_rng *r, int lo, int hi, int maxd, int *d) {
    int nd = ev_test_rng_int(r, lo, hi);
    for (int i = 0; i < nd; i++) d[i] = ev_test_rng_int(r, 1, maxd);
    return nd;
}

/* ---- SUB / MUL / DIV / FLOOR_DIV ------------------------------------------------------ */

static void binary_case(stats *st, ev_op_type type, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int od[4], nd = rshape(&r, 1, 4, 6, od), bd[4], nb = 0;
    for (int i = ev_test_rng_int(&r, 0, nd - 1); i < nd; i++)
        bd[nb++] = ev_test_rng_int(&r, 0, 2) == 0 ? 1 : od[i];
    int q = dt == EV_DTYPE_U8 || dt == EV_DTYPE_I8;
    int32_t qlo = 0, qhi = 0;
    if (q) qrange(dt, &qlo, &qhi);
    float sa = q ? (float)ev_test_rng_uni(&r, 0.005, 0.3) : 0, sb = q ? (float)ev_test_rng_uni(&r, 0.005, 0.3) : 0;
    int32_t za = q ? ev_test_rng_int(&r, qlo, qhi) : 0, zb = q ? ev_test_rng_int(&r, qlo, qhi) : 0;
    static const ev_activation acts[4] = {EV_ACT_NONE, EV_ACT_RELU, EV_ACT_RELU6, EV_ACT_RELU_N1_TO_1};
    ev_activation act = type == EV_OP_FLOOR_DIV ? EV_ACT_NONE : acts[ev_test_rng_int(&r, 0, 3)];
    size_t nA = prod(nd, od), nB = prod(nb, bd);
    void *xa = ev_test_rng_data(&r, dt, nA, -100, 100), *xb = ev_test_rng_data(&r, dt, nB, -100, 100);
    if (type == EV_OP_FLOOR_DIV || type == EV_OP_DIV)
        for (size_t i = 0; i < nB; i++) {
            if (dt == EV_DTYPE_I32 && ((int32_t *)xb)[i] == 0) ((int32_t *)xb)[i] = -7;
            if (dt == EV_DTYPE_F32 && fabsf(((float *)xb)[i]) < 0.5f) ((float *)xb)[i] = 2.5f;
        }
    double *ref = malloc(sizeof(double) * nA);
    for (size_t o = 0; o < nA; o++) {
        size_t rem = o, ib = 0, stb = 1;
        for (int i = nd - 1; i >= 0; i--) {
            size_t c = rem % (size_t)od[i];
            rem /= (size_t)od[i];
            int kb = i - (nd - nb);
            if (kb >= 0) {
                if (bd[kb] != 1) ib += c * stb;
                stb *= (size_t)bd[kb];
            }
        }
        double a = getd(dt, xa, o), bv = getd(dt, xb, ib);
        if (q) a = sa * (a - za), bv = sb * (bv - zb);
        double v = type == EV_OP_SUB ? a - bv : type == EV_OP_MUL ? a * bv : type == EV_OP_DIV ? a / bv : floor(a / bv);
        if (dt == EV_DTYPE_F32 && type == EV_OP_FLOOR_DIV) v = floor((double)(float)a / (double)(float)bv);
        double lo, hi;
        act_real(act, &lo, &hi);
        if (!q) v = v < lo ? lo : v > hi ? hi : v;
        ref[o] = v;
    }
    float so = 0;
    int32_t zo = 0, alo = qlo, ahi = qhi;
    if (q) { /* output scale from the range of the result */
        double mn = 0, mx = 0;
        for (size_t i = 0; i < nA; i++) mn = ref[i] < mn ? ref[i] : mn, mx = ref[i] > mx ? ref[i] : mx;
        zo = ev_test_rng_int(&r, qlo + 40, qhi - 40);
        double s1 = mx / (qhi - zo), s2 = -mn / (zo - qlo);
        so = (float)(s1 > s2 ? s1 : s2);
        if (!(so > 1e-4f)) so = 1e-4f;
        double lo, hi;
        act_real(act, &lo, &hi);
        if (lo > -INFINITY) alo = zo + (int32_t)roundf((float)lo / so) > qlo ? zo + (int32_t)roundf((float)lo / so) : qlo;
        if (hi < INFINITY) ahi = zo + (int32_t)roundf((float)hi / so) < qhi ? zo + (int32_t)roundf((float)hi / so) : qhi;
    }
    gb b;
    gb_init(&b);
    int ta = gb_tensor_q(&b, "a", dt, nd, od, NULL, sa, za);
    int tb = gb_tensor_q(&b, "b", dt, nb, bd, NULL, sb, zb);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, so, zo);
    int ins[2] = {ta, tb};
    const char *name = type == EV_OP_SUB ? "SUB" : type == EV_OP_MUL ? "MUL" : type == EV_OP_DIV ? "DIV" : "FLOOR_DIV";
    int op = gb_op(&b, type, name, 0, 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.arith.activation = act;
    char desc[160];
    snprintf(desc, sizeof desc, "%s %s seed=0x%llx act %d", name, ev_dtype_name(dt),
             (unsigned long long)seed, act);
    const void *data[2] = {xa, xb};
    check(st, &b, 2, ins, ty, data, dt, ref, nA, so, zo, alo, ahi, !q && dt != EV_DTYPE_F32, desc);
    free(xa);
    free(xb);
    free(ref);
}

/* ---- SQRT, CAST ------------------------------------------------------------------------ */

static void unary_case(stats *st, ev_op_type type, ev_dtype in, ev_dtype out, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 1, 4, 7, d);
    size_t n = prod(nd, d);
    void *x = ev_test_rng_data(&r, in, n, type == EV_OP_SQRT ? -1 : -1000, 1000);
    double *ref = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        double v = getd(in, x, i);
        ref[i] = type == EV_OP_SQRT ? (v < 0 ? NAN : sqrt(v)) : out == EV_DTYPE_F32 ? (double)(float)v : trunc(v);
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", in, nd, d, NULL, 0, 0);
    int ty = gb_tensor_q(&b, "y", out, nd, d, NULL, 0, 0);
    gb_op(&b, type, type == EV_OP_SQRT ? "SQRT" : "CAST", 0, 1, &tx, 1, &ty);
    char desc[160];
    snprintf(desc, sizeof desc, "%s %s->%s seed=0x%llx", type == EV_OP_SQRT ? "SQRT" : "CAST",
             ev_dtype_name(in), ev_dtype_name(out), (unsigned long long)seed);
    const void *data[1] = {x};
    check(st, &b, 1, &tx, ty, data, out, ref, n, 0, 0, 0, 0, type == EV_OP_CAST, desc);
    free(x);
    free(ref);
}

/* ---- RESIZE_BILINEAR ------------------------------------------------------------------- */

static void resize_case(stats *st, ev_dtype dt, int mode, uint64_t seed) {
    ev_test_rng r = {seed};
    int id[4] = {ev_test_rng_int(&r, 1, 2), ev_test_rng_int(&r, 1, 12), ev_test_rng_int(&r, 1, 12),
                 ev_test_rng_int(&r, 1, 5)};
    int od[4] = {id[0], ev_test_rng_int(&r, 1, 30), ev_test_rng_int(&r, 1, 30), id[3]}, two = 2;
    int32_t size[2] = {od[1], od[2]};
    int q = dt != EV_DTYPE_F32;
    float s = q ? (float)ev_test_rng_uni(&r, 0.01, 0.5) : 0;
    int32_t zp = dt == EV_DTYPE_I8 ? ev_test_rng_int(&r, -128, 127) : dt == EV_DTYPE_U8 ? ev_test_rng_int(&r, 0, 255) : 0;
    size_t nI = prod(4, id), nO = prod(4, od);
    void *x = ev_test_rng_data(&r, dt, nI, -3, 3);
    double *ref = malloc(sizeof(double) * nO);
    int align = mode == 1, half = mode == 2;
    for (int bb = 0; bb < od[0]; bb++)
        for (int y = 0; y < od[1]; y++)
            for (int xx = 0; xx < od[2]; xx++)
                for (int c = 0; c < od[3]; c++) {
                    double pos[2];
                    int lo[2], hi[2];
                    for (int a = 0; a < 2; a++) { /* the sample position, as TFLite defines it */
                        int in = id[1 + a], out = od[1 + a], v = a ? xx : y;
                        if (dt == EV_DTYPE_I8) {
                            int32_t sc = (1024 * in + out / 2) / out;
                            if (align && out > 1) sc = (1024 * (in - 1) + (out - 1) / 2) / (out - 1);
                            int32_t p = half ? v * sc + sc / 2 - 512 : v * sc;
                            lo[a] = p / 1024 > 0 ? p / 1024 : 0;
                            hi[a] = (p + 1023) / 1024 < in - 1 ? (p + 1023) / 1024 : in - 1;
                            pos[a] = p / 1024.0;
                        } else {
                            float sc = (float)in / (float)out;
                            if (align && out > 1) sc = (float)(in - 1) / (float)(out - 1);
                            float p = half ? ((float)v + 0.5f) * sc - 0.5f : (float)v * sc;
                            lo[a] = (int)floorf(p) > 0 ? (int)floorf(p) : 0;
                            hi[a] = (int)ceilf(p) < in - 1 ? (int)ceilf(p) : in - 1;
                            pos[a] = p;
                        }
                    }
                    double wy = pos[0] - lo[0], wx = pos[1] - lo[1];
#define IX(yy, x2) ((((size_t)bb * (size_t)id[1] + (size_t)(yy)) * (size_t)id[2] + (size_t)(x2)) * (size_t)id[3] + (size_t)c)
                    double v = getd(dt, x, IX(lo[0], lo[1])) * (1 - wy) * (1 - wx) +
                               getd(dt, x, IX(hi[0], lo[1])) * wy * (1 - wx) +
                               getd(dt, x, IX(lo[0], hi[1])) * (1 - wy) * wx +
                               getd(dt, x, IX(hi[0], hi[1])) * wy * wx;
#undef IX
                    size_t o = (((size_t)bb * (size_t)od[1] + (size_t)y) * (size_t)od[2] + (size_t)xx) * (size_t)od[3] + (size_t)c;
                    /* the stored value (same scale in and out): real = s * (q - zp) */
                    if (dt == EV_DTYPE_U8) v = trunc(v); /* static_cast<uint8_t> of the float blend */
                    ref[o] = q ? s * (v - zp) : v;
                }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, s, zp);
    int tsz = gb_tensor(&b, "size", EV_DTYPE_I32, 1, &two, size, sizeof size, 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, s, zp);
    int ins[2] = {tx, tsz};
    int op = gb_op(&b, EV_OP_RESIZE_BILINEAR, "RESIZE_BILINEAR", 23, 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.resize.align_corners = align, b.g.ops[op].p.resize.half_pixel_centers = half;
    char desc[160];
    snprintf(desc, sizeof desc, "RESIZE_BILINEAR %s mode %d %dx%d -> %dx%d seed=0x%llx",
             ev_dtype_name(dt), mode, id[1], id[2], od[1], od[2], (unsigned long long)seed);
    const void *data[1] = {x};
    int32_t qlo = 0, qhi = 0;
    if (q) qrange(dt, &qlo, &qhi);
    check(st, &b, 1, &tx, ty, data, dt, ref, nO, s, zp, qlo, qhi, 0, desc);
    free(x);
    free(ref);
}

/* ---- ARG_MAX, GATHER_ND, PACK, UNPACK (exact) ----------------------------------------- */

static void argmax_case(stats *st, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 1, 4, 8, d), od[4], no = 0, one = 1;
    int axis = ev_test_rng_int(&r, 0, nd - 1);
    for (int i = 0; i < nd; i++)
        if (i != axis) od[no++] = d[i];
    size_t n = prod(nd, d), nO = prod(no, od);
    void *x = ev_test_rng_data(&r, dt, n, -3, 3);
    if (dt == EV_DTYPE_F32) /* ties too */
        for (size_t i = 0; i < n; i++) ((float *)x)[i] = roundf(((float *)x)[i]);
    size_t inner = prod(nd - axis - 1, d + axis + 1);
    double *ref = malloc(sizeof(double) * (nO + 1));
    for (size_t o = 0; o < nO; o++) {
        size_t outer = o / inner, in = o % inner, base = outer * (size_t)d[axis] * inner + in;
        int best = 0;
        for (int k = 1; k < d[axis]; k++)
            if (getd(dt, x, base + (size_t)k * inner) > getd(dt, x, base + (size_t)best * inner)) best = k;
        ref[o] = best;
    }
    int32_t ax = axis - (ev_test_rng_int(&r, 0, 1) ? nd : 0);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, dt == EV_DTYPE_F32 ? 0 : 0.1f, 0);
    int ta = gb_tensor(&b, "axis", EV_DTYPE_I32, 1, &one, &ax, sizeof ax, 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", EV_DTYPE_I32, no, od, NULL, 0, 0);
    int ins[2] = {tx, ta};
    gb_op(&b, EV_OP_ARG_MAX, "ARG_MAX", 56, 2, ins, 1, &ty);
    char desc[160];
    snprintf(desc, sizeof desc, "ARG_MAX %s axis %d seed=0x%llx", ev_dtype_name(dt), (int)ax,
             (unsigned long long)seed);
    const void *data[1] = {x};
    check(st, &b, 1, &tx, ty, data, EV_DTYPE_I32, ref, nO, 0, 0, 0, 0, 1, desc);
    free(x);
    free(ref);
}

static void gather_case(stats *st, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 1, 4, 6, d), k = ev_test_rng_int(&r, 1, nd);
    int id[2] = {ev_test_rng_int(&r, 1, 9), k}, od[5], no = 0;
    od[no++] = id[0];
    for (int i = k; i < nd; i++) od[no++] = d[i];
    int32_t ix[9 * 4];
    for (int t = 0; t < id[0]; t++)
        for (int j = 0; j < k; j++) ix[t * k + j] = ev_test_rng_int(&r, 0, d[j] - 1);
    size_t n = prod(nd, d), nO = prod(no, od), slice = prod(nd - k, d + k);
    void *x = ev_test_rng_data(&r, dt, n, -1000, 1000);
    double *ref = malloc(sizeof(double) * nO);
    for (int t = 0; t < id[0]; t++) {
        size_t from = 0;
        for (int j = 0; j < k; j++) from = from * (size_t)d[j] + (size_t)ix[t * k + j];
        for (size_t e = 0; e < slice; e++) ref[(size_t)t * slice + e] = getd(dt, x, from * slice + e);
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "params", dt, nd, d, NULL, 0, 0);
    int ti = gb_tensor(&b, "indices", EV_DTYPE_I32, 2, id, ix, sizeof(int32_t) * (size_t)(id[0] * k), 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, no, od, NULL, 0, 0);
    int ins[2] = {tx, ti};
    gb_op(&b, EV_OP_GATHER_ND, "GATHER_ND", 107, 2, ins, 1, &ty);
    char desc[160];
    snprintf(desc, sizeof desc, "GATHER_ND %s k=%d seed=0x%llx", ev_dtype_name(dt), k, (unsigned long long)seed);
    const void *data[1] = {x};
    check(st, &b, 1, &tx, ty, data, dt, ref, nO, 1, 0, -1000000, 1000000, 1, desc);
    free(x);
    free(ref);
}

static void pack_case(stats *st, int unpack, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 0, 3, 5, d), n = ev_test_rng_int(&r, 1, 4), axis = ev_test_rng_int(&r, 0, nd), bd[4];
    for (int i = 0, j = 0; i <= nd; i++) bd[i] = i == axis ? n : d[j++];
    size_t ns = prod(nd, d), inner = prod(nd - axis, d + axis), outer = ns / inner;
    void *v[4];
    for (int i = 0; i < n; i++) v[i] = ev_test_rng_data(&r, dt, ns, -1000, 1000);
    void *big = ev_test_rng_data(&r, dt, ns * (size_t)n, -1000, 1000);
    int pick = ev_test_rng_int(&r, 0, n - 1);
    double *ref = malloc(sizeof(double) * ns * (size_t)n);
    for (size_t o = 0; o < outer; o++)
        for (int i = 0; i < n; i++)
            for (size_t e = 0; e < inner; e++) {
                size_t bi = (o * (size_t)n + (size_t)i) * inner + e;
                if (!unpack) ref[bi] = getd(dt, v[i], o * inner + e);
                else if (i == pick) ref[o * inner + e] = getd(dt, big, bi);
            }
    gb b;
    gb_init(&b);
    int t[4], tb;
    char desc[160];
    snprintf(desc, sizeof desc, "%s %s n=%d axis %d seed=0x%llx", unpack ? "UNPACK" : "PACK",
             ev_dtype_name(dt), n, axis, (unsigned long long)seed);
    if (!unpack) {
        for (int i = 0; i < n; i++) t[i] = gb_tensor_q(&b, "v", dt, nd, d, NULL, 0, 0);
        tb = gb_tensor_q(&b, "y", dt, nd + 1, bd, NULL, 0, 0);
        int op = gb_op(&b, EV_OP_PACK, "PACK", 83, n, t, 1, &tb);
        if (op >= 0) b.g.ops[op].p.pack.count = n, b.g.ops[op].p.pack.axis = axis;
        check(st, &b, n, t, tb, (const void *const *)v, dt, ref, ns * (size_t)n, 1, 0, -1000000, 1000000, 1, desc);
    } else {
        tb = gb_tensor_q(&b, "x", dt, nd + 1, bd, NULL, 0, 0);
        for (int i = 0; i < n; i++) t[i] = gb_tensor_q(&b, "v", dt, nd, d, NULL, 0, 0);
        int op = gb_op(&b, EV_OP_UNPACK, "UNPACK", 88, 1, &tb, n, t);
        if (op >= 0) b.g.ops[op].p.pack.count = n, b.g.ops[op].p.pack.axis = axis - nd - 1;
        const void *data[1] = {big};
        check(st, &b, 1, &tb, t[pick], data, dt, ref, ns, 1, 0, -1000000, 1000000, 1, desc);
    }
    for (int i = 0; i < n; i++) free(v[i]);
    free(big);
    free(ref);
}

/* ---- groups --------------------------------------------------------------------------- */

static void report(const char *label, const stats *s) {
    if (s->elems)
        fprintf(stderr, "  %-30s %3ld cases, %ld failed, exact %.2f%%\n", label, s->cases, s->failed,
                100.0 * (double)s->exact / (double)s->elems);
    else
        fprintf(stderr, "  %-30s %3ld cases, %ld failed\n", label, s->cases, s->failed);
    CHECK(s->cases > 0 && s->failed == 0);
    if (s->elems) CHECK_MSG((double)s->exact >= 0.9 * (double)s->elems, "%s: exact fraction", label);
}

static void test_binary(void) {
    static const struct { const char *l; ev_op_type t; ev_dtype d; } k[] = {
        {"SUB uint8", EV_OP_SUB, EV_DTYPE_U8},        {"SUB int8", EV_OP_SUB, EV_DTYPE_I8},
        {"SUB float32", EV_OP_SUB, EV_DTYPE_F32},     {"SUB int32", EV_OP_SUB, EV_DTYPE_I32},
        {"MUL uint8", EV_OP_MUL, EV_DTYPE_U8},        {"MUL int8", EV_OP_MUL, EV_DTYPE_I8},
        {"MUL float32", EV_OP_MUL, EV_DTYPE_F32},     {"MUL int32", EV_OP_MUL, EV_DTYPE_I32},
        {"DIV float32", EV_OP_DIV, EV_DTYPE_F32},     {"FLOOR_DIV int32", EV_OP_FLOOR_DIV, EV_DTYPE_I32},
        {"FLOOR_DIV float32", EV_OP_FLOOR_DIV, EV_DTYPE_F32},
    };
    for (int i = 0; i < (int)(sizeof k / sizeof k[0]); i++) {
        stats s = {0};
        for (int c = 0; c < CASES; c++) binary_case(&s, k[i].t, k[i].d, ev_test_rng_seed(base_seed, i, c));
        report(k[i].l, &s);
    }
}

static void test_unary(void) {
    static const struct { const char *l; ev_op_type t; ev_dtype in, out; } k[] = {
        {"SQRT float32", EV_OP_SQRT, EV_DTYPE_F32, EV_DTYPE_F32},
        {"CAST uint8->float32", EV_OP_CAST, EV_DTYPE_U8, EV_DTYPE_F32},
        {"CAST int8->float32", EV_OP_CAST, EV_DTYPE_I8, EV_DTYPE_F32},
        {"CAST int32->float32", EV_OP_CAST, EV_DTYPE_I32, EV_DTYPE_F32},
        {"CAST float32->int32", EV_OP_CAST, EV_DTYPE_F32, EV_DTYPE_I32},
    };
    for (int i = 0; i < (int)(sizeof k / sizeof k[0]); i++) {
        stats s = {0};
        for (int c = 0; c < CASES; c++) unary_case(&s, k[i].t, k[i].in, k[i].out, ev_test_rng_seed(base_seed, 20 + i, c));
        report(k[i].l, &s);
    }
}

static void test_resize(void) {
    static const char *const modes[3] = {"", "/align_corners", "/half_pixel"};
    static const ev_dtype dts[3] = {EV_DTYPE_I8, EV_DTYPE_U8, EV_DTYPE_F32};
    for (int d = 0; d < 3; d++)
        for (int m = 0; m < 3; m++) {
            stats s = {0};
            for (int c = 0; c < CASES; c++) resize_case(&s, dts[d], m, ev_test_rng_seed(base_seed, 30 + d * 3 + m, c));
            char l[64];
            snprintf(l, sizeof l, "RESIZE_BILINEAR %s%s", ev_dtype_name(dts[d]), modes[m]);
            report(l, &s);
        }
}

static void test_data_movement(void) {
    static const ev_dtype dts[3] = {EV_DTYPE_I8, EV_DTYPE_U8, EV_DTYPE_F32};
    for (int d = 0; d < 3; d++) {
        stats a = {0}, g = {0}, p = {0}, u = {0};
        char l[64];
        for (int c = 0; c < CASES; c++) {
            argmax_case(&a, dts[d], ev_test_rng_seed(base_seed, 40 + d, c));
            gather_case(&g, dts[d], ev_test_rng_seed(base_seed, 50 + d, c));
            pack_case(&p, 0, dts[d], ev_test_rng_seed(base_seed, 60 + d, c));
            pack_case(&u, 1, dts[d], ev_test_rng_seed(base_seed, 70 + d, c));
        }
        snprintf(l, sizeof l, "ARG_MAX %s", ev_dtype_name(dts[d]));
        report(l, &a);
        snprintf(l, sizeof l, "GATHER_ND %s", ev_dtype_name(dts[d]));
        report(l, &g);
        snprintf(l, sizeof l, "PACK %s", ev_dtype_name(dts[d]));
        report(l, &p);
        snprintf(l, sizeof l, "UNPACK %s", ev_dtype_name(dts[d]));
        report(l, &u);
    }
}

/* Errors name the op and what is wrong: FLOOR_DIV by zero at run time, an out-of-range
 * GATHER_ND index, a non-constant resize size. */
static void test_errors(void) {
    int d[1] = {3}, two = 2;
    gb b;
    gb_init(&b);
    int ta = gb_tensor_q(&b, "a", EV_DTYPE_I32, 1, d, NULL, 0, 0);
    int tb = gb_tensor_q(&b, "b", EV_DTYPE_I32, 1, d, NULL, 0, 0);
    int ty = gb_tensor_q(&b, "y", EV_DTYPE_I32, 1, d, NULL, 0, 0);
    int ins[2] = {ta, tb};
    gb_op(&b, EV_OP_FLOOR_DIV, "FLOOR_DIV", 90, 2, ins, 1, &ty);
    gb_inputs(&b, 2, ins);
    gb_outputs(&b, 1, &ty);
    ev_model *m = NULL;
    CHECK_OK(gb_finish(&b, &m));
    int32_t x[3] = {1, 2, 3}, z[3] = {1, 0, 1};
    const void *data[2] = {x, z};
    size_t bytes[2] = {12, 12};
    ev_session *s = NULL;
    CHECK(ev_test_run(m, NULL, 2, data, bytes, &s, NULL, NULL) == EV_ERR_INVALID_ARG);
    CHECK_MSG(strstr(ev_last_error(), "Division by 0") && strstr(ev_last_error(), "FLOOR_DIV"), "%s", ev_last_error());
    ev_model_free(m);

    int id[4] = {1, 2, 2, 1}, od[4] = {1, 4, 4, 1};
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", EV_DTYPE_I8, 4, id, NULL, 0.1f, 0);
    int tsz = gb_tensor_q(&b, "size", EV_DTYPE_I32, 1, &two, NULL, 0, 0);
    ty = gb_tensor_q(&b, "y", EV_DTYPE_I8, 4, od, NULL, 0.1f, 0);
    int rins[2] = {tx, tsz};
    gb_op(&b, EV_OP_RESIZE_BILINEAR, "RESIZE_BILINEAR", 23, 2, rins, 1, &ty);
    gb_inputs(&b, 2, rins);
    gb_outputs(&b, 1, &ty);
    CHECK_OK(gb_finish(&b, &m));
    CHECK(ev_session_create(m, NULL, &s) == EV_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(ev_last_error(), "RESIZE_BILINEAR") && strstr(ev_last_error(), "constant"), "%s", ev_last_error());
    ev_model_free(m);
}

int main(void) {
    const char *env = getenv("EV_TEST_SEED");
    if (env) base_seed = strtoull(env, NULL, 0);
    fprintf(stderr, "test_ops_movenet: base seed 0x%llx (EV_TEST_SEED to change)\n",
            (unsigned long long)base_seed);
    EV_RUN(test_binary);
    EV_RUN(test_unary);
    EV_RUN(test_resize);
    EV_RUN(test_data_movement);
    EV_RUN(test_errors);
    return ev_test_finish();
}
