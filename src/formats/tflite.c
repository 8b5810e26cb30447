/*
 * tflite.c - reads a TFLite model (schema: ../shared/docs/tflite-schema.fbs) into the graph IR.
 *
 * Sections: field ids of the tables we read; tensors (shape, dtype, buffer, quantization);
 * operators (opcode, inputs/outputs, builtin options); graph inputs/outputs. Every offset and
 * length goes through the bounds-checked reader in flatbuf.h; every index is range-checked here,
 * so a corrupt or truncated file gives EV_ERR_FORMAT with the position, never a bad read.
 *
 * To support a new builtin op: map its code in op_type_of() and parse its options table in
 * parse_options() (or parse_more_options()) into a member of ev_op.p, validating every value;
 * list its options table type in expected_options() so a mismatched union is refused.
 */
#include "formats/tflite.h"

#include "core/status.h"
#include "formats/flatbuf.h"

#include <stdlib.h>
#include <string.h>

/* Field ids (order of declaration in the schema; a union takes two: type, then value). */
enum { MODEL_VERSION = 0, MODEL_OPCODES = 1, MODEL_SUBGRAPHS = 2, MODEL_DESCRIPTION = 3,
       MODEL_BUFFERS = 4 };
enum { SG_TENSORS = 0, SG_INPUTS = 1, SG_OUTPUTS = 2, SG_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_NAME = 3, TENSOR_QUANT = 4,
       TENSOR_IS_VARIABLE = 5, TENSOR_SPARSITY = 6 };
enum { Q_SCALE = 2, Q_ZERO_POINT = 3, Q_DIM = 6 };
enum { OP_OPCODE = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3, OP_OPTIONS = 4,
       OP_CUSTOM_OPTIONS = 5 };
enum { OC_DEPRECATED = 0, OC_CUSTOM = 1, OC_VERSION = 2, OC_BUILTIN = 3 };
enum { BUF_DATA = 0, BUF_OFFSET = 1, BUF_SIZE = 2 };

enum { TFL_CONCATENATION = 2, TFL_CONV_2D = 3, TFL_DEPTHWISE_CONV_2D = 4, TFL_CUSTOM = 32 };
enum { TFL_ADD = 0, TFL_AVERAGE_POOL_2D = 1, TFL_DEQUANTIZE = 6, TFL_FULLY_CONNECTED = 9,
       TFL_LOGISTIC = 14, TFL_MAX_POOL_2D = 17, TFL_RESHAPE = 22, TFL_SOFTMAX = 25, TFL_MEAN = 40,
       TFL_QUANTIZE = 114, TFL_PAD = 34, TFL_RELU = 19, TFL_RELU6 = 21, TFL_MUL = 18,
       TFL_RESIZE_BILINEAR = 23, TFL_SUB = 41, TFL_DIV = 42, TFL_CAST = 53, TFL_ARG_MAX = 56,
       TFL_SQRT = 75, TFL_PACK = 83, TFL_UNPACK = 88, TFL_FLOOR_DIV = 90, TFL_GATHER_ND = 107 };
/* BuiltinOptions union type values (1 + position in the schema's union) we check. */
enum { OPT_POOL2D = 5, OPT_FULLY_CONNECTED = 8, OPT_SOFTMAX = 9, OPT_ADD = 11, OPT_RESHAPE = 17,
       OPT_REDUCER = 27, OPT_RESIZE_BILINEAR = 15, OPT_MUL = 21, OPT_SUB = 28, OPT_DIV = 29,
       OPT_ARG_MAX = 40, OPT_PACK = 59, OPT_UNPACK = 64 };

int ev_tflite_identify(const uint8_t *data, size_t size) {
    return size >= 8 && memcmp(data + 4, "TFL3", 4) == 0;
}

static ev_dtype dtype_of(int t) {
    switch (t) {
    case 0: return EV_DTYPE_F32;
    case 2: return EV_DTYPE_I32;
    case 3: return EV_DTYPE_U8;
    case 4: return EV_DTYPE_I64;
    case 7: return EV_DTYPE_I16;
    case 9: return EV_DTYPE_I8;
    default: return EV_DTYPE_UNKNOWN;
    }
}

static char *dup_n(const char *s, uint32_t n) {
    char *d = malloc((size_t)n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

typedef struct ctx {
    fb_reader r;
    const char *src;
    ev_graph *g;
    fb_vec buffers;
} ctx;

#define BAD(c, ...) EV_FAIL(EV_ERR_FORMAT, __VA_ARGS__)

static ev_status reader_error(ctx *c, const char *where) {
    return EV_FAIL(EV_ERR_FORMAT, "%s: corrupt or truncated TFLite file: %s (%s)", c->src,
                   c->r.msg, where);
}

static ev_status parse_quant(ctx *c, int ti, const fb_table *qt, ev_tensor *t) {
    fb_vec sc = fb_vector(&c->r, qt, Q_SCALE, 4);
    fb_vec zp = fb_vector(&c->r, qt, Q_ZERO_POINT, 8);
    int dim = fb_i32(&c->r, qt, Q_DIM, 0);
    if (!fb_ok(&c->r)) return reader_error(c, "tensor quantization");
    if (sc.len == 0) return EV_OK; /* min/max only, or nothing: treat as not quantized */
    if (zp.len != 0 && zp.len != sc.len)
        return BAD(c, "%s: tensor %d '%s': %u scales but %u zero points", c->src, ti, t->name,
                   sc.len, zp.len);
    if (sc.len > 1) {
        if (dim < 0 || dim >= t->ndim || (uint32_t)t->dims[dim] != sc.len)
            return BAD(c, "%s: tensor %d '%s': %u per-channel scales do not match dimension %d",
                       c->src, ti, t->name, sc.len, dim);
    }
    t->quant.count = (int)sc.len;
    t->quant.axis = dim;
    t->quant.scale = malloc(sizeof(float) * sc.len);
    t->quant.zero_point = calloc(sc.len, sizeof(int32_t));
    if (!t->quant.scale || !t->quant.zero_point) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (uint32_t i = 0; i < sc.len; i++) {
        t->quant.scale[i] = fb_vec_f32(&c->r, &sc, i);
        int64_t z = zp.len ? fb_vec_i64(&c->r, &zp, i) : 0;
        if (z < INT32_MIN || z > INT32_MAX)
            return BAD(c, "%s: tensor %d '%s': zero point %lld out of range", c->src, ti, t->name,
                       (long long)z);
        t->quant.zero_point[i] = (int32_t)z;
        if (!(t->quant.scale[i] > 0.0f) && !(t->quant.scale[i] == 0.0f && sc.len == 1))
            return BAD(c, "%s: tensor %d '%s': quantization scale %g is not positive", c->src, ti,
                       t->name, (double)t->quant.scale[i]);
    }
    if (!fb_ok(&c->r)) return reader_error(c, "tensor quantization");
    return EV_OK;
}

static ev_status parse_tensor(ctx *c, int ti, const fb_table *tt, ev_tensor *t) {
    uint32_t nlen = 0;
    const char *name = fb_string(&c->r, tt, TENSOR_NAME, &nlen);
    t->name = dup_n(name ? name : "", name ? nlen : 0);
    if (!t->name) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    fb_vec shape = fb_vector(&c->r, tt, TENSOR_SHAPE, 4);
    int type = fb_i8(&c->r, tt, TENSOR_TYPE, 0);
    uint32_t buf = fb_u32(&c->r, tt, TENSOR_BUFFER, 0);
    fb_table sparsity = fb_sub(&c->r, tt, TENSOR_SPARSITY);
    t->variable = fb_u8(&c->r, tt, TENSOR_IS_VARIABLE, 0) != 0;
    if (!fb_ok(&c->r)) return reader_error(c, "tensor table");
    if (shape.len > EV_MAX_DIMS)
        return BAD(c, "%s: tensor %d '%s' has %u dimensions (at most %d supported)", c->src, ti,
                   t->name, shape.len, EV_MAX_DIMS);
    if (sparsity.valid)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: tensor %d '%s' is sparse; sparse tensors are not "
                       "supported", c->src, ti, t->name);
    t->ndim = (int)shape.len;
    for (int d = 0; d < t->ndim; d++) {
        int32_t v = fb_vec_i32(&c->r, &shape, (uint32_t)d);
        if (v < 0)
            return BAD(c, "%s: tensor %d '%s': dimension %d is %d (dynamic shapes are not "
                       "supported)", c->src, ti, t->name, d, v);
        t->dims[d] = v;
    }
    t->dtype = dtype_of(type);
    if (ev_tensor_bytes_checked(t->ndim, t->dims, t->dtype, &t->bytes))
        return BAD(c, "%s: tensor %d '%s' is implausibly large (over %llu elements, or over "
                   "what this platform can address)", c->src, ti, t->name, EV_MAX_TENSOR_ELEMS);
    uint64_t elems = 1; /* below EV_MAX_TENSOR_ELEMS: checked above */
    for (int d = 0; d < t->ndim; d++) elems *= (uint64_t)t->dims[d];

    if (buf >= c->buffers.len)
        return BAD(c, "%s: tensor %d '%s' refers to buffer %u of %u", c->src, ti, t->name, buf,
                   c->buffers.len);
    fb_table bt = fb_vec_table(&c->r, &c->buffers, buf);
    fb_vec data = fb_vector(&c->r, &bt, BUF_DATA, 1);
    uint64_t off = fb_u64(&c->r, &bt, BUF_OFFSET, 0);
    uint64_t size = fb_u64(&c->r, &bt, BUF_SIZE, 0);
    if (!fb_ok(&c->r)) return reader_error(c, "buffer table");
    const uint8_t *ptr = NULL;
    uint64_t len = 0;
    if (data.len) {
        ptr = c->r.p + data.start;
        len = data.len;
    } else if (off > 1) { /* large models keep buffers after the flatbuffer */
        if (off > c->r.n || size > c->r.n - off)
            return BAD(c, "%s: tensor %d '%s': buffer %u at offset %llu size %llu is outside the "
                       "file (%zu bytes)", c->src, ti, t->name, buf, (unsigned long long)off,
                       (unsigned long long)size, c->r.n);
        ptr = c->r.p + off;
        len = size;
    }
    if (ptr) {
        if (t->dtype == EV_DTYPE_UNKNOWN)
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: tensor %d '%s': constant of TFLite type %d is "
                           "not supported", c->src, ti, t->name, type);
        if (len != t->bytes)
            return BAD(c, "%s: tensor %d '%s' (%s, %llu elements) has %llu bytes of data, "
                       "expected %zu", c->src, ti, t->name, ev_dtype_name(t->dtype),
                       (unsigned long long)elems, (unsigned long long)len, t->bytes);
        t->data = ptr;
    }
    fb_table qt = fb_sub(&c->r, tt, TENSOR_QUANT);
    if (!fb_ok(&c->r)) return reader_error(c, "quantization table");
    if (qt.valid) EV_TRY(parse_quant(c, ti, &qt, t));
    return EV_OK;
}

static ev_status check_index_list(ctx *c, const fb_vec *v, int allow_absent, int **out, int *n,
                                  const char *what, int op) {
    *n = (int)v->len;
    *out = malloc(sizeof(int) * (v->len ? v->len : 1));
    if (!*out) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (uint32_t i = 0; i < v->len; i++) {
        int32_t t = fb_vec_i32(&c->r, v, i);
        if (t >= c->g->num_tensors || t < (allow_absent ? -1 : 0)) {
            if (op >= 0)
                return BAD(c, "%s: op %d: %s %u refers to tensor %d of %d", c->src, op, what, i, t,
                           c->g->num_tensors);
            return BAD(c, "%s: graph %s %u refers to tensor %d of %d", c->src, what, i, t,
                       c->g->num_tensors);
        }
        (*out)[i] = t;
    }
    return fb_ok(&c->r) ? EV_OK : reader_error(c, what);
}

static ev_activation act_of(ctx *c, int v, int op) {
    (void)c;
    (void)op;
    return v >= 0 && v <= 5 ? (ev_activation)v : EV_ACT_SIGN_BIT + 1;
}

/* The options table type each new op expects (0: none checked). */
static int expected_options(ev_op_type t) {
    switch (t) {
    case EV_OP_AVERAGE_POOL_2D:
    case EV_OP_MAX_POOL_2D: return OPT_POOL2D;
    case EV_OP_FULLY_CONNECTED: return OPT_FULLY_CONNECTED;
    case EV_OP_SOFTMAX: return OPT_SOFTMAX;
    case EV_OP_ADD: return OPT_ADD;
    case EV_OP_RESHAPE: return OPT_RESHAPE;
    case EV_OP_MEAN: return OPT_REDUCER;
    case EV_OP_SUB: return OPT_SUB;
    case EV_OP_MUL: return OPT_MUL;
    case EV_OP_DIV: return OPT_DIV;
    case EV_OP_RESIZE_BILINEAR: return OPT_RESIZE_BILINEAR;
    case EV_OP_ARG_MAX: return OPT_ARG_MAX;
    case EV_OP_PACK: return OPT_PACK;
    case EV_OP_UNPACK: return OPT_UNPACK;
    default: return 0;
    }
}

static ev_status check_activation(ctx *c, int oi, const ev_op *op, ev_activation a) {
    if ((int)a < 0 || (int)a > (int)EV_ACT_SIGN_BIT)
        return BAD(c, "%s: op %d (%s): unknown fused activation", c->src, oi, op->name);
    return EV_OK;
}

/* Options of the elementwise (SUB, MUL, DIV), RESIZE_BILINEAR, ARG_MAX, PACK and UNPACK ops. */
static ev_status parse_movenet_options(ctx *c, int oi, const fb_table *opt, ev_op *op) {
    fb_reader *r = &c->r;
    switch (op->type) {
    case EV_OP_SUB:
    case EV_OP_MUL:
    case EV_OP_DIV:
        op->p.arith.activation = act_of(c, fb_i8(r, opt, 0, 0), oi);
        if (!fb_ok(r)) return reader_error(c, "Sub/Mul/DivOptions");
        return check_activation(c, oi, op, op->p.arith.activation);
    case EV_OP_RESIZE_BILINEAR:
        op->p.resize.align_corners = fb_u8(r, opt, 2, 0) != 0;
        op->p.resize.half_pixel_centers = fb_u8(r, opt, 3, 0) != 0;
        if (!fb_ok(r)) return reader_error(c, "ResizeBilinearOptions");
        if (op->p.resize.align_corners && op->p.resize.half_pixel_centers)
            return BAD(c, "%s: op %d (%s): align_corners and half_pixel_centers are both set",
                       c->src, oi, op->name);
        return EV_OK;
    case EV_OP_ARG_MAX: {
        int t = fb_i8(r, opt, 0, 0);
        if (!fb_ok(r)) return reader_error(c, "ArgMaxOptions");
        op->p.arg.output_type = EV_DTYPE_UNKNOWN; /* no options: the output tensor's type */
        if (!opt->valid) return EV_OK;
        op->p.arg.output_type = dtype_of(t);
        if (op->p.arg.output_type != EV_DTYPE_I32 && op->p.arg.output_type != EV_DTYPE_I64)
            return BAD(c, "%s: op %d (%s): output_type %d (int32 or int64 expected)", c->src, oi,
                       op->name, t);
        return EV_OK;
    }
    case EV_OP_PACK:
    case EV_OP_UNPACK:
        op->p.pack.count = fb_i32(r, opt, 0, 0);
        op->p.pack.axis = fb_i32(r, opt, 1, 0);
        if (!fb_ok(r)) return reader_error(c, "Pack/UnpackOptions");
        if (op->p.pack.count < 0 || op->p.pack.axis < -EV_MAX_DIMS - 1 ||
            op->p.pack.axis > EV_MAX_DIMS)
            return BAD(c, "%s: op %d (%s): invalid count %d or axis %d", c->src, oi, op->name,
                       op->p.pack.count, op->p.pack.axis);
        return EV_OK;
    default: return EV_OK;
    }
}

/* Options of the pooling, reshape, softmax, fully-connected, add and reducer ops. */
static ev_status parse_more_options(ctx *c, int oi, const fb_table *opt, ev_op *op) {
    fb_reader *r = &c->r;
    switch (op->type) {
    case EV_OP_AVERAGE_POOL_2D:
    case EV_OP_MAX_POOL_2D: {
        ev_pool_params *p = &op->p.pool;
        p->padding = (ev_padding)fb_i8(r, opt, 0, 0);
        p->stride_w = fb_i32(r, opt, 1, 0);
        p->stride_h = fb_i32(r, opt, 2, 0);
        p->filter_w = fb_i32(r, opt, 3, 0);
        p->filter_h = fb_i32(r, opt, 4, 0);
        p->activation = act_of(c, fb_i8(r, opt, 5, 0), oi);
        if (!fb_ok(r)) return reader_error(c, "Pool2DOptions");
        if (!opt->valid)
            return BAD(c, "%s: op %d (%s) has no Pool2DOptions", c->src, oi, op->name);
        if (p->padding != EV_PAD_SAME && p->padding != EV_PAD_VALID)
            return BAD(c, "%s: op %d (%s): unknown padding %d", c->src, oi, op->name, p->padding);
        if (p->stride_w < 1 || p->stride_h < 1 || p->stride_w > 1024 || p->stride_h > 1024 ||
            p->filter_w < 1 || p->filter_h < 1 || p->filter_w > 65536 || p->filter_h > 65536)
            return BAD(c, "%s: op %d (%s): invalid stride %dx%d or filter %dx%d (height x width)",
                       c->src, oi, op->name, p->stride_h, p->stride_w, p->filter_h, p->filter_w);
        return check_activation(c, oi, op, p->activation);
    }
    case EV_OP_RESHAPE: {
        ev_reshape_params *p = &op->p.reshape;
        p->num_dims = -1;
        if (!opt->valid) return EV_OK; /* the shape comes from input 1 / the output tensor */
        fb_vec ns = fb_vector(r, opt, 0, 4);
        if (!fb_ok(r)) return reader_error(c, "ReshapeOptions");
        if (ns.start == 0 && ns.len == 0) return EV_OK; /* new_shape absent */
        if (ns.len > EV_MAX_DIMS)
            return BAD(c, "%s: op %d (%s): new_shape has %u dimensions (at most %d supported)",
                       c->src, oi, op->name, ns.len, EV_MAX_DIMS);
        int unknown = 0;
        p->num_dims = (int)ns.len;
        for (uint32_t i = 0; i < ns.len; i++) {
            int32_t v = fb_vec_i32(r, &ns, i);
            if (v < -1 || (v == -1 && ++unknown > 1))
                return BAD(c, "%s: op %d (%s): new_shape dimension %u is %d (only one -1 and no "
                           "other negative value allowed)", c->src, oi, op->name, i, v);
            p->dims[i] = v;
        }
        if (!fb_ok(r)) return reader_error(c, "ReshapeOptions");
        return EV_OK;
    }
    case EV_OP_SOFTMAX:
        op->p.softmax.beta = opt->valid ? fb_f32(r, opt, 0, 0.0f) : 1.0f;
        if (!fb_ok(r)) return reader_error(c, "SoftmaxOptions");
        if (!(op->p.softmax.beta > 0.0f) || !(op->p.softmax.beta <= 1e6f))
            return BAD(c, "%s: op %d (%s): implausible beta %g (expected a positive finite value)",
                       c->src, oi, op->name, (double)op->p.softmax.beta);
        return EV_OK;
    case EV_OP_FULLY_CONNECTED: {
        op->p.fc.activation = act_of(c, fb_i8(r, opt, 0, 0), oi);
        int wf = fb_i8(r, opt, 1, 0);
        op->p.fc.keep_num_dims = fb_u8(r, opt, 2, 0) != 0;
        if (!fb_ok(r)) return reader_error(c, "FullyConnectedOptions");
        if (wf != 0)
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: op %d (%s): weights format %d (shuffled "
                           "weights) is not supported; only DEFAULT", c->src, oi, op->name, wf);
        return check_activation(c, oi, op, op->p.fc.activation);
    }
    case EV_OP_ADD:
        op->p.add.activation = act_of(c, fb_i8(r, opt, 0, 0), oi);
        if (!fb_ok(r)) return reader_error(c, "AddOptions");
        return check_activation(c, oi, op, op->p.add.activation);
    case EV_OP_MEAN:
        op->p.reduce.keep_dims = fb_u8(r, opt, 0, 0) != 0;
        if (!fb_ok(r)) return reader_error(c, "ReducerOptions");
        return EV_OK;
    default: return parse_movenet_options(c, oi, opt, op);
    }
}

static ev_status parse_options(ctx *c, int oi, const fb_table *opt, ev_op *op) {
    fb_reader *r = &c->r;
    switch (op->type) {
    case EV_OP_CONV_2D:
        op->p.conv.padding = (ev_padding)fb_i8(r, opt, 0, 0);
        op->p.conv.stride_w = fb_i32(r, opt, 1, 0);
        op->p.conv.stride_h = fb_i32(r, opt, 2, 0);
        op->p.conv.activation = act_of(c, fb_i8(r, opt, 3, 0), oi);
        op->p.conv.dilation_w = fb_i32(r, opt, 4, 1);
        op->p.conv.dilation_h = fb_i32(r, opt, 5, 1);
        op->p.conv.depth_multiplier = 1;
        break;
    case EV_OP_DEPTHWISE_CONV_2D:
        op->p.conv.padding = (ev_padding)fb_i8(r, opt, 0, 0);
        op->p.conv.stride_w = fb_i32(r, opt, 1, 0);
        op->p.conv.stride_h = fb_i32(r, opt, 2, 0);
        op->p.conv.depth_multiplier = fb_i32(r, opt, 3, 0);
        op->p.conv.activation = act_of(c, fb_i8(r, opt, 4, 0), oi);
        op->p.conv.dilation_w = fb_i32(r, opt, 5, 1);
        op->p.conv.dilation_h = fb_i32(r, opt, 6, 1);
        break;
    case EV_OP_CONCATENATION:
        op->p.concat.axis = fb_i32(r, opt, 0, 0);
        op->p.concat.activation = act_of(c, fb_i8(r, opt, 1, 0), oi);
        break;
    default: return parse_more_options(c, oi, opt, op);
    }
    if (!fb_ok(r)) return reader_error(c, "operator options");
    if (op->type == EV_OP_CONV_2D || op->type == EV_OP_DEPTHWISE_CONV_2D) {
        ev_conv_params *p = &op->p.conv;
        if (p->padding != EV_PAD_SAME && p->padding != EV_PAD_VALID)
            return BAD(c, "%s: op %d (%s): unknown padding %d", c->src, oi, op->name, p->padding);
        if (p->stride_w < 1 || p->stride_h < 1 || p->dilation_w < 1 || p->dilation_h < 1 ||
            p->stride_w > 1024 || p->stride_h > 1024 || p->dilation_w > 1024 ||
            p->dilation_h > 1024)
            return BAD(c, "%s: op %d (%s): invalid stride %dx%d or dilation %dx%d", c->src, oi,
                       op->name, p->stride_h, p->stride_w, p->dilation_h, p->dilation_w);
        if (op->type == EV_OP_DEPTHWISE_CONV_2D && (p->depth_multiplier < 0 ||
                                                    p->depth_multiplier > 4096))
            return BAD(c, "%s: op %d (%s): invalid depth multiplier %d", c->src, oi, op->name,
                       p->depth_multiplier);
    }
    return EV_OK;
}

static ev_op_type op_type_of(int code) {
    switch (code) {
    case TFL_CONV_2D: return EV_OP_CONV_2D;
    case TFL_DEPTHWISE_CONV_2D: return EV_OP_DEPTHWISE_CONV_2D;
    case TFL_CONCATENATION: return EV_OP_CONCATENATION;
    case TFL_CUSTOM: return EV_OP_CUSTOM;
    case TFL_ADD: return EV_OP_ADD;
    case TFL_AVERAGE_POOL_2D: return EV_OP_AVERAGE_POOL_2D;
    case TFL_DEQUANTIZE: return EV_OP_DEQUANTIZE;
    case TFL_FULLY_CONNECTED: return EV_OP_FULLY_CONNECTED;
    case TFL_LOGISTIC: return EV_OP_LOGISTIC;
    case TFL_MAX_POOL_2D: return EV_OP_MAX_POOL_2D;
    case TFL_RESHAPE: return EV_OP_RESHAPE;
    case TFL_SOFTMAX: return EV_OP_SOFTMAX;
    case TFL_MEAN: return EV_OP_MEAN;
    case TFL_QUANTIZE: return EV_OP_QUANTIZE;
    case TFL_PAD: return EV_OP_PAD;
    case TFL_RELU: return EV_OP_RELU;
    case TFL_RELU6: return EV_OP_RELU6;
    case TFL_SUB: return EV_OP_SUB;
    case TFL_MUL: return EV_OP_MUL;
    case TFL_DIV: return EV_OP_DIV;
    case TFL_FLOOR_DIV: return EV_OP_FLOOR_DIV;
    case TFL_SQRT: return EV_OP_SQRT;
    case TFL_CAST: return EV_OP_CAST;
    case TFL_RESIZE_BILINEAR: return EV_OP_RESIZE_BILINEAR;
    case TFL_ARG_MAX: return EV_OP_ARG_MAX;
    case TFL_GATHER_ND: return EV_OP_GATHER_ND;
    case TFL_PACK: return EV_OP_PACK;
    case TFL_UNPACK: return EV_OP_UNPACK;
    default: return EV_OP_UNSUPPORTED;
    }
}

static ev_status parse_op(ctx *c, const fb_vec *opcodes, int oi, const fb_table *ot, ev_op *op) {
    uint32_t oc_index = fb_u32(&c->r, ot, OP_OPCODE, 0);
    if (!fb_ok(&c->r)) return reader_error(c, "operator");
    if (oc_index >= opcodes->len)
        return BAD(c, "%s: op %d uses opcode %u of %u", c->src, oi, oc_index, opcodes->len);
    fb_table oc = fb_vec_table(&c->r, opcodes, oc_index);
    int dep = fb_i8(&c->r, &oc, OC_DEPRECATED, 0);
    int builtin = fb_i32(&c->r, &oc, OC_BUILTIN, 0);
    op->version = fb_i32(&c->r, &oc, OC_VERSION, 1);
    /* TOCO-era files set only the one-byte deprecated code (posenet.md section 1). */
    int code = dep > builtin ? dep : builtin;
    op->builtin_code = code;
    op->type = op_type_of(code);
    op->name = ev_tflite_builtin_name(code);
    if (op->type == EV_OP_CUSTOM) {
        uint32_t len = 0;
        const char *cc = fb_string(&c->r, &oc, OC_CUSTOM, &len);
        op->custom_code = dup_n(cc ? cc : "", cc ? len : 0);
        if (!op->custom_code) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        op->name = op->custom_code;
        fb_vec co = fb_vector(&c->r, ot, OP_CUSTOM_OPTIONS, 1);
        op->custom_options = co.len ? c->r.p + co.start : NULL;
        op->custom_options_size = co.len;
    }
    if (!fb_ok(&c->r)) return reader_error(c, "operator code");
    fb_vec in = fb_vector(&c->r, ot, OP_INPUTS, 4);
    fb_vec outv = fb_vector(&c->r, ot, OP_OUTPUTS, 4);
    if (!fb_ok(&c->r)) return reader_error(c, "operator inputs/outputs");
    EV_TRY(check_index_list(c, &in, 1, &op->inputs, &op->num_inputs, "input", oi));
    EV_TRY(check_index_list(c, &outv, 0, &op->outputs, &op->num_outputs, "output", oi));
    for (int i = 0; i < op->num_outputs; i++)
        if (c->g->tensors[op->outputs[i]].data)
            return BAD(c, "%s: op %d (%s) writes constant tensor %d", c->src, oi, op->name,
                       op->outputs[i]);
    fb_table opt = fb_sub(&c->r, ot, OP_OPTIONS);
    int opt_type = fb_u8(&c->r, ot, OP_OPTIONS_TYPE, 0);
    if (!fb_ok(&c->r)) return reader_error(c, "operator options");
    int want = expected_options(op->type);
    if (want && opt.valid && opt_type != want)
        return BAD(c, "%s: op %d (%s) carries builtin options of type %d, expected %d", c->src, oi,
                   op->name, opt_type, want);
    return parse_options(c, oi, &opt, op);
}

ev_status ev_tflite_parse(uint8_t *file, size_t size, const char *source, ev_graph *g) {
    memset(g, 0, sizeof *g);
    g->file = file;
    g->file_size = size;
    g->source = dup_n(source, (uint32_t)strlen(source));
    ctx c;
    memset(&c, 0, sizeof c);
    c.r.p = file;
    c.r.n = size;
    c.src = source;
    c.g = g;
    ev_status st = EV_OK;
    if (!g->source) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if (!ev_tflite_identify(file, size)) {
        st = BAD(&c, "%s: not a TFLite model (no TFL3 identifier)", source);
        goto fail;
    }
    fb_table model = fb_root(&c.r);
    fb_vec opcodes = fb_vector(&c.r, &model, MODEL_OPCODES, 4);
    fb_vec subgraphs = fb_vector(&c.r, &model, MODEL_SUBGRAPHS, 4);
    c.buffers = fb_vector(&c.r, &model, MODEL_BUFFERS, 4);
    uint32_t dlen = 0;
    const char *desc = fb_string(&c.r, &model, MODEL_DESCRIPTION, &dlen);
    if (!fb_ok(&c.r)) {
        st = reader_error(&c, "model table");
        goto fail;
    }
    g->description = dup_n(desc ? desc : "", desc ? dlen : 0);
    if (subgraphs.len < 1) {
        st = BAD(&c, "%s: model has no subgraph", source);
        goto fail;
    }
    /* Edge TPU-compiled models: recognise before anything else. */
    for (uint32_t i = 0; i < opcodes.len; i++) {
        fb_table oc = fb_vec_table(&c.r, &opcodes, i);
        uint32_t len = 0;
        const char *cc = fb_string(&c.r, &oc, OC_CUSTOM, &len);
        if (cc && len == 17 && memcmp(cc, "edgetpu-custom-op", 17) == 0) {
            st = EV_FAIL(EV_ERR_NEEDS_DEVICE, "%s: model is compiled for the Coral Edge TPU "
                         "(edgetpu-custom-op); it needs an Edge TPU and the libedgetpu delegate. "
                         "Use the CPU model (same name without _edgetpu)", source);
            goto fail;
        }
    }
    fb_table sg = fb_vec_table(&c.r, &subgraphs, 0);
    fb_vec tensors = fb_vector(&c.r, &sg, SG_TENSORS, 4);
    fb_vec ops = fb_vector(&c.r, &sg, SG_OPERATORS, 4);
    fb_vec gin = fb_vector(&c.r, &sg, SG_INPUTS, 4);
    fb_vec gout = fb_vector(&c.r, &sg, SG_OUTPUTS, 4);
    if (!fb_ok(&c.r)) {
        st = reader_error(&c, "subgraph table");
        goto fail;
    }
    g->tensors = calloc(tensors.len ? tensors.len : 1, sizeof(ev_tensor));
    g->ops = calloc(ops.len ? ops.len : 1, sizeof(ev_op));
    if (!g->tensors || !g->ops) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < tensors.len; i++) {
        fb_table tt = fb_vec_table(&c.r, &tensors, i);
        g->num_tensors = (int)i + 1;
        if (!fb_ok(&c.r)) {
            st = reader_error(&c, "tensor list");
            goto fail;
        }
        EV_TRY_GOTO(st, parse_tensor(&c, (int)i, &tt, &g->tensors[i]), fail);
    }
    for (uint32_t i = 0; i < ops.len; i++) {
        fb_table ot = fb_vec_table(&c.r, &ops, i);
        g->num_ops = (int)i + 1;
        if (!fb_ok(&c.r)) {
            st = reader_error(&c, "operator list");
            goto fail;
        }
        EV_TRY_GOTO(st, parse_op(&c, &opcodes, (int)i, &ot, &g->ops[i]), fail);
    }
    EV_TRY_GOTO(st, check_index_list(&c, &gin, 0, &g->inputs, &g->num_inputs, "input", -1), fail);
    EV_TRY_GOTO(st, check_index_list(&c, &gout, 0, &g->outputs, &g->num_outputs, "output", -1),
                fail);
    if (g->num_inputs < 1 || g->num_outputs < 1) {
        st = BAD(&c, "%s: graph has %d inputs and %d outputs", source, g->num_inputs,
                 g->num_outputs);
        goto fail;
    }
    return EV_OK;
fail:
    ev_graph_release(g);
    return st;
}
