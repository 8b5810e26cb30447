/*
 * fusion.c - which ops of a graph the cpu backend computes in a predecessor's epilogue
 * (core/backend.h, "Fusion"): found once per session by the backend's init.
 *
 * Today one pattern: a float32 CONV_2D without activation whose output is read only by one
 * ADD, once, with no broadcasting (Keras ResNet50's conv -> BN -> add -> ReLU, BN folded): the
 * GEMM epilogue adds the ADD's other operand (the residual) and applies the ADD's activation,
 * writing the ADD's output. Safe only when the residual exists before the convolution runs: a
 * constant, a graph input, or the output of an earlier op.
 *
 * Extend: another pattern is another loop below filling `partner` (op -> the later op it
 * absorbs), and the absorbing kernel's support for ctx->fused.
 */
#include "backends/cpu/cpu.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

static int same_shape(const ev_tensor *a, const ev_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

ev_status ev_cpu_fusion_find(const ev_graph *g, int **partner_out) {
    *partner_out = NULL;
    int nt = g->num_tensors, no = g->num_ops;
    int *writer = malloc(sizeof(int) * ((size_t)nt + 1));
    int *readers = calloc((size_t)nt + 1, sizeof(int));
    int *reader = malloc(sizeof(int) * ((size_t)nt + 1));
    int *partner = calloc((size_t)no + 1, sizeof(int));
    if (!writer || !readers || !reader || !partner) {
        free(writer), free(readers), free(reader), free(partner);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    for (int t = 0; t < nt; t++) writer[t] = -1, reader[t] = -1;
    for (int o = 0; o < no; o++) {
        const ev_op *op = &g->ops[o];
        for (int k = 0; k < op->num_outputs; k++)
            if (op->outputs[k] >= 0 && op->outputs[k] < nt && writer[op->outputs[k]] < 0)
                writer[op->outputs[k]] = o;
        for (int k = 0; k < op->num_inputs; k++) {
            int t = op->inputs[k];
            if (t < 0 || t >= nt) continue;
            readers[t]++;
            reader[t] = o;
        }
    }
    for (int t = 0; t < g->num_outputs; t++)
        if (g->outputs[t] >= 0 && g->outputs[t] < nt) readers[g->outputs[t]] += 2; /* kept */
    for (int i = 0; i < no; i++) {
        const ev_op *op = &g->ops[i];
        if (op->type != EV_OP_CONV_2D || op->num_outputs < 1 ||
            op->p.conv.activation != EV_ACT_NONE)
            continue;
        const ev_tensor *in = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
        if (!in || !out || in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32) continue;
        int t = op->outputs[0];
        if (readers[t] != 1) continue;
        int j = reader[t];
        const ev_op *add = &g->ops[j];
        if (j <= i || add->type != EV_OP_ADD || add->num_inputs != 2 || add->num_outputs < 1)
            continue;
        int r = add->inputs[0] == t ? add->inputs[1] : add->inputs[0];
        const ev_tensor *rt = r >= 0 && r < nt ? &g->tensors[r] : NULL;
        const ev_tensor *ot = ev_op_output(g, add, 0);
        if (!rt || !ot || r == t || rt->dtype != EV_DTYPE_F32 || ot->dtype != EV_DTYPE_F32 ||
            !same_shape(rt, out) || !same_shape(ot, out))
            continue;
        if (!rt->data && writer[r] >= i) continue; /* the residual must exist before op i */
        partner[i] = j;
    }
    free(writer), free(readers), free(reader);
    *partner_out = partner;
    return EV_OK;
}
