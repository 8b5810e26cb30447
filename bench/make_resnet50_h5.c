/*
 * make_resnet50_h5.c - writes a Keras ResNet50 HDF5 weight file (keras.applications resnet.py
 * layout) with random weights, for benchmarks (`edgevision bench --model resnet50.h5`,
 * bench_float) and for trying the trainer's ResNet50 backbone (`edgevision train --backbone
 * resnet50_notop.h5`) where the ImageNet weights cannot be downloaded. Not a test.
 *
 *   make_resnet50_h5 OUT.h5 [--notop] [--seed N]
 *
 * Weights: the test's writer (tests/keras_resnet50_writer.c, the one writer): He-normal kernels,
 * BN statistics near identity, the dense layer (with the top) He normal, sd sqrt(2 / 2048). The
 * same seed writes the same weights. Speed is what such a file is for: its predictions mean
 * nothing.
 *
 * Extend: another file variant is an option here mapped to a kr50_write_options field.
 */
#include "keras_resnet50_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: make_resnet50_h5 OUT.h5 [--notop] [--seed N]\n"
               "Writes a Keras ResNet50 (resnet.py layout) HDF5 file with random He-normal weights;\n"
               "--notop leaves out the predictions layer (the 2048 pooled features are the output).\n");
}

int main(int argc, char **argv) {
    const char *out = NULL;
    int top = 1;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--notop") == 0) {
            top = 0;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            seed = strtoull(argv[++i], &end, 10);
            if (*end || !argv[i][0]) {
                fprintf(stderr, "make_resnet50_h5: --seed takes a non-negative integer, got '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !out) {
            out = argv[i];
        } else {
            fprintf(stderr, "make_resnet50_h5: unknown or incomplete argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!out) {
        usage(stderr);
        return 2;
    }
    ev_test_rng rng = {seed};
    kr50_weights w;
    if (kr50_weights_random(&w, &rng) != 0) {
        fprintf(stderr, "make_resnet50_h5: out of memory\n");
        return 1;
    }
    const float sd = (float)sqrt(2.0 / KR50_FEATURES); /* He normal, fan-in 2048 */
    for (size_t i = 0; i < (size_t)KR50_FEATURES * KR50_CLASSES; i++) w.dense_w[i] *= sd;
    kr50_write_options o;
    memset(&o, 0, sizeof o);
    o.top = top;
    int rc = kr50_write(out, &w, &o);
    kr50_weights_free(&w);
    if (rc != 0) {
        fprintf(stderr, "make_resnet50_h5: writing %s failed (libhdf5's messages above)\n", out);
        return 1;
    }
    printf("wrote %s: Keras ResNet50 %s, random weights (seed %llu)\n", out,
           top ? "with top (1000 classes)" : "without top (2048 features)", seed);
    return 0;
}
