/*
 * ref_transpose.c - reference TRANSPOSE: output dimension k is input dimension perm[k], for any
 * dtype (an element copy; quantized tensors keep their scale and zero point, which must match).
 *
 * Used by the ONNX reader at a model's NCHW boundary (NCHW <-> NHWC) and for ONNX Transpose
 * nodes. The walk visits the output in row-major order with the input offset advanced by the
 * permuted strides, the output's last two dims as one tile per step.
 *
 * Extend: a faster backend kernel would tile the two innermost dims; nothing to add per dtype.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct ref_transpose {
    int in_t, out_t, ndim;
    int dims[EV_MAX_DIMS];      /* output dims */
    size_t stride[EV_MAX_DIMS]; /* input element stride of output dim k */
    size_t esize, total;
} ref_transpose;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *in = NULL, *out = NULL;
    char s1[64], s2[64];
    EV_TRY(ev_ref_io(ctx, 1, &in, &out));
    if (in->dtype != out->dtype || in->ndim != out->ndim || !ev_dtype_size(in->dtype))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s %s, output %s %s",
                          ev_shape_str(in, s1, 64), ev_dtype_name(in->dtype),
                          ev_shape_str(out, s2, 64), ev_dtype_name(out->dtype));
    if (in->quant.count != out->quant.count ||
        (in->quant.count == 1 && (in->quant.scale[0] != out->quant.scale[0] ||
                                  in->quant.zero_point[0] != out->quant.zero_point[0])))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input and output quantization differ");
    int seen[EV_MAX_DIMS] = {0};
    size_t istride[EV_MAX_DIMS];
    size_t st = 1;
    for (int d = in->ndim - 1; d >= 0; d--) {
        istride[d] = st;
        st *= (size_t)in->dims[d];
    }
    ref_transpose *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int k = 0; k < in->ndim; k++) {
        int p = op->p.transpose.perm[k];
        if (p < 0 || p >= in->ndim || seen[p] || out->dims[k] != in->dims[p]) {
            free(s);
            return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "perm entry %d = %d is not a permutation taking "
                              "%s to %s", k, p, ev_shape_str(in, s1, 64),
                              ev_shape_str(out, s2, 64));
        }
        seen[p] = 1;
        s->dims[k] = out->dims[k];
        s->stride[k] = istride[p];
    }
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->ndim = in->ndim;
    s->esize = ev_dtype_size(in->dtype);
    s->total = ev_tensor_elems(out);
    *state = s;
    return EV_OK;
}

/* The output's last two dims are walked as a tile (rows x cols) with the input offset stepped
 * by their strides, the dims before them by an odometer: NCHW -> NHWC copies whole W x C rows
 * per step. Typed copies for the usual element sizes. */
#define TILE(T)                                                                                   \
    for (size_t r = 0; r < rows; r++) {                                                           \
        const T *src = (const T *)in + off + r * rs;                                              \
        T *dst = (T *)out + o + r * cols;                                                         \
        for (size_t k = 0; k < cols; k++) dst[k] = src[k * cs];                                   \
    }

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_transpose *s = state;
    const uint8_t *in = data[s->in_t];
    uint8_t *out = data[s->out_t];
    if (s->total == 0) return EV_OK;
    const int nd = s->ndim;
    const size_t cols = nd >= 1 ? (size_t)s->dims[nd - 1] : 1, cs = nd >= 1 ? s->stride[nd - 1] : 0;
    const size_t rows = nd >= 2 ? (size_t)s->dims[nd - 2] : 1, rs = nd >= 2 ? s->stride[nd - 2] : 0;
    const int outer = nd - 2; /* odometer dims [0, outer) */
    int idx[EV_MAX_DIMS] = {0};
    size_t off = 0;
    for (size_t o = 0; o < s->total; o += rows * cols) {
        switch (s->esize) {
        case 1: TILE(uint8_t) break;
        case 2: TILE(uint16_t) break;
        case 4: TILE(uint32_t) break;
        case 8: TILE(uint64_t) break;
        default:
            for (size_t r = 0; r < rows; r++)
                for (size_t k = 0; k < cols; k++)
                    memcpy(out + (o + r * cols + k) * s->esize,
                           in + (off + r * rs + k * cs) * s->esize, s->esize);
            break;
        }
        for (int d = outer - 1; d >= 0; d--) {
            off += s->stride[d];
            if (++idx[d] < s->dims[d]) break;
            off -= s->stride[d] * (size_t)s->dims[d];
            idx[d] = 0;
        }
    }
    return EV_OK;
}

#undef TILE

const ev_kernel ev_ref_transpose_kernel = {"ref_transpose", prepare, run, free};
