/*
 * classify.h - private definition of ev_classifier (src/classify/classify.c).
 *
 * A classifier is one model, or an embedding extractor composed with a head model: the
 * extractor's single output feeds the head's single input (same shape, type and quantization,
 * checked at creation). The first model's output is the embedding; the last model's output is
 * the class scores.
 *
 * Extend: a third stage would be one more (model, session) pair in `stage` and one more copy
 * in run_stages().
 */
#ifndef EV_CLASSIFY_CLASSIFY_H
#define EV_CLASSIFY_CLASSIFY_H

#include "core/model.h"
#include "core/session.h"

#define EV_CLASSIFIER_MAX_STAGES 2

struct ev_classifier {
    int num_stages;                            /* 1 (model) or 2 (extractor + head)        */
    ev_model *model[EV_CLASSIFIER_MAX_STAGES];
    ev_session *session[EV_CLASSIFIER_MAX_STAGES];
    ev_classifier_options opts;
    int in_w, in_h;
    ev_dtype in_dtype;
    ev_preprocess preprocess; /* the first model's (graph.preprocess) */
    float in_scale;
    int32_t in_zp;
    uint8_t *in_buf; /* model input bytes */
    size_t in_bytes;
    int num_classes; /* elements of the last stage's output */
    int embedding_size;
};

/* Loads one model file of a classifier stage (a format entry point with options, e.g. the Keras
 * loader); NULL means ev_model_load. */
typedef ev_status (*ev_classifier_loader)(void *user, const char *path, ev_model **out);

/* ev_classifier_create with the first stage loaded by `load` (the Keras component's
 * ev_classifier_create_keras passes its loader, so the classifier needs no HDF5). */
ev_status ev_classifier_create_with(const char *model_path, const char *head_path,
                                   ev_classifier_loader load, void *load_user,
                                   const ev_classifier_options *opts, ev_classifier **out);

#endif
