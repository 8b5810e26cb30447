/*
 * tflite_writer.c - writes a graph (float or quantized) as a TFLite flatbuffer
 * (../shared/docs/tflite-schema.fbs), readable by formats/tflite.c and by TensorFlow Lite.
 *
 * A minimal FlatBuffers builder comes first: like the official one it builds back to front (the
 * buffer grows toward lower addresses), so every object is finished before the table that points
 * at it and every uoffset points forward. References are "offsets from the end" until the root
 * is written. Then the schema subset: Model { version 3, operator_codes, subgraphs[1],
 * description, buffers }, with buffer 0 empty (TFLite's rule) and one buffer per constant, its
 * data 16-byte aligned (the schema's force_align).
 *
 * To write another op: give its builtin code and options table in op_code() / write_options(),
 * using the field ids of the schema (a union takes two slots: type, then value). Ops the IR does
 * not model are written with their builtin code and no options, and variable tensors with
 * is_variable, so tests can build files holding ops edgevision refuses (an LSTM with its state).
 */
#include "core/model.h"
#include "core/status.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* FlatBuffers builder                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct fbb {
    uint8_t *buf; /* data lives in buf[cap - len, cap)                                      */
    size_t cap, len;
    int oom;
    /* the table being built */
    int nfields;
    struct { int id; uint32_t ref; } fields[16];
    uint32_t table_start;
} fbb;

typedef uint32_t fbref; /* offset from the end of the buffer */

static int fb_reserve(fbb *b, size_t n) {
    if (b->oom) return 0;
    if (b->cap - b->len >= n) return 1;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - b->len < n) {
        if (ncap > (SIZE_MAX >> 2) || ncap >= (1ull << 31)) {
            b->oom = 1;
            return 0;
        }
        ncap *= 2;
    }
    uint8_t *nb = malloc(ncap);
    if (!nb) {
        b->oom = 1;
        return 0;
    }
    if (b->len) memcpy(nb + ncap - b->len, b->buf + b->cap - b->len, b->len);
    free(b->buf);
    b->buf = nb;
    b->cap = ncap;
    return 1;
}

static void fb_push(fbb *b, const void *p, size_t n) {
    if (!fb_reserve(b, n)) return;
    b->len += n;
    if (p)
        memcpy(b->buf + b->cap - b->len, p, n);
    else
        memset(b->buf + b->cap - b->len, 0, n);
}

/* Pads so that after pushing `n` more bytes, len is a multiple of `align`. */
static void fb_align(fbb *b, size_t n, size_t align) {
    size_t pad = (align - ((b->len + n) % align)) % align;
    if (pad) fb_push(b, NULL, pad);
}

static uint8_t *fb_at(fbb *b, fbref r) { return b->buf + b->cap - r; }

static fbref fb_vec_scalars(fbb *b, const void *data, uint32_t n, size_t esz, size_t align) {
    fb_align(b, (size_t)n * esz, align < 4 ? 4 : align);
    fb_push(b, data, (size_t)n * esz);
    fb_align(b, 4, 4);
    fb_push(b, &n, 4);
    return (fbref)b->len;
}

static fbref fb_vec_refs(fbb *b, const fbref *refs, uint32_t n) {
    fb_align(b, (size_t)n * 4, 4);
    for (uint32_t i = n; i-- > 0;) {
        fb_push(b, NULL, 4);
        if (b->oom) return 0;
        uint32_t v = (uint32_t)b->len - refs[i];
        memcpy(fb_at(b, (fbref)b->len), &v, 4);
    }
    fb_push(b, &n, 4);
    return (fbref)b->len;
}

static fbref fb_string(fbb *b, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    fb_align(b, (size_t)n + 1, 4);
    fb_push(b, NULL, 1);
    fb_push(b, s, n);
    fb_push(b, &n, 4);
    return (fbref)b->len;
}

static void fb_table_begin(fbb *b) {
    b->nfields = 0;
    b->table_start = (uint32_t)b->len;
}

static void fb_field(fbb *b, int id, const void *v, size_t n) {
    fb_align(b, n, n);
    fb_push(b, v, n);
    if (b->nfields < 16) {
        b->fields[b->nfields].id = id;
        b->fields[b->nfields].ref = (uint32_t)b->len;
        b->nfields++;
    } else {
        b->oom = 1;
    }
}

static void fb_i32(fbb *b, int id, int32_t v) { fb_field(b, id, &v, 4); }
static void fb_u32(fbb *b, int id, uint32_t v) { fb_field(b, id, &v, 4); }
static void fb_i8(fbb *b, int id, int8_t v) { fb_field(b, id, &v, 1); }
static void fb_u8(fbb *b, int id, uint8_t v) { fb_field(b, id, &v, 1); }

static void fb_ref(fbb *b, int id, fbref target) {
    fb_align(b, 4, 4);
    fb_push(b, NULL, 4);
    if (b->oom) return;
    uint32_t v = (uint32_t)b->len - target;
    memcpy(fb_at(b, (fbref)b->len), &v, 4);
    if (b->nfields >= 16) {
        b->oom = 1;
        return;
    }
    b->fields[b->nfields].id = id;
    b->fields[b->nfields].ref = (uint32_t)b->len;
    b->nfields++;
}

static fbref fb_table_end(fbb *b) {
    fb_align(b, 4, 4);
    fb_push(b, NULL, 4); /* soffset to the vtable */
    if (b->oom) return 0;
    fbref table = (fbref)b->len;
    int maxid = -1;
    for (int i = 0; i < b->nfields; i++)
        if (b->fields[i].id > maxid) maxid = b->fields[i].id;
    uint16_t vt[2 + 32] = {0};
    int nslots = maxid + 1;
    vt[0] = (uint16_t)(4 + 2 * nslots);
    vt[1] = (uint16_t)(table - b->table_start);
    for (int i = 0; i < b->nfields; i++)
        vt[2 + b->fields[i].id] = (uint16_t)(table - b->fields[i].ref);
    fb_push(b, vt, (size_t)vt[0]);
    if (b->oom) return 0;
    int32_t so = (int32_t)((uint32_t)b->len - table); /* vtable = table - soffset */
    memcpy(fb_at(b, table), &so, 4);
    return table;
}

/* Finishes with the root offset and the file identifier; returns the bytes (malloc'd). */
static uint8_t *fb_finish(fbb *b, fbref root, const char ident[4], size_t *size) {
    fb_align(b, 8, 16);
    fb_push(b, ident, 4);
    fb_push(b, NULL, 4);
    if (b->oom) return NULL;
    uint32_t v = (uint32_t)b->len - root;
    memcpy(fb_at(b, (fbref)b->len), &v, 4);
    *size = b->len;
    uint8_t *out = malloc(b->len);
    if (out) memcpy(out, fb_at(b, (fbref)b->len), b->len);
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* TFLite schema subset                                                                       */
/* ------------------------------------------------------------------------------------------ */

static int tfl_type(ev_dtype d) {
    switch (d) {
    case EV_DTYPE_F32: return 0;
    case EV_DTYPE_I32: return 2;
    case EV_DTYPE_U8: return 3;
    case EV_DTYPE_I64: return 4;
    case EV_DTYPE_I16: return 7;
    case EV_DTYPE_I8: return 9;
    default: return -1;
    }
}

/* Builtin code of an IR op, -1 when it has none. An op the IR does not model (read from a TFLite
 * file, or built in memory with its builtin code: EV_OP_UNSUPPORTED) keeps its code and is
 * written without options. */
static int op_code(const ev_op *op) {
    if (op->type == EV_OP_UNSUPPORTED) return op->builtin_code > 0 ? op->builtin_code : -1;
    switch (op->type) {
    case EV_OP_ADD: return 0;
    case EV_OP_AVERAGE_POOL_2D: return 1;
    case EV_OP_CONCATENATION: return 2;
    case EV_OP_CONV_2D: return 3;
    case EV_OP_DEPTHWISE_CONV_2D: return 4;
    case EV_OP_DEQUANTIZE: return 6;
    case EV_OP_FULLY_CONNECTED: return 9;
    case EV_OP_LOGISTIC: return 14;
    case EV_OP_MAX_POOL_2D: return 17;
    case EV_OP_RELU: return 19;
    case EV_OP_RELU6: return 21;
    case EV_OP_RESHAPE: return 22;
    case EV_OP_SOFTMAX: return 25;
    case EV_OP_PAD: return 34;
    case EV_OP_MEAN: return 40;
    case EV_OP_QUANTIZE: return 114;
    default: return -1;
    }
}

/* Writes the op's options table; returns its BuiltinOptions union type (0: none). */
static int write_options(fbb *b, const ev_graph *g, const ev_op *op, fbref *ref) {
    const ev_conv_params *c = &op->p.conv;
    switch (op->type) {
    case EV_OP_CONV_2D:
        fb_table_begin(b);
        fb_i8(b, 0, (int8_t)c->padding);
        fb_i32(b, 1, c->stride_w);
        fb_i32(b, 2, c->stride_h);
        fb_i8(b, 3, (int8_t)c->activation);
        fb_i32(b, 4, c->dilation_w);
        fb_i32(b, 5, c->dilation_h);
        *ref = fb_table_end(b);
        return 1;
    case EV_OP_DEPTHWISE_CONV_2D:
        fb_table_begin(b);
        fb_i8(b, 0, (int8_t)c->padding);
        fb_i32(b, 1, c->stride_w);
        fb_i32(b, 2, c->stride_h);
        fb_i32(b, 3, c->depth_multiplier);
        fb_i8(b, 4, (int8_t)c->activation);
        fb_i32(b, 5, c->dilation_w);
        fb_i32(b, 6, c->dilation_h);
        *ref = fb_table_end(b);
        return 2;
    case EV_OP_AVERAGE_POOL_2D:
    case EV_OP_MAX_POOL_2D: {
        const ev_pool_params *p = &op->p.pool;
        fb_table_begin(b);
        fb_i8(b, 0, (int8_t)p->padding);
        fb_i32(b, 1, p->stride_w);
        fb_i32(b, 2, p->stride_h);
        fb_i32(b, 3, p->filter_w);
        fb_i32(b, 4, p->filter_h);
        fb_i8(b, 5, (int8_t)p->activation);
        *ref = fb_table_end(b);
        return 5;
    }
    case EV_OP_FULLY_CONNECTED:
        fb_table_begin(b);
        fb_i8(b, 0, (int8_t)op->p.fc.activation);
        fb_u8(b, 2, (uint8_t)(op->p.fc.keep_num_dims != 0));
        *ref = fb_table_end(b);
        return 8;
    case EV_OP_SOFTMAX: {
        float beta = op->p.softmax.beta;
        fb_table_begin(b);
        fb_field(b, 0, &beta, 4);
        *ref = fb_table_end(b);
        return 9;
    }
    case EV_OP_CONCATENATION:
        fb_table_begin(b);
        fb_i32(b, 0, op->p.concat.axis);
        fb_i8(b, 1, (int8_t)op->p.concat.activation);
        *ref = fb_table_end(b);
        return 10;
    case EV_OP_ADD:
        fb_table_begin(b);
        fb_i8(b, 0, (int8_t)op->p.add.activation);
        *ref = fb_table_end(b);
        return 11;
    case EV_OP_RESHAPE: { /* new_shape: the output's shape, as TFLite wants it */
        const ev_tensor *o = ev_op_output(g, op, 0);
        int32_t dims[EV_MAX_DIMS];
        uint32_t n = o ? (uint32_t)o->ndim : 0;
        for (uint32_t i = 0; i < n; i++) dims[i] = o->dims[i];
        fbref v = fb_vec_scalars(b, dims, n, 4, 4);
        fb_table_begin(b);
        fb_ref(b, 0, v);
        *ref = fb_table_end(b);
        return 17;
    }
    case EV_OP_MEAN:
        fb_table_begin(b);
        fb_u8(b, 0, (uint8_t)(op->p.reduce.keep_dims != 0));
        *ref = fb_table_end(b);
        return 27;
    default: return 0;
    }
}

static fbref write_quant(fbb *b, const ev_tensor *t) {
    int64_t zp[4096];
    int n = t->quant.count;
    int64_t *z = n <= 4096 ? zp : malloc(sizeof(int64_t) * (size_t)n);
    if (!z) {
        b->oom = 1;
        return 0;
    }
    for (int i = 0; i < n; i++) z[i] = t->quant.zero_point[i];
    fbref zr = fb_vec_scalars(b, z, (uint32_t)n, 8, 8);
    if (z != zp) free(z);
    fbref sr = fb_vec_scalars(b, t->quant.scale, (uint32_t)n, 4, 4);
    fb_table_begin(b);
    fb_ref(b, 2, sr);
    fb_ref(b, 3, zr);
    fb_i32(b, 6, n > 1 ? t->quant.axis : 0);
    return fb_table_end(b);
}

static ev_status serialize(const ev_graph *g, uint8_t **out, size_t *size) {
    fbb b;
    memset(&b, 0, sizeof b);
    int nt = g->num_tensors, no = g->num_ops;
    fbref *refs = calloc((size_t)(nt + no + 2) * 2 + 64, sizeof(fbref));
    int *codes = calloc((size_t)no + 1, sizeof(int));
    int *code_index = calloc((size_t)no + 1, sizeof(int));
    int ncodes = 0;
    ev_status st = EV_OK;
    if (!refs || !codes || !code_index) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < no; i++) {
        const ev_op *op = &g->ops[i];
        int code = op_code(op);
        if (code < 0) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d (%s) cannot be written to TFLite by this "
                         "build", g->source, i, op->name);
            goto done;
        }
        int k = 0;
        while (k < ncodes && codes[k] != code) k++;
        if (k == ncodes) codes[ncodes++] = code;
        code_index[i] = k;
    }
    for (int i = 0; i < nt; i++)
        if (tfl_type(g->tensors[i].dtype) < 0) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: tensor %d '%s' has type %s", g->source, i,
                         g->tensors[i].name, ev_dtype_name(g->tensors[i].dtype));
            goto done;
        }
    /* Buffers: 0 empty, then one per constant (data vectors first: they are the bulk). */
    fbref *bufs = refs;              /* [nt + 1] */
    fbref *tens = refs + nt + 1;     /* [nt] */
    fbref *ops = tens + nt;          /* [no] */
    fbref *ocs = ops + no;           /* [ncodes] */
    uint32_t nbuf = 1;
    uint32_t *buf_of = calloc((size_t)nt + 1, sizeof(uint32_t));
    if (!buf_of) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = nt - 1; i >= 0; i--) /* pushed back to front: the last constant first */
        if (g->tensors[i].data) {
            fbref data = fb_vec_scalars(&b, g->tensors[i].data, (uint32_t)g->tensors[i].bytes, 1,
                                        16);
            fb_table_begin(&b);
            fb_ref(&b, 0, data);
            bufs[i + 1] = fb_table_end(&b);
        }
    fb_table_begin(&b);
    bufs[0] = fb_table_end(&b);
    /* buffer list in tensor order */
    fbref *blist = malloc(sizeof(fbref) * ((size_t)nt + 1));
    if (!blist) {
        free(buf_of);
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    blist[0] = bufs[0];
    for (int i = 0; i < nt; i++)
        if (g->tensors[i].data) {
            buf_of[i] = nbuf;
            blist[nbuf++] = bufs[i + 1];
        }
    fbref buffers = fb_vec_refs(&b, blist, nbuf);
    free(blist);
    for (int i = 0; i < nt; i++) {
        const ev_tensor *t = &g->tensors[i];
        int32_t dims[EV_MAX_DIMS];
        for (int d = 0; d < t->ndim; d++) dims[d] = t->dims[d];
        fbref shape = fb_vec_scalars(&b, dims, (uint32_t)t->ndim, 4, 4);
        fbref name = fb_string(&b, t->name ? t->name : "");
        fbref q = t->quant.count > 0 ? write_quant(&b, t) : 0;
        fb_table_begin(&b);
        fb_ref(&b, 0, shape);
        fb_i8(&b, 1, (int8_t)tfl_type(t->dtype));
        fb_u32(&b, 2, buf_of[i]);
        fb_ref(&b, 3, name);
        if (q) fb_ref(&b, 4, q);
        if (t->variable) fb_u8(&b, 5, 1); /* is_variable */
        tens[i] = fb_table_end(&b);
    }
    free(buf_of);
    for (int i = 0; i < no; i++) {
        const ev_op *op = &g->ops[i];
        int32_t io[256];
        if (op->num_inputs > 256 || op->num_outputs > 256) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d has too many inputs", g->source, i);
            goto done;
        }
        for (int j = 0; j < op->num_inputs; j++) io[j] = op->inputs[j];
        fbref ins = fb_vec_scalars(&b, io, (uint32_t)op->num_inputs, 4, 4);
        for (int j = 0; j < op->num_outputs; j++) io[j] = op->outputs[j];
        fbref outs = fb_vec_scalars(&b, io, (uint32_t)op->num_outputs, 4, 4);
        fbref opt = 0;
        int opt_type = write_options(&b, g, op, &opt);
        fb_table_begin(&b);
        fb_u32(&b, 0, (uint32_t)code_index[i]);
        fb_ref(&b, 1, ins);
        fb_ref(&b, 2, outs);
        if (opt_type) {
            fb_u8(&b, 3, (uint8_t)opt_type);
            fb_ref(&b, 4, opt);
        }
        ops[i] = fb_table_end(&b);
    }
    for (int k = 0; k < ncodes; k++) {
        fb_table_begin(&b);
        fb_i8(&b, 0, (int8_t)(codes[k] < 127 ? codes[k] : 127));
        fb_i32(&b, 2, 1);
        fb_i32(&b, 3, codes[k]);
        ocs[k] = fb_table_end(&b);
    }
    fbref tensors = fb_vec_refs(&b, tens, (uint32_t)nt);
    fbref operators = fb_vec_refs(&b, ops, (uint32_t)no);
    int32_t io[1024];
    int nin = g->num_inputs < 1024 ? g->num_inputs : 1024;
    int nout = g->num_outputs < 1024 ? g->num_outputs : 1024;
    for (int j = 0; j < nin; j++) io[j] = g->inputs[j];
    fbref gin = fb_vec_scalars(&b, io, (uint32_t)nin, 4, 4);
    for (int j = 0; j < nout; j++) io[j] = g->outputs[j];
    fbref gout = fb_vec_scalars(&b, io, (uint32_t)nout, 4, 4);
    fbref sgname = fb_string(&b, "main");
    fb_table_begin(&b);
    fb_ref(&b, 0, tensors);
    fb_ref(&b, 1, gin);
    fb_ref(&b, 2, gout);
    fb_ref(&b, 3, operators);
    fb_ref(&b, 4, sgname);
    fbref sg = fb_table_end(&b);
    fbref sgs = fb_vec_refs(&b, &sg, 1);
    fbref codesv = fb_vec_refs(&b, ocs, (uint32_t)ncodes);
    fbref desc = fb_string(&b, g->description && *g->description ? g->description
                                                                  : "edgevision");
    fb_table_begin(&b);
    fb_u32(&b, 0, 3);
    fb_ref(&b, 1, codesv);
    fb_ref(&b, 2, sgs);
    fb_ref(&b, 3, desc);
    fb_ref(&b, 4, buffers);
    fbref model = fb_table_end(&b);
    *out = fb_finish(&b, model, "TFL3", size);
    if (b.oom || !*out) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory writing the TFLite file");
done:
    free(b.buf);
    free(refs);
    free(codes);
    free(code_index);
    return st;
}

ev_status ev_model_save_tflite(const ev_model *model, const char *path) {
    if (!model || !path || !*path)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_save_tflite: NULL model or path");
    uint8_t *bytes = NULL;
    size_t size = 0;
    EV_TRY(serialize(&model->graph, &bytes, &size));
    ev_status st = ev_write_file_atomic(path, bytes, size);
    free(bytes);
    return st;
}
