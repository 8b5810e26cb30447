/*
 * transpose.c - the cpu backend's TRANSPOSE (any dtype of 1, 2, 4 or 8 bytes, rank 1..6): an
 * element copy, so bit-exact with ref_transpose.c by construction.
 *
 * The ONNX reader puts one at a model's NCHW input (NCHW -> NHWC: 0.06-0.08 ms of MobileNetV2's
 * 3 ms at 224x224 on the reference kernel, whose inner loop reads the 3 channel planes with a
 * stride of H x W per element). Here the output dims are first merged where the input is
 * contiguous across them (NHWC from NCHW becomes [N][H*W][C] from [N][C][H*W]), then:
 *  - the last merged dim contiguous in the input: one copy per run (a plain reshuffle of rows);
 *  - else a transpose of the last two merged dims, [rows][cols] <- input with strides (rs, cs),
 *    in blocks of BLOCK rows, so that each block's cols input runs of BLOCK elements and its
 *    rows x cols output stay in L1 while both sides are walked.
 * Work is split into a few tasks per thread, each an equal share of the runs or blocks (one task
 * per 64-row block made NCHW -> NHWC at 224x224 slower than the reference kernel: 784 tasks of
 * 0.1 us each), over the session's threads when there is enough of it.
 *
 * Extend: a SIMD interleave for cols = 3 / 4 (RGB / RGBA planes) is the next step if the input
 * transpose ever shows in a profile again; another dtype size is another case in COPY below.
 */
#include "backends/cpu/cpu.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 64             /* rows per block of the two-dim transpose                 */
#define PAR_MIN_BYTES 65536  /* less output than this runs on the calling thread        */
#define TASKS_PER_THREAD 2   /* tasks per thread when parallel                           */

typedef struct cpu_transpose {
    int in_t, out_t;
    int nd;                     /* merged output dims                                     */
    size_t dims[EV_MAX_DIMS];   /* merged output dims                                     */
    size_t stride[EV_MAX_DIMS]; /* input element stride of each merged output dim         */
    size_t esize, total;
    size_t blocks;              /* row blocks per outer index (two-dim case)              */
    size_t units;               /* runs, or (outer index, row block) pairs                */
    int tasks;                  /* 0 (empty), 1 (on the caller) or a few per thread       */
    /* per run */
    const unsigned char *in;
    unsigned char *out;
} cpu_transpose;

/* Output dims and their input strides, merged: output dims k-1 and k merge when the input
 * steps over dim k-1 exactly as it does over the whole of dim k; dims of size 1 drop out. */
static int plan(const ev_graph *g, int i, cpu_transpose *s) {
    const ev_op *op = &g->ops[i];
    if (op->type != EV_OP_TRANSPOSE || op->num_inputs < 1 || op->num_outputs != 1) return 0;
    const ev_tensor *in = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
    if (!in || !out || in->dtype != out->dtype || in->ndim != out->ndim || in->ndim < 1 ||
        in->ndim > 6)
        return 0;
    size_t es = ev_dtype_size(in->dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8) return 0;
    if (in->quant.count != out->quant.count ||
        (in->quant.count == 1 && (in->quant.scale[0] != out->quant.scale[0] ||
                                  in->quant.zero_point[0] != out->quant.zero_point[0])))
        return 0;
    size_t istride[EV_MAX_DIMS], st = 1;
    for (int d = in->ndim - 1; d >= 0; d--) {
        istride[d] = st;
        st *= (size_t)in->dims[d];
    }
    int seen[EV_MAX_DIMS] = {0};
    s->nd = 0;
    s->total = 1;
    for (int k = 0; k < in->ndim; k++) {
        int p = op->p.transpose.perm[k];
        if (p < 0 || p >= in->ndim || seen[p] || out->dims[k] != in->dims[p] || out->dims[k] < 0)
            return 0;
        seen[p] = 1;
        size_t n = (size_t)out->dims[k];
        s->total *= n;
        if (n == 1) continue;
        if (s->nd > 0 && s->stride[s->nd - 1] == istride[p] * n) { /* merges with the last */
            s->dims[s->nd - 1] *= n;
            s->stride[s->nd - 1] = istride[p];
        } else {
            s->dims[s->nd] = n;
            s->stride[s->nd] = istride[p];
            s->nd++;
        }
    }
    if (s->nd == 0) { /* every dim of size 1 */
        s->dims[0] = 1;
        s->stride[0] = 1;
        s->nd = 1;
    }
    s->esize = es;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    return 1;
}

int ev_cpu_transpose_takes(const ev_graph *g, int i) {
    cpu_transpose s;
    return plan(g, i, &s);
}

/* The input offset (elements) of outer index o: dims [0, n) walked as an odometer. */
static size_t outer_offset(const cpu_transpose *s, size_t o, int n) {
    size_t off = 0;
    for (int d = n - 1; d >= 0; d--) {
        off += (o % s->dims[d]) * s->stride[d];
        o /= s->dims[d];
    }
    return off;
}

#define COPY2D(T)                                                                                  \
    for (size_t c = 0; c < cols; c++) {                                                            \
        const T *src = (const T *)s->in + off + r0 * rs + c * cs;                                  \
        T *dst = (T *)s->out + o * rows * cols + r0 * cols + c;                                    \
        for (size_t r = 0; r < nr; r++) dst[r * cols] = src[r * rs];                               \
    }

/* Two-dim case: unit u = (outer index, row block). */
static void unit2d(const cpu_transpose *s, size_t u) {
    const int nd = s->nd;
    const size_t rows = s->dims[nd - 2], cols = s->dims[nd - 1];
    const size_t rs = s->stride[nd - 2], cs = s->stride[nd - 1];
    const size_t o = u / s->blocks, r0 = u % s->blocks * BLOCK;
    const size_t nr = rows - r0 < BLOCK ? rows - r0 : BLOCK;
    const size_t off = outer_offset(s, o, nd - 2);
    if (s->esize == 4 && cols == 3 && rs == 1) { /* RGB planes -> pixels: one pass */
        const uint32_t *a = (const uint32_t *)s->in + off + r0, *b = a + cs, *c = b + cs;
        uint32_t *dst = (uint32_t *)s->out + (o * rows + r0) * 3;
        for (size_t r = 0; r < nr; r++) {
            dst[3 * r] = a[r];
            dst[3 * r + 1] = b[r];
            dst[3 * r + 2] = c[r];
        }
        return;
    }
    switch (s->esize) {
    case 1: COPY2D(uint8_t) break;
    case 2: COPY2D(uint16_t) break;
    case 4: COPY2D(uint32_t) break;
    default: COPY2D(uint64_t) break;
    }
}

/* Task t of s->tasks: an equal share of the units (runs, or blocks of the two-dim case). */
static void task(void *arg, int t, int thread) {
    (void)thread;
    const cpu_transpose *s = arg;
    const int nd = s->nd;
    const size_t u0 = s->units * (size_t)t / (size_t)s->tasks;
    const size_t u1 = s->units * (size_t)(t + 1) / (size_t)s->tasks;
    if (nd == 1 || s->stride[nd - 1] == 1) { /* runs of the last dim, contiguous */
        const size_t run = s->dims[nd - 1] * s->esize;
        for (size_t o = u0; o < u1; o++)
            memcpy(s->out + o * run, s->in + outer_offset(s, o, nd - 1) * s->esize, run);
        return;
    }
    for (size_t u = u0; u < u1; u++) unit2d(s, u);
}

#undef COPY2D

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    cpu_transpose *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (!plan(ctx->graph, ctx->op_index, s)) {
        free(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "TRANSPOSE the cpu kernel does not take (element "
                          "size, rank 1-6, a permutation giving the output shape, one "
                          "quantization)");
    }
    const int nd = s->nd;
    const int threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    if (s->total == 0) {
        s->units = 0;
    } else if (nd == 1 || s->stride[nd - 1] == 1) {
        s->units = s->total / s->dims[nd - 1]; /* runs */
    } else {
        s->blocks = (s->dims[nd - 2] + BLOCK - 1) / BLOCK;
        s->units = s->total / (s->dims[nd - 2] * s->dims[nd - 1]) * s->blocks;
    }
    s->tasks = threads > 1 && s->total * s->esize >= PAR_MIN_BYTES ? threads * TASKS_PER_THREAD : 1;
    if ((size_t)s->tasks > s->units) s->tasks = (int)s->units;
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_transpose *s = state;
    s->in = data[s->in_t];
    s->out = data[s->out_t];
    if (s->tasks == 1)
        task(s, 0, 0);
    else if (s->tasks > 1)
        ev_threadpool_run(ctx->pool, task, s, s->tasks);
    return EV_OK;
}

const ev_kernel ev_cpu_transpose_kernel = {"cpu_transpose", prepare, run, free};
