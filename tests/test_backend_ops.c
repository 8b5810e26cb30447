/*
 * test_backend_ops.c - one op x backend matrix (in the spirit of ggml's test-backend-ops): every
 * op type of the engine, in every data type its reference kernel takes, on random shapes, run as
 * a one-op graph on every compiled backend other than ref (ev_backend_names(); cuda included
 * when built) and, for the cpu backend, on every ISA path this machine has (ev_cpu_isa_paths:
 * x86 scalar, avx2, avx512, vnni; ARM scalar, neon, dotprod), against the same graph on ref.
 *
 * Comparison:
 *   integer outputs (uint8, int8, int16, int32): bit-exact.
 *   float32 outputs: |y_i - r_i| <= TOL_C * (K + 1) * u * max(max_j |r_j|, 1), u = 2^-24.
 *     How it is derived: a float kernel may sum an op's K terms (conv: kh*kw*cin, depthwise:
 *     kh*kw, fully connected: the input depth, mean: the elements reduced, average pool: the
 *     window, softmax: the row; K = 1 for elementwise ops) in another order, with or without FMA
 *     contraction, than ref. Each order is within gamma_K * sum|terms| of the exact sum
 *     (gamma_K = K*u/(1 - K*u), Higham, Accuracy and Stability of Numerical Algorithms, 3.1),
 *     so two orders differ by at most 2 * gamma_K * sum|terms|; the bias adds one more rounding
 *     (K + 1). The generators draw activations in [-2, 2] and weights in [-1, 1], so each term is
 *     at most 2 and sum|terms| <= 2K; the bound is stated against max(max|r|, 1) instead, which
 *     for these data is above sum|terms| / K: TOL_C = 8 = 2 (two orders) * 2 (term size) * 2
 *     (exp/expf or vectorised exp approximations in softmax and logistic, a few ulp). The cpu
 *     backend's float elementwise / pooling kernels (eltwise_f32.c, pool_f32.c) are bit-identical
 *     to ref but for LOGISTIC's vector expf; float CONV_2D and FULLY_CONNECTED on cpu run the
 *     float GEMM (FMA, k order per output) and are held to the bound; so are cuda's float kernels.
 *   The "float32/fast" rows (shapes the cpu backend's float kernels take: gen_*_fast, and the
 *     float depthwise rows of gen_dwconv_f32: dwconv_f32.c's SIMD rows use FMA) are also
 *     held on cpu to TIGHT_REL = 1e-5 of max |ref| (max |cpu - ref| / max |ref|, the issue's
 *     bound); the summary prints the worst seen per ISA path.
 *   float CONV_2D / FULLY_CONNECTED on cpu, also: max|y - r| / max|r| <= 1e-5 (the issue's per-op
 *     figure) where the activation is none or ReLU; the worst observed per row is printed. A
 *     clamping activation (ReLU6, ReLU_N1_TO_1) caps max|r| at 6 or 1 while the rounding grows
 *     with the unclamped sums, so those cases keep only the element-wise bound.
 *   A NaN in ref must be a NaN in the backend; a NaN in the backend alone is a mismatch.
 * On a mismatch: op, dtype, shape (the case's description), seed, backend, ISA, kernel name
 * (ev_session_kernel_name), first differing index and both values.
 *
 * The session must report the expected kernel kind where it is known: on the cpu backend,
 * quantized CONV_2D and DEPTHWISE_CONV_2D with depth multiplier 1, float CONV_2D and
 * FULLY_CONNECTED, float DEPTHWISE_CONV_2D with multiplier 1, and the float32 rows marked
 * cpu_fast (pools, PAD, RELU, RELU6, LOGISTIC, and the fast binary / MEAN shapes) are not
 * reference fallbacks.
 * A backend whose session cannot be created for lack of a device (EV_ERR_NEEDS_DEVICE) is
 * reported as skipped with its message; an op a backend does not take (EV_ERR_UNSUPPORTED at
 * session creation) is counted "n/a" in its cell, not failed.
 *
 * The float CONV_2D rows add gen_conv_f32_ex's shapes for the float GEMM's edges (output
 * channels around the register tiles, 1x1 direct, K > 1000) and FULLY_CONNECTED float32/large
 * (1-40 rows, depth up to 2100); threads 1-3 as below.
 * The quantized CONV_2D / DEPTHWISE_CONV_2D rows use random_graphs.h's rg_conv (uint8 weight
 * zero points 127/128/129/random with a weight of 255 at 127 for the row-sum correction, int8
 * per-channel), the generator test_cpu_backend.c's random-op check ran (folded in here), with 1, 2
 * or 3 threads on the backend.
 *
 * The ONNX ops (TRANSPOSE, LEAKY_RELU, HARD_SIGMOID, HARD_SWISH, MINIMUM, MAXIMUM,
 * BATCH_MATMUL, RESIZE, PAD_EX, CONV_TRANSPOSE, POOL_ND, CONV_ND, and QUANTIZE with ONNX's
 * rounding) have rows in every dtype their reference kernels take; the cpu backend runs the
 * reference kernels for them (cpu_fast 0), so their cpu cells check the fallback path and the
 * threads settings, except TRANSPOSE, which has its own cpu kernel (transpose.c; a row of
 * image-sized NCHW -> NHWC inputs beside the random ones); test_ops_onnx.c checks the reference
 * kernels themselves against the ONNX definitions.
 *
 * Output: a summary table, op x (backend/ISA), with passed/total and the kernels that ran.
 * Flags: --perf also prints per-op median run times per backend/ISA (not a test: nothing about
 * them is asserted; CI does not run it). EV_TEST_SEED=<n> changes the base seed.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "core/model.h"
#include "edgevision.h"
#include "graph_builder.h"
#include "random_graphs.h"
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL_C 8.0
#define TIGHT_REL 1e-5 /* the issue's bound for the cpu backend's float32 fast kernels */
#define U_F32 (1.0 / 16777216.0)
#define MAX_TARGETS 12
#define MAX_KERNELS 4

static uint64_t base_seed = 0xB0A4D0B5ull;
static int perf_mode;

/* ------------------------------------------------------------------------------------------ */
/* Cases: a one-op model and its inputs                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct mcase {
    ev_model *m;
    char desc[256];
} mcase;

/* A generator builds case `c` from rg_rng (seeded per case) for data type `dt` and the row's
 * variant; it leaves c->m NULL (and says why in c->desc) when the builder failed. */
typedef void (*gen_fn)(ev_dtype dt, int variant, mcase *c);

static ev_test_rng *R = &rg_rng;

static int rint_(int lo, int hi) { return ev_test_rng_int(R, lo, hi); }

static ev_activation rand_act(void) {
    static const ev_activation acts[4] = {EV_ACT_NONE, EV_ACT_RELU, EV_ACT_RELU6,
                                          EV_ACT_RELU_N1_TO_1};
    return acts[rint_(0, 3)];
}

/* A random scale / zero point for dt (0 / 0 for float32). */
static void rand_q(ev_dtype dt, float lo, float hi, float *s, int32_t *zp) {
    *s = dt == EV_DTYPE_F32 ? 0.0f : ev_test_rng_float(R, lo, hi);
    *zp = dt == EV_DTYPE_U8 ? rint_(0, 255) : dt == EV_DTYPE_I8 ? rint_(-128, 127) : 0;
}

static void finish(gb *b, mcase *c, int n_in, const int *ins, int out) {
    gb_inputs(b, n_in, ins);
    gb_outputs(b, 1, &out);
    if (gb_finish(b, &c->m) != EV_OK) {
        c->m = NULL;
        snprintf(c->desc + strlen(c->desc), sizeof c->desc - strlen(c->desc), " [builder: %s]",
                 b->msg);
    }
}

static int shape_str(char *buf, size_t n, int nd, const int *d) {
    int u = 0;
    for (int i = 0; i < nd && (size_t)u < n; i++)
        u += snprintf(buf + u, n - (size_t)u, i ? "x%d" : "%d", d[i]);
    if (!nd) u = snprintf(buf, n, "scalar");
    return u;
}

/* ---- convolutions ---------------------------------------------------------------------- */

/* variant 0: rg_conv (uint8 per-tensor, int8 per-channel), rg_conv_f32 for float32. */
static void gen_conv(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    size_t in_bytes;
    c->m = dt == EV_DTYPE_F32 ? rg_conv_f32(0, &in_bytes, c->desc, sizeof c->desc)
                              : rg_conv(0, dt == EV_DTYPE_I8, &in_bytes, c->desc, sizeof c->desc);
}

static void gen_dwconv(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    size_t in_bytes;
    c->m = dt == EV_DTYPE_F32 ? rg_conv_f32(1, &in_bytes, c->desc, sizeof c->desc)
                              : rg_conv(1, dt == EV_DTYPE_I8, &in_bytes, c->desc, sizeof c->desc);
}

/* Float32 DEPTHWISE_CONV_2D with depth multiplier 1 (the cpu backend's dwconv_f32.c):
 * variant 0: random geometry: channels 1..70 (tails of every row kernel's cr: 1, 4, 8, 16),
 *            kernels 1..7 x 1..7 (3x3 a third of the time, on rows up to 40 wide), strides
 *            1..3, dilation 1..2, SAME / VALID;
 * variant 1: kernels 8..11 rows tall (past any row kernel's max_kh, should one have a limit)
 *            and 1..4 wide;
 * variant 2: PoseNet's shapes: 3x3, stride 1 or 2, SAME, 16..256 channels (and one off), wide
 *            enough rows for the interior 3x3 path. */
static void gen_dwconv_f32(ev_dtype dt, int variant, mcase *c) {
    (void)dt;
    int n, h, w, ch, kh, kw, sh, sw, dh, dwl, oh, ow;
    ev_padding pad;
    do {
        n = rint_(1, 2), h = rint_(1, 20), w = rint_(1, 20), ch = rint_(1, 70);
        kh = rint_(1, 7), kw = rint_(1, 7), sh = rint_(1, 3), sw = rint_(1, 3);
        dh = rint_(1, 2), dwl = rint_(1, 2);
        pad = rint_(0, 1) ? EV_PAD_SAME : EV_PAD_VALID;
        if (rint_(0, 2) == 0) kh = kw = 3, w = rint_(3, 40); /* the 3x3 interior path */
        if (variant == 1) kh = rint_(8, 11), kw = rint_(1, 4), h = rint_(8, 24);
        if (variant == 2) {
            static const int chs[] = {16, 32, 64, 128, 256};
            n = 1, h = rint_(3, 30), w = rint_(5, 40), ch = chs[rint_(0, 4)] + rint_(-1, 1) * rint_(0, 1);
            kh = kw = 3, sh = sw = rint_(1, 2), dh = dwl = 1, pad = EV_PAD_SAME;
        }
        oh = ev_conv_out_size(pad, h, kh, sh, dh);
        ow = ev_conv_out_size(pad, w, kw, sw, dwl);
    } while (oh <= 0 || ow <= 0);
    int in_dims[4] = {n, h, w, ch}, out_dims[4] = {n, oh, ow, ch}, w_dims[4] = {1, kh, kw, ch};
    size_t wn = (size_t)kh * kw * ch;
    float *wd = ev_test_rng_data(R, EV_DTYPE_F32, wn, -1.0, 1.0);
    float *bd = ev_test_rng_data(R, EV_DTYPE_F32, (size_t)ch, -1.0, 1.0);
    ev_activation act = rand_act();
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = rint_(0, 4) ? gb_tensor_q(&b, "b", EV_DTYPE_F32, 1, &ch, bd, 0.0f, 0) : -1;
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, out_dims, NULL, 0.0f, 0);
    ev_conv_params p = {pad, sw, sh, dwl, dh, 1, act};
    gb_op_conv(&b, EV_OP_DEPTHWISE_CONV_2D, ti, tw, tb, to, p);
    snprintf(c->desc, sizeof c->desc,
             "dw f32 n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d pad%d act%d bias%d", n, h, w,
             ch, oh, ow, ch, kh, kw, sh, sw, dh, dwl, pad, act, tb >= 0);
    finish(&b, c, 1, &ti, to);
    free(wd), free(bd);
}


/* Quantized convolutions rg_conv does not draw: variant 1 = int8 per-tensor weights (conv and
 * depthwise), variant 2 = depthwise with depth multiplier 2..4 (uint8 per-tensor, int8
 * per-channel), variant 3 = exact requantization ties: power-of-two scales make each channel's
 * multiplier 2^-e (M0 = 2^30, e in 2..7) and sparse weights (w - wz in [-1, 1]) keep most outputs
 * inside the range, so about one accumulator in 2^e lands on k + 1/2, of both signs (int8 CONV_2D rounds
 * those toward +infinity, the others away from zero: bit-exact with ref either way). Shapes
 * include tile edges: output channels around 16/32/64. Variant 4 (convolutions) = the shapes of
 * the PoseNet backbones' GEMMs, for the AVX2 GEMM's 6-row tile and its assembly k loop: 1x1
 * stride-1 (read in place) with K in {24, 27, 48, 96, 384} or the 3x3 stride-2 first layer on 3
 * channels (K = 27), 1..130 output pixels (every row count mod 6, several 48-pixel tasks); for
 * depthwise, PoseNet's 3x3 stride 1 / 2 SAME layers on rows 5..40 wide, 7..385 channels.
 * Variant 5 (convolutions) = wide K (60-260 input channels, 1x1 read in place or 3x3) over up to
 * 196 pixels: whole and partial 64-k chunks and row blocks of every AMX tile, N around the
 * 16-channel blocks. Variant 6 (depthwise) = the SDOT row kernel's shapes (dwconv_dotprod.c):
 * 3x3, strides 1 / 2, rows 1..40 wide, channels by 8 or not, weights w - wz within [-127, 127]
 * (int8 products of dwconv_neon.c and SDOT), [-128, 127] (SDOT only) or, uint8, [-127, 128]
 * (SDOT negated). Variant 7 (depthwise, uint8) = dwconv_neon.c's aarch64 assembly: 3x3, strides
 * 1 / 2, rows 1..48 wide (narrow ones often: border blocks, rows that take the copies), output
 * zero point 0 and no clamp in 3 of 4 cases, multipliers 2^-e for e in 0..17, weights per 8
 * channels in [-127, 127], small (each kernel row summed in int16) or with a -128. */
static void gen_qconv_ex(ev_dtype dt, int dw, int variant, mcase *c) {
    rg_geom G = rg_conv_geom();
    if (variant == 4 && dw) { /* 3x3 stride 1 / 2 SAME, wide rows: the interior fast blocks */
        static const int chs[] = {8, 16, 24, 48, 96, 384};
        G.n = 1, G.h = rint_(3, 12), G.w = rint_(5, 40), G.cin = chs[rint_(0, 5)] + rint_(-1, 1);
        G.kh = G.kw = 3, G.sh = G.sw = rint_(1, 2), G.dh = G.dwl = 1, G.pad = EV_PAD_SAME;
        G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
        G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    } else if (variant == 6 && dw) { /* dwconv_dotprod.c: 3x3, stride 1 / 2 across and down,
                                       * dilation 1-2 down, SAME / VALID, rows 1..40 wide (runs of
                                       * 4 interior pixels and borders), channels by 8 or not */
        G.n = rint_(1, 2), G.h = rint_(1, 9), G.w = rint_(1, 40);
        G.cin = rint_(0, 3) ? 8 * rint_(1, 26) : rint_(1, 70);
        G.kh = G.kw = 3, G.sh = rint_(1, 2), G.sw = rint_(1, 2), G.dh = rint_(1, 2), G.dwl = 1;
        G.pad = rint_(0, 2) ? EV_PAD_SAME : EV_PAD_VALID;
        if (G.pad == EV_PAD_VALID && G.h < 2 * G.dh + 1) G.h = 2 * G.dh + 1;
        if (G.pad == EV_PAD_VALID && G.w < 3) G.w = 3;
        G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
        G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    } else if (variant == 7 && dw) { /* dwconv_neon.c's aarch64 assembly runs: 3x3, strides
                                       * 1 / 2, rows 1..48 wide (runs, border blocks, rows under
                                       * 4 pixels), 1..3 kernel rows inside the image */
        G.n = rint_(1, 2), G.h = rint_(1, 9), G.w = rint_(0, 2) ? rint_(1, 48) : rint_(3, 10);
        G.cin = rint_(0, 3) ? 8 * rint_(1, 20) : rint_(1, 70);
        G.kh = G.kw = 3, G.sh = rint_(1, 2), G.sw = rint_(1, 2), G.dh = rint_(1, 2), G.dwl = 1;
        G.pad = rint_(0, 3) ? EV_PAD_SAME : EV_PAD_VALID;
        if (G.pad == EV_PAD_VALID && G.h < 2 * G.dh + 1) G.h = 2 * G.dh + 1;
        if (G.pad == EV_PAD_VALID && G.w < 3) G.w = 3;
        G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
        G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    } else if (variant == 4) {
        static const int ks[] = {24, 27, 48, 96, 384};
        int first = rint_(0, 3) == 0;
        G.n = 1, G.h = rint_(1, 10), G.w = rint_(1, 13), G.cin = first ? 3 : ks[rint_(0, 4)];
        G.kh = G.kw = first ? 3 : 1, G.sh = G.sw = first ? 2 : 1, G.dh = G.dwl = 1;
        G.pad = EV_PAD_SAME;
        G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
        G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    } else if (variant == 5) { /* wide K: 1x1 (in place when stride 1) or 3x3 over 60-260 */
        static const int cins[] = {63, 64, 65, 100, 127, 128, 130, 192, 256, 257};
        G.n = 1, G.cin = cins[rint_(0, 9)], G.h = rint_(1, 14), G.w = rint_(1, 14);
        G.kh = G.kw = rint_(0, 2) ? 1 : 3, G.sh = G.sw = rint_(1, 2), G.dh = G.dwl = 1;
        if (G.kh == 1 && rint_(0, 1)) G.sh = G.sw = 1;
        G.pad = G.kh == 1 ? EV_PAD_VALID : EV_PAD_SAME;
        G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
        G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    }
    int dm = dw && variant == 2 ? rint_(2, 4) : 1;
    static const int edges[] = {15, 16, 17, 31, 32, 33, 63, 64, 65};
    int cout = dw ? G.cin * dm : (rint_(0, 1) ? edges[rint_(0, 8)] : rint_(1, 70));
    int per_channel = dt == EV_DTYPE_I8 && variant != 1;
    int in_dims[4] = {G.n, G.h, G.w, G.cin}, out_dims[4] = {G.n, G.oh, G.ow, cout};
    int w_dims[4] = {dw ? 1 : cout, G.kh, G.kw, dw ? cout : G.cin};
    size_t wn = (size_t)w_dims[0] * G.kh * G.kw * w_dims[3];
    uint8_t *w = malloc(wn);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)cout), *wz = calloc((size_t)cout, 4);
    float *ws = malloc(sizeof(float) * (size_t)cout);
    int32_t wzp = dt == EV_DTYPE_U8 ? (variant == 7 ? rint_(128, 150) : rint_(100, 160)) : 0;
    const int ties = variant == 3;
    for (size_t i = 0; i < wn; i++) /* ties: sparse weights w - wz in [-1, 1] */
        w[i] = ties ? (uint8_t)(wzp + (rint_(0, 2) ? 0 : rint_(-1, 1)))
                    : (uint8_t)ev_test_rng_next(R);
    if (variant == 6 && dw) { /* w - wz in [-127, 127], [-128, 127] or (uint8) [-127, 128] */
        const int k = rint_(0, 3), u8 = dt == EV_DTYPE_U8;
        const int lo = k == 2 ? -128 : -127, hi = k == 3 && u8 ? 128 : 127;
        for (size_t i = 0; i < wn; i++) {
            int v = wzp + rint_(lo, hi);
            w[i] = u8 ? (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v) : (uint8_t)(int8_t)v;
        }
    }
    if (variant == 7 && dw) { /* per 8 channels: w - wz in [-127, 127] (int8 products, taps
                               * paired), small (each kernel row summed in int16), or with a
                               * -128 (the int16 path); index i is tap i / cout, channel i % cout */
        int kind[32];
        for (int g = 0; g < 32; g++) kind[g] = rint_(0, 5) == 0 ? 2 : rint_(0, 1);
        for (size_t i = 0; i < wn; i++) {
            const int k = kind[(i % (size_t)cout) / 8 % 32];
            const int top = 255 - wzp < 127 ? 255 - wzp : 127;
            int v = wzp + (k == 1 ? rint_(-40, 40) : rint_(-127, top));
            if (k == 2 && rint_(0, 7) == 0) v = wzp - 128;
            w[i] = dt == EV_DTYPE_U8 ? (uint8_t)v : (uint8_t)(int8_t)(v - wzp);
        }
    }
    for (int i = 0; i < cout; i++) {
        bias[i] = ties ? rint_(-64, 64) : rint_(-20000, 20000);
        ws[i] = ties ? ldexpf(1.0f, -rint_(4, 7)) : ev_test_rng_float(R, 0.001f, 0.02f);
        wz[i] = wzp;
    }
    float in_s, out_s;
    int32_t in_zp, out_zp;
    rand_q(dt, 0.005f, 0.05f, &in_s, &in_zp);
    rand_q(dt, 0.02f, 0.6f, &out_s, &out_zp);
    if (variant == 7 && dw) { /* output zero point 0 and no clamp (the assembly's case) in 3 of
                               * 4, the multiplier in (2^-(E + 1), 2^-E], E in 0..17 */
        if (rint_(0, 3)) out_zp = 0;
        out_s = in_s * ws[0] * ldexpf(1.0f, rint_(0, 17)) * ev_test_rng_float(R, 1.0f, 2.0f);
    }
    if (ties) { /* multiplier in_s ws / out_s = 2^-e, e = E + (log2(1 / ws) - 4) in 2..7 */
        in_s = 1.0f / 64.0f;
        out_s = in_s * ldexpf(1.0f, rint_(2, 4) - 4);
    }
    ev_activation act = rand_act();
    if (variant == 7 && dw && rint_(0, 3)) act = rint_(0, 1) ? EV_ACT_RELU : EV_ACT_NONE;
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", dt, 4, in_dims, NULL, in_s, in_zp);
    int tw = gb_tensor(&b, "w", dt, 4, w_dims, w, wn, per_channel ? cout : 1, ws, wz, dw ? 3 : 0);
    int tb = rint_(0, 4) ? gb_tensor(&b, "b", EV_DTYPE_I32, 1, &cout, bias,
                                     sizeof(int32_t) * (size_t)cout, 0, NULL, NULL, 0)
                         : -1;
    int to = gb_tensor_q(&b, "out", dt, 4, out_dims, NULL, out_s, out_zp);
    ev_conv_params p = {G.pad, G.sw, G.sh, G.dwl, G.dh, dm, act};
    gb_op_conv(&b, dw ? EV_OP_DEPTHWISE_CONV_2D : EV_OP_CONV_2D, ti, tw, tb, to, p);
    snprintf(c->desc, sizeof c->desc,
             "%s n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d pad%d act%d dm%d %s bias%d",
             dw ? "dw" : "conv", G.n, G.h, G.w, G.cin, G.oh, G.ow, cout, G.kh, G.kw, G.sh, G.sw,
             G.dh, G.dwl, G.pad, act, dm, per_channel ? "per-channel" : "per-tensor", tb >= 0);
    finish(&b, c, 1, &ti, to);
    free(w), free(bias), free(wz), free(ws);
}

static void gen_conv_ex(ev_dtype dt, int variant, mcase *c) { gen_qconv_ex(dt, 0, variant, c); }
static void gen_dwconv_ex(ev_dtype dt, int variant, mcase *c) { gen_qconv_ex(dt, 1, variant, c); }

/* Float32 convolutions rg_conv_f32 does not draw, for the float GEMM's edges: variant 1 =
 * output channels around the register tiles (15..17, 31..33, 47, 48, 63..65, 97) on random
 * geometry (strides, dilation, SAME/VALID padding) with up to 24x24 pixels (several row tiles
 * and remainders); variant 2 = 1x1 stride-1 (the direct path: A is the input), up to 300 input
 * channels; variant 3 = large K (3x3 over 112-300 channels or 1x1 over 1024-2100: K > 1000) on
 * small images, activation none or ReLU; variant 4 = the implicit path's shapes (conv_f32.c: no
 * im2col for undilated kernels over 1x1, and strided 1x1, once an output row fills its register
 * tiles): 1x1/2 and 2x2 to 7x7 kernels, strides 1-2, SAME or VALID, output rows 14-40 pixels
 * wide; variant 5 = the split path's shapes (conv_f32.c, ev_cpu_conv_f32_split_takes: input
 * channels in whole 32s, 128 or more output pixels per image): 3x3 / 5x5 / 2x2 kernels over 32-96
 * channels, strides 1-2, SAME or VALID, and 1x1 over 256-320 channels, stride 1-2, output
 * channels around the 32-channel blocks, one or two images. Weights in [-1, 1],
 * bias in [-1, 1]. */
static void gen_conv_f32_ex(ev_dtype dt, int variant, mcase *c) {
    (void)dt;
    rg_geom G = rg_conv_geom();
    static const int edges[] = {15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 97};
    ev_activation act = rand_act();
    if (variant == 1) {
        G.h = rint_(1, 24), G.w = rint_(1, 24);
    } else if (variant == 2) {
        G.h = rint_(1, 20), G.w = rint_(1, 20), G.cin = rint_(1, 300);
        G.kh = G.kw = 1, G.sh = G.sw = 1, G.dh = G.dwl = rint_(1, 2);
    } else if (variant == 3) {
        G.h = rint_(1, 9), G.w = rint_(1, 9);
        if (rint_(0, 1)) {
            G.kh = G.kw = 3, G.cin = rint_(112, 300);
        } else {
            G.kh = G.kw = 1, G.cin = rint_(1024, 2100);
        }
        act = rint_(0, 1) ? EV_ACT_RELU : EV_ACT_NONE;
    } else if (variant == 4) {
        G.kh = rint_(1, 7), G.kw = G.kh == 1 ? 1 : rint_(0, 2) ? G.kh : rint_(2, 7);
        G.sh = rint_(1, 2), G.sw = G.kh == 1 ? 2 : rint_(1, 2), G.dh = G.dwl = 1;
        G.w = (rint_(14, 40) - 1) * G.sw + G.kw, G.h = rint_(1, 12), G.cin = rint_(1, 80);
    } else if (variant == 5) {
        static const int ks[] = {3, 3, 3, 5, 2, 1, 1};
        G.kh = G.kw = ks[rint_(0, 6)], G.dh = G.dwl = 1;
        G.sh = G.sw = rint_(1, 3) == 1 ? 2 : 1;
        G.cin = G.kh == 1 ? 32 * rint_(8, 10) : 32 * rint_(1, 3);
        if (G.kh == 1) G.pad = EV_PAD_VALID;
        const int o = rint_(12, 20); /* output rows and columns: 144-400 pixels */
        G.h = (o - 1) * G.sh + (G.pad == EV_PAD_VALID ? G.kh : 1);
        G.w = (rint_(12, 20) - 1) * G.sw + (G.pad == EV_PAD_VALID ? G.kw : 1);
    }
    G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
    G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    if (G.oh <= 0 || G.ow <= 0) {
        G.pad = EV_PAD_SAME;
        G.oh = ev_conv_out_size(G.pad, G.h, G.kh, G.sh, G.dh);
        G.ow = ev_conv_out_size(G.pad, G.w, G.kw, G.sw, G.dwl);
    }
    int cout = rint_(0, 2) ? edges[rint_(0, 11)] : rint_(1, 100);
    if (variant == 5 && cout < 32) cout += 32;
    int in_dims[4] = {G.n, G.h, G.w, G.cin}, out_dims[4] = {G.n, G.oh, G.ow, cout};
    int w_dims[4] = {cout, G.kh, G.kw, G.cin};
    size_t wn = (size_t)cout * G.kh * G.kw * G.cin;
    float *w = ev_test_rng_data(R, EV_DTYPE_F32, wn, -1.0, 1.0);
    float *bias = ev_test_rng_data(R, EV_DTYPE_F32, (size_t)cout, -1.0, 1.0);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", EV_DTYPE_F32, 4, w_dims, w, 0.0f, 0);
    int tb = rint_(0, 4) ? gb_tensor_q(&b, "b", EV_DTYPE_F32, 1, &cout, bias, 0.0f, 0) : -1;
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, out_dims, NULL, 0.0f, 0);
    ev_conv_params p = {G.pad, G.sw, G.sh, G.dwl, G.dh, 1, act};
    gb_op_conv(&b, EV_OP_CONV_2D, ti, tw, tb, to, p);
    snprintf(c->desc, sizeof c->desc,
             "conv f32 n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d pad%d act%d bias%d (K %d)",
             G.n, G.h, G.w, G.cin, G.oh, G.ow, cout, G.kh, G.kw, G.sh, G.sw, G.dh, G.dwl, G.pad,
             act, tb >= 0, G.kh * G.kw * G.cin);
    finish(&b, c, 1, &ti, to);
    free(w), free(bias);
}

/* Float32 CONV_2D over 1-4 input channels: the cpu backend's direct first-layer kernel
 * (conv_f32_first.c), asserted to be the kernel chosen where the ISA path has a line. Variant 0:
 * random geometry: in_c 1-4, kernels 3/5/7 (each side), strides 1-2 (each side), SAME / VALID,
 * images up to 40 x 40 (rows longer than every register tile, padding on both edges), output
 * channels around the blocks (1..130: 16, 17, 63-65, 128), every activation. Variant 1: the
 * networks' shapes on smaller images (PoseNet's conv0 3x3/2 SAME 3 -> 16, ResNet50's stem 7x7/2
 * VALID 3 -> 64 after its 3-pixel PAD). Weights and bias in [-1, 1]. */
static int is_first_conv_row(gen_fn g);
static void gen_conv_first(ev_dtype dt, int variant, mcase *c) {
    (void)dt;
    static const int ks[] = {3, 5, 7}, edges[] = {1, 8, 15, 16, 17, 32, 48, 63, 64, 65, 128};
    int n = rint_(1, 2), cin = rint_(1, 4), kh = ks[rint_(0, 2)], kw = ks[rint_(0, 2)];
    int sh = rint_(1, 2), sw = rint_(1, 2), h = rint_(1, 40), w = rint_(1, 40);
    ev_padding pad = rint_(0, 1) ? EV_PAD_SAME : EV_PAD_VALID;
    int cout = rint_(0, 1) ? edges[rint_(0, 10)] : rint_(1, 130);
    ev_activation act = rand_act();
    if (variant == 1) {
        n = 1, cin = 3;
        if (rint_(0, 1)) { /* PoseNet conv0 */
            kh = kw = 3, sh = sw = 2, pad = EV_PAD_SAME, cout = 16, act = EV_ACT_RELU6;
            h = rint_(17, 45), w = rint_(17, 61);
        } else {           /* ResNet50 stem, after ZeroPadding2D(3) */
            kh = kw = 7, sh = sw = 2, pad = EV_PAD_VALID, cout = 64, act = EV_ACT_RELU;
            h = rint_(13, 40) + 6, w = rint_(13, 40) + 6;
        }
    }
    int oh = ev_conv_out_size(pad, h, kh, sh, 1), ow = ev_conv_out_size(pad, w, kw, sw, 1);
    if (oh <= 0 || ow <= 0) {
        pad = EV_PAD_SAME;
        oh = ev_conv_out_size(pad, h, kh, sh, 1), ow = ev_conv_out_size(pad, w, kw, sw, 1);
    }
    int in_dims[4] = {n, h, w, cin}, out_dims[4] = {n, oh, ow, cout};
    int w_dims[4] = {cout, kh, kw, cin};
    size_t wn = (size_t)cout * kh * kw * cin;
    float *wd = ev_test_rng_data(R, EV_DTYPE_F32, wn, -1.0, 1.0);
    float *bias = ev_test_rng_data(R, EV_DTYPE_F32, (size_t)cout, -1.0, 1.0);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = rint_(0, 4) ? gb_tensor_q(&b, "b", EV_DTYPE_F32, 1, &cout, bias, 0.0f, 0) : -1;
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, out_dims, NULL, 0.0f, 0);
    ev_conv_params p = {pad, sw, sh, 1, 1, 1, act};
    gb_op_conv(&b, EV_OP_CONV_2D, ti, tw, tb, to, p);
    snprintf(c->desc, sizeof c->desc,
             "conv first f32 n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d pad%d act%d bias%d", n, h, w,
             cin, oh, ow, cout, kh, kw, sh, sw, pad, act, tb >= 0);
    finish(&b, c, 1, &ti, to);
    free(wd), free(bias);
}

/* ---- fully connected ------------------------------------------------------------------- */

/* variant 1: int8 per-channel weights; variant 2 (float32): 1-40 rows (the GEMM's row
 * remainders), depth up to 2100, units around the register tiles. */
static void gen_fc(ev_dtype dt, int variant, mcase *c) {
    int batches = rint_(1, 4), depth = rint_(1, 80), units = rint_(1, 70);
    if (variant == 2) {
        static const int edges[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100};
        batches = rint_(1, 40), depth = rint_(1, 2100), units = edges[rint_(0, 13)];
    }
    int per_channel = dt == EV_DTYPE_I8 && variant == 1;
    int x_dims[2] = {batches, depth}, w_dims[2] = {units, depth}, y_dims[2] = {batches, units};
    size_t wn = (size_t)units * depth;
    void *w = ev_test_rng_data(R, dt, wn, -1.0, 1.0);
    if (dt == EV_DTYPE_I8)
        for (size_t i = 0; i < wn; i++)
            if (((int8_t *)w)[i] == -128) ((int8_t *)w)[i] = -127; /* int8 weights are symmetric */
    float *ws = malloc(sizeof(float) * (size_t)units);
    int32_t *wz = calloc((size_t)units, 4);
    void *bias = ev_test_rng_data(R, dt == EV_DTYPE_F32 ? EV_DTYPE_F32 : EV_DTYPE_I32, (size_t)units,
                             dt == EV_DTYPE_F32 ? -1.0 : -20000.0, dt == EV_DTYPE_F32 ? 1.0 : 20000.0);
    int32_t wzp = dt == EV_DTYPE_U8 ? rint_(100, 155) : 0;
    for (int i = 0; i < units; i++) ws[i] = ev_test_rng_float(R, 0.001f, 0.02f), wz[i] = wzp;
    float in_s, out_s;
    int32_t in_zp, out_zp;
    rand_q(dt, 0.005f, 0.05f, &in_s, &in_zp);
    rand_q(dt, 0.02f, 0.6f, &out_s, &out_zp);
    ev_activation act = variant == 2 ? (rint_(0, 1) ? EV_ACT_RELU : EV_ACT_NONE) : rand_act();
    int nq = dt == EV_DTYPE_F32 ? 0 : per_channel ? units : 1;
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 2, x_dims, NULL, in_s, in_zp);
    int tw = gb_tensor(&b, "w", dt, 2, w_dims, w, wn * ev_dtype_size(dt), nq, ws, wz, 0);
    int tb = rint_(0, 3) ? gb_tensor(&b, "b", dt == EV_DTYPE_F32 ? EV_DTYPE_F32 : EV_DTYPE_I32, 1,
                                     &units, bias, 4 * (size_t)units, 0, NULL, NULL, 0)
                         : -1;
    int ty = gb_tensor_q(&b, "y", dt, 2, y_dims, NULL, out_s, out_zp);
    int ins[3] = {tx, tw, tb};
    int op = gb_op(&b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.fc.activation = act;
    snprintf(c->desc, sizeof c->desc, "fc %dx%d -> %d units act%d %s bias%d", batches, depth,
             units, act, per_channel ? "per-channel" : "per-tensor", tb >= 0);
    finish(&b, c, 1, &tx, ty);
    free(w), free(ws), free(wz), free(bias);
}

/* ---- elementwise and data movement ----------------------------------------------------- */

static int rand_shape(int min_nd, int max_nd, int max_dim, int *d) {
    int nd = rint_(min_nd, max_nd);
    for (int i = 0; i < nd; i++) d[i] = rint_(1, max_dim);
    return nd;
}

/* ADD with broadcasting: b's shape drops leading dimensions and sets some to 1 (or a and b
 * swap roles). */
static void gen_add(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int od[4], nd = rand_shape(1, 4, 9, od), bd[4], nb = 0;
    int drop = rint_(0, nd - 1);
    for (int i = drop; i < nd; i++) bd[nb++] = rint_(0, 2) == 0 ? 1 : od[i];
    int swap = rint_(0, 1);
    float sa, sb, so;
    int32_t za, zb, zo;
    rand_q(dt, 0.01f, 0.5f, &sa, &za);
    rand_q(dt, 0.01f, 0.5f, &sb, &zb);
    rand_q(dt, 0.02f, 0.8f, &so, &zo);
    ev_activation act = rand_act();
    gb b;
    gb_init(&b);
    int ta = gb_tensor_q(&b, "a", dt, nd, od, NULL, sa, za);
    int tb = gb_tensor_q(&b, "b", dt, nb, bd, NULL, sb, zb);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, so, zo);
    int ins[2] = {swap ? tb : ta, swap ? ta : tb};
    int op = gb_op(&b, EV_OP_ADD, "ADD", 0, 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.add.activation = act;
    int u = snprintf(c->desc, sizeof c->desc, "add ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, od);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " + ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nb, bd);
    snprintf(c->desc + u, sizeof c->desc - (size_t)u, "%s act%d", swap ? " (swapped)" : "", act);
    finish(&b, c, 2, ins, ty);
}

static void gen_concat(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int n_in;
    size_t in_bytes[4];
    c->m = rg_concat(dt, &n_in, in_bytes, c->desc, sizeof c->desc);
}

/* A MAX_POOL_2D (max = 1) or AVERAGE_POOL_2D case of the given geometry, input and output
 * sharing the quantization (s, zp; 0, 0 for float32). */
static void pool_case(ev_dtype dt, int max, int n, int h, int w, int ch, int oh, int ow, int fh,
                      int fw, int sh, int sw, ev_padding pad, ev_activation act, float s,
                      int32_t zp, mcase *c) {
    int id[4] = {n, h, w, ch}, od[4] = {n, oh, ow, ch};
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, s, zp);
    int op = gb_op(&b, max ? EV_OP_MAX_POOL_2D : EV_OP_AVERAGE_POOL_2D,
                   max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", max ? 17 : 1, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.pool = (ev_pool_params){pad, sw, sh, fw, fh, act};
    snprintf(c->desc, sizeof c->desc, "%s n%d %dx%dx%d -> %dx%d f%dx%d s%dx%d pad%d act%d",
             max ? "max" : "avg", n, h, w, ch, oh, ow, fh, fw, sh, sw, pad, act);
    finish(&b, c, 1, &tx, ty);
}

/* variant: 0 average, 1 max. Quantized pooling keeps the input's quantization. */
static void gen_pool(ev_dtype dt, int variant, mcase *c) {
    int n, h, w, ch, fh, fw, sh, sw, oh, ow;
    ev_padding pad;
    do {
        n = rint_(1, 2), h = rint_(1, 14), w = rint_(1, 14), ch = rint_(1, 33);
        fh = rint_(1, 5), fw = rint_(1, 5), sh = rint_(1, 3), sw = rint_(1, 3);
        pad = rint_(0, 1) ? EV_PAD_SAME : EV_PAD_VALID;
        oh = ev_conv_out_size(pad, h, fh, sh, 1);
        ow = ev_conv_out_size(pad, w, fw, sw, 1);
    } while (oh <= 0 || ow <= 0);
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    ev_activation act = rand_act();
    pool_case(dt, variant, n, h, w, ch, oh, ow, fh, fw, sh, sw, pad, act, s, zp, c);
}

static void gen_mean(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int id[4], nd, axes[5], nax = 0, keep;
    if (rint_(0, 2) == 0) { /* the global-average-pool form */
        nd = 4;
        id[0] = rint_(1, 2), id[1] = rint_(1, 9), id[2] = rint_(1, 9), id[3] = rint_(1, 40);
        axes[0] = 1, axes[1] = 2, nax = 2, keep = rint_(0, 1);
    } else {
        nd = rand_shape(1, 4, 7, id);
        for (int i = 0; i < nd; i++)
            if (rint_(0, 1)) axes[nax++] = rint_(0, 1) ? i : i - nd;
        if (!nax) axes[nax++] = rint_(0, nd - 1);
        keep = rint_(0, 1);
    }
    int red[4] = {0}, od[4], ond = 0;
    for (int k = 0; k < nax; k++) red[(axes[k] + nd) % nd] = 1;
    for (int i = 0; i < nd; i++)
        if (!red[i]) od[ond++] = id[i];
        else if (keep) od[ond++] = 1;
    float s, so;
    int32_t zp, zo;
    rand_q(dt, 0.01f, 0.2f, &s, &zp);
    if (rint_(0, 2) == 0) so = s, zo = zp;
    else rand_q(dt, 0.01f, 0.2f, &so, &zo);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, id, NULL, s, zp);
    int ta = gb_tensor(&b, "axes", EV_DTYPE_I32, 1, &nax, axes, sizeof(int) * (size_t)nax, 0,
                       NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, ond, od, NULL, so, zo);
    int ins[2] = {tx, ta};
    int op = gb_op(&b, EV_OP_MEAN, "MEAN", 40, 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.reduce.keep_dims = keep;
    int u = snprintf(c->desc, sizeof c->desc, "mean ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, id);
    snprintf(c->desc + u, sizeof c->desc - (size_t)u, " over %d axes keep%d", nax, keep);
    finish(&b, c, 1, &tx, ty);
}

/* SOFTMAX and LOGISTIC: quantized outputs are 1/256 with zero point 0 (uint8) or -128 (int8). */
static void gen_unary_prob(ev_dtype dt, int variant, mcase *c) {
    int d[4], nd = rand_shape(1, 4, 8, d);
    if (variant == 0 && rint_(0, 3) == 0) d[nd - 1] = rint_(100, 300); /* long softmax rows */
    float s, os = dt == EV_DTYPE_F32 ? 0.0f : 1.0f / 256;
    int32_t zp, ozp = dt == EV_DTYPE_I8 ? -128 : 0;
    rand_q(dt, 0.02f, 0.3f, &s, &zp);
    float beta = rint_(0, 1) ? 1.0f : ev_test_rng_float(R, 0.3f, 2.0f);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, d, NULL, os, ozp);
    int op = variant == 0 ? gb_op(&b, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &tx, 1, &ty)
                          : gb_op(&b, EV_OP_LOGISTIC, "LOGISTIC", 14, 1, &tx, 1, &ty);
    if (op >= 0 && variant == 0) b.g.ops[op].p.softmax.beta = beta;
    int u = snprintf(c->desc, sizeof c->desc, "%s ", variant ? "logistic" : "softmax");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    if (!variant) snprintf(c->desc + u, sizeof c->desc - (size_t)u, " beta %g", (double)beta);
    finish(&b, c, 1, &tx, ty);
}

static void gen_reshape(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int d[4], nd = rand_shape(1, 4, 6, d), od[4], ond;
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)d[i];
    if (rint_(0, 1)) {
        ond = 1, od[0] = (int)n; /* flatten */
    } else {
        ond = 2, od[0] = d[0], od[1] = (int)(n / (size_t)d[0]);
    }
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, ond, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_RESHAPE, "RESHAPE", 22, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.reshape.num_dims = -1;
    int u = snprintf(c->desc, sizeof c->desc, "reshape ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, ond, od);
    finish(&b, c, 1, &tx, ty);
}

static void gen_pad(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int d[4], nd = rand_shape(1, 4, 7, d), od[4];
    int32_t pads[8];
    for (int i = 0; i < nd; i++) {
        pads[2 * i] = rint_(0, 3), pads[2 * i + 1] = rint_(0, 3);
        od[i] = d[i] + pads[2 * i] + pads[2 * i + 1];
    }
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx, ty;
    gb_pad_op(&b, EV_OP_PAD, "PAD", 34, dt, nd, d, od, pads, s, zp, &tx, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "pad ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, od);
    finish(&b, c, 1, &tx, ty);
}

/* variant 0 RELU, 1 RELU6; quantized input and output share the quantization. */
static void gen_relu(ev_dtype dt, int variant, mcase *c) {
    int d[4], nd = rand_shape(1, 4, 9, d);
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.1f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, d, NULL, s, zp);
    gb_op(&b, variant ? EV_OP_RELU6 : EV_OP_RELU, variant ? "RELU6" : "RELU", variant ? 21 : 19,
          1, &tx, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "%s ", variant ? "relu6" : "relu");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* QUANTIZE from `dt` to the variant's type (EV_DTYPE_*), or DEQUANTIZE (variant F32) from dt. */
static void gen_quantize(ev_dtype dt, int variant, mcase *c) {
    ev_dtype out_dt = (ev_dtype)variant;
    int d[4], nd = rand_shape(1, 4, 9, d);
    float s, os;
    int32_t zp, ozp;
    rand_q(dt, 0.005f, 0.2f, &s, &zp);
    if (dt == EV_DTYPE_I16) s = ev_test_rng_float(R, 0.0005f, 0.01f), zp = 0;
    rand_q(out_dt, 0.005f, 0.2f, &os, &ozp);
    int deq = out_dt == EV_DTYPE_F32;
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", out_dt, nd, d, NULL, os, ozp);
    gb_op(&b, deq ? EV_OP_DEQUANTIZE : EV_OP_QUANTIZE, deq ? "DEQUANTIZE" : "QUANTIZE",
          deq ? 6 : 114, 1, &tx, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "%s %s->%s ", deq ? "dequantize" : "quantize",
                     ev_dtype_name(dt), ev_dtype_name(out_dt));
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* ---- MoveNet ops ------------------------------------------------------------------------ */

/* SUB / MUL (variant 0 / 1), DIV (2), FLOOR_DIV (3) with broadcasting, as gen_add. FLOOR_DIV's
 * divisor is a constant without zeros (an int32 division by zero fails the run, as TFLite). */
static void gen_binary(ev_dtype dt, int variant, mcase *c) {
    static const ev_op_type types[4] = {EV_OP_SUB, EV_OP_MUL, EV_OP_DIV, EV_OP_FLOOR_DIV};
    static const char *const names[4] = {"SUB", "MUL", "DIV", "FLOOR_DIV"};
    static const int codes[4] = {41, 18, 42, 90};
    int od[4], nd = rand_shape(1, 4, 9, od), bd[4], nb = 0;
    int drop = rint_(0, nd - 1);
    for (int i = drop; i < nd; i++) bd[nb++] = rint_(0, 2) == 0 ? 1 : od[i];
    int swap = variant == 3 ? 0 : rint_(0, 1);
    float sa, sb, so;
    int32_t za, zb, zo;
    rand_q(dt, 0.01f, 0.5f, &sa, &za);
    rand_q(dt, 0.01f, 0.5f, &sb, &zb);
    rand_q(dt, variant == 1 ? 0.01f : 0.02f, variant == 1 ? 0.2f : 0.8f, &so, &zo);
    ev_activation act = variant == 3 ? EV_ACT_NONE : rand_act();
    gb b;
    gb_init(&b);
    void *div = NULL;
    if (variant == 3) {
        size_t n = 1;
        for (int i = 0; i < nb; i++) n *= (size_t)bd[i];
        div = ev_test_rng_data(R, dt, n, -5.0, 5.0);
        for (size_t i = 0; i < n; i++) {
            if (dt == EV_DTYPE_I32 && ((int32_t *)div)[i] == 0) ((int32_t *)div)[i] = 3;
            if (dt == EV_DTYPE_F32 && fabsf(((float *)div)[i]) < 0.1f) ((float *)div)[i] = 0.5f;
        }
    }
    int ta = gb_tensor_q(&b, "a", dt, nd, od, NULL, sa, za);
    int tb = gb_tensor_q(&b, "b", dt, nb, bd, div, sb, zb);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, so, zo);
    free(div);
    int ins[2] = {swap ? tb : ta, swap ? ta : tb};
    int op = gb_op(&b, types[variant], names[variant], codes[variant], 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.arith.activation = act;
    int u = snprintf(c->desc, sizeof c->desc, "%s ", names[variant]);
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, od);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " , ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nb, bd);
    snprintf(c->desc + u, sizeof c->desc - (size_t)u, "%s act%d", swap ? " (swapped)" : "", act);
    if (variant == 3) finish(&b, c, 1, &ta, ty);
    else finish(&b, c, 2, ins, ty);
}

/* SQRT (variant < 0) or CAST from dt to (ev_dtype)variant. */
static void gen_unary_mn(ev_dtype dt, int variant, mcase *c) {
    int d[4], nd = rand_shape(1, 4, 9, d);
    ev_dtype out = variant < 0 ? dt : (ev_dtype)variant;
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, 0.0f, 0);
    int ty = gb_tensor_q(&b, "y", out, nd, d, NULL, 0.0f, 0);
    if (variant < 0) gb_op(&b, EV_OP_SQRT, "SQRT", 75, 1, &tx, 1, &ty);
    else gb_op(&b, EV_OP_CAST, "CAST", 53, 1, &tx, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "%s %s->%s ", variant < 0 ? "sqrt" : "cast",
                     ev_dtype_name(dt), ev_dtype_name(out));
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* RESIZE_BILINEAR: random sizes up and down; variant 0 plain, 1 align_corners, 2 half pixel. */
static void gen_resize(ev_dtype dt, int variant, mcase *c) {
    int id[4] = {rint_(1, 2), rint_(1, 9), rint_(1, 9), rint_(1, 8)};
    int od[4] = {id[0], rint_(1, 20), rint_(1, 20), id[3]}, two = 2;
    int32_t size[2] = {od[1], od[2]};
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, s, zp);
    int tsz = gb_tensor(&b, "size", EV_DTYPE_I32, 1, &two, size, sizeof size, 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, s, zp);
    int ins[2] = {tx, tsz};
    int op = gb_op(&b, EV_OP_RESIZE_BILINEAR, "RESIZE_BILINEAR", 23, 2, ins, 1, &ty);
    if (op >= 0) {
        b.g.ops[op].p.resize.align_corners = variant == 1;
        b.g.ops[op].p.resize.half_pixel_centers = variant == 2;
    }
    int u = snprintf(c->desc, sizeof c->desc, "resize v%d ", variant);
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, id);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, od);
    finish(&b, c, 1, &tx, ty);
}

/* ARG_MAX along a random (possibly negative) constant axis, int32 output. */
static void gen_argmax(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int d[4], nd = rand_shape(1, 4, 9, d), od[4], no = 0, one = 1;
    int axis = rint_(0, nd - 1);
    for (int i = 0; i < nd; i++)
        if (i != axis) od[no++] = d[i];
    int32_t ax = rint_(0, 1) ? axis : axis - nd;
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ta = gb_tensor(&b, "axis", EV_DTYPE_I32, rint_(0, 1), &one, &ax, sizeof ax, 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", EV_DTYPE_I32, no, od, NULL, 0.0f, 0);
    int ins[2] = {tx, ta};
    int op = gb_op(&b, EV_OP_ARG_MAX, "ARG_MAX", 56, 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.arg.output_type = EV_DTYPE_I32;
    int u = snprintf(c->desc, sizeof c->desc, "arg_max axis %d ", (int)ax);
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* GATHER_ND with constant in-range int32 indices of depth 1..rank. */
static void gen_gather_nd(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int d[4], nd = rand_shape(1, 4, 7, d);
    int k = rint_(1, nd), nl = rint_(1, 2), id[3], od[6], no = 0;
    id[0] = rint_(1, 6);
    if (nl == 2) id[1] = rint_(1, 4);
    id[nl] = k;
    size_t tuples = nl == 2 ? (size_t)id[0] * (size_t)id[1] : (size_t)id[0];
    int32_t *ix = malloc(sizeof(int32_t) * tuples * (size_t)k);
    for (size_t t = 0; t < tuples; t++)
        for (int j = 0; j < k; j++) ix[t * (size_t)k + (size_t)j] = rint_(0, d[j] - 1);
    for (int i = 0; i < nl; i++) od[no++] = id[i];
    for (int i = k; i < nd; i++) od[no++] = d[i];
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "params", dt, nd, d, NULL, s, zp);
    int ti = gb_tensor(&b, "indices", EV_DTYPE_I32, nl + 1, id, ix,
                       sizeof(int32_t) * tuples * (size_t)k, 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, no, od, NULL, s, zp);
    free(ix);
    int ins[2] = {tx, ti};
    gb_op(&b, EV_OP_GATHER_ND, "GATHER_ND", 107, 2, ins, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "gather_nd k=%d ", k);
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* PACK (variant 0) of 1-4 tensors or UNPACK (variant 1, one output checked: the first) along a
 * random axis. */
static void gen_pack(ev_dtype dt, int variant, mcase *c) {
    int d[4], nd = rand_shape(0, 3, 6, d), n = rint_(1, 4), axis = rint_(0, nd), bd[4];
    for (int i = 0, j = 0; i <= nd; i++) bd[i] = i == axis ? n : d[j++];
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int small[4], big;
    if (variant == 0) {
        for (int i = 0; i < n; i++) small[i] = gb_tensor_q(&b, "v", dt, nd, d, NULL, s, zp);
        big = gb_tensor_q(&b, "y", dt, nd + 1, bd, NULL, s, zp);
        int op = gb_op(&b, EV_OP_PACK, "PACK", 83, n, small, 1, &big);
        if (op >= 0) b.g.ops[op].p.pack.count = n, b.g.ops[op].p.pack.axis = rint_(0, 1) ? axis : axis - nd - 1;
    } else {
        big = gb_tensor_q(&b, "x", dt, nd + 1, bd, NULL, s, zp);
        for (int i = 0; i < n; i++) small[i] = gb_tensor_q(&b, "v", dt, nd, d, NULL, s, zp);
        int op = gb_op(&b, EV_OP_UNPACK, "UNPACK", 88, 1, &big, n, small);
        if (op >= 0) b.g.ops[op].p.pack.count = n, b.g.ops[op].p.pack.axis = rint_(0, 1) ? axis : axis - nd - 1;
    }
    int u = snprintf(c->desc, sizeof c->desc, "%s %d along %d of ", variant ? "unpack" : "pack",
                     n, axis);
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd + 1, bd);
    if (variant == 0) finish(&b, c, n, small, big);
    else finish(&b, c, 1, &big, small[n - 1]);
}


/* ---- float32 shapes the cpu backend's fast kernels take (eltwise_f32.c, pool_f32.c) ------ */

/* Channel counts around the vector widths (8, 16) and the ResNet50 / MobileNet ones. */
static int rand_channels(void) {
    static const int edges[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 256};
    return rint_(0, 1) ? edges[rint_(0, 13)] : rint_(1, 70);
}

/* ADD / SUB / MUL / DIV (variant 0..3) in the forms the fast kernel takes: same shape, a
 * per-channel ([C] or [1, 1, 1, C]) or [W, C] row, a scalar ([] or [1]), either side; about one
 * case in four is ResNet50-sized (56x56x256, the residual adds) and goes parallel. */
static void gen_binary_fast(ev_dtype dt, int variant, mcase *c) {
    static const ev_op_type types[4] = {EV_OP_ADD, EV_OP_SUB, EV_OP_MUL, EV_OP_DIV};
    static const char *const names[4] = {"ADD", "SUB", "MUL", "DIV"};
    static const int codes[4] = {0, 41, 18, 42};
    int od[4], nd = 4, bd[4], nb = 0;
    if (rint_(0, 3) == 0) {
        od[0] = 1, od[1] = 56, od[2] = 56, od[3] = 256;
    } else {
        nd = rint_(1, 4);
        for (int i = 0; i < nd; i++) od[i] = rint_(1, 12);
        od[nd - 1] = rand_channels();
    }
    int form = rint_(0, 4); /* 0 same, 1 [C], 2 [1,1,1,C], 3 [W,C], 4 scalar */
    if (form == 3 && nd < 2) form = 1;
    switch (form) {
    case 0: nb = nd; memcpy(bd, od, sizeof(int) * (size_t)nd); break;
    case 1: nb = 1, bd[0] = od[nd - 1]; break;
    case 2: nb = nd; for (int i = 0; i < nd; i++) bd[i] = i == nd - 1 ? od[i] : 1; break;
    case 3: nb = 2, bd[0] = od[nd - 2], bd[1] = od[nd - 1]; break;
    default: nb = rint_(0, 1), bd[0] = 1; break;
    }
    int swap = rint_(0, 1);
    ev_activation act = rand_act();
    gb b;
    gb_init(&b);
    int ta = gb_tensor_q(&b, "a", dt, nd, od, NULL, 0.0f, 0);
    int tb = gb_tensor_q(&b, "b", dt, nb, bd, NULL, 0.0f, 0);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, 0.0f, 0);
    int ins[2] = {swap ? tb : ta, swap ? ta : tb};
    int op = gb_op(&b, types[variant], names[variant], codes[variant], 2, ins, 1, &ty);
    if (op >= 0 && variant == 0) b.g.ops[op].p.add.activation = act;
    else if (op >= 0) b.g.ops[op].p.arith.activation = act;
    int u = snprintf(c->desc, sizeof c->desc, "%s ", names[variant]);
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, od);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " , ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nb, bd);
    snprintf(c->desc + u, sizeof c->desc - (size_t)u, "%s act%d", swap ? " (swapped)" : "", act);
    finish(&b, c, 2, ins, ty);
}

/* Pools (variant 0 average, 1 max) with channel remainders, SAME / VALID, strides 1-3; one case
 * in four is ResNet50's 3x3/2 max pool on 1x114x114x64 (or that shape averaged). */
static void gen_pool_fast(ev_dtype dt, int variant, mcase *c) {
    int n, h, w, ch, fh, fw, sh, sw, oh, ow;
    ev_padding pad;
    int big = rint_(0, 3) == 0;
    do {
        if (big) {
            n = 1, h = w = 114, ch = 64, fh = fw = 3, sh = sw = 2, pad = EV_PAD_VALID;
        } else {
            n = rint_(1, 2), h = rint_(1, 20), w = rint_(1, 20), ch = rand_channels();
            fh = rint_(1, 5), fw = rint_(1, 5), sh = rint_(1, 3), sw = rint_(1, 3);
            pad = rint_(0, 1) ? EV_PAD_SAME : EV_PAD_VALID;
        }
        oh = ev_conv_out_size(pad, h, fh, sh, 1);
        ow = ev_conv_out_size(pad, w, fw, sw, 1);
    } while (oh <= 0 || ow <= 0);
    ev_activation act = rand_act();
    pool_case(dt, variant, n, h, w, ch, oh, ow, fh, fw, sh, sw, pad, act, 0.0f, 0, c);
}

/* MEAN over H, W of NHWC (axes {1, 2} in either order, possibly negative), keep_dims 0 / 1;
 * ResNet50's 1x7x7x2048 and a 56x56x256 one case in three. */
static void gen_mean_fast(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int id[4], pick = rint_(0, 5);
    if (pick == 0) id[0] = 1, id[1] = 7, id[2] = 7, id[3] = 2048;
    else if (pick == 1) id[0] = 1, id[1] = 56, id[2] = 56, id[3] = 256;
    else id[0] = rint_(1, 3), id[1] = rint_(1, 12), id[2] = rint_(1, 12), id[3] = rand_channels();
    int axes[2] = {rint_(0, 1) ? 1 : -3, rint_(0, 1) ? 2 : -2}, two = 2;
    if (rint_(0, 1)) axes[0] ^= axes[1], axes[1] ^= axes[0], axes[0] ^= axes[1];
    int keep = rint_(0, 1);
    int od[4] = {id[0], 1, 1, id[3]}, od2[2] = {id[0], id[3]};
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, 0.0f, 0);
    int ta = gb_tensor(&b, "axes", EV_DTYPE_I32, 1, &two, axes, sizeof axes, 0, NULL, NULL, 0);
    int ty = keep ? gb_tensor_q(&b, "y", dt, 4, od, NULL, 0.0f, 0)
                  : gb_tensor_q(&b, "y", dt, 2, od2, NULL, 0.0f, 0);
    int ins[2] = {tx, ta};
    int op = gb_op(&b, EV_OP_MEAN, "MEAN", 40, 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.reduce.keep_dims = keep;
    int u = snprintf(c->desc, sizeof c->desc, "mean ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, id);
    snprintf(c->desc + u, sizeof c->desc - (size_t)u, " axes {%d, %d} keep%d", axes[0], axes[1],
             keep);
    finish(&b, c, 1, &tx, ty);
}

/* PAD of NHWC on H and W (and sometimes C), ResNet50's 1x224x224x3 -> 230 one case in four;
 * LOGISTIC (variant 1) and RELU / RELU6 (2 / 3) on shapes up to PoseNet's heads. */
static void gen_pad_fast(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int d[4], od[4], pd[2] = {4, 2};
    int32_t pads[8] = {0};
    if (rint_(0, 3) == 0) {
        d[0] = 1, d[1] = d[2] = 224, d[3] = 3;
        pads[2] = pads[3] = pads[4] = pads[5] = 3;
    } else {
        d[0] = rint_(1, 2), d[1] = rint_(1, 20), d[2] = rint_(1, 20), d[3] = rand_channels();
        for (int i = 2; i < 6; i++) pads[i] = rint_(0, 3);
        if (rint_(0, 3) == 0) pads[6] = rint_(0, 2), pads[7] = rint_(0, 2);
        if (rint_(0, 5) == 0) pads[0] = rint_(0, 1), pads[1] = rint_(0, 1);
    }
    for (int i = 0; i < 4; i++) od[i] = d[i] + pads[2 * i] + pads[2 * i + 1];
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, d, NULL, 0.0f, 0);
    int tp = gb_tensor(&b, "pads", EV_DTYPE_I32, 2, pd, pads, sizeof pads, 0, NULL, NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, 0.0f, 0);
    int ins[2] = {tx, tp};
    gb_op(&b, EV_OP_PAD, "PAD", 34, 2, ins, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "pad ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, d);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, od);
    finish(&b, c, 1, &tx, ty);
}

static void gen_unary_fast(ev_dtype dt, int variant, mcase *c) {
    static const ev_op_type types[4] = {EV_OP_LOGISTIC, EV_OP_LOGISTIC, EV_OP_RELU, EV_OP_RELU6};
    static const char *const names[4] = {"LOGISTIC", "LOGISTIC", "RELU", "RELU6"};
    static const int codes[4] = {14, 14, 19, 21};
    int d[4], nd = 4;
    if (rint_(0, 3) == 0) d[0] = 1, d[1] = 23, d[2] = 31, d[3] = 17; /* PoseNet 353x481 heatmaps */
    else if (rint_(0, 4) == 0) d[0] = 1, d[1] = 56, d[2] = 56, d[3] = 64;
    else nd = rand_shape(1, 4, 12, d), d[nd - 1] = rand_channels();
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, 0.0f, 0);
    int ty = gb_tensor_q(&b, "y", dt, nd, d, NULL, 0.0f, 0);
    gb_op(&b, types[variant], names[variant], codes[variant], 1, &tx, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "%s ", names[variant]);
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* ---- ONNX ops (formats/onnx_reader.c): the cpu backend runs their reference kernels --------- */

/* TRANSPOSE of rank 1..6 by a random permutation; quantized tensors keep their quantization. */
static void gen_transpose(ev_dtype dt, int variant, mcase *c) {
    int d[6], nd = rand_shape(1, 6, 6, d), perm[6], od[6];
    for (int i = 0; i < nd; i++) perm[i] = i;
    for (int i = nd - 1; i > 0; i--) {
        int j = rint_(0, i), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    if (variant == 1) { /* an ONNX model's input: N x 1-4 x H x W -> NHWC, image-sized */
        nd = 4;
        d[0] = rint_(1, 2), d[1] = rint_(1, 4), d[2] = rint_(1, 230), d[3] = rint_(1, 230);
        perm[0] = 0, perm[1] = 2, perm[2] = 3, perm[3] = 1;
    }
    for (int k = 0; k < nd; k++) od[k] = d[perm[k]];
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_TRANSPOSE, "TRANSPOSE", 39, 1, &tx, 1, &ty);
    if (op >= 0)
        for (int k = 0; k < nd; k++) b.g.ops[op].p.transpose.perm[k] = perm[k];
    int u = snprintf(c->desc, sizeof c->desc, "transpose ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " perm");
    for (int k = 0; k < nd; k++) u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " %d", perm[k]);
    finish(&b, c, 1, &tx, ty);
}

/* LEAKY_RELU (variant 0), HARD_SIGMOID (1), HARD_SWISH (2), random alpha / beta. */
static void gen_onnx_act(ev_dtype dt, int variant, mcase *c) {
    static const ev_op_type types[3] = {EV_OP_LEAKY_RELU, EV_OP_HARD_SIGMOID, EV_OP_HARD_SWISH};
    static const char *const names[3] = {"LEAKY_RELU", "HARD_SIGMOID", "HARD_SWISH"};
    int d[4], nd = rand_shape(1, 4, 12, d);
    float alpha = ev_test_rng_float(R, variant == 0 ? -0.5f : 0.05f, 1.0f);
    float beta = ev_test_rng_float(R, -0.5f, 1.0f);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, 0.0f, 0);
    int ty = gb_tensor_q(&b, "y", dt, nd, d, NULL, 0.0f, 0);
    int op = gb_op(&b, types[variant], names[variant], 0, 1, &tx, 1, &ty);
    if (op >= 0 && variant == 0) b.g.ops[op].p.leaky.alpha = alpha;
    if (op >= 0 && variant == 1)
        b.g.ops[op].p.hard_sigmoid.alpha = alpha, b.g.ops[op].p.hard_sigmoid.beta = beta;
    int u = snprintf(c->desc, sizeof c->desc, "%s alpha %g beta %g ", names[variant],
                     (double)alpha, (double)beta);
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* MINIMUM (variant 0) / MAXIMUM (1) with broadcasting as gen_add; quantized inputs and output
 * share one scale and zero point (what the kernels require). */
static void gen_minmax(ev_dtype dt, int variant, mcase *c) {
    int od[4], nd = rand_shape(1, 4, 9, od), bd[4], nb = 0;
    for (int i = rint_(0, nd - 1); i < nd; i++) bd[nb++] = rint_(0, 2) == 0 ? 1 : od[i];
    int swap = rint_(0, 1);
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.5f, &s, &zp);
    gb b;
    gb_init(&b);
    int ta = gb_tensor_q(&b, "a", dt, nd, od, NULL, s, zp);
    int tb = gb_tensor_q(&b, "b", dt, nb, bd, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, s, zp);
    int ins[2] = {swap ? tb : ta, swap ? ta : tb};
    gb_op(&b, variant ? EV_OP_MAXIMUM : EV_OP_MINIMUM, variant ? "MAXIMUM" : "MINIMUM",
          variant ? 55 : 57, 2, ins, 1, &ty);
    int u = snprintf(c->desc, sizeof c->desc, "%s ", variant ? "max" : "min");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, od);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " , ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nb, bd);
    snprintf(c->desc + u, sizeof c->desc - (size_t)u, "%s", swap ? " (swapped)" : "");
    finish(&b, c, 2, ins, ty);
}

/* BATCH_MATMUL: [..., M, K] x [..., K, N] (adj_x / adj_y random), batch dims broadcast. */
static void gen_bmm(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int M = rint_(1, 12), N = rint_(1, 12), K = rint_(1, 64), ax = rint_(0, 1), ay = rint_(0, 1);
    int nbo = rint_(0, 2), bo[2], xd[4], yd[4], od[4], nx = rint_(0, nbo);
    for (int i = 0; i < nbo; i++) bo[i] = rint_(1, 4);
    for (int i = 0; i < nx; i++) xd[i] = rint_(0, 2) == 0 ? 1 : bo[i + nbo - nx];
    for (int i = 0; i < nbo; i++) yd[i] = rint_(0, 2) == 0 ? 1 : bo[i];
    for (int i = 0; i < nbo; i++) {
        int dx = i - (nbo - nx), vx = dx >= 0 ? xd[dx] : 1;
        od[i] = vx > yd[i] ? vx : yd[i];
    }
    xd[nx] = ax ? K : M, xd[nx + 1] = ax ? M : K;
    yd[nbo] = ay ? N : K, yd[nbo + 1] = ay ? K : N;
    od[nbo] = M, od[nbo + 1] = N;
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nx + 2, xd, NULL, 0.0f, 0);
    int ty = gb_tensor_q(&b, "y", dt, nbo + 2, yd, NULL, 0.0f, 0);
    int to = gb_tensor_q(&b, "out", dt, nbo + 2, od, NULL, 0.0f, 0);
    int ins[2] = {tx, ty};
    int op = gb_op(&b, EV_OP_BATCH_MATMUL, "BATCH_MATMUL", 126, 2, ins, 1, &to);
    if (op >= 0) b.g.ops[op].p.bmm.adj_x = ax, b.g.ops[op].p.bmm.adj_y = ay;
    int u = snprintf(c->desc, sizeof c->desc, "bmm adj %d,%d ", ax, ay);
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nx + 2, xd);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " x ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nbo + 2, yd);
    finish(&b, c, 2, ins, to);
}

/* RESIZE (ONNX Resize on NHWC): variant 0 nearest, 1 linear, 2 cubic (random A, exclude_outside);
 * random coordinate transformation (not tf_half_pixel_for_nn beyond nearest), nearest mode, and
 * scales given or sizes only; variant 3: tf_crop_and_resize (nearest, linear or cubic, random
 * region and extrapolation value). */
static void gen_resize2(ev_dtype dt, int variant, mcase *c) {
    static const float ratios[] = {0.5f, 0.75f, 1.0f, 1.5f, 2.0f, 3.0f, 0.6f, 1.7f};
    int id[4] = {rint_(1, 2), rint_(1, 10), rint_(1, 10), rint_(1, 9)};
    int od[4] = {id[0], 0, 0, id[3]}, given = rint_(0, 1);
    float sc[2] = {0.0f, 0.0f};
    for (int a = 0; a < 2; a++) {
        if (!given) {
            od[1 + a] = rint_(1, 24);
            continue;
        }
        do {
            sc[a] = ratios[rint_(0, 7)];
            od[1 + a] = (int)floor(id[1 + a] * (double)sc[a]);
        } while (od[1 + a] < 1);
    }
    ev_resize2_params p = {0};
    p.linear = variant == 3 ? rint_(0, 2) : variant;
    p.coord = variant == 3 ? EV_COORD_TF_CROP_AND_RESIZE
                           : (ev_resize_coord)rint_(0, variant ? 3 : 4);
    p.nearest = (ev_resize_nearest)rint_(0, 3);
    p.scale_h = sc[0], p.scale_w = sc[1];
    p.cubic_a = rint_(0, 1) ? -0.75f : -0.5f;
    p.exclude_outside = rint_(0, 1);
    p.roi_h0 = ev_test_rng_float(R, -0.3f, 0.5f), p.roi_h1 = ev_test_rng_float(R, 0.4f, 1.3f);
    p.roi_w0 = ev_test_rng_float(R, -0.3f, 0.5f), p.roi_w1 = ev_test_rng_float(R, 0.4f, 1.3f);
    p.extrapolation = ev_test_rng_float(R, -2.0f, 2.0f);
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_RESIZE, "RESIZE", 0, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.rsz = p;
    static const char *const modes[3] = {"nearest", "linear", "cubic"};
    int u = snprintf(c->desc, sizeof c->desc, "resize %s coord %d nearest %d scales %g,%g ",
                     modes[p.linear], p.coord, p.nearest, (double)sc[0], (double)sc[1]);
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, id);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, od);
    finish(&b, c, 1, &tx, ty);
}

/* PAD_EX (ONNX Pad) mode = variant (constant with a random value on float32, reflect, edge);
 * pads in [-1, 3] per side (negative crops, the padded size kept >= 1). */
static void gen_pad_ex(ev_dtype dt, int variant, mcase *c) {
    int d[4], nd = rand_shape(1, 4, 6, d), od[4];
    int32_t pads[8];
    for (int i = 0; i < nd; i++) {
        do {
            pads[2 * i] = rint_(-1, 3), pads[2 * i + 1] = rint_(-1, 3);
            od[i] = d[i] + pads[2 * i] + pads[2 * i + 1];
        } while (od[i] < 1);
    }
    float s, value = variant == 0 && dt == EV_DTYPE_F32 ? ev_test_rng_float(R, -3.0f, 3.0f) : 0;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx, ty;
    int op = gb_pad_op(&b, EV_OP_PAD_EX, "PAD_EX", -1, dt, nd, d, od, pads, s, zp, &tx, &ty);
    if (op >= 0) {
        b.g.ops[op].p.pad_ex.mode = (ev_pad_mode)variant;
        b.g.ops[op].p.pad_ex.value = value;
    }
    int u = snprintf(c->desc, sizeof c->desc, "pad_ex mode %d value %g ", variant, (double)value);
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, od);
    finish(&b, c, 1, &tx, ty);
}

/* CONV_TRANSPOSE float32: random groups, kernel, strides, dilations, leading padding (negative
 * too) and output size around the natural one; bias present or not. */
static void gen_conv_transpose(ev_dtype dt, int variant, mcase *c) {
    (void)variant;
    int group = rint_(1, 3), icg = rint_(1, 4), ocg = rint_(1, 4);
    int kh = rint_(1, 4), kw = rint_(1, 4);
    ev_conv_transpose_params p = {rint_(1, 3), rint_(1, 3), rint_(1, 2), rint_(1, 2),
                                  rint_(-1, 2), rint_(-1, 2), group};
    int id[4] = {rint_(1, 2), rint_(1, 7), rint_(1, 7), group * icg};
    int nh = (id[1] - 1) * p.stride_h + (kh - 1) * p.dilation_h + 1 - p.pad_top;
    int nw = (id[2] - 1) * p.stride_w + (kw - 1) * p.dilation_w + 1 - p.pad_left;
    int od[4] = {id[0], nh + rint_(-1, 2), nw + rint_(-1, 2), group * ocg};
    if (od[1] < 1) od[1] = 1;
    if (od[2] < 1) od[2] = 1;
    int wd[4] = {id[3], kh, kw, ocg}, has_bias = rint_(0, 1);
    size_t wn = (size_t)wd[0] * kh * kw * ocg;
    float *w = ev_test_rng_data(R, EV_DTYPE_F32, wn, -1.0, 1.0);
    float *bias = ev_test_rng_data(R, EV_DTYPE_F32, (size_t)od[3], -1.0, 1.0);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 4, id, NULL, 0.0f, 0);
    int tw = gb_tensor(&b, "w", dt, 4, wd, w, wn * sizeof(float), 0, NULL, NULL, 0);
    int tb = gb_tensor(&b, "b", dt, 1, &od[3], bias, sizeof(float) * (size_t)od[3], 0, NULL,
                       NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, 4, od, NULL, 0.0f, 0);
    int ins[3] = {tx, tw, tb};
    int op = gb_op(&b, EV_OP_CONV_TRANSPOSE, "CONV_TRANSPOSE", 67, has_bias ? 3 : 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.convt = p;
    int u = snprintf(c->desc, sizeof c->desc, "conv_transpose group %d k %dx%d s %dx%d d %dx%d "
                     "pad %d,%d%s ", group, kh, kw, p.stride_h, p.stride_w, p.dilation_h,
                     p.dilation_w, p.pad_top, p.pad_left, has_bias ? " bias" : "");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, id);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, 4, od);
    free(w), free(bias);
    finish(&b, c, 1, &tx, ty);
}

/* POOL_ND (ONNX MaxPool / AveragePool in general form): variant 0 max, 1 average (random
 * count_include_pad); 1-3 spatial dims, kernel, stride, dilation, begin / end pads random. */
static void gen_pool_nd(ev_dtype dt, int variant, mcase *c) {
    int ns = rint_(1, 3), nd = ns + 2, d[5] = {rint_(1, 2), rint_(1, 4)}, od[5];
    ev_pool_nd_params p = {0};
    p.is_max = variant == 0;
    p.count_include_pad = variant == 1 && rint_(0, 1);
    od[0] = d[0], od[1] = d[1];
    int u = snprintf(c->desc, sizeof c->desc, "pool_nd %s%s", p.is_max ? "max" : "avg",
                     p.count_include_pad ? " count_include_pad" : "");
    for (int i = 0; i < ns; i++) {
        d[2 + i] = rint_(1, ns == 3 ? 6 : 9);
        p.kernel[i] = rint_(1, 3), p.stride[i] = rint_(1, 3), p.dilation[i] = rint_(1, 2);
        int eff = (p.kernel[i] - 1) * p.dilation[i] + 1;
        p.pad_begin[i] = rint_(0, eff - 1), p.pad_end[i] = rint_(0, eff - 1);
        int span = d[2 + i] + p.pad_begin[i] + p.pad_end[i] - eff;
        if (span < 0) p.pad_end[i] -= span, span = 0;
        od[2 + i] = span / p.stride[i] + 1;
        u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " [%d k%d s%d d%d p%d,%d]",
                      d[2 + i], p.kernel[i], p.stride[i], p.dilation[i], p.pad_begin[i],
                      p.pad_end[i]);
    }
    float s;
    int32_t zp;
    rand_q(dt, 0.01f, 0.3f, &s, &zp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, s, zp);
    int ty = gb_tensor_q(&b, "y", dt, nd, od, NULL, s, zp);
    int op = gb_op(&b, EV_OP_POOL_ND, "POOL_ND", -1, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.pool_nd = p;
    finish(&b, c, 1, &tx, ty);
}

/* CONV_ND (ONNX Conv / ConvTranspose beyond 2-D): variant 0 convolution, 1 transposed; 3 spatial
 * dims, random groups, kernel, strides, dilations, leading pads; bias present or not. */
static void gen_conv_nd(ev_dtype dt, int variant, mcase *c) {
    int group = rint_(1, 2), cg = rint_(1, 3), og = rint_(1, 3);
    int d[5] = {1, group * cg}, od[5] = {1, group * og}, wd[5];
    ev_conv_nd_params p = {0};
    p.transposed = variant, p.group = group;
    wd[0] = variant ? group * cg : group * og, wd[1] = variant ? og : cg;
    for (int i = 0; i < 3; i++) {
        d[2 + i] = rint_(1, 4), wd[2 + i] = rint_(1, 3);
        p.stride[i] = rint_(1, 2), p.dilation[i] = rint_(1, 2);
        p.pad_begin[i] = rint_(0, 1);
        int eff = (wd[2 + i] - 1) * p.dilation[i] + 1;
        od[2 + i] = variant ? (d[2 + i] - 1) * p.stride[i] + eff - p.pad_begin[i]
                            : (d[2 + i] + 2 * p.pad_begin[i] - eff) / p.stride[i] + 1;
        if (od[2 + i] < 1) od[2 + i] = 1;
    }
    size_t wn = (size_t)wd[0] * wd[1] * wd[2] * wd[3] * wd[4];
    float *w = ev_test_rng_data(R, EV_DTYPE_F32, wn, -1.0, 1.0);
    float *bias = ev_test_rng_data(R, EV_DTYPE_F32, (size_t)od[1], -1.0, 1.0);
    int has_bias = rint_(0, 1);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, 5, d, NULL, 0.0f, 0);
    int tw = gb_tensor(&b, "w", dt, 5, wd, w, wn * sizeof(float), 0, NULL, NULL, 0);
    int tb = gb_tensor(&b, "b", dt, 1, &od[1], bias, sizeof(float) * (size_t)od[1], 0, NULL,
                       NULL, 0);
    int ty = gb_tensor_q(&b, "y", dt, 5, od, NULL, 0.0f, 0);
    int ins[3] = {tx, tw, tb};
    int op = gb_op(&b, EV_OP_CONV_ND, "CONV_ND", -1, has_bias ? 3 : 2, ins, 1, &ty);
    if (op >= 0) b.g.ops[op].p.conv_nd = p;
    int u = snprintf(c->desc, sizeof c->desc, "conv_nd%s group %d%s ", variant ? " transposed" : "",
                     group, has_bias ? " bias" : "");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 5, d);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " * ");
    u += shape_str(c->desc + u, sizeof c->desc - (size_t)u, 5, wd);
    u += snprintf(c->desc + u, sizeof c->desc - (size_t)u, " -> ");
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, 5, od);
    free(w), free(bias);
    finish(&b, c, 1, &tx, ty);
}

/* QUANTIZE float32 -> the variant's type with ONNX QuantizeLinear's rounding (halves to even,
 * p.quantize.round_half_even); exact ties against the definition are test_ops_onnx.c's. */
static void gen_quantize_onnx(ev_dtype dt, int variant, mcase *c) {
    ev_dtype out_dt = (ev_dtype)variant;
    int d[4], nd = rand_shape(1, 4, 9, d);
    float os;
    int32_t ozp;
    rand_q(out_dt, 0.005f, 0.2f, &os, &ozp);
    gb b;
    gb_init(&b);
    int tx = gb_tensor_q(&b, "x", dt, nd, d, NULL, 0.0f, 0);
    int ty = gb_tensor_q(&b, "y", out_dt, nd, d, NULL, os, ozp);
    int op = gb_op(&b, EV_OP_QUANTIZE, "QUANTIZE", 114, 1, &tx, 1, &ty);
    if (op >= 0) b.g.ops[op].p.quantize.round_half_even = 1;
    int u = snprintf(c->desc, sizeof c->desc, "quantize half-even %s->%s ", ev_dtype_name(dt),
                     ev_dtype_name(out_dt));
    shape_str(c->desc + u, sizeof c->desc - (size_t)u, nd, d);
    finish(&b, c, 1, &tx, ty);
}

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct row {
    const char *op;    /* ev_op name                                                         */
    const char *label; /* data type, and the variant where it matters                        */
    ev_dtype dt;
    gen_fn gen;
    int variant;
    int cases;
    int cpu_fast; /* the cpu backend must run a fast (non-reference) kernel                  */
} row;

#define F32 EV_DTYPE_F32
#define U8 EV_DTYPE_U8
#define I8 EV_DTYPE_I8
#define I16 EV_DTYPE_I16
#define I32 EV_DTYPE_I32

static const row k_rows[] = {
    {"CONV_2D", "uint8", U8, gen_conv, 0, 120, 1},
    {"CONV_2D", "int8/per-channel", I8, gen_conv, 0, 120, 1},
    {"CONV_2D", "int8/per-tensor", I8, gen_conv_ex, 1, 32, 1},
    {"CONV_2D", "uint8/tile-edges", U8, gen_conv_ex, 0, 32, 1},
    {"CONV_2D", "int8/tile-edges", I8, gen_conv_ex, 0, 32, 1},
    {"CONV_2D", "uint8/ties", U8, gen_conv_ex, 3, 32, 1},
    {"CONV_2D", "uint8/posenet-gemm", U8, gen_conv_ex, 4, 24, 1},
    {"CONV_2D", "int8/posenet-gemm", I8, gen_conv_ex, 4, 24, 1},
    {"CONV_2D", "int8/ties", I8, gen_conv_ex, 3, 32, 1},
    {"CONV_2D", "uint8/wide-K", U8, gen_conv_ex, 5, 32, 1},
    {"CONV_2D", "int8/wide-K", I8, gen_conv_ex, 5, 32, 1},
    {"CONV_2D", "float32", F32, gen_conv, 0, 32, 1},
    {"CONV_2D", "float32/tile-edges", F32, gen_conv_f32_ex, 1, 32, 1},
    {"CONV_2D", "float32/1x1-direct", F32, gen_conv_f32_ex, 2, 24, 1},
    {"CONV_2D", "float32/large-K", F32, gen_conv_f32_ex, 3, 16, 1},
    {"CONV_2D", "float32/implicit", F32, gen_conv_f32_ex, 4, 24, 1},
    {"CONV_2D", "float32/split", F32, gen_conv_f32_ex, 5, 24, 1},
    {"CONV_2D", "float32/first-layer", F32, gen_conv_first, 0, 64, 1},
    {"CONV_2D", "float32/first-layer-nets", F32, gen_conv_first, 1, 16, 1},
    {"DEPTHWISE_CONV_2D", "uint8", U8, gen_dwconv, 0, 120, 1},
    {"DEPTHWISE_CONV_2D", "int8/per-channel", I8, gen_dwconv, 0, 120, 1},
    {"DEPTHWISE_CONV_2D", "int8/per-tensor", I8, gen_dwconv_ex, 1, 32, 1},
    {"DEPTHWISE_CONV_2D", "uint8/posenet", U8, gen_dwconv_ex, 4, 24, 1},
    {"DEPTHWISE_CONV_2D", "int8/posenet", I8, gen_dwconv_ex, 4, 24, 1},
    {"DEPTHWISE_CONV_2D", "uint8/3x3-sdot", U8, gen_dwconv_ex, 6, 48, 1},
    {"DEPTHWISE_CONV_2D", "int8/3x3-sdot", I8, gen_dwconv_ex, 6, 48, 1},
    {"DEPTHWISE_CONV_2D", "uint8/3x3-asm", U8, gen_dwconv_ex, 7, 96, 1},
    {"DEPTHWISE_CONV_2D", "uint8/mult>1", U8, gen_dwconv_ex, 2, 32, 0},
    {"DEPTHWISE_CONV_2D", "int8/mult>1", I8, gen_dwconv_ex, 2, 32, 0},
    {"DEPTHWISE_CONV_2D", "float32 mult 1-2", F32, gen_dwconv, 0, 32, 0},
    {"DEPTHWISE_CONV_2D", "float32", F32, gen_dwconv_f32, 0, 96, 1},
    {"DEPTHWISE_CONV_2D", "float32/tall", F32, gen_dwconv_f32, 1, 24, 1},
    {"DEPTHWISE_CONV_2D", "float32/posenet", F32, gen_dwconv_f32, 2, 32, 1},
    {"FULLY_CONNECTED", "uint8", U8, gen_fc, 0, 24, 0},
    {"FULLY_CONNECTED", "int8/per-tensor", I8, gen_fc, 0, 24, 0},
    {"FULLY_CONNECTED", "int8/per-channel", I8, gen_fc, 1, 24, 0},
    {"FULLY_CONNECTED", "float32", F32, gen_fc, 0, 24, 1},
    {"FULLY_CONNECTED", "float32/large", F32, gen_fc, 2, 16, 1},
    {"ADD", "uint8", U8, gen_add, 0, 24, 0},
    {"ADD", "int8", I8, gen_add, 0, 24, 0},
    {"ADD", "float32", F32, gen_add, 0, 24, 0},
    {"CONCATENATION", "uint8", U8, gen_concat, 0, 24, 0},
    {"CONCATENATION", "int8", I8, gen_concat, 0, 24, 0},
    {"CONCATENATION", "float32", F32, gen_concat, 0, 24, 0},
    {"AVERAGE_POOL_2D", "uint8", U8, gen_pool, 0, 24, 0},
    {"AVERAGE_POOL_2D", "int8", I8, gen_pool, 0, 24, 0},
    {"AVERAGE_POOL_2D", "float32", F32, gen_pool, 0, 24, 1},
    {"MAX_POOL_2D", "uint8", U8, gen_pool, 1, 24, 0},
    {"MAX_POOL_2D", "int8", I8, gen_pool, 1, 24, 0},
    {"MAX_POOL_2D", "float32", F32, gen_pool, 1, 24, 1},
    {"MEAN", "uint8", U8, gen_mean, 0, 24, 0},
    {"MEAN", "int8", I8, gen_mean, 0, 24, 0},
    {"MEAN", "float32", F32, gen_mean, 0, 24, 0},
    {"SOFTMAX", "uint8", U8, gen_unary_prob, 0, 24, 0},
    {"SOFTMAX", "int8", I8, gen_unary_prob, 0, 24, 0},
    {"SOFTMAX", "float32", F32, gen_unary_prob, 0, 24, 0},
    {"LOGISTIC", "uint8", U8, gen_unary_prob, 1, 24, 0},
    {"LOGISTIC", "int8", I8, gen_unary_prob, 1, 24, 0},
    {"LOGISTIC", "float32", F32, gen_unary_prob, 1, 24, 1},
    {"RESHAPE", "uint8", U8, gen_reshape, 0, 16, 0},
    {"RESHAPE", "int8", I8, gen_reshape, 0, 16, 0},
    {"RESHAPE", "float32", F32, gen_reshape, 0, 16, 0},
    {"PAD", "uint8", U8, gen_pad, 0, 24, 0},
    {"PAD", "int8", I8, gen_pad, 0, 24, 0},
    {"PAD", "float32", F32, gen_pad, 0, 24, 1},
    {"RELU", "uint8", U8, gen_relu, 0, 16, 0},
    {"RELU", "int8", I8, gen_relu, 0, 16, 0},
    {"RELU", "float32", F32, gen_relu, 0, 16, 1},
    {"RELU6", "uint8", U8, gen_relu, 1, 16, 0},
    {"RELU6", "int8", I8, gen_relu, 1, 16, 0},
    {"RELU6", "float32", F32, gen_relu, 1, 16, 1},
    {"QUANTIZE", "float32->uint8", F32, gen_quantize, U8, 24, 0},
    {"QUANTIZE", "float32->int8", F32, gen_quantize, I8, 24, 0},
    {"QUANTIZE", "uint8->int8", U8, gen_quantize, I8, 24, 0},
    {"QUANTIZE", "int8->int8", I8, gen_quantize, I8, 24, 0},
    {"QUANTIZE", "int8->uint8", I8, gen_quantize, U8, 24, 0},
    {"DEQUANTIZE", "uint8", U8, gen_quantize, F32, 24, 0},
    {"DEQUANTIZE", "int8", I8, gen_quantize, F32, 24, 0},
    {"DEQUANTIZE", "int16", I16, gen_quantize, F32, 24, 0},
    {"SUB", "uint8", U8, gen_binary, 0, 24, 0},
    {"SUB", "int8", I8, gen_binary, 0, 24, 0},
    {"SUB", "float32", F32, gen_binary, 0, 24, 0},
    {"SUB", "int32", I32, gen_binary, 0, 24, 0},
    {"MUL", "uint8", U8, gen_binary, 1, 24, 0},
    {"MUL", "int8", I8, gen_binary, 1, 24, 0},
    {"MUL", "float32", F32, gen_binary, 1, 24, 0},
    {"MUL", "int32", I32, gen_binary, 1, 24, 0},
    {"DIV", "float32", F32, gen_binary, 2, 24, 0},
    {"FLOOR_DIV", "int32", I32, gen_binary, 3, 24, 0},
    {"FLOOR_DIV", "float32", F32, gen_binary, 3, 24, 0},
    {"SQRT", "float32", F32, gen_unary_mn, -1, 16, 0},
    {"CAST", "uint8->float32", U8, gen_unary_mn, F32, 16, 0},
    {"CAST", "int32->float32", I32, gen_unary_mn, F32, 16, 0},
    {"CAST", "float32->int32", F32, gen_unary_mn, I32, 16, 0},
    {"RESIZE_BILINEAR", "int8", I8, gen_resize, 0, 16, 0},
    {"RESIZE_BILINEAR", "int8/align_corners", I8, gen_resize, 1, 16, 0},
    {"RESIZE_BILINEAR", "int8/half_pixel", I8, gen_resize, 2, 16, 0},
    {"RESIZE_BILINEAR", "uint8/half_pixel", U8, gen_resize, 2, 16, 0},
    {"RESIZE_BILINEAR", "float32", F32, gen_resize, 0, 16, 0},
    {"RESIZE_BILINEAR", "float32/half_pixel", F32, gen_resize, 2, 16, 0},
    {"ARG_MAX", "int8", I8, gen_argmax, 0, 24, 0},
    {"ARG_MAX", "uint8", U8, gen_argmax, 0, 24, 0},
    {"ARG_MAX", "float32", F32, gen_argmax, 0, 24, 0},
    {"GATHER_ND", "int8", I8, gen_gather_nd, 0, 24, 0},
    {"GATHER_ND", "int32", I32, gen_gather_nd, 0, 24, 0},
    {"PACK", "int8", I8, gen_pack, 0, 16, 0},
    {"PACK", "int32", I32, gen_pack, 0, 16, 0},
    {"UNPACK", "int8", I8, gen_pack, 1, 16, 0},
    /* float32 shapes the cpu backend's fast kernels take: never a reference fallback there,
     * and within TIGHT_REL of ref; about a quarter of the cases are ResNet50-sized */
    {"ADD", "float32/fast", F32, gen_binary_fast, 0, 32, 1},
    {"SUB", "float32/fast", F32, gen_binary_fast, 1, 24, 1},
    {"MUL", "float32/fast", F32, gen_binary_fast, 2, 24, 1},
    {"DIV", "float32/fast", F32, gen_binary_fast, 3, 24, 1},
    {"AVERAGE_POOL_2D", "float32/fast", F32, gen_pool_fast, 0, 24, 1},
    {"MAX_POOL_2D", "float32/fast", F32, gen_pool_fast, 1, 24, 1},
    {"MEAN", "float32/fast H,W", F32, gen_mean_fast, 0, 24, 1},
    {"PAD", "float32/fast", F32, gen_pad_fast, 0, 24, 1},
    {"LOGISTIC", "float32/fast", F32, gen_unary_fast, 0, 24, 1},
    {"LOGISTIC", "float32/[-40,40]", F32, gen_unary_fast, 1, 24, 1},
    {"RELU", "float32/fast", F32, gen_unary_fast, 2, 16, 1},
    {"RELU6", "float32/fast [-8,8]", F32, gen_unary_fast, 3, 16, 1},
    /* ONNX ops (formats/onnx_reader.c): reference kernels on cpu */
    {"TRANSPOSE", "uint8", U8, gen_transpose, 0, 24, 0},
    {"TRANSPOSE", "int8", I8, gen_transpose, 0, 24, 0},
    {"TRANSPOSE", "int32", I32, gen_transpose, 0, 16, 0},
    {"TRANSPOSE", "float32", F32, gen_transpose, 0, 24, 0},
    {"TRANSPOSE", "float32/NCHW->NHWC", F32, gen_transpose, 1, 12, 0},
    {"LEAKY_RELU", "float32", F32, gen_onnx_act, 0, 16, 0},
    {"HARD_SIGMOID", "float32", F32, gen_onnx_act, 1, 16, 0},
    {"HARD_SWISH", "float32", F32, gen_onnx_act, 2, 16, 0},
    {"MINIMUM", "float32", F32, gen_minmax, 0, 24, 0},
    {"MINIMUM", "int32", I32, gen_minmax, 0, 16, 0},
    {"MINIMUM", "uint8", U8, gen_minmax, 0, 16, 0},
    {"MINIMUM", "int8", I8, gen_minmax, 0, 16, 0},
    {"MAXIMUM", "float32", F32, gen_minmax, 1, 24, 0},
    {"MAXIMUM", "int32", I32, gen_minmax, 1, 16, 0},
    {"MAXIMUM", "uint8", U8, gen_minmax, 1, 16, 0},
    {"MAXIMUM", "int8", I8, gen_minmax, 1, 16, 0},
    {"BATCH_MATMUL", "float32", F32, gen_bmm, 0, 24, 0},
    {"RESIZE", "float32/nearest", F32, gen_resize2, 0, 24, 0},
    {"RESIZE", "uint8/nearest", U8, gen_resize2, 0, 16, 0},
    {"RESIZE", "int8/nearest", I8, gen_resize2, 0, 16, 0},
    {"RESIZE", "float32/linear", F32, gen_resize2, 1, 24, 0},
    {"RESIZE", "float32/cubic", F32, gen_resize2, 2, 24, 0},
    {"RESIZE", "float32/tf_crop_and_resize", F32, gen_resize2, 3, 16, 0},
    {"PAD_EX", "float32/constant", F32, gen_pad_ex, EV_PADMODE_CONSTANT, 24, 0},
    {"PAD_EX", "float32/reflect", F32, gen_pad_ex, EV_PADMODE_REFLECT, 24, 0},
    {"PAD_EX", "float32/edge", F32, gen_pad_ex, EV_PADMODE_EDGE, 24, 0},
    {"PAD_EX", "int32/reflect", I32, gen_pad_ex, EV_PADMODE_REFLECT, 16, 0},
    {"PAD_EX", "uint8/edge", U8, gen_pad_ex, EV_PADMODE_EDGE, 16, 0},
    {"PAD_EX", "int8/constant", I8, gen_pad_ex, EV_PADMODE_CONSTANT, 16, 0},
    {"CONV_TRANSPOSE", "float32", F32, gen_conv_transpose, 0, 24, 0},
    {"POOL_ND", "float32/max", F32, gen_pool_nd, 0, 24, 0},
    {"POOL_ND", "float32/average", F32, gen_pool_nd, 1, 24, 0},
    {"POOL_ND", "uint8/max", U8, gen_pool_nd, 0, 16, 0},
    {"POOL_ND", "int8/max", I8, gen_pool_nd, 0, 16, 0},
    {"CONV_ND", "float32/3-D", F32, gen_conv_nd, 0, 16, 0},
    {"CONV_ND", "float32/3-D transposed", F32, gen_conv_nd, 1, 16, 0},
    {"QUANTIZE", "f32->u8 half-even", F32, gen_quantize_onnx, U8, 16, 0},
    {"QUANTIZE", "f32->i8 half-even", F32, gen_quantize_onnx, I8, 16, 0},
};
#define N_ROWS ((int)(sizeof k_rows / sizeof k_rows[0]))

static int is_first_conv_row(gen_fn g) { return g == gen_conv_first; }

/* Rows of the fast float32 generators: cpu within TIGHT_REL of ref (relative to max |ref|). */
static int row_tight(const row *r) {
    return r->gen == gen_binary_fast || r->gen == gen_pool_fast || r->gen == gen_mean_fast ||
           r->gen == gen_pad_fast || r->gen == gen_unary_fast || r->gen == gen_dwconv_f32;
}

/* float32 inputs are drawn in [-range, range]: 2, or wider where a row's label says so
 * (LOGISTIC past its -9 and 16.6 branch points, RELU6 past 6). */
static double row_in_range(const row *r) {
    if (r->gen == gen_unary_fast && r->variant == 1) return 40.0;
    if (r->gen == gen_unary_fast && r->variant == 3) return 8.0;
    return 2.0;
}

/* ------------------------------------------------------------------------------------------ */
/* Targets: (backend, ISA path) pairs                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct target {
    const char *backend;
    const char *isa; /* NULL: the backend has no ISA paths                                  */
    char label[32];
    int skipped;     /* no device: the message was printed once                             */
} target;

static target g_targets[MAX_TARGETS];
static int g_ntargets;

static void list_targets(void) {
    for (const char *const *n = ev_backend_names(); *n; n++) {
        if (strcmp(*n, "ref") == 0) continue;
        if (strcmp(*n, "cpu") == 0) {
            ev_isa paths[8];
            int np = ev_cpu_isa_paths(paths, 8);
            for (int i = 0; i < np && g_ntargets < MAX_TARGETS; i++) {
                target *t = &g_targets[g_ntargets++];
                t->backend = *n;
                t->isa = ev_isa_name(paths[i]);
                snprintf(t->label, sizeof t->label, "cpu/%s", t->isa);
            }
        } else if (g_ntargets < MAX_TARGETS) {
            target *t = &g_targets[g_ntargets++];
            t->backend = *n;
            snprintf(t->label, sizeof t->label, "%s", *n);
        }
    }
}

/* One cell of the summary: a row on a target. */
typedef struct cell {
    int pass, total, na;
    const char *kernels[MAX_KERNELS]; /* distinct kernel names (static copies)              */
    int n_kernels, more_kernels;
    double perf_s; /* --perf: the sum over the row's cases of each case's median run time   */
    double worst_rel; /* tight rows: the largest rel_diff seen                               */
} cell;

static cell g_cells[N_ROWS][MAX_TARGETS + 1]; /* [row][target]; column g_ntargets is ref       */
static char g_names[256][48];             /* kernel names, kept past the sessions           */
static int g_nnames;

static const char *intern(const char *s) {
    for (int i = 0; i < g_nnames; i++)
        if (strcmp(g_names[i], s) == 0) return g_names[i];
    if (g_nnames == 256) return "?";
    snprintf(g_names[g_nnames], sizeof g_names[0], "%s", s);
    return g_names[g_nnames++];
}

static void note_kernel(cell *c, const char *name) {
    name = intern(name ? name : "?");
    for (int i = 0; i < c->n_kernels; i++)
        if (c->kernels[i] == name) return;
    if (c->n_kernels < MAX_KERNELS)
        c->kernels[c->n_kernels++] = name;
    else
        c->more_kernels = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Running and comparing                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* The longest reduction of op 0 (the K of the float tolerance). */
static double reduction_len(const ev_model *m) {
    const ev_graph *g = &m->graph;
    const ev_op *op = &g->ops[0];
    const ev_tensor *in = &g->tensors[op->inputs[0]], *out = &g->tensors[op->outputs[0]];
    const ev_tensor *w = op->num_inputs > 1 && op->inputs[1] >= 0 ? &g->tensors[op->inputs[1]]
                                                                   : NULL;
    size_t n_in = 1, n_out = 1;
    for (int i = 0; i < in->ndim; i++) n_in *= (size_t)in->dims[i];
    for (int i = 0; i < out->ndim; i++) n_out *= (size_t)out->dims[i];
    switch (op->type) {
    case EV_OP_CONV_2D: return (double)w->dims[1] * w->dims[2] * w->dims[3];
    case EV_OP_DEPTHWISE_CONV_2D: return (double)w->dims[1] * w->dims[2];
    case EV_OP_FULLY_CONNECTED: return (double)w->dims[1];
    case EV_OP_AVERAGE_POOL_2D: return (double)op->p.pool.filter_h * op->p.pool.filter_w;
    case EV_OP_MEAN: return n_out ? (double)n_in / (double)n_out : 1.0;
    case EV_OP_SOFTMAX: return in->ndim ? (double)in->dims[in->ndim - 1] : 1.0;
    case EV_OP_POOL_ND: {
        double k = 1;
        for (int i = 0; i + 2 < in->ndim && i < EV_POOL_ND_MAX; i++) k *= op->p.pool_nd.kernel[i];
        return k;
    }
    case EV_OP_CONV_ND: {
        double k = op->p.conv_nd.transposed ? (double)w->dims[0] / op->p.conv_nd.group
                                            : (double)w->dims[1];
        for (int i = 2; i < w->ndim; i++) k *= w->dims[i];
        return k;
    }
    case EV_OP_CONV_TRANSPOSE:
        return (double)w->dims[0] / (op->p.convt.group > 0 ? op->p.convt.group : 1) *
               w->dims[1] * w->dims[2];
    case EV_OP_BATCH_MATMUL:
        return in->ndim >= 2 ? (double)in->dims[in->ndim - (op->p.bmm.adj_x ? 2 : 1)] : 1.0;
    default: return 1.0;
    }
}

static double elem(ev_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case EV_DTYPE_U8: return ((const uint8_t *)p)[i];
    case EV_DTYPE_I8: return ((const int8_t *)p)[i];
    case EV_DTYPE_I16: return ((const int16_t *)p)[i];
    case EV_DTYPE_I32: return ((const int32_t *)p)[i];
    case EV_DTYPE_F32: return ((const float *)p)[i];
    default: return NAN;
    }
}

/* 1 when `got` matches `ref` (n bytes of dtype dt); *first = the first differing element. */
static int outputs_match(ev_dtype dt, const void *ref, const void *got, size_t bytes, double k,
                         size_t *first, double *tol_out) {
    size_t es = ev_dtype_size(dt), n = es ? bytes / es : 0;
    *tol_out = 0;
    if (dt != EV_DTYPE_F32) {
        for (size_t i = 0; i < n; i++)
            if (memcmp((const uint8_t *)ref + i * es, (const uint8_t *)got + i * es, es)) {
                *first = i;
                return 0;
            }
        return 1;
    }
    const float *r = ref, *g = got;
    double mx = 1.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(r[i]) && fabs(r[i]) > mx) mx = fabs(r[i]);
    double tol = TOL_C * (k + 1.0) * U_F32 * mx;
    *tol_out = tol;
    for (size_t i = 0; i < n; i++) {
        int ok = isnan(r[i]) ? isnan(g[i]) : (r[i] == g[i] || fabs((double)r[i] - g[i]) <= tol);
        if (!ok) {
            *first = i;
            return 0;
        }
    }
    return 1;
}

/* max_i |g_i - r_i| / max_i |r_i| over n floats (0 when equal; NaN positions agree already). */
static double rel_diff(const float *r, const float *g, size_t n) {
    double d = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(r[i]) || r[i] == g[i]) continue;
        double e = fabs((double)r[i] - g[i]);
        if (e > d) d = e;
    }
    for (size_t i = 0; i < n; i++)
        if (isfinite(r[i]) && fabs(r[i]) > mx) mx = fabs(r[i]);
    return d == 0 ? 0 : mx > 0 ? d / mx : INFINITY;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --perf: the median of 5 more runs of a session that has run once. */
static double median_run(ev_session *s) {
    double t[5];
    for (int i = 0; i < 5; i++) {
        double t0 = ev_test_now();
        if (ev_session_run(s) != EV_OK) return 0;
        t[i] = ev_test_now() - t0;
    }
    qsort(t, 5, sizeof t[0], cmp_dbl);
    return t[2];
}

static int g_reported;

/* The issue's per-op figure for the float GEMM ops on cpu: rel_diff (max|y - r| / max|r|) held
 * to TIGHT_REL. Worst per row, over every case, ISA path and thread count. */
static double g_rel_worst[N_ROWS];
static int g_rel_n[N_ROWS], g_rel_checked[N_ROWS];

/* Float CONV_2D / FULLY_CONNECTED run by the cpu backend's float GEMM: the relative error, and
 * its bound where the activation leaves the output's range alone (none, ReLU). A clamping
 * activation (ReLU6, ReLU_N1_TO_1) caps max|r| at 6 or 1 while the sums' rounding grows with
 * their unclamped size (about sqrt(K) here), so there the element-wise bound above applies. */
static void check_rel(int ri, const ev_model *m, const target *tg, int threads, const char *kname,
                      const void *ref, const void *got, size_t bytes, const char *desc) {
    const ev_op *op = &m->graph.ops[0];
    if (op->type != EV_OP_CONV_2D && op->type != EV_OP_FULLY_CONNECTED) return;
    if (k_rows[ri].dt != EV_DTYPE_F32 || strcmp(tg->backend, "cpu") != 0) return;
    double rel = rel_diff(ref, got, bytes / sizeof(float));
    if (rel > g_rel_worst[ri]) g_rel_worst[ri] = rel;
    g_rel_n[ri]++;
    ev_activation act = op->type == EV_OP_CONV_2D ? op->p.conv.activation : op->p.fc.activation;
    if (act != EV_ACT_NONE && act != EV_ACT_RELU) return;
    g_rel_checked[ri]++;
    CHECK_MSG(rel <= TIGHT_REL,
              "%s %s on %s (threads %d), kernel %s: max|y-r|/max|r| = %.3g > %g (%s)",
              k_rows[ri].op, k_rows[ri].label, tg->label, threads, kname ? kname : "?", rel,
              TIGHT_REL, desc);
}

static void run_case(int ri, int k) {
    const row *rw = &k_rows[ri];
    uint64_t seed = ev_test_rng_seed(base_seed, ri, k);
    rg_rng.s = seed;
    mcase c = {0};
    rw->gen(rw->dt, rw->variant, &c);
    CHECK_MSG(c.m != NULL, "%s %s: %s", rw->op, rw->label, c.desc);
    if (!c.m) return;
    /* inputs: integers uniform over their type, float32 in [-2, 2] */
    int n_in = ev_model_num_inputs(c.m);
    void *in[4] = {0};
    size_t bytes[4] = {0};
    for (int i = 0; i < n_in && i < 4; i++) {
        ev_tensor_info ii;
        ev_model_input_info(c.m, i, &ii);
        double lim = row_in_range(rw);
        in[i] = ev_test_rng_data(R, ii.dtype, ii.bytes / ev_dtype_size(ii.dtype), -lim, lim);
        bytes[i] = ii.bytes;
    }
    ev_session *rs = NULL;
    const void *ref = NULL;
    ev_tensor_info ri_info;
    ev_status st = ev_test_run(c.m, NULL, n_in, (const void *const *)in, bytes, &rs, &ref,
                               &ri_info);
    CHECK_MSG(st == EV_OK, "%s %s seed=%llx %s: on ref: %s: %s", rw->op, rw->label,
              (unsigned long long)seed, c.desc, ev_status_string(st), ev_last_error());
    if (st == EV_OK) {
        note_kernel(&g_cells[ri][g_ntargets], ev_session_kernel_name(rs, 0, NULL));
        g_cells[ri][g_ntargets].pass++, g_cells[ri][g_ntargets].total++;
        if (perf_mode) g_cells[ri][g_ntargets].perf_s += median_run(rs);
    }
    double kred = reduction_len(c.m);
    for (int t = 0; st == EV_OK && t < g_ntargets; t++) {
        target *tg = &g_targets[t];
        if (tg->skipped) continue;
        cell *cl = &g_cells[ri][t];
        ev_run_opts o = {.backend = tg->backend, .isa = tg->isa, .threads = 1 + k % 3};
        ev_session *s = NULL;
        const void *got = NULL;
        ev_tensor_info gi;
        ev_status gs = ev_test_run(c.m, &o, n_in, (const void *const *)in, bytes, &s, &got, &gi);
        if (gs == EV_ERR_NEEDS_DEVICE) {
            fprintf(stderr, "SKIP %s: %s\n", tg->label, ev_last_error());
            tg->skipped = 1;
            ev_t_skip++;
            continue;
        }
        if (gs == EV_ERR_UNSUPPORTED && !s) {
            /* The session refused the op: the backend does not take it (not a failure). */
            cl->na++;
            continue;
        }
        cl->total++;
        CHECK_MSG(gs == EV_OK, "%s %s seed=%llx %s: on %s: %s: %s", rw->op, rw->label,
                  (unsigned long long)seed, c.desc, tg->label, ev_status_string(gs),
                  ev_last_error());
        if (gs != EV_OK) continue;
        int reference = 0;
        const char *kname = ev_session_kernel_name(s, 0, &reference);
        note_kernel(cl, kname);
        size_t first = 0;
        double tol = 0;
        int ok = gi.dtype == ri_info.dtype && gi.bytes == ri_info.bytes &&
                 outputs_match(ri_info.dtype, ref, got, ri_info.bytes, kred, &first, &tol);
        if (!ok && g_reported++ < 20) {
            double rv = first * ev_dtype_size(ri_info.dtype) < ri_info.bytes
                            ? elem(ri_info.dtype, ref, first) : NAN;
            double gv = first * ev_dtype_size(gi.dtype) < gi.bytes ? elem(gi.dtype, got, first)
                                                                    : NAN;
            fprintf(stderr,
                    "  MISMATCH %s %s on %s (threads %d), kernel %s%s, seed=%llx: %s: output %s "
                    "%zu bytes vs ref %zu; first difference at element %zu: ref %.9g, got %.9g"
                    " (tol %.3g)\n",
                    rw->op, rw->label, tg->label, o.threads, kname ? kname : "?",
                    reference ? " (reference)" : "", (unsigned long long)seed, c.desc,
                    ev_dtype_name(gi.dtype), gi.bytes, ri_info.bytes, first, rv, gv, tol);
        }
        CHECK_MSG(ok, "%s %s on %s: output differs from ref", rw->op, rw->label, tg->label);
        if (ok && row_tight(rw) && ri_info.dtype == EV_DTYPE_F32) {
            double rel = rel_diff(ref, got, ri_info.bytes / sizeof(float));
            if (rel > cl->worst_rel) cl->worst_rel = rel;
            CHECK_MSG(rel <= TIGHT_REL, "%s %s on %s, kernel %s, seed=%llx: %s: max |cpu - ref| "
                      "is %.3g of max |ref| (more than %g)", rw->op, rw->label, tg->label,
                      kname ? kname : "?", (unsigned long long)seed, c.desc, rel, TIGHT_REL);
        }
        if (rw->cpu_fast && strcmp(tg->backend, "cpu") == 0)
            CHECK_MSG(!reference, "%s %s on %s: kernel %s is a reference fallback (%s)", rw->op,
                      rw->label, tg->label, kname ? kname : "?", c.desc);
        if (is_first_conv_row(rw->gen) && strcmp(tg->backend, "cpu") == 0) {
            /* the direct first-layer kernel wherever the path has a line (conv_f32_first.c) */
            ev_cpu_config cfg;
            ev_cpu_config_init(ev_cpu_isa(tg->isa), &cfg);
            const char *want = cfg.f32_first ? cfg.f32_first->name : cfg.f32_gemm->name;
            CHECK_MSG(kname && strcmp(kname, want) == 0, "%s %s on %s: kernel %s, expected %s (%s)",
                      rw->op, rw->label, tg->label, kname ? kname : "?", want, c.desc);
        }
        if (rw->gen == gen_conv_f32_ex && rw->variant == 5 && strcmp(tg->backend, "cpu") == 0) {
            /* the split line wherever the path has one (AMX-BF16 machines, amx path) */
            ev_cpu_config cfg;
            ev_cpu_config_init(ev_cpu_isa(tg->isa), &cfg);
            const char *want = cfg.f32_gemm_split ? cfg.f32_gemm_split->name : cfg.f32_gemm->name;
            CHECK_MSG(kname && strcmp(kname, want) == 0, "%s %s on %s: kernel %s, expected %s (%s)",
                      rw->op, rw->label, tg->label, kname ? kname : "?", want, c.desc);
        }
        if (ok) check_rel(ri, c.m, tg, o.threads, kname, ref, got, ri_info.bytes, c.desc);
        if (ok) cl->pass++;
        if (perf_mode) cl->perf_s += median_run(s);
        ev_session_free(s);
    }
    ev_session_free(rs);
    for (int i = 0; i < 4; i++) free(in[i]);
    ev_model_free(c.m);
}

/* ------------------------------------------------------------------------------------------ */
/* Reports                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void kernels_str(const cell *c, char *buf, size_t n) {
    int u = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->n_kernels && (size_t)u < n; i++)
        u += snprintf(buf + u, n - (size_t)u, "%s%s", i ? "," : "", c->kernels[i]);
    if (c->more_kernels && (size_t)u < n) snprintf(buf + u, n - (size_t)u, ",...");
}

static void print_summary(void) {
    fprintf(stderr, "\nop x backend/ISA: cases passed/run (n/a: the backend refused the op), "
                    "kernels used\n");
    fprintf(stderr, "%-18s %-17s", "op", "dtype");
    for (int t = 0; t < g_ntargets; t++)
        fprintf(stderr, " | %-34s", g_targets[t].skipped ? "(skipped)" : g_targets[t].label);
    fprintf(stderr, " | ref\n");
    for (int r = 0; r < N_ROWS; r++) {
        fprintf(stderr, "%-18s %-17s", k_rows[r].op, k_rows[r].label);
        for (int t = 0; t < g_ntargets; t++) {
            const cell *c = &g_cells[r][t];
            char ks[128], cellbuf[192];
            kernels_str(c, ks, sizeof ks);
            if (c->na && !c->total)
                snprintf(cellbuf, sizeof cellbuf, "n/a (%d)", c->na);
            else
                snprintf(cellbuf, sizeof cellbuf, "%d/%d %s%s", c->pass, c->total, ks,
                         c->na ? " +n/a" : "");
            fprintf(stderr, " | %-34s", cellbuf);
        }
        char ks[128];
        kernels_str(&g_cells[r][g_ntargets], ks, sizeof ks);
        fprintf(stderr, " | %s\n", ks);
    }
}

/* The tight rows: the worst max |cpu - ref| / max |ref| per cpu ISA path. */
static void print_tight(void) {
    fprintf(stderr, "\nfloat32 rows held to %g of max |ref| on cpu: worst observed\n", TIGHT_REL);
    for (int r = 0; r < N_ROWS; r++) {
        if (!row_tight(&k_rows[r])) continue;
        fprintf(stderr, "%-18s %-20s", k_rows[r].op, k_rows[r].label);
        for (int t = 0; t < g_ntargets; t++)
            if (strcmp(g_targets[t].backend, "cpu") == 0)
                fprintf(stderr, " %s %.2g", g_targets[t].label, g_cells[r][t].worst_rel);
        fprintf(stderr, "\n");
    }
}

static void print_perf(void) {
    printf("\n--perf: per op, the sum over its cases of each case's median (5 runs) ev_session_run "
           "time, microseconds (not asserted)\n");
    printf("%-18s %-17s %10s", "op", "dtype", "ref");
    for (int t = 0; t < g_ntargets; t++) printf(" %12s", g_targets[t].label);
    printf("\n");
    for (int r = 0; r < N_ROWS; r++) {
        printf("%-18s %-17s %10.1f", k_rows[r].op, k_rows[r].label,
               1e6 * g_cells[r][g_ntargets].perf_s);
        for (int t = 0; t < g_ntargets; t++) {
            const cell *c = &g_cells[r][t];
            if (c->total)
                printf(" %12.1f", 1e6 * c->perf_s);
            else
                printf(" %12s", "-");
        }
        printf("\n");
    }
}

static void test_matrix(void) {
    list_targets();
    fprintf(stderr, "  targets:");
    for (int t = 0; t < g_ntargets; t++) fprintf(stderr, " %s", g_targets[t].label);
    fprintf(stderr, " (against ref)\n");
    int cases = 0;
    double t0 = ev_test_now();
    for (int r = 0; r < N_ROWS; r++)
        for (int k = 0; k < k_rows[r].cases; k++, cases++) run_case(r, k);
    int runs = 0, failed = 0;
    for (int r = 0; r < N_ROWS; r++)
        for (int t = 0; t < g_ntargets; t++) {
            runs += g_cells[r][t].total;
            failed += g_cells[r][t].total - g_cells[r][t].pass;
        }
    print_summary();
    print_tight();
    fprintf(stderr, "\nfloat GEMM ops on cpu, max|y-r|/max|r| against ref (bound %g where the "
                    "activation is none or ReLU):\n", TIGHT_REL);
    for (int r = 0; r < N_ROWS; r++)
        if (g_rel_n[r])
            fprintf(stderr, "  %-18s %-20s worst %.3g over %d runs (%d bounded)\n", k_rows[r].op,
                    k_rows[r].label, g_rel_worst[r], g_rel_n[r], g_rel_checked[r]);
    fprintf(stderr, "  %d cases in %d rows, %d backend runs, %d mismatched or failed (%.2f s)\n",
            cases, N_ROWS, runs, failed, ev_test_now() - t0);
    CHECK_EQ_INT(failed, 0);
    /* every target that is not skipped ran the rows it takes */
    for (int t = 0; t < g_ntargets; t++)
        if (!g_targets[t].skipped) CHECK_MSG(runs > 0, "%s ran nothing", g_targets[t].label);
    if (perf_mode) print_perf();
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--perf") == 0) {
            perf_mode = 1;
        } else {
            fprintf(stderr, "usage: %s [--perf]\n", argv[0]);
            return 2;
        }
    }
    const char *seed = getenv("EV_TEST_SEED");
    if (seed && *seed) base_seed = strtoull(seed, NULL, 0);
    fprintf(stderr, "cpu features: %s; base seed 0x%llx\n", ev_cpu_features(),
            (unsigned long long)base_seed);
    EV_RUN(test_matrix);
    return ev_test_finish();
}
