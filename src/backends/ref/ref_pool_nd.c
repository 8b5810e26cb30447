/*
 * ref_pool_nd.c - reference POOL_ND: max or average pooling over the trailing k = 1..4 dims of a
 * channel-first float32 tensor [N, C, d1..dk] (max: uint8 / int8 too, raw values, quantization
 * kept): ONNX MaxPool / AveragePool in their general form (dilations, explicit begin / end pads,
 * 3-D windows), output [N, C, o1..ok] as the tensor gives it (ceil_mode is in those sizes).
 *
 * For output index o along spatial dim i the taps are o * stride - pad_begin + j * dilation,
 * j < kernel. Max: the largest tap inside the input (-inf when none is). Average: the sum of the
 * taps inside the input, in double, divided by their count, or with count_include_pad by the
 * count of taps inside [-pad_begin, in + pad_end) (ONNX / PyTorch: padding counts, the part a
 * ceil_mode window reaches beyond the padding does not). A window with no tap inside the input
 * (dilations can step over it) gives -inf (uint8 0, int8 -128), index its (n, c) block's start,
 * and an average over no counted tap is NaN.
 *
 * A max pool may have a second output, int64 [N, C, o1..ok]: the position of each maximum in
 * the whole input, (n * C + c) * (d1 * .. * dk) + its spatial position, row-major or with
 * indices_col_major column-major (ONNX MaxPool's Indices, storage_order 0 / 1; the first tap in
 * window order on ties).
 *
 * Extend: Lp pooling would be one more reduction beside max and average.
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct ref_pool_nd {
    int in_t, out_t, idx_t, ns;
    ev_dtype dt;
    size_t nc;                     /* N * C                                                */
    int in[EV_POOL_ND_MAX], out[EV_POOL_ND_MAX];
    ev_pool_nd_params p;
} ref_pool_nd;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_pool_nd_params *p = &op->p.pool_nd;
    const ev_tensor *x = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
    const ev_tensor *idx = op->num_outputs == 2 ? ev_op_output(g, op, 1) : NULL;
    char s1[64], s2[64];
    if (op->num_inputs != 1 || !x || !out || op->num_outputs < 1 || op->num_outputs > 2 ||
        (op->num_outputs == 2 && !idx))
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "needs one input, an output and optional indices");
    if (idx && (!p->is_max || idx->dtype != EV_DTYPE_I64 || !ev_ref_same_shape(idx, out)))
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "indices %s %s for output %s (int64 of a max pool)",
                          ev_shape_str(idx, s1, 64), ev_dtype_name(idx->dtype),
                          ev_shape_str(out, s2, 64));
    int ns = x->ndim - 2;
    int ok = ns >= 1 && ns <= EV_POOL_ND_MAX && out->ndim == x->ndim &&
             x->dims[0] == out->dims[0] && x->dims[1] == out->dims[1];
    for (int i = 0; ok && i < ns; i++)
        ok = p->kernel[i] >= 1 && p->stride[i] >= 1 && p->dilation[i] >= 1 &&
             p->pad_begin[i] >= 0 && p->pad_end[i] >= 0;
    if (!ok)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s, output %s (channel-first, 1 to %d "
                          "spatial dims) or a window parameter below its minimum",
                          ev_shape_str(x, s1, 64), ev_shape_str(out, s2, 64), EV_POOL_ND_MAX);
    int q8 = p->is_max && ev_ref_is_q8(x->dtype);
    if ((x->dtype != EV_DTYPE_F32 && !q8) || out->dtype != x->dtype)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s -> %s (float32; uint8 / int8 max)",
                          ev_dtype_name(x->dtype), ev_dtype_name(out->dtype));
    if (q8 && (x->quant.count != out->quant.count ||
               (x->quant.count && (x->quant.scale[0] != out->quant.scale[0] ||
                                   x->quant.zero_point[0] != out->quant.zero_point[0]))))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "input and output quantization differ");
    ref_pool_nd *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->idx_t = idx ? op->outputs[1] : -1;
    s->dt = x->dtype;
    s->ns = ns;
    s->nc = (size_t)x->dims[0] * (size_t)x->dims[1];
    for (int i = 0; i < ns; i++) s->in[i] = x->dims[2 + i], s->out[i] = out->dims[2 + i];
    s->p = *p;
    *state = s;
    return EV_OK;
}

static float elem(ev_dtype dt, const void *p, size_t i) {
    if (dt == EV_DTYPE_U8) return ((const uint8_t *)p)[i];
    if (dt == EV_DTYPE_I8) return ((const int8_t *)p)[i];
    return ((const float *)p)[i];
}

/* The first tap j >= 0 with j * d >= v, and the last j < k with j * d <= v (d >= 1). */
static int64_t first_tap(int64_t v, int64_t d) { return v <= 0 ? 0 : (v + d - 1) / d; }
static int64_t last_tap(int64_t v, int64_t d, int k) {
    if (v < 0) return -1;
    int64_t j = v / d;
    return j < k - 1 ? j : k - 1;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_pool_nd *s = state;
    const ev_pool_nd_params *p = &s->p;
    const void *x = data[s->in_t];
    void *y = data[s->out_t];
    int64_t *yi = s->idx_t >= 0 ? data[s->idx_t] : NULL;
    size_t in_sz = 1, out_sz = 1;
    for (int i = 0; i < s->ns; i++) in_sz *= (size_t)s->in[i], out_sz *= (size_t)s->out[i];
    for (size_t b = 0; b < s->nc; b++) {
        const size_t xb = b * in_sz;
        for (size_t o = 0; o < out_sz; o++) {
            int oi[EV_POOL_ND_MAX], lo[EV_POOL_ND_MAX], hi[EV_POOL_ND_MAX], ki[EV_POOL_ND_MAX];
            size_t r = o;
            for (int i = s->ns - 1; i >= 0; i--) {
                oi[i] = (int)(r % (size_t)s->out[i]);
                r /= (size_t)s->out[i];
            }
            /* per dim, the taps [lo, hi] inside the input, and the count inside the padded
             * extent: the loop below visits only real taps (its work is bounded by the input,
             * whatever the kernel size), in window order */
            int64_t n_in = 1;
            double n_pad = 1; /* up to the kernel volume, which may pass 2^63 */
            for (int i = 0; i < s->ns; i++) {
                int64_t base = (int64_t)oi[i] * p->stride[i] - p->pad_begin[i], d = p->dilation[i];
                int64_t a = first_tap(0 - base, d);
                int64_t e = last_tap(s->in[i] - 1 - base, d, p->kernel[i]);
                int64_t pa = first_tap(-p->pad_begin[i] - base, d);
                int64_t pe = last_tap(s->in[i] + p->pad_end[i] - 1 - base, d, p->kernel[i]);
                lo[i] = (int)a, hi[i] = (int)e, ki[i] = (int)a;
                n_in *= e >= a ? e - a + 1 : 0;
                n_pad *= pe >= pa ? (double)(pe - pa + 1) : 0.0;
            }
            double acc = 0;
            float mx = -INFINITY;
            size_t arg = 0;
            for (int64_t t = 0; t < n_in; t++) { /* every real tap, in window order */
                size_t idx = 0, cm = 0, step = 1; /* row-major / column-major position */
                for (int i = 0; i < s->ns; i++) {
                    size_t v = (size_t)((int64_t)oi[i] * p->stride[i] - p->pad_begin[i] +
                                        (int64_t)ki[i] * p->dilation[i]);
                    idx = idx * (size_t)s->in[i] + v;
                    cm += v * step;
                    step *= (size_t)s->in[i];
                }
                float v = elem(s->dt, x, xb + idx); /* 8-bit values are exact */
                if (!isnan(mx) && (v > mx || isnan(v) || t == 0))
                    mx = v, arg = p->indices_col_major ? cm : idx;
                acc += v;
                for (int i = s->ns - 1; i >= 0 && ++ki[i] > hi[i]; i--) ki[i] = lo[i];
            }
            double cnt = p->count_include_pad ? n_pad : (double)n_in;
            float res = p->is_max ? mx : cnt > 0 ? (float)(acc / cnt) : NAN;
            if (s->dt == EV_DTYPE_U8) /* a max of 8-bit values is one of them */
                ((uint8_t *)y)[b * out_sz + o] = (uint8_t)(n_in ? res : 0);
            else if (s->dt == EV_DTYPE_I8)
                ((int8_t *)y)[b * out_sz + o] = (int8_t)(n_in ? res : -128);
            else
                ((float *)y)[b * out_sz + o] = res;
            if (yi) yi[b * out_sz + o] = (int64_t)(b * in_sz + arg);
        }
    }
    return EV_OK;
}

static void release(void *state) { free(state); }

const ev_kernel ev_ref_pool_nd_kernel = {"ref_pool_nd", prepare, run, release};
