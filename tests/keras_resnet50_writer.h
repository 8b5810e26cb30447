/*
 * keras_resnet50_writer.h - the one writer of Keras-layout ResNet50 HDF5 weight files with random
 * weights (the real ImageNet weights cannot be downloaded here). Used by
 * tests/test_keras_resnet50.c (which also reads the weights back for its double-precision
 * reference) and by bench/make_resnet50_h5.c (a ResNet50 file for benchmarks and the trainer).
 *
 *   kr50_weights w;
 *   ev_test_rng rng = {seed};
 *   kr50_weights_random(&w, &rng);            53 convs + BN (He-normal kernels), dense N(0, 1)
 *   kr50_write_options o = {0}; o.top = 1;
 *   kr50_write("resnet50.h5", &w, &o);        keras.applications resnet.py layout
 *   kr50_weights_free(&w);
 *
 * The file has Keras's exact layout (root attributes layer_names / backend / keras_version, one
 * group per layer with weight_names, datasets <layer>/<layer>/kernel:0 in HWIO, zero-length
 * float64 weight_names for weightless layers); the options select the legacy resnet50.py
 * naming, Keras-1 weight names, string encodings, split layer_names, and the broken files the
 * loader's error tests need.
 *
 * Extend: a new variant of the file is a field of kr50_write_options, read in kr50_write.
 * Needs libhdf5 (built only with EV_WITH_HDF5).
 */
#ifndef EV_TESTS_KERAS_RESNET50_WRITER_H
#define EV_TESTS_KERAS_RESNET50_WRITER_H

#include "util.h" /* ev_test_rng */

#define KR50_CLASSES 1000
#define KR50_FEATURES 2048
#define KR50_CONVS 53

/* One convolution and the BatchNormalization after it. */
typedef struct kr50_conv {
    int stage, block, k_idx; /* stage 1: stem; k_idx 0: projection shortcut, 1..3 main path */
    int k, cin, cout, stride, pad;
    float *w, *b, *gamma, *beta, *mean, *var; /* w: HWIO */
} kr50_conv;

typedef struct kr50_weights {
    kr50_conv conv[KR50_CONVS];
    int nconv;
    float *dense_w, *dense_b; /* [2048][1000] N(0, 1) (scale it to taste), [1000] N(0, 0.1) */
} kr50_weights;

/* Draws every weight from `rng` in a fixed order (the same seed gives the same file): kernels
 * He normal (sd sqrt(2 / (k k cin))), biases N(0, 0.05), BN gamma U(0.7, 1.3) (U(0.2, 0.5) on
 * the last BN of a residual branch and on projections, so 16 blocks keep activations sane),
 * beta and mean N(0, 0.1), variance U(0.6, 1.4). Returns 0, or -1 when out of memory. */
int kr50_weights_random(kr50_weights *w, ev_test_rng *rng);
void kr50_weights_free(kr50_weights *w);
/* Conv k_idx of block `block` of stage `stage` (stage 1 block 0: the stem); NULL if none. */
kr50_conv *kr50_find_conv(const kr50_weights *w, int stage, int block, int k_idx);

typedef struct kr50_write_options {
    int legacy;      /* resnet50.py names                                          */
    int keras1;      /* Keras-1 weight names (conv1_W:0, bn_conv1_running_std:0)    */
    int pool_pad;    /* list pool1_pad (legacy only; resnet.py always has it)       */
    int top;         /* write the predictions / fc1000 layer                       */
    int split;       /* layer_names split into layer_names0/1                      */
    int names_style; /* layer_names: 0 fixed NULLPAD exact, 1 fixed NULLTERM, 2 vlen */
    /* broken files, for the loader's error tests: */
    const char *skip_layer, *bad_shape_layer, *drop_dataset_layer;
    int not_resnet, no_layer_names;
} kr50_write_options;

/* Writes `w` to `path` (truncating it). Returns 0, or -1 when libhdf5 failed (it prints why). */
int kr50_write(const char *path, const kr50_weights *w, const kr50_write_options *o);

#endif
