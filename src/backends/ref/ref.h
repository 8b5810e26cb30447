/*
 * ref.h - kernels of the reference backend (portable C, the oracle), and the small helpers their
 * prepare functions share (type ranges, per-tensor quantization checks, shape comparison).
 *
 * To add an op: write src/backends/ref/ref_<op>.c exporting an ev_kernel, declare it here and
 * map its op type in ref_backend.c.
 */
#ifndef EV_BACKENDS_REF_H
#define EV_BACKENDS_REF_H

#include "core/backend.h"

/* The reference kernel for op `op` of `graph` by its type, or NULL (ref_backend.c). */
const ev_kernel *ev_ref_kernel_for(const ev_graph *graph, int op);

extern const ev_kernel ev_ref_conv_kernel;     /* CONV_2D and DEPTHWISE_CONV_2D               */
extern const ev_kernel ev_ref_concat_kernel;   /* CONCATENATION                                */
extern const ev_kernel ev_ref_pool_kernel;     /* AVERAGE_POOL_2D and MAX_POOL_2D              */
extern const ev_kernel ev_ref_reshape_kernel;  /* RESHAPE                                      */
extern const ev_kernel ev_ref_softmax_kernel;  /* SOFTMAX                                      */
extern const ev_kernel ev_ref_fc_kernel;       /* FULLY_CONNECTED                              */
extern const ev_kernel ev_ref_add_kernel;      /* ADD (with broadcasting)                      */
extern const ev_kernel ev_ref_quantize_kernel; /* QUANTIZE and DEQUANTIZE                      */
extern const ev_kernel ev_ref_mean_kernel;     /* MEAN                                         */
extern const ev_kernel ev_ref_logistic_kernel; /* LOGISTIC                                     */

/* MultiplyByQuantizedMultiplier as ruy computes it: the int8 CONV_2D of TensorFlow Lite's
 * runtime (optimized_integer_ops::ConvPerChannel -> cpu_backend_gemm -> ruy, whose AVX2, AVX-512
 * and NEON kernels requantize like this; tensorflow/lite/kernels/cpu_backend_gemm_ruy.h, ruy's
 * kernel_avx2_fma.cc / kernel_avx512.cc "rounding right shift", NEON sqrdmulh + srshl). Two
 * roundings, both with ties toward +infinity:
 *   r = floor(((x << left) * m0 + 2^30) / 2^31)         (64-bit product; the "doubling high mul")
 *   result = floor((r + 2^(right-1)) / 2^right)         (right > 0; r itself when right == 0)
 * TFLite's reference MultiplyByQuantizedMultiplier (ev_mul_by_quantized_multiplier) rounds both
 * ties away from zero instead, so the two differ exactly when a negative value lands on a tie:
 * -1152 / 2^8 = -4.5 gives -5 there and -4 here. Measured on MoveNet Lightning (tools/layer_diff):
 * every int8 CONV_2D output of TFLite 2.9 is reproduced bit for bit by this rule and by no other
 * tried (reference, single rounding, float32 or double scale). */
static inline int32_t ev_ref_ruy_mul_by_quantized_multiplier(int32_t x, int32_t m0, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int64_t p = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)m0;
    int64_t r = (p + (1ll << 30)) >> 31; /* arithmetic shift: floor */
    if (right > 0) r = (r + (1ll << (right - 1))) >> right;
    return (int32_t)r;
}

/* [qmin, qmax] of an 8-bit quantized type (uint8: [0, 255], int8: [-128, 127]). */
static inline void ev_ref_qrange(ev_dtype dt, int32_t *qmin, int32_t *qmax) {
    *qmin = dt == EV_DTYPE_U8 ? 0 : -128;
    *qmax = dt == EV_DTYPE_U8 ? 255 : 127;
}

static inline int ev_ref_is_q8(ev_dtype dt) { return dt == EV_DTYPE_U8 || dt == EV_DTYPE_I8; }

/* The op's tensors for a kernel taking n_in (1 or 2) inputs and one output, all present:
 * in[0..n_in) and *out; EV_ERR_FORMAT naming the counts or the missing tensor otherwise. */
static inline ev_status ev_ref_io(const ev_kernel_ctx *ctx, int n_in, const ev_tensor **in,
                                  const ev_tensor **out) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    if (op->num_inputs != n_in || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "expects %d input%s and 1 output, has %d and %d",
                          n_in, n_in == 1 ? "" : "s", op->num_inputs, op->num_outputs);
    for (int i = 0; i < n_in; i++)
        if (!(in[i] = ev_op_input(g, op, i)))
            return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input or output");
    *out = ev_op_output(g, op, 0);
    if (!*out) return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input or output");
    return EV_OK;
}

/* The operands of a float32 convolution-like op (input, weights, optional bias; one output):
 * EV_OK with them in *x, *w, *b (NULL: no bias), *y, else EV_ERR_FORMAT / EV_ERR_UNSUPPORTED
 * naming what is missing or not float32. */
static inline ev_status ev_ref_f32_conv_operands(const ev_kernel_ctx *ctx, const ev_tensor **x,
                                                 const ev_tensor **w, const ev_tensor **b,
                                                 const ev_tensor **y) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    *x = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    *b = ev_op_input(g, op, 2), *y = ev_op_output(g, op, 0);
    if (!*x || !*w || !*y || op->num_outputs != 1 || op->num_inputs < 2 || op->num_inputs > 3)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs input, weights, optional bias, one output");
    if ((*x)->dtype != EV_DTYPE_F32 || (*w)->dtype != EV_DTYPE_F32 ||
        (*y)->dtype != EV_DTYPE_F32 || (*b && (*b)->dtype != EV_DTYPE_F32))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 only (input %s, weights %s)",
                          ev_dtype_name((*x)->dtype), ev_dtype_name((*w)->dtype));
    return EV_OK;
}

/* EV_OK when `t` has exactly one positive scale; otherwise EV_ERR_UNSUPPORTED naming `role`. */
static inline ev_status ev_ref_per_tensor(const ev_kernel_ctx *ctx, const ev_tensor *t,
                                          const char *role) {
    if (t->quant.count != 1 || !(t->quant.scale[0] > 0.0f))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s '%s' (%s) needs per-tensor "
                          "quantization with a positive scale (has %d scales)", role, t->name,
                          ev_dtype_name(t->dtype), t->quant.count);
    return EV_OK;
}

/* 1 when a and b have the same rank and dimensions. */
static inline int ev_ref_same_shape(const ev_tensor *a, const ev_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

extern const ev_kernel ev_ref_binary_kernel;    /* SUB, MUL, DIV, FLOOR_DIV (broadcasting) */
extern const ev_kernel ev_ref_unary_kernel;     /* SQRT, CAST                              */
extern const ev_kernel ev_ref_resize_kernel;    /* RESIZE_BILINEAR                         */
extern const ev_kernel ev_ref_argmax_kernel;    /* ARG_MAX                                 */
extern const ev_kernel ev_ref_gather_nd_kernel; /* GATHER_ND                               */
extern const ev_kernel ev_ref_pack_kernel;      /* PACK, UNPACK                            */
extern const ev_kernel ev_ref_pad_kernel;  /* PAD (constant: zero / zero point)      */
extern const ev_kernel ev_ref_relu_kernel; /* RELU, RELU6                            */
extern const ev_kernel ev_ref_transpose_kernel;    /* TRANSPOSE                             */
extern const ev_kernel ev_ref_activation_kernel;   /* LEAKY_RELU, HARD_SIGMOID, HARD_SWISH  */
extern const ev_kernel ev_ref_minmax_kernel;       /* MINIMUM, MAXIMUM (broadcasting)       */
extern const ev_kernel ev_ref_batch_matmul_kernel; /* BATCH_MATMUL                          */
extern const ev_kernel ev_ref_resize2_kernel;      /* RESIZE (ONNX semantics)               */
extern const ev_kernel ev_ref_pad_ex_kernel;       /* PAD_EX (constant value, reflect, edge) */
extern const ev_kernel ev_ref_conv_transpose_kernel; /* CONV_TRANSPOSE (float32)            */
extern const ev_kernel ev_ref_pool_nd_kernel;      /* POOL_ND (float32, channel-first)      */
extern const ev_kernel ev_ref_conv_nd_kernel;      /* CONV_ND (float32, channel-first)      */

#endif
