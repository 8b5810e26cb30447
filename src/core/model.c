/*
 * model.c - ev_model: a model file read into the graph IR, whatever its format; the accessors of
 * the public API.
 *
 * Loading (ev_model_load*) is the format table's dispatch in src/formats/formats.c: core knows
 * no format. To add a format, see src/formats/formats.h.
 *
 * Output shapes resolved at load. TFLite sizes some tensors only in an op's Prepare
 * (ResizeTensor): the test_data PoseNet builds leave the PosenetDecoderOp's four outputs without
 * a shape in the file. Here that happens once, when the model adopts its graph (resolve_shapes
 * below, through the custom op's shape function in backends/custom_ops.c), not per session:
 *  - the shapes are a property of the file and its options, not of a backend, so every session
 *    (any backend, planned by ev_plan_memory after prepare) sees the same sized tensors;
 *  - the graph stays const in sessions, so no session needs a private copy of the tensor table;
 *  - the public accessors (ev_model_output_info, `inspect`) report the real shapes (1x10x17x2),
 *    not the scalar the file declares.
 * Only outputs the file left unsized (rank 0) are touched, so every model whose shapes are
 * declared loads exactly as before.
 */
#include "core/model.h"

#include "core/backend.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs the shape function of every custom op that has one (ev_custom_shapes), in graph order,
 * so an op's inputs are sized before it is. */
static ev_status resolve_shapes(ev_graph *g) {
    for (int i = 0; i < g->num_ops; i++) {
        const ev_op *op = &g->ops[i];
        if (op->type != EV_OP_CUSTOM) continue;
        ev_custom_shape_fn fn = ev_custom_shapes(op->custom_code);
        if (fn) EV_TRY(fn(g, i));
    }
    return EV_OK;
}

ev_status ev_model_adopt(ev_graph *graph, ev_status parsed, ev_model **out) {
    *out = NULL;
    if (parsed != EV_OK) return parsed;
    ev_status st = ev_graph_validate(graph);
    if (st == EV_OK) st = resolve_shapes(graph);
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
