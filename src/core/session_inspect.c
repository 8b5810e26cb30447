/*
 * session_inspect.c - reading tensors of a session after a run beyond its outputs
 * (ev_session_op_input), for post-processing that consumes what an op read: PoseNet's single
 * decoder on a model whose heads feed a PosenetDecoderOp. Kept apart from session.c, which
 * prepares and runs; this file only reads.
 *
 * Extend: another read-only accessor of a run (by tensor name, say) goes here, with the same
 * bounds checks and the same caveat about the memory plan reusing buffers.
 */
#include "core/session.h"

#include "core/status.h"

ev_status ev_session_op_input(ev_session *s, int op_index, int input, const void **data,
                              ev_tensor_info *info) {
    if (!s) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_session_op_input: NULL session");
    const ev_graph *g = s->graph;
    if (op_index < 0 || op_index >= g->num_ops)
        return EV_FAIL(EV_ERR_INVALID_ARG, "op %d does not exist (model has %d)", op_index,
                       g->num_ops);
    const ev_op *op = &g->ops[op_index];
    if (input < 0 || input >= op->num_inputs || op->inputs[input] < 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "op %d (%s) has no input %d (it has %d)", op_index,
                       op->name ? op->name : "?", input, op->num_inputs);
    int t = op->inputs[input];
    if (data) *data = s->data[t];
    if (info) ev_tensor_describe(&g->tensors[t], info);
    return EV_OK;
}
