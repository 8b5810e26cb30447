/*
 * model.c - ev_model: a model file read into the graph IR, whatever its format; the accessors of
 * the public API.
 *
 * Loading (ev_model_load*) is the format table's dispatch in src/formats/formats.c: core knows
 * no format. To add a format, see src/formats/formats.h.
 */
#include "core/model.h"

#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ev_status ev_model_adopt(ev_graph *graph, ev_status parsed, ev_model **out) {
    *out = NULL;
    if (parsed != EV_OK) return parsed;
    ev_status st = ev_graph_validate(graph);
    ev_model *m = st == EV_OK ? calloc(1, sizeof *m) : NULL;
    if (st == EV_OK && !m) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (st != EV_OK) {
        ev_graph_release(graph);
        return st;
    }
    m->graph = *graph;
    memset(graph, 0, sizeof *graph);
    *out = m;
    return EV_OK;
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
