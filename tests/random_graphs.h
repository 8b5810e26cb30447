/*
 * random_graphs.h - small random graphs for testing a backend against ref, op by op.
 *
 *   rg_conv:     one quantized CONV_2D or DEPTHWISE_CONV_2D: uint8 (per-tensor, weight zero
 *                points 127/128/129/random, a weight of 255 at zp 127 to force the row-sum
 *                correction) or int8 (per-channel), random shapes, strides, dilations, padding,
 *                activations, bias present or not (the quantized conv rows of
 *                test_backend_ops.c).
 *   rg_conv_f32: the same for float32 (depth multiplier 1 or 2 for depthwise).
 *   rg_concat:   CONCATENATION of 1-4 inputs on a random axis, uint8/int8 (each input rescaled
 *                or not) or float32.
 *   rg_chain:    conv -> MAX_POOL_2D -> depthwise -> concat(depthwise, pool): device ops around
 *                a host-only op, an intermediate read twice.
 * Every generator draws from rg_rng (util.h's generator; set rg_rng.s to a seed first), returns
 * the model (NULL when the builder failed) and describes it in `desc`; *in_bytes is the size of
 * input 0.
 */
#ifndef EV_TESTS_RANDOM_GRAPHS_H
#define EV_TESTS_RANDOM_GRAPHS_H

#include "edgevision.h"
#include "graph_builder.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static ev_test_rng rg_rng; /* the generators draw from this: set rg_rng.s to a seed first */

/* Fills `n` bytes of input: random bytes, or for float32 values in [-2, 2]. */
static inline void rg_fill(void *dst, size_t n, ev_dtype dt) {
    if (dt == EV_DTYPE_F32) {
        float *f = dst;
        for (size_t i = 0; i < n / sizeof(float); i++) f[i] = ev_test_rng_float(&rg_rng, -2.0f, 2.0f);
    } else {
        uint8_t *b = dst;
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)ev_test_rng_next(&rg_rng);
    }
}

/* Geometry shared by the conv generators. */
typedef struct rg_geom {
    int n, h, w, cin, kh, kw, sh, sw, dh, dwl, oh, ow;
    ev_padding pad;
} rg_geom;

static inline rg_geom rg_conv_geom(void) {
    rg_geom g;
    g.n = ev_test_rng_int(&rg_rng, 1, 2), g.h = ev_test_rng_int(&rg_rng, 1, 17), g.w = ev_test_rng_int(&rg_rng, 1, 17), g.cin = ev_test_rng_int(&rg_rng, 1, 40);
    g.kh = ev_test_rng_int(&rg_rng, 1, 5), g.kw = ev_test_rng_int(&rg_rng, 1, 5);
    if (ev_test_rng_next(&rg_rng) % 3 == 0) g.kh = g.kw = (ev_test_rng_next(&rg_rng) & 1) ? 1 : 3;
    g.sh = ev_test_rng_int(&rg_rng, 1, 3), g.sw = ev_test_rng_int(&rg_rng, 1, 3), g.dh = ev_test_rng_int(&rg_rng, 1, 2), g.dwl = ev_test_rng_int(&rg_rng, 1, 2);
    g.pad = (ev_test_rng_next(&rg_rng) & 1) ? EV_PAD_SAME : EV_PAD_VALID;
    g.oh = ev_conv_out_size(g.pad, g.h, g.kh, g.sh, g.dh);
    g.ow = ev_conv_out_size(g.pad, g.w, g.kw, g.sw, g.dwl);
    if (g.oh <= 0 || g.ow <= 0) {
        g.pad = EV_PAD_SAME;
        g.oh = ev_conv_out_size(g.pad, g.h, g.kh, g.sh, g.dh);
        g.ow = ev_conv_out_size(g.pad, g.w, g.kw, g.sw, g.dwl);
    }
    return g;
}

static inline ev_model *rg_conv(int dw, int i8, size_t *in_bytes, char *desc, size_t dn) {
    rg_geom G = rg_conv_geom();
    int n = G.n, h = G.h, w = G.w, cin = G.cin, kh = G.kh, kw = G.kw, sh = G.sh, sw = G.sw;
    int dh = G.dh, dwl = G.dwl, oh = G.oh, ow = G.ow;
    ev_padding pad = G.pad;
    int cout = dw ? cin : ev_test_rng_int(&rg_rng, 1, 70);
    ev_dtype dt = i8 ? EV_DTYPE_I8 : EV_DTYPE_U8;
    int act = (int)(ev_test_rng_next(&rg_rng) % 4);
    int in_dims[4] = {n, h, w, cin}, out_dims[4] = {n, oh, ow, cout};
    int w_dims[4] = {dw ? 1 : cout, kh, kw, dw ? cout : cin}, b_dims[1] = {cout};
    size_t wn = (size_t)w_dims[0] * kh * kw * w_dims[3];
    uint8_t *wd = malloc(wn);
    int32_t *bd = malloc(sizeof(int32_t) * (size_t)cout);
    float *ws = malloc(sizeof(float) * (size_t)cout);
    int32_t *wz = calloc((size_t)cout, sizeof(int32_t));
    int wzp = 128;
    if (!i8) {
        int pick = (int)(ev_test_rng_next(&rg_rng) % 5);
        wzp = pick < 3 ? 127 + pick : ev_test_rng_int(&rg_rng, 0, 255);
    }
    for (size_t i = 0; i < wn; i++) wd[i] = (uint8_t)ev_test_rng_next(&rg_rng);
    if (!i8 && wzp == 127) wd[ev_test_rng_next(&rg_rng) % wn] = 255; /* w - zp = 128: the row-sum path */
    for (int c = 0; c < cout; c++) {
        bd[c] = ev_test_rng_int(&rg_rng, -20000, 20000);
        ws[c] = ev_test_rng_float(&rg_rng, 0.001f, 0.02f);
        wz[c] = i8 ? 0 : wzp;
    }
    float in_s = ev_test_rng_float(&rg_rng, 0.005f, 0.05f), out_s = ev_test_rng_float(&rg_rng, 0.02f, 0.6f);
    int32_t in_zp = i8 ? ev_test_rng_int(&rg_rng, -128, 127) : ev_test_rng_int(&rg_rng, 0, 255);
    int32_t out_zp = i8 ? ev_test_rng_int(&rg_rng, -100, 100) : ev_test_rng_int(&rg_rng, 0, 255);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", dt, 4, in_dims, NULL, in_s, in_zp);
    int tw = gb_tensor(&b, "w", dt, 4, w_dims, wd, wn, i8 ? cout : 1, ws, wz, dw ? 3 : 0);
    int tb = (ev_test_rng_next(&rg_rng) % 5) ? gb_tensor(&b, "b", EV_DTYPE_I32, 1, b_dims, bd,
                                        sizeof(int32_t) * cout, 0, NULL, NULL, 0)
                            : -1;
    int to = gb_tensor_q(&b, "out", dt, 4, out_dims, NULL, out_s, out_zp);
    ev_conv_params p = {pad, sw, sh, dwl, dh, 1, (ev_activation)act};
    gb_op_conv(&b, dw ? EV_OP_DEPTHWISE_CONV_2D : EV_OP_CONV_2D, ti, tw, tb, to, p);
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) m = NULL;
    snprintf(desc, dn, "%s %s n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d pad%d act%d wzp%d",
             dw ? "dw" : "conv", i8 ? "i8" : "u8", n, h, w, cin, oh, ow, cout, kh, kw, sh, sw, dh,
             dwl, pad, act, wzp);
    *in_bytes = (size_t)n * h * w * cin;
    free(wd), free(bd), free(ws), free(wz);
    return m;
}

static inline ev_model *rg_conv_f32(int dw, size_t *in_bytes, char *desc, size_t dn) {
    rg_geom G = rg_conv_geom();
    int dm = dw ? ev_test_rng_int(&rg_rng, 1, 2) : 1;
    int cout = dw ? G.cin * dm : ev_test_rng_int(&rg_rng, 1, 70);
    int act = (int)(ev_test_rng_next(&rg_rng) % 4);
    int in_dims[4] = {G.n, G.h, G.w, G.cin}, out_dims[4] = {G.n, G.oh, G.ow, cout};
    int w_dims[4] = {dw ? 1 : cout, G.kh, G.kw, dw ? cout : G.cin}, b_dims[1] = {cout};
    size_t wn = (size_t)w_dims[0] * G.kh * G.kw * w_dims[3];
    float *wd = malloc(sizeof(float) * wn), *bd = malloc(sizeof(float) * (size_t)cout);
    for (size_t i = 0; i < wn; i++) wd[i] = ev_test_rng_float(&rg_rng, -1.0f, 1.0f);
    for (int c = 0; c < cout; c++) bd[c] = ev_test_rng_float(&rg_rng, -1.0f, 1.0f);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = (ev_test_rng_next(&rg_rng) % 5) ? gb_tensor_q(&b, "b", EV_DTYPE_F32, 1, b_dims, bd, 0.0f, 0) : -1;
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, out_dims, NULL, 0.0f, 0);
    ev_conv_params p = {G.pad, G.sw, G.sh, G.dwl, G.dh, dm, (ev_activation)act};
    gb_op_conv(&b, dw ? EV_OP_DEPTHWISE_CONV_2D : EV_OP_CONV_2D, ti, tw, tb, to, p);
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) m = NULL;
    snprintf(desc, dn, "%s f32 n%d %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d pad%d act%d dm%d",
             dw ? "dw" : "conv", G.n, G.h, G.w, G.cin, G.oh, G.ow, cout, G.kh, G.kw, G.sh, G.sw,
             G.dh, G.dwl, G.pad, act, dm);
    *in_bytes = sizeof(float) * (size_t)G.n * G.h * G.w * G.cin;
    free(wd), free(bd);
    return m;
}

/* dt: EV_DTYPE_U8, EV_DTYPE_I8 or EV_DTYPE_F32. The inputs are graph inputs 0..k-1. */
static inline ev_model *rg_concat(ev_dtype dt, int *n_inputs, size_t in_bytes[4], char *desc,
                                  size_t dn) {
    int k = ev_test_rng_int(&rg_rng, 1, 4), axis = ev_test_rng_int(&rg_rng, 0, 3);
    int dims[4] = {ev_test_rng_int(&rg_rng, 1, 2), ev_test_rng_int(&rg_rng, 1, 9), ev_test_rng_int(&rg_rng, 1, 9), ev_test_rng_int(&rg_rng, 1, 24)};
    int q = dt != EV_DTYPE_F32;
    float out_s = q ? ev_test_rng_float(&rg_rng, 0.01f, 0.1f) : 0.0f;
    int32_t out_zp = dt == EV_DTYPE_U8 ? ev_test_rng_int(&rg_rng, 0, 255) : dt == EV_DTYPE_I8 ? ev_test_rng_int(&rg_rng, -128, 127) : 0;
    gb b;
    gb_init(&b);
    int ins[4], total = 0;
    for (int i = 0; i < k; i++) {
        int d[4] = {dims[0], dims[1], dims[2], dims[3]};
        d[axis] = ev_test_rng_int(&rg_rng, 1, axis == 3 ? 24 : 6);
        total += d[axis];
        int same = ev_test_rng_next(&rg_rng) % 3 == 0;
        float s = q ? (same ? out_s : ev_test_rng_float(&rg_rng, 0.01f, 0.1f)) : 0.0f;
        int32_t zp = same ? out_zp
                          : dt == EV_DTYPE_U8 ? ev_test_rng_int(&rg_rng, 0, 255) : dt == EV_DTYPE_I8 ? ev_test_rng_int(&rg_rng, -128, 127) : 0;
        char name[16];
        snprintf(name, sizeof name, "in%d", i);
        ins[i] = gb_tensor_q(&b, name, dt, 4, d, NULL, s, zp);
        in_bytes[i] = (size_t)d[0] * d[1] * d[2] * d[3] * ev_dtype_size(dt);
    }
    int od[4] = {dims[0], dims[1], dims[2], dims[3]};
    od[axis] = total;
    int to = gb_tensor_q(&b, "out", dt, 4, od, NULL, out_s, out_zp);
    int neg = ev_test_rng_next(&rg_rng) & 1; /* the axis as a file may give it: negative */
    gb_op_concat(&b, k, ins, to, neg ? axis - 4 : axis, EV_ACT_NONE);
    gb_inputs(&b, k, ins);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) m = NULL;
    snprintf(desc, dn, "concat %s x%d axis %d -> %dx%dx%dx%d", ev_dtype_name(dt), k,
             neg ? axis - 4 : axis, od[0], od[1], od[2], od[3]);
    *n_inputs = k;
    return m;
}

/* uint8: in -> conv 3x3 -> max pool 2x2 (host) -> depthwise 3x3 -> concat(dw, pool) on
 * channels; outputs: the concat and the pool. */
static inline ev_model *rg_chain(size_t *in_bytes, char *desc, size_t dn) {
    int h = ev_test_rng_int(&rg_rng, 4, 20), w = ev_test_rng_int(&rg_rng, 4, 20), cin = ev_test_rng_int(&rg_rng, 1, 20), c1 = ev_test_rng_int(&rg_rng, 1, 33);
    int in_dims[4] = {1, h, w, cin}, c_dims[4] = {1, h, w, c1};
    int ph = (h + 1) / 2, pw = (w + 1) / 2;
    int p_dims[4] = {1, ph, pw, c1}, o_dims[4] = {1, ph, pw, 2 * c1};
    int w1_dims[4] = {c1, 3, 3, cin}, w2_dims[4] = {1, 3, 3, c1}, b_dims[1] = {c1};
    size_t n1 = (size_t)c1 * 9 * cin, n2 = (size_t)9 * c1;
    uint8_t *w1 = malloc(n1), *w2 = malloc(n2);
    int32_t *b1 = malloc(sizeof(int32_t) * (size_t)c1);
    for (size_t i = 0; i < n1; i++) w1[i] = (uint8_t)ev_test_rng_next(&rg_rng);
    for (size_t i = 0; i < n2; i++) w2[i] = (uint8_t)ev_test_rng_next(&rg_rng);
    for (int i = 0; i < c1; i++) b1[i] = ev_test_rng_int(&rg_rng, -5000, 5000);
    float s1 = ev_test_rng_float(&rg_rng, 0.005f, 0.02f), s2 = ev_test_rng_float(&rg_rng, 0.005f, 0.02f);
    int32_t z1 = ev_test_rng_int(&rg_rng, 100, 160), z2 = ev_test_rng_int(&rg_rng, 100, 160);
    float sc = ev_test_rng_float(&rg_rng, 0.05f, 0.3f), sd = ev_test_rng_float(&rg_rng, 0.05f, 0.3f), so = ev_test_rng_float(&rg_rng, 0.05f, 0.3f);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_U8, 4, in_dims, NULL, 0.02f, ev_test_rng_int(&rg_rng, 0, 255));
    int tw1 = gb_tensor(&b, "w1", EV_DTYPE_U8, 4, w1_dims, w1, n1, 1, &s1, &z1, 0);
    int tb1 = gb_tensor(&b, "b1", EV_DTYPE_I32, 1, b_dims, b1, sizeof(int32_t) * c1, 0, NULL,
                        NULL, 0);
    int tc = gb_tensor_q(&b, "conv", EV_DTYPE_U8, 4, c_dims, NULL, sc, ev_test_rng_int(&rg_rng, 0, 255));
    int tp = gb_tensor_q(&b, "pool", EV_DTYPE_U8, 4, p_dims, NULL, sc,
                         b.g.tensors[tc].quant.zero_point[0]);
    int tw2 = gb_tensor(&b, "w2", EV_DTYPE_U8, 4, w2_dims, w2, n2, 1, &s2, &z2, 3);
    int td = gb_tensor_q(&b, "dw", EV_DTYPE_U8, 4, p_dims, NULL, sd, ev_test_rng_int(&rg_rng, 0, 255));
    int to = gb_tensor_q(&b, "out", EV_DTYPE_U8, 4, o_dims, NULL, so, ev_test_rng_int(&rg_rng, 0, 255));
    ev_conv_params cp = {EV_PAD_SAME, 1, 1, 1, 1, 1, EV_ACT_RELU};
    gb_op_conv(&b, EV_OP_CONV_2D, ti, tw1, tb1, tc, cp);
    int pi = gb_op(&b, EV_OP_MAX_POOL_2D, "MAX_POOL_2D", 17, 1, &tc, 1, &tp);
    if (pi >= 0) {
        ev_pool_params pp = {EV_PAD_SAME, 2, 2, 2, 2, EV_ACT_NONE};
        b.g.ops[pi].p.pool = pp;
    }
    ev_conv_params dp = {EV_PAD_SAME, 1, 1, 1, 1, 1, EV_ACT_RELU6};
    gb_op_conv(&b, EV_OP_DEPTHWISE_CONV_2D, tp, tw2, -1, td, dp);
    int cat[2] = {td, tp};
    gb_op_concat(&b, 2, cat, to, 3, EV_ACT_NONE);
    gb_inputs(&b, 1, &ti);
    int outs[2] = {to, tp};
    gb_outputs(&b, 2, outs);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) m = NULL;
    snprintf(desc, dn, "chain %dx%dx%d conv %d pool dw concat", h, w, cin, c1);
    *in_bytes = (size_t)h * w * cin;
    free(w1), free(w2), free(b1);
    return m;
}

#endif
