/*
 * quantize.c - ev_quantize_model: a float32 graph + calibrated ranges -> an int8 graph with the
 * same ops, tensors and names (TFLite's int8 post-training scheme, posenet.md section 3).
 *
 *   activations  int8 asymmetric, from the calibrated [min, max] widened to include 0; except
 *                LOGISTIC / SOFTMAX outputs (1/256, -128, TFLite's rule) and ops that only move
 *                or clamp values (pools, PAD, RESHAPE, standalone RELU/RELU6), whose outputs
 *                keep their input's parameters as the int8 kernels require
 *   weights      of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED: int8 symmetric, one scale per
 *                output channel (axis 0, or 3 for depthwise) or per tensor
 *   biases       int32, scale = input scale x weight scale of the channel, zero point 0
 *   other float constants (an ADD operand): int8 asymmetric from their own min/max
 *   int32 constants (MEAN axes, PAD paddings) are copied.
 * To support another op: say how its output is quantized in out_params() and, if it has
 * constant float inputs with a special role, in const_role().
 */
#include "core/graph_builder.h"
#include "core/model.h"
#include "core/status.h"
#include "quant/quant_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ROLE_NONE = 0, ROLE_WEIGHTS, ROLE_BIAS, ROLE_OPERAND };

void ev_quantize_options_init(ev_quantize_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "ref";
    o->threads = 1;
    o->per_channel = 1;
}

typedef struct qctx {
    const ev_graph *g;
    const ev_calib *cal;
    float *scale;   /* per tensor (activations, operands, per-tensor weights)              */
    int32_t *zp;
    int *has;       /* parameters decided                                                   */
    int *role;      /* constants: ROLE_*                                                    */
    int *role_op;   /* the op that gives the role                                           */
} qctx;

static int moves_values(ev_op_type t) {
    return t == EV_OP_MAX_POOL_2D || t == EV_OP_AVERAGE_POOL_2D || t == EV_OP_PAD ||
           t == EV_OP_RESHAPE || t == EV_OP_RELU || t == EV_OP_RELU6;
}

/* Decides the int8 parameters of op i's output. */
static ev_status out_params(qctx *q, int i) {
    const ev_graph *g = q->g;
    const ev_op *op = &g->ops[i];
    if (op->num_outputs != 1 || op->num_inputs < 1)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d (%s): quantization needs one output",
                       g->source, i, op->name);
    int o = op->outputs[0], in = op->inputs[0];
    switch (op->type) {
    case EV_OP_CONV_2D:
    case EV_OP_DEPTHWISE_CONV_2D:
    case EV_OP_FULLY_CONNECTED:
    case EV_OP_ADD:
    case EV_OP_MEAN:
    case EV_OP_CONCATENATION: break;
    case EV_OP_LOGISTIC:
    case EV_OP_SOFTMAX:
        q->scale[o] = 1.0f / 256.0f;
        q->zp[o] = -128;
        q->has[o] = 1;
        return EV_OK;
    default:
        if (moves_values(op->type)) {
            if (in < 0 || !q->has[in])
                return EV_FAIL(EV_ERR_INTERNAL, "%s: op %d (%s): input not quantized yet",
                               g->source, i, op->name);
            q->scale[o] = q->scale[in];
            q->zp[o] = q->zp[in];
            q->has[o] = 1;
            return EV_OK;
        }
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d (%s) cannot be quantized by this build "
                       "(supported: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MEAN, "
                       "CONCATENATION, LOGISTIC, SOFTMAX, pools, PAD, RESHAPE, RELU, RELU6)",
                       g->source, i, op->name);
    }
    if (!q->cal->seen[o])
        return EV_FAIL(EV_ERR_INTERNAL, "%s: op %d (%s): output '%s' was never observed during "
                       "calibration", g->source, i, op->name, g->tensors[o].name);
    ev_quant_params_int8(q->cal->min[o], q->cal->max[o], &q->scale[o], &q->zp[o]);
    q->has[o] = 1;
    return EV_OK;
}

/* Marks the role of each constant float input of op i. */
static ev_status const_role(qctx *q, int i) {
    const ev_graph *g = q->g;
    const ev_op *op = &g->ops[i];
    int weighted = op->type == EV_OP_CONV_2D || op->type == EV_OP_DEPTHWISE_CONV_2D ||
                   op->type == EV_OP_FULLY_CONNECTED;
    for (int j = 0; j < op->num_inputs; j++) {
        int t = op->inputs[j];
        if (t < 0 || !g->tensors[t].data || g->tensors[t].dtype != EV_DTYPE_F32) continue;
        int role = weighted && j == 1 ? ROLE_WEIGHTS : weighted && j == 2 ? ROLE_BIAS
                                                                          : ROLE_OPERAND;
        if (q->role[t] && (q->role[t] != role || role != ROLE_OPERAND))
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: constant '%s' is used by op %d (%s) and op %d "
                           "in different roles; quantization needs one", g->source,
                           g->tensors[t].name, i, op->name, q->role_op[t]);
        q->role[t] = role;
        q->role_op[t] = i;
        if (role == ROLE_OPERAND) {
            const float *f = g->tensors[t].data;
            size_t n = ev_tensor_elems(&g->tensors[t]);
            float mn = 0, mx = 0;
            for (size_t k = 0; k < n; k++) {
                if (f[k] < mn) mn = f[k];
                if (f[k] > mx) mx = f[k];
            }
            ev_quant_params_int8(mn, mx, &q->scale[t], &q->zp[t]);
            q->has[t] = 1;
        }
    }
    return EV_OK;
}

static int8_t q8(double v) {
    long r = lround(v);
    return (int8_t)(r < -127 ? -127 : r > 127 ? 127 : r);
}

/* Weights of op `oi`: symmetric int8, per output channel or per tensor. A channel's scale is
 * raised when its bias would not fit in 2^30 steps of input scale x weight scale (tiny weights
 * under a large bias), so that the int32 bias and the kernels' zero-point folding cannot
 * overflow. */
static int add_weights(gb *b, const ev_graph *g, int t, int oi, int per_channel, float in_scale,
                       float **scales_out, int *nscales) {
    const ev_tensor *w = &g->tensors[t];
    const float *f = w->data;
    size_t n = ev_tensor_elems(w);
    int dw = g->ops[oi].type == EV_OP_DEPTHWISE_CONV_2D;
    int axis = dw ? w->ndim - 1 : 0;
    int nc = per_channel ? w->dims[axis] : 1;
    size_t inner = 1; /* elements between consecutive channel indices along `axis` */
    for (int d = axis + 1; d < w->ndim; d++) inner *= (size_t)w->dims[d];
    float *sc = calloc((size_t)nc, sizeof(float));
    int8_t *qd = malloc(n ? n : 1);
    if (!sc || !qd) {
        free(sc), free(qd);
        gb_fail_(b, "out of memory");
        return -1;
    }
    size_t dimc = (size_t)w->dims[axis];
    for (size_t k = 0; k < n; k++) {
        int c = per_channel ? (int)((k / inner) % dimc) : 0;
        float a = fabsf(f[k]);
        if (a > sc[c]) sc[c] = a;
    }
    for (int c = 0; c < nc; c++) sc[c] = sc[c] > 0 ? sc[c] / 127.0f : 1.0f / 127.0f;
    const ev_op *op = &g->ops[oi];
    const ev_tensor *bt = op->num_inputs > 2 && op->inputs[2] >= 0 ? &g->tensors[op->inputs[2]]
                                                                   : NULL;
    if (bt && bt->data && bt->dtype == EV_DTYPE_F32 && (size_t)ev_tensor_elems(bt) == dimc)
        for (size_t k = 0; k < dimc; k++) {
            int c = per_channel ? (int)k : 0;
            double need = fabs((double)((const float *)bt->data)[k]) /
                          ((double)in_scale * 1073741824.0);
            if ((double)sc[c] < need) sc[c] = (float)(need * 1.0001);
        }
    for (size_t k = 0; k < n; k++) {
        int c = per_channel ? (int)((k / inner) % dimc) : 0;
        qd[k] = q8((double)f[k] / (double)sc[c]);
    }
    int r = gb_tensor(b, w->name, EV_DTYPE_I8, w->ndim, w->dims, qd, n, nc, sc, NULL,
                      per_channel ? axis : 0);
    free(qd);
    *scales_out = sc;
    *nscales = nc;
    return r;
}

static int add_bias(gb *b, const ev_graph *g, int t, float in_scale, const float *wsc, int nws) {
    const ev_tensor *bt = &g->tensors[t];
    const float *f = bt->data;
    size_t n = ev_tensor_elems(bt);
    int32_t *qd = malloc(sizeof(int32_t) * (n ? n : 1));
    float *sc = malloc(sizeof(float) * (n ? n : 1));
    if (!qd || !sc) {
        free(qd), free(sc);
        gb_fail_(b, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        double s = (double)in_scale * (double)wsc[nws > 1 ? k : 0];
        double v = round((double)f[k] / s);
        qd[k] = (int32_t)(v < -2147483647.0 ? -2147483647.0 : v > 2147483647.0 ? 2147483647.0 : v);
        sc[k] = (float)s;
    }
    int nq = nws > 1 ? (int)n : 1;
    int r = gb_tensor(b, bt->name, EV_DTYPE_I32, bt->ndim, bt->dims, qd, sizeof(int32_t) * n, nq,
                      sc, NULL, 0);
    free(qd), free(sc);
    return r;
}

static ev_status build(qctx *q, const ev_quantize_options *o, ev_model **out) {
    const ev_graph *g = q->g;
    for (int j = 0; j < g->num_inputs; j++) {
        int t = g->inputs[j];
        if (!q->cal->seen[t])
            return EV_FAIL(EV_ERR_INTERNAL, "%s: input '%s' not calibrated", g->source,
                           g->tensors[t].name);
        ev_quant_params_int8(q->cal->min[t], q->cal->max[t], &q->scale[t], &q->zp[t]);
        q->has[t] = 1;
    }
    for (int i = 0; i < g->num_ops; i++) {
        EV_TRY(const_role(q, i));
        EV_TRY(out_params(q, i));
    }
    gb b;
    gb_init(&b);
    free(b.g.source);
    size_t sl = strlen(g->source ? g->source : "model") + 16;
    b.g.source = malloc(sl);
    if (b.g.source) snprintf(b.g.source, sl, "%s (int8)", g->source ? g->source : "model");
    /* weight scales per op, needed by the biases: build weights first */
    int *map = malloc(sizeof(int) * (size_t)(g->num_tensors ? g->num_tensors : 1));
    float **wsc = calloc((size_t)(g->num_ops ? g->num_ops : 1), sizeof(float *));
    int *nwsc = calloc((size_t)(g->num_ops ? g->num_ops : 1), sizeof(int));
    ev_status st = EV_OK;
    if (!map || !wsc || !nwsc || !b.g.source) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int t = 0; t < g->num_tensors; t++) map[t] = -1;
    for (int t = 0; t < g->num_tensors; t++) {
        const ev_tensor *x = &g->tensors[t];
        if (x->data && q->role[t] == ROLE_WEIGHTS) {
            int oi = q->role_op[t];
            map[t] = add_weights(&b, g, t, oi, o->per_channel, q->scale[g->ops[oi].inputs[0]],
                                 &wsc[oi], &nwsc[oi]);
        }
    }
    for (int t = 0; t < g->num_tensors && !b.error; t++) {
        const ev_tensor *x = &g->tensors[t];
        if (map[t] >= 0) continue;
        if (x->data) {
            if (q->role[t] == ROLE_BIAS) {
                int oi = q->role_op[t];
                int in = g->ops[oi].inputs[0];
                if (!wsc[oi]) {
                    st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d has a bias but no constant "
                                 "weights", g->source, oi);
                    goto done;
                }
                map[t] = add_bias(&b, g, t, q->scale[in], wsc[oi], nwsc[oi]);
            } else if (q->role[t] == ROLE_OPERAND) {
                size_t n = ev_tensor_elems(x);
                int8_t *qd = malloc(n ? n : 1);
                if (!qd) {
                    st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                    goto done;
                }
                const float *f = x->data;
                for (size_t k = 0; k < n; k++) {
                    long r = lround((double)f[k] / q->scale[t]) + q->zp[t];
                    qd[k] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
                }
                map[t] = gb_tensor(&b, x->name, EV_DTYPE_I8, x->ndim, x->dims, qd, n, 1,
                                   &q->scale[t], &q->zp[t], 0);
                free(qd);
            } else { /* int32 axes / paddings, or an unused constant */
                map[t] = gb_tensor(&b, x->name, x->dtype, x->ndim, x->dims, x->data, x->bytes, 0,
                                   NULL, NULL, 0);
            }
        } else if (x->dtype == EV_DTYPE_F32) {
            if (!q->has[t]) { /* a tensor no op reads or writes */
                ev_quant_params_int8(0, 1, &q->scale[t], &q->zp[t]);
            }
            map[t] = gb_tensor(&b, x->name, EV_DTYPE_I8, x->ndim, x->dims, NULL, 0, 1,
                               &q->scale[t], &q->zp[t], 0);
        } else {
            map[t] = gb_tensor(&b, x->name, x->dtype, x->ndim, x->dims, NULL, 0, 0, NULL, NULL, 0);
        }
    }
    for (int i = 0; i < g->num_ops && !b.error; i++) {
        const ev_op *op = &g->ops[i];
        int ins[64], outs[8];
        if (op->num_inputs > 64 || op->num_outputs > 8) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d has too many inputs", g->source, i);
            goto done;
        }
        for (int j = 0; j < op->num_inputs; j++) ins[j] = op->inputs[j] < 0 ? -1 : map[op->inputs[j]];
        for (int j = 0; j < op->num_outputs; j++) outs[j] = map[op->outputs[j]];
        int k = gb_op(&b, op->type, op->name, op->builtin_code, op->num_inputs, ins,
                      op->num_outputs, outs);
        if (k >= 0) {
            b.g.ops[k].p = op->p;
            b.g.ops[k].version = op->version;
        }
    }
    if (!b.error) {
        int io[1024];
        int ni = g->num_inputs < 1024 ? g->num_inputs : 1024;
        int no = g->num_outputs < 1024 ? g->num_outputs : 1024;
        for (int j = 0; j < ni; j++) io[j] = map[g->inputs[j]];
        gb_inputs(&b, ni, io);
        for (int j = 0; j < no; j++) io[j] = map[g->outputs[j]];
        gb_outputs(&b, no, io);
    }
    if (b.error) {
        st = EV_FAIL(EV_ERR_INTERNAL, "%s: building the int8 graph: %s", g->source, b.msg);
        goto done;
    }
    if (gb_finish(&b, out) != EV_OK) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "%s: building the int8 graph: %s", g->source, b.msg);
    } else {
        st = ev_graph_validate(&(*out)->graph);
        if (st != EV_OK) {
            ev_model_free(*out);
            *out = NULL;
        }
    }
    goto cleanup;
done:
    gb_release(&b);
cleanup:
    for (int i = 0; wsc && i < g->num_ops; i++) free(wsc[i]);
    free(wsc);
    free(nwsc);
    free(map);
    return st;
}

ev_status ev_quantize_model(const ev_model *model, const ev_image *const *images, int n,
                            const ev_quantize_options *opts, ev_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_quantize_model: out is NULL");
    *out = NULL;
    if (!model) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_quantize_model: model is NULL");
    ev_quantize_options o;
    ev_quantize_options_init(&o);
    if (opts) o = *opts;
    const ev_graph *g = &model->graph;
    for (int t = 0; t < g->num_tensors; t++)
        if (!g->tensors[t].data && g->tensors[t].dtype != EV_DTYPE_F32 &&
            g->tensors[t].dtype != EV_DTYPE_I32)
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: tensor '%s' is %s; quantization takes a "
                           "float32 model", g->source, g->tensors[t].name,
                           ev_dtype_name(g->tensors[t].dtype));
    ev_calib cal;
    EV_TRY(ev_calibrate(model, images, n, o.backend, o.threads, &cal));
    qctx q = {g, &cal, NULL, NULL, NULL, NULL, NULL};
    size_t nt = (size_t)(g->num_tensors ? g->num_tensors : 1);
    q.scale = calloc(nt, sizeof(float));
    q.zp = calloc(nt, sizeof(int32_t));
    q.has = calloc(nt, sizeof(int));
    q.role = calloc(nt, sizeof(int));
    q.role_op = calloc(nt, sizeof(int));
    ev_status st = q.scale && q.zp && q.has && q.role && q.role_op
                       ? build(&q, &o, out)
                       : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    free(q.scale), free(q.zp), free(q.has), free(q.role), free(q.role_op);
    ev_calib_release(&cal);
    return st;
}
