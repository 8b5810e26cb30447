/*
 * fusion.c - which ops of a graph the cpu backend computes in a predecessor's epilogue
 * (core/backend.h, "Fusion"): found once per session by the backend's init.
 *
 * Two patterns:
 *  - depthwise -> 1x1 (MobileNet's pairs; dwconv_f32.c): a float32 DEPTHWISE_CONV_2D with depth
 *    multiplier 1 whose output is read only by one CONV_2D, once, as its input, that conv being
 *    1x1, stride 1, float32 with constant weights (and bias); the depthwise output is not a
 *    graph output. The depthwise computes a band of its output rows into per-thread scratch
 *    and multiplies it at once by the 1x1's packed weights, writing the 1x1's output.
 *  - conv -> residual ADD (conv_f32.c): a float32 CONV_2D without activation whose output is
 *    read only by one ADD, once, with no broadcasting (Keras ResNet50's conv -> BN -> add ->
 *    ReLU, BN folded): the GEMM epilogue adds the ADD's other operand (the residual) and applies
 *    the ADD's activation, writing the ADD's output. Safe only when the residual exists before
 *    the convolution runs: a constant, a graph input, or the output of an earlier op.
 *  - PAD -> conv (pad_fold.c): a float32 PAD of dimensions 1 and 2 only (NHWC height and width,
 *    by constant int32 pads >= 0) whose output is read only by one CONV_2D or
 *    DEPTHWISE_CONV_2D, once, as its input, and is not a graph output: the conv reads the PAD's
 *    input with the pads as its own. A conv that absorbs an ADD is not taken (that ADD may be
 *    named by a second conv too); a depthwise that absorbs its 1x1 is: the chain PAD ->
 *    depthwise -> 1x1 runs at the PAD (the session plans the 1x1's output from there). The same
 *    PAD feeding one float32 MAX_POOL_2D of VALID padding (pool_f32.c takes the padded taps as
 *    zeros: Keras ResNet50's ZeroPadding2D -> MaxPooling2D).
 * An op absorbs at most one op and is absorbed by at most one. Chains: a 1x1 conv taken by a
 * depthwise may take its residual ADD (MobileNetV2's dw -> project -> ADD: dwconv_f32.c runs the
 * residual epilogue; the residual must exist before the depthwise), and a PAD may take a
 * depthwise that takes its 1x1, but not one whose 1x1 takes an ADD.
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

/* Constant float32 data (or an absent optional input, t < 0). */
static int const_f32(const ev_graph *g, int t, int optional) {
    if (t < 0) return optional;
    return t < g->num_tensors && g->tensors[t].dtype == EV_DTYPE_F32 && g->tensors[t].data;
}

/* The 1x1 conv that depthwise op i's output alone feeds (the first pattern), or -1. */
static int dw_pointwise(const ev_graph *g, int i, const int *readers, const int *reader) {
    const ev_op *op = &g->ops[i];
    if (op->type != EV_OP_DEPTHWISE_CONV_2D || op->num_inputs < 2 || op->num_outputs < 1)
        return -1;
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!in || !w || !out || in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32 ||
        in->ndim != 4 || w->ndim != 4 || out->ndim != 4 || op->p.conv.depth_multiplier > 1 ||
        w->dims[3] != in->dims[3] || out->dims[3] != in->dims[3])
        return -1;
    int t = op->outputs[0];
    if (readers[t] != 1) return -1; /* read once, by one op, and not a graph output */
    int j = reader[t];
    const ev_op *pw = &g->ops[j];
    if (j <= i || pw->type != EV_OP_CONV_2D || pw->num_inputs < 2 || pw->num_outputs < 1 ||
        pw->inputs[0] != t || pw->p.conv.stride_h != 1 || pw->p.conv.stride_w != 1)
        return -1;
    const ev_tensor *pww = ev_op_input(g, pw, 1), *pwo = ev_op_output(g, pw, 0);
    if (!pww || !pwo || !const_f32(g, pw->inputs[1], 0) ||
        !const_f32(g, pw->num_inputs > 2 ? pw->inputs[2] : -1, 1) || pww->ndim != 4 ||
        pww->dims[1] != 1 || pww->dims[2] != 1 || pww->dims[3] != out->dims[3] ||
        pwo->dtype != EV_DTYPE_F32 || pwo->ndim != 4 || pwo->dims[0] != out->dims[0] ||
        pwo->dims[1] != out->dims[1] || pwo->dims[2] != out->dims[2] ||
        pwo->dims[3] != pww->dims[0])
        return -1;
    return j;
}

/* The conv (or VALID float max pool) that PAD op i's output alone feeds, padded in height and
 * width only (the third pattern), or -1. */
static int pad_conv(const ev_graph *g, int i, const int *readers, const int *reader) {
    const ev_op *op = &g->ops[i];
    if (op->type != EV_OP_PAD || op->num_inputs != 2 || op->num_outputs != 1) return -1;
    const ev_tensor *in = ev_op_input(g, op, 0), *p = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!in || !p || !out || in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32 ||
        in->ndim != 4 || out->ndim != 4 || !p->data || p->dtype != EV_DTYPE_I32 ||
        p->ndim != 2 || p->dims[0] != 4 || p->dims[1] != 2)
        return -1;
    const int32_t *v = p->data;
    if (v[0] || v[1] || v[6] || v[7] || v[2] < 0 || v[3] < 0 || v[4] < 0 || v[5] < 0 ||
        out->dims[0] != in->dims[0] || out->dims[3] != in->dims[3] ||
        (int64_t)in->dims[1] + v[2] + v[3] != out->dims[1] ||
        (int64_t)in->dims[2] + v[4] + v[5] != out->dims[2])
        return -1;
    int t = op->outputs[0];
    if (readers[t] != 1) return -1; /* read once, by one op, and not a graph output */
    int j = reader[t];
    const ev_op *c = &g->ops[j];
    if (j > i && c->type == EV_OP_MAX_POOL_2D && c->num_inputs == 1 && c->inputs[0] == t &&
        c->p.pool.padding == EV_PAD_VALID)
        return j;
    if (j <= i || (c->type != EV_OP_CONV_2D && c->type != EV_OP_DEPTHWISE_CONV_2D) ||
        c->num_inputs < 2 || c->inputs[0] != t)
        return -1;
    return j;
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
    char *absorbed = calloc((size_t)no + 1, 1);
    int *head = malloc(sizeof(int) * ((size_t)no + 1)); /* the op that absorbs op j, or -1 */
    if (!absorbed || !head) {
        free(writer), free(readers), free(reader), free(partner), free(absorbed), free(head);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    for (int o = 0; o < no; o++) head[o] = -1;
    for (int i = 0; i < no; i++) { /* depthwise -> 1x1 */
        int j = dw_pointwise(g, i, readers, reader);
        if (j > i && !absorbed[j]) partner[i] = j, absorbed[j] = 1, head[j] = i;
    }
    for (int i = 0; i < no; i++) { /* conv -> residual ADD (a depthwise's 1x1 too) */
        const ev_op *op = &g->ops[i];
        if ((absorbed[i] && (head[i] < 0 || g->ops[head[i]].type != EV_OP_DEPTHWISE_CONV_2D)) ||
            op->type != EV_OP_CONV_2D || op->num_outputs < 1 ||
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
        const int first = head[i] >= 0 ? head[i] : i; /* where the chain runs */
        if (!rt->data && writer[r] >= first) continue; /* the residual must exist by then */
        if (absorbed[j]) continue;
        partner[i] = j, absorbed[j] = 1;
    }
    for (int i = 0; i < no; i++) { /* PAD -> conv */
        int j = pad_conv(g, i, readers, reader);
        if (j > i && !absorbed[j] &&
            (!partner[j] || (g->ops[j].type == EV_OP_DEPTHWISE_CONV_2D && !partner[partner[j]])))
            partner[i] = j, absorbed[j] = 1;
    }
    free(writer), free(readers), free(reader), free(absorbed), free(head);
    *partner_out = partner;
    return EV_OK;
}
