/*
 * trainer.h - the training loop on cached features, with its run folder (trainer.c):
 *   history.csv   epoch,loss,accuracy,val_loss,val_accuracy,seconds (rewritten each epoch)
 *   accuracy.svg, loss.svg   learning curves, train vs validation
 *   model.json    the best epoch by validation loss (every epoch when there is no validation)
 *   train.state   what a resume needs after the last completed epoch: weights, Adam moments
 *                 and step, the random generator, early-stopping counters, the history
 * Every file is written to a temporary name and renamed, train.state last, so a kill at any
 * moment leaves a consistent folder and a resume continues from the last completed epoch with
 * the same result as an uninterrupted run.
 *
 * Keras semantics per epoch (spec 2.5): shuffle, ceil(N/B) steps, train loss = sample-weighted
 * running mean with dropout on, train accuracy = correct / seen during the epoch, validation
 * with the final weights and dropout off; early stopping on val_loss with `patience`.
 */
#ifndef EV_TRAIN_TRAINER_H
#define EV_TRAIN_TRAINER_H

#include "train/model_file.h"

typedef struct ev_fit_config {
    const int *hidden;
    int num_hidden;
    float dropout, learning_rate;
    int batch, epochs, patience;
    uint64_t seed;
    const char *out; /* run folder, exists */
    int resume;
    ev_train_progress_fn progress;
    void *user;
} ev_fit_config;

typedef struct ev_fit_data {
    const float *x; /* n x dim */
    const int *y;   /* n labels */
    int dim;
    const int *train, *val; /* row indices */
    int ntrain, nval;
    const char *key; /* identifies data + split (a resume must see the same) */
} ev_fit_data;

typedef struct ev_fit_result {
    int epochs_done, best_epoch, stopped_early;
    double best_val_loss;
} ev_fit_result;

/* Trains and leaves the best head in `best` (created here) and its model.json (meta filled in
 * with the training record). */
ev_status ev_fit(const ev_fit_config *cfg, const ev_fit_data *data, ev_model_meta *meta,
                 ev_mlp *best, ev_fit_result *res);
/* Mean logit-form loss and accuracy of rows (dropout off); NaN when n == 0. */
void ev_fit_evaluate(const ev_mlp *m, ev_mlp_work *w, const float *x, const int *y,
                     const int *rows, int n, double *loss, double *acc, float *logits);

#endif
