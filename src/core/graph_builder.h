/*
 * graph_builder.h - builds ev_models in memory: format readers that construct graphs (TF
 * GraphDef, Keras architectures) and tests that need a graph without a file. Set b.g.source
 * (malloc'd) to name the model in messages.
 *
 *   gb b;
 *   gb_init(&b);
 *   int x = gb_tensor_q(&b, "x", EV_DTYPE_I8, 4, (int[]){1, 8, 8, 3}, NULL, 0.02f, -5);
 *   int w = gb_tensor(&b, "w", EV_DTYPE_I8, 4, wdims, wdata, wbytes, 4, wscales, NULL, 0);
 *   ...
 *   gb_op_conv(&b, EV_OP_CONV_2D, x, w, bias_or_-1, y, params);
 *   gb_inputs(&b, 1, &x);
 *   gb_outputs(&b, 1, &y);
 *   ev_model *m;
 *   if (gb_finish(&b, &m) != EV_OK) fprintf(stderr, "%s\n", b.msg);
 *   ... ev_session_create(m, ...) ...
 *   ev_model_free(m);
 *
 * Everything the model owns is malloc'd the way ev_graph_release() expects: tensor names and
 * quantization arrays per tensor, op input/output arrays, graph->source ("test-graph"), and one
 * blob (graph->file) holding every constant, each 64-byte aligned, built at gb_finish time (the
 * builder keeps its own copy of constant data until then, so callers may free theirs at once).
 * Op names are static strings ("CONV_2D", ...); gb_op() takes a name that must outlive the
 * model (a string literal). A failed call records a message in b->msg and makes gb_finish fail;
 * gb_finish always releases the builder (success or not), and gb_release drops a builder that
 * will not be finished. Everything is static inline: include it from any test.
 */
#ifndef EV_CORE_GRAPH_BUILDER_H
#define EV_CORE_GRAPH_BUILDER_H

#include "core/graph.h"
#include "core/model.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GB_ALIGN 64

typedef struct gb {
    ev_graph g;
    int cap_tensors, cap_ops;
    void **consts; /* [cap_tensors]: the builder's copy of each constant (NULL: activation)     */
    int error;     /* a call failed: gb_finish returns EV_ERR_INVALID_ARG                       */
    char msg[256]; /* the first failure                                                        */
} gb;

static inline void gb_fail_(gb *b, const char *fmt, ...) {
    if (!b->error) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->msg, sizeof b->msg, fmt, ap);
        va_end(ap);
    }
    b->error = 1;
}

static inline void gb_init(gb *b) {
    memset(b, 0, sizeof *b);
    b->g.source = strdup("test-graph");
    if (!b->g.source) gb_fail_(b, "out of memory");
}

/* Frees everything the builder holds (keeps b->msg). */
static inline void gb_release(gb *b) {
    if (b->consts)
        for (int i = 0; i < b->g.num_tensors; i++) free(b->consts[i]);
    free(b->consts);
    b->consts = NULL;
    ev_graph_release(&b->g);
    b->cap_tensors = b->cap_ops = 0;
}

/* Adds a tensor; returns its index (-1 on failure). `data` (NULL for an activation) must hold
 * exactly `bytes` = element count * ev_dtype_size(dtype) bytes; it is copied. `nq` scales and
 * zero points (zps NULL: all 0) along `axis`; nq = 0 for an unquantized tensor. */
static inline int gb_tensor(gb *b, const char *name, ev_dtype dtype, int ndim, const int *dims,
                            const void *data, size_t bytes, int nq, const float *scales,
                            const int32_t *zps, int axis) {
    if (b->error) return -1;
    if (ndim < 0 || ndim > EV_MAX_DIMS || (ndim > 0 && !dims) || nq < 0 || (nq > 0 && !scales)) {
        gb_fail_(b, "tensor '%s': bad ndim %d / quantization count %d", name ? name : "?", ndim,
                 nq);
        return -1;
    }
    if (b->g.num_tensors == b->cap_tensors) {
        int cap = b->cap_tensors ? 2 * b->cap_tensors : 8;
        ev_tensor *t = realloc(b->g.tensors, sizeof *t * (size_t)cap);
        if (t) b->g.tensors = t;
        void **c = realloc(b->consts, sizeof *c * (size_t)cap);
        if (c) b->consts = c;
        if (!t || !c) {
            gb_fail_(b, "out of memory");
            return -1;
        }
        b->cap_tensors = cap;
    }
    int idx = b->g.num_tensors;
    ev_tensor *t = &b->g.tensors[idx];
    memset(t, 0, sizeof *t);
    b->consts[idx] = NULL;
    b->g.num_tensors++; /* counted now so gb_release frees whatever was attached */
    t->name = strdup(name ? name : "");
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    if (!t->name) {
        gb_fail_(b, "out of memory");
        return -1;
    }
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0) {
            gb_fail_(b, "tensor '%s': dimension %d is %d", t->name, i, dims[i]);
            return -1;
        }
    if (ev_tensor_bytes_checked(ndim, dims, dtype, &t->bytes)) {
        gb_fail_(b, "tensor '%s' is implausibly large (over %llu elements, or over what this "
                 "platform can address)", t->name, EV_MAX_TENSOR_ELEMS);
        return -1;
    }
    if (nq > 0) {
        t->quant.scale = malloc(sizeof(float) * (size_t)nq);
        t->quant.zero_point = malloc(sizeof(int32_t) * (size_t)nq);
        if (!t->quant.scale || !t->quant.zero_point) {
            gb_fail_(b, "out of memory");
            return -1;
        }
        t->quant.count = nq;
        t->quant.axis = axis;
        for (int i = 0; i < nq; i++) {
            t->quant.scale[i] = scales[i];
            t->quant.zero_point[i] = zps ? zps[i] : 0;
        }
    }
    if (data) {
        if (bytes != t->bytes) {
            gb_fail_(b, "tensor '%s': %zu bytes of data for %zu bytes of tensor", t->name, bytes,
                     t->bytes);
            return -1;
        }
        b->consts[idx] = malloc(bytes ? bytes : 1);
        if (!b->consts[idx]) {
            gb_fail_(b, "out of memory");
            return -1;
        }
        if (bytes) memcpy(b->consts[idx], data, bytes);
    }
    return idx;
}

/* Per-tensor quantized (scale > 0) or unquantized (scale == 0) tensor. */
static inline int gb_tensor_q(gb *b, const char *name, ev_dtype dtype, int ndim, const int *dims,
                              const void *data, float scale, int32_t zero_point) {
    size_t bytes = 0;
    if (data) {
        bytes = ev_dtype_size(dtype);
        for (int i = 0; i < ndim; i++) bytes *= (size_t)dims[i];
    }
    return gb_tensor(b, name, dtype, ndim, dims, data, bytes, scale > 0.0f ? 1 : 0, &scale,
                     &zero_point, 0);
}

/* Adds an op of any type (options zeroed; set b->g.ops[index].p afterwards if needed). `name`
 * must be a static string. Tensor index -1 marks an absent optional input. Returns its index. */
static inline int gb_op(gb *b, ev_op_type type, const char *name, int builtin_code, int n_in,
                        const int *ins, int n_out, const int *outs) {
    if (b->error) return -1;
    for (int i = 0; i < n_in + n_out; i++) {
        int t = i < n_in ? ins[i] : outs[i - n_in];
        if (t < -1 || t >= b->g.num_tensors || (t == -1 && i >= n_in)) {
            gb_fail_(b, "op '%s': tensor index %d out of range", name, t);
            return -1;
        }
    }
    if (b->g.num_ops == b->cap_ops) {
        int cap = b->cap_ops ? 2 * b->cap_ops : 4;
        ev_op *o = realloc(b->g.ops, sizeof *o * (size_t)cap);
        if (!o) {
            gb_fail_(b, "out of memory");
            return -1;
        }
        b->g.ops = o;
        b->cap_ops = cap;
    }
    int idx = b->g.num_ops;
    ev_op *op = &b->g.ops[idx];
    memset(op, 0, sizeof *op);
    b->g.num_ops++;
    op->type = type;
    op->name = name;
    op->builtin_code = builtin_code;
    op->version = 1;
    op->inputs = malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    op->outputs = malloc(sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!op->inputs || !op->outputs) {
        gb_fail_(b, "out of memory");
        return -1;
    }
    op->num_inputs = n_in;
    op->num_outputs = n_out;
    if (n_in) memcpy(op->inputs, ins, sizeof(int) * (size_t)n_in);
    if (n_out) memcpy(op->outputs, outs, sizeof(int) * (size_t)n_out);
    return idx;
}

/* CONV_2D (builtin 3) or DEPTHWISE_CONV_2D (builtin 4). bias < 0: no bias; the op then has three
 * inputs with the third -1, as TFLite files mark an absent optional input. */
static inline int gb_op_conv(gb *b, ev_op_type type, int in, int w, int bias, int out,
                             ev_conv_params p) {
    int ins[3] = {in, w, bias < 0 ? -1 : bias};
    int dw = type == EV_OP_DEPTHWISE_CONV_2D;
    int idx = gb_op(b, type, dw ? "DEPTHWISE_CONV_2D" : "CONV_2D", dw ? 4 : 3, 3, ins, 1, &out);
    if (idx >= 0) b->g.ops[idx].p.conv = p;
    return idx;
}

/* CONCATENATION (builtin 2) of n inputs along `axis` (stored as given: negative allowed). */
static inline int gb_op_concat(gb *b, int n, const int *ins, int out, int axis,
                               ev_activation act) {
    int idx = gb_op(b, EV_OP_CONCATENATION, "CONCATENATION", 2, n, ins, 1, &out);
    if (idx >= 0) {
        b->g.ops[idx].p.concat.axis = axis;
        b->g.ops[idx].p.concat.activation = act;
    }
    return idx;
}

static inline void gb_io_(gb *b, int n, const int *idx, int **dst, int *count, const char *what) {
    if (b->error) return;
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= b->g.num_tensors) {
            gb_fail_(b, "graph %s %d: tensor index %d out of range", what, i, idx[i]);
            return;
        }
    free(*dst);
    *count = 0;
    *dst = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!*dst) {
        gb_fail_(b, "out of memory");
        return;
    }
    if (n) memcpy(*dst, idx, sizeof(int) * (size_t)n);
    *count = n;
}

static inline void gb_inputs(gb *b, int n, const int *idx) {
    gb_io_(b, n, idx, &b->g.inputs, &b->g.num_inputs, "input");
}

static inline void gb_outputs(gb *b, int n, const int *idx) {
    gb_io_(b, n, idx, &b->g.outputs, &b->g.num_outputs, "output");
}

/* Moves the graph into a new model (constants gathered into graph->file) and releases the
 * builder. On failure *out is NULL and b->msg says why. */
static inline ev_status gb_finish(gb *b, ev_model **out) {
    *out = NULL;
    if (b->error) {
        gb_release(b);
        return EV_ERR_INVALID_ARG;
    }
    size_t total = 0;
    for (int i = 0; i < b->g.num_tensors; i++)
        if (b->consts[i]) total += (b->g.tensors[i].bytes + GB_ALIGN - 1) / GB_ALIGN * GB_ALIGN;
    ev_model *m = calloc(1, sizeof *m);
    uint8_t *blob = total ? aligned_alloc(GB_ALIGN, total) : NULL;
    if (!m || (total && !blob)) {
        free(m);
        free(blob);
        gb_fail_(b, "out of memory");
        gb_release(b);
        return EV_ERR_NO_MEMORY;
    }
    size_t off = 0;
    for (int i = 0; i < b->g.num_tensors; i++) {
        if (!b->consts[i]) continue;
        ev_tensor *t = &b->g.tensors[i];
        memcpy(blob + off, b->consts[i], t->bytes);
        t->data = blob + off;
        off += (t->bytes + GB_ALIGN - 1) / GB_ALIGN * GB_ALIGN;
        free(b->consts[i]);
        b->consts[i] = NULL;
    }
    free(b->consts);
    b->consts = NULL;
    b->g.file = blob;
    b->g.file_size = total;
    m->graph = b->g;
    memset(&b->g, 0, sizeof b->g);
    b->cap_tensors = b->cap_ops = 0;
    *out = m;
    return EV_OK;
}

#endif
