/*
 * tf_load.c - ev_model_load_with_input: loading a model at a chosen image input size.
 *
 * TensorFlow frozen graphs (formats/tf_graphdef.c) may leave the input height and width free;
 * they get the size here and shapes are propagated at load time. Every other format has a fixed
 * input, which must then be the size asked for. To give another free-size format a size, parse
 * it here with the size and validate the graph the way core/model.c does.
 */
#include "core/model.h"
#include "core/status.h"
#include "formats/tf_graphdef.h"
#include "formats/tflite.h"

#include <stdlib.h>

ev_status ev_model_load_with_input(const char *path, int height, int width, ev_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load_with_input: out is NULL");
    *out = NULL;
    if (height <= 0 || width <= 0 || height > 65536 || width > 65536)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: input size %dx%d (height x width) must be positive",
                       path ? path : "(null)", height, width);
    uint8_t *bytes;
    size_t size;
    EV_TRY(ev_read_file(path, &bytes, &size));
    if (size > 0 && !ev_tflite_identify(bytes, size) && ev_tf_graphdef_identify(bytes, size, path)) {
        ev_model *m = calloc(1, sizeof *m);
        if (!m) {
            free(bytes);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        ev_status st = ev_tf_graphdef_parse(bytes, size, path, height, width, &m->graph);
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
    free(bytes);
    ev_model *m;
    EV_TRY(ev_model_load(path, &m));
    const ev_graph *g = &m->graph;
    const ev_tensor *in = g->num_inputs > 0 ? &g->tensors[g->inputs[0]] : NULL;
    if (!in || in->ndim != 4 || in->dims[1] != height || in->dims[2] != width) {
        char sh[64] = "none";
        if (in) ev_shape_str(in, sh, sizeof sh);
        ev_model_free(m);
        return EV_FAIL(EV_ERR_SHAPE, "%s: the model's input is fixed at %s; %dx%d (height x "
                       "width) was asked for", path, sh, height, width);
    }
    *out = m;
    return EV_OK;
}
