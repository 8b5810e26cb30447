/*
 * dwconv.c - the cpu backend's DEPTHWISE_CONV_2D (uint8 and int8, depth multiplier 1): weights
 * widened to int32 (w - w_zp) once, then rows of output in parallel; each ISA variant computes a
 * row (dwconv_avx512.c, dwconv_vnni.c on x86; dwconv_neon.c on ARM, which reads the weights as
 * int16; the portable one is here). Padded taps are skipped, as in the reference.
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
    free(s->w16);
    free(s->wi16);
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
    s->in_i8 = d->dtype == EV_DTYPE_I8;
    s->Cp = (d->out_c + 15) & ~15;
    int taps = d->k_h * d->k_w;
    s->w = calloc((size_t)taps * s->Cp, sizeof(int32_t));
    s->w16 = calloc((size_t)taps * s->Cp, sizeof(int32_t));
    s->bias = calloc((size_t)s->Cp, sizeof(int32_t));
#ifdef EV_CPU_ARM
    s->wi16 = calloc((size_t)taps * s->Cp, sizeof(int16_t));
    if (!s->wi16) {
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
#endif
    if (!s->w || !s->w16 || !s->bias ||
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
            s->w16[(size_t)t * s->Cp + c] = (int32_t)(uint16_t)(int16_t)(wv - d->w_zp[c]);
            if (s->wi16) s->wi16[(size_t)t * s->Cp + c] = (int16_t)(wv - d->w_zp[c]);
        }
    for (int c = 0; c < d->out_c; c++) s->bias[c] = bias ? bias[c] : 0;
    s->epi.bias = s->bias;
    s->epi.delta = NULL;
    s->epi.out_zp = d->out_zp;
    s->epi.act_min = d->act_min;
    s->epi.act_max = d->act_max;
    s->epi.out_i8 = s->in_i8;
    ev_isa isa = ((const ev_cpu_ctx *)ctx->backend)->isa;
    s->row = ev_dw_row_scalar;
#ifdef EV_CPU_X86
    s->row = isa >= EV_ISA_VNNI     ? ev_dw_row_vnni
             : isa >= EV_ISA_AVX512 ? ev_dw_row_avx512
             : isa == EV_ISA_AVX2   ? ev_dw_row_avx2
                                    : ev_dw_row_scalar;
#endif
#ifdef EV_CPU_ARM
    if (isa == EV_ISA_NEON || isa == EV_ISA_NEON_DOT) s->row = ev_dw_row_neon;
#endif
    *state = s;
    return EV_OK;
}

void ev_dw_row_scalar(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row) {
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

static void task(void *arg, int t, int thread) {
    (void)thread;
    cpu_dw *s = arg;
    const ev_conv_desc *d = &s->d;
    int b = t / d->out_h, oy = t % d->out_h;
    const uint8_t *img = s->in + (size_t)b * d->in_h * d->in_w * d->in_c;
    uint8_t *row = s->out + ((size_t)b * d->out_h + oy) * d->out_w * d->out_c;
    s->row(s, img, oy, row);
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_dw *s = state;
    s->in = data[s->d.in_t];
    s->out = data[s->d.out_t];
    ev_threadpool_run(ctx->pool, task, s, s->d.batch * s->d.out_h);
    return EV_OK;
}

const ev_kernel ev_cpu_dwconv_kernel = {"cpu_dwconv", prepare, run, release};
