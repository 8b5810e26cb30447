/*
 * test_ops_onnx.c - the ref backend's ONNX ops (the IR ops the ONNX reader added) against
 * independent double-precision computations written from the ONNX operator definitions, on
 * random single-op graphs (graph_builder.h) run through the public session API:
 *   TRANSPOSE (uint8, int8, int16, int32, float32; ranks 1-6, random permutations) Transpose
 *   LEAKY_RELU, HARD_SIGMOID, HARD_SWISH (float32, random alpha / beta)       LeakyRelu, ...
 *   MINIMUM, MAXIMUM (float32 with NaNs, int32, uint8 / int8 sharing one quantization;
 *     NumPy broadcasting)                                                      Min, Max
 *   BATCH_MATMUL (float32; adj_x / adj_y; batch dims broadcast)                MatMul, Gemm
 *   RESIZE (nearest: float32, uint8, int8, every coordinate transformation and nearest mode;
 *     linear and cubic (A -0.75 / -0.5, exclude_outside): float32, every coordinate
 *     transformation; scales given or sizes only; tf_crop_and_resize with a random region and
 *     extrapolation value in the three modes)                                  Resize
 *   PAD_EX (float32, int32, uint8, int8; constant with a value, reflect, edge; pads from -2 to
 *     7, longer than the dimension, so reflection repeats; negative pads crop)  Pad
 *   CONV_TRANSPOSE (float32; groups, strides, dilations, negative and positive leading pads,
 *     output sizes around the natural one; with and without bias)           ConvTranspose
 *   POOL_ND (max: float32, uint8, int8, with the Indices output row- or column-major; average:
 *     float32 with and without count_include_pad; 1-3 spatial dims, dilations, begin / end
 *     pads)                                                       MaxPool, AveragePool
 *   CONV_ND (float32; 1-3 spatial dims, groups, strides, dilations, pads; convolution and
 *     transposed, the latter as a scatter)                            Conv, ConvTranspose (3-D)
 *   QUANTIZE float32 -> uint8 / int8 with round_half_even (ONNX QuantizeLinear) and without
 *     (TFLite), on random values and on exact ties                            QuantizeLinear
 *
 * The references index every element from its multi-index (no strides shared with the
 * kernels) and compute in double. Tolerances:
 *   data movement, MINIMUM / MAXIMUM, nearest RESIZE, QUANTIZE: exact (NaN where NaN);
 *   LEAKY_RELU, HARD_SIGMOID, HARD_SWISH: at most 4 float roundings (alpha itself for
 *     HardSwish's 1/6) of terms no larger than max(|x|, 1): |y - r| <= 8u max(|x|, 1), u = 2^-24;
 *   BATCH_MATMUL: a float sum of K products in some order: |y - r| <= 2 K u sum_k |x_k y_k|
 *     (Higham's gamma_K bound, the product rounding included) + 1e-30;
 *   linear RESIZE: two float blends of values at most M = max |x|: |y - r| <= 16 u M; cubic
 *     (a double sum rounded once, weights of magnitude at most about 1.3): the same bound;
 *   CONV_TRANSPOSE, CONV_ND: a double sum rounded once: |y - r| <= 2 u sum |terms|; POOL_ND
 *     average likewise (sum |taps| / count); max pools and indices exact.
 *
 * Extend: a new op is a case function (build the graph, compute the double reference, call
 * check()) and a line in main. EV_TEST_SEED=<n> changes the base seed.
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

static uint64_t base_seed = 0x0DD0E7ull;
#define CASES 60
#define U_F32 (1.0 / 16777216.0)

typedef struct stats {
    long cases, failed;
} stats;

static double getd(ev_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case EV_DTYPE_U8: return ((const uint8_t *)p)[i];
    case EV_DTYPE_I8: return ((const int8_t *)p)[i];
    case EV_DTYPE_I16: return ((const int16_t *)p)[i];
    case EV_DTYPE_I32: return ((const int32_t *)p)[i];
    case EV_DTYPE_I64: return (double)((const int64_t *)p)[i];
    case EV_DTYPE_F32: return ((const float *)p)[i];
    default: return NAN;
    }
}

static size_t prod(int nd, const int *d) {
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)d[i];
    return n;
}

/* Multi-index of flat row-major index i in dims d. */
static void unravel(size_t i, int nd, const int *d, int *idx) {
    for (int k = nd - 1; k >= 0; k--) {
        idx[k] = (int)(i % (size_t)d[k]);
        i /= (size_t)d[k];
    }
}

/* Flat index of idx in dims d. */
static size_t ravel(int nd, const int *d, const int *idx) {
    size_t o = 0;
    for (int k = 0; k < nd; k++) o = o * (size_t)d[k] + (size_t)idx[k];
    return o;
}

/* Runs the one-op model in `b` and compares output 0 with ref[0..n): |y - r| <= tol[i] (tol NULL:
 * exact; a NaN reference needs a NaN). */
static void check(stats *st, gb *b, int n_in, const int *ins, int out, const void *const *data,
                  ev_dtype odt, const double *ref, const double *tol, size_t n,
                  const char *desc) {
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
    int bad = yi.dtype != odt || yi.bytes != n * ev_dtype_size(odt);
    CHECK_MSG(!bad, "%s: output %s %zu bytes, expected %s %zu", desc, ev_dtype_name(yi.dtype),
              yi.bytes, ev_dtype_name(odt), n * ev_dtype_size(odt));
    for (size_t i = 0; i < n && !bad; i++) {
        double got = getd(odt, y, i), r = ref[i];
        if (isnan(r) || isnan(got))
            bad = !(isnan(r) && isnan(got));
        else
            bad = tol ? !(fabs(got - r) <= tol[i]) : got != r;
        if (bad)
            CHECK_MSG(0, "%s: element %zu is %.9g, expected %.9g (tolerance %.3g)", desc, i, got,
                      r, tol ? tol[i] : 0.0);
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

/* A random scale / zero point for quantized dt; 0 / 0 otherwise. */
static void rand_q(ev_test_rng *r, ev_dtype dt, float *s, int32_t *zp) {
    int q = dt == EV_DTYPE_U8 || dt == EV_DTYPE_I8;
    *s = q ? (float)ev_test_rng_uni(r, 0.01, 0.5) : 0.0f;
    *zp = dt == EV_DTYPE_U8 ? ev_test_rng_int(r, 0, 255)
                            : dt == EV_DTYPE_I8 ? ev_test_rng_int(r, -128, 127) : 0;
}

/* ---- Transpose: Y[i_0..i_{n-1}] = X[j] with j[perm[k]] = i_k ------------------------------ */

static void transpose_case(stats *st, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[6], nd = rshape(&r, 1, 6, 5, d), perm[6], od[6];
    for (int i = 0; i < nd; i++) perm[i] = i;
    for (int i = nd - 1; i > 0; i--) { /* Fisher-Yates */
        int j = ev_test_rng_int(&r, 0, i), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (int k = 0; k < nd; k++) od[k] = d[perm[k]];
    float s;
    int32_t zp;
    rand_q(&r, dt, &s, &zp);
    size_t n = prod(nd, d);
    void *x = ev_test_rng_data(&r, dt, n, -1000, 1000);
    double *ref = malloc(sizeof(double) * n);
    for (size_t o = 0; o < n; o++) {
        int oi[6], ii[6];
        unravel(o, nd, od, oi);
        for (int k = 0; k < nd; k++) ii[perm[k]] = oi[k];
        ref[o] = getd(dt, x, ravel(nd, d, ii));
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_TRANSPOSE, "TRANSPOSE", 39, 1, &tx, 1, &ty);
    if (op >= 0)
        for (int k = 0; k < nd; k++) b.g.ops[op].p.transpose.perm[k] = perm[k];
    char desc[128];
    snprintf(desc, sizeof desc, "transpose %s rank %d seed %llx", ev_dtype_name(dt), nd,
             (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, dt, ref, NULL, n, desc);
    free(x), free(ref);
}

/* ---- LeakyRelu, HardSigmoid, HardSwish ------------------------------------------------ */

static void activation_case(stats *st, ev_op_type type, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 1, 4, 9, d);
    size_t n = prod(nd, d);
    float *x = ev_test_rng_data(&r, EV_DTYPE_F32, n, -8, 8);
    float alpha = (float)ev_test_rng_uni(&r, type == EV_OP_LEAKY_RELU ? -0.5 : 0.05, 1.0);
    float beta = (float)ev_test_rng_uni(&r, -0.5, 1.0);
    double *ref = malloc(sizeof(double) * n), *tol = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        double v = x[i], y;
        if (type == EV_OP_LEAKY_RELU) { /* ONNX: x >= 0 ? x : alpha * x */
            y = v >= 0 ? v : (double)alpha * v;
        } else if (type == EV_OP_HARD_SIGMOID) { /* max(0, min(1, alpha * x + beta)) */
            y = fmax(0.0, fmin(1.0, (double)alpha * v + (double)beta));
        } else { /* HardSwish: x * max(0, min(1, x / 6 + 0.5)) */
            y = v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5));
        }
        ref[i] = y;
        tol[i] = 8.0 * U_F32 * fmax(fabs(v), 1.0);
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", EV_DTYPE_F32, nd, d, NULL, 0, 0);
    int ty = gb_tensor_q(&b, "y", EV_DTYPE_F32, nd, d, NULL, 0, 0);
    const char *name = type == EV_OP_LEAKY_RELU     ? "LEAKY_RELU"
                       : type == EV_OP_HARD_SIGMOID ? "HARD_SIGMOID"
                                                    : "HARD_SWISH";
    int op = gb_op(&b, type, name, 0, 1, &tx, 1, &ty);
    if (op >= 0 && type == EV_OP_LEAKY_RELU) b.g.ops[op].p.leaky.alpha = alpha;
    if (op >= 0 && type == EV_OP_HARD_SIGMOID)
        b.g.ops[op].p.hard_sigmoid.alpha = alpha, b.g.ops[op].p.hard_sigmoid.beta = beta;
    char desc[128];
    snprintf(desc, sizeof desc, "%s alpha %g beta %g seed %llx", name, (double)alpha,
             (double)beta, (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, EV_DTYPE_F32, ref, tol, n, desc);
    free(x), free(ref), free(tol);
}

/* ---- Min / Max with NumPy broadcasting ------------------------------------------------- */

static void minmax_case(stats *st, int is_max, ev_dtype dt, uint64_t seed) {
    ev_test_rng r = {seed};
    int od[4], nd = rshape(&r, 1, 4, 6, od), ad[4], bd[4], na = nd, nb = 0;
    for (int i = 0; i < nd; i++) ad[i] = ev_test_rng_int(&r, 0, 3) == 0 ? 1 : od[i];
    for (int i = ev_test_rng_int(&r, 0, nd - 1); i < nd; i++)
        bd[nb++] = ev_test_rng_int(&r, 0, 2) == 0 ? 1 : od[i];
    for (int i = 0; i < nd; i++) /* the output is the broadcast of both */
        if (ad[i] == 1 && (i - (nd - nb) < 0 || bd[i - (nd - nb)] == 1)) od[i] = 1;
    float s;
    int32_t zp;
    rand_q(&r, dt, &s, &zp);
    size_t nA = prod(na, ad), nB = prod(nb, bd), n = prod(nd, od);
    void *xa = ev_test_rng_data(&r, dt, nA, -50, 50), *xb = ev_test_rng_data(&r, dt, nB, -50, 50);
    if (dt == EV_DTYPE_F32) { /* a few NaNs: ONNX Min / Max propagate them (NumPy semantics) */
        if (ev_test_rng_int(&r, 0, 2) == 0) ((float *)xa)[ev_test_rng_int(&r, 0, (int)nA - 1)] = NAN;
        if (ev_test_rng_int(&r, 0, 2) == 0) ((float *)xb)[ev_test_rng_int(&r, 0, (int)nB - 1)] = NAN;
    }
    double *ref = malloc(sizeof(double) * n);
    for (size_t o = 0; o < n; o++) {
        int oi[4], ai[4], bi[4];
        unravel(o, nd, od, oi);
        for (int k = 0; k < na; k++) ai[k] = ad[k] == 1 ? 0 : oi[k];
        for (int k = 0; k < nb; k++) bi[k] = bd[k] == 1 ? 0 : oi[k + nd - nb];
        double va = getd(dt, xa, ravel(na, ad, ai)), vb = getd(dt, xb, ravel(nb, bd, bi));
        ref[o] = isnan(va) || isnan(vb) ? NAN : is_max ? fmax(va, vb) : fmin(va, vb);
    }
    gb b;
    gb_init(&b);
    int ta = gb_tensor_q(&b, "a", dt, na, ad, NULL, s, zp);
    int tb = gb_tensor_q(&b, "b", dt, nb, bd, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, s, zp);
    int ins[2] = {ta, tb};
    gb_op(&b, is_max ? EV_OP_MAXIMUM : EV_OP_MINIMUM, is_max ? "MAXIMUM" : "MINIMUM",
          is_max ? 55 : 57, 2, ins, 1, &ty);
    char desc[128];
    snprintf(desc, sizeof desc, "%s %s rank %d seed %llx", is_max ? "max" : "min",
             ev_dtype_name(dt), nd, (unsigned long long)seed);
    const void *in[2] = {xa, xb};
    check(st, &b, 2, ins, ty, in, dt, ref, NULL, n, desc);
    free(xa), free(xb), free(ref);
}

/* ---- MatMul with batch broadcast: Y[b, m, n] = sum_k A[b, m, k] B[b, k, n] ---------------- */

static void bmm_case(stats *st, uint64_t seed) {
    ev_test_rng r = {seed};
    int M = ev_test_rng_int(&r, 1, 9), N = ev_test_rng_int(&r, 1, 9), K = ev_test_rng_int(&r, 1, 40);
    int adj_x = ev_test_rng_int(&r, 0, 1), adj_y = ev_test_rng_int(&r, 0, 1);
    int nbo = ev_test_rng_int(&r, 0, 3), bo[3], xb[3], yb[3], nxb, nyb;
    for (int i = 0; i < nbo; i++) bo[i] = ev_test_rng_int(&r, 1, 4);
    nxb = nbo ? ev_test_rng_int(&r, 0, nbo) : 0;
    nyb = nbo;
    for (int i = 0; i < nxb; i++) /* right-aligned; some dims 1 (broadcast) */
        xb[i] = ev_test_rng_int(&r, 0, 2) == 0 ? 1 : bo[i + nbo - nxb];
    for (int i = 0; i < nyb; i++) yb[i] = ev_test_rng_int(&r, 0, 2) == 0 ? 1 : bo[i];
    for (int i = 0; i < nbo; i++) { /* the output dim is the broadcast of both */
        int dx = i - (nbo - nxb), vx = dx >= 0 ? xb[dx] : 1;
        bo[i] = vx > yb[i] ? vx : yb[i];
    }
    int xd[5], yd[5], od[5];
    for (int i = 0; i < nxb; i++) xd[i] = xb[i];
    for (int i = 0; i < nyb; i++) yd[i] = yb[i];
    for (int i = 0; i < nbo; i++) od[i] = bo[i];
    xd[nxb] = adj_x ? K : M, xd[nxb + 1] = adj_x ? M : K;
    yd[nyb] = adj_y ? N : K, yd[nyb + 1] = adj_y ? K : N;
    od[nbo] = M, od[nbo + 1] = N;
    size_t nX = prod(nxb + 2, xd), nY = prod(nyb + 2, yd), n = prod(nbo + 2, od);
    float *x = ev_test_rng_data(&r, EV_DTYPE_F32, nX, -2, 2);
    float *y = ev_test_rng_data(&r, EV_DTYPE_F32, nY, -2, 2);
    double *ref = malloc(sizeof(double) * n), *tol = malloc(sizeof(double) * n);
    for (size_t o = 0; o < n; o++) {
        int oi[5], xi[5], yi[5];
        unravel(o, nbo + 2, od, oi);
        for (int i = 0; i < nxb; i++) xi[i] = xb[i] == 1 ? 0 : oi[i + nbo - nxb];
        for (int i = 0; i < nyb; i++) yi[i] = yb[i] == 1 ? 0 : oi[i];
        int m = oi[nbo], nn = oi[nbo + 1];
        double acc = 0, mag = 0;
        for (int k = 0; k < K; k++) {
            xi[nxb] = adj_x ? k : m, xi[nxb + 1] = adj_x ? m : k;
            yi[nyb] = adj_y ? nn : k, yi[nyb + 1] = adj_y ? k : nn;
            double t = (double)x[ravel(nxb + 2, xd, xi)] * (double)y[ravel(nyb + 2, yd, yi)];
            acc += t;
            mag += fabs(t);
        }
        ref[o] = acc;
        tol[o] = 2.0 * (K + 1) * U_F32 * mag + 1e-30;
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", EV_DTYPE_F32, nxb + 2, xd, NULL, 0, 0);
    int ty_ = gb_tensor_q(&b, "y", EV_DTYPE_F32, nyb + 2, yd, NULL, 0, 0);
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, nbo + 2, od, NULL, 0, 0);
    int ins[2] = {tx, ty_};
    int op = gb_op(&b, EV_OP_BATCH_MATMUL, "BATCH_MATMUL", 126, 2, ins, 1, &to);
    if (op >= 0) b.g.ops[op].p.bmm.adj_x = adj_x, b.g.ops[op].p.bmm.adj_y = adj_y;
    char desc[160];
    snprintf(desc, sizeof desc, "bmm M%d N%d K%d adj %d,%d batch x%d y%d out%d seed %llx", M, N,
             K, adj_x, adj_y, nxb, nyb, nbo, (unsigned long long)seed);
    const void *in[2] = {x, y};
    check(st, &b, 2, ins, to, in, EV_DTYPE_F32, ref, tol, n, desc);
    free(x), free(y), free(ref), free(tol);
}

/* ---- Resize (opset 11+): coordinate transformation, nearest mode, linear ----------------- */

/* ONNX's x_original for output index x along an axis of input length `in`, output length
 * `out`, scale s and length_resized `len` (in * s when scales were given, else out). */
static double onnx_coord(ev_resize_coord ct, double x, double in, double len, double s) {
    switch (ct) {
    case EV_COORD_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case EV_COORD_ASYMMETRIC: return x / s;
    case EV_COORD_PYTORCH_HALF_PIXEL: return len > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case EV_COORD_ALIGN_CORNERS: return len == 1 ? 0.0 : x * (in - 1) / (len - 1);
    default: return (x + 0.5) / s; /* tf_half_pixel_for_nn */
    }
}

/* ONNX's nearest_mode on x_original, then the index clamped into [0, in - 1]. */
static int onnx_nearest(ev_resize_nearest nm, double v, int in) {
    double r;
    switch (nm) {
    case EV_NEAREST_FLOOR: r = floor(v); break;
    case EV_NEAREST_CEIL: r = ceil(v); break;
    case EV_NEAREST_ROUND_PREFER_CEIL: r = v == floor(v) + 0.5 ? ceil(v) : round(v); break;
    default: r = v == floor(v) + 0.5 ? floor(v) : round(v); break;
    }
    return r < 0 ? 0 : r > in - 1 ? in - 1 : (int)r;
}

/* ONNX's cubic_coeffs(ratio, A) (onnx/backend/test/case/node/resize.py). */
static void onnx_cubic_coeffs(double ratio, double A, double *k) {
    k[0] = ((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A;
    k[1] = ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
    k[2] = ((A + 2) * (1 - ratio) - (A + 3)) * (1 - ratio) * (1 - ratio) + 1;
    k[3] = ((A * ((1 - ratio) + 1) - 5 * A) * ((1 - ratio) + 1) + 8 * A) * ((1 - ratio) + 1) -
           4 * A;
}

/* ONNX's interpolate_1d_with_x for cubic, written as resize.py does it: ratio in (0, 1] (1 when
 * x is an integer), the 4 points of the edge-padded data nearest to x (ties to the lower index),
 * exclude_outside zeroing the coefficients of points outside and renormalising. Taps are
 * returned as indices into [0, in) (edge padding = clamping) and weights. */
static void onnx_cubic_taps(double x, int in, double A, int exclude, int *idx, double *w) {
    double xi = floor(x), ratio = x == xi ? 1.0 : x - xi;
    onnx_cubic_coeffs(ratio, A, w);
    int first = x == xi ? (int)xi - 2 : (int)xi - 1; /* the 4 nearest: sorted by distance */
    double sum = 0;
    for (int j = 0; j < 4; j++) {
        int i = first + j;
        if (exclude && (i < 0 || i >= in)) w[j] = 0;
        sum += w[j];
        idx[j] = i < 0 ? 0 : i >= in ? in - 1 : i;
    }
    if (exclude)
        for (int j = 0; j < 4; j++) w[j] /= sum;
}

/* tf_crop_and_resize's x_original (resize.py), before the [0, in - 1] extrapolation test. */
static double onnx_crop_coord(double x, double in, double len, double r0, double r1) {
    double v = len == 1 ? (r1 - r0) * (in - 1) / 2 : x * (r1 - r0) * (in - 1) / (len - 1);
    return v + r0 * (in - 1);
}

static void resize_case(stats *st, ev_dtype dt, int linear, ev_resize_coord ct,
                        uint64_t seed) {
    ev_test_rng r = {seed};
    int id[4] = {ev_test_rng_int(&r, 1, 2), ev_test_rng_int(&r, 1, 10),
                 ev_test_rng_int(&r, 1, 10), ev_test_rng_int(&r, 1, 5)};
    int od[4] = {id[0], 0, 0, id[3]};
    float sc[2] = {0, 0};
    int given = ev_test_rng_int(&r, 0, 1); /* scales given (the file's ratio) or sizes only */
    for (int a = 0; a < 2; a++) {
        if (given) {
            static const float ratios[] = {0.5f, 0.75f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 0.6f, 1.7f};
            do {
                sc[a] = ratios[ev_test_rng_int(&r, 0, 8)];
                od[1 + a] = (int)floor(id[1 + a] * (double)sc[a]);
            } while (od[1 + a] < 1);
        } else {
            od[1 + a] = ev_test_rng_int(&r, 1, 24);
        }
    }
    ev_resize_nearest nm = (ev_resize_nearest)ev_test_rng_int(&r, 0, 3);
    float A = ev_test_rng_int(&r, 0, 1) ? -0.75f : -0.5f;
    int exclude = ev_test_rng_int(&r, 0, 1);
    float roi[4] = {(float)ev_test_rng_uni(&r, -0.3, 0.5), (float)ev_test_rng_uni(&r, 0.4, 1.3),
                    (float)ev_test_rng_uni(&r, -0.3, 0.5), (float)ev_test_rng_uni(&r, 0.4, 1.3)};
    float extra = (float)ev_test_rng_uni(&r, -2, 2);
    float s;
    int32_t zp;
    rand_q(&r, dt, &s, &zp);
    size_t nI = prod(4, id), n = prod(4, od);
    void *x = ev_test_rng_data(&r, dt, nI, -3, 3);
    double M = 0;
    for (size_t i = 0; i < nI; i++) M = fmax(M, fabs(getd(dt, x, i)));
    double *ref = malloc(sizeof(double) * n);
    double *tol = linear || ct == EV_COORD_TF_CROP_AND_RESIZE ? malloc(sizeof(double) * n) : NULL;
    for (size_t o = 0; o < n; o++) {
        int oi[4];
        unravel(o, 4, od, oi);
        double v[2];
        int outside = 0;
        for (int a = 0; a < 2; a++) {
            double in = id[1 + a], out = od[1 + a];
            double sa = sc[a] > 0 ? sc[a] : out / in, len = sc[a] > 0 ? in * sc[a] : out;
            if (ct == EV_COORD_TF_CROP_AND_RESIZE) {
                v[a] = onnx_crop_coord(oi[1 + a], in, len, roi[2 * a], roi[2 * a + 1]);
                if (v[a] < 0 || v[a] > in - 1) outside = 1;
            } else {
                v[a] = onnx_coord(ct, oi[1 + a], in, len, sa);
            }
        }
        if (tol) tol[o] = 16.0 * U_F32 * fmax(M, 1e-30);
        if (outside) {
            ref[o] = extra;
            continue;
        }
        if (linear == 2) { /* cubic: W then H, as interpolate_nd */
            int iy[4], ix[4];
            double wy[4], wx[4], acc = 0;
            onnx_cubic_taps(v[0], id[1], A, exclude, iy, wy);
            onnx_cubic_taps(v[1], id[2], A, exclude, ix, wx);
            for (int i = 0; i < 4; i++) {
                double row = 0;
                for (int j = 0; j < 4; j++) {
                    int ii[4] = {oi[0], iy[i], ix[j], oi[3]};
                    row += wx[j] * getd(dt, x, ravel(4, id, ii));
                }
                acc += wy[i] * row;
            }
            ref[o] = acc;
            continue;
        }
        if (!linear) {
            int ii[4] = {oi[0], onnx_nearest(nm, v[0], id[1]), onnx_nearest(nm, v[1], id[2]), oi[3]};
            ref[o] = getd(dt, x, ravel(4, id, ii));
            continue;
        }
        /* linear: the two neighbours floor(v), floor(v) + 1 with edge padding (indices
         * clamped), weights from the coordinate clamped into [0, in - 1] */
        double acc = 0;
        double c0 = fmin(fmax(v[0], 0), id[1] - 1), c1 = fmin(fmax(v[1], 0), id[2] - 1);
        int y0 = (int)floor(c0), x0 = (int)floor(c1);
        double wy = c0 - y0, wx = c1 - x0;
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
                int yy = y0 + dy > id[1] - 1 ? id[1] - 1 : y0 + dy;
                int xx = x0 + dx > id[2] - 1 ? id[2] - 1 : x0 + dx;
                int ii[4] = {oi[0], yy, xx, oi[3]};
                acc += (dy ? wy : 1 - wy) * (dx ? wx : 1 - wx) * getd(dt, x, ravel(4, id, ii));
            }
        ref[o] = acc;
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_RESIZE, "RESIZE", 0, 1, &tx, 1, &ty);
    if (op >= 0)
        b.g.ops[op].p.rsz = (ev_resize2_params){.linear = linear, .coord = ct, .nearest = nm,
                                                .scale_h = sc[0], .scale_w = sc[1],
                                                .cubic_a = A, .exclude_outside = exclude,
                                                .roi_h0 = roi[0], .roi_h1 = roi[1],
                                                .roi_w0 = roi[2], .roi_w1 = roi[3],
                                                .extrapolation = extra};
    static const char *const modes[3] = {"nearest", "linear", "cubic"};
    char desc[200];
    snprintf(desc, sizeof desc, "resize %s %s coord %d nearest %d A %g exclude %d %dx%d -> "
             "%dx%d scales %g,%g seed %llx", modes[linear], ev_dtype_name(dt), ct, nm, (double)A,
             exclude, id[1], id[2], od[1], od[2], (double)sc[0], (double)sc[1],
             (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, dt, ref, tol, n, desc);
    free(x), free(ref), free(tol);
}

/* ---- Pad (opset 11+): constant value, reflect, edge; negative pads crop ------------------ */

/* numpy.pad's source index for mode (0 constant: -1, 1 reflect: mirrored without the edge,
 * repeatedly, 2 edge: clamped) of index i into a dimension of n. */
static int np_pad_index(int mode, int i, int n) {
    if (i >= 0 && i < n) return i;
    if (mode == 0) return -1;
    if (mode == 2) return i < 0 ? 0 : n - 1;
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

static void pad_ex_case(stats *st, ev_dtype dt, int mode, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 1, 4, 6, d), od[4];
    int32_t pads[8];
    for (int i = 0; i < nd; i++)
        do {
            pads[2 * i] = ev_test_rng_int(&r, -2, 7), pads[2 * i + 1] = ev_test_rng_int(&r, -2, 7);
            od[i] = d[i] + pads[2 * i] + pads[2 * i + 1];
        } while (od[i] < 1);
    float value = mode == 0 && dt == EV_DTYPE_F32 ? (float)ev_test_rng_uni(&r, -5, 5) : 0.0f;
    float s;
    int32_t zp;
    rand_q(&r, dt, &s, &zp);
    size_t nI = prod(nd, d), n = prod(nd, od);
    void *x = ev_test_rng_data(&r, dt, nI, -100, 100);
    double *ref = malloc(sizeof(double) * n);
    for (size_t o = 0; o < n; o++) {
        int oi[4], ii[4], in = 1;
        unravel(o, nd, od, oi);
        for (int k = 0; k < nd && in; k++) {
            ii[k] = np_pad_index(mode, oi[k] - pads[2 * k], d[k]);
            in = ii[k] >= 0;
        }
        ref[o] = in ? getd(dt, x, ravel(nd, d, ii)) : value;
    }
    gb b;
    gb_init(&b);
    int tx, ty;
    int op = gb_pad_op(&b, EV_OP_PAD_EX, "PAD_EX", -1, dt, nd, d, od, pads, s, zp, &tx, &ty);
    if (op >= 0) b.g.ops[op].p.pad_ex.mode = (ev_pad_mode)mode, b.g.ops[op].p.pad_ex.value = value;
    char desc[128];
    snprintf(desc, sizeof desc, "pad_ex %s mode %d value %g rank %d seed %llx",
             ev_dtype_name(dt), mode, (double)value, nd, (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, dt, ref, NULL, n, desc);
    free(x), free(ref);
}

/* ---- ConvTranspose: each input pixel scatters x * W into the output (ONNX's definition) --- */

static void conv_transpose_case(stats *st, uint64_t seed) {
    ev_test_rng r = {seed};
    int group = ev_test_rng_int(&r, 1, 3), icg = ev_test_rng_int(&r, 1, 4);
    int ocg = ev_test_rng_int(&r, 1, 4), kh = ev_test_rng_int(&r, 1, 4);
    int kw = ev_test_rng_int(&r, 1, 4);
    ev_conv_transpose_params p = {ev_test_rng_int(&r, 1, 3), ev_test_rng_int(&r, 1, 3),
                                  ev_test_rng_int(&r, 1, 3), ev_test_rng_int(&r, 1, 3),
                                  ev_test_rng_int(&r, -2, 3), ev_test_rng_int(&r, -2, 3), group};
    int id[4] = {ev_test_rng_int(&r, 1, 2), ev_test_rng_int(&r, 1, 6), ev_test_rng_int(&r, 1, 6),
                 group * icg};
    int od[4] = {id[0], 0, 0, group * ocg};
    int full[2] = {(id[1] - 1) * p.stride_h + (kh - 1) * p.dilation_h + 1,
                   (id[2] - 1) * p.stride_w + (kw - 1) * p.dilation_w + 1};
    for (int a = 0; a < 2; a++) { /* the pads' output size, output_padding / output_shape beyond */
        od[1 + a] = full[a] - (a ? p.pad_left : p.pad_top) + ev_test_rng_int(&r, -2, 2);
        if (od[1 + a] < 1) od[1 + a] = 1;
    }
    int wd[4] = {id[3], kh, kw, ocg}, has_bias = ev_test_rng_int(&r, 0, 1);
    size_t nI = prod(4, id), n = prod(4, od), wn = prod(4, wd);
    float *x = ev_test_rng_data(&r, EV_DTYPE_F32, nI, -2, 2);
    float *w = ev_test_rng_data(&r, EV_DTYPE_F32, wn, -1, 1);
    float *bias = ev_test_rng_data(&r, EV_DTYPE_F32, (size_t)od[3], -1, 1);
    double *ref = calloc(n, sizeof(double)), *mag = calloc(n, sizeof(double));
    double *tol = malloc(sizeof(double) * n);
    for (size_t i = 0; i < nI; i++) { /* scatter: out[iy*s - pad + ky*d] += x * w */
        int xi[4];
        unravel(i, 4, id, xi);
        int g = xi[3] / icg;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                int oy = xi[1] * p.stride_h - p.pad_top + ky * p.dilation_h;
                int ox = xi[2] * p.stride_w - p.pad_left + kx * p.dilation_w;
                if (oy < 0 || oy >= od[1] || ox < 0 || ox >= od[2]) continue;
                for (int oc = 0; oc < ocg; oc++) {
                    int wi[4] = {xi[3], ky, kx, oc}, oi[4] = {xi[0], oy, ox, g * ocg + oc};
                    double t = (double)x[i] * w[ravel(4, wd, wi)];
                    ref[ravel(4, od, oi)] += t;
                    mag[ravel(4, od, oi)] += fabs(t);
                }
            }
    }
    for (size_t o = 0; o < n; o++) {
        if (has_bias) ref[o] += bias[o % (size_t)od[3]], mag[o] += fabs(bias[o % (size_t)od[3]]);
        tol[o] = 2 * U_F32 * mag[o] + 1e-30; /* one float rounding of a double sum */
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", EV_DTYPE_F32, 4, id, NULL, 0, 0);
    int tw = gb_tensor(&b, "w", EV_DTYPE_F32, 4, wd, w, sizeof(float) * wn, 0, NULL, NULL, 0);
    int tb = gb_tensor(&b, "b", EV_DTYPE_F32, 1, &od[3], bias, sizeof(float) * (size_t)od[3], 0,
                       NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", EV_DTYPE_F32, 4, od, NULL, 0, 0);
    int ins[3] = {tx, tw, tb};
    int op = gb_op(&b, EV_OP_CONV_TRANSPOSE, "CONV_TRANSPOSE", 67, has_bias ? 3 : 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.convt = p;
    char desc[200];
    snprintf(desc, sizeof desc, "conv_transpose group %d %dx%dx%d k %dx%d s %dx%d d %dx%d pad "
             "%d,%d -> %dx%dx%d%s seed %llx", group, id[1], id[2], id[3], kh, kw, p.stride_h,
             p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, od[1], od[2], od[3],
             has_bias ? " bias" : "", (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, EV_DTYPE_F32, ref, tol, n, desc);
    free(x), free(w), free(bias), free(ref), free(mag), free(tol);
}

/* ---- MaxPool / AveragePool in general form (POOL_ND): 1-3 spatial dims, dilations, pads ---- */

/* ONNX's pool over x [N, C, d...] written from its definition: every output position walks the
 * window in the padded input (begin / end pads), skipping taps outside the real input; max,
 * or the mean over the real taps (count_include_pad: over the taps inside the padded input).
 * Indices: the flat input position of the first maximum (row- or column-major spatially). A
 * window that holds no real tap (dilation steps over the input) gives -inf / the 8-bit type's
 * lowest value, index the (n, c) block's first position; an average over no counted tap is
 * NaN. */
static void pool_nd_case(stats *st, ev_dtype dt, int is_max, uint64_t seed) {
    ev_test_rng r = {seed};
    int ns = ev_test_rng_int(&r, 1, 3), nd = ns + 2, d[5], od[5];
    ev_pool_nd_params p = {0};
    p.is_max = is_max;
    p.count_include_pad = !is_max && ev_test_rng_int(&r, 0, 1);
    p.indices_col_major = ev_test_rng_int(&r, 0, 1);
    d[0] = ev_test_rng_int(&r, 1, 2), d[1] = ev_test_rng_int(&r, 1, 3);
    od[0] = d[0], od[1] = d[1];
    for (int i = 0; i < ns; i++) {
        d[2 + i] = ev_test_rng_int(&r, 1, ns == 3 ? 5 : 8);
        p.kernel[i] = ev_test_rng_int(&r, 1, 3), p.stride[i] = ev_test_rng_int(&r, 1, 3);
        p.dilation[i] = ev_test_rng_int(&r, 1, 3);
        int eff = (p.kernel[i] - 1) * p.dilation[i] + 1;
        p.pad_begin[i] = ev_test_rng_int(&r, 0, eff - 1);
        p.pad_end[i] = ev_test_rng_int(&r, 0, eff - 1);
        int span = d[2 + i] + p.pad_begin[i] + p.pad_end[i] - eff;
        if (span < 0) p.pad_end[i] += -span, span = 0;
        od[2 + i] = span / p.stride[i] + 1;
    }
    int want_idx = is_max && ev_test_rng_int(&r, 0, 1);
    float s;
    int32_t zp;
    rand_q(&r, dt, &s, &zp);
    size_t nI = prod(nd, d), n = prod(nd, od), sp = nI / ((size_t)d[0] * d[1]);
    void *x = ev_test_rng_data(&r, dt, nI, -50, 50);
    double *ref = malloc(sizeof(double) * n), *tol = malloc(sizeof(double) * n);
    double *iref = malloc(sizeof(double) * n);
    for (size_t o = 0; o < n; o++) {
        int oi[5];
        unravel(o, nd, od, oi);
        double best = -INFINITY, sum = 0, mag = 0;
        long cnt = 0, cnt_pad = 0;
        size_t arg = 0;
        int kk[3] = {0, 0, 0};
        for (;;) {
            int ii[5] = {oi[0], oi[1]}, real = 1, padded = 1;
            for (int i = 0; i < ns; i++) {
                ii[2 + i] = oi[2 + i] * p.stride[i] - p.pad_begin[i] + kk[i] * p.dilation[i];
                real = real && ii[2 + i] >= 0 && ii[2 + i] < d[2 + i];
                padded = padded && ii[2 + i] >= -p.pad_begin[i] &&
                         ii[2 + i] < d[2 + i] + p.pad_end[i];
            }
            cnt_pad += padded;
            if (real) {
                double v = getd(dt, x, ravel(nd, d, ii));
                if (cnt == 0 || v > best) {
                    best = v;
                    size_t spos = 0, step = 1;
                    for (int i = 0; i < ns; i++) {
                        size_t v2 = (size_t)ii[2 + i], n2 = (size_t)d[2 + i];
                        if (p.indices_col_major)
                            spos += v2 * step, step *= n2;
                        else
                            spos = spos * n2 + v2;
                    }
                    arg = ((size_t)oi[0] * d[1] + (size_t)oi[1]) * sp + spos;
                }
                sum += v, mag += fabs(v), cnt++;
            }
            int i = ns - 1;
            while (i >= 0 && ++kk[i] == p.kernel[i]) kk[i--] = 0;
            if (i < 0) break;
        }
        long div = p.count_include_pad ? cnt_pad : cnt;
        if (cnt == 0) { /* a window between dilated taps: the kernel's convention */
            best = dt == EV_DTYPE_U8 ? 0 : dt == EV_DTYPE_I8 ? -128 : -INFINITY;
            arg = ((size_t)oi[0] * d[1] + (size_t)oi[1]) * sp;
        }
        ref[o] = is_max ? best : div ? sum / (double)div : NAN;
        tol[o] = div ? 2 * U_F32 * mag / (double)div + 1e-30 : 0;
        iref[o] = (double)arg;
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty[2] = {gb_tensor_q(&b, "y", dt, nd, od, NULL, s, zp),
                 gb_tensor_q(&b, "i", EV_DTYPE_I64, nd, od, NULL, 0, 0)};
    int op = gb_op(&b, EV_OP_POOL_ND, "POOL_ND", -1, 1, &tx, want_idx ? 2 : 1, ty);
    if (op >= 0) b.g.ops[op].p.pool_nd = p;
    char desc[200];
    int u = snprintf(desc, sizeof desc, "pool_nd %s %s%s%s dims %d", is_max ? "max" : "avg",
                     ev_dtype_name(dt), p.count_include_pad ? " count_include_pad" : "",
                     want_idx ? (p.indices_col_major ? " indices col" : " indices row") : "", ns);
    for (int i = 0; i < ns; i++)
        u += snprintf(desc + u, sizeof desc - (size_t)u, " [%d k%d s%d d%d p%d,%d]", d[2 + i],
                      p.kernel[i], p.stride[i], p.dilation[i], p.pad_begin[i], p.pad_end[i]);
    snprintf(desc + u, sizeof desc - (size_t)u, " seed %llx", (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty[0], in, dt, ref, is_max ? NULL : tol, n, desc);
    if (want_idx) { /* the same graph, its Indices output as the graph output */
        gb b2;
        gb_init(&b2);
        int tx2 = gb_tensor_q(&b2, "x", dt, nd, d, NULL, s, zp);
        int ty2[2] = {gb_tensor_q(&b2, "y", dt, nd, od, NULL, s, zp),
                      gb_tensor_q(&b2, "i", EV_DTYPE_I64, nd, od, NULL, 0, 0)};
        int op2 = gb_op(&b2, EV_OP_POOL_ND, "POOL_ND", -1, 1, &tx2, 2, ty2);
        if (op2 >= 0) b2.g.ops[op2].p.pool_nd = p;
        check(st, &b2, 1, &tx2, ty2[1], in, EV_DTYPE_I64, iref, NULL, n, desc);
    }
    free(x), free(ref), free(tol), free(iref);
}

/* ---- Conv / ConvTranspose over 1-3 spatial dims (CONV_ND), channel-first ----------------- */

/* Convolution: the ONNX definition as a gather over the padded input; transposed: as a scatter
 * of every input pixel through the kernel (the definition ConvTranspose is written from), so
 * the two directions are computed independently of the kernel's single gather. */
static void conv_nd_case(stats *st, int transposed, uint64_t seed) {
    ev_test_rng r = {seed};
    int ns = ev_test_rng_int(&r, 1, 3), nd = ns + 2, group = ev_test_rng_int(&r, 1, 2);
    int cg = ev_test_rng_int(&r, 1, 3), og = ev_test_rng_int(&r, 1, 3);
    int d[5] = {ev_test_rng_int(&r, 1, 2), group * cg}, od[5] = {d[0], group * og}, wd[5];
    ev_conv_nd_params p = {0};
    p.transposed = transposed, p.group = group;
    wd[0] = transposed ? group * cg : group * og, wd[1] = transposed ? og : cg;
    for (int i = 0; i < ns; i++) {
        d[2 + i] = ev_test_rng_int(&r, 1, ns == 3 ? 4 : 6);
        wd[2 + i] = ev_test_rng_int(&r, 1, 3);
        p.stride[i] = ev_test_rng_int(&r, 1, 2), p.dilation[i] = ev_test_rng_int(&r, 1, 2);
        int eff = (wd[2 + i] - 1) * p.dilation[i] + 1;
        if (transposed) {
            p.pad_begin[i] = ev_test_rng_int(&r, -1, 2);
            od[2 + i] = (d[2 + i] - 1) * p.stride[i] + eff - p.pad_begin[i] +
                        ev_test_rng_int(&r, -1, 1);
        } else {
            p.pad_begin[i] = ev_test_rng_int(&r, 0, 2);
            int span = d[2 + i] + p.pad_begin[i] + ev_test_rng_int(&r, 0, 2) - eff;
            od[2 + i] = span < 0 ? 1 : span / p.stride[i] + 1;
        }
        if (od[2 + i] < 1) od[2 + i] = 1;
    }
    int has_bias = ev_test_rng_int(&r, 0, 1);
    size_t nI = prod(nd, d), n = prod(nd, od), wn = prod(nd, wd);
    float *x = ev_test_rng_data(&r, EV_DTYPE_F32, nI, -2, 2);
    float *w = ev_test_rng_data(&r, EV_DTYPE_F32, wn, -1, 1);
    float *bias = ev_test_rng_data(&r, EV_DTYPE_F32, (size_t)od[1], -1, 1);
    double *ref = calloc(n, sizeof(double)), *mag = calloc(n, sizeof(double));
    double *tol = malloc(sizeof(double) * n);
    size_t kn = prod(ns, wd + 2);
    if (!transposed) {
        for (size_t o = 0; o < n; o++) {
            int oi[5];
            unravel(o, nd, od, oi);
            int g = oi[1] / og;
            for (size_t kq = 0; kq < kn; kq++) {
                int ki[3], ii[5] = {oi[0], 0}, in = 1;
                unravel(kq, ns, wd + 2, ki);
                for (int i = 0; i < ns; i++) {
                    ii[2 + i] = oi[2 + i] * p.stride[i] - p.pad_begin[i] + ki[i] * p.dilation[i];
                    in = in && ii[2 + i] >= 0 && ii[2 + i] < d[2 + i];
                }
                if (!in) continue;
                for (int c = 0; c < cg; c++) {
                    int wi[5] = {oi[1], c};
                    for (int i = 0; i < ns; i++) wi[2 + i] = ki[i];
                    ii[1] = g * cg + c;
                    double t = (double)x[ravel(nd, d, ii)] * w[ravel(nd, wd, wi)];
                    ref[o] += t, mag[o] += fabs(t);
                }
            }
        }
    } else {
        for (size_t q = 0; q < nI; q++) { /* scatter */
            int xi[5];
            unravel(q, nd, d, xi);
            int g = xi[1] / cg;
            for (size_t kq = 0; kq < kn; kq++) {
                int ki[3], oi[5] = {xi[0], 0}, in = 1;
                unravel(kq, ns, wd + 2, ki);
                for (int i = 0; i < ns; i++) {
                    oi[2 + i] = xi[2 + i] * p.stride[i] - p.pad_begin[i] + ki[i] * p.dilation[i];
                    in = in && oi[2 + i] >= 0 && oi[2 + i] < od[2 + i];
                }
                if (!in) continue;
                for (int oc = 0; oc < og; oc++) {
                    int wi[5] = {xi[1], oc};
                    for (int i = 0; i < ns; i++) wi[2 + i] = ki[i];
                    oi[1] = g * og + oc;
                    double t = (double)x[q] * w[ravel(nd, wd, wi)];
                    ref[ravel(nd, od, oi)] += t, mag[ravel(nd, od, oi)] += fabs(t);
                }
            }
        }
    }
    for (size_t o = 0; o < n; o++) {
        int oi[5];
        unravel(o, nd, od, oi);
        if (has_bias) ref[o] += bias[oi[1]], mag[o] += fabs(bias[oi[1]]);
        tol[o] = 2 * U_F32 * mag[o] + 1e-30;
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", EV_DTYPE_F32, nd, d, NULL, 0, 0);
    int tw = gb_tensor(&b, "w", EV_DTYPE_F32, nd, wd, w, sizeof(float) * wn, 0, NULL, NULL, 0);
    int tb = gb_tensor(&b, "b", EV_DTYPE_F32, 1, &od[1], bias, sizeof(float) * (size_t)od[1], 0,
                       NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", EV_DTYPE_F32, nd, od, NULL, 0, 0);
    int ins[3] = {tx, tw, tb};
    int op = gb_op(&b, EV_OP_CONV_ND, "CONV_ND", -1, has_bias ? 3 : 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.conv_nd = p;
    char desc[200];
    int u = snprintf(desc, sizeof desc, "conv_nd%s group %d c %d -> %d%s", transposed ?
                     " transposed" : "", group, d[1], od[1], has_bias ? " bias" : "");
    for (int i = 0; i < ns; i++)
        u += snprintf(desc + u, sizeof desc - (size_t)u, " [%d->%d k%d s%d d%d p%d]", d[2 + i],
                      od[2 + i], wd[2 + i], p.stride[i], p.dilation[i], p.pad_begin[i]);
    snprintf(desc + u, sizeof desc - (size_t)u, " seed %llx", (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, EV_DTYPE_F32, ref, tol, n, desc);
    free(x), free(w), free(bias), free(ref), free(mag), free(tol);
}

/* ---- QuantizeLinear: saturate(round(x / scale) + zero_point) ------------------------------ */

/* Nearest integer to v, halves to even (half_even) or away from zero. */
static double round_mode(double v, int half_even) {
    double f = floor(v);
    if (v - f != 0.5) return round(v);
    if (!half_even) return v < 0 ? f : f + 1; /* away from zero */
    return fmod(f, 2.0) == 0 ? f : f + 1;
}

/* ties: the scale is a power of two and x = (k + 0.5) * scale exactly, so x / scale is an exact
 * tie in float; otherwise random x in [-3, 3] and a random scale. */
static void quantize_case(stats *st, ev_dtype dt, int half_even, int ties, uint64_t seed) {
    ev_test_rng r = {seed};
    int d[4], nd = rshape(&r, 1, 4, 8, d);
    size_t n = prod(nd, d);
    float s = ties ? ldexpf(1.0f, ev_test_rng_int(&r, -8, 2)) : (float)ev_test_rng_uni(&r, 0.005, 0.1);
    int32_t zp = dt == EV_DTYPE_U8 ? ev_test_rng_int(&r, 0, 255) : ev_test_rng_int(&r, -128, 127);
    double lo = dt == EV_DTYPE_U8 ? 0 : -128, hi = dt == EV_DTYPE_U8 ? 255 : 127;
    float *x = ev_test_rng_data(&r, EV_DTYPE_F32, n, -3, 3);
    if (ties)
        for (size_t i = 0; i < n; i++) x[i] = ((float)ev_test_rng_int(&r, -150, 150) + 0.5f) * s;
    double *ref = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        double q = round_mode((double)(x[i] / s), half_even) + zp; /* float division, as both */
        ref[i] = q < lo ? lo : q > hi ? hi : q;
    }
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", EV_DTYPE_F32, nd, d, NULL, 0, 0);
    int ty = gb_tensor_q(&b, "y", dt, nd, d, NULL, s, zp);
    int op = gb_op(&b, EV_OP_QUANTIZE, "QUANTIZE", 114, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.quantize.round_half_even = half_even;
    char desc[128];
    snprintf(desc, sizeof desc, "quantize %s %s%s scale %g zp %d seed %llx", ev_dtype_name(dt),
             half_even ? "half-even" : "half-away", ties ? " ties" : "", (double)s, (int)zp,
             (unsigned long long)seed);
    const void *in[1] = {x};
    check(st, &b, 1, &tx, ty, in, dt, ref, NULL, n, desc);
    free(x), free(ref);
}

/* ---- groups --------------------------------------------------------------------------- */

static void report(const char *label, const stats *s) {
    fprintf(stderr, "  %-40s %3ld cases, %ld failed\n", label, s->cases, s->failed);
    CHECK(s->cases > 0 && s->failed == 0);
}

static const ev_dtype k_q[2] = {EV_DTYPE_U8, EV_DTYPE_I8};

static void test_transpose(void) {
    static const ev_dtype dts[5] = {EV_DTYPE_U8, EV_DTYPE_I8, EV_DTYPE_I16, EV_DTYPE_I32,
                                    EV_DTYPE_F32};
    for (int d = 0; d < 5; d++) {
        stats s = {0};
        for (int c = 0; c < CASES; c++) transpose_case(&s, dts[d], ev_test_rng_seed(base_seed, d, c));
        char l[64];
        snprintf(l, sizeof l, "TRANSPOSE %s", ev_dtype_name(dts[d]));
        report(l, &s);
    }
}

static void test_activations(void) {
    static const struct { const char *l; ev_op_type t; } k[] = {
        {"LEAKY_RELU float32", EV_OP_LEAKY_RELU},
        {"HARD_SIGMOID float32", EV_OP_HARD_SIGMOID},
        {"HARD_SWISH float32", EV_OP_HARD_SWISH},
    };
    for (int i = 0; i < 3; i++) {
        stats s = {0};
        for (int c = 0; c < CASES; c++) activation_case(&s, k[i].t, ev_test_rng_seed(base_seed, 10 + i, c));
        report(k[i].l, &s);
    }
}

static void test_minmax(void) {
    static const ev_dtype dts[4] = {EV_DTYPE_F32, EV_DTYPE_I32, EV_DTYPE_U8, EV_DTYPE_I8};
    for (int mx = 0; mx < 2; mx++)
        for (int d = 0; d < 4; d++) {
            stats s = {0};
            for (int c = 0; c < CASES; c++)
                minmax_case(&s, mx, dts[d], ev_test_rng_seed(base_seed, 20 + mx * 4 + d, c));
            char l[64];
            snprintf(l, sizeof l, "%s %s", mx ? "MAXIMUM" : "MINIMUM", ev_dtype_name(dts[d]));
            report(l, &s);
        }
}

static void test_batch_matmul(void) {
    stats s = {0};
    for (int c = 0; c < 2 * CASES; c++) bmm_case(&s, ev_test_rng_seed(base_seed, 30, c));
    report("BATCH_MATMUL float32", &s);
}

static void test_resize(void) {
    static const char *const coords[5] = {"half_pixel", "asymmetric", "pytorch_half_pixel",
                                          "align_corners", "tf_half_pixel_for_nn"};
    static const ev_dtype dts[3] = {EV_DTYPE_F32, EV_DTYPE_U8, EV_DTYPE_I8};
    for (int ct = 0; ct < 5; ct++) {
        for (int d = 0; d < 3; d++) {
            stats s = {0};
            for (int c = 0; c < CASES / 2; c++)
                resize_case(&s, dts[d], 0, (ev_resize_coord)ct,
                            ev_test_rng_seed(base_seed, 40 + ct * 4 + d, c));
            char l[80];
            snprintf(l, sizeof l, "RESIZE nearest %s %s", ev_dtype_name(dts[d]), coords[ct]);
            report(l, &s);
        }
        if (ct == EV_COORD_TF_HALF_PIXEL_FOR_NN) continue; /* nearest only in ONNX */
        for (int mode = 1; mode <= 2; mode++) {
            stats s = {0};
            for (int c = 0; c < CASES; c++)
                resize_case(&s, EV_DTYPE_F32, mode, (ev_resize_coord)ct,
                            ev_test_rng_seed(base_seed, mode == 1 ? 40 + ct * 4 + 3 : 100 + ct,
                                             c));
            char l[80];
            snprintf(l, sizeof l, "RESIZE %s float32 %s", mode == 1 ? "linear" : "cubic",
                     coords[ct]);
            report(l, &s);
        }
    }
    for (int mode = 0; mode <= 2; mode++) { /* tf_crop_and_resize: roi, extrapolation value */
        stats s = {0};
        for (int c = 0; c < CASES; c++)
            resize_case(&s, EV_DTYPE_F32, mode, EV_COORD_TF_CROP_AND_RESIZE,
                        ev_test_rng_seed(base_seed, 110 + mode, c));
        static const char *const names[3] = {"nearest", "linear", "cubic"};
        char l[80];
        snprintf(l, sizeof l, "RESIZE %s float32 tf_crop_and_resize", names[mode]);
        report(l, &s);
    }
}

static void test_pad_ex(void) {
    static const char *const modes[3] = {"constant", "reflect", "edge"};
    static const ev_dtype dts[4] = {EV_DTYPE_F32, EV_DTYPE_I32, EV_DTYPE_U8, EV_DTYPE_I8};
    for (int m = 0; m < 3; m++)
        for (int d = 0; d < 4; d++) {
            stats s = {0};
            for (int c = 0; c < CASES / 2; c++)
                pad_ex_case(&s, dts[d], m, ev_test_rng_seed(base_seed, 80 + m * 4 + d, c));
            char l[64];
            snprintf(l, sizeof l, "PAD_EX %s %s", ev_dtype_name(dts[d]), modes[m]);
            report(l, &s);
        }
}

static void test_conv_transpose(void) {
    stats s = {0};
    for (int c = 0; c < 2 * CASES; c++) conv_transpose_case(&s, ev_test_rng_seed(base_seed, 95, c));
    report("CONV_TRANSPOSE float32", &s);
}

static void test_pool_nd(void) {
    static const struct { ev_dtype dt; int is_max; const char *l; } k[] = {
        {EV_DTYPE_F32, 1, "POOL_ND max float32"},
        {EV_DTYPE_F32, 0, "POOL_ND average float32"},
        {EV_DTYPE_U8, 1, "POOL_ND max uint8"},
        {EV_DTYPE_I8, 1, "POOL_ND max int8"},
    };
    for (int i = 0; i < 4; i++) {
        stats s = {0};
        for (int c = 0; c < CASES; c++)
            pool_nd_case(&s, k[i].dt, k[i].is_max, ev_test_rng_seed(base_seed, 120 + i, c));
        report(k[i].l, &s);
    }
}

static void test_conv_nd(void) {
    for (int t = 0; t < 2; t++) {
        stats s = {0};
        for (int c = 0; c < CASES; c++)
            conv_nd_case(&s, t, ev_test_rng_seed(base_seed, 130 + t, c));
        report(t ? "CONV_ND transposed float32" : "CONV_ND float32", &s);
    }
}

static void test_quantize(void) {
    for (int d = 0; d < 2; d++)
        for (int he = 0; he < 2; he++)
            for (int ties = 0; ties < 2; ties++) {
                stats s = {0};
                for (int c = 0; c < CASES / 2; c++)
                    quantize_case(&s, k_q[d], he, ties,
                                  ev_test_rng_seed(base_seed, 70 + d * 4 + he * 2 + ties, c));
                char l[80];
                snprintf(l, sizeof l, "QUANTIZE float32->%s %s%s", ev_dtype_name(k_q[d]),
                         he ? "half-even (ONNX)" : "half-away (TFLite)", ties ? " ties" : "");
                report(l, &s);
            }
    /* the two modes differ exactly on ties with an even floor: 2.5 -> 2 (ONNX), 3 (TFLite) */
    CHECK_EQ_INT((int)round_mode(2.5, 1), 2);
    CHECK_EQ_INT((int)round_mode(2.5, 0), 3);
    CHECK_EQ_INT((int)round_mode(-2.5, 1), -2);
    CHECK_EQ_INT((int)round_mode(-2.5, 0), -3);
    CHECK_EQ_INT((int)round_mode(3.5, 1), 4);
}

int main(void) {
    const char *env = getenv("EV_TEST_SEED");
    if (env) base_seed = strtoull(env, NULL, 0);
    fprintf(stderr, "test_ops_onnx: base seed 0x%llx (EV_TEST_SEED to change)\n",
            (unsigned long long)base_seed);
    EV_RUN(test_transpose);
    EV_RUN(test_activations);
    EV_RUN(test_minmax);
    EV_RUN(test_batch_matmul);
    EV_RUN(test_resize);
    EV_RUN(test_pad_ex);
    EV_RUN(test_conv_transpose);
    EV_RUN(test_pool_nd);
    EV_RUN(test_conv_nd);
    EV_RUN(test_quantize);
    return ev_test_finish();
}
