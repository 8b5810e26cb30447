/*
 * graph.c - helpers on the graph IR: release, shapes, dtype names, padding arithmetic.
 */
#include "core/graph.h"

#include "core/status.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ev_dtype_name(ev_dtype dtype) {
    switch (dtype) {
    case EV_DTYPE_F32: return "float32";
    case EV_DTYPE_U8: return "uint8";
    case EV_DTYPE_I8: return "int8";
    case EV_DTYPE_I32: return "int32";
    case EV_DTYPE_I64: return "int64";
    case EV_DTYPE_I16: return "int16";
    case EV_DTYPE_UNKNOWN: break;
    }
    return "unknown";
}

size_t ev_dtype_size(ev_dtype dtype) {
    switch (dtype) {
    case EV_DTYPE_F32: return 4;
    case EV_DTYPE_U8: return 1;
    case EV_DTYPE_I8: return 1;
    case EV_DTYPE_I32: return 4;
    case EV_DTYPE_I64: return 8;
    case EV_DTYPE_I16: return 2;
    case EV_DTYPE_UNKNOWN: break;
    }
    return 0;
}

void ev_graph_release(ev_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->num_tensors; i++) {
        free(g->tensors[i].name);
        free(g->tensors[i].quant.scale);
        free(g->tensors[i].quant.zero_point);
    }
    free(g->tensors);
    for (int i = 0; i < g->num_ops; i++) {
        free(g->ops[i].inputs);
        free(g->ops[i].outputs);
        free(g->ops[i].custom_code);
    }
    free(g->ops);
    free(g->inputs);
    free(g->outputs);
    free(g->description);
    free(g->file);
    free(g->source);
    memset(g, 0, sizeof *g);
}

size_t ev_tensor_elems(const ev_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->dims[i];
    return n;
}

int ev_tensor_bytes_checked(int ndim, const int *dims, ev_dtype dtype, size_t *bytes) {
    uint64_t elems = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return -1;
        elems *= (uint64_t)dims[i]; /* both factors below 2^31: no overflow */
        if (elems > EV_MAX_TENSOR_ELEMS) return -1;
    }
    uint64_t n = elems * (uint64_t)ev_dtype_size(dtype);
    if (n > (uint64_t)SIZE_MAX) return -1;
    *bytes = (size_t)n;
    return 0;
}

void ev_tensor_describe(const ev_tensor *t, ev_tensor_info *info) {
    memset(info, 0, sizeof *info);
    info->name = t->name ? t->name : "";
    info->dtype = t->dtype;
    info->ndim = t->ndim;
    for (int i = 0; i < t->ndim && i < EV_MAX_DIMS; i++) info->dims[i] = t->dims[i];
    if (t->quant.count > 0) {
        info->scale = t->quant.scale[0];
        info->zero_point = t->quant.zero_point[0];
        info->per_channel = t->quant.count > 1;
    }
    info->bytes = t->bytes;
}

const char *ev_shape_str(const ev_tensor *t, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = '\0';
    if (t->ndim == 0) {
        snprintf(buf, n, "scalar");
        return buf;
    }
    for (int i = 0; i < t->ndim && used < n; i++) {
        int w = snprintf(buf + used, n - used, i ? "x%d" : "%d", t->dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

const ev_tensor *ev_op_input(const ev_graph *g, const ev_op *op, int i) {
    if (i < 0 || i >= op->num_inputs) return NULL;
    int t = op->inputs[i];
    return t >= 0 && t < g->num_tensors ? &g->tensors[t] : NULL;
}

const ev_tensor *ev_op_output(const ev_graph *g, const ev_op *op, int i) {
    if (i < 0 || i >= op->num_outputs) return NULL;
    int t = op->outputs[i];
    return t >= 0 && t < g->num_tensors ? &g->tensors[t] : NULL;
}

/* TFLite padding.h: ComputeOutSize / ComputePaddingWithOffset. */
int ev_conv_out_size(ev_padding pad, int in, int k, int stride, int dilation) {
    int eff = (k - 1) * dilation + 1;
    if (stride <= 0) return 0;
    if (pad == EV_PAD_SAME) return (in + stride - 1) / stride;
    return (in + stride - eff) / stride;
}

int ev_conv_pad_before(ev_padding pad, int in, int k, int stride, int dilation, int out) {
    int eff = (k - 1) * dilation + 1;
    int total = (out - 1) * stride + eff - in;
    (void)pad;
    if (total < 0) total = 0;
    return total / 2;
}

/* Structural checks any format reader's output must pass: every op reads tensors that exist
 * by then (constants, graph inputs, variable tensors, outputs of earlier ops), so the op list is
 * a topological order with no cycle; no tensor is written twice or is both a constant and an op
 * output; graph outputs are produced. A variable tensor (TFLite's is_variable: the state of an
 * LSTM, updated in place by the op that reads it) exists from the start, zero; whether a backend
 * keeps such state is the session's question (it refuses them today, after naming any op it has
 * no kernel for). */
ev_status ev_graph_validate(const ev_graph *g) {
    if (g->num_ops > EV_MAX_OPS)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: %d ops (at most %d supported)", g->source,
                       g->num_ops, EV_MAX_OPS);
    unsigned char *ready = calloc((size_t)g->num_tensors + 1, 1);
    if (!ready) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = EV_OK;
    for (int t = 0; t < g->num_tensors; t++)
        if (g->tensors[t].data || g->tensors[t].variable) ready[t] = 1;
    for (int i = 0; i < g->num_inputs; i++) {
        int t = g->inputs[i];
        if (g->tensors[t].data) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: graph input %d (tensor %d '%s') is a constant",
                         g->source, i, t, g->tensors[t].name);
            goto done;
        }
        ready[t] = 1;
    }
    for (int o = 0; o < g->num_ops && st == EV_OK; o++) {
        const ev_op *op = &g->ops[o];
        for (int i = 0; i < op->num_inputs; i++) {
            int t = op->inputs[i];
            if (t >= 0 && !ready[t]) {
                st = EV_FAIL(EV_ERR_FORMAT, "%s: op %d (%s) reads tensor %d '%s' before any op "
                             "writes it (a cycle, or ops out of order)", g->source, o, op->name,
                             t, g->tensors[t].name);
                goto done;
            }
        }
        for (int i = 0; i < op->num_outputs; i++) {
            int t = op->outputs[i];
            if (ready[t]) {
                st = EV_FAIL(EV_ERR_FORMAT, "%s: op %d (%s) writes tensor %d '%s', which is "
                             "already a constant, an input or another op's output", g->source, o,
                             op->name, t, g->tensors[t].name);
                goto done;
            }
            ready[t] = 1;
        }
    }
    for (int i = 0; i < g->num_outputs; i++)
        if (!ready[g->outputs[i]]) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: graph output %d (tensor %d) is never written",
                         g->source, i, g->outputs[i]);
            goto done;
        }
done:
    free(ready);
    return st;
}
