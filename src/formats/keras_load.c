/*
 * keras_load.c - the public entry point for Keras weights files with explicit options
 * (ev_keras_resnet50_load): file -> bytes -> ev_keras_h5_parse -> validated ev_model.
 * ev_model_load() reaches the same parser by content, with the default options.
 *
 * Extend: another architecture's loader is another function here over ev_keras_h5_parse.
 */
#include "core/model.h"
#include "core/status.h"
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
    ev_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(bytes);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    ev_status st = ev_keras_h5_parse(bytes, size, path, opts, &m->graph);
    if (st == EV_OK) {
        st = ev_graph_validate(&m->graph);
        if (st != EV_OK) ev_graph_release(&m->graph);
    }
    if (st != EV_OK) {
        free(m);
        return st;
    }
    *out = m;
    return EV_OK;
}
