/*
 * adam.c - Adam as Keras implements it (spec section 2.3; keras/src/optimizers/adam.py): the
 * moments move toward the gradient, the bias correction is folded into the step size, and
 * epsilon is added to the uncorrected sqrt(v). float32 throughout, like Keras's variables.
 */
#include "train/head.h"

#include "core/status.h"

#include <math.h>
#include <string.h>

ev_status ev_adam_create(ev_adam *a, size_t n, float lr) {
    memset(a, 0, sizeof *a);
    if (!(lr > 0)) return EV_FAIL(EV_ERR_INVALID_ARG, "learning rate %g (needs > 0)", (double)lr);
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-7f;
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof(float));
    a->v = calloc(n ? n : 1, sizeof(float));
    if (!a->m || !a->v) {
        ev_adam_free(a);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for Adam's moments");
    }
    return EV_OK;
}

void ev_adam_free(ev_adam *a) {
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void ev_adam_step(ev_adam *a, float *p, const float *g) {
    a->t++;
    float t = (float)a->t;
    float b1p = powf(a->beta1, t), b2p = powf(a->beta2, t);
    float alpha = a->lr * sqrtf(1.0f - b2p) / (1.0f - b1p);
    float c1 = 1.0f - a->beta1, c2 = 1.0f - a->beta2;
    for (size_t i = 0; i < a->n; i++) {
        a->m[i] += (g[i] - a->m[i]) * c1;
        a->v[i] += (g[i] * g[i] - a->v[i]) * c2;
        p[i] -= (a->m[i] * alpha) / (sqrtf(a->v[i]) + a->eps);
    }
}
