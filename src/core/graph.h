/*
 * graph.h - the graph IR every format reader produces and every backend consumes.
 *
 * A graph is a flat list of tensors and a topologically ordered list of ops (TFLite order).
 * Constant tensors point into the model's file bytes (owned by the graph); activation tensors
 * get memory from the session's plan (core/plan.c). Ops carry their parsed options in a union.
 *
 * To add an op: add an EV_OP_* value and its name in graph.c, parse its options in the format
 * reader (formats/tflite.c), and implement it in each backend (backends/<name>/).
 */
#ifndef EV_CORE_GRAPH_H
#define EV_CORE_GRAPH_H

#include "edgevision.h"

#include <stddef.h>
#include <stdint.h>

typedef enum ev_op_type {
    EV_OP_UNSUPPORTED = 0, /* read from the file but not known to the IR (name kept)  */
    EV_OP_CONV_2D,
    EV_OP_DEPTHWISE_CONV_2D,
    EV_OP_CONCATENATION,
    EV_OP_CUSTOM, /* a custom op, identified by op->custom_code              */
    EV_OP_AVERAGE_POOL_2D, /* p.pool                                            */
    EV_OP_MAX_POOL_2D,     /* p.pool                                            */
    EV_OP_RESHAPE,         /* p.reshape (the output tensor's shape is what counts) */
    EV_OP_SOFTMAX,         /* p.softmax                                         */
    EV_OP_FULLY_CONNECTED, /* p.fc                                              */
    EV_OP_ADD,             /* p.add                                             */
    EV_OP_QUANTIZE,        /* float -> int8/uint8, or requantization             */
    EV_OP_DEQUANTIZE,      /* int8/uint8/int16 -> float                          */
    EV_OP_MEAN,            /* p.reduce; axes: constant int32 input 1            */
    EV_OP_LOGISTIC,        /* sigmoid                                           */
    EV_OP_PAD,             /* paddings: constant int32 input 1, [ndim][2]       */
    EV_OP_RELU,            /* max(x, 0)                                         */
    EV_OP_RELU6,           /* min(max(x, 0), 6)                                 */
    EV_OP_SUB,             /* p.arith (broadcasting)                            */
    EV_OP_MUL,             /* p.arith (broadcasting)                            */
    EV_OP_DIV,             /* p.arith (broadcasting; float32)                   */
    EV_OP_FLOOR_DIV,       /* broadcasting; int32, float32                      */
    EV_OP_SQRT,            /* float32                                           */
    EV_OP_CAST,            /* dtype conversion (static_cast; quantization ignored) */
    EV_OP_RESIZE_BILINEAR, /* p.resize; size: constant int32 input 1 [2] = {h, w} */
    EV_OP_ARG_MAX,         /* p.arg; axis: constant int32/int64 input 1          */
    EV_OP_GATHER_ND,       /* params, int32 indices                              */
    EV_OP_PACK,            /* p.pack (values_count, axis)                        */
    EV_OP_UNPACK,          /* p.pack (num, axis)                                 */
    /* Ops the ONNX reader (formats/onnx_reader.c) needs beyond TFLite's builtins: */
    EV_OP_TRANSPOSE,       /* p.transpose: out dim k = in dim perm[k]; any dtype   */
    EV_OP_LEAKY_RELU,      /* p.leaky: x >= 0 ? x : alpha * x (float32)           */
    EV_OP_HARD_SIGMOID,    /* p.hard_sigmoid: clamp(alpha * x + beta, 0, 1) (float32) */
    EV_OP_HARD_SWISH,      /* x * relu6(x + 3) / 6 (float32)                      */
    EV_OP_MINIMUM,         /* broadcasting min (float32; int8/uint8 same quantization) */
    EV_OP_MAXIMUM,         /* broadcasting max (likewise)                         */
    EV_OP_BATCH_MATMUL,    /* p.bmm: [..., M, K] x [..., K, N], batch dims broadcast (float32) */
    EV_OP_RESIZE,          /* p.rsz: ONNX Resize of H and W (NHWC): nearest, linear, cubic */
    EV_OP_PAD_EX,          /* p.pad_ex: PAD with a constant value, reflect or edge; paddings
                              input 1 as PAD's (negative entries crop)               */
    EV_OP_CONV_TRANSPOSE,  /* p.convt: ONNX ConvTranspose of NHWC float32; weights [I, kh, kw,
                              O / group], optional bias [O]; output size as the tensor's */
    EV_OP_POOL_ND,         /* p.pool_nd: max / average pool over the trailing 1-4 dims of a
                              channel-first float32 tensor [N, C, d1..dk]: dilations,
                              explicit pads; output size as the tensor's            */
    EV_OP_CONV_ND,         /* p.conv_nd: ONNX Conv / ConvTranspose over 1-4 trailing dims of a
                              channel-first float32 tensor, weights in ONNX's layout  */
    EV_OP_COUNT_
} ev_op_type;

typedef enum ev_padding { EV_PAD_SAME = 0, EV_PAD_VALID = 1 } ev_padding;

typedef enum ev_activation {
    EV_ACT_NONE = 0,
    EV_ACT_RELU = 1,
    EV_ACT_RELU_N1_TO_1 = 2,
    EV_ACT_RELU6 = 3,
    EV_ACT_TANH = 4,
    EV_ACT_SIGN_BIT = 5,
} ev_activation;

typedef struct ev_quant {
    int count;          /* 0: not quantized; 1: per tensor; >1: per channel along `axis` */
    float *scale;       /* [count]                                                        */
    int32_t *zero_point; /* [count]                                                       */
    int axis;
} ev_quant;

typedef struct ev_tensor {
    char *name;
    ev_dtype dtype;
    int ndim;
    int dims[EV_MAX_DIMS];
    ev_quant quant;
    const void *data; /* constant data (NULL for activations)                           */
    size_t bytes;     /* element count * element size                                   */
    int variable;     /* state read before any op writes it, zero at the start and kept  *
                       * between runs (TFLite's Tensor.is_variable: LSTM / SVDF state)   */
} ev_tensor;

typedef struct ev_conv_params {
    ev_padding padding;
    int stride_w, stride_h;
    int dilation_w, dilation_h;
    int depth_multiplier; /* depthwise only                                                */
    ev_activation activation;
} ev_conv_params;

typedef struct ev_concat_params {
    int axis; /* normalised to [0, ndim)                                                    */
    ev_activation activation;
} ev_concat_params;

typedef struct ev_pool_params {
    ev_padding padding;
    int stride_w, stride_h;
    int filter_w, filter_h;
    ev_activation activation;
} ev_pool_params;

typedef struct ev_reshape_params {
    int num_dims; /* -1: the file gave no new_shape (the output tensor's shape is used)  */
    int dims[EV_MAX_DIMS]; /* as written; at most one -1                             */
} ev_reshape_params;

typedef struct ev_softmax_params {
    float beta; /* > 0; 1.0 when the file has no SoftmaxOptions                          */
} ev_softmax_params;

typedef struct ev_fc_params {
    ev_activation activation;
    int keep_num_dims;
} ev_fc_params;

typedef struct ev_add_params {
    ev_activation activation;
} ev_add_params;

typedef struct ev_reduce_params {
    int keep_dims;
} ev_reduce_params;

/* SUB, MUL, DIV. */
typedef struct ev_arith_params {
    ev_activation activation;
} ev_arith_params;

typedef struct ev_resize_params {
    int align_corners;
    int half_pixel_centers;
} ev_resize_params;

typedef struct ev_arg_params {
    ev_dtype output_type; /* EV_DTYPE_I32 or EV_DTYPE_I64; UNKNOWN: the file had no options */
} ev_arg_params;

/* PACK (count = values_count) and UNPACK (count = num). axis as written (may be negative). */
typedef struct ev_pack_params {
    int count;
    int axis;
} ev_pack_params;

/* TRANSPOSE: output dimension k is input dimension perm[k] (perm of [0, ndim)). */
typedef struct ev_transpose_params {
    int perm[EV_MAX_DIMS];
} ev_transpose_params;

/* LEAKY_RELU. */
typedef struct ev_leaky_params {
    float alpha;
} ev_leaky_params;

/* HARD_SIGMOID: y = max(0, min(1, alpha * x + beta)). */
typedef struct ev_hard_sigmoid_params {
    float alpha, beta;
} ev_hard_sigmoid_params;

/* BATCH_MATMUL: adj_x / adj_y transpose the last two dims of input 0 / 1 first. */
typedef struct ev_bmm_params {
    int adj_x, adj_y;
} ev_bmm_params;

/* RESIZE (ONNX Resize semantics on the H and W dims of an NHWC tensor). The source coordinate of
 * output pixel x along an axis of input size in, output size out and scale s (out / in as the
 * file gave it, not recomputed) follows `coord`; nearest picks a source pixel by `nearest`,
 * linear blends the two neighbours (coordinates clamped to [0, in - 1]). */
typedef enum ev_resize_coord {
    EV_COORD_HALF_PIXEL = 0,         /* (x + 0.5) / s - 0.5                              */
    EV_COORD_ASYMMETRIC = 1,         /* x / s                                            */
    EV_COORD_PYTORCH_HALF_PIXEL = 2, /* out > 1 ? (x + 0.5) / s - 0.5 : 0                */
    EV_COORD_ALIGN_CORNERS = 3,      /* out > 1 ? x * (in - 1) / (out - 1) : 0           */
    EV_COORD_TF_HALF_PIXEL_FOR_NN = 4, /* (x + 0.5) / s                                  */
    EV_COORD_TF_CROP_AND_RESIZE = 5, /* out > 1 ? start * (in - 1) + x * (end - start) *
                                        (in - 1) / (out - 1) : (start + end) / 2 * (in - 1);
                                        outside [0, in - 1]: the extrapolation value       */
} ev_resize_coord;
typedef enum ev_resize_nearest {
    EV_NEAREST_ROUND_PREFER_FLOOR = 0,
    EV_NEAREST_ROUND_PREFER_CEIL = 1,
    EV_NEAREST_FLOOR = 2,
    EV_NEAREST_CEIL = 3,
} ev_resize_nearest;
typedef struct ev_resize2_params {
    int linear;               /* 0: nearest, 1: linear, 2: cubic                            */
    ev_resize_coord coord;
    ev_resize_nearest nearest;
    float scale_h, scale_w;   /* output / input, as given                                   */
    float cubic_a;            /* cubic: the coefficient A (ONNX cubic_coeff_a, -0.75)        */
    int exclude_outside;      /* cubic: taps outside the input get weight 0, the rest renormed */
    /* EV_COORD_TF_CROP_AND_RESIZE: the region [start, end] of H and W (fractions of in - 1)
     * and the value of output pixels whose source coordinate falls outside the input */
    float roi_h0, roi_h1, roi_w0, roi_w1, extrapolation;
} ev_resize2_params;

/* PAD_EX: how the padded area is filled. */
typedef enum ev_pad_mode {
    EV_PADMODE_CONSTANT = 0, /* p.pad_ex.value (float32 tensors; 0 for others)              */
    EV_PADMODE_REFLECT = 1,  /* mirror without repeating the edge (numpy 'reflect')          */
    EV_PADMODE_EDGE = 2,     /* repeat the edge value                                        */
} ev_pad_mode;
typedef struct ev_pad_ex_params {
    ev_pad_mode mode;
    float value;
} ev_pad_ex_params;

/* CONV_TRANSPOSE (ONNX ConvTranspose): output pixel (oy, ox) receives input pixel (iy, ix)
 * through kernel tap (ky, kx) when oy = iy * stride_h - pad_top + ky * dilation_h (likewise x);
 * channels in `group` blocks. The output's H and W are the output tensor's (output_padding and
 * output_shape are already in them). */
/* POOL_ND: output index o along spatial dim i covers input indices o * stride[i] - pad_begin[i]
 * + j * dilation[i], j in [0, kernel[i]). Max over the taps inside the input; average: their sum
 * divided by their count, or (count_include_pad) by the count of taps inside the padded extent
 * [-pad_begin, in + pad_end). */
#define EV_POOL_ND_MAX 4
typedef struct ev_pool_nd_params {
    int is_max, count_include_pad;
    int indices_col_major; /* the optional int64 Indices output: spatial dims column-major
                              (ONNX storage_order 1); the N * C offset is row-major either way */
    int kernel[EV_POOL_ND_MAX], stride[EV_POOL_ND_MAX], dilation[EV_POOL_ND_MAX];
    int pad_begin[EV_POOL_ND_MAX], pad_end[EV_POOL_ND_MAX];
} ev_pool_nd_params;

/* CONV_ND: x [N, C, d1..dk], weights in ONNX's layout, optional bias [O], output [N, O, o1..ok]
 * as the tensor gives it. Convolution (weights [O, C / group, k1..kk]): output o along dim i
 * reads input o * stride - pad_begin + j * dilation for tap j. Transposed (weights
 * [C, O / group, k1..kk]): input i reaches output i * stride - pad_begin + j * dilation. */
typedef struct ev_conv_nd_params {
    int transposed, group;
    int stride[EV_POOL_ND_MAX], dilation[EV_POOL_ND_MAX], pad_begin[EV_POOL_ND_MAX];
} ev_conv_nd_params;

typedef struct ev_conv_transpose_params {
    int stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left;
    int group;
} ev_conv_transpose_params;

/* QUANTIZE from float32: how x / scale is rounded to an integer. 0 (the default, TFLite's
 * reference/quantize.h): halves away from zero; 1 (ONNX QuantizeLinear: numpy.rint): halves to
 * even. Requantization (integer input) ignores it. */
typedef struct ev_quantize_params {
    int round_half_even;
} ev_quantize_params;

/* Options of custom ops that the file does not carry but the host sets (ev_model_set_*). */
typedef struct ev_custom_params {
    int edge16_fix; /* PosenetDecoderOp: 1 = libcoral's fixed edge >= 16; 0 (default) = the
                       shipped decoder's legacy edge > 16 (ev_model_set_decoder_edge16)   */
} ev_custom_params;

typedef struct ev_op {
    ev_op_type type;
    const char *name;  /* "CONV_2D", or the custom code for custom ops                   */
    int builtin_code;  /* the file's opcode (TFLite BuiltinOperator), for messages          */
    int version;
    int num_inputs, num_outputs;
    int *inputs;       /* tensor indices; -1 marks an absent optional input                */
    int *outputs;
    union {
        ev_conv_params conv;
        ev_concat_params concat;
        ev_pool_params pool;
        ev_reshape_params reshape;
        ev_softmax_params softmax;
        ev_fc_params fc;
        ev_add_params add;
        ev_reduce_params reduce;
        ev_custom_params custom;
        ev_arith_params arith;
        ev_resize_params resize;
        ev_arg_params arg;
        ev_pack_params pack;
        ev_transpose_params transpose;
        ev_leaky_params leaky;
        ev_hard_sigmoid_params hard_sigmoid;
        ev_bmm_params bmm;
        ev_resize2_params rsz;
        ev_quantize_params quantize;
        ev_pad_ex_params pad_ex;
        ev_conv_transpose_params convt;
        ev_pool_nd_params pool_nd;
        ev_conv_nd_params conv_nd;
    } p;
    char *custom_code;            /* custom ops only                                         */
    const uint8_t *custom_options; /* FlexBuffer bytes (inside the file), custom ops only    */
    size_t custom_options_size;
} ev_op;

typedef struct ev_graph {
    int num_tensors;
    ev_tensor *tensors;
    int num_ops;
    ev_op *ops;
    int num_inputs, num_outputs;
    int *inputs, *outputs;
    char *description;
    uint8_t *file; /* the model bytes; constant tensors point inside                          */
    size_t file_size;
    char *source;  /* path or label, for messages                                           */
    ev_preprocess preprocess; /* how the input image is prepared (0: by input type, the TFLite
                                 convention); readers set it, classify/ applies it            */
} ev_graph;

/* Most ops a graph may have (a resource limit for untrusted files). */
#define EV_MAX_OPS 100000

/* Structural checks: topological op order (no cycles), single writer per tensor, outputs
 * produced. EV_ERR_FORMAT naming the op and tensor otherwise. */
ev_status ev_graph_validate(const ev_graph *g);

/* Frees everything a graph owns (not the struct itself). */
void ev_graph_release(ev_graph *g);

/* Element count of a tensor (product of dims; 1 for a scalar). */
size_t ev_tensor_elems(const ev_tensor *t);

/* Most elements one tensor may have: 2^31 - 1, as kernels index elements with int (TFLite's
 * do too). Files can declare any shape; larger ones are refused when read. */
#define EV_MAX_TENSOR_ELEMS 2147483647ull

/* Byte size of a tensor of `ndim` dimensions `dims` (each >= 0) and `dtype`, computed without
 * overflow: 0 and *bytes set, or -1 when the element count passes EV_MAX_TENSOR_ELEMS or the
 * size does not fit a size_t (32-bit builds). Every reader sizes tensors through this. */
int ev_tensor_bytes_checked(int ndim, const int *dims, ev_dtype dtype, size_t *bytes);

/* Fills the public description of tensor `t`. */
void ev_tensor_describe(const ev_tensor *t, ev_tensor_info *info);

/* Shape as "1x353x481x3" into buf. */
const char *ev_shape_str(const ev_tensor *t, char *buf, size_t n);

/* Input/output tensor of an op, or NULL when absent/out of range. */
const ev_tensor *ev_op_input(const ev_graph *g, const ev_op *op, int i);
const ev_tensor *ev_op_output(const ev_graph *g, const ev_op *op, int i);

/* SAME/VALID output size and leading padding, as TFLite computes them. */
int ev_conv_out_size(ev_padding pad, int in, int k, int stride, int dilation);
int ev_conv_pad_before(ev_padding pad, int in, int k, int stride, int dilation, int out);

#endif
