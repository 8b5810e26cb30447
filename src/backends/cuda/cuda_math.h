/*
 * cuda_math.h - the cuda backend's per-thread arithmetic, shared by the device kernels
 * (cuda_kernels.cu, compiled by nvcc) and the host emulation (cuda_emu.c, compiled as C), so
 * the code the tests run without a GPU is the code the GPU runs.
 *
 * Everything here is integer arithmetic, or float arithmetic in the reference's exact order with
 * every multiply and add rounded separately (no FMA contraction: nvcc builds with --fmad=false
 * and the float helpers below use __fmul_rn / __fadd_rn on the device).
 *
 * Quantized CONV_2D (ev_cu_conv_tile): implicit im2col with __dp4a on signed bytes. With
 * x' = x - sx (sx = 128 for uint8 activations, 0 for int8), xz' = xz - sx, and weights stored
 * as s = w - c (c = wz when every w - wz fits int8, else 128 for uint8 / 0 for int8; d = c - wz):
 *     acc = sum_k (x - xz)(w - wz) = sum_k x' s + d sum_k x' - xz' sum_k s - xz' d K
 * (the algebra of cpu/conv.c). The last two terms are a per-channel constant folded at prepare
 * with the bias; the second (row sums) is only computed when some d != 0. Padded taps hold
 * x' = xz', for which every term cancels, exactly as the reference skips them. Input channels
 * are grouped by 4 per word; the bytes of the last group beyond in_c are 0 in x and in s, so they
 * add nothing to either sum.
 * Requantization (ev_cu_requant): TFLite's MultiplyByQuantizedMultiplier, with
 * SaturatingRoundingDoublingHighMul as (p + 2^30) >> 31 on the 64-bit product (equal to TFLite's
 * nudge-and-truncate form for every input) and then RoundingDivideByPOT, whose ties go away from
 * zero (TFLite's reference rule: uint8 CONV_2D, DEPTHWISE_CONV_2D) or, for int8 CONV_2D
 * (ev_cu_conv.half_up), toward +infinity as TensorFlow Lite's runtime (ruy) rounds them
 * (ev_cu_requant_rule; core/quant.h ev_mul_by_quantized_multiplier_up, docs/tflite-runtime.md).
 */
#ifndef EV_BACKENDS_CUDA_MATH_H
#define EV_BACKENDS_CUDA_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define EV_CU_FN static __host__ __device__ __forceinline__
#else
#define EV_CU_FN static inline
#endif

#define EV_CU_TP 4 /* output pixels per conv thread  */
#define EV_CU_TC 4 /* output channels per conv thread */

/* A prepared quantized CONV_2D (pointers: device memory, or host memory when emulated). */
typedef struct ev_cu_conv {
    int batch, in_h, in_w, in_c, out_h, out_w, out_c;
    int k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int icg;       /* words (groups of 4 input channels) per tap: (in_c + 3) / 4              */
    int ocp;       /* out_c rounded up to a multiple of 4                                       */
    int in_i8;     /* int8 activations (uint8 otherwise: x' = x ^ 0x80)                         */
    int xzs;       /* xz' = in_zp - sx, the padded taps' value                                  */
    int has_delta; /* some channel has d != 0: row sums needed                                  */
    int aligned;   /* in_c % 4 == 0: whole-word loads                                           */
    int pointwise; /* 1x1, stride 1, no padding: a plain GEMM over pixels                       */
    int half_up;   /* requantization ties toward +infinity (int8: ruy's rule), else away from 0 */
    int32_t out_zp, act_min, act_max;
    long long npix; /* batch * out_h * out_w                                                   */
    const int32_t *w;     /* [k_h * k_w * icg][ocp] words of 4 int8 s values along k           */
    const int32_t *cst;   /* [ocp] bias - xz' sum s - xz' d K                                 */
    const int32_t *delta; /* [ocp] d                                                           */
    const int32_t *mult;  /* [ocp] M0                                                          */
    const int32_t *shift; /* [ocp] exponent (negative: right shift)                            */
} ev_cu_conv;

/* A prepared quantized DEPTHWISE_CONV_2D: one output element per thread, plain int32 MACs. */
typedef struct ev_cu_dw {
    int batch, in_h, in_w, in_c, out_h, out_w, out_c, dm;
    int k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int in_i8;
    int32_t in_zp, out_zp, act_min, act_max;
    long long total; /* batch * out_h * out_w * out_c                                          */
    const int32_t *w;     /* [k_h * k_w][out_c] w - wz                                         */
    const int32_t *bias;  /* [out_c] (0 without a bias)                                         */
    const int32_t *mult;  /* [out_c]                                                           */
    const int32_t *shift; /* [out_c]                                                           */
} ev_cu_dw;

/* A prepared float32 CONV_2D or DEPTHWISE_CONV_2D: one output element per thread, summed in
 * the reference's order (taps row by row, then input channels). */
typedef struct ev_cu_convf {
    int depthwise;
    int batch, in_h, in_w, in_c, out_h, out_w, out_c, dm;
    int k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    float f_min, f_max;
    long long total;
    const float *w;    /* the filter as in the file                                           */
    const float *bias; /* NULL without a bias                                                  */
} ev_cu_convf;

/* One input of a requantizing CONCATENATION: out[o][off + j] = q(in[o][j]). */
typedef struct ev_cu_concat_q {
    int i8;
    float scale, bias;
    int32_t out_zp;
    long long outer, chunk, out_row, off;
} ev_cu_concat_q;

/* ---- arithmetic ---------------------------------------------------------------------------- */

EV_CU_FN int32_t ev_cu_dp4a(uint32_t a, uint32_t b, int32_t c) {
#if defined(__CUDA_ARCH__)
    return __dp4a((int)a, (int)b, c);
#else
    return c + (int32_t)(int8_t)(a & 0xff) * (int32_t)(int8_t)(b & 0xff) +
           (int32_t)(int8_t)((a >> 8) & 0xff) * (int32_t)(int8_t)((b >> 8) & 0xff) +
           (int32_t)(int8_t)((a >> 16) & 0xff) * (int32_t)(int8_t)((b >> 16) & 0xff) +
           (int32_t)(int8_t)((a >> 24) & 0xff) * (int32_t)(int8_t)((b >> 24) & 0xff);
#endif
}

EV_CU_FN float ev_cu_fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

EV_CU_FN float ev_cu_fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

/* MultiplyByQuantizedMultiplier(x, m0, shift), bit-exact with core/quant.h: the right shift's
 * ties away from zero (ev_mul_by_quantized_multiplier) or, with up != 0, toward +infinity
 * (ev_mul_by_quantized_multiplier_up): rem > mask >> 1 is rem >= 2^(right-1). */
EV_CU_FN int32_t ev_cu_requant_rule(int32_t x, int32_t m0, int32_t shift, int up) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t a = (int32_t)((uint32_t)x << left);
    int32_t h;
    if (a == m0 && a == INT32_MIN)
        h = INT32_MAX;
    else
        h = (int32_t)(((int64_t)a * (int64_t)m0 + ((int64_t)1 << 30)) >> 31);
    int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    int32_t rem = h & mask;
    int32_t threshold = (mask >> 1) + (!up && h < 0 ? 1 : 0);
    return (h >> right) + (rem > threshold ? 1 : 0);
}

/* TFLite's reference rule (ties away from zero). */
EV_CU_FN int32_t ev_cu_requant(int32_t x, int32_t m0, int32_t shift) {
    return ev_cu_requant_rule(x, m0, shift, 0);
}

EV_CU_FN int32_t ev_cu_clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- quantized CONV_2D: one tile of EV_CU_TP pixels x EV_CU_TC channels --------------------- */

/* Word g (input channels 4g..4g+3) of the input pixel at byte offset `base`, in the x' domain,
 * bytes past in_c zeroed. */
EV_CU_FN uint32_t ev_cu_load_x(const ev_cu_conv *p, const uint8_t *in, long long base, int g) {
    const uint32_t flip = p->in_i8 ? 0u : 0x80808080u;
    if (p->aligned) {
#if defined(__CUDA_ARCH__)
        return *(const uint32_t *)(in + base + 4 * g) ^ flip; /* base % 4 == 0 */
#else
        uint32_t w;
        memcpy(&w, in + base + 4 * g, 4);
        return w ^ flip;
#endif
    }
    uint32_t v = 0;
    for (int j = 0; j < 4; j++) {
        int ic = 4 * g + j;
        if (ic < p->in_c) v |= (uint32_t)(uint8_t)(in[base + ic] ^ (uint8_t)flip) << (8 * j);
    }
    return v;
}

/* Word g of a padded tap: xz' in real channels, 0 beyond in_c. */
EV_CU_FN uint32_t ev_cu_pad_word(const ev_cu_conv *p, int g) {
    uint32_t v = 0;
    for (int j = 0; j < 4; j++)
        if (4 * g + j < p->in_c) v |= (uint32_t)(uint8_t)p->xzs << (8 * j);
    return v;
}

EV_CU_FN void ev_cu_load_w4(const int32_t *w, long long idx, uint32_t out[4]) {
#if defined(__CUDA_ARCH__)
    int4 v = *(const int4 *)(w + idx); /* idx % 4 == 0, w 16-byte aligned */
    out[0] = (uint32_t)v.x;
    out[1] = (uint32_t)v.y;
    out[2] = (uint32_t)v.z;
    out[3] = (uint32_t)v.w;
#else
    for (int j = 0; j < 4; j++) out[j] = (uint32_t)w[idx + j];
#endif
}

/* Tile `t` of the output: channel group t % (ocp / 4) (consecutive threads share pixels and
 * read consecutive weights), pixel group t / (ocp / 4). */
EV_CU_FN void ev_cu_conv_tile(const ev_cu_conv *p, const uint8_t *in, uint8_t *out, long long t) {
    const int ngrp = p->ocp / EV_CU_TC;
    const int oc0 = (int)(t % ngrp) * EV_CU_TC;
    const long long p0 = (t / ngrp) * EV_CU_TP;
    int32_t acc[EV_CU_TP][EV_CU_TC], rs[EV_CU_TP];
    int iy0[EV_CU_TP], ix0[EV_CU_TP], nb[EV_CU_TP], live[EV_CU_TP];
    for (int i = 0; i < EV_CU_TP; i++) {
        long long q = p0 + i;
        live[i] = q < p->npix;
        if (!live[i]) q = p->npix - 1;
        int ox = (int)(q % p->out_w);
        long long r = q / p->out_w;
        int oy = (int)(r % p->out_h);
        nb[i] = (int)(r / p->out_h);
        iy0[i] = oy * p->stride_h - p->pad_top;
        ix0[i] = ox * p->stride_w - p->pad_left;
        rs[i] = 0;
        for (int j = 0; j < EV_CU_TC; j++) acc[i][j] = 0;
    }
    const long long row = (long long)p->in_w * p->in_c;
    const long long img = row * p->in_h;
    if (p->pointwise) {
        /* 1x1 stride 1 unpadded: output pixel q reads input pixel q (a GEMM) */
        for (int g = 0; g < p->icg; g++) {
            uint32_t wv[4];
            ev_cu_load_w4(p->w, (long long)g * p->ocp + oc0, wv);
            for (int i = 0; i < EV_CU_TP; i++) {
                long long q = live[i] ? p0 + i : p->npix - 1;
                uint32_t xv = ev_cu_load_x(p, in, q * p->in_c, g);
                for (int j = 0; j < EV_CU_TC; j++) acc[i][j] = ev_cu_dp4a(xv, wv[j], acc[i][j]);
                if (p->has_delta) rs[i] = ev_cu_dp4a(xv, 0x01010101u, rs[i]);
            }
        }
    } else {
        for (int ky = 0; ky < p->k_h; ky++)
            for (int kx = 0; kx < p->k_w; kx++) {
                long long base[EV_CU_TP];
                int inb[EV_CU_TP];
                for (int i = 0; i < EV_CU_TP; i++) {
                    int iy = iy0[i] + ky * p->dil_h, ix = ix0[i] + kx * p->dil_w;
                    inb[i] = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                    base[i] = inb[i] ? nb[i] * img + iy * row + (long long)ix * p->in_c : 0;
                }
                const long long kbase = ((long long)ky * p->k_w + kx) * p->icg;
                for (int g = 0; g < p->icg; g++) {
                    uint32_t wv[4];
                    ev_cu_load_w4(p->w, (kbase + g) * p->ocp + oc0, wv);
                    const uint32_t pw = ev_cu_pad_word(p, g);
                    for (int i = 0; i < EV_CU_TP; i++) {
                        uint32_t xv = inb[i] ? ev_cu_load_x(p, in, base[i], g) : pw;
                        for (int j = 0; j < EV_CU_TC; j++)
                            acc[i][j] = ev_cu_dp4a(xv, wv[j], acc[i][j]);
                        if (p->has_delta) rs[i] = ev_cu_dp4a(xv, 0x01010101u, rs[i]);
                    }
                }
            }
    }
    for (int i = 0; i < EV_CU_TP; i++) {
        if (!live[i]) continue;
        uint8_t *o = out + (p0 + i) * p->out_c;
        for (int j = 0; j < EV_CU_TC; j++) {
            int oc = oc0 + j;
            if (oc >= p->out_c) break;
            int32_t a = acc[i][j] + p->cst[oc];
            if (p->has_delta) a += p->delta[oc] * rs[i];
            int32_t v = ev_cu_requant_rule(a, p->mult[oc], p->shift[oc], p->half_up) + p->out_zp;
            o[oc] = (uint8_t)ev_cu_clamp(v, p->act_min, p->act_max);
        }
    }
}

EV_CU_FN long long ev_cu_conv_tiles(const ev_cu_conv *p) {
    return (p->npix + EV_CU_TP - 1) / EV_CU_TP * (p->ocp / EV_CU_TC);
}

/* ---- quantized DEPTHWISE_CONV_2D: output element e ------------------------------------------ */

EV_CU_FN void ev_cu_dw_point(const ev_cu_dw *p, const uint8_t *in, uint8_t *out, long long e) {
    const int oc = (int)(e % p->out_c);
    long long q = e / p->out_c;
    const int ox = (int)(q % p->out_w);
    q /= p->out_w;
    const int oy = (int)(q % p->out_h);
    const int n = (int)(q / p->out_h);
    const int ic = oc / p->dm;
    const int iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    int32_t acc = 0;
    for (int ky = 0; ky < p->k_h; ky++) {
        int iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) continue;
        for (int kx = 0; kx < p->k_w; kx++) {
            int ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) continue;
            long long xi = (((long long)n * p->in_h + iy) * p->in_w + ix) * p->in_c + ic;
            int32_t x = p->in_i8 ? (int32_t)(int8_t)in[xi] : (int32_t)in[xi];
            acc += p->w[((long long)ky * p->k_w + kx) * p->out_c + oc] * (x - p->in_zp);
        }
    }
    int32_t v = ev_cu_requant(acc + p->bias[oc], p->mult[oc], p->shift[oc]) + p->out_zp;
    out[e] = (uint8_t)ev_cu_clamp(v, p->act_min, p->act_max);
}

/* ---- float32 CONV_2D / DEPTHWISE_CONV_2D: output element e ---------------------------------- */

EV_CU_FN void ev_cu_convf_point(const ev_cu_convf *p, const float *in, float *out, long long e) {
    const int oc = (int)(e % p->out_c);
    long long q = e / p->out_c;
    const int ox = (int)(q % p->out_w);
    q /= p->out_w;
    const int oy = (int)(q % p->out_h);
    const int n = (int)(q / p->out_h);
    const int iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    float acc = 0.0f;
    for (int ky = 0; ky < p->k_h; ky++) {
        int iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) continue;
        for (int kx = 0; kx < p->k_w; kx++) {
            int ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) continue;
            const float *xp = in + (((long long)n * p->in_h + iy) * p->in_w + ix) * p->in_c;
            if (p->depthwise) {
                acc = ev_cu_fadd(acc, ev_cu_fmul(xp[oc / p->dm],
                                                 p->w[((long long)ky * p->k_w + kx) * p->out_c + oc]));
            } else {
                const float *wp = p->w + (((long long)oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
                for (int ic = 0; ic < p->in_c; ic++) acc = ev_cu_fadd(acc, ev_cu_fmul(xp[ic], wp[ic]));
            }
        }
    }
    float v = ev_cu_fadd(acc, p->bias ? p->bias[oc] : 0.0f);
    out[e] = v < p->f_min ? p->f_min : v > p->f_max ? p->f_max : v;
}

/* ---- CONCATENATION with requantization: element e of one input ------------------------------ */

EV_CU_FN void ev_cu_concat_q_point(const ev_cu_concat_q *p, const uint8_t *in, uint8_t *out,
                                   long long e) {
    long long o = e / p->chunk, j = e % p->chunk;
    float x = p->i8 ? (float)(int8_t)in[e] : (float)in[e];
    int32_t v = (int32_t)roundf(ev_cu_fadd(ev_cu_fmul(x, p->scale), p->bias)) + p->out_zp;
    v = p->i8 ? ev_cu_clamp(v, -128, 127) : ev_cu_clamp(v, 0, 255);
    out[o * p->out_row + p->off + j] = (uint8_t)v;
}

#endif
