/*
 * tf_graphdef.c - reads a TensorFlow frozen graph (GraphDef protobuf) into the graph IR.
 *
 * Steps: unpack with protobuf-c (which bounds-checks the wire format); index nodes by name and
 * resolve every input ("node", "node:N", "^control"); order the nodes topologically (Kahn's
 * algorithm, so a cycle is an error naming a node on it); keep what the outputs (the non-constant
 * sink nodes) need; then walk that order turning each node into IR tensors and ops through
 * core/graph_builder.h, propagating shapes as we go (the input size is given at load time).
 *
 * Mapping (docs/tf-graphdef.md): Conv2D -> CONV_2D (HWIO filter -> OHWI),
 * DepthwiseConv2dNative -> DEPTHWISE_CONV_2D (HWCM -> 1HW(C*M), the same bytes), MatMul ->
 * FULLY_CONNECTED; a following BiasAdd / Add of a constant vector, FusedBatchNorm and Relu /
 * Relu6 are folded into the conv or matmul when each is the only consumer of the previous one.
 * Otherwise: Relu, Relu6, Sigmoid (LOGISTIC), Add/AddV2/BiasAdd (ADD), MaxPool, AvgPool, Mean,
 * Pad. Identity is an alias. Constants are decoded (tensor_content or the *_val fields) and
 * checked against their shape.
 *
 * To support another op: add a case in emit_node() that reads its inputs with want_tensor() /
 * want_const(), validates its attributes through the attr_* helpers (each failure names the
 * node and the attribute) and emits IR ops with gb_*.
 */
#include "formats/tf_graphdef.h"

#include "core/graph_builder.h"
#include "core/status.h"
#include "tf_graph.pb-c.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Edgevision__Tf__GraphDef GraphDef;
typedef Edgevision__Tf__NodeDef NodeDef;
typedef Edgevision__Tf__AttrValue AttrValue;
typedef Edgevision__Tf__TensorProto TensorProto;
typedef Edgevision__Tf__TensorShapeProto TensorShapeProto;

#define MAX_NODES 200000
#define MAX_CONST_ELEMS (1ll << 30)

enum { V_NONE = 0, V_CONST, V_TENSOR };

/* What a node evaluates to: a constant (decoded to float or int64) or an IR tensor. */
typedef struct tfval {
    int kind;
    int t; /* V_TENSOR: builder tensor index */
    int ndim, dims[EV_MAX_DIMS];
    int is_float; /* V_CONST: f (float) or i (int64) */
    float *f;
    int64_t *i;
    int64_t elems;
    int owned; /* V_CONST: this value owns f / i (Identity aliases do not) */
} tfval;

typedef struct tfc {
    const char *src;
    GraphDef *gd;
    int n;
    int *by_name;   /* node indices sorted by name */
    int *nin;       /* data inputs per node */
    int **in;       /* their node indices */
    int *ncons;     /* data consumers among the needed nodes */
    int *cons;      /* the last such consumer */
    int *order, norder;
    char *needed, *absorbed;
    tfval *val;
    int in_h, in_w;
    gb b;
} tfc;

static const char *node_name(const tfc *c, int i) { return c->gd->node[i]->name; }
static const char *node_op(const tfc *c, int i) { return c->gd->node[i]->op; }

#define NODE_FAIL(c, st, ni, ...) node_fail((c), (st), (ni), __FILE__, __LINE__, __VA_ARGS__)

static ev_status node_fail(const tfc *c, ev_status st, int ni, const char *file, int line,
                           const char *fmt, ...) EV_PRINTF(6, 7);

static ev_status node_fail(const tfc *c, ev_status st, int ni, const char *file, int line,
                           const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ev_set_error(st, file, line, "%s: node '%s' (%s): %s", c->src, node_name(c, ni),
                        node_op(c, ni), msg);
}

static int op_is(const tfc *c, int ni, const char *op) { return strcmp(node_op(c, ni), op) == 0; }

/* ------------------------------------------------------------------------------------------ */
/* Names and inputs                                                                           */
/* ------------------------------------------------------------------------------------------ */

typedef struct name_idx {
    const char *name;
    int idx;
} name_idx;

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const name_idx *)a)->name, ((const name_idx *)b)->name);
}

static ev_status build_index(tfc *c) {
    name_idx *ix;
    EV_ALLOC(ix, sizeof *ix * (size_t)c->n);
    for (int i = 0; i < c->n; i++) ix[i] = (name_idx){node_name(c, i), i};
    qsort(ix, (size_t)c->n, sizeof *ix, cmp_name);
    c->by_name = malloc(sizeof(int) * (size_t)c->n);
    ev_status st = EV_OK;
    if (!c->by_name) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; st == EV_OK && i < c->n; i++) {
        c->by_name[i] = ix[i].idx;
        if (i > 0 && strcmp(ix[i - 1].name, ix[i].name) == 0)
            st = EV_FAIL(EV_ERR_FORMAT, "%s: two nodes are named '%s'", c->src, ix[i].name);
    }
    free(ix);
    return st;
}

static int find_node(const tfc *c, const char *name, size_t len) {
    int lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const char *s = node_name(c, c->by_name[mid]);
        int r = strncmp(s, name, len);
        if (r == 0 && s[len] != '\0') r = 1;
        if (r == 0) return c->by_name[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Resolves node ni's inputs: data inputs into c->in[ni]; control inputs ("^x") are checked to
 * exist and dropped; "x:N" must name output 0 (the only output of the ops we support). */
static ev_status resolve_inputs(tfc *c, int ni) {
    const NodeDef *nd = c->gd->node[ni];
    if (nd->n_input > 1000) return NODE_FAIL(c, EV_ERR_FORMAT, ni, "%zu inputs", nd->n_input);
    EV_ALLOC(c->in[ni], sizeof(int) * (nd->n_input ? nd->n_input : 1));
    int k = 0;
    for (size_t j = 0; j < nd->n_input; j++) {
        const char *s = nd->input[j];
        int control = s[0] == '^';
        if (control) s++;
        size_t len = strlen(s);
        long port = 0;
        const char *colon = strrchr(s, ':');
        if (colon && colon[1]) {
            char *end;
            port = strtol(colon + 1, &end, 10);
            if (*end == '\0' && port >= 0) len = (size_t)(colon - s);
            else port = 0;
        }
        int src = len ? find_node(c, s, len) : -1;
        if (src < 0)
            return NODE_FAIL(c, EV_ERR_FORMAT, ni, "input %zu '%s' names no node of the graph", j,
                             nd->input[j]);
        if (control) continue;
        if (port != 0)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "input %zu '%s' reads output %ld of '%s' "
                             "(%s); only output 0 is supported", j, nd->input[j], port,
                             node_name(c, src), node_op(c, src));
        c->in[ni][k++] = src;
    }
    c->nin[ni] = k;
    return EV_OK;
}

/* Topological order of all nodes (Kahn); a cycle names one of its nodes. */
static ev_status topo_sort(tfc *c) {
    int *indeg, *head, *next_edge, *edge_to, nedges = 0, *queue;
    for (int i = 0; i < c->n; i++) nedges += c->nin[i];
    EV_ALLOC(indeg, sizeof(int) * (size_t)c->n);
    head = malloc(sizeof(int) * (size_t)c->n);
    next_edge = malloc(sizeof(int) * (size_t)(nedges ? nedges : 1));
    edge_to = malloc(sizeof(int) * (size_t)(nedges ? nedges : 1));
    queue = malloc(sizeof(int) * (size_t)c->n);
    c->order = malloc(sizeof(int) * (size_t)c->n);
    ev_status st = EV_OK;
    if (!head || !next_edge || !edge_to || !queue || !c->order) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < c->n; i++) head[i] = -1;
    int e = 0;
    for (int i = 0; i < c->n; i++)
        for (int j = 0; j < c->nin[i]; j++) { /* edge src -> i */
            int s = c->in[i][j];
            edge_to[e] = i;
            next_edge[e] = head[s];
            head[s] = e++;
            indeg[i]++;
        }
    int qh = 0, qt = 0;
    for (int i = 0; i < c->n; i++)
        if (indeg[i] == 0) queue[qt++] = i;
    c->norder = 0;
    while (qh < qt) {
        int v = queue[qh++];
        c->order[c->norder++] = v;
        for (int x = head[v]; x >= 0; x = next_edge[x])
            if (--indeg[edge_to[x]] == 0) queue[qt++] = edge_to[x];
    }
    if (c->norder < c->n) {
        int bad = 0;
        while (indeg[bad] == 0) bad++;
        st = NODE_FAIL(c, EV_ERR_FORMAT, bad, "is part of a cycle (%d nodes cannot be ordered)",
                       c->n - c->norder);
    }
done:
    free(indeg), free(head), free(next_edge), free(edge_to), free(queue);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Attributes                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static const AttrValue *attr(const tfc *c, int ni, const char *key) {
    const NodeDef *nd = c->gd->node[ni];
    for (size_t i = 0; i < nd->n_attr; i++)
        if (nd->attr[i] && nd->attr[i]->key && strcmp(nd->attr[i]->key, key) == 0)
            return nd->attr[i]->value;
    return NULL;
}

static const char *case_name(int vc) {
    switch (vc) {
    case EDGEVISION__TF__ATTR_VALUE__VALUE_S: return "string";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_I: return "int";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_F: return "float";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_B: return "bool";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_TYPE: return "type";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_SHAPE: return "shape";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_TENSOR: return "tensor";
    case EDGEVISION__TF__ATTR_VALUE__VALUE_LIST: return "list";
    default: return "nothing";
    }
}

/* Attribute `key` of the given kind; NULL with an error set (required) or without (optional). */
static const AttrValue *attr_of(const tfc *c, int ni, const char *key, int vc, int required,
                                ev_status *st) {
    *st = EV_OK;
    const AttrValue *v = attr(c, ni, key);
    if (!v) {
        if (required)
            *st = NODE_FAIL(c, EV_ERR_FORMAT, ni, "attribute '%s' is missing", key);
        return NULL;
    }
    if ((int)v->value_case != vc) {
        *st = NODE_FAIL(c, EV_ERR_FORMAT, ni, "attribute '%s' holds a %s, expected a %s", key,
                        case_name((int)v->value_case), case_name(vc));
        return NULL;
    }
    return v;
}

/* String attribute compared with `want` (optional ones default to `want`). */
static ev_status attr_str_is(const tfc *c, int ni, const char *key, int required, const char *a,
                             const char *b_alt, int *which) {
    ev_status st;
    const AttrValue *v = attr_of(c, ni, key, EDGEVISION__TF__ATTR_VALUE__VALUE_S, required, &st);
    if (st != EV_OK) return st;
    *which = 0;
    if (!v) return EV_OK;
    size_t la = strlen(a);
    if (v->s.len == la && memcmp(v->s.data, a, la) == 0) return EV_OK;
    if (b_alt && v->s.len == strlen(b_alt) && memcmp(v->s.data, b_alt, v->s.len) == 0) {
        *which = 1;
        return EV_OK;
    }
    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "attribute '%s' is '%.*s'; supported: %s%s%s", key,
                     (int)(v->s.len > 64 ? 64 : v->s.len), (const char *)v->s.data, a,
                     b_alt ? " or " : "", b_alt ? b_alt : "");
}

/* A 4-element NHWC int list [1, h, w, 1] (strides, ksize, dilations); absent optional -> 1, 1. */
static ev_status attr_hw(const tfc *c, int ni, const char *key, int required, int *h, int *w) {
    ev_status st;
    const AttrValue *v = attr_of(c, ni, key, EDGEVISION__TF__ATTR_VALUE__VALUE_LIST, required, &st);
    if (st != EV_OK) return st;
    *h = *w = 1;
    if (!v) return EV_OK;
    const Edgevision__Tf__AttrValue__ListValue *l = v->list;
    if (!l || l->n_i != 4)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "attribute '%s' has %zu values, expected 4 (NHWC)",
                         key, l ? l->n_i : 0);
    if (l->i[0] != 1 || l->i[3] != 1)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "attribute '%s' = [%lld,%lld,%lld,%lld]: only "
                         "[1,h,w,1] is supported", key, (long long)l->i[0], (long long)l->i[1],
                         (long long)l->i[2], (long long)l->i[3]);
    if (l->i[1] < 1 || l->i[2] < 1 || l->i[1] > 4096 || l->i[2] > 4096)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "attribute '%s': invalid %lldx%lld", key,
                         (long long)l->i[1], (long long)l->i[2]);
    *h = (int)l->i[1];
    *w = (int)l->i[2];
    return EV_OK;
}

static ev_status check_nhwc(const tfc *c, int ni) {
    int which;
    return attr_str_is(c, ni, "data_format", 0, "NHWC", NULL, &which);
}

static ev_status attr_padding(const tfc *c, int ni, ev_padding *p) {
    int which;
    EV_TRY(attr_str_is(c, ni, "padding", 1, "SAME", "VALID", &which));
    *p = which ? EV_PAD_VALID : EV_PAD_SAME;
    return EV_OK;
}

/* The "T" / "dtype" attribute, when present, must be float. */
static ev_status check_float_t(const tfc *c, int ni, const char *key) {
    ev_status st;
    const AttrValue *v = attr_of(c, ni, key, EDGEVISION__TF__ATTR_VALUE__VALUE_TYPE, 0, &st);
    if (st != EV_OK) return st;
    if (v && v->type != EDGEVISION__TF__DATA_TYPE__DT_FLOAT)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "attribute '%s' is data type %d; only float32 "
                         "(DT_FLOAT) graphs are supported", key, (int)v->type);
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Constants                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static ev_status decode_tensor(const tfc *c, int ni, const TensorProto *tp, tfval *v) {
    memset(v, 0, sizeof *v);
    v->kind = V_CONST;
    v->owned = 1;
    int dt = (int)tp->dtype;
    size_t esz;
    switch (dt) {
    case EDGEVISION__TF__DATA_TYPE__DT_FLOAT: esz = 4, v->is_float = 1; break;
    case EDGEVISION__TF__DATA_TYPE__DT_DOUBLE: esz = 8, v->is_float = 1; break;
    case EDGEVISION__TF__DATA_TYPE__DT_INT32: esz = 4; break;
    case EDGEVISION__TF__DATA_TYPE__DT_INT64: esz = 8; break;
    default:
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "constant of data type %d (supported: float, "
                         "double, int32, int64)", dt);
    }
    const TensorShapeProto *sp = tp->tensor_shape;
    int64_t elems = 1;
    if (sp) {
        if (sp->unknown_rank)
            return NODE_FAIL(c, EV_ERR_FORMAT, ni, "constant with unknown rank");
        if (sp->n_dim > EV_MAX_DIMS)
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "constant with %zu dimensions (at most %d)",
                             sp->n_dim, EV_MAX_DIMS);
        v->ndim = (int)sp->n_dim;
        for (int d = 0; d < v->ndim; d++) {
            int64_t s = sp->dim[d] ? sp->dim[d]->size : -1;
            if (s < 0 || s > MAX_CONST_ELEMS)
                return NODE_FAIL(c, EV_ERR_FORMAT, ni, "constant dimension %d is %lld", d,
                                 (long long)s);
            v->dims[d] = (int)s;
            elems *= s;
            if (elems > MAX_CONST_ELEMS)
                return NODE_FAIL(c, EV_ERR_FORMAT, ni, "constant of more than %lld elements",
                                 (long long)MAX_CONST_ELEMS);
        }
    }
    v->elems = elems;
    size_t n = (size_t)(elems ? elems : 1);
    if (v->is_float)
        EV_ALLOC(v->f, sizeof(float) * n);
    else
        EV_ALLOC(v->i, sizeof(int64_t) * n);
    const uint8_t *raw = tp->tensor_content.data;
    size_t rawlen = tp->tensor_content.len;
    if (rawlen) {
        if (rawlen != (size_t)elems * esz)
            return NODE_FAIL(c, EV_ERR_FORMAT, ni, "constant has %zu bytes of content for %lld "
                             "elements of %zu bytes", rawlen, (long long)elems, esz);
        for (int64_t k = 0; k < elems; k++) {
            const uint8_t *p = raw + (size_t)k * esz;
            switch (dt) {
            case EDGEVISION__TF__DATA_TYPE__DT_FLOAT: memcpy(&v->f[k], p, 4); break;
            case EDGEVISION__TF__DATA_TYPE__DT_DOUBLE: {
                double d;
                memcpy(&d, p, 8);
                v->f[k] = (float)d;
                break;
            }
            case EDGEVISION__TF__DATA_TYPE__DT_INT32: {
                int32_t x;
                memcpy(&x, p, 4);
                v->i[k] = x;
                break;
            }
            default: memcpy(&v->i[k], p, 8); break;
            }
        }
        return EV_OK;
    }
    /* Repeated *_val fields: fewer values than elements repeat the last one (TensorFlow's rule);
     * none means zeros. */
    size_t nv = dt == EDGEVISION__TF__DATA_TYPE__DT_FLOAT    ? tp->n_float_val
                : dt == EDGEVISION__TF__DATA_TYPE__DT_DOUBLE ? tp->n_double_val
                : dt == EDGEVISION__TF__DATA_TYPE__DT_INT32  ? tp->n_int_val
                                                             : tp->n_int64_val;
    if (nv > (size_t)elems)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "constant has %zu values for %lld elements", nv,
                         (long long)elems);
    for (int64_t k = 0; k < elems; k++) {
        size_t src = nv == 0 ? 0 : (size_t)k < nv ? (size_t)k : nv - 1;
        switch (dt) {
        case EDGEVISION__TF__DATA_TYPE__DT_FLOAT: v->f[k] = nv ? tp->float_val[src] : 0.0f; break;
        case EDGEVISION__TF__DATA_TYPE__DT_DOUBLE:
            v->f[k] = nv ? (float)tp->double_val[src] : 0.0f;
            break;
        case EDGEVISION__TF__DATA_TYPE__DT_INT32: v->i[k] = nv ? tp->int_val[src] : 0; break;
        default: v->i[k] = nv ? tp->int64_val[src] : 0; break;
        }
    }
    return EV_OK;
}

static void val_release(tfval *v) {
    if (v->owned) {
        free(v->f);
        free(v->i);
    }
    memset(v, 0, sizeof *v);
}

/* Input j of node ni as an IR tensor (float32) / as a constant. */
static ev_status want_tensor(tfc *c, int ni, int j, tfval **out) {
    if (j >= c->nin[ni])
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "has %d data inputs, needs at least %d", c->nin[ni],
                         j + 1);
    tfval *v = &c->val[c->in[ni][j]];
    if (v->kind != V_TENSOR)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "input %d '%s' (%s) is %s; a computed tensor "
                         "is expected", j, node_name(c, c->in[ni][j]), node_op(c, c->in[ni][j]),
                         v->kind == V_CONST ? "a constant" : "not available");
    *out = v;
    return EV_OK;
}

static ev_status want_const(tfc *c, int ni, int j, int is_float, tfval **out) {
    if (j >= c->nin[ni])
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "has %d data inputs, needs at least %d", c->nin[ni],
                         j + 1);
    tfval *v = &c->val[c->in[ni][j]];
    if (v->kind != V_CONST)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "input %d '%s' (%s) must be a constant", j,
                         node_name(c, c->in[ni][j]), node_op(c, c->in[ni][j]));
    if (v->is_float != is_float)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "input %d '%s' must be a%s constant", j,
                         node_name(c, c->in[ni][j]), is_float ? " float" : "n integer");
    *out = v;
    return EV_OK;
}

static const ev_tensor *tensor_of(tfc *c, const tfval *v) { return &c->b.g.tensors[v->t]; }

static int add_activation(tfc *c, const char *name, int ndim, const int *dims) {
    return gb_tensor(&c->b, name, EV_DTYPE_F32, ndim, dims, NULL, 0, 0, NULL, NULL, 0);
}

static int add_const_f32(tfc *c, const char *name, int ndim, const int *dims, const float *data,
                         size_t n) {
    return gb_tensor(&c->b, name, EV_DTYPE_F32, ndim, dims, data, n * sizeof(float), 0, NULL, NULL,
                     0);
}

static ev_status builder_error(tfc *c, int ni) {
    return NODE_FAIL(c, c->b.msg[0] && strstr(c->b.msg, "out of memory") ? EV_ERR_NO_MEMORY
                                                                          : EV_ERR_FORMAT,
                     ni, "%s", c->b.msg);
}

static void set_tensor(tfc *c, int ni, int t) {
    tfval *v = &c->val[ni];
    memset(v, 0, sizeof *v);
    v->kind = V_TENSOR;
    v->t = t;
}

/* ------------------------------------------------------------------------------------------ */
/* Fused chains: conv / matmul + bias + batch norm + relu                                     */
/* ------------------------------------------------------------------------------------------ */

/* The single consumer of node `last`, when it is `op`-like and reads `last` as input 0 (or either
 * input for Add). -1 otherwise. */
static int sole_consumer(const tfc *c, int last) {
    if (c->ncons[last] != 1) return -1;
    return c->cons[last];
}

/* A constant vector of n floats (shape [n], or [1,...,1,n]) among node nx's inputs other than
 * `last`; NULL when it is not one. */
static const tfval *bias_operand(const tfc *c, int nx, int last, int n) {
    if (c->nin[nx] != 2) return NULL;
    int other = c->in[nx][0] == last ? c->in[nx][1] : c->in[nx][0];
    if (c->in[nx][0] != last && c->in[nx][1] != last) return NULL;
    if (op_is(c, nx, "BiasAdd") && c->in[nx][0] != last) return NULL;
    const tfval *v = &c->val[other];
    if (v->kind != V_CONST || !v->is_float || v->elems != n || v->ndim < 1 ||
        v->dims[v->ndim - 1] != n)
        return NULL;
    return v;
}

typedef struct chain {
    float *w;      /* filter, [out_c] slices along `w_axis_stride` layout handled by caller */
    float *bias;   /* [out_c] */
    int has_bias;
    int out_c;
    ev_activation act;
    int last;      /* node whose name and value the fused output takes */
} chain;

/* Scales output channel oc of a filter laid out with channel innermost (depthwise 1HW(C*M)) or
 * outermost (conv OHWI, matmul [M][K]). */
static void scale_channel(float *w, size_t total, int out_c, int inner, int oc, float s) {
    if (inner) {
        for (size_t k = (size_t)oc; k < total; k += (size_t)out_c) w[k] *= s;
    } else {
        size_t per = total / (size_t)out_c;
        for (size_t k = 0; k < per; k++) w[(size_t)oc * per + k] *= s;
    }
}

static ev_status fold_chain(tfc *c, int ni, chain *ch, size_t wtotal, int channel_inner) {
    ch->last = ni;
    ch->act = EV_ACT_NONE;
    for (;;) {
        int nx = sole_consumer(c, ch->last);
        if (nx < 0 || ch->act != EV_ACT_NONE) break;
        const char *op = node_op(c, nx);
        if (strcmp(op, "BiasAdd") == 0 || strcmp(op, "Add") == 0 || strcmp(op, "AddV2") == 0) {
            const tfval *b = bias_operand(c, nx, ch->last, ch->out_c);
            if (!b) break;
            if (strcmp(op, "BiasAdd") == 0) EV_TRY(check_nhwc(c, nx));
            for (int k = 0; k < ch->out_c; k++) ch->bias[k] += b->f[k];
            ch->has_bias = 1;
        } else if (strcmp(op, "FusedBatchNorm") == 0 || strcmp(op, "FusedBatchNormV2") == 0 ||
                   strcmp(op, "FusedBatchNormV3") == 0) {
            if (c->nin[nx] != 5 || c->in[nx][0] != ch->last) break;
            const tfval *p[4];
            for (int j = 0; j < 4; j++) {
                tfval *v;
                EV_TRY(want_const(c, nx, j + 1, 1, &v));
                if (v->elems != ch->out_c)
                    return NODE_FAIL(c, EV_ERR_SHAPE, nx, "input %d has %lld values for %d "
                                     "channels", j + 1, (long long)v->elems, ch->out_c);
                p[j] = v;
            }
            EV_TRY(check_nhwc(c, nx));
            ev_status st;
            const AttrValue *tr = attr_of(c, nx, "is_training", EDGEVISION__TF__ATTR_VALUE__VALUE_B,
                                          0, &st);
            if (st != EV_OK) return st;
            if (tr && tr->b)
                return NODE_FAIL(c, EV_ERR_UNSUPPORTED, nx, "is_training is true (a frozen "
                                 "inference graph has it false)");
            const AttrValue *ea = attr_of(c, nx, "epsilon", EDGEVISION__TF__ATTR_VALUE__VALUE_F, 0,
                                          &st);
            if (st != EV_OK) return st;
            double eps = ea ? (double)ea->f : 1e-4;
            for (int k = 0; k < ch->out_c; k++) { /* gamma, beta, mean, variance */
                double var = (double)p[3]->f[k];
                if (!(var + eps > 0))
                    return NODE_FAIL(c, EV_ERR_FORMAT, nx, "variance %g + epsilon %g of channel "
                                     "%d is not positive", var, eps, k);
                double s = (double)p[0]->f[k] / sqrt(var + eps);
                scale_channel(ch->w, wtotal, ch->out_c, channel_inner, k, (float)s);
                ch->bias[k] =
                    (float)(((double)ch->bias[k] - (double)p[2]->f[k]) * s + (double)p[1]->f[k]);
            }
            ch->has_bias = 1;
        } else if (strcmp(op, "Relu") == 0 || strcmp(op, "Relu6") == 0) {
            ch->act = op[4] == '6' ? EV_ACT_RELU6 : EV_ACT_RELU;
        } else {
            break;
        }
        c->absorbed[nx] = 1;
        ch->last = nx;
    }
    return EV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Ops                                                                                        */
/* ------------------------------------------------------------------------------------------ */

static ev_status emit_placeholder(tfc *c, int ni) {
    EV_TRY(check_float_t(c, ni, "dtype"));
    ev_status st;
    const AttrValue *sh = attr_of(c, ni, "shape", EDGEVISION__TF__ATTR_VALUE__VALUE_SHAPE, 0, &st);
    if (st != EV_OK) return st;
    if (!sh || !sh->shape || sh->shape->unknown_rank || sh->shape->n_dim < 1 ||
        sh->shape->n_dim > EV_MAX_DIMS)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "input without a shape attribute of 1 to %d "
                         "dimensions", EV_MAX_DIMS);
    if (sh->shape->n_dim != 4) { /* not an image: every dimension but the batch must be fixed */
        int nd = (int)sh->shape->n_dim, dims[EV_MAX_DIMS];
        for (int k = 0; k < nd; k++) {
            int64_t v = sh->shape->dim[k] ? sh->shape->dim[k]->size : -1;
            if (k == 0 && v == -1) v = 1;
            if (v < 1 || v > (1 << 24))
                return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "input dimension %d is %lld (only "
                                 "image inputs may have a free size)", k, (long long)v);
            dims[k] = (int)v;
        }
        int t = add_activation(c, node_name(c, ni), nd, dims);
        if (t < 0) return builder_error(c, ni);
        set_tensor(c, ni, t);
        return EV_OK;
    }
    int64_t d[4];
    for (int k = 0; k < 4; k++) d[k] = sh->shape->dim[k] ? sh->shape->dim[k]->size : -1;
    if (d[0] != 1 && d[0] != -1)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "batch %lld (only 1 is supported)",
                         (long long)d[0]);
    if (d[3] < 1 || d[3] > 4096)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "channel count %lld (must be fixed)",
                         (long long)d[3]);
    int dims[4] = {1, 0, 0, (int)d[3]};
    for (int k = 1; k <= 2; k++) {
        int want = k == 1 ? c->in_h : c->in_w;
        if (d[k] < 0) {
            if (want <= 0)
                return NODE_FAIL(c, EV_ERR_SHAPE, ni, "the input size is free (1x?x?x%lld): give "
                                 "one when loading (ev_model_load_with_input, --input-size HxW)",
                                 (long long)d[3]);
            dims[k] = want;
        } else {
            if (d[k] == 0 || d[k] > 65536)
                return NODE_FAIL(c, EV_ERR_FORMAT, ni, "input dimension %d is %lld", k,
                                 (long long)d[k]);
            if (want > 0 && want != d[k])
                return NODE_FAIL(c, EV_ERR_SHAPE, ni, "the input is fixed at %lldx%lld; %dx%d was "
                                 "asked for", (long long)d[1], (long long)d[2], c->in_h, c->in_w);
            dims[k] = (int)d[k];
        }
    }
    int t = add_activation(c, node_name(c, ni), 4, dims);
    if (t < 0) return builder_error(c, ni);
    set_tensor(c, ni, t);
    return EV_OK;
}

static ev_status emit_const(tfc *c, int ni) {
    ev_status st;
    const AttrValue *v = attr_of(c, ni, "value", EDGEVISION__TF__ATTR_VALUE__VALUE_TENSOR, 1, &st);
    if (st != EV_OK) return st;
    if (!v->tensor) return NODE_FAIL(c, EV_ERR_FORMAT, ni, "attribute 'value' is empty");
    const AttrValue *dt = attr_of(c, ni, "dtype", EDGEVISION__TF__ATTR_VALUE__VALUE_TYPE, 0, &st);
    if (st != EV_OK) return st;
    if (dt && dt->type != v->tensor->dtype)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "attribute dtype %d differs from its value's %d",
                         (int)dt->type, (int)v->tensor->dtype);
    return decode_tensor(c, ni, v->tensor, &c->val[ni]);
}

static ev_status emit_identity(tfc *c, int ni) {
    if (c->nin[ni] != 1) return NODE_FAIL(c, EV_ERR_FORMAT, ni, "has %d data inputs, expected 1",
                                          c->nin[ni]);
    c->val[ni] = c->val[c->in[ni][0]];
    c->val[ni].owned = 0;
    return EV_OK;
}

static ev_status emit_conv(tfc *c, int ni, int depthwise) {
    tfval *x, *w;
    EV_TRY(want_tensor(c, ni, 0, &x));
    EV_TRY(want_const(c, ni, 1, 1, &w));
    EV_TRY(check_float_t(c, ni, "T"));
    EV_TRY(check_nhwc(c, ni));
    const ev_tensor *xt = tensor_of(c, x);
    char s1[64];
    if (xt->ndim != 4 || w->ndim != 4)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "input %s and filter of %d dimensions: 4-D NHWC "
                         "input and HWIO filter expected", ev_shape_str(xt, s1, 64), w->ndim);
    ev_conv_params p = {0};
    EV_TRY(attr_hw(c, ni, "strides", 1, &p.stride_h, &p.stride_w));
    EV_TRY(attr_hw(c, ni, "dilations", 0, &p.dilation_h, &p.dilation_w));
    EV_TRY(attr_padding(c, ni, &p.padding));
    int kh = w->dims[0], kw = w->dims[1], ic = w->dims[2], m = w->dims[3];
    if (ic != xt->dims[3] || kh < 1 || kw < 1 || m < 1)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "filter %dx%dx%dx%d does not fit input %s", kh, kw,
                         ic, m, ev_shape_str(xt, s1, 64));
    int out_c = depthwise ? ic * m : m;
    size_t total = (size_t)kh * kw * ic * m;
    chain ch = {0};
    ch.out_c = out_c;
    ch.w = malloc(sizeof(float) * total);
    ch.bias = calloc((size_t)out_c, sizeof(float));
    ev_status st = EV_OK;
    if (!ch.w || !ch.bias) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (depthwise) { /* [kh][kw][c][m] is [kh][kw][c*m + m'] already */
        memcpy(ch.w, w->f, sizeof(float) * total);
        p.depth_multiplier = m;
    } else { /* HWIO -> OHWI */
        for (int y = 0; y < kh; y++)
            for (int xx = 0; xx < kw; xx++)
                for (int i = 0; i < ic; i++)
                    for (int o = 0; o < m; o++)
                        ch.w[(((size_t)o * kh + y) * kw + xx) * ic + i] =
                            w->f[(((size_t)y * kw + xx) * ic + i) * m + o];
        p.depth_multiplier = 1;
    }
    EV_TRY_GOTO(st, fold_chain(c, ni, &ch, total, depthwise), done);
    p.activation = ch.act;
    int oh = ev_conv_out_size(p.padding, xt->dims[1], kh, p.stride_h, p.dilation_h);
    int ow = ev_conv_out_size(p.padding, xt->dims[2], kw, p.stride_w, p.dilation_w);
    if (oh < 1 || ow < 1) {
        st = NODE_FAIL(c, EV_ERR_SHAPE, ni, "a %dx%d filter at stride %dx%d leaves no output of "
                       "input %s", kh, kw, p.stride_h, p.stride_w, ev_shape_str(xt, s1, 64));
        goto done;
    }
    int odims[4] = {1, oh, ow, out_c};
    int wdims[4] = {depthwise ? 1 : out_c, kh, kw, depthwise ? out_c : ic};
    int in_t = x->t;
    int wt = add_const_f32(c, node_name(c, c->in[ni][1]), 4, wdims, ch.w, total);
    int bt = -1;
    if (ch.has_bias) {
        char name[512];
        snprintf(name, sizeof name, "%s/bias", node_name(c, ni));
        bt = add_const_f32(c, name, 1, &out_c, ch.bias, (size_t)out_c);
    }
    int ot = add_activation(c, node_name(c, ch.last), 4, odims);
    gb_op_conv(&c->b, depthwise ? EV_OP_DEPTHWISE_CONV_2D : EV_OP_CONV_2D, in_t, wt, bt, ot, p);
    if (c->b.error) {
        st = builder_error(c, ni);
        goto done;
    }
    set_tensor(c, ch.last, ot);
done:
    free(ch.w);
    free(ch.bias);
    return st;
}

static ev_status emit_matmul(tfc *c, int ni) {
    tfval *x, *w;
    EV_TRY(want_tensor(c, ni, 0, &x));
    EV_TRY(want_const(c, ni, 1, 1, &w));
    EV_TRY(check_float_t(c, ni, "T"));
    ev_status st;
    const AttrValue *ta = attr_of(c, ni, "transpose_a", EDGEVISION__TF__ATTR_VALUE__VALUE_B, 0, &st);
    if (st != EV_OK) return st;
    const AttrValue *tb = attr_of(c, ni, "transpose_b", EDGEVISION__TF__ATTR_VALUE__VALUE_B, 0, &st);
    if (st != EV_OK) return st;
    if (ta && ta->b)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "transpose_a is not supported");
    const ev_tensor *xt = tensor_of(c, x);
    char s1[64];
    int trans_b = tb && tb->b;
    if (xt->ndim != 2 || w->ndim != 2)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "input %s and weights of %d dimensions: 2-D "
                         "expected", ev_shape_str(xt, s1, 64), w->ndim);
    int k = trans_b ? w->dims[1] : w->dims[0], units = trans_b ? w->dims[0] : w->dims[1];
    if (k != xt->dims[1] || units < 1)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "weights %dx%d%s do not fit input %s", w->dims[0],
                         w->dims[1], trans_b ? " (transposed)" : "", ev_shape_str(xt, s1, 64));
    size_t total = (size_t)k * units;
    chain ch = {0};
    ch.out_c = units;
    ch.w = malloc(sizeof(float) * total);
    ch.bias = calloc((size_t)units, sizeof(float));
    st = EV_OK;
    if (!ch.w || !ch.bias) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int u = 0; u < units; u++) /* FULLY_CONNECTED weights are [units][depth] */
        for (int j = 0; j < k; j++)
            ch.w[(size_t)u * k + j] = trans_b ? w->f[(size_t)u * k + j] : w->f[(size_t)j * units + u];
    EV_TRY_GOTO(st, fold_chain(c, ni, &ch, total, 0), done);
    int wdims[2] = {units, k}, odims[2] = {xt->dims[0], units};
    int in_t = x->t;
    int wt = add_const_f32(c, node_name(c, c->in[ni][1]), 2, wdims, ch.w, total);
    int bt = -1;
    if (ch.has_bias) {
        char name[512];
        snprintf(name, sizeof name, "%s/bias", node_name(c, ni));
        bt = add_const_f32(c, name, 1, &units, ch.bias, (size_t)units);
    }
    int ot = add_activation(c, node_name(c, ch.last), 2, odims);
    int ins[3] = {in_t, wt, bt};
    int oi = gb_op(&c->b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, ins, 1, &ot);
    if (c->b.error) {
        st = builder_error(c, ni);
        goto done;
    }
    c->b.g.ops[oi].p.fc.activation = ch.act;
    set_tensor(c, ch.last, ot);
done:
    free(ch.w);
    free(ch.bias);
    return st;
}

/* Relu, Relu6, Sigmoid: one tensor in, same shape out. */
static ev_status emit_unary(tfc *c, int ni, ev_op_type type, const char *name, int code) {
    tfval *x;
    EV_TRY(want_tensor(c, ni, 0, &x));
    EV_TRY(check_float_t(c, ni, "T"));
    const ev_tensor *xt = tensor_of(c, x);
    int dims[EV_MAX_DIMS], nd = xt->ndim, in_t = x->t;
    memcpy(dims, xt->dims, sizeof dims);
    int ot = add_activation(c, node_name(c, ni), nd, dims);
    gb_op(&c->b, type, name, code, 1, &in_t, 1, &ot);
    if (c->b.error) return builder_error(c, ni);
    set_tensor(c, ni, ot);
    return EV_OK;
}

/* Add / AddV2 / BiasAdd not folded into a conv: ADD with numpy broadcasting; a constant
 * operand becomes a constant tensor. */
static ev_status emit_add(tfc *c, int ni) {
    if (c->nin[ni] != 2)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "has %d data inputs, expected 2", c->nin[ni]);
    EV_TRY(check_float_t(c, ni, "T"));
    if (op_is(c, ni, "BiasAdd")) EV_TRY(check_nhwc(c, ni));
    int t[2], nd[2], dims[2][EV_MAX_DIMS];
    for (int j = 0; j < 2; j++) {
        const tfval *v = &c->val[c->in[ni][j]];
        if (v->kind == V_TENSOR) {
            const ev_tensor *tt = tensor_of(c, v);
            t[j] = v->t;
            nd[j] = tt->ndim;
            memcpy(dims[j], tt->dims, sizeof dims[j]);
        } else if (v->kind == V_CONST && v->is_float) {
            t[j] = -2;
            nd[j] = v->ndim;
            memcpy(dims[j], v->dims, sizeof dims[j]);
        } else {
            return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "input %d '%s' is not a float tensor", j,
                             node_name(c, c->in[ni][j]));
        }
    }
    if (t[0] == -2 && t[1] == -2)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "adds two constants (fold them before "
                         "freezing)");
    if (op_is(c, ni, "BiasAdd") && (nd[1] != 1 || nd[0] < 1 || dims[1][0] != dims[0][nd[0] - 1]))
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "bias of %d dimensions / %d values does not match "
                         "%d channels", nd[1], nd[1] ? dims[1][0] : 0, nd[0] ? dims[0][nd[0] - 1] : 0);
    int on = nd[0] > nd[1] ? nd[0] : nd[1], odims[EV_MAX_DIMS];
    for (int d = 0; d < on; d++) {
        int da = d - (on - nd[0]), db = d - (on - nd[1]);
        int a = da >= 0 ? dims[0][da] : 1, b = db >= 0 ? dims[1][db] : 1;
        if (a != b && a != 1 && b != 1)
            return NODE_FAIL(c, EV_ERR_SHAPE, ni, "operands do not broadcast (dimension %d: %d "
                             "and %d)", d, a, b);
        odims[d] = a == 1 ? b : a;
    }
    for (int j = 0; j < 2; j++)
        if (t[j] == -2) {
            const tfval *v = &c->val[c->in[ni][j]];
            t[j] = add_const_f32(c, node_name(c, c->in[ni][j]), v->ndim, v->dims, v->f,
                                 (size_t)v->elems);
        }
    int ot = add_activation(c, node_name(c, ni), on, odims);
    gb_op(&c->b, EV_OP_ADD, "ADD", 0, 2, t, 1, &ot);
    if (c->b.error) return builder_error(c, ni);
    set_tensor(c, ni, ot);
    return EV_OK;
}

static ev_status emit_pool(tfc *c, int ni, int is_max) {
    tfval *x;
    EV_TRY(want_tensor(c, ni, 0, &x));
    EV_TRY(check_float_t(c, ni, "T"));
    EV_TRY(check_nhwc(c, ni));
    const ev_tensor *xt = tensor_of(c, x);
    char s1[64];
    if (xt->ndim != 4)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "input %s is not 4-D", ev_shape_str(xt, s1, 64));
    ev_pool_params p = {0};
    EV_TRY(attr_hw(c, ni, "ksize", 1, &p.filter_h, &p.filter_w));
    EV_TRY(attr_hw(c, ni, "strides", 1, &p.stride_h, &p.stride_w));
    EV_TRY(attr_padding(c, ni, &p.padding));
    int oh = ev_conv_out_size(p.padding, xt->dims[1], p.filter_h, p.stride_h, 1);
    int ow = ev_conv_out_size(p.padding, xt->dims[2], p.filter_w, p.stride_w, 1);
    if (oh < 1 || ow < 1)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "a %dx%d window leaves no output of input %s",
                         p.filter_h, p.filter_w, ev_shape_str(xt, s1, 64));
    int odims[4] = {xt->dims[0], oh, ow, xt->dims[3]}, in_t = x->t;
    int ot = add_activation(c, node_name(c, ni), 4, odims);
    int oi = gb_op(&c->b, is_max ? EV_OP_MAX_POOL_2D : EV_OP_AVERAGE_POOL_2D,
                   is_max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", is_max ? 17 : 1, 1, &in_t, 1, &ot);
    if (c->b.error) return builder_error(c, ni);
    c->b.g.ops[oi].p.pool = p;
    set_tensor(c, ni, ot);
    return EV_OK;
}

static ev_status emit_mean(tfc *c, int ni) {
    tfval *x, *ax;
    EV_TRY(want_tensor(c, ni, 0, &x));
    EV_TRY(want_const(c, ni, 1, 0, &ax));
    EV_TRY(check_float_t(c, ni, "T"));
    ev_status st;
    const AttrValue *kd = attr_of(c, ni, "keep_dims", EDGEVISION__TF__ATTR_VALUE__VALUE_B, 0, &st);
    if (st != EV_OK) return st;
    int keep = kd && kd->b;
    const ev_tensor *xt = tensor_of(c, x);
    if (ax->ndim > 1 || ax->elems < 1 || ax->elems > xt->ndim)
        return NODE_FAIL(c, EV_ERR_FORMAT, ni, "reduction indices must be 1 to %d values, has "
                         "%lld", xt->ndim, (long long)ax->elems);
    int32_t axes[EV_MAX_DIMS];
    int reduce[EV_MAX_DIMS] = {0};
    for (int64_t k = 0; k < ax->elems; k++) {
        int64_t a = ax->i[k] < 0 ? ax->i[k] + xt->ndim : ax->i[k];
        if (a < 0 || a >= xt->ndim || reduce[a])
            return NODE_FAIL(c, EV_ERR_FORMAT, ni, "reduction index %lld is out of range or "
                             "repeated for %d dimensions", (long long)ax->i[k], xt->ndim);
        reduce[a] = 1;
        axes[k] = (int32_t)a;
    }
    int odims[EV_MAX_DIMS], on = 0;
    for (int d = 0; d < xt->ndim; d++)
        if (!reduce[d])
            odims[on++] = xt->dims[d];
        else if (keep)
            odims[on++] = 1;
    int in_t = x->t, na = (int)ax->elems;
    int at = gb_tensor(&c->b, node_name(c, c->in[ni][1]), EV_DTYPE_I32, 1, &na, axes,
                       sizeof(int32_t) * (size_t)na, 0, NULL, NULL, 0);
    int ot = add_activation(c, node_name(c, ni), on, odims);
    int ins[2] = {in_t, at};
    int oi = gb_op(&c->b, EV_OP_MEAN, "MEAN", 40, 2, ins, 1, &ot);
    if (c->b.error) return builder_error(c, ni);
    c->b.g.ops[oi].p.reduce.keep_dims = keep;
    set_tensor(c, ni, ot);
    return EV_OK;
}

static ev_status emit_pad(tfc *c, int ni) {
    tfval *x, *pv;
    EV_TRY(want_tensor(c, ni, 0, &x));
    EV_TRY(want_const(c, ni, 1, 0, &pv));
    EV_TRY(check_float_t(c, ni, "T"));
    const ev_tensor *xt = tensor_of(c, x);
    if (pv->ndim != 2 || pv->dims[0] != xt->ndim || pv->dims[1] != 2)
        return NODE_FAIL(c, EV_ERR_SHAPE, ni, "paddings must be [%d][2]", xt->ndim);
    int32_t pads[EV_MAX_DIMS * 2];
    int odims[EV_MAX_DIMS];
    for (int d = 0; d < xt->ndim; d++) {
        int64_t a = pv->i[2 * d], b = pv->i[2 * d + 1];
        if (a < 0 || b < 0 || a > 65536 || b > 65536)
            return NODE_FAIL(c, EV_ERR_FORMAT, ni, "paddings (%lld, %lld) on dimension %d",
                             (long long)a, (long long)b, d);
        pads[2 * d] = (int32_t)a;
        pads[2 * d + 1] = (int32_t)b;
        odims[d] = xt->dims[d] + (int)a + (int)b;
    }
    int pdims[2] = {xt->ndim, 2}, in_t = x->t, nd = xt->ndim;
    int ptn = gb_tensor(&c->b, node_name(c, c->in[ni][1]), EV_DTYPE_I32, 2, pdims, pads,
                        sizeof(int32_t) * 2 * (size_t)nd, 0, NULL, NULL, 0);
    int ot = add_activation(c, node_name(c, ni), nd, odims);
    int ins[2] = {in_t, ptn};
    gb_op(&c->b, EV_OP_PAD, "PAD", 34, 2, ins, 1, &ot);
    if (c->b.error) return builder_error(c, ni);
    set_tensor(c, ni, ot);
    return EV_OK;
}

static ev_status emit_node(tfc *c, int ni) {
    const char *op = node_op(c, ni);
    if (strcmp(op, "Const") == 0) return emit_const(c, ni);
    if (strcmp(op, "Placeholder") == 0) return emit_placeholder(c, ni);
    if (strcmp(op, "Identity") == 0) return emit_identity(c, ni);
    if (strcmp(op, "Conv2D") == 0) return emit_conv(c, ni, 0);
    if (strcmp(op, "DepthwiseConv2dNative") == 0) return emit_conv(c, ni, 1);
    if (strcmp(op, "MatMul") == 0) return emit_matmul(c, ni);
    if (strcmp(op, "Relu") == 0) return emit_unary(c, ni, EV_OP_RELU, "RELU", 19);
    if (strcmp(op, "Relu6") == 0) return emit_unary(c, ni, EV_OP_RELU6, "RELU6", 21);
    if (strcmp(op, "Sigmoid") == 0) return emit_unary(c, ni, EV_OP_LOGISTIC, "LOGISTIC", 14);
    if (strcmp(op, "Add") == 0 || strcmp(op, "AddV2") == 0 || strcmp(op, "BiasAdd") == 0)
        return emit_add(c, ni);
    if (strcmp(op, "MaxPool") == 0) return emit_pool(c, ni, 1);
    if (strcmp(op, "AvgPool") == 0) return emit_pool(c, ni, 0);
    if (strcmp(op, "Mean") == 0) return emit_mean(c, ni);
    if (strcmp(op, "Pad") == 0) return emit_pad(c, ni);
    if (strncmp(op, "FusedBatchNorm", 14) == 0) {
        int src = c->nin[ni] ? c->in[ni][0] : -1;
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "batch normalization is only supported folded "
                         "into a directly preceding Conv2D / DepthwiseConv2dNative / MatMul whose "
                         "output it alone reads; its input is '%s' (%s)",
                         src >= 0 ? node_name(c, src) : "?", src >= 0 ? node_op(c, src) : "?");
    }
    if (strcmp(op, "SpaceToBatchND") == 0 || strcmp(op, "BatchToSpaceND") == 0)
        return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "atrous (dilated) convolution written as "
                         "SpaceToBatchND/BatchToSpaceND is not supported (use a graph exported "
                         "at output stride 16, or with Conv2D dilations)");
    return NODE_FAIL(c, EV_ERR_UNSUPPORTED, ni, "op '%s' is not supported (see docs/tf-graphdef.md "
                     "for the supported ops)", op);
}

/* ------------------------------------------------------------------------------------------ */
/* The whole graph                                                                            */
/* ------------------------------------------------------------------------------------------ */

static int is_sink_candidate(const tfc *c, int i) {
    return !op_is(c, i, "Const") && !op_is(c, i, "NoOp") && !op_is(c, i, "Placeholder");
}

static ev_status convert(tfc *c) {
    c->n = (int)c->gd->n_node;
    if (c->n < 1) return EV_FAIL(EV_ERR_FORMAT, "%s: GraphDef has no nodes", c->src);
    if (c->n > MAX_NODES)
        return EV_FAIL(EV_ERR_FORMAT, "%s: GraphDef has %d nodes (at most %d)", c->src, c->n,
                       MAX_NODES);
    for (int i = 0; i < c->n; i++) {
        const NodeDef *nd = c->gd->node[i];
        if (!nd || !nd->name || !nd->name[0] || !nd->op || !nd->op[0])
            return EV_FAIL(EV_ERR_FORMAT, "%s: node %d has no name or no op", c->src, i);
    }
    size_t n = (size_t)c->n;
    EV_ALLOC(c->nin, sizeof(int) * n);
    EV_ALLOC(c->in, sizeof(int *) * n);
    EV_ALLOC(c->ncons, sizeof(int) * n);
    EV_ALLOC(c->cons, sizeof(int) * n);
    EV_ALLOC(c->needed, n);
    EV_ALLOC(c->absorbed, n);
    EV_ALLOC(c->val, sizeof(tfval) * n);
    EV_TRY(build_index(c));
    for (int i = 0; i < c->n; i++) EV_TRY(resolve_inputs(c, i));
    EV_TRY(topo_sort(c));
    /* Outputs: non-constant nodes nobody reads. Needed: what they depend on. */
    int *used = calloc(n, sizeof(int));
    if (!used) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < c->n; i++)
        for (int j = 0; j < c->nin[i]; j++) used[c->in[i][j]] = 1;
    for (int k = c->norder - 1; k >= 0; k--) {
        int i = c->order[k];
        if (!used[i] && is_sink_candidate(c, i)) c->needed[i] = 2; /* an output */
        if (c->needed[i])
            for (int j = 0; j < c->nin[i]; j++)
                if (!c->needed[c->in[i][j]]) c->needed[c->in[i][j]] = 1;
    }
    free(used);
    for (int k = 0; k < c->norder; k++) {
        int i = c->order[k];
        if (!c->needed[i]) continue;
        for (int j = 0; j < c->nin[i]; j++) {
            c->ncons[c->in[i][j]]++;
            c->cons[c->in[i][j]] = i;
        }
    }
    gb_init(&c->b);
    free(c->b.g.source);
    c->b.g.source = strdup(c->src);
    int *inputs = NULL, *outputs = NULL, ni = 0, no = 0;
    inputs = malloc(sizeof(int) * n);
    outputs = malloc(sizeof(int) * n);
    if (!inputs || !outputs || !c->b.g.source) {
        free(inputs), free(outputs);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    ev_status st = EV_OK;
    for (int k = 0; k < c->norder && st == EV_OK; k++) {
        int i = c->order[k];
        if (!c->needed[i] || c->absorbed[i]) continue;
        st = emit_node(c, i);
        if (st == EV_OK && op_is(c, i, "Placeholder")) inputs[ni++] = c->val[i].t;
    }
    for (int k = 0; k < c->norder && st == EV_OK; k++) {
        int i = c->order[k];
        if (c->needed[i] != 2) continue;
        if (c->val[i].kind != V_TENSOR) continue; /* e.g. an Identity of a constant */
        int t = c->val[i].t;
        ev_tensor *tt = &c->b.g.tensors[t];
        if (strcmp(tt->name, node_name(c, i)) != 0) { /* an Identity output: take its name */
            char *nm = strdup(node_name(c, i));
            if (!nm) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                break;
            }
            free(tt->name);
            tt->name = nm;
        }
        outputs[no++] = t;
    }
    if (st == EV_OK && (ni < 1 || no < 1))
        st = EV_FAIL(EV_ERR_FORMAT, "%s: GraphDef has %d inputs (Placeholder) and %d computed "
                     "outputs; at least one of each is needed", c->src, ni, no);
    if (st == EV_OK) {
        gb_inputs(&c->b, ni, inputs);
        gb_outputs(&c->b, no, outputs);
    }
    free(inputs), free(outputs);
    return st;
}

int ev_tf_graphdef_identify(const uint8_t *data, size_t size, const char *source) {
    if (source) {
        size_t l = strlen(source);
        if (l >= 3 && strcmp(source + l - 3, ".pb") == 0) return 1;
    }
    if (!data || size < 2 || data[0] != 0x0a) return 0; /* field 1 (node), length-delimited */
    GraphDef *gd = edgevision__tf__graph_def__unpack(NULL, size, data);
    int ok = gd && gd->n_node > 0 && gd->node[0]->op && gd->node[0]->op[0];
    if (gd) edgevision__tf__graph_def__free_unpacked(gd, NULL);
    return ok;
}

ev_status ev_tf_graphdef_parse(uint8_t *file, size_t size, const char *source, int input_h,
                               int input_w, ev_graph *g) {
    memset(g, 0, sizeof *g);
    if (input_h < 0 || input_w < 0 || (input_h == 0) != (input_w == 0)) {
        free(file);
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: input size %dx%d (give both, or neither)", source,
                       input_h, input_w);
    }
    tfc c;
    memset(&c, 0, sizeof c);
    c.src = source;
    c.in_h = input_h;
    c.in_w = input_w;
    c.gd = edgevision__tf__graph_def__unpack(NULL, size, file);
    ev_status st;
    if (!c.gd) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: not a valid TensorFlow GraphDef protobuf (%zu bytes: "
                     "truncated, corrupt, or another format)", source, size);
        free(file);
        return st;
    }
    st = convert(&c);
    ev_model *m = NULL;
    if (st == EV_OK) {
        if (gb_finish(&c.b, &m) != EV_OK)
            st = EV_FAIL(EV_ERR_FORMAT, "%s: building the graph: %s", source, c.b.msg);
    } else {
        gb_release(&c.b);
    }
    if (st == EV_OK) {
        *g = m->graph;
        free(m);
    }
    for (int i = 0; c.val && i < c.n; i++) val_release(&c.val[i]);
    for (int i = 0; c.in && i < c.n; i++) free(c.in[i]);
    free(c.val), free(c.in), free(c.nin), free(c.ncons), free(c.cons), free(c.needed);
    free(c.absorbed), free(c.order), free(c.by_name);
    edgevision__tf__graph_def__free_unpacked(c.gd, NULL);
    free(file);
    return st;
}
