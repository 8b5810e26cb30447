/*
 * conv.c - the cpu backend's CONV_2D for uint8 and int8: weights packed once at prepare time,
 * im2col per tile of output pixels (skipped for 1x1 stride-1 convolutions, which read the input
 * in place), then the quantized GEMM of gemm.h, in parallel over pixel tiles. Nothing is
 * allocated per run.
 *
 * Which GEMM runs is the session's config line for the op's data type (config.c): its function,
 * its weight packing, its per-thread scratch and its flags. This file names no ISA and no
 * variant; a new GEMM (another ISA, another tile) is one file and one line in config.c.
 *
 * Zero-point algebra (exact in int32). The reference accumulates
 *     acc = sum_k (x_k - xz)(w_k - wz) + bias
 * The GEMM multiplies unsigned bytes by signed bytes, so weights are stored as s_k = w_k - c
 * with c chosen per layer so every s_k fits in int8 (c = wz when it can, else 128 for uint8
 * weights, 0 for int8 weights), and d = c - wz:
 *     acc = sum_k x_k s_k  +  d * sum_k x_k  +  (bias - xz * sum_k s_k - xz * d * K)
 * The first term is the GEMM, the second uses per-pixel row sums (only when some d != 0: on the
 * Coral PoseNet models, the four layers whose w_zp is 127 with a weight of 255), the third is a
 * per-channel constant. Padded taps hold xz, for which every term cancels, matching the
 * reference's skipped taps. int8 activations are shifted to uint8 (x + 128) with xz + 128.
 *
 * GEMMs flagged EV_GEMM_A_MINUS_128 (ARM: NEON has no u8 x s8 product) read x - 128 as int8 and
 * compute sum_k (x_k - 128) s_k = sum_k x_k s_k - 128 * sum_k s_k; the per-channel constant
 * above then gains + 128 * sum_k s_k (exact in int32), and nothing else changes.
 */
#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "backends/cpu/gemm.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <stdlib.h>
#include <string.h>

#define TILE_M 48 /* output pixels per task */
/* Per-thread im2col slice: TILE_M rows plus 64 bytes of slack for over-long moves. */
#define SCRATCH_STRIDE(s) ((size_t)TILE_M * (size_t)(s)->Kp + 64)
#define ALIGN64(n) (((n) + 63) & ~(size_t)63)

typedef struct cpu_conv {
    ev_conv_desc d;
    int K, Kp, Np;
    int direct;       /* 1x1, stride 1, no padding, uint8: A is the input itself */
    int in_i8;        /* activations are int8: shift to uint8 */
    uint8_t pad_byte; /* xz in the uint8 domain */
    const ev_cpu_gemm_entry *k; /* the session's GEMM for this op (config.c) */
    void *packed;     /* weights as k->pack wrote them */
    int32_t *bias, *delta;
    int32_t *requant; /* epi's mult/lshift/rshift/rmask (ev_gemm_epi_requant) */
    ev_gemm_epi epi;
    int threads;
    int tile_m;        /* output pixels per task: TILE_M or fewer (pick_tile_m) */
    uint8_t *scratch;  /* [threads][TILE_M][Kp] im2col rows */
    int32_t *rowsums;  /* [threads][TILE_M] */
    void *kscratch;    /* [threads][kscratch_stride]: the GEMM's own scratch (k->scratch) */
    size_t kscratch_stride;
    /* per run */
    const uint8_t *in, *in_end; /* input tensor and its end (for over-reading moves) */
    uint8_t *out;
} cpu_conv;

static void release(void *state) {
    cpu_conv *s = state;
    if (!s) return;
    ev_conv_desc_release(&s->d);
    free(s->packed);
    free(s->kscratch);
    free(s->bias);
    free(s->delta);
    free(s->requant);
    free(s->scratch);
    free(s->rowsums);
    free(s);
}

/* Pixels per task: among multiples of the GEMM's mr from TILE_M down to TILE_M / 2, the one whose
 * busiest thread gets the fewest pixels (tasks go to threads in turn, so that thread runs
 * ceil(tasks / threads) of them), the largest on ties. On one thread, TILE_M. At 2 threads the
 * 23x31 layers of PoseNet 353x481 (713 pixels) get 36 (20 tasks, 10 each) instead of 48 (15: 8
 * and 7). */
static int pick_tile_m(int pixels, int batch, int threads, int mr) {
    if (threads <= 1 || mr < 1 || mr > TILE_M) return TILE_M;
    int best = TILE_M;
    long best_load = -1;
    for (int m = TILE_M - TILE_M % mr; m >= TILE_M / 2; m -= mr) {
        long tasks = (long)batch * ((pixels + m - 1) / m);
        long load = (tasks + threads - 1) / threads * m;
        if (best_load < 0 || load < best_load) best = m, best_load = load;
    }
    return best;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    cpu_conv *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_conv_desc_init(ctx, &s->d);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    const ev_conv_desc *d = &s->d;
    const ev_graph *g = ctx->graph;
    if (d->depthwise || (d->dtype != EV_DTYPE_U8 && d->dtype != EV_DTYPE_I8)) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "conv kernel given an op it does not take");
    }
    s->in_i8 = d->dtype == EV_DTYPE_I8;
    s->K = d->k_h * d->k_w * d->in_c;
    s->Kp = (s->K + 3) & ~3;
    s->k = ev_cpu_config_gemm(&((const ev_cpu_ctx *)ctx->backend)->cfg, d->dtype, s->Kp);
    if (!s->k) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "no GEMM in the cpu config for this data type");
    }
    s->Np = (d->out_c + 15) & ~15;
    s->direct = !s->in_i8 && d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                d->pad_top == 0 && d->pad_left == 0;
    int32_t xz = d->in_zp + (s->in_i8 ? 128 : 0);
    s->pad_byte = (uint8_t)xz;
    size_t np = (size_t)s->Np;
    int8_t *w8 = malloc((size_t)d->out_c * (size_t)s->K);
    s->packed = malloc(s->k->packed_size(d->out_c, s->Kp));
    s->bias = calloc(np, sizeof(int32_t));
    s->delta = calloc(np, sizeof(int32_t));
    if (!w8 || !s->packed || !s->bias || !s->delta ||
        ev_gemm_epi_requant(&s->epi, &s->requant, d->mult, d->shift, d->out_c, s->Np) != 0) {
        free(w8);
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    /* GEMMs reading x - 128: + 128 * sum_k s_k in the bias (see the opening comment) */
    const int32_t s8_bias = s->k->flags & EV_GEMM_A_MINUS_128 ? 128 : 0;
    const void *wdata = g->tensors[d->w_t].data;
    const int32_t *bias = d->b_t >= 0 ? g->tensors[d->b_t].data : NULL;
    int any_delta = 0;
    for (int n = 0; n < d->out_c; n++) {
        int32_t wz = d->w_zp[n], c;
        if (s->in_i8) {
            c = 0;
        } else {
            const uint8_t *w = (const uint8_t *)wdata + (size_t)n * s->K;
            int lo = 255, hi = 0;
            for (int k = 0; k < s->K; k++) {
                if (w[k] < lo) lo = w[k];
                if (w[k] > hi) hi = w[k];
            }
            c = (lo - wz >= -128 && hi - wz <= 127) ? wz : 128;
        }
        int32_t sum_s = 0;
        for (int k = 0; k < s->K; k++) {
            int32_t wv = s->in_i8 ? ((const int8_t *)wdata)[(size_t)n * s->K + k]
                                  : ((const uint8_t *)wdata)[(size_t)n * s->K + k];
            int32_t sv = wv - c;
            w8[(size_t)n * s->K + k] = (int8_t)sv;
            sum_s += sv;
        }
        int32_t dd = c - wz;
        if (dd) any_delta = 1;
        s->delta[n] = dd;
        s->bias[n] = (bias ? bias[n] : 0) - xz * sum_s - xz * dd * s->K + s8_bias * sum_s;
    }
    s->k->pack(w8, d->out_c, s->K, s->Kp, s->packed);
    free(w8);
    s->epi.bias = s->bias;
    s->epi.delta = any_delta ? s->delta : NULL;
    s->epi.out_zp = d->out_zp;
    s->epi.act_min = d->act_min;
    s->epi.act_max = d->act_max;
    s->epi.out_i8 = s->in_i8;
    /* int8 CONV_2D rounds as TensorFlow Lite's runtime does (ruy: ties toward +infinity, as
     * ref_conv.c); uint8 keeps the reference rule (TFLite's runtime: gemmlowp) */
    s->epi.round_half_up = s->in_i8;
    s->threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    s->tile_m = pick_tile_m(d->out_h * d->out_w, d->batch, s->threads, s->k->mr);
    s->scratch = malloc((size_t)s->threads * SCRATCH_STRIDE(s));
    s->rowsums = calloc((size_t)s->threads * TILE_M, sizeof(int32_t));
    size_t ks = s->k->scratch ? s->k->scratch(TILE_M, s->Kp) : 0;
    if (ks) {
        s->kscratch_stride = ALIGN64(ks);
        s->kscratch = aligned_alloc(64, (size_t)s->threads * s->kscratch_stride);
    }
    if (!s->scratch || !s->rowsums || (ks && !s->kscratch)) {
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    *state = s;
    return EV_OK;
}

/* Builds im2col rows for output pixels [p0, p0 + n) of image `b` into `dst` (n x Kp). The shape
 * is read into locals once (the byte stores below may alias anything, so fields of s would be
 * reloaded after each); the pixel's position advances without a division. */
static void im2col(const cpu_conv *s, int b, int p0, int n, uint8_t *dst) {
    const ev_conv_desc *d = &s->d;
    const uint8_t flip = s->in_i8 ? 0x80 : 0;
    const int in_h = d->in_h, in_w = d->in_w, in_c = d->in_c, k_h = d->k_h, k_w = d->k_w;
    const int out_w = d->out_w, st_w = d->stride_w, st_h = d->stride_h;
    const int pad_l = d->pad_left, pad_t = d->pad_top, dil_w = d->dil_w, dil_h = d->dil_h;
    const int K = s->K, Kp = s->Kp;
    const uint8_t pad_byte = s->pad_byte;
    const size_t row = (size_t)in_w * in_c, len = (size_t)k_w * in_c;
    const uint8_t *img = s->in + (size_t)b * in_h * row, *in_end = s->in_end;
    int oy = p0 / out_w, ox = p0 % out_w;
    /* the last ox whose kernel columns all lie inside the image (dil_w 1) */
    const int ox_in = in_w >= k_w ? (in_w - k_w + pad_l) / st_w : -1;
    for (int i = 0; i < n; i++) {
        uint8_t *o = dst + (size_t)i * Kp;
        const int ix0 = ox * st_w - pad_l, iy0 = oy * st_h - pad_t;
        const int run = dil_w == 1 && ix0 >= 0 && ix0 + k_w <= in_w && !flip;
        if (run && len <= 16 && k_h == 3 && iy0 >= 0 && iy0 + 2 * dil_h < in_h) {
            /* a 3-row kernel inside the image: every pixel up to ox_in in this output row (and
             * among the n) in one tight loop, three 16-byte moves each (3x3 convolutions on
             * few channels: PoseNet's first layer); the last pixel's moves stay inside the
             * input or fall back below */
            int cnt = (ox_in < out_w ? ox_in + 1 : out_w) - ox;
            if (cnt > n - i) cnt = n - i;
            const uint8_t *src = img + (size_t)iy0 * row + (size_t)ix0 * in_c;
            const size_t r1 = (size_t)dil_h * row, r2 = 2 * r1, step = (size_t)st_w * in_c;
            while (cnt > 0 && src + (size_t)(cnt - 1) * step + r2 + 16 > in_end) cnt--;
            if (cnt > 0) {
                for (int j = 0; j < cnt; j++, src += step, o += Kp) {
                    memcpy(o, src, 16);
                    memcpy(o + len, src + r1, 16);
                    memcpy(o + 2 * len, src + r2, 16);
                    for (int k = K; k < Kp; k++) o[k] = 0; /* at most 3 */
                }
                i += cnt - 1;
                ox += cnt;
                if (ox == out_w) ox = 0, oy++;
                continue;
            }
        }
        if (run && len <= 16 && iy0 >= 0 && iy0 + (k_h - 1) * dil_h < in_h &&
            img + (size_t)(iy0 + (k_h - 1) * dil_h) * row + (size_t)ix0 * in_c + 16 <= in_end) {
            /* every kernel row inside the image: one 16-byte move each (the excess is
             * overwritten next or lands in the scratch slack) */
            const uint8_t *src = img + (size_t)iy0 * row + (size_t)ix0 * in_c;
            for (int ky = 0; ky < k_h; ky++, src += (size_t)dil_h * row, o += len)
                memcpy(o, src, 16);
        } else {
            for (int ky = 0; ky < k_h; ky++) {
                const int iy = iy0 + ky * dil_h;
                if (run && iy >= 0 && iy < in_h) { /* the whole kx range is one contiguous run */
                    const uint8_t *src = img + (size_t)iy * row + (size_t)ix0 * in_c;
                    if (len <= 16 && src + 16 <= in_end)
                        memcpy(o, src, 16);
                    else if (len < 32)
                        for (size_t j = 0; j < len; j++) o[j] = src[j];
                    else
                        memcpy(o, src, len);
                    o += len;
                    continue;
                }
                for (int kx = 0; kx < k_w; kx++) {
                    const int ix = ix0 + kx * dil_w;
                    if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                        memset(o, pad_byte, (size_t)in_c);
                    } else {
                        const uint8_t *src = img + (size_t)iy * row + (size_t)ix * in_c;
                        if (flip || in_c < 16) /* short copies: a loop beats a memcpy call */
                            for (int c = 0; c < in_c; c++) o[c] = src[c] ^ flip;
                        else
                            memcpy(o, src, (size_t)in_c);
                    }
                    o += in_c;
                }
            }
        }
        for (int k = K; k < Kp; k++) *o++ = 0; /* at most 3 */
        if (++ox == out_w) ox = 0, oy++;
    }
}

static void row_sums(const uint8_t *A, size_t lda, int K, int n, int32_t *out) {
    for (int i = 0; i < n; i++) {
        int32_t sum = 0;
        const uint8_t *a = A + (size_t)i * lda;
        for (int k = 0; k < K; k++) sum += a[k];
        out[i] = sum;
    }
}

static void task(void *arg, int t, int thread) {
    cpu_conv *s = arg;
    const ev_conv_desc *d = &s->d;
    int pixels = d->out_h * d->out_w;
    int tiles_per_image = (pixels + s->tile_m - 1) / s->tile_m;
    int b = t / tiles_per_image, p0 = (t % tiles_per_image) * s->tile_m;
    int n = pixels - p0 < s->tile_m ? pixels - p0 : s->tile_m;
    const uint8_t *A;
    size_t lda;
    if (s->direct) {
        A = s->in + ((size_t)b * pixels + (size_t)p0) * d->in_c;
        lda = (size_t)d->in_c;
    } else {
        uint8_t *buf = s->scratch + (size_t)thread * SCRATCH_STRIDE(s);
        im2col(s, b, p0, n, buf);
        A = buf;
        lda = (size_t)s->Kp;
    }
    int32_t *rs = NULL;
    /* Some GEMMs sum rows themselves, except when a direct row's last 4-byte group runs into
     * the next pixel (K not a multiple of 4). */
    if (s->epi.delta &&
        (!(s->k->flags & EV_GEMM_OWN_ROWSUMS) || (s->direct && s->K % 4))) {
        rs = s->rowsums + (size_t)thread * TILE_M;
        row_sums(A, lda, s->K, n, rs);
    }
    uint8_t *C = s->out + ((size_t)b * pixels + (size_t)p0) * d->out_c;
    void *ks = s->kscratch ? (char *)s->kscratch + (size_t)thread * s->kscratch_stride : NULL;
    s->k->gemm(n, d->out_c, s->Kp, A, lda, s->packed, rs, &s->epi, C, (size_t)d->out_c, ks);
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_conv *s = state;
    const ev_conv_desc *d = &s->d;
    s->in = data[d->in_t];
    s->in_end = s->in + (size_t)d->batch * d->in_h * d->in_w * d->in_c;
    s->out = data[d->out_t];
    int pixels = d->out_h * d->out_w;
    int tasks = d->batch * ((pixels + s->tile_m - 1) / s->tile_m);
    ev_threadpool_run(ctx->pool, task, s, tasks);
    return EV_OK;
}

const ev_kernel ev_cpu_conv_kernel = {"cpu_conv", prepare, run, release};
