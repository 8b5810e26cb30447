/*
 * dwconv.c - the cpu backend's DEPTHWISE_CONV_2D (uint8 and int8, depth multiplier 1): weights
 * widened to int32 (w - w_zp) once, then rows of output in parallel, in bands of consecutive rows
 * (band_rows). Padded taps are skipped, as in the reference.
 *
 * The row kernel is the session's config line for the op's data type and kernel height
 * (config.c), with the weight layout that line names (its pack function, or the int32 table).
 * This file names no ISA: a row kernel for another ISA is one file (dwconv_<isa>.c with an
 * ev_dw_row_fn) and one line in config.c. Here are the portable row kernel and the weight
 * layouts any row kernel may name (ev_dw_pack_lo16, ev_dw_pack_i16).
 */
#include "backends/cpu/cpu.h"
#include "backends/cpu/dwconv.h"
#include "core/quant.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <stdlib.h>
#include <string.h>

static void release(void *state) {
    cpu_dw *s = state;
    if (!s) return;
    ev_conv_desc_release(&s->d);
    free(s->w);
    free(s->wp_own);
    free(s->bias);
    free(s->requant);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    cpu_dw *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_conv_desc_init(ctx, &s->d);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    const ev_conv_desc *d = &s->d;
    if (!d->depthwise || d->depth_multiplier != 1 ||
        (d->dtype != EV_DTYPE_U8 && d->dtype != EV_DTYPE_I8)) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "depthwise kernel given an op it does not "
                          "take");
    }
    const ev_cpu_dw_entry *k =
        ev_cpu_config_dw(&((const ev_cpu_ctx *)ctx->backend)->cfg, d->dtype, d->k_h);
    if (!k) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "no depthwise row in the cpu config for this "
                          "data type");
    }
    s->in_i8 = d->dtype == EV_DTYPE_I8;
    s->Cp = (d->out_c + 15) & ~15;
    int taps = d->k_h * d->k_w;
    s->w = calloc((size_t)taps * s->Cp, sizeof(int32_t));
    s->bias = calloc((size_t)s->Cp, sizeof(int32_t));
    if (!s->w || !s->bias ||
        ev_gemm_epi_requant(&s->epi, &s->requant, d->mult, d->shift, d->out_c, s->Cp) != 0) {
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    const ev_graph *g = ctx->graph;
    const void *w = g->tensors[d->w_t].data;
    const int32_t *bias = d->b_t >= 0 ? g->tensors[d->b_t].data : NULL;
    for (int t = 0; t < taps; t++)
        for (int c = 0; c < d->out_c; c++) {
            size_t i = (size_t)t * d->out_c + c;
            int32_t wv = s->in_i8 ? ((const int8_t *)w)[i] : ((const uint8_t *)w)[i];
            s->w[(size_t)t * s->Cp + c] = wv - d->w_zp[c];
        }
    s->wp = s->w;
    if (k->pack) {
        s->wp_own = malloc(k->packed_size(taps, s->Cp));
        if (!s->wp_own) {
            release(s);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        k->pack(s->w, taps, s->Cp, s->wp_own);
        s->wp = s->wp_own;
    }
    for (int c = 0; c < d->out_c; c++) s->bias[c] = bias ? bias[c] : 0;
    s->epi.bias = s->bias;
    s->epi.delta = NULL;
    s->epi.out_zp = d->out_zp;
    s->epi.act_min = d->act_min;
    s->epi.act_max = d->act_max;
    s->epi.out_i8 = s->in_i8;
    s->row = k->row;
    *state = s;
    return EV_OK;
}

size_t ev_dw_pack_lo16_size(int taps, int Cp) { return (size_t)taps * Cp * sizeof(int32_t); }

void ev_dw_pack_lo16(const int32_t *w, int taps, int Cp, void *out) {
    int32_t *o = out;
    for (size_t i = 0; i < (size_t)taps * Cp; i++) o[i] = (int32_t)(uint16_t)(int16_t)w[i];
}

size_t ev_dw_pack_i16_size(int taps, int Cp) { return (size_t)taps * Cp * sizeof(int16_t); }

void ev_dw_pack_i16(const int32_t *w, int taps, int Cp, void *out) {
    int16_t *o = out;
    for (size_t i = 0; i < (size_t)taps * Cp; i++) o[i] = (int16_t)w[i];
}

void ev_dw_row_scalar(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
    EV_DW_ASSERT_ARGS(s, img, oy, out_row, 0);
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c;
    for (int ox = 0; ox < d->out_w; ox++) {
        uint8_t *o = out_row + (size_t)ox * C;
        for (int c = 0; c < C; c++) {
            int32_t acc = 0;
            for (int ky = 0; ky < d->k_h; ky++) {
                int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
                if (iy < 0 || iy >= d->in_h) continue;
                for (int kx = 0; kx < d->k_w; kx++) {
                    int ix = ox * d->stride_w - d->pad_left + kx * d->dil_w;
                    if (ix < 0 || ix >= d->in_w) continue;
                    const uint8_t *x = img + ((size_t)iy * d->in_w + ix) * C + c;
                    int32_t xv = s->in_i8 ? (int32_t)(int8_t)*x : (int32_t)*x;
                    acc += (xv - d->in_zp) * s->w[(size_t)(ky * d->k_w + kx) * s->Cp + c];
                }
            }
            acc += s->bias[c];
            int shift = s->epi.lshift[c] - s->epi.rshift[c];
            int32_t v = ev_mul_by_quantized_multiplier(acc, s->epi.mult[c], shift) + d->out_zp;
            v = v < d->act_min ? d->act_min : v > d->act_max ? d->act_max : v;
            o[c] = (uint8_t)v;
        }
    }
}

/* One task: a band of s->band consecutive output rows of one image. */
static void task(void *arg, int t, int thread) {
    (void)thread;
    cpu_dw *s = arg;
    const ev_conv_desc *d = &s->d;
    int bands = (d->out_h + s->band - 1) / s->band;
    int b = t / bands, oy0 = (t % bands) * s->band;
    int oy1 = oy0 + s->band < d->out_h ? oy0 + s->band : d->out_h;
    const uint8_t *img = s->in + (size_t)b * d->in_h * d->in_w * d->in_c;
    for (int oy = oy0; oy < oy1; oy++)
        s->row(s, img, oy, s->out + ((size_t)b * d->out_h + oy) * d->out_w * d->out_c);
}

/* Rows per task: one at a time on one thread; with more, two bands of consecutive rows per
 * thread (claimed dynamically), so a thread's rows share their input rows in its own cache
 * instead of alternating rows with the other threads (PoseNet 353x481, AVX2, 2 threads: the
 * depthwise layers 2.4 -> 2.0 ms in all, the whole network 12.3 -> 12.0 ms). */
static int band_rows(int out_h, int threads) {
    if (threads <= 1) return 1;
    int band = (out_h + 2 * threads - 1) / (2 * threads);
    return band < 1 ? 1 : band;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_dw *s = state;
    s->in = data[s->d.in_t];
    s->out = data[s->d.out_t];
    s->band = band_rows(s->d.out_h, ctx->pool ? ev_threadpool_threads(ctx->pool) : 1);
    ev_threadpool_run(ctx->pool, task, s, s->d.batch * ((s->d.out_h + s->band - 1) / s->band));
    return EV_OK;
}

const ev_kernel ev_cpu_dwconv_kernel = {"cpu_dwconv", prepare, run, release};
