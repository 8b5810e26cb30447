/*
 * head.h - the trainable head with Keras semantics (spec section 2): Dense(w1, sigmoid)
 * [Dropout] ... Dense(1, sigmoid), glorot-uniform kernels, zero biases, binary cross-entropy in
 * its logit form, accuracy at p > 0.5 (head.c); Adam with Keras's epsilon placement (adam.c).
 *
 * Parameters live in one float array, layer by layer: kernel [in][out] (Keras layout), then
 * bias [out]; gradients and Adam's moments use the same layout.
 *
 * Extend: another activation is a switch in act()/act_grad(); another layer kind needs its own
 * forward/backward pair in head.c.
 */
#ifndef EV_TRAIN_HEAD_H
#define EV_TRAIN_HEAD_H

#include "edgevision.h"
#include "util/rng.h"

#define EV_MLP_MAX_LAYERS (EV_TRAIN_MAX_HIDDEN + 1)

typedef struct ev_mlp {
    int in_dim;
    int nlayers;                   /* dense layers, the output layer included          */
    int width[EV_MLP_MAX_LAYERS];  /* outputs per layer; width[nlayers - 1] = 1         */
    size_t w_off[EV_MLP_MAX_LAYERS], b_off[EV_MLP_MAX_LAYERS];
    size_t nparams;
    float *params;
    float dropout; /* rate after each hidden layer (0: none)                           */
} ev_mlp;

/* Scratch for one batch of up to `batch` samples. */
typedef struct ev_mlp_work {
    int batch;
    float *act[EV_MLP_MAX_LAYERS];  /* sigmoid outputs (before dropout), B x width       */
    float *keep[EV_MLP_MAX_LAYERS]; /* dropout factors (0 or 1/keep), B x width          */
    float *delta[2];                /* backward buffers, B x max width                   */
    float *z;                       /* output logits, B                                  */
    float *row;                     /* one layer input after dropout, max width          */
} ev_mlp_work;

ev_status ev_mlp_create(ev_mlp *m, int in_dim, const int *hidden, int nhidden, float dropout);
void ev_mlp_free(ev_mlp *m);
/* Kernels ~ U(-l, l), l = sqrt(6 / (fan_in + fan_out)), drawn layer by layer in storage order;
 * biases 0. */
void ev_mlp_init_glorot(ev_mlp *m, ev_rng *rng);

ev_status ev_mlp_work_create(ev_mlp_work *w, const ev_mlp *m, int batch);
void ev_mlp_work_free(ev_mlp_work *w);

/* Logits of B samples (rows of x selected by rows[], x row-major n x in_dim) into w->z.
 * train != 0 applies dropout with masks drawn from rng (sample by sample, unit by unit). */
void ev_mlp_forward(const ev_mlp *m, ev_mlp_work *w, const float *x, const int *rows, int B,
                    int train, ev_rng *rng);
/* After ev_mlp_forward: loss gradient (mean over the batch of the logit-form BCE) into
 * grad[nparams]. y[rows[b]] are the labels. */
void ev_mlp_backward(const ev_mlp *m, ev_mlp_work *w, const float *x, const int *rows,
                     const int *y, int B, float *grad);

/* Binary cross-entropy of logit z and label y: max(z,0) - z y + log(1 + exp(-|z|)). */
float ev_bce_logit(float z, int y);
/* The clip form for probabilities from elsewhere: -(y log p + (1-y) log(1-p)), p clipped to
 * [1e-7, 1 - 1e-7]. */
double ev_bce_prob(double p, int y);
float ev_sigmoid(float z);

/* Adam (Keras): m += (1-b1)(g-m); v += (1-b2)(g^2-v); alpha = lr sqrt(1-b2^t)/(1-b1^t);
 * theta -= m alpha / (sqrt(v) + eps), t counted from 1. */
typedef struct ev_adam {
    float lr, beta1, beta2, eps;
    long t;
    size_t n;
    float *m, *v;
} ev_adam;

ev_status ev_adam_create(ev_adam *a, size_t n, float lr);
void ev_adam_free(ev_adam *a);
void ev_adam_step(ev_adam *a, float *params, const float *grad);

#endif
