/*
 * model.c - ev_model: a model file read into the graph IR, whatever its format.
 *
 * Formats are recognised by content. To add one, give it a reader in src/formats/ that fills an
 * ev_graph and dispatch to it in model_from_bytes().
 */
#include "core/model.h"

#include "core/status.h"
#include "formats/tflite.h"
#include "formats/tf_graphdef.h"
#include "formats/keras_h5.h"
#include "formats/keras_resnet50.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static ev_status model_from_bytes(uint8_t *bytes, size_t size, const char *what, ev_model **out) {
    ev_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(bytes);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    ev_status st;
    if (size == 0) {
        free(bytes);
        st = EV_FAIL(EV_ERR_FORMAT, "%s: empty file", what);
    } else if (ev_tflite_identify(bytes, size)) {
        st = ev_tflite_parse(bytes, size, what, &m->graph);
    } else if (ev_keras_h5_identify(bytes, size)) { /* HDF5: Keras weights (ResNet50) */
        st = ev_keras_h5_parse(bytes, size, what, NULL, &m->graph);
    } else if (ev_tf_graphdef_identify(bytes, size, what)) { /* no magic: .pb or parses */
        st = ev_tf_graphdef_parse(bytes, size, what, 0, 0, &m->graph);
    } else {
        free(bytes);
        st = EV_FAIL(EV_ERR_FORMAT, "%s: not a model file this build reads (expected a TFLite "
                     "flatbuffer with the TFL3 identifier, or Keras HDF5 weights)", what);
    }
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

ev_status ev_model_load(const char *path, ev_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load: out is NULL");
    *out = NULL;
    uint8_t *bytes;
    size_t size;
    EV_TRY(ev_read_file(path, &bytes, &size));
    return model_from_bytes(bytes, size, path, out);
}

ev_status ev_model_load_memory(const void *data, size_t size, const char *what, ev_model **out) {
    if (!out || (!data && size)) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load_memory: NULL");
    *out = NULL;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (size) memcpy(copy, data, size);
    return model_from_bytes(copy, size, what ? what : "<memory>", out);
}

void ev_model_free(ev_model *model) {
    if (!model) return;
    ev_graph_release(&model->graph);
    free(model);
}

int ev_model_num_inputs(const ev_model *m) { return m ? m->graph.num_inputs : 0; }
int ev_model_num_outputs(const ev_model *m) { return m ? m->graph.num_outputs : 0; }
int ev_model_num_ops(const ev_model *m) { return m ? m->graph.num_ops : 0; }
ev_preprocess ev_model_preprocess(const ev_model *m) {
    return m ? m->graph.preprocess : EV_PREPROCESS_DEFAULT;
}

ev_status ev_model_input_info(const ev_model *m, int i, ev_tensor_info *info) {
    if (!m || !info || i < 0 || i >= m->graph.num_inputs)
        return EV_FAIL(EV_ERR_INVALID_ARG, "model input %d does not exist", i);
    ev_tensor_describe(&m->graph.tensors[m->graph.inputs[i]], info);
    return EV_OK;
}

ev_status ev_model_output_info(const ev_model *m, int i, ev_tensor_info *info) {
    if (!m || !info || i < 0 || i >= m->graph.num_outputs)
        return EV_FAIL(EV_ERR_INVALID_ARG, "model output %d does not exist", i);
    ev_tensor_describe(&m->graph.tensors[m->graph.outputs[i]], info);
    return EV_OK;
}

const char *ev_model_op_name(const ev_model *m, int i) {
    if (!m || i < 0 || i >= m->graph.num_ops) return NULL;
    return m->graph.ops[i].name;
}
