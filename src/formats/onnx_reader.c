/*
 * onnx_reader.c - reads an ONNX model (ModelProto) into the graph IR.
 *
 * Steps: unpack with protobuf-c (which bounds-checks the wire format); check the opset (6 to 18
 * of the default domain); index every value name (graph inputs, initializers, node outputs);
 * walk the nodes in file order (ONNX requires a topological order: a node reading a value no
 * earlier node, input or initializer defines is an error) turning each into IR ops through
 * core/graph_builder.h, with every output shape computed here (the IR's shapes are static).
 *
 * Values: each ONNX value is a constant (an initializer, a Constant node, or a folded result:
 * Shape/Gather/Concat/Unsqueeze/... on constants, the shape arithmetic feeding Reshape) kept on
 * the host, or an IR tensor. 4-D activations carry a layout: NCHW as ONNX declares, or NHWC,
 * the engine's. NCHW ops (Conv, pools, Resize, BatchNormalization, GlobalAveragePool) ask for
 * NHWC; elementwise ops keep the layout they are given; axis attributes (Concat, Softmax,
 * ReduceMean, Pad, ...) are remapped; ops that depend on memory order (Reshape, Flatten, MatMul,
 * Gemm) ask for the declared layout. A conversion is a TRANSPOSE (a RESHAPE when it keeps memory
 * order, e.g. C or H*W is 1), made once per value, so transposes appear only at the model's
 * boundary and where a reshape needs ONNX's order. A Transpose node whose permutation is exactly
 * a layout change (NHWC input -> NCHW, as in models exported from TFLite) becomes no op at all.
 * Conv weights are transposed to OHWI (depthwise: 1HWC), BatchNormalization after a Conv whose
 * only reader it is folds into the conv's weights and bias, and Relu / Clip(0, 6) after a conv,
 * Gemm or Add that only they read become the op's fused activation.
 *
 * Quantized models: QuantizeLinear/DequantizeLinear/QLinearConv/QLinearMatMul carry scale and
 * zero point as inputs; they become the IR tensors' quantization (TFLite-style). A uint8
 * activation with int8 weights (per tensor) takes uint8 weights w + 128 with zero point + 128:
 * the same products, and TFLite's uint8 arithmetic.
 *
 * Limits: at most EV_MAX_OPS nodes, EV_MAX_DIMS dimensions, tensor sizes through
 * ev_tensor_bytes_checked, constants decoded only from bytes present in the file (external data
 * refused with its file name), folded constants capped at ONNX_MAX_FOLD elements.
 *
 * To support another op: add a case in emit_node() that reads its inputs with in_val() /
 * in_const(), validates attributes through the attr_* helpers (each failure names the node, its
 * op type and opset) and emits IR ops with gb_*; anything it cannot express is refused with
 * EV_ERR_UNSUPPORTED naming op type, node name and opset.
 */
#include "formats/onnx_reader.h"

#include "core/graph_builder.h"
#include "core/status.h"
#include "onnx.pb-c.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Onnx__ModelProto ModelProto;
typedef Onnx__GraphProto GraphProto;
typedef Onnx__NodeProto NodeProto;
typedef Onnx__AttributeProto AttributeProto;
typedef Onnx__TensorProto TensorProto;
typedef Onnx__ValueInfoProto ValueInfoProto;

#define ONNX_MIN_OPSET 1
#define ONNX_MAX_OPSET 18
#define ONNX_MAX_FOLD (1 << 24) /* elements of a constant computed at load (folding)         */
#define ONNX_MAX_NAME 4096

enum { OV_NONE = 0, OV_INIT, OV_CONST, OV_TENSOR };

typedef struct oval {
    const char *name;
    int kind;
    const TensorProto *init; /* OV_INIT: decoded on first use                               */
    ev_dtype dtype;
    int ndim, dims[EV_MAX_DIMS]; /* ONNX's shape                                            */
    void *data;                  /* OV_CONST: owned, elems * ev_dtype_size(dtype)           */
    size_t elems;
    int t;          /* OV_TENSOR: IR tensor, stored NHWC when nhwc                           */
    int nhwc;
    int t_other;    /* the same value in the other layout, once made (-1)                    */
    int cmat[2];    /* OV_CONST made an IR constant: [plain, nhwc] (-1)                        */
    int uses;       /* node inputs and graph outputs reading it                              */
    int producer;   /* IR op that wrote t (-1: none, or not fusable)                          */
} oval;

typedef struct oc {
    const char *src;
    ModelProto *m;
    GraphProto *gr;
    int opset;
    oval *v;
    int nv, cap;
    int *hash;
    size_t hmask;
    int in_h, in_w;
    int ni;              /* current node                                                      */
    const NodeProto *nd;
    char *skip;          /* per node: absorbed by an earlier one (BatchNormalization)         */
    int one_d;           /* the current node is a 1-D conv / pool lifted to 2-D (H = 1)      */
    int nbind;           /* graph inputs bound to constant values at load                     */
    const char *const *bind_names;
    const ev_onnx_array *bind_vals;
    int *is_output;      /* per IR tensor index < cap_out: a graph output already             */
    gb b;
} oc;

static const char *nd_name(const oc *c) {
    return c->nd && c->nd->name && c->nd->name[0] ? c->nd->name : "(unnamed)";
}

#define NODE_FAIL(c, st, ...) node_fail((c), (st), __FILE__, __LINE__, __VA_ARGS__)

static ev_status node_fail(const oc *c, ev_status st, const char *file, int line, const char *fmt,
                           ...) EV_PRINTF(5, 6);

static ev_status node_fail(const oc *c, ev_status st, const char *file, int line, const char *fmt,
                           ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ev_set_error(st, file, line, "%s: node %d '%s' (%s, opset %d): %s", c->src, c->ni,
                        nd_name(c), c->nd ? c->nd->op_type : "?", c->opset, msg);
}

/* ------------------------------------------------------------------------------------------ */
/* Value names                                                                                */
/* ------------------------------------------------------------------------------------------ */

static size_t hash_str(const char *s) { /* 64-bit FNV-1a, folded to size_t on 32-bit builds */
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32));
}

static oval *find_val(const oc *c, const char *name) {
    for (size_t i = hash_str(name) & c->hmask;; i = (i + 1) & c->hmask) {
        int k = c->hash[i];
        if (k < 0) return NULL;
        if (strcmp(c->v[k].name, name) == 0) return &c->v[k];
    }
}

/* A new value named `name` (unique: ONNX values are assigned once). */
static ev_status add_val(oc *c, const char *name, oval **out) {
    if (!name || !name[0]) return EV_FAIL(EV_ERR_FORMAT, "%s: a value without a name", c->src);
    if (strlen(name) > ONNX_MAX_NAME)
        return EV_FAIL(EV_ERR_FORMAT, "%s: a value name of over %d bytes", c->src, ONNX_MAX_NAME);
    if (find_val(c, name))
        return EV_FAIL(EV_ERR_FORMAT, "%s: value '%s' is defined twice", c->src, name);
    if (c->nv >= c->cap) return EV_FAIL(EV_ERR_INTERNAL, "%s: value table full", c->src);
    oval *v = &c->v[c->nv];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->t = v->t_other = v->cmat[0] = v->cmat[1] = v->producer = -1;
    size_t i = hash_str(name) & c->hmask;
    while (c->hash[i] >= 0) i = (i + 1) & c->hmask;
    c->hash[i] = c->nv++;
    *out = v;
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Attributes                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static const AttributeProto *attr(const oc *c, const char *name) {
    for (size_t i = 0; i < c->nd->n_attribute; i++)
        if (c->nd->attribute[i]->name && strcmp(c->nd->attribute[i]->name, name) == 0)
            return c->nd->attribute[i];
    return NULL;
}

static ev_status attr_int(const oc *c, const char *name, int64_t def, int64_t *out) {
    const AttributeProto *a = attr(c, name);
    *out = def;
    if (!a) return EV_OK;
    if (!a->has_i) return NODE_FAIL(c, EV_ERR_FORMAT, "attribute '%s' is not an integer", name);
    *out = a->i;
    return EV_OK;
}

static ev_status attr_float(const oc *c, const char *name, float def, float *out) {
    const AttributeProto *a = attr(c, name);
    *out = def;
    if (!a) return EV_OK;
    if (!a->has_f) return NODE_FAIL(c, EV_ERR_FORMAT, "attribute '%s' is not a float", name);
    *out = a->f;
    return EV_OK;
}

/* Integer list attribute: *n = -1 when absent. At most `max` entries. */
static ev_status attr_ints(const oc *c, const char *name, int max, int64_t *vals, int *n) {
    const AttributeProto *a = attr(c, name);
    *n = -1;
    if (!a) return EV_OK;
    if (a->n_ints > (size_t)max)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "attribute '%s' has %zu entries (at most %d)",
                         name, a->n_ints, max);
    for (size_t i = 0; i < a->n_ints; i++) vals[i] = a->ints[i];
    *n = (int)a->n_ints;
    return EV_OK;
}

/* String attribute into buf (NUL-terminated); `def` when absent. */
static ev_status attr_str(const oc *c, const char *name, const char *def, char *buf, size_t n) {
    const AttributeProto *a = attr(c, name);
    if (!a) {
        snprintf(buf, n, "%s", def);
        return EV_OK;
    }
    if (!a->has_s || a->s.len >= n)
        return NODE_FAIL(c, EV_ERR_FORMAT, "attribute '%s' is not a short string", name);
    memcpy(buf, a->s.data, a->s.len);
    buf[a->s.len] = '\0';
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Constants                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static ev_status decode_init(oc *c, oval *v) {
    if (v->kind != OV_INIT) return EV_OK;
    char what[256];
    snprintf(what, sizeof what, "%s: initializer '%.200s'", c->src, v->name);
    ev_onnx_array a;
    EV_TRY(ev_onnx_tensor_decode(v->init, what, &a));
    v->kind = OV_CONST;
    v->dtype = a.dtype;
    v->ndim = a.ndim;
    memcpy(v->dims, a.dims, sizeof v->dims);
    v->data = a.data;
    v->elems = a.elems;
    return EV_OK;
}

static double cget(const oval *v, size_t i) {
    switch (v->dtype) {
    case EV_DTYPE_F32: return ((const float *)v->data)[i];
    case EV_DTYPE_U8: return ((const uint8_t *)v->data)[i];
    case EV_DTYPE_I8: return ((const int8_t *)v->data)[i];
    case EV_DTYPE_I16: return ((const int16_t *)v->data)[i];
    case EV_DTYPE_I32: return ((const int32_t *)v->data)[i];
    case EV_DTYPE_I64: return (double)((const int64_t *)v->data)[i];
    default: return 0;
    }
}

static int64_t cgeti(const oval *v, size_t i) {
    if (v->dtype == EV_DTYPE_I64) return ((const int64_t *)v->data)[i];
    if (v->dtype == EV_DTYPE_F32) return (int64_t)((const float *)v->data)[i];
    return (int64_t)cget(v, i);
}

static void cset(ev_dtype dt, void *data, size_t i, double x) {
    switch (dt) {
    case EV_DTYPE_F32: ((float *)data)[i] = (float)x; break;
    case EV_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)x; break;
    case EV_DTYPE_I8: ((int8_t *)data)[i] = (int8_t)x; break;
    case EV_DTYPE_I16: ((int16_t *)data)[i] = (int16_t)x; break;
    case EV_DTYPE_I32: ((int32_t *)data)[i] = (int32_t)x; break;
    case EV_DTYPE_I64: ((int64_t *)data)[i] = (int64_t)x; break;
    default: break;
    }
}

/* Makes `v` a constant of dtype/shape with a zeroed buffer. */
static ev_status make_const(oc *c, oval *v, ev_dtype dt, int ndim, const int *dims) {
    size_t bytes;
    if (ndim > EV_MAX_DIMS || ev_tensor_bytes_checked(ndim, dims, dt, &bytes) ||
        bytes / ev_dtype_size(dt) > ONNX_MAX_FOLD)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a folded constant of over %d elements",
                         ONNX_MAX_FOLD);
    v->kind = OV_CONST;
    v->dtype = dt;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++) v->dims[i] = dims[i];
    v->elems = bytes / ev_dtype_size(dt);
    v->data = calloc(1, bytes ? bytes : 1);
    if (!v->data) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Node inputs and outputs                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Input j of the current node (NULL when absent or empty: an omitted optional input). */
static ev_status in_val(oc *c, int j, int required, oval **out) {
    *out = NULL;
    if (j >= (int)c->nd->n_input || !c->nd->input[j][0]) {
        if (required) return NODE_FAIL(c, EV_ERR_FORMAT, "input %d is missing", j);
        return EV_OK;
    }
    oval *v = find_val(c, c->nd->input[j]);
    if (!v || v->kind == OV_NONE)
        return NODE_FAIL(c, EV_ERR_FORMAT, "input %d '%s' is not defined before this node (an "
                         "unknown name, or nodes out of order)", j, c->nd->input[j]);
    EV_TRY(decode_init(c, v));
    *out = v;
    return EV_OK;
}

static ev_status in_const(oc *c, int j, int required, oval **out) {
    EV_TRY(in_val(c, j, required, out));
    if (*out && (*out)->kind != OV_CONST)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input %d '%s' must be a constant (an "
                         "initializer or computable at load); it is computed at run time", j,
                         (*out)->name);
    return EV_OK;
}

/* Output k of the current node, a new value. */
static ev_status out_val(oc *c, int k, oval **out) {
    if (k >= (int)c->nd->n_output || !c->nd->output[k][0])
        return NODE_FAIL(c, EV_ERR_FORMAT, "output %d is missing", k);
    oval *v = find_val(c, c->nd->output[k]);
    if (!v) return NODE_FAIL(c, EV_ERR_INTERNAL, "output '%s' not indexed", c->nd->output[k]);
    if (v->kind != OV_NONE)
        return NODE_FAIL(c, EV_ERR_FORMAT, "output '%s' is already defined", v->name);
    *out = v;
    return EV_OK;
}

/* The two required inputs and the output of a node (in_val, out_val). */
static ev_status in2_out1(oc *c, oval **a, oval **b, oval **y) {
    EV_TRY(in_val(c, 0, 1, a));
    EV_TRY(in_val(c, 1, 1, b));
    return out_val(c, 0, y);
}

/* ------------------------------------------------------------------------------------------ */
/* IR tensors and layouts                                                                     */
/* ------------------------------------------------------------------------------------------ */

static const int k_to_nhwc[4] = {0, 2, 3, 1}; /* NHWC dim k holds NCHW dim k_to_nhwc[k] */
static const int k_to_nchw[4] = {0, 3, 1, 2}; /* NCHW dim k holds NHWC dim k_to_nchw[k] */
static const int k_axis_nhwc[4] = {0, 3, 1, 2}; /* ONNX axis a of an NCHW value -> NHWC axis */

static ev_status gb_check(oc *c) {
    if (c->b.error) return NODE_FAIL(c, EV_ERR_FORMAT, "building the graph: %s", c->b.msg);
    return EV_OK;
}

/* IR dims of an ONNX shape in a layout. */
static void ir_dims(int ndim, const int *dims, int nhwc, int *out) {
    for (int k = 0; k < ndim; k++) out[k] = nhwc ? dims[k_to_nhwc[k]] : dims[k];
}

static int new_act(oc *c, const char *name, ev_dtype dt, int ndim, const int *dims,
                   const ev_quant *q) {
    if (q && q->count > 0)
        return gb_tensor(&c->b, name, dt, ndim, dims, NULL, 0, q->count, q->scale, q->zero_point,
                         q->axis);
    return gb_tensor(&c->b, name, dt, ndim, dims, NULL, 0, 0, NULL, NULL, 0);
}

static const ev_tensor *irt(const oc *c, int t) { return &c->b.g.tensors[t]; }

/* 1 when permuting `dims` by `perm` keeps the memory order (the non-1 dims stay in order). */
static int perm_keeps_order(int ndim, const int *dims, const int *perm) {
    int last = -1;
    for (int k = 0; k < ndim; k++) {
        if (dims[perm[k]] == 1) continue;
        if (perm[k] < last) return 0;
        last = perm[k];
    }
    return 1;
}

static int add_op(oc *c, ev_op_type type, const char *name, int code, int n_in, const int *ins,
                  int out) {
    return gb_op(&c->b, type, name, code, n_in, ins, 1, &out);
}

/* A copy of IR tensor `in` permuted by perm (TRANSPOSE, or RESHAPE when memory order is kept). */
static ev_status emit_permute(oc *c, int in, const int *perm, const char *name, int *out) {
    const ev_tensor *t = irt(c, in);
    int nd = t->ndim, dims[EV_MAX_DIMS] = {0};
    for (int k = 0; k < nd; k++) dims[k] = t->dims[perm[k]];
    ev_quant q = t->quant;
    ev_dtype dt = t->dtype;
    int keeps = perm_keeps_order(nd, t->dims, perm);
    int o = new_act(c, name, dt, nd, dims, &q);
    if (o < 0) return gb_check(c);
    int op;
    if (keeps) {
        op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &in, o);
        if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
    } else {
        op = add_op(c, EV_OP_TRANSPOSE, "TRANSPOSE", 39, 1, &in, o);
        if (op >= 0)
            for (int k = 0; k < nd; k++) c->b.g.ops[op].p.transpose.perm[k] = perm[k];
    }
    EV_TRY(gb_check(c));
    *out = o;
    return EV_OK;
}

/* A constant as an IR constant tensor with ONNX's shape (nhwc = 0) or, for a rank <= 4 constant
 * broadcast against an NHWC value, expanded to rank 4 and stored NHWC (nhwc = 1). */
static ev_status const_tensor(oc *c, oval *v, int nhwc, int *out) {
    if (v->cmat[nhwc] >= 0) {
        *out = v->cmat[nhwc];
        return EV_OK;
    }
    size_t es = ev_dtype_size(v->dtype), bytes = v->elems * es;
    int t;
    if (!nhwc) {
        t = gb_tensor(&c->b, v->name, v->dtype, v->ndim, v->dims, v->data, bytes, 0, NULL, NULL, 0);
    } else {
        if (v->ndim > 4) return NODE_FAIL(c, EV_ERR_INTERNAL, "NHWC constant of rank %d", v->ndim);
        int d4[4] = {1, 1, 1, 1}, nd[4];
        for (int i = 0; i < v->ndim; i++) d4[4 - v->ndim + i] = v->dims[i];
        ir_dims(4, d4, 1, nd);
        uint8_t *buf = malloc(bytes ? bytes : 1);
        if (!buf) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        size_t o = 0;
        for (int n = 0; n < nd[0]; n++)
            for (int h = 0; h < nd[1]; h++)
                for (int w = 0; w < nd[2]; w++)
                    for (int ch = 0; ch < nd[3]; ch++, o++) {
                        size_t i = (((size_t)n * d4[1] + ch) * d4[2] + h) * d4[3] + w;
                        memcpy(buf + o * es, (const uint8_t *)v->data + i * es, es);
                    }
        char nm[300];
        snprintf(nm, sizeof nm, "%.250s/nhwc", v->name);
        t = gb_tensor(&c->b, nm, v->dtype, 4, nd, buf, bytes, 0, NULL, NULL, 0);
        free(buf);
    }
    EV_TRY(gb_check(c));
    v->cmat[nhwc] = t;
    *out = t;
    return EV_OK;
}

/* IR tensor of value v stored NHWC (nhwc = 1, v of rank 4) or as declared (nhwc = 0). */
static ev_status layout(oc *c, oval *v, int nhwc, int *out) {
    if (v->kind == OV_CONST) {
        if (nhwc && v->ndim != 4)
            return NODE_FAIL(c, EV_ERR_INTERNAL, "NHWC view of a rank-%d constant", v->ndim);
        return const_tensor(c, v, nhwc, out);
    }
    if (nhwc && v->ndim != 4)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input '%s' has rank %d; this op needs rank 4 "
                         "(N, C, H, W)", v->name, v->ndim);
    if (v->nhwc == nhwc) {
        *out = v->t;
        return EV_OK;
    }
    if (v->t_other < 0) {
        char nm[300];
        snprintf(nm, sizeof nm, "%.250s/%s", v->name, nhwc ? "nhwc" : "nchw");
        EV_TRY(emit_permute(c, v->t, nhwc ? k_to_nhwc : k_to_nchw, nm, &v->t_other));
    }
    *out = v->t_other;
    return EV_OK;
}

/* Defines output value v as IR tensor t holding ONNX shape dims in a layout. */
static void set_tensor(oval *v, int t, int nhwc, ev_dtype dt, int ndim, const int *dims,
                       int producer) {
    v->kind = OV_TENSOR;
    v->t = t;
    v->nhwc = nhwc;
    v->dtype = dt;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++) v->dims[i] = dims[i];
    v->producer = producer;
}

/* A new IR activation for output value v (ONNX shape dims, stored in `nhwc` layout). */
static ev_status out_tensor(oc *c, oval *v, ev_dtype dt, int ndim, const int *dims, int nhwc,
                            const ev_quant *q, int *t) {
    int ird[EV_MAX_DIMS] = {0};
    ir_dims(ndim, dims, nhwc, ird);
    *t = new_act(c, v->name, dt, ndim, ird, q);
    EV_TRY(gb_check(c));
    set_tensor(v, *t, nhwc, dt, ndim, dims, -1);
    return EV_OK;
}

static ev_status need_float(oc *c, const oval *v) {
    if (v->dtype != EV_DTYPE_F32)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input '%s' is %s; this op is supported on float "
                         "tensors only", v->name, ev_dtype_name(v->dtype));
    return EV_OK;
}

/* Normalises axis a of rank n (ONNX allows [-n, n)). */
static ev_status norm_axis(oc *c, int64_t a, int n, int *out) {
    *out = 0;
    if (a < -n || a >= n)
        return NODE_FAIL(c, EV_ERR_FORMAT, "axis %lld out of range for rank %d", (long long)a, n);
    *out = (int)(a < 0 ? a + n : a);
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Fusion of activations into the op that produced their input                                */
/* ------------------------------------------------------------------------------------------ */

/* When x (read only by the current node) was written by a CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED or float ADD with no activation yet, sets that op's activation and makes y
 * the same tensor. Returns 1 when fused. */
static int try_fuse(oc *c, oval *x, oval *y, ev_activation act) {
    if (x->kind != OV_TENSOR || x->uses != 1 || x->producer < 0 || x->t_other >= 0) return 0;
    ev_op *op = &c->b.g.ops[x->producer];
    ev_activation *slot = NULL;
    if (op->type == EV_OP_CONV_2D || op->type == EV_OP_DEPTHWISE_CONV_2D)
        slot = &op->p.conv.activation;
    else if (op->type == EV_OP_FULLY_CONNECTED)
        slot = &op->p.fc.activation;
    else if (op->type == EV_OP_ADD && irt(c, x->t)->dtype == EV_DTYPE_F32)
        slot = &op->p.add.activation;
    if (!slot || *slot != EV_ACT_NONE || op->outputs[0] != x->t) return 0;
    const ev_tensor *t = irt(c, x->t);
    if (t->quant.count) return 0; /* quantized ranges clamp differently; keep the op */
    *slot = act;
    set_tensor(y, x->t, x->nhwc, x->dtype, x->ndim, x->dims, -1);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Elementwise ops                                                                            */
/* ------------------------------------------------------------------------------------------ */

static ev_status emit_unary(oc *c, ev_op_type type, const char *name, int code) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (x->kind == OV_CONST) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    EV_TRY(need_float(c, x));
    if (type == EV_OP_RELU && try_fuse(c, x, y, EV_ACT_RELU)) return EV_OK;
    int t;
    EV_TRY(out_tensor(c, y, x->dtype, x->ndim, x->dims, x->nhwc, NULL, &t));
    int op = add_op(c, type, name, code, 1, &x->t, t);
    EV_TRY(gb_check(c));
    if (type == EV_OP_LEAKY_RELU) {
        float alpha;
        EV_TRY(attr_float(c, "alpha", 0.01f, &alpha));
        c->b.g.ops[op].p.leaky.alpha = alpha;
    } else if (type == EV_OP_HARD_SIGMOID) {
        float alpha, beta;
        EV_TRY(attr_float(c, "alpha", 0.2f, &alpha));
        EV_TRY(attr_float(c, "beta", 0.5f, &beta));
        c->b.g.ops[op].p.hard_sigmoid.alpha = alpha;
        c->b.g.ops[op].p.hard_sigmoid.beta = beta;
    }
    return EV_OK;
}

/* Broadcast shape of a and b (NumPy rules); 0 when they do not broadcast. */
static int bcast_shape(const oval *a, const oval *b, int *nd, int *dims) {
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - a->ndim), ib = i - (n - b->ndim);
        int da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) return 0;
        dims[i] = da == 1 ? db : da;
    }
    *nd = n;
    return 1;
}

/* Folds out = a (type) b on constants. */
static ev_status fold_binary(oc *c, ev_op_type type, oval *a, oval *b, oval *y) {
    int nd, dims[EV_MAX_DIMS];
    if (!bcast_shape(a, b, &nd, dims))
        return NODE_FAIL(c, EV_ERR_SHAPE, "constant inputs do not broadcast");
    ev_dtype dt = a->dtype;
    if (dt != b->dtype || !(dt == EV_DTYPE_F32 || dt == EV_DTYPE_I64 || dt == EV_DTYPE_I32))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "folding %s and %s constants",
                         ev_dtype_name(a->dtype), ev_dtype_name(b->dtype));
    EV_TRY(make_const(c, y, dt, nd, dims));
    int idx[EV_MAX_DIMS] = {0};
    for (size_t o = 0; o < y->elems; o++) {
        size_t ia = 0, ib = 0;
        for (int d = 0; d < nd; d++) {
            int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
            if (da >= 0) ia = ia * (size_t)a->dims[da] + (a->dims[da] == 1 ? 0 : (size_t)idx[d]);
            if (db >= 0) ib = ib * (size_t)b->dims[db] + (b->dims[db] == 1 ? 0 : (size_t)idx[d]);
        }
        if (dt == EV_DTYPE_F32) {
            float x = (float)cget(a, ia), z = (float)cget(b, ib), r;
            switch (type) {
            case EV_OP_ADD: r = x + z; break;
            case EV_OP_SUB: r = x - z; break;
            case EV_OP_MUL: r = x * z; break;
            default: r = x / z; break;
            }
            ((float *)y->data)[o] = r;
        } else {
            int64_t x = cgeti(a, ia), z = cgeti(b, ib), r;
            switch (type) {
            case EV_OP_ADD: r = (int64_t)((uint64_t)x + (uint64_t)z); break;
            case EV_OP_SUB: r = (int64_t)((uint64_t)x - (uint64_t)z); break;
            case EV_OP_MUL: r = (int64_t)((uint64_t)x * (uint64_t)z); break;
            default:
                if (z == 0 || (x == INT64_MIN && z == -1))
                    return NODE_FAIL(c, EV_ERR_FORMAT, "integer division by zero in constants");
                r = x / z;
                break;
            }
            cset(dt, y->data, o, 0);
            if (dt == EV_DTYPE_I64)
                ((int64_t *)y->data)[o] = r;
            else
                ((int32_t *)y->data)[o] = (int32_t)r;
        }
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < dims[d]) break;
            idx[d] = 0;
        }
    }
    return EV_OK;
}

/* Reshapes constant `b` for the legacy (opset < 7) broadcast with an axis: its dims align with
 * a's starting at `axis`. */
static ev_status legacy_broadcast(oc *c, const oval *a, oval *b) {
    int64_t bc, axis;
    EV_TRY(attr_int(c, "broadcast", 0, &bc));
    if (!bc) return EV_OK;
    EV_TRY(attr_int(c, "axis", -1, &axis));
    if (axis < 0 || !attr(c, "axis")) return EV_OK; /* suffix-aligned: NumPy's rule */
    int n = (int)axis + b->ndim;
    if (n > a->ndim || n > EV_MAX_DIMS)
        return NODE_FAIL(c, EV_ERR_SHAPE, "legacy broadcast axis %lld", (long long)axis);
    for (int i = b->ndim; i < a->ndim - (int)axis; i++) b->dims[i] = 1;
    b->ndim = a->ndim - (int)axis;
    return EV_OK;
}

static ev_status emit_binary(oc *c, ev_op_type type, const char *name, int code) {
    oval *a, *b, *y;
    EV_TRY(in2_out1(c, &a, &b, &y));
    if (c->opset < 7) EV_TRY(legacy_broadcast(c, a, b));
    if (a->kind == OV_CONST && b->kind == OV_CONST) return fold_binary(c, type, a, b, y);
    EV_TRY(need_float(c, a));
    EV_TRY(need_float(c, b));
    int nd, dims[EV_MAX_DIMS];
    if (!bcast_shape(a, b, &nd, dims))
        return NODE_FAIL(c, EV_ERR_SHAPE, "inputs '%s' and '%s' do not broadcast", a->name,
                         b->name);
    /* NHWC when an activation operand is NHWC and every operand can follow (rank-4 activations,
     * constants of rank <= 4) */
    int nhwc = nd == 4 && ((a->kind == OV_TENSOR && a->nhwc) || (b->kind == OV_TENSOR && b->nhwc));
    const oval *ops[2] = {a, b};
    for (int i = 0; i < 2 && nhwc; i++)
        if (ops[i]->kind == OV_TENSOR && ops[i]->ndim != 4) nhwc = 0;
    int ta, tb;
    EV_TRY(layout(c, a, nhwc && (a->kind == OV_TENSOR || a->ndim <= 4) ? 1 : 0, &ta));
    EV_TRY(layout(c, b, nhwc && (b->kind == OV_TENSOR || b->ndim <= 4) ? 1 : 0, &tb));
    (void)ta;
    if (a->kind == OV_CONST && nhwc) EV_TRY(const_tensor(c, a, 1, &ta));
    if (b->kind == OV_CONST && nhwc) EV_TRY(const_tensor(c, b, 1, &tb));
    int t;
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, nd, dims, nhwc, NULL, &t));
    int ins[2] = {ta, tb};
    int op = add_op(c, type, name, code, 2, ins, t);
    EV_TRY(gb_check(c));
    y->producer = op;
    return EV_OK;
}

/* Clip: RELU6 / RELU when the bounds are (0, 6) / (0, none), else MAXIMUM and MINIMUM. */
static ev_status emit_clip(oc *c) {
    oval *x, *y, *lo = NULL, *hi = NULL;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    float fmin = -INFINITY, fmax = INFINITY;
    if (c->opset < 11) {
        EV_TRY(attr_float(c, "min", -INFINITY, &fmin));
        EV_TRY(attr_float(c, "max", INFINITY, &fmax));
    } else {
        EV_TRY(in_const(c, 1, 0, &lo));
        EV_TRY(in_const(c, 2, 0, &hi));
        if ((lo && lo->elems != 1) || (hi && hi->elems != 1))
            return NODE_FAIL(c, EV_ERR_FORMAT, "min and max must be scalars");
        if (lo) fmin = (float)cget(lo, 0);
        if (hi) fmax = (float)cget(hi, 0);
    }
    if (x->kind == OV_CONST) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    int is_int = (x->dtype == EV_DTYPE_I8 || x->dtype == EV_DTYPE_U8 ||
                  x->dtype == EV_DTYPE_I32) && !irt(c, x->t)->quant.count;
    if (is_int) { /* plain integers: MAXIMUM / MINIMUM with bounds of x's type (opset 11+) */
        double tmin = x->dtype == EV_DTYPE_I8 ? -128 : x->dtype == EV_DTYPE_U8 ? 0 : INT32_MIN;
        double tmax = x->dtype == EV_DTYPE_I8 ? 127 : x->dtype == EV_DTYPE_U8 ? 255 : INT32_MAX;
        double b[2] = {lo ? cget(lo, 0) : tmin, hi ? cget(hi, 0) : tmax};
        int cur = x->t, ird[EV_MAX_DIMS] = {0}, t = cur;
        ir_dims(x->ndim, x->dims, x->nhwc, ird);
        int steps = (b[0] > tmin) + (b[1] < tmax);
        if (steps == 0) { /* bounds at or beyond the type's range: a copy */
            EV_TRY(out_tensor(c, y, x->dtype, x->ndim, x->dims, x->nhwc, NULL, &t));
            int op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &cur, t);
            if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
            return gb_check(c);
        }
        for (int k = 0; k < 2; k++) {
            if (k == 0 ? !(b[0] > tmin) : !(b[1] < tmax)) continue;
            double v = b[k] < tmin ? tmin : b[k] > tmax ? tmax : b[k];
            uint8_t raw[4];
            cset(x->dtype, raw, 0, v);
            int kt = gb_tensor(&c->b, k ? "clip_max" : "clip_min", x->dtype, 0, NULL, raw,
                               ev_dtype_size(x->dtype), 0, NULL, NULL, 0);
            if (--steps == 0)
                EV_TRY(out_tensor(c, y, x->dtype, x->ndim, x->dims, x->nhwc, NULL, &t));
            else
                t = new_act(c, "clip_lo", x->dtype, x->ndim, ird, NULL);
            int ins[2] = {cur, kt};
            add_op(c, k ? EV_OP_MINIMUM : EV_OP_MAXIMUM, k ? "MINIMUM" : "MAXIMUM", k ? 57 : 55,
                   2, ins, t);
            EV_TRY(gb_check(c));
            cur = t;
        }
        return EV_OK;
    }
    EV_TRY(need_float(c, x));
    if (fmin == 0.0f && (fmax == 6.0f || isinf(fmax)) &&
        try_fuse(c, x, y, fmax == 6.0f ? EV_ACT_RELU6 : EV_ACT_RELU))
        return EV_OK;
    int cur = x->t;
    int ird[EV_MAX_DIMS] = {0};
    ir_dims(x->ndim, x->dims, x->nhwc, ird);
    if (fmin == 0.0f && (fmax == 6.0f || isinf(fmax))) {
        int t;
        EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, x->nhwc, NULL, &t));
        int six = fmax == 6.0f;
        add_op(c, six ? EV_OP_RELU6 : EV_OP_RELU, six ? "RELU6" : "RELU", six ? 21 : 19, 1, &cur,
               t);
        return gb_check(c);
    }
    int steps = !isinf(fmin) + !isinf(fmax);
    if (steps == 0) { /* no bounds: a copy */
        int t;
        EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, x->nhwc, NULL, &t));
        int op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &cur, t);
        if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
        return gb_check(c);
    }
    for (int s = 0; s < 2; s++) {
        float bound = s == 0 ? fmin : fmax;
        if (isinf(bound)) continue;
        int k = gb_tensor(&c->b, s ? "clip_max" : "clip_min", EV_DTYPE_F32, 0, NULL, &bound,
                          sizeof bound, 0, NULL, NULL, 0);
        int last = --steps == 0;
        int t;
        if (last) {
            EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, x->nhwc, NULL, &t));
        } else {
            t = new_act(c, "clip_lo", EV_DTYPE_F32, x->ndim, ird, NULL);
        }
        int ins[2] = {cur, k};
        add_op(c, s ? EV_OP_MINIMUM : EV_OP_MAXIMUM, s ? "MINIMUM" : "MAXIMUM", s ? 57 : 55, 2,
               ins, t);
        EV_TRY(gb_check(c));
        cur = t;
    }
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Quantization parameters                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Scale and zero point constants of a per-tensor quantization (zp may be absent: 0, uint8). */
static ev_status qparams(oc *c, int js, int jz, float *scale, int32_t *zp, ev_dtype *zdt) {
    oval *s, *z;
    EV_TRY(in_const(c, js, 1, &s));
    EV_TRY(in_const(c, jz, 0, &z));
    if (s->elems != 1 || s->dtype != EV_DTYPE_F32 || (z && z->elems != 1))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "per-axis quantization ('%s' has %zu scales) "
                         "is supported for constant weights only", s->name, s->elems);
    *scale = ((const float *)s->data)[0];
    if (!(*scale > 0.0f) || isinf(*scale))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "scale %g (must be positive and finite)",
                         (double)*scale);
    *zp = z ? (int32_t)cget(z, 0) : 0;
    *zdt = z ? z->dtype : EV_DTYPE_U8;
    if (*zdt != EV_DTYPE_U8 && *zdt != EV_DTYPE_I8)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "zero point of type %s (uint8 or int8)",
                         ev_dtype_name(*zdt));
    return EV_OK;
}

/* Gives the activation x the quantization (scale, zp): set on its IR tensor when it has none
 * yet (a graph input, or a tensor no quantized op has read), checked otherwise. */
static ev_status bind_quant(oc *c, oval *x, float scale, int32_t zp, ev_dtype dt) {
    if (x->kind != OV_TENSOR)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "quantized input '%s' is a constant", x->name);
    if (x->dtype != dt)
        return NODE_FAIL(c, EV_ERR_SHAPE, "input '%s' is %s, its zero point %s", x->name,
                         ev_dtype_name(x->dtype), ev_dtype_name(dt));
    int ts[2] = {x->t, x->t_other};
    for (int i = 0; i < 2; i++) {
        if (ts[i] < 0) continue;
        ev_tensor *t = &c->b.g.tensors[ts[i]];
        if (t->quant.count == 0) {
            t->quant.scale = malloc(sizeof(float));
            t->quant.zero_point = malloc(sizeof(int32_t));
            if (!t->quant.scale || !t->quant.zero_point)
                return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            t->quant.count = 1;
            t->quant.scale[0] = scale;
            t->quant.zero_point[0] = zp;
        } else if (t->quant.count != 1 || t->quant.scale[0] != scale ||
                   t->quant.zero_point[0] != zp) {
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "'%s' is read with scale %g zero point %d, "
                             "but it holds scale %g zero point %d (requantization between "
                             "QLinear ops is not supported)", x->name, (double)scale, zp,
                             (double)t->quant.scale[0], t->quant.zero_point[0]);
        }
    }
    return EV_OK;
}

/* Integer inputs of data-movement ops must carry their quantization (so the IR knows it). */
static ev_status need_known(oc *c, const oval *x) {
    if (x->dtype == EV_DTYPE_F32) return EV_OK;
    if ((x->dtype == EV_DTYPE_U8 || x->dtype == EV_DTYPE_I8) && x->kind == OV_TENSOR &&
        irt(c, x->t)->quant.count == 1)
        return EV_OK;
    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input '%s' is %s%s; supported: float, or 8-bit "
                     "tensors quantized by QuantizeLinear / a QLinear op", x->name,
                     ev_dtype_name(x->dtype), x->kind == OV_CONST ? " (a constant)" : "");
}

/* ------------------------------------------------------------------------------------------ */
/* Convolution                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* The auto_pad attribute (default NOTSET) into ap[32], checked to be NOTSET, VALID, SAME_UPPER
 * or SAME_LOWER; *same: one of the last two. */
static ev_status auto_pad_attr(const oc *c, char *ap, int *same) {
    EV_TRY(attr_str(c, "auto_pad", "NOTSET", ap, 32));
    *same = strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0;
    if (!*same && strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
        return NODE_FAIL(c, EV_ERR_FORMAT, "auto_pad '%s'", ap);
    return EV_OK;
}

typedef struct conv_geo {
    int kh, kw, sh, sw, dh, dw, group;
    int pt, pl, pb, pr;    /* explicit padding (after auto_pad)                              */
    int oh, ow;
    ev_padding padding;    /* SAME when TFLite's SAME reproduces the padding, else VALID     */
    int need_pad;          /* VALID with an explicit PAD before                               */
} conv_geo;

/* Reads kernel_shape/strides/dilations/pads/auto_pad for a 2-D window over an NCHW input of
 * spatial size ih x iw (kernel from the weights when given: kh0, kw0 > 0). `ceil_mode` for
 * pools. `pad_ok`: an explicit PAD may be inserted (convolutions; average pools counting
 * padding) */
/* A 1-D window's attribute lifted to 2-D (H = 1): one entry per spatial dim becomes {1, v}
 * (pads {b, e} become {0, b, 0, e}). */
static void lift_1d(int64_t *v, int *n, int is_pads, int64_t one) {
    if (is_pads && *n == 2) {
        int64_t b = v[0], e = v[1];
        v[0] = 0, v[1] = b, v[2] = 0, v[3] = e;
        *n = 4;
    } else if (!is_pads && *n == 1) {
        v[1] = v[0];
        v[0] = one;
        *n = 2;
    }
}

static ev_status window(oc *c, int ih, int iw, int kh0, int kw0, int ceil_mode, conv_geo *g) {
    int64_t v[8];
    int n;
    memset(g, 0, sizeof *g);
    EV_TRY(attr_ints(c, "kernel_shape", 8, v, &n));
    if (c->one_d) lift_1d(v, &n, 0, 1);
    if (n >= 0 && n != 2)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a %d-D window (2-D only)", n);
    if (n == 2 && kh0 > 0 && (v[0] != kh0 || v[1] != kw0))
        return NODE_FAIL(c, EV_ERR_SHAPE, "kernel_shape %lldx%lld, weights %dx%d",
                         (long long)v[0], (long long)v[1], kh0, kw0);
    if (n < 0 && kh0 <= 0) return NODE_FAIL(c, EV_ERR_FORMAT, "no kernel_shape");
    g->kh = n == 2 ? (int)v[0] : kh0;
    g->kw = n == 2 ? (int)v[1] : kw0;
    if (n == 2 && (v[0] < 1 || v[1] < 1 || v[0] > 65536 || v[1] > 65536))
        return NODE_FAIL(c, EV_ERR_FORMAT, "kernel_shape %lldx%lld", (long long)v[0],
                         (long long)v[1]);
    EV_TRY(attr_ints(c, "strides", 8, v, &n));
    if (c->one_d) lift_1d(v, &n, 0, 1);
    g->sh = g->sw = 1;
    if (n == 2) g->sh = (int)v[0], g->sw = (int)v[1];
    if (n >= 0 && (n != 2 || v[0] < 1 || v[1] < 1 || v[0] > 65536 || v[1] > 65536))
        return NODE_FAIL(c, EV_ERR_FORMAT, "bad strides");
    EV_TRY(attr_ints(c, "dilations", 8, v, &n));
    if (c->one_d) lift_1d(v, &n, 0, 1);
    g->dh = g->dw = 1;
    if (n == 2) g->dh = (int)v[0], g->dw = (int)v[1];
    if (n >= 0 && (n != 2 || v[0] < 1 || v[1] < 1 || v[0] > 65536 || v[1] > 65536))
        return NODE_FAIL(c, EV_ERR_FORMAT, "bad dilations");
    char ap[32];
    EV_TRY(attr_str(c, "auto_pad", "NOTSET", ap, sizeof ap));
    int eh = (g->kh - 1) * g->dh + 1, ew = (g->kw - 1) * g->dw + 1;
    if (strcmp(ap, "NOTSET") == 0) {
        EV_TRY(attr_ints(c, "pads", 8, v, &n));
        if (c->one_d) lift_1d(v, &n, 1, 0);
        if (n >= 0 && n != 4) return NODE_FAIL(c, EV_ERR_FORMAT, "pads has %d entries", n);
        if (n == 4) {
            for (int i = 0; i < 4; i++)
                if (v[i] < 0 || v[i] > 65536)
                    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "pads entry %lld", (long long)v[i]);
            g->pt = (int)v[0], g->pl = (int)v[1], g->pb = (int)v[2], g->pr = (int)v[3];
        }
    } else if (strcmp(ap, "VALID") == 0) {
        /* no padding */
    } else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
        int lower = ap[5] == 'L';
        int oh = (ih + g->sh - 1) / g->sh, ow = (iw + g->sw - 1) / g->sw;
        int th = (oh - 1) * g->sh + eh - ih, tw = (ow - 1) * g->sw + ew - iw;
        if (th < 0) th = 0;
        if (tw < 0) tw = 0;
        g->pt = lower ? (th + 1) / 2 : th / 2;
        g->pb = th - g->pt;
        g->pl = lower ? (tw + 1) / 2 : tw / 2;
        g->pr = tw - g->pl;
    } else {
        return NODE_FAIL(c, EV_ERR_FORMAT, "auto_pad '%s'", ap);
    }
    int64_t nh = (int64_t)ih + g->pt + g->pb - eh, nw = (int64_t)iw + g->pl + g->pr - ew;
    if (nh < 0 || nw < 0)
        return NODE_FAIL(c, EV_ERR_SHAPE, "window %dx%d larger than the padded input %dx%d", eh,
                         ew, ih + g->pt + g->pb, iw + g->pl + g->pr);
    g->oh = (int)(ceil_mode ? (nh + g->sh - 1) / g->sh : nh / g->sh) + 1;
    g->ow = (int)(ceil_mode ? (nw + g->sw - 1) / g->sw : nw / g->sw) + 1;
    if (ceil_mode) { /* the last window must start inside the input or the leading padding */
        if ((int64_t)(g->oh - 1) * g->sh >= (int64_t)ih + g->pt) g->oh--;
        if ((int64_t)(g->ow - 1) * g->sw >= (int64_t)iw + g->pl) g->ow--;
    }
    /* TFLite's SAME gives out = ceil(in / stride) with pad_before = total / 2 */
    int same_oh = (ih + g->sh - 1) / g->sh, same_ow = (iw + g->sw - 1) / g->sw;
    int same_pt = ev_conv_pad_before(EV_PAD_SAME, ih, g->kh, g->sh, g->dh, same_oh);
    int same_pl = ev_conv_pad_before(EV_PAD_SAME, iw, g->kw, g->sw, g->dw, same_ow);
    int valid_oh = (ih - eh) / g->sh + 1, valid_ow = (iw - ew) / g->sw + 1;
    if (g->pt == 0 && g->pl == 0 && ih >= eh && iw >= ew && g->oh == valid_oh &&
        g->ow == valid_ow) {
        g->padding = EV_PAD_VALID;
    } else if (g->oh == same_oh && g->ow == same_ow && g->pt == same_pt && g->pl == same_pl) {
        g->padding = EV_PAD_SAME;
    } else {
        g->padding = EV_PAD_VALID;
        g->need_pad = 1;
    }
    return EV_OK;
}

/* PAD of an NHWC tensor by the window's explicit padding (zeros / the zero point). */
static ev_status emit_pad_nhwc(oc *c, int in, const conv_geo *g, int *out) {
    const ev_tensor *t = irt(c, in);
    int d[4] = {t->dims[0], t->dims[1] + g->pt + g->pb, t->dims[2] + g->pl + g->pr, t->dims[3]};
    ev_quant q = t->quant;
    ev_dtype dt = t->dtype;
    int32_t pads[8] = {0, 0, g->pt, g->pb, g->pl, g->pr, 0, 0};
    int pd[2] = {4, 2};
    int p = gb_tensor(&c->b, "pads", EV_DTYPE_I32, 2, pd, pads, sizeof pads, 0, NULL, NULL, 0);
    int o = new_act(c, "padded", dt, 4, d, &q);
    int ins[2] = {in, p};
    add_op(c, EV_OP_PAD, "PAD", 34, 2, ins, o);
    EV_TRY(gb_check(c));
    *out = o;
    return EV_OK;
}

/* The BatchNormalization node that alone reads conv output `name` (index), or -1. */
static int bn_after(const oc *c, const oval *y) {
    if (y->uses != 1) return -1;
    for (size_t i = (size_t)c->ni + 1; i < c->gr->n_node; i++) {
        const NodeProto *n = c->gr->node[i];
        for (size_t j = 0; j < n->n_input; j++)
            if (strcmp(n->input[j], y->name) == 0)
                return strcmp(n->op_type, "BatchNormalization") == 0 && j == 0 &&
                               n->n_output == 1 && (!n->domain || !n->domain[0])
                           ? (int)i
                           : -1;
    }
    return -1;
}

/* Per-channel BatchNormalization factors (a, b: y = a * x + b) of node `bi` with constant
 * parameters; 0 when they are not all constants of `ch` channels. */
static int bn_factors(oc *c, int bi, int ch, float **a_out, float **b_out) {
    const NodeProto *n = c->gr->node[bi];
    if (n->n_input < 5) return 0;
    oval *p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = find_val(c, n->input[k + 1]);
        if (!p[k] || decode_init(c, p[k]) != EV_OK) {
            ev_clear_error();
            return 0;
        }
        if (p[k]->kind != OV_CONST || p[k]->elems != (size_t)ch || p[k]->dtype != EV_DTYPE_F32)
            return 0;
    }
    float eps = 1e-5f;
    for (size_t i = 0; i < n->n_attribute; i++)
        if (strcmp(n->attribute[i]->name, "epsilon") == 0 && n->attribute[i]->has_f)
            eps = n->attribute[i]->f;
    float *a = malloc(sizeof(float) * (size_t)ch), *b = malloc(sizeof(float) * (size_t)ch);
    if (!a || !b) {
        free(a), free(b);
        return 0;
    }
    const float *scale = p[0]->data, *bias = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
    for (int k = 0; k < ch; k++) {
        a[k] = (float)((double)scale[k] / sqrt((double)var[k] + (double)eps));
        b[k] = (float)((double)bias[k] - (double)mean[k] * (double)a[k]);
    }
    *a_out = a;
    *b_out = b;
    return 1;
}

static ev_status conv_core(oc *c, int qlinear, oval *x, oval *w, oval *y) {
    oval *bias = NULL;
    int jb = qlinear ? 8 : 2;
    EV_TRY(in_val(c, jb, 0, &bias));
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    if (x->ndim != 4)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a %d-D convolution (input rank %d); only 2-D "
                         "convolutions are supported", x->ndim - 2, x->ndim);
    if (w->kind != OV_CONST || (bias && bias->kind != OV_CONST))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "weights and bias computed at run time");
    if (w->ndim != 4) return NODE_FAIL(c, EV_ERR_SHAPE, "weights of rank %d", w->ndim);
    int64_t group;
    EV_TRY(attr_int(c, "group", 1, &group));
    int cin = x->dims[1], ih = x->dims[2], iw = x->dims[3], n = x->dims[0];
    int cout = w->dims[0], wc = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    if (group < 1 || group > cin || cin % group || cout % group || wc * group != cin)
        return NODE_FAIL(c, EV_ERR_SHAPE, "group %lld with %d input channels and weights "
                         "%dx%dx%dx%d", (long long)group, cin, cout, wc, kh, kw);
    if (bias && (bias->ndim != 1 || bias->dims[0] != cout))
        return NODE_FAIL(c, EV_ERR_SHAPE, "bias of %zu values for %d output channels",
                         bias->elems, cout);
    conv_geo g;
    EV_TRY(window(c, ih, iw, kh, kw, 0, &g));
    int depthwise = group == cin && group > 1 && wc == 1;
    /* quantization */
    float xs = 0, ys = 0, ws1 = 0;
    int32_t xz = 0, yz = 0;
    ev_dtype xdt = EV_DTYPE_F32, ydt = EV_DTYPE_F32;
    float *wsc = NULL;
    int32_t *wzp = NULL;
    int nws = 0;
    if (qlinear) {
        EV_TRY(qparams(c, 1, 2, &xs, &xz, &xdt));
        EV_TRY(qparams(c, 6, 7, &ys, &yz, &ydt));
        oval *s, *z;
        EV_TRY(in_const(c, 4, 1, &s));
        EV_TRY(in_const(c, 5, 0, &z));
        nws = (int)s->elems;
        if (s->dtype != EV_DTYPE_F32 || (nws != 1 && nws != cout) ||
            (z && z->elems != s->elems))
            return NODE_FAIL(c, EV_ERR_SHAPE, "weight scales: %d for %d output channels", nws,
                             cout);
        if (w->dtype != EV_DTYPE_U8 && w->dtype != EV_DTYPE_I8)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "weights of type %s",
                             ev_dtype_name(w->dtype));
        if (xdt != ydt || x->dtype != xdt)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input %s, output %s",
                             ev_dtype_name(x->dtype), ev_dtype_name(ydt));
        if (bias && bias->dtype != EV_DTYPE_I32)
            return NODE_FAIL(c, EV_ERR_FORMAT, "bias of type %s (int32)",
                             ev_dtype_name(bias->dtype));
        wsc = malloc(sizeof(float) * (size_t)nws);
        wzp = malloc(sizeof(int32_t) * (size_t)nws);
        if (!wsc || !wzp) {
            free(wsc), free(wzp);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        for (int i = 0; i < nws; i++) {
            wsc[i] = ((const float *)s->data)[i];
            wzp[i] = z ? (int32_t)cget(z, (size_t)i) : 0;
        }
        ws1 = wsc[0];
        (void)ws1;
        ev_status st = bind_quant(c, x, xs, xz, xdt);
        if (st != EV_OK) {
            free(wsc), free(wzp);
            return st;
        }
    } else {
        EV_TRY(need_float(c, x));
        if (w->dtype != EV_DTYPE_F32 || (bias && bias->dtype != EV_DTYPE_F32))
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "float input with %s weights",
                             ev_dtype_name(w->dtype));
    }
    ev_status st = EV_OK;
    /* weights: depthwise [O,1,kh,kw] -> [1,kh,kw,O]; else [O,I/g,kh,kw] -> OHWI with the full
     * input depth (a grouped conv becomes a block-diagonal one, zeros outside the group) */
    ev_dtype wdt = qlinear ? xdt : EV_DTYPE_F32;
    int wd[4];
    if (depthwise) {
        wd[0] = 1, wd[1] = kh, wd[2] = kw, wd[3] = cout;
    } else {
        wd[0] = cout, wd[1] = kh, wd[2] = kw, wd[3] = cin;
    }
    size_t welems = (size_t)wd[0] * wd[1] * wd[2] * wd[3];
    size_t wes = ev_dtype_size(wdt);
    uint8_t *wbuf = calloc(welems ? welems : 1, wes);
    float *fbias = NULL, *bn_a = NULL, *bn_b = NULL;
    int32_t *qbias = NULL;
    int bn = qlinear || c->one_d ? -1 : bn_after(c, y);
    if (bn >= 0 && !bn_factors(c, bn, cout, &bn_a, &bn_b)) bn = -1;
    int shift8 = 0; /* int8 weights read by a uint8 conv: w + 128 with zero point + 128 */
    if (qlinear && xdt == EV_DTYPE_U8 && w->dtype == EV_DTYPE_I8) shift8 = 128;
    if (qlinear && xdt == EV_DTYPE_I8 && w->dtype == EV_DTYPE_U8) {
        st = NODE_FAIL(c, EV_ERR_UNSUPPORTED, "int8 input with uint8 weights");
        goto done;
    }
    if (qlinear && xdt == EV_DTYPE_U8 && nws > 1) {
        st = NODE_FAIL(c, EV_ERR_UNSUPPORTED, "uint8 input with per-channel weight scales");
        goto done;
    }
    if (qlinear && !depthwise && group > 1) {
        st = NODE_FAIL(c, EV_ERR_UNSUPPORTED, "quantized grouped convolution (group %lld)",
                       (long long)group);
        goto done;
    }
    if (!wbuf) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    int opg = cout / (int)group;
    for (int o = 0; o < cout; o++)
        for (int ci = 0; ci < wc; ci++)
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) {
                    size_t src = (((size_t)o * wc + ci) * kh + i) * kw + j;
                    size_t dst = depthwise
                                     ? ((size_t)i * kw + j) * cout + o
                                     : (((size_t)o * kh + i) * kw + j) * cin +
                                           (size_t)(o / opg) * wc + ci;
                    if (!qlinear) {
                        float f = ((const float *)w->data)[src];
                        if (bn >= 0) f *= bn_a[o];
                        ((float *)wbuf)[dst] = f;
                    } else if (shift8) {
                        ((uint8_t *)wbuf)[dst] = (uint8_t)(((const int8_t *)w->data)[src] + 128);
                    } else {
                        wbuf[dst] = ((const uint8_t *)w->data)[src];
                    }
                }
    int wt, bt = -1;
    if (!qlinear) {
        wt = gb_tensor(&c->b, w->name, EV_DTYPE_F32, 4, wd, wbuf, welems * 4, 0, NULL, NULL, 0);
        if (bias || bn >= 0) {
            fbias = malloc(sizeof(float) * (size_t)cout);
            if (!fbias) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                goto done;
            }
            for (int o = 0; o < cout; o++) {
                float b0 = bias ? ((const float *)bias->data)[o] : 0.0f;
                fbias[o] = bn >= 0 ? b0 * bn_a[o] + bn_b[o] : b0;
            }
            bt = gb_tensor(&c->b, bias ? bias->name : "bn_bias", EV_DTYPE_F32, 1, &cout, fbias,
                           sizeof(float) * (size_t)cout, 0, NULL, NULL, 0);
        }
    } else {
        for (int i = 0; i < nws; i++) wzp[i] += shift8;
        int axis = depthwise ? 3 : 0;
        wt = gb_tensor(&c->b, w->name, wdt, 4, wd, wbuf, welems, nws, wsc, wzp, axis);
        if (bias) {
            float *bsc = malloc(sizeof(float) * (size_t)nws);
            int32_t *bz = calloc((size_t)nws, sizeof(int32_t));
            if (!bsc || !bz) {
                free(bsc), free(bz);
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                goto done;
            }
            for (int i = 0; i < nws; i++) bsc[i] = xs * wsc[i];
            bt = gb_tensor(&c->b, bias->name, EV_DTYPE_I32, 1, &cout, bias->data,
                           sizeof(int32_t) * (size_t)cout, nws, bsc, bz, 0);
            free(bsc), free(bz);
        }
    }
    if ((st = gb_check(c)) != EV_OK) goto done;
    int xin;
    if ((st = layout(c, x, 1, &xin)) != EV_OK) goto done;
    if (g.need_pad && (st = emit_pad_nhwc(c, xin, &g, &xin)) != EV_OK) goto done;
    oval *yv = y;
    if (bn >= 0) { /* the BatchNormalization's output is this conv's */
        c->skip[bn] = 1;
        const NodeProto *bnn = c->gr->node[bn];
        y->kind = OV_TENSOR; /* the conv output itself is only read by the BN */
        yv = find_val(c, bnn->output[0]);
        if (!yv || yv->kind != OV_NONE) {
            st = NODE_FAIL(c, EV_ERR_FORMAT, "BatchNormalization output redefined");
            goto done;
        }
    }
    int od[4] = {n, cout, g.oh, g.ow}, t;
    ev_quant q = {0};
    float qs = ys;
    int32_t qz = yz;
    if (qlinear) q.count = 1, q.scale = &qs, q.zero_point = &qz;
    if ((st = out_tensor(c, yv, qlinear ? ydt : EV_DTYPE_F32, 4, od, 1, &q, &t)) != EV_OK)
        goto done;
    if (bn >= 0) set_tensor(y, t, 1, yv->dtype, 4, od, -1);
    ev_conv_params p = {0};
    p.padding = g.padding;
    p.stride_h = g.sh, p.stride_w = g.sw, p.dilation_h = g.dh, p.dilation_w = g.dw;
    p.depth_multiplier = depthwise ? cout / cin : 1;
    p.activation = EV_ACT_NONE;
    int op = gb_op_conv(&c->b, depthwise ? EV_OP_DEPTHWISE_CONV_2D : EV_OP_CONV_2D, xin, wt, bt,
                        t, p);
    if ((st = gb_check(c)) != EV_OK) goto done;
    yv->producer = op;
done:
    free(wbuf), free(fbias), free(bn_a), free(bn_b), free(qbias), free(wsc), free(wzp);
    return st;
}


static ev_status emit_reshape_to(oc *c, oval *x, oval *y, int nd, const int *dims);
static ev_status conv_nd(oc *c, int transposed, oval *x, oval *w, oval *y);

/* A rank-3 value [N, C, L] as rank 4 [N, C, 1, L] into *tmp (a RESHAPE of the activation, or
 * the constant's data viewed with the new dims): 1-D convolutions and pools run as 2-D ones. */
static ev_status lift_val(oc *c, const oval *x, oval *tmp) {
    *tmp = *x;
    tmp->ndim = 4;
    tmp->dims[0] = x->dims[0], tmp->dims[1] = x->dims[1], tmp->dims[2] = 1;
    tmp->dims[3] = x->dims[2];
    tmp->t_other = tmp->cmat[0] = tmp->cmat[1] = tmp->producer = -1;
    if (x->kind != OV_TENSOR) return EV_OK;
    ev_quant q = irt(c, x->t)->quant;
    int t = new_act(c, x->name, x->dtype, 4, tmp->dims, &q);
    int op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &x->t, t);
    if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
    EV_TRY(gb_check(c));
    tmp->t = t;
    tmp->nhwc = 0;
    return EV_OK;
}

/* Runs a 1-D op lifted to 2-D: x (and w) lifted, the op's 4-D output reshaped to y's rank 3. */
static ev_status emit_conv(oc *c, int qlinear) {
    oval *x, *w, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(in_val(c, qlinear ? 3 : 1, 1, &w));
    EV_TRY(out_val(c, 0, &y));
    if (!qlinear && x->ndim >= 5) return conv_nd(c, 0, x, w, y);
    if (qlinear || x->ndim != 3 || w->ndim != 3 || x->kind != OV_TENSOR)
        return conv_core(c, qlinear, x, w, y);
    oval x4, w4, y4 = {0};
    EV_TRY(lift_val(c, x, &x4));
    EV_TRY(lift_val(c, w, &w4));
    y4.name = y->name;
    y4.t = y4.t_other = y4.cmat[0] = y4.cmat[1] = y4.producer = -1;
    c->one_d = 1;
    ev_status st = conv_core(c, qlinear, &x4, &w4, &y4);
    c->one_d = 0;
    EV_TRY(st);
    int d3[3] = {y4.dims[0], y4.dims[1], y4.dims[3]};
    return emit_reshape_to(c, &y4, y, 3, d3);
}

/* Conv / ConvTranspose over 3 or 4 spatial dims (rank 5-6 input), float32: CONV_ND in the
 * declared (channel-first) layout, ONNX's weights as they are, the output size as ONNX defines
 * it (pads or auto_pad; for ConvTranspose output_padding / output_shape as convt_core). */
static ev_status conv_nd(oc *c, int transposed, oval *x, oval *w, oval *y) {
    oval *bias = NULL;
    EV_TRY(in_val(c, 2, 0, &bias));
    int ns = x->ndim - 2;
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    if (ns < 1 || ns > EV_POOL_ND_MAX)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a convolution over %d dims (1 to %d)", ns,
                         EV_POOL_ND_MAX);
    if (w->kind != OV_CONST || (bias && bias->kind != OV_CONST))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "weights and bias computed at run time");
    EV_TRY(need_float(c, x));
    if (w->dtype != EV_DTYPE_F32 || (bias && bias->dtype != EV_DTYPE_F32))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "float input with %s weights",
                         ev_dtype_name(w->dtype));
    if (w->ndim != x->ndim)
        return NODE_FAIL(c, EV_ERR_SHAPE, "weights of rank %d for an input of rank %d", w->ndim,
                         x->ndim);
    int64_t group;
    EV_TRY(attr_int(c, "group", 1, &group));
    int cin = x->dims[1];
    if (group < 1 || group > cin || cin % group || w->dims[1] < 1 || w->dims[0] < 1 ||
        (transposed ? w->dims[0] != cin : (int64_t)w->dims[1] * group != cin ||
                                             w->dims[0] % group) ||
        (transposed && (int64_t)w->dims[1] * group > 65536))
        return NODE_FAIL(c, EV_ERR_SHAPE, "group %lld with %d input channels and weights "
                         "%dx%d...", (long long)group, cin, w->dims[0], w->dims[1]);
    int cout = transposed ? w->dims[1] * (int)group : w->dims[0];
    if (bias && (bias->ndim != 1 || bias->dims[0] != cout))
        return NODE_FAIL(c, EV_ERR_SHAPE, "bias of %zu values for %d output channels",
                         bias->elems, cout);
    for (int i = 0; i < ns; i++)
        if (w->dims[2 + i] < 1)
            return NODE_FAIL(c, EV_ERR_SHAPE, "an empty kernel (weights dim %d is %d)", 2 + i,
                             w->dims[2 + i]);
    ev_conv_nd_params p = {0};
    p.transposed = transposed;
    p.group = (int)group;
    int64_t v[2 * EV_MAX_DIMS + 2], st[EV_POOL_ND_MAX], dl[EV_POOL_ND_MAX];
    int64_t opad[EV_POOL_ND_MAX] = {0}, oshape[EV_POOL_ND_MAX], pads[2 * EV_POOL_ND_MAX] = {0};
    int n;
    EV_TRY(attr_ints(c, "kernel_shape", 2 * EV_MAX_DIMS, v, &n));
    for (int i = 0; i < ns && n >= 0; i++)
        if (n != ns || v[i] != w->dims[2 + i])
            return NODE_FAIL(c, EV_ERR_SHAPE, "kernel_shape differs from the weights");
    static const char *const names[4] = {"strides", "dilations", "output_padding",
                                         "output_shape"};
    int64_t *dst[4] = {st, dl, opad, oshape};
    for (int a = 0; a < 4; a++) {
        for (int i = 0; i < ns; i++) dst[a][i] = a < 2 ? 1 : a == 2 ? 0 : -1;
        if (a >= 2 && !transposed) continue;
        EV_TRY(attr_ints(c, names[a], 2 * EV_MAX_DIMS, v, &n));
        if (n < 0) continue;
        int off = a == 3 && n == ns + 2 ? 2 : 0; /* output_shape may give N and C */
        if (n != ns + off)
            return NODE_FAIL(c, EV_ERR_FORMAT, "%s has %d entries for %d spatial dims",
                             names[a], n, ns);
        for (int i = 0; i < ns; i++) {
            if (v[off + i] < (a == 2 ? 0 : 1) || v[off + i] > 65536)
                return NODE_FAIL(c, EV_ERR_FORMAT, "%s entry %lld", names[a],
                                 (long long)v[off + i]);
            dst[a][i] = v[off + i];
        }
    }
    char ap[32];
    int same;
    EV_TRY(auto_pad_attr(c, ap, &same));
    if (strcmp(ap, "NOTSET") == 0) {
        EV_TRY(attr_ints(c, "pads", 2 * EV_MAX_DIMS, v, &n));
        if (n >= 0 && n != 2 * ns)
            return NODE_FAIL(c, EV_ERR_FORMAT, "pads has %d entries for %d spatial dims", n, ns);
        for (int i = 0; i < 2 * ns && n >= 0; i++) {
            if (v[i] < 0 || v[i] > 65536)
                return NODE_FAIL(c, EV_ERR_FORMAT, "pads entry %lld", (long long)v[i]);
            pads[i] = v[i];
        }
    }
    int od[EV_MAX_DIMS] = {x->dims[0], cout};
    for (int i = 0; i < ns; i++) {
        int64_t in = x->dims[2 + i], eff = (int64_t)(w->dims[2 + i] - 1) * dl[i] + 1, out;
        int64_t pb;
        if (transposed) {
            int64_t full = st[i] * (in - 1) + opad[i] + eff;
            if (opad[i] >= st[i] && opad[i] >= dl[i])
                return NODE_FAIL(c, EV_ERR_FORMAT, "output_padding %lld not below the stride or "
                                 "dilation", (long long)opad[i]);
            if (oshape[i] > 0 || same) {
                out = oshape[i] > 0 ? oshape[i] : in * st[i];
                int64_t total = full - out, half = total >= 0 ? total / 2 : -((1 - total) / 2);
                pb = strcmp(ap, "SAME_UPPER") == 0 ? half : total - half;
            } else {
                out = full - pads[i] - pads[ns + i];
                pb = pads[i];
            }
        } else if (same) {
            out = (in + st[i] - 1) / st[i];
            int64_t total = (out - 1) * st[i] + eff - in;
            if (total < 0) total = 0;
            pb = ap[5] == 'L' ? (total + 1) / 2 : total / 2;
        } else {
            int64_t span = in + pads[i] + pads[ns + i] - eff;
            if (span < 0)
                return NODE_FAIL(c, EV_ERR_SHAPE, "window %lld larger than the padded input",
                                 (long long)eff);
            out = span / st[i] + 1;
            pb = pads[i];
        }
        if (out < 1 || out > INT32_MAX / 2 || pb < -65536 || pb > 65536)
            return NODE_FAIL(c, EV_ERR_SHAPE, "output size %lld", (long long)out);
        od[2 + i] = (int)out;
        p.stride[i] = (int)st[i], p.dilation[i] = (int)dl[i], p.pad_begin[i] = (int)pb;
    }
    int ins[3] = {0, -1, -1}, nin = bias ? 3 : 2, t;
    EV_TRY(const_tensor(c, w, 0, &ins[1]));
    if (bias) EV_TRY(const_tensor(c, bias, 0, &ins[2]));
    EV_TRY(layout(c, x, 0, &ins[0]));
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, od, 0, NULL, &t));
    int op = gb_op(&c->b, EV_OP_CONV_ND, "CONV_ND", -1, nin, ins, 1, &t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.conv_nd = p;
    return EV_OK;
}

/* ConvTranspose (float32, 2-D; 1-D lifted to 2-D) as CONV_TRANSPOSE: weights [I, O / group, kh,
 * kw] -> [I, kh, kw, O / group]; the output size from output_shape, auto_pad SAME_* (in *
 * stride) or the pads, with output_padding, as ONNX defines them. */
static ev_status convt_core(oc *c, oval *x, oval *w, oval *y) {
    oval *bias = NULL;
    EV_TRY(in_val(c, 2, 0, &bias));
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    if (x->ndim != 4)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a %d-D convolution (input rank %d); only 2-D "
                         "convolutions are supported", x->ndim - 2, x->ndim);
    if (w->kind != OV_CONST || (bias && bias->kind != OV_CONST))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "weights and bias computed at run time");
    EV_TRY(need_float(c, x));
    if (w->dtype != EV_DTYPE_F32 || (bias && bias->dtype != EV_DTYPE_F32))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "float input with %s weights",
                         ev_dtype_name(w->dtype));
    if (w->ndim != 4) return NODE_FAIL(c, EV_ERR_SHAPE, "weights of rank %d", w->ndim);
    int64_t group;
    EV_TRY(attr_int(c, "group", 1, &group));
    int cin = x->dims[1], in[2] = {x->dims[2], x->dims[3]};
    int ocg = w->dims[1], k[2] = {w->dims[2], w->dims[3]};
    if (group < 1 || group > cin || cin % group || w->dims[0] != cin || ocg < 1 ||
        (int64_t)ocg * group > 65536)
        return NODE_FAIL(c, EV_ERR_SHAPE, "group %lld with %d input channels and weights "
                         "%dx%dx%dx%d", (long long)group, cin, w->dims[0], ocg, k[0], k[1]);
    int cout = ocg * (int)group;
    if (k[0] < 1 || k[1] < 1)
        return NODE_FAIL(c, EV_ERR_SHAPE, "an empty kernel (%dx%d)", k[0], k[1]);
    if (bias && (bias->ndim != 1 || bias->dims[0] != cout))
        return NODE_FAIL(c, EV_ERR_SHAPE, "bias of %zu values for %d output channels",
                         bias->elems, cout);
    int64_t v[8], st[2] = {1, 1}, dl[2] = {1, 1}, opad[2] = {0, 0}, pads[4] = {0, 0, 0, 0};
    int64_t oshape[2] = {-1, -1};
    int n;
    EV_TRY(attr_ints(c, "kernel_shape", 8, v, &n));
    if (c->one_d) lift_1d(v, &n, 0, 1);
    if (n >= 0 && (n != 2 || v[0] != k[0] || v[1] != k[1]))
        return NODE_FAIL(c, EV_ERR_SHAPE, "kernel_shape (%d entries) differs from the weights "
                         "%dx%d", n, k[0], k[1]);
    static const char *const names[4] = {"strides", "dilations", "output_padding",
                                         "output_shape"};
    int64_t *dst[4] = {st, dl, opad, oshape};
    for (int a = 0; a < 4; a++) {
        EV_TRY(attr_ints(c, names[a], 8, v, &n));
        if (c->one_d) lift_1d(v, &n, 0, a == 2 ? 0 : 1);
        if (a == 3 && n == 4) v[0] = v[2], v[1] = v[3], n = 2; /* N, C, H, W given */
        if (n < 0) continue;
        if (n != 2) return NODE_FAIL(c, EV_ERR_FORMAT, "%s has %d entries", names[a], n);
        for (int d = 0; d < 2; d++) {
            if (v[d] < (a == 2 ? 0 : 1) || v[d] > 65536)
                return NODE_FAIL(c, EV_ERR_FORMAT, "%s entry %lld", names[a], (long long)v[d]);
            dst[a][d] = v[d];
        }
    }
    char ap[32];
    int same;
    EV_TRY(auto_pad_attr(c, ap, &same));
    if (strcmp(ap, "NOTSET") == 0) {
        EV_TRY(attr_ints(c, "pads", 8, v, &n));
        if (c->one_d) lift_1d(v, &n, 1, 0);
        if (n >= 0 && n != 4) return NODE_FAIL(c, EV_ERR_FORMAT, "pads has %d entries", n);
        for (int i = 0; i < 4 && n == 4; i++) {
            if (v[i] < 0 || v[i] > 65536)
                return NODE_FAIL(c, EV_ERR_FORMAT, "pads entry %lld", (long long)v[i]);
            pads[i] = v[i];
        }
    }
    int od[2], pb[2];
    for (int d = 0; d < 2; d++) {
        int64_t full = st[d] * (in[d] - 1) + opad[d] + (k[d] - 1) * dl[d] + 1, out;
        if (opad[d] >= st[d] && opad[d] >= dl[d])
            return NODE_FAIL(c, EV_ERR_FORMAT, "output_padding %lld not below the stride or "
                             "dilation", (long long)opad[d]);
        if (oshape[d] > 0 || same) {
            out = oshape[d] > 0 ? oshape[d] : (int64_t)in[d] * st[d];
            /* ONNX's split (floor division: a negative total, output_shape beyond the full
             * size, adds the extra rows at the end): SAME_UPPER puts the odd one last */
            int64_t total = full - out, half = total >= 0 ? total / 2 : -((1 - total) / 2);
            pb[d] = (int)(strcmp(ap, "SAME_UPPER") == 0 ? half : total - half);
        } else {
            out = full - pads[d] - pads[d + 2];
            pb[d] = (int)pads[d];
        }
        if (out < 1 || out > INT32_MAX / 2)
            return NODE_FAIL(c, EV_ERR_SHAPE, "output size %lld", (long long)out);
        od[d] = (int)out;
    }
    /* weights [I, O/g, kh, kw] -> [I, kh, kw, O/g] */
    int wd[4] = {cin, k[0], k[1], ocg};
    size_t welems = (size_t)cin * (size_t)ocg * (size_t)k[0] * (size_t)k[1];
    float *wbuf = malloc(sizeof(float) * (welems ? welems : 1));
    if (!wbuf) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    const float *ws = w->data;
    for (int i = 0; i < cin; i++)
        for (int o = 0; o < ocg; o++)
            for (int a = 0; a < k[0]; a++)
                for (int b = 0; b < k[1]; b++)
                    wbuf[(((size_t)i * k[0] + a) * k[1] + b) * ocg + o] =
                        ws[(((size_t)i * ocg + o) * k[0] + a) * k[1] + b];
    int wt = gb_tensor(&c->b, w->name, EV_DTYPE_F32, 4, wd, wbuf, sizeof(float) * welems, 0, NULL,
                       NULL, 0);
    free(wbuf);
    EV_TRY(gb_check(c));
    int ins[3] = {0, wt, -1}, nin = 2;
    if (bias) {
        EV_TRY(const_tensor(c, bias, 0, &ins[2]));
        nin = 3;
    }
    EV_TRY(layout(c, x, 1, &ins[0]));
    int yd[4] = {x->dims[0], cout, od[0], od[1]}, t;
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, 4, yd, 1, NULL, &t));
    int op = gb_op(&c->b, EV_OP_CONV_TRANSPOSE, "CONV_TRANSPOSE", 67, nin, ins, 1, &t);
    EV_TRY(gb_check(c));
    ev_conv_transpose_params *p = &c->b.g.ops[op].p.convt;
    p->stride_h = (int)st[0], p->stride_w = (int)st[1];
    p->dilation_h = (int)dl[0], p->dilation_w = (int)dl[1];
    p->pad_top = pb[0], p->pad_left = pb[1];
    p->group = (int)group;
    return EV_OK;
}

static ev_status emit_conv_transpose(oc *c) {
    oval *x, *w, *y;
    EV_TRY(in2_out1(c, &x, &w, &y));
    if (x->ndim >= 5) return conv_nd(c, 1, x, w, y);
    if (x->ndim != 3 || w->ndim != 3 || x->kind != OV_TENSOR) return convt_core(c, x, w, y);
    oval x4, w4, y4 = {0};
    EV_TRY(lift_val(c, x, &x4));
    EV_TRY(lift_val(c, w, &w4));
    y4.name = y->name;
    y4.t = y4.t_other = y4.cmat[0] = y4.cmat[1] = y4.producer = -1;
    c->one_d = 1;
    ev_status st = convt_core(c, &x4, &w4, &y4);
    c->one_d = 0;
    EV_TRY(st);
    int d3[3] = {y4.dims[0], y4.dims[1], y4.dims[3]};
    return emit_reshape_to(c, &y4, y, 3, d3);
}

/* ------------------------------------------------------------------------------------------ */
/* Pools                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* 1 when every value of IR tensor t is >= 0 by construction: written by RELU, RELU6 or
 * LOGISTIC, or by an op whose fused activation is RELU or RELU6, or through a pool or reshape
 * of such a tensor; or quantized with the zero point at the bottom of its range. A max pool of
 * such a tensor may then pad with zeros (the zero point) instead of ignoring padded taps. */
static int nonneg_tensor(const oc *c, int t) {
    for (int hops = 0; hops < 8; hops++) {
        const ev_tensor *ten = irt(c, t);
        if (ten->quant.count == 1 &&
            ((ten->dtype == EV_DTYPE_U8 && ten->quant.zero_point[0] == 0) ||
             (ten->dtype == EV_DTYPE_I8 && ten->quant.zero_point[0] == -128)))
            return 1;
        const ev_op *op = NULL;
        for (int i = c->b.g.num_ops - 1; i >= 0 && !op; i--)
            if (c->b.g.ops[i].num_outputs == 1 && c->b.g.ops[i].outputs[0] == t)
                op = &c->b.g.ops[i];
        if (!op) return 0;
        ev_activation a = EV_ACT_NONE;
        switch (op->type) {
        case EV_OP_RELU:
        case EV_OP_RELU6:
        case EV_OP_LOGISTIC: return 1;
        case EV_OP_CONV_2D:
        case EV_OP_DEPTHWISE_CONV_2D: a = op->p.conv.activation; break;
        case EV_OP_FULLY_CONNECTED: a = op->p.fc.activation; break;
        case EV_OP_ADD: a = op->p.add.activation; break;
        case EV_OP_AVERAGE_POOL_2D:
        case EV_OP_MAX_POOL_2D:
            if (op->p.pool.activation == EV_ACT_RELU || op->p.pool.activation == EV_ACT_RELU6)
                return 1;
            t = op->inputs[0]; /* the pool of a non-negative tensor is non-negative */
            continue;
        case EV_OP_RESHAPE:
        case EV_OP_TRANSPOSE:
            t = op->inputs[0];
            continue;
        default: return 0;
        }
        return a == EV_ACT_RELU || a == EV_ACT_RELU6;
    }
    return 0;
}

static ev_status pool_core(oc *c, int is_max, oval *x, oval *y) {
    if (c->nd->n_output > 1 && c->nd->output[1][0])
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "the Indices output of MaxPool");
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    if (x->ndim != 4)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a %d-D pool (input rank %d); only 2-D pools "
                         "are supported", x->ndim - 2, x->ndim);
    EV_TRY(need_known(c, x));
    int64_t ceil_mode, cip, so;
    EV_TRY(attr_int(c, "ceil_mode", 0, &ceil_mode));
    EV_TRY(attr_int(c, "count_include_pad", 0, &cip));
    EV_TRY(attr_int(c, "storage_order", 0, &so));
    if (so) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "storage_order 1");
    conv_geo g;
    EV_TRY(window(c, x->dims[2], x->dims[3], 0, 0, (int)ceil_mode, &g));
    if (g.dh != 1 || g.dw != 1)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "dilated pooling (%dx%d)", g.dh, g.dw);
    int xin, avg_fix = 0;
    EV_TRY(layout(c, x, 1, &xin));
    if (!is_max && cip && (g.pt || g.pl || g.pb || g.pr)) {
        /* padding counted: pad with zeros and pool VALID */
        if (ceil_mode && g.need_pad)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "ceil_mode with count_include_pad");
        if (x->dtype != EV_DTYPE_F32)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "count_include_pad on a quantized input");
        EV_TRY(emit_pad_nhwc(c, xin, &g, &xin));
        g.padding = EV_PAD_VALID;
        g.need_pad = 0;
    } else if (g.need_pad && is_max && nonneg_tensor(c, xin)) {
        /* a max over values >= 0: zero padding changes nothing (a window always holds an
         * input value), so pad explicitly (bottom / right as far as the last window reaches,
         * ceil_mode included) and pool VALID: ResNet's stem pool (3x3/2, pads 1) */
        int need_b = (g.oh - 1) * g.sh + g.kh - x->dims[2] - g.pt;
        int need_r = (g.ow - 1) * g.sw + g.kw - x->dims[3] - g.pl;
        if (need_b > g.pb) g.pb = need_b;
        if (need_r > g.pr) g.pr = need_r;
        EV_TRY(emit_pad_nhwc(c, xin, &g, &xin));
        g.padding = EV_PAD_VALID;
        g.need_pad = 0;
    } else if (g.need_pad && x->dtype == EV_DTYPE_F32) {
        /* explicit padding TFLite's SAME does not reproduce, on float: padded taps are never
         * counted (max, average without count_include_pad). Pad explicitly (bottom / right as
         * far as the last window reaches, ceil_mode included) and pool VALID: a max pool pads
         * with -inf (PAD_EX), an average pool with zeros, its sums then rescaled per output
         * pixel by kh * kw / (the window's taps inside the input): a MUL by a constant
         * [1, OH, OW, 1] */
        int need_b = (g.oh - 1) * g.sh + g.kh - x->dims[2] - g.pt;
        int need_r = (g.ow - 1) * g.sw + g.kw - x->dims[3] - g.pl;
        if (need_b > g.pb) g.pb = need_b;
        if (need_r > g.pr) g.pr = need_r;
        if (is_max) {
            const ev_tensor *it = irt(c, xin);
            int d[4] = {it->dims[0], it->dims[1] + g.pt + g.pb, it->dims[2] + g.pl + g.pr,
                        it->dims[3]};
            int32_t pads[8] = {0, 0, g.pt, g.pb, g.pl, g.pr, 0, 0};
            int pd[2] = {4, 2};
            int pt = gb_tensor(&c->b, "pads", EV_DTYPE_I32, 2, pd, pads, sizeof pads, 0, NULL,
                               NULL, 0);
            int o = new_act(c, "padded", EV_DTYPE_F32, 4, d, NULL);
            int ins[2] = {xin, pt};
            int op = add_op(c, EV_OP_PAD_EX, "PAD_EX", -1, 2, ins, o);
            EV_TRY(gb_check(c));
            c->b.g.ops[op].p.pad_ex.mode = EV_PADMODE_CONSTANT;
            c->b.g.ops[op].p.pad_ex.value = -INFINITY;
            xin = o;
        } else {
            EV_TRY(emit_pad_nhwc(c, xin, &g, &xin));
            avg_fix = 1;
        }
        g.padding = EV_PAD_VALID;
        g.need_pad = 0;
    } else if (g.need_pad) {
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "pads (%d, %d, %d, %d)%s that TFLite's SAME "
                         "padding does not reproduce on a quantized input", g.pt, g.pl, g.pb,
                         g.pr, ceil_mode ? " with ceil_mode" : "");
    }
    int od[4] = {x->dims[0], x->dims[1], g.oh, g.ow}, t, tp;
    ev_quant q = irt(c, xin)->quant;
    if (avg_fix) {
        int pd[4] = {od[0], g.oh, g.ow, od[1]};
        tp = new_act(c, "pool_sum", EV_DTYPE_F32, 4, pd, NULL);
        EV_TRY(gb_check(c));
    } else {
        EV_TRY(out_tensor(c, y, x->dtype, 4, od, 1, &q, &t));
        tp = t;
    }
    int op = add_op(c, is_max ? EV_OP_MAX_POOL_2D : EV_OP_AVERAGE_POOL_2D,
                    is_max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", is_max ? 17 : 1, 1, &xin, tp);
    EV_TRY(gb_check(c));
    ev_pool_params *pp = &c->b.g.ops[op].p.pool;
    pp->padding = g.padding;
    pp->stride_h = g.sh, pp->stride_w = g.sw, pp->filter_h = g.kh, pp->filter_w = g.kw;
    /* the IR's output size must be TFLite's for that padding */
    const ev_tensor *it = irt(c, xin);
    int th = ev_conv_out_size(g.padding, it->dims[1], g.kh, g.sh, 1);
    int tw = ev_conv_out_size(g.padding, it->dims[2], g.kw, g.sw, 1);
    if (th != g.oh || tw != g.ow)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "output %dx%d where TFLite's %s pooling gives "
                         "%dx%d", g.oh, g.ow, g.padding == EV_PAD_SAME ? "SAME" : "VALID", th, tw);
    if (!avg_fix) return EV_OK;
    /* the average over the taps inside the input: sum / (kh * kw) * (kh * kw / count) */
    size_t nf = (size_t)g.oh * (size_t)g.ow;
    if (nf > ONNX_MAX_FOLD)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a padding correction of over %d values",
                         ONNX_MAX_FOLD);
    float *f = malloc(sizeof(float) * nf);
    if (!f) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < g.oh; i++)
        for (int j = 0; j < g.ow; j++) {
            long y0 = (long)i * g.sh - g.pt, x0 = (long)j * g.sw - g.pl;
            long y1 = y0 + g.kh, x1 = x0 + g.kw;
            long ch = (y1 < x->dims[2] ? y1 : x->dims[2]) - (y0 > 0 ? y0 : 0);
            long cw = (x1 < x->dims[3] ? x1 : x->dims[3]) - (x0 > 0 ? x0 : 0);
            f[(size_t)i * g.ow + j] = ch > 0 && cw > 0 ? (float)((double)g.kh * g.kw /
                                                                  ((double)ch * cw))
                                                       : 0.0f;
        }
    int fd[4] = {1, g.oh, g.ow, 1};
    int ft = gb_tensor(&c->b, "pool_count", EV_DTYPE_F32, 4, fd, f, sizeof(float) * nf, 0, NULL,
                       NULL, 0);
    free(f);
    EV_TRY(gb_check(c));
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, 4, od, 1, NULL, &t));
    int mi[2] = {tp, ft};
    add_op(c, EV_OP_MUL, "MUL", 18, 2, mi, t);
    return gb_check(c);
}

/* MaxPool / AveragePool over 3-D windows (rank-5 input) or with dilations, on float32: POOL_ND
 * in the declared (channel-first) layout, with ONNX's output size (pads or auto_pad, ceil_mode
 * as pool_core's window() computes it). */
static ev_status pool_nd(oc *c, int is_max, oval *x, oval *y) {
    int want_idx = is_max && c->nd->n_output > 1 && c->nd->output[1][0];
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    int ns = x->ndim - 2;
    if (ns < 1 || ns > EV_POOL_ND_MAX)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a pool over %d dims (1 to %d)", ns,
                         EV_POOL_ND_MAX);
    int q8 = x->dtype == EV_DTYPE_U8 || x->dtype == EV_DTYPE_I8;
    if (x->dtype != EV_DTYPE_F32 && !(is_max && q8))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a %d-D, dilated or 8-bit pool of %s (float32; "
                         "uint8 / int8 max)", ns, ev_dtype_name(x->dtype));
    int64_t ceil_mode, cip, so, v[2 * EV_POOL_ND_MAX];
    int n;
    EV_TRY(attr_int(c, "ceil_mode", 0, &ceil_mode));
    EV_TRY(attr_int(c, "count_include_pad", 0, &cip));
    EV_TRY(attr_int(c, "storage_order", 0, &so));
    if (so != 0 && so != 1) return NODE_FAIL(c, EV_ERR_FORMAT, "storage_order %lld",
                                             (long long)so);
    ev_pool_nd_params p = {0};
    p.is_max = is_max;
    p.indices_col_major = (int)so; /* only the Indices output depends on it */
    p.count_include_pad = !is_max && cip;
    static const char *const names[3] = {"kernel_shape", "strides", "dilations"};
    int *dst[3] = {p.kernel, p.stride, p.dilation};
    for (int a = 0; a < 3; a++) {
        EV_TRY(attr_ints(c, names[a], 2 * EV_POOL_ND_MAX, v, &n));
        if (n < 0 && a == 0) return NODE_FAIL(c, EV_ERR_FORMAT, "no kernel_shape");
        if (n >= 0 && n != ns)
            return NODE_FAIL(c, EV_ERR_FORMAT, "%s has %d entries for %d spatial dims",
                             names[a], n, ns);
        for (int i = 0; i < ns; i++) {
            if (n >= 0 && (v[i] < 1 || v[i] > 65536))
                return NODE_FAIL(c, EV_ERR_FORMAT, "%s entry %lld", names[a], (long long)v[i]);
            dst[a][i] = n >= 0 ? (int)v[i] : 1;
        }
    }
    char ap[32];
    int same;
    EV_TRY(auto_pad_attr(c, ap, &same));
    if (strcmp(ap, "NOTSET") == 0) {
        EV_TRY(attr_ints(c, "pads", 2 * EV_POOL_ND_MAX, v, &n));
        if (n >= 0 && n != 2 * ns)
            return NODE_FAIL(c, EV_ERR_FORMAT, "pads has %d entries for %d spatial dims", n, ns);
        for (int i = 0; i < 2 * ns && n >= 0; i++)
            if (v[i] < 0 || v[i] > 65536)
                return NODE_FAIL(c, EV_ERR_FORMAT, "pads entry %lld", (long long)v[i]);
        for (int i = 0; i < ns && n >= 0; i++) {
            p.pad_begin[i] = (int)v[i];
            p.pad_end[i] = (int)v[ns + i];
        }
    }
    int od[EV_MAX_DIMS] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < ns; i++) {
        int64_t in = x->dims[2 + i], eff = (int64_t)(p.kernel[i] - 1) * p.dilation[i] + 1, o;
        if (same) {
            o = (in + p.stride[i] - 1) / p.stride[i];
            int64_t total = (o - 1) * p.stride[i] + eff - in;
            if (total < 0) total = 0;
            p.pad_begin[i] = (int)(ap[5] == 'L' ? (total + 1) / 2 : total / 2);
            p.pad_end[i] = (int)(total - p.pad_begin[i]);
        } else {
            int64_t span = in + p.pad_begin[i] + p.pad_end[i] - eff;
            if (span < 0)
                return NODE_FAIL(c, EV_ERR_SHAPE, "window %lld larger than the padded input "
                                 "%lld", (long long)eff, (long long)(span + eff));
            o = (ceil_mode ? (span + p.stride[i] - 1) / p.stride[i] : span / p.stride[i]) + 1;
            /* the last window must start inside the input or the leading padding */
            if (ceil_mode && (o - 1) * p.stride[i] >= in + p.pad_begin[i]) o--;
        }
        if (o < 1 || o > INT32_MAX / 2)
            return NODE_FAIL(c, EV_ERR_SHAPE, "output size %lld", (long long)o);
        od[2 + i] = (int)o;
    }
    int xin, t[2];
    EV_TRY(layout(c, x, 0, &xin));
    ev_quant q = irt(c, xin)->quant; /* 8-bit max: the values, and their meaning, are kept */
    EV_TRY(out_tensor(c, y, x->dtype, x->ndim, od, 0, &q, &t[0]));
    if (want_idx) { /* Indices: int64 flat positions in the whole input (storage_order 0) */
        oval *yi;
        EV_TRY(out_val(c, 1, &yi));
        EV_TRY(out_tensor(c, yi, EV_DTYPE_I64, x->ndim, od, 0, NULL, &t[1]));
    }
    int op = gb_op(&c->b, EV_OP_POOL_ND, "POOL_ND", -1, 1, &xin, want_idx ? 2 : 1, t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.pool_nd = p;
    return EV_OK;
}

static ev_status emit_pool(oc *c, int is_max) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    const AttributeProto *dil = attr(c, "dilations");
    int dilated = 0;
    for (size_t i = 0; dil && i < dil->n_ints; i++) dilated = dilated || dil->ints[i] != 1;
    int indices = c->nd->n_output > 1 && c->nd->output[1][0];
    /* an 8-bit MaxPool without QuantizeLinear / QLinear quantization compares raw values */
    int raw8 = is_max && x->kind == OV_TENSOR && x->ndim >= 3 &&
               (x->dtype == EV_DTYPE_U8 || x->dtype == EV_DTYPE_I8) && !irt(c, x->t)->quant.count;
    if (x->ndim >= 5 || dilated || indices || raw8) return pool_nd(c, is_max, x, y);
    if (x->ndim != 3 || x->kind != OV_TENSOR) return pool_core(c, is_max, x, y);
    oval x4, y4 = {0};
    EV_TRY(lift_val(c, x, &x4));
    y4.name = y->name;
    y4.t = y4.t_other = y4.cmat[0] = y4.cmat[1] = y4.producer = -1;
    c->one_d = 1;
    ev_status st = pool_core(c, is_max, &x4, &y4);
    c->one_d = 0;
    EV_TRY(st);
    int d3[3] = {y4.dims[0], y4.dims[1], y4.dims[3]};
    return emit_reshape_to(c, &y4, y, 3, d3);
}

/* MEAN over IR axes `axes` (keep_dims) of tensor `in` into new tensor out. */
static ev_status emit_mean(oc *c, int in, int nax, const int32_t *axes, int keep, int ndim,
                           const int *odims, const char *name, int *out) {
    int an = nax;
    int a = gb_tensor(&c->b, "axes", EV_DTYPE_I32, 1, &an, axes, sizeof(int32_t) * (size_t)nax, 0,
                      NULL, NULL, 0);
    ev_quant q = irt(c, in)->quant;
    int o = new_act(c, name, irt(c, in)->dtype, ndim, odims, &q);
    int ins[2] = {in, a};
    int op = add_op(c, EV_OP_MEAN, "MEAN", 40, 2, ins, o);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.reduce.keep_dims = keep;
    *out = o;
    return EV_OK;
}

static ev_status emit_global_pool(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (x->kind != OV_TENSOR || x->ndim != 4)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input of rank %d (2-D pools only)", x->ndim);
    EV_TRY(need_float(c, x));
    int xin;
    EV_TRY(layout(c, x, 1, &xin));
    int od[4] = {x->dims[0], x->dims[1], 1, 1}, ird[4];
    ir_dims(4, od, 1, ird);
    const int32_t axes[2] = {1, 2};
    int t;
    EV_TRY(emit_mean(c, xin, 2, axes, 1, 4, ird, y->name, &t));
    set_tensor(y, t, 1, x->dtype, 4, od, -1);
    return EV_OK;
}

static ev_status emit_reduce_mean(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    EV_TRY(need_float(c, x));
    int64_t keep, noop;
    EV_TRY(attr_int(c, "keepdims", 1, &keep));
    EV_TRY(attr_int(c, "noop_with_empty_axes", 0, &noop));
    int64_t av[EV_MAX_DIMS];
    int na = -1;
    if (c->opset >= 18 && c->nd->n_input > 1) {
        oval *ax;
        EV_TRY(in_const(c, 1, 0, &ax));
        if (ax) {
            if (ax->elems > EV_MAX_DIMS) return NODE_FAIL(c, EV_ERR_FORMAT, "too many axes");
            na = (int)ax->elems;
            for (int i = 0; i < na; i++) av[i] = cgeti(ax, (size_t)i);
        }
    } else {
        EV_TRY(attr_ints(c, "axes", EV_MAX_DIMS, av, &na));
    }
    int red[EV_MAX_DIMS] = {0};
    if (na <= 0) {
        if (na == 0 && noop) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "noop_with_empty_axes");
        for (int d = 0; d < x->ndim; d++) red[d] = 1;
    } else {
        for (int i = 0; i < na; i++) {
            int a;
            EV_TRY(norm_axis(c, av[i], x->ndim, &a));
            if (red[a]) return NODE_FAIL(c, EV_ERR_FORMAT, "axis %d given twice", a);
            red[a] = 1;
        }
    }
    int od[EV_MAX_DIMS], on = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!red[d])
            od[on++] = x->dims[d];
        else if (keep)
            od[on++] = 1;
    }
    int nhwc = x->nhwc;
    if (nhwc && !keep) { /* the kept dims must stay in ONNX's order in storage */
        int last = -1;
        for (int k = 0; k < 4; k++) {
            int a = k_to_nhwc[k];
            if (red[a]) continue;
            if (a < last) nhwc = 0;
            last = a;
        }
    }
    int xin;
    EV_TRY(layout(c, x, nhwc, &xin));
    int32_t axes[EV_MAX_DIMS];
    int nax = 0;
    for (int d = 0; d < x->ndim; d++)
        if (red[d]) axes[nax++] = nhwc ? k_axis_nhwc[d] : d;
    for (int i = 1; i < nax; i++) /* ascending IR axes */
        for (int j = i; j > 0 && axes[j - 1] > axes[j]; j--) {
            int32_t tmp = axes[j];
            axes[j] = axes[j - 1];
            axes[j - 1] = tmp;
        }
    int ird[EV_MAX_DIMS], irn = 0;
    const ev_tensor *it = irt(c, xin);
    for (int k = 0; k < it->ndim; k++) {
        int r = 0;
        for (int i = 0; i < nax; i++) r |= axes[i] == k;
        if (!r)
            ird[irn++] = it->dims[k];
        else if (keep)
            ird[irn++] = 1;
    }
    int t;
    EV_TRY(emit_mean(c, xin, nax, axes, (int)keep, irn, ird, y->name, &t));
    set_tensor(y, t, nhwc && keep, x->dtype, on, od, -1);
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Shape ops                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* y = x with ONNX shape (nd, dims): folds constants, else a RESHAPE in declared order (or
 * straight from the NHWC tensor when the layout change keeps memory order). */
static ev_status emit_reshape_to(oc *c, oval *x, oval *y, int nd, const int *dims) {
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    size_t xn = 1;
    for (int i = 0; i < x->ndim; i++) xn *= (size_t)x->dims[i];
    if (n != xn)
        return NODE_FAIL(c, EV_ERR_SHAPE, "%zu elements reshaped to %zu", xn, n);
    if (x->kind == OV_CONST) {
        EV_TRY(make_const(c, y, x->dtype, nd, dims));
        memcpy(y->data, x->data, x->elems * ev_dtype_size(x->dtype));
        return EV_OK;
    }
    EV_TRY(need_known(c, x));
    int xin;
    if (x->nhwc && x->t_other < 0 && perm_keeps_order(4, x->dims, k_to_nhwc))
        xin = x->t;
    else
        EV_TRY(layout(c, x, 0, &xin));
    ev_quant q = irt(c, xin)->quant;
    int t;
    EV_TRY(out_tensor(c, y, x->dtype, nd, dims, 0, &q, &t));
    int op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &xin, t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.reshape.num_dims = -1;
    return EV_OK;
}

static ev_status emit_reshape(oc *c) {
    oval *x, *s, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    int64_t sv[EV_MAX_DIMS];
    int ns;
    if (c->opset < 5) {
        EV_TRY(attr_ints(c, "shape", EV_MAX_DIMS, sv, &ns));
        if (ns < 0) return NODE_FAIL(c, EV_ERR_FORMAT, "no shape");
    } else {
        EV_TRY(in_const(c, 1, 1, &s));
        if (s->ndim != 1 || s->elems > EV_MAX_DIMS)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "shape of %zu entries", s->elems);
        ns = (int)s->elems;
        for (int i = 0; i < ns; i++) sv[i] = cgeti(s, (size_t)i);
    }
    int64_t allowzero;
    EV_TRY(attr_int(c, "allowzero", 0, &allowzero));
    int dims[EV_MAX_DIMS], infer = -1;
    size_t known = 1, total = 1;
    for (int i = 0; i < x->ndim; i++) total *= (size_t)x->dims[i];
    for (int i = 0; i < ns; i++) {
        if (sv[i] == -1) {
            if (infer >= 0) return NODE_FAIL(c, EV_ERR_FORMAT, "two -1 entries in the shape");
            infer = i;
            dims[i] = 1;
            continue;
        }
        if (sv[i] == 0 && !allowzero) {
            if (i >= x->ndim) return NODE_FAIL(c, EV_ERR_FORMAT, "0 copies a missing dim %d", i);
            dims[i] = x->dims[i];
        } else if (sv[i] < 0 || sv[i] > INT32_MAX) {
            return NODE_FAIL(c, EV_ERR_FORMAT, "shape entry %lld", (long long)sv[i]);
        } else {
            dims[i] = (int)sv[i];
        }
        known *= (size_t)dims[i];
        if (known > EV_MAX_TENSOR_ELEMS) return NODE_FAIL(c, EV_ERR_FORMAT, "shape too large");
    }
    if (infer >= 0) {
        if (known == 0 || total % known)
            return NODE_FAIL(c, EV_ERR_SHAPE, "cannot infer -1 reshaping %zu elements", total);
        dims[infer] = (int)(total / known);
    }
    return emit_reshape_to(c, x, y, ns, dims);
}

static ev_status emit_flatten(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    int64_t a;
    EV_TRY(attr_int(c, "axis", 1, &a));
    if (a < -x->ndim || a > x->ndim)
        return NODE_FAIL(c, EV_ERR_FORMAT, "axis %lld for rank %d", (long long)a, x->ndim);
    int axis = (int)(a < 0 ? a + x->ndim : a);
    size_t outer = 1, inner = 1;
    for (int i = 0; i < x->ndim; i++) *(i < axis ? &outer : &inner) *= (size_t)x->dims[i];
    int dims[2] = {(int)outer, (int)inner};
    return emit_reshape_to(c, x, y, 2, dims);
}

static ev_status read_axes(oc *c, int j, int64_t *av, int *na) {
    if (c->opset >= 13) {
        oval *ax;
        EV_TRY(in_const(c, j, 0, &ax));
        *na = -1;
        if (ax) {
            if (ax->elems > EV_MAX_DIMS) return NODE_FAIL(c, EV_ERR_FORMAT, "too many axes");
            *na = (int)ax->elems;
            for (int i = 0; i < *na; i++) av[i] = cgeti(ax, (size_t)i);
        }
        return EV_OK;
    }
    return attr_ints(c, "axes", EV_MAX_DIMS, av, na);
}

static ev_status emit_squeeze(oc *c, int unsqueeze) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    int64_t av[EV_MAX_DIMS];
    int na;
    EV_TRY(read_axes(c, 1, av, &na));
    int dims[EV_MAX_DIMS], nd = 0;
    if (unsqueeze) {
        if (na <= 0) return NODE_FAIL(c, EV_ERR_FORMAT, "no axes");
        int out_n = x->ndim + na;
        if (out_n > EV_MAX_DIMS)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "rank %d (at most %d)", out_n, EV_MAX_DIMS);
        int ins[EV_MAX_DIMS] = {0};
        for (int i = 0; i < na; i++) {
            int a;
            EV_TRY(norm_axis(c, av[i], out_n, &a));
            if (ins[a]) return NODE_FAIL(c, EV_ERR_FORMAT, "axis %d given twice", a);
            ins[a] = 1;
        }
        for (int d = 0, k = 0; d < out_n; d++) dims[nd++] = ins[d] ? 1 : x->dims[k++];
    } else {
        int rm[EV_MAX_DIMS] = {0};
        if (na < 0) {
            for (int d = 0; d < x->ndim; d++) rm[d] = x->dims[d] == 1;
        } else {
            for (int i = 0; i < na; i++) {
                int a;
                EV_TRY(norm_axis(c, av[i], x->ndim, &a));
                if (x->dims[a] != 1)
                    return NODE_FAIL(c, EV_ERR_SHAPE, "squeezing axis %d of size %d", a,
                                     x->dims[a]);
                rm[a] = 1;
            }
        }
        for (int d = 0; d < x->ndim; d++)
            if (!rm[d]) dims[nd++] = x->dims[d];
    }
    return emit_reshape_to(c, x, y, nd, dims);
}

static ev_status emit_transpose(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    int64_t pv[EV_MAX_DIMS];
    int np;
    EV_TRY(attr_ints(c, "perm", EV_MAX_DIMS, pv, &np));
    int perm[EV_MAX_DIMS], seen[EV_MAX_DIMS] = {0};
    if (np < 0) {
        np = x->ndim;
        for (int i = 0; i < np; i++) perm[i] = np - 1 - i;
    } else {
        if (np != x->ndim) return NODE_FAIL(c, EV_ERR_FORMAT, "perm of %d for rank %d", np, x->ndim);
        for (int i = 0; i < np; i++) {
            if (pv[i] < 0 || pv[i] >= np || seen[pv[i]])
                return NODE_FAIL(c, EV_ERR_FORMAT, "perm is not a permutation");
            seen[pv[i]] = 1;
            perm[i] = (int)pv[i];
        }
    }
    int od[EV_MAX_DIMS];
    for (int i = 0; i < np; i++) od[i] = x->dims[perm[i]];
    if (x->kind == OV_CONST) {
        EV_TRY(make_const(c, y, x->dtype, np, od));
        size_t es = ev_dtype_size(x->dtype), st[EV_MAX_DIMS], s = 1;
        for (int d = np - 1; d >= 0; d--) st[d] = s, s *= (size_t)x->dims[d];
        int idx[EV_MAX_DIMS] = {0};
        for (size_t o = 0; o < y->elems; o++) {
            size_t i = 0;
            for (int d = 0; d < np; d++) i += (size_t)idx[d] * st[perm[d]];
            memcpy((uint8_t *)y->data + o * es, (const uint8_t *)x->data + i * es, es);
            for (int d = np - 1; d >= 0; d--) {
                if (++idx[d] < od[d]) break;
                idx[d] = 0;
            }
        }
        return EV_OK;
    }
    /* storage of x: IR dim k holds ONNX dim s_in[k]; try both layouts of y for a no-op */
    int s_in[EV_MAX_DIMS], inv_in[EV_MAX_DIMS];
    for (int k = 0; k < np; k++) s_in[k] = x->nhwc ? k_to_nhwc[k] : k;
    for (int k = 0; k < np; k++) inv_in[s_in[k]] = k;
    const ev_tensor *xt = irt(c, x->t);
    for (int cand = 0; cand < 2; cand++) {
        int out_nhwc = cand == 0 ? 0 : 1;
        if (out_nhwc && np != 4) continue;
        int q[EV_MAX_DIMS], ident = 1;
        for (int k = 0; k < np; k++) {
            int so = out_nhwc ? k_to_nhwc[k] : k;
            q[k] = inv_in[perm[so]];
            if (q[k] != k) ident = 0;
        }
        if (ident) { /* the same bytes: y is x's tensor */
            set_tensor(y, x->t, out_nhwc, x->dtype, np, od, -1);
            return EV_OK;
        }
    }
    EV_TRY(need_known(c, x)); /* a real transpose: 8-bit tensors need their quantization */
    int q[EV_MAX_DIMS];
    for (int k = 0; k < np; k++) q[k] = inv_in[perm[k]];
    int t;
    EV_TRY(emit_permute(c, x->t, q, y->name, &t));
    (void)xt;
    set_tensor(y, t, 0, x->dtype, np, od, -1);
    return EV_OK;
}

static ev_status emit_concat(oc *c) {
    oval *y;
    int n = (int)c->nd->n_input;
    if (n < 1 || n > 1000) return NODE_FAIL(c, EV_ERR_FORMAT, "%d inputs", n);
    oval **xs = calloc((size_t)n, sizeof *xs);
    int *ts = malloc(sizeof(int) * (size_t)n);
    ev_status st = EV_OK;
    if (!xs || !ts) {
        free(xs), free(ts);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    int64_t a;
    int all_const = 1, any_nhwc = 0, axis = 0;
    if ((st = out_val(c, 0, &y)) != EV_OK) goto done;
    if ((st = attr_int(c, "axis", c->opset < 4 ? 1 : INT64_MIN, &a)) != EV_OK) goto done;
    if (a == INT64_MIN) {
        st = NODE_FAIL(c, EV_ERR_FORMAT, "no axis");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if ((st = in_val(c, i, 1, &xs[i])) != EV_OK) goto done;
        if (xs[i]->kind != OV_CONST) all_const = 0;
        if (xs[i]->kind == OV_TENSOR && xs[i]->nhwc) any_nhwc = 1;
        if (xs[i]->ndim != xs[0]->ndim || xs[i]->dtype != xs[0]->dtype) {
            st = NODE_FAIL(c, EV_ERR_SHAPE, "inputs of different rank or type");
            goto done;
        }
    }
    int nd = xs[0] ? xs[0]->ndim : 0;
    if ((st = norm_axis(c, a, nd, &axis)) != EV_OK) goto done;
    int od[EV_MAX_DIMS];
    for (int d = 0; d < nd; d++) od[d] = xs[0]->dims[d];
    od[axis] = 0;
    for (int i = 0; i < n; i++) {
        for (int d = 0; d < nd; d++)
            if (d != axis && xs[i]->dims[d] != od[d]) {
                st = NODE_FAIL(c, EV_ERR_SHAPE, "input %d does not match input 0 off the axis", i);
                goto done;
            }
        od[axis] += xs[i]->dims[axis];
    }
    if (all_const) {
        if ((st = make_const(c, y, xs[0]->dtype, nd, od)) != EV_OK) goto done;
        size_t es = ev_dtype_size(y->dtype), outer = 1, off = 0;
        for (int d = 0; d < axis; d++) outer *= (size_t)od[d];
        for (size_t o = 0; o < outer; o++)
            for (int i = 0; i < n; i++) {
                size_t chunk = xs[i]->elems / (outer ? outer : 1) * es;
                memcpy((uint8_t *)y->data + off, (const uint8_t *)xs[i]->data + o * chunk, chunk);
                off += chunk;
            }
        goto done;
    }
    int nhwc = any_nhwc && nd == 4;
    for (int i = 0; i < n && st == EV_OK; i++) {
        if (xs[i]->kind == OV_TENSOR) st = need_known(c, xs[i]);
        if (st == EV_OK) st = layout(c, xs[i], nhwc, &ts[i]);
    }
    if (st != EV_OK) goto done;
    /* 8-bit inputs: ONNX concatenates stored values, so all must share one quantization */
    ev_quant q = irt(c, ts[0])->quant;
    for (int i = 1; i < n; i++) {
        const ev_quant *qi = &irt(c, ts[i])->quant;
        if (qi->count != q.count ||
            (q.count && (qi->scale[0] != q.scale[0] || qi->zero_point[0] != q.zero_point[0]))) {
            st = NODE_FAIL(c, EV_ERR_UNSUPPORTED, "8-bit inputs with different quantization");
            goto done;
        }
    }
    int t;
    if ((st = out_tensor(c, y, xs[0]->dtype, nd, od, nhwc, &q, &t)) != EV_OK) goto done;
    int op = gb_op_concat(&c->b, n, ts, t, nhwc ? k_axis_nhwc[axis] : axis, EV_ACT_NONE);
    (void)op;
    st = gb_check(c);
done:
    free(xs), free(ts);
    return st;
}

static ev_status emit_softmax(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    EV_TRY(need_float(c, x));
    int64_t a;
    EV_TRY(attr_int(c, "axis", c->opset < 13 ? 1 : -1, &a));
    int axis;
    EV_TRY(norm_axis(c, a, x->ndim, &axis));
    int last_ir = x->nhwc ? k_axis_nhwc[axis] == 3 : axis == x->ndim - 1;
    int xin, t;
    if (c->opset < 13 && axis != x->ndim - 1) {
        /* the coerced 2-D softmax: [prod(dims < axis), prod(dims >= axis)] */
        size_t outer = 1, inner = 1;
        for (int i = 0; i < x->ndim; i++) *(i < axis ? &outer : &inner) *= (size_t)x->dims[i];
        EV_TRY(layout(c, x, 0, &xin));
        int d2[2] = {(int)outer, (int)inner};
        int r = new_act(c, "softmax_in", EV_DTYPE_F32, 2, d2, NULL);
        int op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &xin, r);
        if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
        int s = new_act(c, "softmax_out", EV_DTYPE_F32, 2, d2, NULL);
        op = add_op(c, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &r, s);
        if (op >= 0) c->b.g.ops[op].p.softmax.beta = 1.0f;
        EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, 0, NULL, &t));
        op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &s, t);
        if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
        return gb_check(c);
    }
    if (last_ir) {
        EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, x->nhwc, NULL, &t));
        int op = add_op(c, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &x->t, t);
        EV_TRY(gb_check(c));
        c->b.g.ops[op].p.softmax.beta = 1.0f;
        return EV_OK;
    }
    /* move the axis last, softmax, move it back (declared layout) */
    EV_TRY(layout(c, x, 0, &xin));
    int perm[EV_MAX_DIMS], inv[EV_MAX_DIMS], k = 0;
    for (int d = 0; d < x->ndim; d++)
        if (d != axis) perm[k++] = d;
    perm[k] = axis;
    for (int d = 0; d < x->ndim; d++) inv[perm[d]] = d;
    int moved, sm;
    EV_TRY(emit_permute(c, xin, perm, "softmax_in", &moved));
    const ev_tensor *mt = irt(c, moved);
    int md[EV_MAX_DIMS];
    for (int d = 0; d < mt->ndim; d++) md[d] = mt->dims[d];
    sm = new_act(c, "softmax_out", EV_DTYPE_F32, x->ndim, md, NULL);
    int op = add_op(c, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &moved, sm);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.softmax.beta = 1.0f;
    EV_TRY(emit_permute(c, sm, inv, y->name, &t));
    set_tensor(y, t, 0, EV_DTYPE_F32, x->ndim, x->dims, -1);
    return EV_OK;
}

/* Pad: constant zero with pads >= 0 is PAD (the cpu backend's kernel); a non-zero value, reflect,
 * edge or negative pads (cropping) are PAD_EX. */
static ev_status emit_pad(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    char mode[32];
    EV_TRY(attr_str(c, "mode", "constant", mode, sizeof mode));
    ev_pad_mode pm;
    if (strcmp(mode, "constant") == 0)
        pm = EV_PADMODE_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        pm = EV_PADMODE_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        pm = EV_PADMODE_EDGE;
    else
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "mode '%s' (constant, reflect, edge)", mode);
    int64_t pv[2 * EV_MAX_DIMS];
    int np;
    float value = 0.0f;
    if (c->opset < 11) {
        EV_TRY(attr_ints(c, c->opset < 2 ? "paddings" : "pads", 2 * EV_MAX_DIMS, pv, &np));
        EV_TRY(attr_float(c, "value", 0.0f, &value));
    } else {
        oval *p, *v;
        EV_TRY(in_const(c, 1, 1, &p));
        EV_TRY(in_const(c, 2, 0, &v));
        if (c->nd->n_input > 3 && c->nd->input[3][0])
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "the axes input");
        if (p->elems > 2 * EV_MAX_DIMS) return NODE_FAIL(c, EV_ERR_FORMAT, "too many pads");
        np = (int)p->elems;
        for (int i = 0; i < np; i++) pv[i] = cgeti(p, (size_t)i);
        if (v && v->elems) value = (float)cget(v, 0);
    }
    if (np != 2 * x->ndim) return NODE_FAIL(c, EV_ERR_FORMAT, "%d pads for rank %d", np, x->ndim);
    if (pm != EV_PADMODE_CONSTANT) value = 0.0f;
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    /* integer tensors (int32, int64) are copied: reflect, edge or zero padding */
    int is_int = x->dtype == EV_DTYPE_I32 || x->dtype == EV_DTYPE_I64;
    if (!is_int || value != 0.0f) EV_TRY(need_float(c, x));
    int od[EV_MAX_DIMS], crop = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (pv[d] < -(int64_t)x->dims[d] || pv[d + x->ndim] < -(int64_t)x->dims[d])
            return NODE_FAIL(c, EV_ERR_FORMAT, "pads (%lld, %lld) on a dimension of %d",
                             (long long)pv[d], (long long)pv[d + x->ndim], x->dims[d]);
        if (pv[d] > INT32_MAX / 4 || pv[d + x->ndim] > INT32_MAX / 4)
            return NODE_FAIL(c, EV_ERR_FORMAT, "pads too large");
        int64_t o = x->dims[d] + pv[d] + pv[d + x->ndim];
        if (o < 0 || o > INT32_MAX) return NODE_FAIL(c, EV_ERR_FORMAT, "padded size %lld",
                                                     (long long)o);
        if (pm != EV_PADMODE_CONSTANT && x->dims[d] == 0 && o > 0)
            return NODE_FAIL(c, EV_ERR_FORMAT, "mode '%s' on an empty dimension", mode);
        crop = crop || pv[d] < 0 || pv[d + x->ndim] < 0;
        od[d] = (int)o;
    }
    int32_t pads[2 * EV_MAX_DIMS];
    for (int k = 0; k < x->ndim; k++) {
        int d = x->nhwc ? k_to_nhwc[k] : k;
        pads[2 * k] = (int32_t)pv[d];
        pads[2 * k + 1] = (int32_t)pv[d + x->ndim];
    }
    int pd[2] = {x->ndim, 2};
    int p = gb_tensor(&c->b, "pads", EV_DTYPE_I32, 2, pd, pads, sizeof(int32_t) * 2 * (size_t)x->ndim,
                      0, NULL, NULL, 0);
    int t;
    EV_TRY(out_tensor(c, y, x->dtype, x->ndim, od, x->nhwc, NULL, &t));
    int ins[2] = {x->t, p};
    if (pm == EV_PADMODE_CONSTANT && value == 0.0f && !crop && !is_int) {
        add_op(c, EV_OP_PAD, "PAD", 34, 2, ins, t);
        return gb_check(c);
    }
    int op = add_op(c, EV_OP_PAD_EX, "PAD_EX", -1, 2, ins, t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.pad_ex.mode = pm;
    c->b.g.ops[op].p.pad_ex.value = value;
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Matrix products                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* FULLY_CONNECTED of x ([..., K], declared layout) with float weights wt [N][K] and bias. */
static ev_status emit_fc(oc *c, oval *x, int wt, int bt, oval *y, int nd, const int *od,
                         const ev_quant *q, ev_dtype dt) {
    int xin;
    EV_TRY(layout(c, x, 0, &xin));
    int t;
    EV_TRY(out_tensor(c, y, dt, nd, od, 0, q, &t));
    int ins[3] = {xin, wt, bt};
    int op = add_op(c, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, ins, t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.fc.keep_num_dims = nd > 2;
    y->producer = op;
    return EV_OK;
}

static ev_status emit_matmul(oc *c) {
    oval *a, *b, *y;
    EV_TRY(in2_out1(c, &a, &b, &y));
    EV_TRY(need_float(c, a));
    EV_TRY(need_float(c, b));
    if (a->kind == OV_CONST) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a constant first input");
    if (a->ndim < 2 || b->ndim < 2)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "1-D operands (ranks %d, %d)", a->ndim, b->ndim);
    int K = a->dims[a->ndim - 1];
    if (b->dims[b->ndim - 2] != K)
        return NODE_FAIL(c, EV_ERR_SHAPE, "inner dims %d and %d", K, b->dims[b->ndim - 2]);
    int N = b->dims[b->ndim - 1];
    if (b->kind == OV_CONST && b->ndim == 2) {
        int od[EV_MAX_DIMS];
        for (int i = 0; i < a->ndim - 1; i++) od[i] = a->dims[i];
        od[a->ndim - 1] = N;
        float *w = malloc(sizeof(float) * (size_t)N * (size_t)K + 1);
        if (!w) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++)
                w[(size_t)n * K + k] = ((const float *)b->data)[(size_t)k * N + n];
        int wd[2] = {N, K};
        int wt = gb_tensor(&c->b, b->name, EV_DTYPE_F32, 2, wd, w, sizeof(float) * (size_t)N * K,
                           0, NULL, NULL, 0);
        free(w);
        EV_TRY(gb_check(c));
        return emit_fc(c, a, wt, -1, y, a->ndim, od, NULL, EV_DTYPE_F32);
    }
    /* BATCH_MATMUL with broadcast batch dims */
    int nb = (a->ndim > b->ndim ? a->ndim : b->ndim) - 2;
    int od[EV_MAX_DIMS];
    for (int d = 0; d < nb; d++) {
        int da = d - (nb - (a->ndim - 2)), db = d - (nb - (b->ndim - 2));
        int xa = da >= 0 ? a->dims[da] : 1, xb = db >= 0 ? b->dims[db] : 1;
        if (xa != xb && xa != 1 && xb != 1)
            return NODE_FAIL(c, EV_ERR_SHAPE, "batch dims do not broadcast");
        od[d] = xa == 1 ? xb : xa;
    }
    od[nb] = a->dims[a->ndim - 2];
    od[nb + 1] = N;
    int ta, tb, t;
    EV_TRY(layout(c, a, 0, &ta));
    EV_TRY(layout(c, b, 0, &tb));
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, nb + 2, od, 0, NULL, &t));
    int ins[2] = {ta, tb};
    add_op(c, EV_OP_BATCH_MATMUL, "BATCH_MATMUL", 126, 2, ins, t);
    return gb_check(c);
}

static ev_status emit_gemm(oc *c) {
    oval *a, *b, *cc, *y;
    EV_TRY(in_val(c, 0, 1, &a));
    EV_TRY(in_val(c, 1, 1, &b));
    EV_TRY(in_val(c, 2, 0, &cc));
    EV_TRY(out_val(c, 0, &y));
    float alpha, beta;
    int64_t ta_, tb_;
    EV_TRY(attr_float(c, "alpha", 1.0f, &alpha));
    EV_TRY(attr_float(c, "beta", 1.0f, &beta));
    EV_TRY(attr_int(c, "transA", 0, &ta_));
    EV_TRY(attr_int(c, "transB", 0, &tb_));
    EV_TRY(need_float(c, a));
    EV_TRY(need_float(c, b));
    if (cc) EV_TRY(need_float(c, cc));
    if (a->ndim != 2 || b->ndim != 2)
        return NODE_FAIL(c, EV_ERR_SHAPE, "ranks %d and %d (2 expected)", a->ndim, b->ndim);
    if (a->kind == OV_CONST) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a constant first input");
    int M = ta_ ? a->dims[1] : a->dims[0], K = ta_ ? a->dims[0] : a->dims[1];
    int N = tb_ ? b->dims[0] : b->dims[1], Kb = tb_ ? b->dims[1] : b->dims[0];
    if (K != Kb) return NODE_FAIL(c, EV_ERR_SHAPE, "inner dims %d and %d", K, Kb);
    int od[2] = {M, N};
    /* C folded into the bias when it is a constant of N values (or a scalar) */
    int bias_const = cc && cc->kind == OV_CONST &&
                     (cc->elems == 1 || (cc->elems == (size_t)N && cc->dims[cc->ndim - 1] == N));
    oval mid = {0};
    oval *prod = (cc && !bias_const && beta != 0.0f) || alpha != 1.0f ? &mid : y;
    mid.name = "gemm_product";
    mid.t = mid.t_other = mid.cmat[0] = mid.cmat[1] = mid.producer = -1;
    if (b->kind == OV_CONST && !ta_) {
        float *w = malloc(sizeof(float) * (size_t)N * (size_t)K + 1);
        float *bias = NULL;
        if (!w) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++)
                w[(size_t)n * K + k] = alpha * ((const float *)b->data)[tb_ ? (size_t)n * K + k
                                                                            : (size_t)k * N + n];
        int wd[2] = {N, K};
        int wt = gb_tensor(&c->b, b->name, EV_DTYPE_F32, 2, wd, w, sizeof(float) * (size_t)N * K,
                           0, NULL, NULL, 0);
        free(w);
        int bt = -1;
        if (bias_const && beta != 0.0f) {
            bias = malloc(sizeof(float) * (size_t)N);
            if (!bias) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            for (int n = 0; n < N; n++)
                bias[n] = beta * (float)cget(cc, cc->elems == 1 ? 0 : (size_t)n);
            bt = gb_tensor(&c->b, cc->name, EV_DTYPE_F32, 1, &N, bias, sizeof(float) * (size_t)N,
                           0, NULL, NULL, 0);
            free(bias);
        }
        EV_TRY(gb_check(c));
        prod = cc && !bias_const && beta != 0.0f ? &mid : y;
        EV_TRY(emit_fc(c, a, wt, bt, prod, 2, od, NULL, EV_DTYPE_F32));
        if (prod == y) return EV_OK;
    } else {
        int tA, tB, t;
        EV_TRY(layout(c, a, 0, &tA));
        EV_TRY(layout(c, b, 0, &tB));
        EV_TRY(out_tensor(c, prod, EV_DTYPE_F32, 2, od, 0, NULL, &t));
        int ins[2] = {tA, tB};
        int op = add_op(c, EV_OP_BATCH_MATMUL, "BATCH_MATMUL", 126, 2, ins, t);
        EV_TRY(gb_check(c));
        c->b.g.ops[op].p.bmm.adj_x = (int)ta_;
        c->b.g.ops[op].p.bmm.adj_y = (int)tb_;
        if (alpha != 1.0f) {
            int at = gb_tensor(&c->b, "alpha", EV_DTYPE_F32, 0, NULL, &alpha, sizeof alpha, 0,
                               NULL, NULL, 0);
            int scaled = new_act(c, "gemm_scaled", EV_DTYPE_F32, 2, od, NULL);
            int mi[2] = {t, at};
            add_op(c, EV_OP_MUL, "MUL", 18, 2, mi, scaled);
            EV_TRY(gb_check(c));
            prod->t = scaled;
        }
        if (!cc || beta == 0.0f) {
            if (prod != y) {
                /* alpha applied: y is the scaled product */
                set_tensor(y, prod->t, 0, EV_DTYPE_F32, 2, od, -1);
            }
            return EV_OK;
        }
    }
    /* y = prod + beta * C */
    int ct;
    oval *cv = cc;
    oval scaled_c = {0};
    if (beta != 1.0f) {
        if (cc->kind != OV_CONST)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "beta %g with a computed C", (double)beta);
        scaled_c = *cc;
        scaled_c.data = malloc(cc->elems * sizeof(float) + 1);
        scaled_c.cmat[0] = scaled_c.cmat[1] = -1;
        if (!scaled_c.data) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < cc->elems; i++)
            ((float *)scaled_c.data)[i] = beta * ((const float *)cc->data)[i];
        cv = &scaled_c;
    }
    ev_status st = layout(c, cv, 0, &ct);
    if (cv == &scaled_c) free(scaled_c.data);
    EV_TRY(st);
    oval tmp = {0};
    tmp.ndim = cv->ndim;
    memcpy(tmp.dims, cv->dims, sizeof tmp.dims);
    int nd, bd[EV_MAX_DIMS];
    oval pv = {0};
    pv.ndim = 2, pv.dims[0] = M, pv.dims[1] = N;
    if (!bcast_shape(&pv, &tmp, &nd, bd) || nd != 2 || bd[0] != M || bd[1] != N)
        return NODE_FAIL(c, EV_ERR_SHAPE, "C does not broadcast to %dx%d", M, N);
    int t;
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, 2, od, 0, NULL, &t));
    int ins[2] = {prod->t, ct};
    int op = add_op(c, EV_OP_ADD, "ADD", 0, 2, ins, t);
    EV_TRY(gb_check(c));
    y->producer = op;
    return EV_OK;
}

/* QLinearMatMul with constant b: a quantized FULLY_CONNECTED. */
static ev_status emit_qlinear_matmul(oc *c) {
    oval *a, *b, *y;
    EV_TRY(in_val(c, 0, 1, &a));
    EV_TRY(in_val(c, 3, 1, &b));
    EV_TRY(out_val(c, 0, &y));
    float as, bs, ys;
    int32_t az, bz, yz;
    ev_dtype adt, bdt, ydt;
    EV_TRY(qparams(c, 1, 2, &as, &az, &adt));
    EV_TRY(qparams(c, 4, 5, &bs, &bz, &bdt));
    EV_TRY(qparams(c, 6, 7, &ys, &yz, &ydt));
    if (b->kind != OV_CONST)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "second input '%s' computed at run time (a "
                         "constant weight matrix is supported)", b->name);
    if (a->kind != OV_TENSOR || a->ndim < 2 || b->ndim != 2 || adt != ydt || a->dtype != adt)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "shapes/types: %s rank %d x %s rank %d -> %s",
                         ev_dtype_name(a->dtype), a->ndim, ev_dtype_name(b->dtype), b->ndim,
                         ev_dtype_name(ydt));
    int K = a->dims[a->ndim - 1], N = b->dims[1];
    if (b->dims[0] != K) return NODE_FAIL(c, EV_ERR_SHAPE, "inner dims %d and %d", K, b->dims[0]);
    int shift = adt == EV_DTYPE_U8 && b->dtype == EV_DTYPE_I8 ? 128 : 0;
    if (adt == EV_DTYPE_I8 && b->dtype != EV_DTYPE_I8)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "int8 input with %s weights",
                         ev_dtype_name(b->dtype));
    EV_TRY(bind_quant(c, a, as, az, adt));
    uint8_t *w = malloc((size_t)N * (size_t)K + 1);
    if (!w) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            uint8_t v = ((const uint8_t *)b->data)[(size_t)k * N + n];
            w[(size_t)n * K + k] = (uint8_t)(v + shift);
        }
    int wd[2] = {N, K};
    int32_t wz = bz + shift;
    int wt = gb_tensor(&c->b, b->name, adt, 2, wd, w, (size_t)N * K, 1, &bs, &wz, 0);
    free(w);
    EV_TRY(gb_check(c));
    int od[EV_MAX_DIMS];
    for (int i = 0; i < a->ndim - 1; i++) od[i] = a->dims[i];
    od[a->ndim - 1] = N;
    ev_quant q = {1, &ys, &yz, 0};
    return emit_fc(c, a, wt, -1, y, a->ndim, od, &q, ydt);
}

/* ------------------------------------------------------------------------------------------ */
/* Quantize / dequantize                                                                      */
/* ------------------------------------------------------------------------------------------ */

static ev_status emit_quantize(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    float s;
    int32_t z;
    ev_dtype dt;
    EV_TRY(qparams(c, 1, 2, &s, &z, &dt));
    EV_TRY(need_float(c, x));
    if (x->kind == OV_CONST) { /* ONNX: saturate(round_half_even(x / s) + z) */
        EV_TRY(make_const(c, y, dt, x->ndim, x->dims));
        for (size_t i = 0; i < x->elems; i++) {
            double q = nearbyint((double)(((const float *)x->data)[i] / s)) + z;
            double lo = dt == EV_DTYPE_U8 ? 0 : -128, hi = dt == EV_DTYPE_U8 ? 255 : 127;
            cset(dt, y->data, i, q < lo ? lo : q > hi ? hi : q);
        }
        return EV_OK;
    }
    ev_quant q = {1, &s, &z, 0};
    int t;
    EV_TRY(out_tensor(c, y, dt, x->ndim, x->dims, x->nhwc, &q, &t));
    int op = add_op(c, EV_OP_QUANTIZE, "QUANTIZE", 114, 1, &x->t, t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.quantize.round_half_even = 1; /* ONNX: numpy.rint, ties to even */
    return EV_OK;
}

static ev_status emit_dequantize(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (x->kind == OV_CONST) { /* per-tensor or per-axis constants fold */
        oval *s, *z;
        EV_TRY(in_const(c, 1, 1, &s));
        EV_TRY(in_const(c, 2, 0, &z));
        int64_t a;
        EV_TRY(attr_int(c, "axis", 1, &a));
        int axis = 0;
        if (s->elems > 1) EV_TRY(norm_axis(c, a, x->ndim, &axis));
        if (s->dtype != EV_DTYPE_F32 || (s->elems != 1 && s->elems != (size_t)x->dims[axis]) ||
            (z && z->elems != s->elems))
            return NODE_FAIL(c, EV_ERR_SHAPE, "%zu scales for the input", s->elems);
        EV_TRY(make_const(c, y, EV_DTYPE_F32, x->ndim, x->dims));
        size_t inner = 1;
        for (int d = axis + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
        for (size_t i = 0; i < x->elems; i++) {
            size_t ch = s->elems == 1 ? 0 : (i / inner) % (size_t)x->dims[axis];
            float sc = ((const float *)s->data)[ch];
            double zp = z ? cget(z, ch) : 0;
            ((float *)y->data)[i] = (float)(cget(x, i) - zp) * sc;
        }
        return EV_OK;
    }
    float s;
    int32_t z;
    ev_dtype dt;
    EV_TRY(qparams(c, 1, 2, &s, &z, &dt));
    EV_TRY(bind_quant(c, x, s, z, dt));
    int t;
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, x->nhwc, NULL, &t));
    add_op(c, EV_OP_DEQUANTIZE, "DEQUANTIZE", 6, 1, &x->t, t);
    return gb_check(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Resize, BatchNormalization                                                                 */
/* ------------------------------------------------------------------------------------------ */

static ev_status emit_resize(oc *c) {
    oval *x, *roi = NULL, *sc = NULL, *sz = NULL, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (c->opset < 11)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "Resize before opset 11 (no coordinate "
                         "transformation mode)");
    EV_TRY(in_const(c, 1, 0, &roi));
    EV_TRY(in_const(c, 2, 0, &sc));
    EV_TRY(in_const(c, 3, 0, &sz));
    if (sc && sc->elems == 0) sc = NULL;
    if (sz && sz->elems == 0) sz = NULL;
    if (x->kind != OV_TENSOR) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "on a constant input");
    if (x->ndim != 4) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input of rank %d (4 only)", x->ndim);
    if (x->dtype != EV_DTYPE_F32) EV_TRY(need_known(c, x));
    if (c->nd->n_input > 1 && attr(c, "axes"))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "the axes attribute");
    char mode[32], coord[40], nearest[40], aspect[40];
    EV_TRY(attr_str(c, "mode", "nearest", mode, sizeof mode));
    EV_TRY(attr_str(c, "coordinate_transformation_mode", "half_pixel", coord, sizeof coord));
    EV_TRY(attr_str(c, "nearest_mode", "round_prefer_floor", nearest, sizeof nearest));
    EV_TRY(attr_str(c, "keep_aspect_ratio_policy", "stretch", aspect, sizeof aspect));
    int64_t exclude;
    EV_TRY(attr_int(c, "exclude_outside", 0, &exclude));
    ev_resize2_params p = {0};
    if (strcmp(mode, "nearest") == 0)
        p.linear = 0;
    else if (strcmp(mode, "linear") == 0)
        p.linear = 1;
    else if (strcmp(mode, "cubic") == 0)
        p.linear = 2;
    else
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "mode '%s' (nearest, linear, cubic)", mode);
    EV_TRY(attr_float(c, "cubic_coeff_a", -0.75f, &p.cubic_a));
    EV_TRY(attr_float(c, "extrapolation_value", 0.0f, &p.extrapolation));
    if (!isfinite(p.cubic_a)) return NODE_FAIL(c, EV_ERR_FORMAT, "cubic_coeff_a %g",
                                               (double)p.cubic_a);
    p.exclude_outside = exclude != 0;
    if (p.linear == 2) EV_TRY(need_float(c, x));
    static const struct { const char *s; ev_resize_coord v; } k_coord[] = {
        {"half_pixel", EV_COORD_HALF_PIXEL},
        {"asymmetric", EV_COORD_ASYMMETRIC},
        {"pytorch_half_pixel", EV_COORD_PYTORCH_HALF_PIXEL},
        {"align_corners", EV_COORD_ALIGN_CORNERS},
        {"tf_half_pixel_for_nn", EV_COORD_TF_HALF_PIXEL_FOR_NN},
        {"tf_crop_and_resize", EV_COORD_TF_CROP_AND_RESIZE},
    };
    static const struct { const char *s; ev_resize_nearest v; } k_near[] = {
        {"round_prefer_floor", EV_NEAREST_ROUND_PREFER_FLOOR},
        {"round_prefer_ceil", EV_NEAREST_ROUND_PREFER_CEIL},
        {"floor", EV_NEAREST_FLOOR},
        {"ceil", EV_NEAREST_CEIL},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof k_coord / sizeof k_coord[0]; i++)
        if (strcmp(coord, k_coord[i].s) == 0) p.coord = k_coord[i].v, found = 1;
    if (!found)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s'", coord);
    found = 0;
    for (size_t i = 0; i < sizeof k_near / sizeof k_near[0]; i++)
        if (strcmp(nearest, k_near[i].s) == 0) p.nearest = k_near[i].v, found = 1;
    if (!found) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "nearest_mode '%s'", nearest);
    if (strcmp(aspect, "stretch") != 0)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "keep_aspect_ratio_policy '%s'", aspect);
    if (p.linear && p.coord == EV_COORD_TF_HALF_PIXEL_FOR_NN)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "tf_half_pixel_for_nn with linear mode");
    if (p.coord == EV_COORD_TF_CROP_AND_RESIZE) {
        /* roi [starts..., ends...] per NCHW axis; N and C must keep every index */
        EV_TRY(need_float(c, x));
        if (!roi || roi->elems != 8)
            return NODE_FAIL(c, EV_ERR_FORMAT, "tf_crop_and_resize needs a roi of 8 values "
                             "(has %zu)", roi ? roi->elems : (size_t)0);
        double r[8];
        for (int i = 0; i < 8; i++) {
            r[i] = cget(roi, (size_t)i);
            if (!(fabs(r[i]) <= 65536.0))
                return NODE_FAIL(c, EV_ERR_FORMAT, "roi value %g", r[i]);
        }
        for (int d = 0; d < 2; d++)
            if (x->dims[d] > 1 && (r[d] != 0.0 || r[d + 4] != 1.0))
                return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a roi (%g, %g) cropping dimension %d",
                                 r[d], r[d + 4], d);
        p.roi_h0 = (float)r[2], p.roi_w0 = (float)r[3];
        p.roi_h1 = (float)r[6], p.roi_w1 = (float)r[7];
    }
    int od[4];
    double s4[4] = {1, 1, 1, 1};
    if (sz) {
        if (sz->elems != 4) return NODE_FAIL(c, EV_ERR_SHAPE, "%zu sizes", sz->elems);
        for (int d = 0; d < 4; d++) {
            int64_t v = cgeti(sz, (size_t)d);
            if (v < 1 || v > INT32_MAX / 2) return NODE_FAIL(c, EV_ERR_FORMAT, "size %lld",
                                                             (long long)v);
            od[d] = (int)v;
            s4[d] = 0; /* out / in */
        }
    } else if (sc) {
        if (sc->elems != 4 || sc->dtype != EV_DTYPE_F32)
            return NODE_FAIL(c, EV_ERR_SHAPE, "%zu scales", sc->elems);
        for (int d = 0; d < 4; d++) {
            double s = ((const float *)sc->data)[d];
            if (!(s > 0) || s > 65536) return NODE_FAIL(c, EV_ERR_FORMAT, "scale %g", s);
            double o = floor(x->dims[d] * s);
            if (o < 1 || o > INT32_MAX / 2) return NODE_FAIL(c, EV_ERR_FORMAT, "output size %g", o);
            od[d] = (int)o;
            s4[d] = s;
        }
    } else {
        return NODE_FAIL(c, EV_ERR_FORMAT, "neither scales nor sizes");
    }
    if (od[0] != x->dims[0] || od[1] != x->dims[1])
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "resizing the batch or channel dimension");
    p.scale_h = s4[2];
    p.scale_w = s4[3];
    int xin, t;
    EV_TRY(layout(c, x, 1, &xin));
    ev_quant q = irt(c, xin)->quant;
    EV_TRY(out_tensor(c, y, x->dtype, 4, od, 1, &q, &t));
    int op = add_op(c, EV_OP_RESIZE, "RESIZE", -1, 1, &xin, t);
    EV_TRY(gb_check(c));
    c->b.g.ops[op].p.rsz = p;
    return EV_OK;
}

static ev_status emit_batchnorm(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (c->nd->n_output > 1)
        for (size_t k = 1; k < c->nd->n_output; k++)
            if (c->nd->output[k][0])
                return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "training outputs (mean, var)");
    if (x->kind != OV_TENSOR || x->ndim < 2)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "input of rank %d", x->ndim);
    EV_TRY(need_float(c, x));
    int ch = x->dims[1];
    float *a, *b;
    if (!bn_factors(c, c->ni, ch, &a, &b))
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "parameters that are not constants of %d float "
                         "values", ch);
    /* y = x * a + b, a and b shaped [C, 1, ...] (NHWC: [1, 1, 1, C]) */
    int nhwc = x->nhwc;
    int cd[EV_MAX_DIMS], cn;
    if (nhwc) {
        cd[0] = cd[1] = cd[2] = 1, cd[3] = ch, cn = 4;
    } else {
        cn = x->ndim - 1;
        cd[0] = ch;
        for (int i = 1; i < cn; i++) cd[i] = 1;
    }
    int at = gb_tensor(&c->b, "bn_scale", EV_DTYPE_F32, cn, cd, a, sizeof(float) * (size_t)ch, 0,
                       NULL, NULL, 0);
    int bt = gb_tensor(&c->b, "bn_shift", EV_DTYPE_F32, cn, cd, b, sizeof(float) * (size_t)ch, 0,
                       NULL, NULL, 0);
    free(a), free(b);
    int ird[EV_MAX_DIMS] = {0};
    ir_dims(x->ndim, x->dims, nhwc, ird);
    int m = new_act(c, "bn_mul", EV_DTYPE_F32, x->ndim, ird, NULL);
    int i1[2] = {x->t, at};
    add_op(c, EV_OP_MUL, "MUL", 18, 2, i1, m);
    int t;
    EV_TRY(out_tensor(c, y, EV_DTYPE_F32, x->ndim, x->dims, nhwc, NULL, &t));
    int i2[2] = {m, bt};
    int op = add_op(c, EV_OP_ADD, "ADD", 0, 2, i2, t);
    EV_TRY(gb_check(c));
    y->producer = op;
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Constants and aliases                                                                      */
/* ------------------------------------------------------------------------------------------ */

static ev_status emit_constant(oc *c) {
    oval *y;
    EV_TRY(out_val(c, 0, &y));
    const AttributeProto *a = attr(c, "value");
    if (a && a->t) {
        char what[256];
        snprintf(what, sizeof what, "%s: Constant '%.200s'", c->src, y->name);
        ev_onnx_array arr;
        EV_TRY(ev_onnx_tensor_decode(a->t, what, &arr));
        y->kind = OV_CONST;
        y->dtype = arr.dtype;
        y->ndim = arr.ndim;
        memcpy(y->dims, arr.dims, sizeof y->dims);
        y->data = arr.data;
        y->elems = arr.elems;
        return EV_OK;
    }
    if ((a = attr(c, "value_float")) && a->has_f) {
        EV_TRY(make_const(c, y, EV_DTYPE_F32, 0, NULL));
        ((float *)y->data)[0] = a->f;
        return EV_OK;
    }
    if ((a = attr(c, "value_int")) && a->has_i) {
        EV_TRY(make_const(c, y, EV_DTYPE_I64, 0, NULL));
        ((int64_t *)y->data)[0] = a->i;
        return EV_OK;
    }
    if ((a = attr(c, "value_floats")) || (a = attr(c, "value_ints"))) {
        int isf = strcmp(a->name, "value_floats") == 0;
        size_t n = isf ? a->n_floats : a->n_ints;
        if (n > ONNX_MAX_FOLD) return NODE_FAIL(c, EV_ERR_FORMAT, "too many values");
        int d = (int)n;
        EV_TRY(make_const(c, y, isf ? EV_DTYPE_F32 : EV_DTYPE_I64, 1, &d));
        if (n) memcpy(y->data, isf ? (const void *)a->floats : (const void *)a->ints,
                      n * (isf ? 4 : 8));
        return EV_OK;
    }
    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "a Constant without a tensor, float or int value");
}

/* Identity / Dropout (inference): y is x. */
static ev_status emit_identity(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    if (c->nd->n_output > 1 && c->nd->output[1][0])
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "the mask output of Dropout");
    const char *name = y->name;
    *y = *x;
    y->name = name;
    y->uses = 0;
    y->cmat[0] = y->cmat[1] = -1;
    if (x->kind == OV_CONST) {
        y->data = malloc(x->elems * ev_dtype_size(x->dtype) + 1);
        if (!y->data) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        memcpy(y->data, x->data, x->elems * ev_dtype_size(x->dtype));
    }
    y->producer = -1;
    return EV_OK;
}

static ev_status emit_shape(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    int64_t start, end;
    EV_TRY(attr_int(c, "start", 0, &start));
    EV_TRY(attr_int(c, "end", x->ndim, &end));
    if (start < 0) start += x->ndim;
    if (end < 0) end += x->ndim;
    if (start < 0) start = 0;
    if (end > x->ndim) end = x->ndim;
    int n = end > start ? (int)(end - start) : 0;
    EV_TRY(make_const(c, y, EV_DTYPE_I64, 1, &n));
    for (int i = 0; i < n; i++) ((int64_t *)y->data)[i] = x->dims[start + i];
    return EV_OK;
}

static ev_status emit_gather(oc *c) {
    oval *x, *ix, *y;
    EV_TRY(in2_out1(c, &x, &ix, &y));
    if (x->kind != OV_CONST || ix->kind != OV_CONST)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "Gather on values computed at run time (only "
                         "constant folding of shapes is supported)");
    int64_t a;
    EV_TRY(attr_int(c, "axis", 0, &a));
    int axis;
    EV_TRY(norm_axis(c, a, x->ndim, &axis));
    int od[EV_MAX_DIMS], nd = 0;
    if (x->ndim - 1 + ix->ndim > EV_MAX_DIMS) return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "rank");
    for (int d = 0; d < axis; d++) od[nd++] = x->dims[d];
    for (int d = 0; d < ix->ndim; d++) od[nd++] = ix->dims[d];
    for (int d = axis + 1; d < x->ndim; d++) od[nd++] = x->dims[d];
    EV_TRY(make_const(c, y, x->dtype, nd, od));
    size_t outer = 1, inner = 1, es = ev_dtype_size(x->dtype);
    for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
    size_t off = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < ix->elems; k++) {
            int64_t i = cgeti(ix, k);
            if (i < 0) i += x->dims[axis];
            if (i < 0 || i >= x->dims[axis])
                return NODE_FAIL(c, EV_ERR_FORMAT, "index %lld out of range", (long long)i);
            memcpy((uint8_t *)y->data + off,
                   (const uint8_t *)x->data + ((o * (size_t)x->dims[axis] + (size_t)i) * inner) * es,
                   inner * es);
            off += inner * es;
        }
    return EV_OK;
}

static ev_status emit_cast(oc *c) {
    oval *x, *y;
    EV_TRY(in_val(c, 0, 1, &x));
    EV_TRY(out_val(c, 0, &y));
    int64_t to;
    EV_TRY(attr_int(c, "to", 0, &to));
    ev_dtype dt = ev_onnx_dtype((int)to);
    if (x->kind == OV_CONST && dt != EV_DTYPE_UNKNOWN) {
        EV_TRY(make_const(c, y, dt, x->ndim, x->dims));
        for (size_t i = 0; i < x->elems; i++) {
            if (dt == EV_DTYPE_I64)
                ((int64_t *)y->data)[i] = x->dtype == EV_DTYPE_F32 ? (int64_t)cget(x, i)
                                                                  : cgeti(x, i);
            else
                cset(dt, y->data, i, x->dtype == EV_DTYPE_I64 ? (double)cgeti(x, i) : cget(x, i));
        }
        return EV_OK;
    }
    if (x->kind == OV_TENSOR && dt == x->dtype) {
        c->nd = c->nd; /* a no-op cast */
        const char *name = y->name;
        *y = *x;
        y->name = name;
        y->uses = 0;
        y->producer = -1;
        return EV_OK;
    }
    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "cast of a run-time %s tensor to type %lld",
                     ev_dtype_name(x->dtype), (long long)to);
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static ev_status emit_node(oc *c) {
    const char *t = c->nd->op_type;
    if (c->nd->domain && c->nd->domain[0] && strcmp(c->nd->domain, "ai.onnx") != 0)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "op type %s of domain '%s' is not supported", t,
                         c->nd->domain);
#define IS(s) (strcmp(t, s) == 0)
    if (IS("Conv")) return emit_conv(c, 0);
    if (IS("QLinearConv")) return emit_conv(c, 1);
    if (IS("ConvTranspose")) return emit_conv_transpose(c);
    if (IS("Relu")) return emit_unary(c, EV_OP_RELU, "RELU", 19);
    if (IS("Sigmoid")) return emit_unary(c, EV_OP_LOGISTIC, "LOGISTIC", 14);
    if (IS("LeakyRelu")) return emit_unary(c, EV_OP_LEAKY_RELU, "LEAKY_RELU", 98);
    if (IS("HardSigmoid")) return emit_unary(c, EV_OP_HARD_SIGMOID, "HARD_SIGMOID", -1);
    if (IS("HardSwish")) return emit_unary(c, EV_OP_HARD_SWISH, "HARD_SWISH", 117);
    if (IS("Clip")) return emit_clip(c);
    if (IS("Add")) return emit_binary(c, EV_OP_ADD, "ADD", 0);
    if (IS("Sub")) return emit_binary(c, EV_OP_SUB, "SUB", 41);
    if (IS("Mul")) return emit_binary(c, EV_OP_MUL, "MUL", 18);
    if (IS("Div")) return emit_binary(c, EV_OP_DIV, "DIV", 42);
    if (IS("MaxPool")) return emit_pool(c, 1);
    if (IS("AveragePool")) return emit_pool(c, 0);
    if (IS("GlobalAveragePool")) return emit_global_pool(c);
    if (IS("ReduceMean")) return emit_reduce_mean(c);
    if (IS("Reshape")) return emit_reshape(c);
    if (IS("Flatten")) return emit_flatten(c);
    if (IS("Squeeze")) return emit_squeeze(c, 0);
    if (IS("Unsqueeze")) return emit_squeeze(c, 1);
    if (IS("Transpose")) return emit_transpose(c);
    if (IS("Concat")) return emit_concat(c);
    if (IS("Softmax")) return emit_softmax(c);
    if (IS("Pad")) return emit_pad(c);
    if (IS("MatMul")) return emit_matmul(c);
    if (IS("Gemm")) return emit_gemm(c);
    if (IS("QLinearMatMul")) return emit_qlinear_matmul(c);
    if (IS("QuantizeLinear")) return emit_quantize(c);
    if (IS("DequantizeLinear")) return emit_dequantize(c);
    if (IS("Resize")) return emit_resize(c);
    if (IS("BatchNormalization")) return emit_batchnorm(c);
    if (IS("Constant")) return emit_constant(c);
    if (IS("Identity") || IS("Dropout")) return emit_identity(c);
    if (IS("Shape")) return emit_shape(c);
    if (IS("Gather")) return emit_gather(c);
    if (IS("Cast")) return emit_cast(c);
#undef IS
    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, "op type %s is not supported by the ONNX reader", t);
}

/* ------------------------------------------------------------------------------------------ */
/* Graph                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static ev_status graph_input(oc *c, const ValueInfoProto *vi, int *t_out) {
    const char *name = vi->name;
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: graph input '%s' is not a tensor", c->src, name);
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    ev_dtype dt = ev_onnx_dtype(tt->has_elem_type ? tt->elem_type : 0);
    if (dt == EV_DTYPE_UNKNOWN || dt == EV_DTYPE_I16)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: graph input '%s' has element type %d (float, "
                       "uint8, int8, int32 or int64 supported)", c->src, name,
                       tt->has_elem_type ? tt->elem_type : 0);
    if (!tt->shape)
        return EV_FAIL(EV_ERR_SHAPE, "%s: graph input '%s' has no shape", c->src, name);
    size_t nd = tt->shape->n_dim;
    if (nd > EV_MAX_DIMS)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: graph input '%s' has rank %zu (at most %d)",
                       c->src, name, nd, EV_MAX_DIMS);
    int dims[EV_MAX_DIMS];
    for (size_t i = 0; i < nd; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0 || d->dim_value > INT32_MAX)
                return EV_FAIL(EV_ERR_FORMAT, "%s: graph input '%s' dimension %zu is %lld",
                               c->src, name, i, (long long)d->dim_value);
            dims[i] = (int)d->dim_value;
        } else if (i == 0) {
            dims[i] = 1; /* a free batch */
        } else if (nd == 4 && i >= 2 && c->in_h > 0) {
            dims[i] = i == 2 ? c->in_h : c->in_w;
        } else {
            return EV_FAIL(EV_ERR_SHAPE, "%s: graph input '%s' dimension %zu is free ('%s'); "
                           "give the input size (H and W of an NCHW input) at load", c->src, name,
                           i, d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                  && d->dim_param ? d->dim_param : "");
        }
    }
    oval *v = find_val(c, name);
    if (!v) return EV_FAIL(EV_ERR_INTERNAL, "%s: input '%s' not indexed", c->src, name);
    int t = new_act(c, name, dt, (int)nd, dims, NULL);
    if (c->b.error) return EV_FAIL(EV_ERR_FORMAT, "%s: input '%s': %s", c->src, name, c->b.msg);
    set_tensor(v, t, 0, dt, (int)nd, dims, -1);
    *t_out = t;
    return EV_OK;
}

static ev_status convert(oc *c) {
    GraphProto *gr = c->gr;
    if (gr->n_node > EV_MAX_OPS)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: %zu nodes (at most %d supported)", c->src,
                       gr->n_node, EV_MAX_OPS);
    if (gr->n_input > 100000 || gr->n_output > 100000 || gr->n_initializer > 10000000)
        return EV_FAIL(EV_ERR_FORMAT, "%s: implausibly many inputs, outputs or initializers",
                       c->src);
    if (gr->n_sparse_initializer)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: sparse initializers are not supported", c->src);
    size_t cap = gr->n_input + gr->n_initializer + 1;
    for (size_t i = 0; i < gr->n_node; i++) {
        if (gr->node[i]->n_output > 1000 || gr->node[i]->n_input > 100000)
            return EV_FAIL(EV_ERR_FORMAT, "%s: node %zu has %zu inputs and %zu outputs", c->src, i,
                           gr->node[i]->n_input, gr->node[i]->n_output);
        cap += gr->node[i]->n_output;
    }
    if (cap > 50000000) return EV_FAIL(EV_ERR_FORMAT, "%s: too many values", c->src);
    size_t hcap = 16;
    while (hcap < 2 * cap) hcap *= 2;
    c->cap = (int)cap;
    c->v = calloc(cap, sizeof *c->v);
    c->hash = malloc(sizeof(int) * hcap);
    c->skip = calloc(gr->n_node + 1, 1);
    if (!c->v || !c->hash || !c->skip) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < hcap; i++) c->hash[i] = -1;
    c->hmask = hcap - 1;
    oval *v;
    for (size_t i = 0; i < gr->n_initializer; i++) {
        EV_TRY(add_val(c, gr->initializer[i]->name, &v));
        v->kind = OV_INIT;
        v->init = gr->initializer[i];
    }
    for (size_t i = 0; i < gr->n_input; i++) {
        const char *nm = gr->input[i]->name;
        if (nm && find_val(c, nm)) continue; /* an initializer listed as input: a constant */
        EV_TRY(add_val(c, nm, &v));
        for (int k = 0; k < c->nbind; k++) {
            if (strcmp(c->bind_names[k], nm) != 0) continue;
            const ev_onnx_array *a = &c->bind_vals[k];
            size_t bytes = a->elems * ev_dtype_size(a->dtype);
            v->kind = OV_CONST;
            v->dtype = a->dtype;
            v->ndim = a->ndim;
            memcpy(v->dims, a->dims, sizeof v->dims);
            v->elems = a->elems;
            v->data = malloc(bytes ? bytes : 1);
            if (!v->data) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            if (bytes) memcpy(v->data, a->data, bytes);
        }
    }
    for (int k = 0; k < c->nbind; k++) {
        v = find_val(c, c->bind_names[k]);
        if (!v || v->kind != OV_CONST || v->init)
            return EV_FAIL(EV_ERR_INVALID_ARG, "%s: '%s' is not a graph input (only graph inputs "
                           "can be bound to constants)", c->src, c->bind_names[k]);
    }
    for (size_t i = 0; i < gr->n_node; i++)
        for (size_t k = 0; k < gr->node[i]->n_output; k++)
            if (gr->node[i]->output[k][0]) EV_TRY(add_val(c, gr->node[i]->output[k], &v));
    for (size_t i = 0; i < gr->n_node; i++)
        for (size_t k = 0; k < gr->node[i]->n_input; k++)
            if (gr->node[i]->input[k][0] && (v = find_val(c, gr->node[i]->input[k]))) v->uses++;
    for (size_t i = 0; i < gr->n_output; i++)
        if (gr->output[i]->name && (v = find_val(c, gr->output[i]->name))) v->uses++;

    gb_init(&c->b);
    free(c->b.g.source);
    c->b.g.source = strdup(c->src);
    if (!c->b.g.source) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    int *ins = malloc(sizeof(int) * (gr->n_input + 1));
    int *outs = malloc(sizeof(int) * (gr->n_output + 1));
    int nin = 0, nout = 0;
    ev_status st = EV_OK;
    if (!ins || !outs) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == EV_OK && i < gr->n_input; i++) {
        v = find_val(c, gr->input[i]->name);
        if (v && (v->kind == OV_INIT || v->kind == OV_CONST)) continue;
        st = graph_input(c, gr->input[i], &ins[nin]);
        if (st == EV_OK) nin++;
    }
    for (size_t i = 0; st == EV_OK && i < gr->n_node; i++) {
        if (c->skip[i]) continue;
        c->ni = (int)i;
        c->nd = gr->node[i];
        if (!c->nd->op_type) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: node %zu has no op type", c->src, i);
            break;
        }
        st = emit_node(c);
    }
    c->nd = NULL;
    for (size_t i = 0; st == EV_OK && i < gr->n_output; i++) {
        const char *nm = gr->output[i]->name;
        v = nm ? find_val(c, nm) : NULL;
        if (!v || v->kind == OV_NONE || v->kind == OV_INIT) {
            if (v && (v->kind == OV_INIT || v->kind == OV_CONST))
                st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: graph output '%s' is a constant", c->src,
                             nm);
            else
                st = EV_FAIL(EV_ERR_FORMAT, "%s: graph output '%s' is never computed", c->src,
                             nm ? nm : "");
            break;
        }
        if (v->kind == OV_CONST) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: graph output '%s' is a constant (computed at "
                         "load)", c->src, nm);
            break;
        }
        int t;
        st = layout(c, v, 0, &t);
        if (st != EV_OK) break;
        /* a graph input, or a tensor already given out: copy */
        int copy = 0;
        for (int k = 0; k < nin; k++) copy |= ins[k] == t;
        for (int k = 0; k < nout; k++) copy |= outs[k] == t;
        if (copy) {
            const ev_tensor *src = irt(c, t);
            ev_quant q = src->quant;
            int d[EV_MAX_DIMS], nd = src->ndim;
            for (int k = 0; k < nd; k++) d[k] = src->dims[k];
            int o = new_act(c, nm, src->dtype, nd, d, &q);
            int op = add_op(c, EV_OP_RESHAPE, "RESHAPE", 22, 1, &t, o);
            if (op >= 0) c->b.g.ops[op].p.reshape.num_dims = -1;
            if (c->b.error) {
                st = EV_FAIL(EV_ERR_FORMAT, "%s: output '%s': %s", c->src, nm, c->b.msg);
                break;
            }
            t = o;
        } else if (strcmp(c->b.g.tensors[t].name, nm) != 0) {
            char *s = strdup(nm);
            if (!s) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                break;
            }
            free(c->b.g.tensors[t].name);
            c->b.g.tensors[t].name = s;
        }
        outs[nout++] = t;
    }
    if (st == EV_OK && (nin < 1 || nout < 1))
        st = EV_FAIL(EV_ERR_FORMAT, "%s: the graph has %d inputs and %d outputs; at least one of "
                     "each is needed", c->src, nin, nout);
    if (st == EV_OK) {
        gb_inputs(&c->b, nin, ins);
        gb_outputs(&c->b, nout, outs);
    }
    free(ins), free(outs);
    return st;
}

static int opset_of(const ModelProto *m) {
    if (!m->n_opset_import) return 1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0)
            return o->has_version ? (int)(o->version > 1000 ? 1000 : o->version) : 1;
    }
    return -1;
}

int ev_onnx_identify(const uint8_t *data, size_t size, const char *source) {
    if (source) {
        size_t l = strlen(source);
        if (l >= 5 && strcmp(source + l - 5, ".onnx") == 0) return 1;
    }
    if (!data || size < 4 || data[0] != 0x08) return 0; /* field 1 (ir_version), varint */
    ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    int ok = m && m->graph && m->graph->n_node > 0;
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return ok;
}

ev_status ev_onnx_node_types(const uint8_t *data, size_t size, const char *source,
                             char ***types, int *n) {
    *types = NULL;
    *n = 0;
    ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m || !m->graph) {
        if (m) onnx__model_proto__free_unpacked(m, NULL);
        return EV_FAIL(EV_ERR_FORMAT, "%s: not an ONNX model", source);
    }
    size_t nn = m->graph->n_node, bytes = sizeof(char *) * (nn + 1);
    for (size_t i = 0; i < nn; i++)
        bytes += strlen(m->graph->node[i]->op_type ? m->graph->node[i]->op_type : "") + 1;
    char **out = malloc(bytes);
    if (!out) {
        onnx__model_proto__free_unpacked(m, NULL);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    char *p = (char *)(out + nn + 1);
    for (size_t i = 0; i < nn; i++) {
        const char *s = m->graph->node[i]->op_type ? m->graph->node[i]->op_type : "";
        size_t l = strlen(s) + 1;
        memcpy(p, s, l);
        out[i] = p;
        p += l;
    }
    out[nn] = NULL;
    *types = out;
    *n = (int)nn;
    onnx__model_proto__free_unpacked(m, NULL);
    return EV_OK;
}

ev_status ev_onnx_parse(uint8_t *file, size_t size, const char *source, int input_h, int input_w,
                        ev_graph *g) {
    return ev_onnx_parse_bound(file, size, source, input_h, input_w, 0, NULL, NULL, g);
}

ev_status ev_onnx_parse_bound(uint8_t *file, size_t size, const char *source, int input_h,
                              int input_w, int nbind, const char *const *names,
                              const ev_onnx_array *values, ev_graph *g) {
    memset(g, 0, sizeof *g);
    oc c;
    memset(&c, 0, sizeof c);
    c.nbind = nbind;
    c.bind_names = names;
    c.bind_vals = values;
    c.src = source;
    c.in_h = input_h;
    c.in_w = input_w;
    ev_status st = EV_OK;
    c.m = onnx__model_proto__unpack(NULL, size, file);
    if (!c.m) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: not a valid ONNX model protobuf (%zu bytes: truncated, "
                     "corrupt, or another format)", source, size);
        free(file);
        return st;
    }
    c.gr = c.m->graph;
    c.opset = opset_of(c.m);
    if (!c.gr) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: the ONNX model has no graph", source);
    } else if (c.opset < ONNX_MIN_OPSET || c.opset > ONNX_MAX_OPSET) {
        st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: opset %d of the default domain (%d to %d are "
                     "supported)", source, c.opset, ONNX_MIN_OPSET, ONNX_MAX_OPSET);
    } else {
        st = convert(&c);
    }
    ev_model *m = NULL;
    if (st == EV_OK && c.gr) {
        if (gb_finish(&c.b, &m) != EV_OK)
            st = EV_FAIL(EV_ERR_FORMAT, "%s: building the graph: %s", source, c.b.msg);
    } else if (c.gr && c.b.g.source) {
        gb_release(&c.b);
    }
    if (st == EV_OK) {
        *g = m->graph;
        free(m);
    }
    for (int i = 0; c.v && i < c.nv; i++)
        if (c.v[i].kind == OV_CONST) free(c.v[i].data);
    free(c.v), free(c.hash), free(c.skip), free(c.is_output);
    onnx__model_proto__free_unpacked(c.m, NULL);
    free(file);
    return st;
}
