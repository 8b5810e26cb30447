/*
 * head.c - the dense head: forward with optional dropout, backward of the logit-form binary
 * cross-entropy, glorot-uniform initialisation (see head.h). Everything is float32 in a fixed
 * loop order (the build disables FP contraction), so a seed gives the same weights on every run
 * on one machine.
 */
#include "train/head.h"

#include "core/status.h"

#include <math.h>
#include <string.h>

float ev_sigmoid(float z) {
    if (z >= 0) return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

float ev_bce_logit(float z, int y) {
    return (z > 0 ? z : 0.0f) - z * (float)y + log1pf(expf(-fabsf(z)));
}

double ev_bce_prob(double p, int y) {
    const double eps = 1e-7;
    if (p < eps) p = eps;
    if (p > 1 - eps) p = 1 - eps;
    return -(y ? log(p) : log(1 - p));
}

ev_status ev_mlp_create(ev_mlp *m, int in_dim, const int *hidden, int nh, float dropout) {
    memset(m, 0, sizeof *m);
    if (in_dim < 1) return EV_FAIL(EV_ERR_INVALID_ARG, "head input size %d", in_dim);
    if (nh < 0 || nh > EV_TRAIN_MAX_HIDDEN)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%d hidden layers (at most %d)", nh,
                       EV_TRAIN_MAX_HIDDEN);
    if (!(dropout >= 0 && dropout < 1))
        return EV_FAIL(EV_ERR_INVALID_ARG, "dropout rate %g (needs [0, 1))", (double)dropout);
    m->in_dim = in_dim;
    m->nlayers = nh + 1;
    m->dropout = dropout;
    size_t off = 0;
    for (int l = 0; l < m->nlayers; l++) {
        int out = l < nh ? hidden[l] : 1;
        if (out < 1 || out > 65536)
            return EV_FAIL(EV_ERR_INVALID_ARG, "hidden layer %d has width %d", l + 1, out);
        int in = l ? m->width[l - 1] : in_dim;
        m->width[l] = out;
        m->w_off[l] = off;
        off += (size_t)in * (size_t)out;
        m->b_off[l] = off;
        off += (size_t)out;
    }
    m->nparams = off;
    m->params = calloc(off, sizeof(float));
    if (!m->params) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for %zu parameters", off);
    return EV_OK;
}

void ev_mlp_free(ev_mlp *m) {
    if (!m) return;
    free(m->params);
    memset(m, 0, sizeof *m);
}

void ev_mlp_init_glorot(ev_mlp *m, ev_rng *rng) {
    for (int l = 0; l < m->nlayers; l++) {
        int in = l ? m->width[l - 1] : m->in_dim, out = m->width[l];
        float lim = sqrtf(6.0f / (float)(in + out));
        float *w = m->params + m->w_off[l];
        for (size_t i = 0; i < (size_t)in * (size_t)out; i++)
            w[i] = (2.0f * ev_rng_float(rng) - 1.0f) * lim;
        memset(m->params + m->b_off[l], 0, sizeof(float) * (size_t)out);
    }
}

ev_status ev_mlp_work_create(ev_mlp_work *w, const ev_mlp *m, int batch) {
    memset(w, 0, sizeof *w);
    w->batch = batch;
    int maxw = m->in_dim;
    for (int l = 0; l < m->nlayers; l++) {
        if (m->width[l] > maxw) maxw = m->width[l];
        w->act[l] = malloc(sizeof(float) * (size_t)batch * (size_t)m->width[l]);
        w->keep[l] = malloc(sizeof(float) * (size_t)batch * (size_t)m->width[l]);
        if (!w->act[l] || !w->keep[l]) goto oom;
    }
    for (int k = 0; k < 2; k++)
        if (!(w->delta[k] = malloc(sizeof(float) * (size_t)batch * (size_t)maxw))) goto oom;
    if (!(w->z = malloc(sizeof(float) * (size_t)batch))) goto oom;
    if (!(w->row = malloc(sizeof(float) * (size_t)maxw))) goto oom;
    return EV_OK;
oom:
    ev_mlp_work_free(w);
    return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for a batch of %d", batch);
}

void ev_mlp_work_free(ev_mlp_work *w) {
    for (int l = 0; l < EV_MLP_MAX_LAYERS; l++) free(w->act[l]), free(w->keep[l]);
    free(w->delta[0]), free(w->delta[1]), free(w->z), free(w->row);
    memset(w, 0, sizeof *w);
}

/* Input row b of layer l: a sample (l = 0) or the previous layer's output after dropout,
 * materialised into `buf` so the inner loops read one contiguous row. */
static const float *layer_input(const ev_mlp *m, const ev_mlp_work *w, const float *x,
                                const int *rows, int l, int b, float *buf) {
    if (l == 0) return x + (size_t)rows[b] * (size_t)m->in_dim;
    int n = m->width[l - 1];
    const float *a = w->act[l - 1] + (size_t)b * (size_t)n;
    const float *k = w->keep[l - 1] + (size_t)b * (size_t)n;
    for (int i = 0; i < n; i++) buf[i] = a[i] * k[i];
    return buf;
}

void ev_mlp_forward(const ev_mlp *m, ev_mlp_work *w, const float *x, const int *rows, int B,
                    int train, ev_rng *rng) {
    float *buf = w->row;
    float keep_p = 1.0f - m->dropout, scale = 1.0f / keep_p;
    for (int l = 0; l < m->nlayers; l++) {
        int in = l ? m->width[l - 1] : m->in_dim, out = m->width[l];
        const float *W = m->params + m->w_off[l], *bias = m->params + m->b_off[l];
        int last = l == m->nlayers - 1;
        for (int b = 0; b < B; b++) {
            const float *a = layer_input(m, w, x, rows, l, b, buf);
            float *o = last ? w->z + b : w->act[l] + (size_t)b * (size_t)out;
            for (int j = 0; j < out; j++) o[j] = bias[j];
            for (int i = 0; i < in; i++) {
                float ai = a[i];
                const float *wr = W + (size_t)i * (size_t)out;
                for (int j = 0; j < out; j++) o[j] += ai * wr[j];
            }
            if (last) continue;
            float *k = w->keep[l] + (size_t)b * (size_t)out;
            for (int j = 0; j < out; j++) {
                o[j] = ev_sigmoid(o[j]);
                k[j] = train && m->dropout > 0 ? (ev_rng_float(rng) < keep_p ? scale : 0.0f)
                                               : 1.0f;
            }
        }
    }
}

void ev_mlp_backward(const ev_mlp *m, ev_mlp_work *w, const float *x, const int *rows,
                     const int *y, int B, float *grad) {
    memset(grad, 0, sizeof(float) * m->nparams);
    float *d = w->delta[0], *dprev = w->delta[1];
    float *buf = w->row;
    /* d loss / d z = (sigmoid(z) - y) / B */
    for (int b = 0; b < B; b++) d[b] = (ev_sigmoid(w->z[b]) - (float)y[rows[b]]) / (float)B;
    for (int l = m->nlayers - 1; l >= 0; l--) {
        int in = l ? m->width[l - 1] : m->in_dim, out = m->width[l];
        const float *W = m->params + m->w_off[l];
        float *gW = grad + m->w_off[l], *gb = grad + m->b_off[l];
        for (int b = 0; b < B; b++) {
            const float *a = l == 0 ? x + (size_t)rows[b] * (size_t)m->in_dim
                                    : layer_input(m, w, x, rows, l, b, buf);
            const float *db = d + (size_t)b * (size_t)out;
            for (int i = 0; i < in; i++) {
                float ai = a[i];
                float *g = gW + (size_t)i * (size_t)out;
                for (int j = 0; j < out; j++) g[j] += ai * db[j];
            }
            for (int j = 0; j < out; j++) gb[j] += db[j];
        }
        if (l == 0) break;
        /* Into the previous layer: through the kernel, the dropout factor, the sigmoid. */
        for (int b = 0; b < B; b++) {
            const float *db = d + (size_t)b * (size_t)out;
            const float *h = w->act[l - 1] + (size_t)b * (size_t)in;
            const float *k = w->keep[l - 1] + (size_t)b * (size_t)in;
            float *dp = dprev + (size_t)b * (size_t)in;
            for (int i = 0; i < in; i++) {
                const float *wr = W + (size_t)i * (size_t)out;
                float s = 0;
                for (int j = 0; j < out; j++) s += wr[j] * db[j];
                dp[i] = s * k[i] * h[i] * (1.0f - h[i]);
            }
        }
        float *t = d;
        d = dprev;
        dprev = t;
    }
}
