/*
 * features.h - the frozen backbone and its feature cache (features.c, feature_cache.c).
 *
 * A backbone is any model ev_classifier_create accepts (TFLite, and Keras .h5 where the build
 * reads them), cut at a tensor: the model's output, or any op output named by `cut` (captured
 * through the session's op callback and dequantized). Images are preprocessed by the classifier
 * (resize to the input, the model's own input mapping). One classifier per worker thread; images
 * run in parallel in batches, with progress after each batch.
 *
 * The cache holds one float32 row per image, keyed by the backbone file's SHA-1, the
 * preprocessing string and the image list's key (paths, labels, file hashes): any change
 * rebuilds it. Format (little-endian, documented in docs/training.md):
 *   "EVFCACHE" | u32 version=1 | u32 dim | u64 n | char model_sha1[40] | char data_key[40] |
 *   char prep[256] (NUL-padded) | u8 ok[n] | f32 features[n][dim]
 * with a sidecar CACHE.tsv (index, path, sha1, ok) for people.
 */
#ifndef EV_TRAIN_FEATURES_H
#define EV_TRAIN_FEATURES_H

#include "train/dataset.h"

typedef struct ev_backbone ev_backbone;

ev_status ev_backbone_open(const ev_backbone_options *opts, ev_backbone **out);
void ev_backbone_free(ev_backbone *bb);
int ev_backbone_dim(const ev_backbone *bb);
int ev_backbone_workers(const ev_backbone *bb);
const char *ev_backbone_sha1(const ev_backbone *bb);
const char *ev_backbone_path(const ev_backbone *bb);
/* The tensor cut at (the output's name when no cut was asked for). */
const char *ev_backbone_cut(const ev_backbone *bb);
/* "resize=bilinear;input=224x224;cut=NAME": everything that decides the features. */
const char *ev_backbone_prep(const ev_backbone *bb);
/* Features of one image with worker `worker`'s classifier into out[0, dim). */
ev_status ev_backbone_embed(ev_backbone *bb, int worker, const ev_image *img, float *out);

/* Features of every item of `ds` (ds->n x dim, malloc'd into *feat): from `cache` when its key
 * matches, else computed (images that fail to decode are rejected) and, with a cache path,
 * saved there atomically. *hit tells which. */
ev_status ev_features_get(ev_backbone *bb, ev_dataset *ds, const char *cache, float **feat,
                          int *hit);
/* Removes the rows of !ok items from feat and then the items themselves (ev_dataset_compact). */
ev_status ev_features_compact(ev_dataset *ds, float *feat, int dim);

/* The cache file alone (feature_cache.c). load returns EV_OK with *found = 0 on a missing file
 * or a key mismatch (*why says which key differs). ok[] and feat are caller-allocated. */
ev_status ev_cache_load(const char *path, const char *model_sha1, const char *data_key,
                        const char *prep, size_t n, int dim, uint8_t *ok, float *feat,
                        int *found, char *why, size_t why_len);
ev_status ev_cache_save(const char *path, const char *model_sha1, const char *data_key,
                        const char *prep, const ev_dataset *ds, int dim, const float *feat);

#endif
