/*
 * winograd_f32.c - the opt-in Winograd F(4x4, 3x3) float32 convolution of the cpu backend
 * (session option float_modes & EV_FLOAT_WINOGRAD; never the default): 3x3, stride 1,
 * dilation 1 convolutions computed as 36 GEMMs per block of 4x4 output tiles (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016), 2.25x fewer multiplications than
 * the direct GEMM.
 *
 *   Y = A^T [ (G g G^T) (.) (B^T d B) ] A      per channel pair, 6x6 input tile d, 4x4 output
 *
 * Weights: U = G g G^T for every (output, input) channel pair, computed once in double and
 * stored, per point xi of the 6x6 tile, as a packed GEMM operand (gemm_f32.h: the session's
 * float GEMM line, bias zero). Per run and per block of T tiles: the input transform writes
 * V[xi][t][c] = (B^T d B)[xi] (float, zero outside the image: SAME/VALID padding), the GEMM
 * multiplies V[xi] (T x Cin) by U[xi] (Cin x Cout) into M[xi], and the output transform writes
 * A^T M A + bias, clamped, into the NHWC output (partial tiles at the right and bottom edges).
 * Blocks run in parallel; scratch is per thread and allocated at prepare.
 *
 * Accuracy: the transforms' coefficients (up to 8 in A, 5 in B, 1/24 in G) amplify rounding;
 * tests/test_winograd.c states the tolerance it checks against the reference and how it was
 * chosen. That is why this mode is opt-in.
 *
 * Extend: F(6x6, 3x3) would be the same file with 8x8 tiles and its own matrices (more
 * savings, less accuracy); a vectorized transform per ISA would be the next speed step.
 */
#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TILE_IN 6
#define TILE_OUT 4
#define POINTS 36 /* TILE_IN * TILE_IN */

/* G (6x3), B^T (6x6), A^T (4x6) of F(4,3) with interpolation points 0, +-1, +-2. */
static const double k_G[6][3] = {{1.0 / 4, 0, 0},
                                 {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                 {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                 {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                 {0, 0, 1}};

typedef struct cpu_wino {
    ev_conv_desc d;
    const ev_cpu_f32_gemm_entry *k;
    int tiles_h, tiles_w, tiles; /* per image */
    int T;                       /* tiles per task */
    size_t u_stride;             /* floats per point's packed operand */
    float *U;                    /* [POINTS] packed operands */
    float *bias;                 /* [out_c] */
    float *zero;                 /* [in_c] zeros: the padded taps */
    int threads;
    size_t scratch_stride; /* floats per thread */
    float *scratch;        /* [threads][V: POINTS*T*in_c | M: POINTS*T*out_c | tmp] */
    const float *in;
    float *out;
} cpu_wino;

static void release(void *state) {
    cpu_wino *s = state;
    if (!s) return;
    ev_conv_desc_release(&s->d);
    free(s->U);
    free(s->bias);
    free(s->zero);
    free(s->scratch);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    cpu_wino *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_conv_desc_init(ctx, &s->d);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    const ev_conv_desc *d = &s->d;
    if (d->depthwise || d->dtype != EV_DTYPE_F32 || d->k_h != 3 || d->k_w != 3 ||
        d->stride_h != 1 || d->stride_w != 1 || d->dil_h != 1 || d->dil_w != 1) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "Winograd kernel given an op it does not take "
                          "(it takes float 3x3 stride-1 undilated convolutions)");
    }
    s->k = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_gemm;
    if (!s->k) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "no float GEMM in the cpu config");
    }
    const int cin = d->in_c, cout = d->out_c;
    s->tiles_h = (d->out_h + TILE_OUT - 1) / TILE_OUT;
    s->tiles_w = (d->out_w + TILE_OUT - 1) / TILE_OUT;
    s->tiles = s->tiles_h * s->tiles_w;
    s->threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    /* Tiles per task: enough rows for the GEMM, enough tasks for the threads, scratch in L2. */
    int T = 32;
    while (T > 4 && (size_t)POINTS * T * (size_t)(cin + cout) * sizeof(float) > (1u << 20)) T /= 2;
    int total = d->batch * s->tiles;
    while (T > 4 && (total + T - 1) / T < 2 * s->threads) T /= 2;
    s->T = T;
    s->u_stride = ev_cpu_f32_packed_size(s->k, cout, cin) / sizeof(float);
    s->U = malloc((size_t)POINTS * s->u_stride * sizeof(float));
    s->bias = calloc((size_t)cout, sizeof(float));
    float *wxi = malloc((size_t)cout * (size_t)cin * sizeof(float) * POINTS);
    size_t vfl = (size_t)POINTS * T * cin, mfl = (size_t)POINTS * T * cout;
    /* the transforms' temporaries: 6x6 rows of cin in, 6x4 + 4x4 rows of cout out */
    size_t tmp_in = (size_t)POINTS * cin, tmp_out = (size_t)40 * cout;
    size_t tmp = tmp_in > tmp_out ? tmp_in : tmp_out;
    s->zero = calloc((size_t)cin, sizeof(float));
    s->scratch_stride = (vfl + mfl + tmp + 15) & ~(size_t)15;
    s->scratch = aligned_alloc(64, (size_t)s->threads * s->scratch_stride * sizeof(float));
    if (!s->U || !s->bias || !s->zero || !wxi || !s->scratch) {
        free(wxi);
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    /* U[xi][o][i] = (G g G^T)[xi] in double; g is OHWI: w[o][ky][kx][i]. */
    const float *w = ctx->graph->tensors[d->w_t].data;
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++) {
            double g[3][3], t[6][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    g[ky][kx] = w[(((size_t)o * 3 + ky) * 3 + kx) * cin + i];
            for (int a = 0; a < 6; a++)
                for (int kx = 0; kx < 3; kx++)
                    t[a][kx] = k_G[a][0] * g[0][kx] + k_G[a][1] * g[1][kx] + k_G[a][2] * g[2][kx];
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {
                    double u = t[a][0] * k_G[b][0] + t[a][1] * k_G[b][1] + t[a][2] * k_G[b][2];
                    wxi[((size_t)(a * 6 + b) * cout + o) * cin + i] = (float)u;
                }
        }
    for (int xi = 0; xi < POINTS; xi++)
        ev_cpu_f32_pack(s->k, wxi + (size_t)xi * cout * cin, NULL, cout, cin,
                        s->U + (size_t)xi * s->u_stride);
    free(wxi);
    if (d->b_t >= 0) memcpy(s->bias, ctx->graph->tensors[d->b_t].data, sizeof(float) * cout);
    *state = s;
    return EV_OK;
}

/* B^T x for six vectors of n channels: r[a] = sum_b BT[a][b] x[b] (the rows of B^T above). */
static inline void bt6(const float *x0, const float *x1, const float *x2, const float *x3,
                       const float *x4, const float *x5, float *r, size_t rs, int n) {
    for (int c = 0; c < n; c++) {
        float a0 = x0[c], a1 = x1[c], a2 = x2[c], a3 = x3[c], a4 = x4[c], a5 = x5[c];
        r[0 * rs + c] = 4 * a0 - 5 * a2 + a4;
        r[1 * rs + c] = -4 * a1 - 4 * a2 + a3 + a4;
        r[2 * rs + c] = 4 * a1 - 4 * a2 - a3 + a4;
        r[3 * rs + c] = -2 * a1 - a2 + 2 * a3 + a4;
        r[4 * rs + c] = 2 * a1 - a2 - 2 * a3 + a4;
        r[5 * rs + c] = 4 * a1 - 5 * a3 + a5;
    }
}

/* Input transform of tile (ty, tx) of image `img` into V[xi][t][c] (rows of T*cin per xi). */
static void input_tile(const cpu_wino *s, const float *img, int ty, int tx, float *V, int t,
                       float *tmp, const float *zero) {
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c;
    const size_t vs = (size_t)s->T * C; /* V stride between points */
    const float *rows[6][6];
    int y0 = ty * TILE_OUT - d->pad_top, x0 = tx * TILE_OUT - d->pad_left;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            int y = y0 + a, x = x0 + b;
            rows[a][b] = (y < 0 || y >= d->in_h || x < 0 || x >= d->in_w)
                             ? zero
                             : img + ((size_t)y * d->in_w + x) * C;
        }
    /* tmp[a][p][c] = (B^T d)[p] along the rows of column b... done as: first along x for each
     * input row a (tmp[a][b']), then along y for each b' into V. */
    for (int a = 0; a < 6; a++)
        bt6(rows[a][0], rows[a][1], rows[a][2], rows[a][3], rows[a][4], rows[a][5],
            tmp + (size_t)a * 6 * C, (size_t)C, C);
    for (int b = 0; b < 6; b++) {
        const float *c0 = tmp + (size_t)(0 * 6 + b) * C;
        bt6(c0, c0 + 6 * (size_t)C, c0 + 12 * (size_t)C, c0 + 18 * (size_t)C,
            c0 + 24 * (size_t)C, c0 + 30 * (size_t)C, V + (size_t)b * vs + (size_t)t * C,
            6 * vs, C);
    }
}

/* A^T x for six vectors: r[a] = sum_b AT[a][b] x[b], four outputs. */
static inline void at6(const float *x0, const float *x1, const float *x2, const float *x3,
                       const float *x4, const float *x5, float *r, size_t rs, int n) {
    for (int c = 0; c < n; c++) {
        float a0 = x0[c], a1 = x1[c], a2 = x2[c], a3 = x3[c], a4 = x4[c], a5 = x5[c];
        float p12 = a1 + a2, m12 = a1 - a2, p34 = a3 + a4, m34 = a3 - a4;
        r[0 * rs + c] = a0 + p12 + p34;
        r[1 * rs + c] = m12 + 2 * m34;
        r[2 * rs + c] = p12 + 4 * p34;
        r[3 * rs + c] = m12 + 8 * m34 + a5;
    }
}

/* Output transform of tile t of the block from M[xi][t][o] into the image's output. */
static void output_tile(const cpu_wino *s, const float *M, int t, int ty, int tx, float *out,
                        float *tmp) {
    const ev_conv_desc *d = &s->d;
    const int C = d->out_c;
    const size_t ms = (size_t)s->T * C;
    /* tmp[a][q] (6 x 4 x C): A^T along x for each point row a; then along y. */
    for (int a = 0; a < 6; a++) {
        const float *m0 = M + (size_t)(a * 6) * ms + (size_t)t * C;
        at6(m0, m0 + ms, m0 + 2 * ms, m0 + 3 * ms, m0 + 4 * ms, m0 + 5 * ms,
            tmp + (size_t)a * 4 * C, (size_t)C, C);
    }
    float *res = tmp + (size_t)24 * C; /* 4 x 4 x C */
    for (int q = 0; q < 4; q++) {
        const float *c0 = tmp + (size_t)q * C;
        at6(c0, c0 + 4 * (size_t)C, c0 + 8 * (size_t)C, c0 + 12 * (size_t)C,
            c0 + 16 * (size_t)C, c0 + 20 * (size_t)C, res + (size_t)q * C, 4 * (size_t)C, C);
    }
    const float lo = d->f_min, hi = d->f_max;
    for (int p = 0; p < 4; p++) {
        int y = ty * TILE_OUT + p;
        if (y >= d->out_h) break;
        for (int q = 0; q < 4; q++) {
            int x = tx * TILE_OUT + q;
            if (x >= d->out_w) break;
            const float *r = res + (size_t)(p * 4 + q) * C;
            float *o = out + ((size_t)y * d->out_w + x) * C;
            for (int c = 0; c < C; c++) {
                float v = r[c] + s->bias[c];
                v = v < lo ? lo : v;
                o[c] = v > hi ? hi : v;
            }
        }
    }
}

static void task(void *arg, int task_i, int thread) {
    cpu_wino *s = arg;
    const ev_conv_desc *d = &s->d;
    const int blocks_per_image = (s->tiles + s->T - 1) / s->T;
    const int b = task_i / blocks_per_image, t0 = (task_i % blocks_per_image) * s->T;
    const int n = s->tiles - t0 < s->T ? s->tiles - t0 : s->T;
    float *V = s->scratch + (size_t)thread * s->scratch_stride;
    float *M = V + (size_t)POINTS * s->T * d->in_c;
    float *tmp = M + (size_t)POINTS * s->T * d->out_c;
    const float *img = s->in + (size_t)b * d->in_h * d->in_w * d->in_c;
    for (int i = 0; i < n; i++) {
        int tile = t0 + i;
        input_tile(s, img, tile / s->tiles_w, tile % s->tiles_w, V, i, tmp, s->zero);
    }
    const ev_f32_epi epi = {.min = -INFINITY, .max = INFINITY};
    for (int xi = 0; xi < POINTS; xi++)
        s->k->gemm(n, d->out_c, d->in_c, V + (size_t)xi * s->T * d->in_c, (size_t)d->in_c,
                   s->U + (size_t)xi * s->u_stride, &epi, M + (size_t)xi * s->T * d->out_c,
                   (size_t)d->out_c);
    float *out = s->out + (size_t)b * d->out_h * d->out_w * d->out_c;
    for (int i = 0; i < n; i++) {
        int tile = t0 + i;
        output_tile(s, M, i, tile / s->tiles_w, tile % s->tiles_w, out, tmp);
    }
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_wino *s = state;
    s->in = data[s->d.in_t];
    s->out = data[s->d.out_t];
    int tasks = s->d.batch * ((s->tiles + s->T - 1) / s->T);
    ev_threadpool_run(ctx->pool, task, s, tasks);
    return EV_OK;
}

const ev_kernel ev_cpu_conv_f32_winograd_kernel = {"cpu_conv_f32_winograd", prepare, run,
                                                   release};
