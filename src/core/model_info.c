/*
 * model_info.c - what a model holds, op by op, for `edgevision inspect`, the bench profile and
 * tests: the tensors an op reads and writes, its multiply-accumulates (MACs) and parameters
 * (ev_model_op_info, ev_model_macs), and which kernel each compiled backend would run for it
 * (ev_backend_kernels, which asks the backend object exactly as a session does, op by op, so an
 * unsupported op is reported with its reason instead of stopping at the first one).
 *
 * MAC counting (one multiply-accumulate = one MAC; the batch dimension is included):
 *   CONV_2D            out_elems * k_h * k_w * in_c       (= out_h*out_w*out_c*k_h*k_w*in_c)
 *   DEPTHWISE_CONV_2D  out_elems * k_h * k_w              (in_c / groups = 1 per output channel)
 *   FULLY_CONNECTED    out_elems * in_features            (weights [out, in])
 *   every other op     0 (elementwise, pooling, reshapes, custom ops are not counted as MACs)
 * Parameters: the elements of an op's constant inputs (weights, biases, constant operands),
 * except the int32/int64 index-like constants of ops other than conv/depthwise/FC (shapes,
 * axes, paddings), which are not learned.
 *
 * Extend: an op with MACs (say BATCH_MATMUL or TRANSPOSE_CONV) is one case in op_macs().
 */
#include "core/backend.h"
#include "core/model.h"
#include "core/status.h"

#include <stdio.h>
#include <string.h>

static int64_t op_macs(const ev_graph *g, const ev_op *op) {
    const ev_tensor *out = ev_op_output(g, op, 0);
    const ev_tensor *w = ev_op_input(g, op, 1);
    if (!out || !w) return 0;
    int64_t oe = (int64_t)ev_tensor_elems(out);
    switch (op->type) {
    case EV_OP_CONV_2D: /* filter [out_c, k_h, k_w, in_c] */
        if (w->ndim != 4) return 0;
        return oe * w->dims[1] * w->dims[2] * w->dims[3];
    case EV_OP_DEPTHWISE_CONV_2D: /* filter [1, k_h, k_w, out_c] */
        if (w->ndim != 4) return 0;
        return oe * w->dims[1] * w->dims[2];
    case EV_OP_FULLY_CONNECTED: /* weights [out, in] */
        if (w->ndim < 1) return 0;
        return oe * w->dims[w->ndim - 1];
    case EV_OP_CONV_TRANSPOSE: { /* filter [in_c, k_h, k_w, out_c / group]: each input value
                                    meets k_h * k_w * out_c / group weights */
        const ev_tensor *x = ev_op_input(g, op, 0);
        if (w->ndim != 4 || !x) return 0;
        return (int64_t)ev_tensor_elems(x) * w->dims[1] * w->dims[2] * w->dims[3];
    }
    case EV_OP_CONV_ND: { /* ONNX's filter [out_c, in_c / group, k...] or, transposed,
                             [in_c, out_c / group, k...] */
        const ev_tensor *x = ev_op_input(g, op, 0);
        if (w->ndim < 3 || !x) return 0;
        int64_t k = w->dims[1];
        for (int i = 2; i < w->ndim; i++) k *= w->dims[i];
        return (op->p.conv_nd.transposed ? (int64_t)ev_tensor_elems(x) : oe) * k;
    }
    default: return 0;
    }
}

static int64_t op_params(const ev_graph *g, const ev_op *op) {
    int learned_ints = op->type == EV_OP_CONV_2D || op->type == EV_OP_DEPTHWISE_CONV_2D ||
                       op->type == EV_OP_FULLY_CONNECTED;
    int64_t n = 0;
    for (int i = 0; i < op->num_inputs; i++) {
        const ev_tensor *t = ev_op_input(g, op, i);
        if (!t || !t->data) continue;
        if (!learned_ints && (t->dtype == EV_DTYPE_I32 || t->dtype == EV_DTYPE_I64)) continue;
        n += (int64_t)ev_tensor_elems(t);
    }
    return n;
}

int ev_model_num_tensors(const ev_model *m) { return m ? m->graph.num_tensors : 0; }

ev_status ev_model_tensor_info(const ev_model *m, int t, ev_tensor_info *info, int *constant) {
    if (!m || !info || t < 0 || t >= m->graph.num_tensors)
        return EV_FAIL(EV_ERR_INVALID_ARG, "tensor %d does not exist", t);
    ev_tensor_describe(&m->graph.tensors[t], info);
    if (constant) *constant = m->graph.tensors[t].data != NULL;
    return EV_OK;
}

ev_status ev_model_op_info(const ev_model *m, int index, ev_op_info *info) {
    if (!m || !info) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_op_info: NULL argument");
    const ev_graph *g = &m->graph;
    if (index < 0 || index >= g->num_ops)
        return EV_FAIL(EV_ERR_INVALID_ARG, "op %d does not exist (model has %d)", index,
                       g->num_ops);
    const ev_op *op = &g->ops[index];
    memset(info, 0, sizeof *info);
    info->type = op->name ? op->name : "?";
    info->num_inputs = op->num_inputs;
    info->inputs = op->inputs;
    info->num_outputs = op->num_outputs;
    info->outputs = op->outputs;
    info->macs = op_macs(g, op);
    info->params = op_params(g, op);
    return EV_OK;
}

int64_t ev_model_macs(const ev_model *m) {
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->graph.num_ops; i++) n += op_macs(&m->graph, &m->graph.ops[i]);
    return n;
}

ev_status ev_backend_kernels(const ev_model *m, const ev_session_options *opts,
                             ev_kernel_report *ops, int n) {
    if (!m || !ops) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_backend_kernels: NULL argument");
    const ev_graph *g = &m->graph;
    if (n < g->num_ops)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_backend_kernels: room for %d ops, the model has %d",
                       n, g->num_ops);
    const char *name = opts && opts->backend ? opts->backend : "ref";
    if (strcmp(name, "auto") == 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_backend_kernels: name a backend, not 'auto'");
    const ev_backend *be;
    EV_TRY(ev_backend_get(name, &be));
    void *ctx = NULL;
    if (be->init) {
        ev_backend_options bo = {1, opts ? opts->isa : NULL, NULL, opts ? opts->float_modes : 0};
        ev_status st = be->init(g, &bo, &ctx);
        if (st != EV_OK) {
            ev_error_prefix("backend %s cannot start", be->name);
            return st;
        }
    }
    char ref_name[48];
    snprintf(ref_name, sizeof ref_name, "%s (reference kernel)", be->name);
    for (int i = 0; i < g->num_ops; i++) {
        const ev_op *op = &g->ops[i];
        ev_kernel_report *r = &ops[i];
        memset(r, 0, sizeof *r);
        ev_kernel_choice ch = {0};
        const char *bname = be->name;
        if (op->type == EV_OP_CUSTOM) {
            ch.kernel = ev_custom_kernel(op->custom_code);
            if (!ch.kernel) ch.why = "custom op with no implementation";
            bname = "host";
        } else {
            be->supports(ctx, g, i, &ch);
            if (ch.reference) bname = ref_name;
        }
        if (!ch.kernel) {
            snprintf(r->why, sizeof r->why, "%s", ch.why ? ch.why : "no kernel for this op");
            continue;
        }
        int absorbs = ch.absorbs > i && ch.absorbs < g->num_ops ? ch.absorbs : 0;
        ev_kernel_ctx kc = {g, i, NULL, ctx, bname, absorbs, 0};
        void *state = NULL;
        ev_status st = ch.kernel->prepare(&kc, &state);
        if (st != EV_OK) {
            snprintf(r->why, sizeof r->why, "%s", ev_last_error());
            ev_clear_error();
            continue;
        }
        if (state && ch.kernel->release) ch.kernel->release(state);
        r->supported = 1;
        r->reference = ch.reference;
        const char *kname = ch.name ? ch.name : ch.kernel->name;
        if (absorbs)
            snprintf(r->kernel, sizeof r->kernel, "%s + op %d %s", kname, absorbs,
                     g->ops[absorbs].name);
        else
            snprintf(r->kernel, sizeof r->kernel, "%s", kname);
    }
    if (ctx && be->free) be->free(ctx);
    return EV_OK;
}
