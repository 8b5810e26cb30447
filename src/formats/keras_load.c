/*
 * keras_load.c - the public entry point for Keras weights files with explicit options
 * (ev_keras_resnet50_load): file -> bytes -> ev_keras_h5_parse -> validated ev_model.
 * ev_model_load() reaches the same parser by content, with the default options, through this
 * component's entry of the model format table (ev_format_keras_h5, formats/formats.h). Also the
 * Keras classifier (ev_classifier_create_keras), so the core classifier needs no HDF5.
 *
 * Extend: another architecture's loader is another function here over ev_keras_h5_parse.
 */
#include "core/model.h"
#include "classify/classify.h"
#include "core/status.h"
#include "formats/formats.h"
#include "formats/keras_h5.h"
#include "formats/keras_resnet50.h"

#include <stdlib.h>

ev_status ev_keras_resnet50_load(const char *path, const ev_keras_options *opts, ev_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_keras_resnet50_load: out is NULL");
    *out = NULL;
    uint8_t *bytes;
    size_t size;
    EV_TRY(ev_read_file(path, &bytes, &size));
    if (!ev_keras_h5_identify(bytes, size)) {
        free(bytes);
        return EV_FAIL(EV_ERR_FORMAT, "%s: not an HDF5 file (no \\x89HDF signature): Keras "
                       "weights files are HDF5", path);
    }
    ev_graph g = {0};
    return ev_model_adopt(&g, ev_keras_h5_parse(bytes, size, path, opts, &g), out);
}

static int keras_sniff(const uint8_t *bytes, size_t size, const char *what) {
    (void)what;
    return ev_keras_h5_identify(bytes, size);
}

static ev_status keras_load(uint8_t *bytes, size_t size, const char *what, int height, int width,
                            ev_graph *g) {
    (void)height, (void)width; /* fixed input: the default options' 224x224 */
    return ev_keras_h5_parse(bytes, size, what, NULL, g);
}

const ev_format ev_format_keras_h5 = {"keras-h5", keras_sniff, keras_load, 0};

static ev_status keras_stage_load(void *user, const char *path, ev_model **out) {
    return ev_keras_resnet50_load(path, (const ev_keras_options *)user, out);
}

ev_status ev_classifier_create_keras(const char *path, const ev_keras_options *kopts,
                                     const ev_classifier_options *copts, ev_classifier **out) {
    ev_keras_options k;
    ev_keras_options_init(&k);
    if (kopts) k = *kopts;
    return ev_classifier_create_with(path, NULL, keras_stage_load, &k, copts, out);
}
