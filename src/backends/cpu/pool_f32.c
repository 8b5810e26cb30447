/*
 * pool_f32.c - float32 MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over H and W (global average pooling,
 * keep_dims 0 or 1) and PAD (constant zero) on the cpu backend, NHWC.
 *
 * Pooling: one call of the session's pool microkernel (cpu.h ev_f32_pool_fn, f32_ops.inc) per
 * output pixel, over the window clipped to the input (TFLite's rule: padded taps are not
 * counted), all channels at once; output rows are split across the session's threads. A VALID
 * max pool fed by a zero PAD alone reads through it (pad_fold.c): the PAD's pads are its own,
 * and a window that overlaps them counts those taps as zeros (max_zero_padded). MEAN over
 * {1, 2} is the average pool whose window is the whole image, split across threads by channel
 * blocks. Sums run in ref's order from 0 and divide by the count, max starts from -FLT_MAX: the
 * results are bit-identical to ref (ref_pool.c, ref_mean.c).
 * PAD: the output is rows of the last padded dimension (the unpadded dimensions inside it
 * merged): each row is written once, zeros around one memcpy of the input row (ref copies
 * element by element).
 *
 * Shapes taken: what ref takes for float32 (the same geometry checks; a shape ref would refuse is
 * left to ref, so its message stays the one users see); MEAN only over exactly axes 1 and 2 of a
 * 4-D input (other reductions stay on ref); PAD with two inputs and constant int32 paddings.
 *
 * Extend: L2 pooling is one more ev_f32_pool_fn in f32_ops.inc and a kind here; a MEAN over
 * other axes maps onto the same kernel when the reduced axes are contiguous (rs, cs strides).
 */
#include "backends/cpu/cpu.h"
#include "core/quant.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Output elements x taps (pooling), elements (MEAN, PAD) below which an op stays on the calling
 * thread. */
#define PAR_MIN_WORK 65536
#define TASKS_PER_THREAD 4

static int threads_of(const ev_kernel_ctx *ctx) {
    return ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
}

/* Tasks over `units` independent units of `work` in all: 1 when small, else up to 4 a thread. */
static int split_tasks(size_t units, size_t work, int threads) {
    if (threads <= 1 || work < PAR_MIN_WORK || units < 2) return 1;
    size_t cap = (size_t)threads * TASKS_PER_THREAD;
    return (int)(units < cap ? units : cap);
}

static void range_of(size_t units, int tasks, int task, size_t *u0, size_t *u1) {
    size_t per = (units + (size_t)tasks - 1) / (size_t)tasks;
    *u0 = (size_t)task * per;
    *u1 = *u0 + per < units ? *u0 + per : units;
}

/* ---- pooling ------------------------------------------------------------------------------ */

typedef struct f32_pool {
    ev_f32_pool_fn fn;
    int in_t, out_t;
    int n, ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl;
    float lo, hi;
    int zpad; /* read through a PAD (pad_fold.c): clipped windows count their padded taps as 0 */
} f32_pool;

/* The geometry of op i as ref_pool.c computes and checks it; 0 when ref would refuse it or the
 * op is not float32. */
static int plan_pool(const ev_graph *g, int i, f32_pool *s) {
    const ev_op *op = &g->ops[i];
    const ev_pool_params *p = &op->p.pool;
    if ((op->type != EV_OP_MAX_POOL_2D && op->type != EV_OP_AVERAGE_POOL_2D) ||
        op->num_inputs != 1 || op->num_outputs != 1)
        return 0;
    const ev_tensor *in = ev_op_input(g, op, 0), *out = ev_op_output(g, op, 0);
    if (!in || !out || in->ndim != 4 || out->ndim != 4 || in->dtype != EV_DTYPE_F32 ||
        out->dtype != EV_DTYPE_F32)
        return 0;
    if (p->stride_w < 1 || p->stride_h < 1 || p->filter_w < 1 || p->filter_h < 1) return 0;
    if (!ev_float_activation_range(p->activation, &s->lo, &s->hi)) return 0;
    s->n = in->dims[0], s->ih = in->dims[1], s->iw = in->dims[2], s->c = in->dims[3];
    s->fh = p->filter_h, s->fw = p->filter_w, s->sh = p->stride_h, s->sw = p->stride_w;
    s->oh = ev_conv_out_size(p->padding, s->ih, s->fh, s->sh, 1);
    s->ow = ev_conv_out_size(p->padding, s->iw, s->fw, s->sw, 1);
    if (s->oh <= 0 || s->ow <= 0 || out->dims[0] != s->n || out->dims[1] != s->oh ||
        out->dims[2] != s->ow || out->dims[3] != s->c || s->n <= 0 || s->c <= 0)
        return 0;
    s->pt = ev_conv_pad_before(p->padding, s->ih, s->fh, s->sh, 1, s->oh);
    s->pl = ev_conv_pad_before(p->padding, s->iw, s->fw, s->sw, 1, s->ow);
    if ((s->oh - 1) * s->sh - s->pt >= s->ih || (s->ow - 1) * s->sw - s->pl >= s->iw ||
        s->fh - s->pt <= 0 || s->fw - s->pl <= 0)
        return 0;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    return 1;
}

int ev_cpu_f32_pool_takes(const ev_graph *g, int i) {
    f32_pool s;
    return plan_pool(g, i, &s);
}

static ev_status pool_prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_op *op = &ctx->graph->ops[ctx->op_index];
    const ev_cpu_f32_ops *ops = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_ops;
    f32_pool s = {0};
    if (!ops || !plan_pool(ctx->graph, ctx->op_index, &s))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 %s: geometry the reference kernel "
                          "checks", op->name);
    s.fn = op->type == EV_OP_MAX_POOL_2D ? ops->maxpool : ops->avgpool;
    if (op->type == EV_OP_MAX_POOL_2D) { /* pad_fold.c: the PAD's input, its pads as zeros */
        ev_fold_input f = {s.in_t, s.n, s.ih, s.iw, s.c, s.pt, s.pl, 0};
        EV_TRY(ev_cpu_fold_pad_input(ctx, &f));
        s.in_t = f.t, s.ih = f.h, s.iw = f.w, s.pt = f.top, s.pl = f.left, s.zpad = f.folded;
    }
    f32_pool *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

typedef struct pool_job {
    const f32_pool *s;
    const float *x;
    float *y;
    int tasks;
} pool_job;

/* A max pool window that overlaps the folded PAD's zeros: ref's scan (from -FLT_MAX, v > acc,
 * row-major) over every tap, 0 for those outside the input, so signed zeros and NaN come out as
 * PAD + pool give them. Border pixels only. */
static void max_zero_padded(const f32_pool *s, const float *img, int y0, int x0, float *o) {
    const size_t C = (size_t)s->c, rs = (size_t)s->iw * C;
    for (size_t j = 0; j < C; j++) {
        float acc = -FLT_MAX;
        for (int fy = 0; fy < s->fh; fy++)
            for (int fx = 0; fx < s->fw; fx++) {
                int y = y0 + fy, x = x0 + fx;
                float v = y >= 0 && y < s->ih && x >= 0 && x < s->iw
                              ? img[(size_t)y * rs + (size_t)x * C + j]
                              : 0.0f;
                acc = v > acc ? v : acc;
            }
        o[j] = acc < s->lo ? s->lo : acc > s->hi ? s->hi : acc;
    }
}

/* Output rows (batch, oy) of task `task`. */
static void pool_task(void *vjob, int task, int thread) {
    (void)thread;
    const pool_job *j = vjob;
    const f32_pool *s = j->s;
    size_t r0, r1;
    range_of((size_t)s->n * (size_t)s->oh, j->tasks, task, &r0, &r1);
    const size_t C = (size_t)s->c, rs = (size_t)s->iw * C;
    for (size_t r = r0; r < r1; r++) {
        int b = (int)(r / (size_t)s->oh), oy = (int)(r % (size_t)s->oh);
        int y0 = oy * s->sh - s->pt;
        int fy0 = y0 < 0 ? -y0 : 0, fy1 = s->ih - y0 < s->fh ? s->ih - y0 : s->fh;
        const float *img = j->x + (size_t)b * s->ih * rs;
        float *o = j->y + r * (size_t)s->ow * C;
        for (int ox = 0; ox < s->ow; ox++, o += C) {
            int x0 = ox * s->sw - s->pl;
            int fx0 = x0 < 0 ? -x0 : 0, fx1 = s->iw - x0 < s->fw ? s->iw - x0 : s->fw;
            if (s->zpad && (fy1 - fy0 < s->fh || fx1 - fx0 < s->fw)) {
                max_zero_padded(s, img, y0, x0, o);
                continue;
            }
            const float *t = img + (size_t)(y0 + fy0) * rs + (size_t)(x0 + fx0) * C;
            s->fn(t, fy1 - fy0, fx1 - fx0, rs, C, C, o, (float)((fy1 - fy0) * (fx1 - fx0)),
                  s->lo, s->hi);
        }
    }
}

static ev_status pool_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const f32_pool *s = state;
    pool_job j = {s, data[s->in_t], data[s->out_t], 1};
    size_t rows = (size_t)s->n * (size_t)s->oh;
    size_t work = rows * (size_t)s->ow * (size_t)s->c * (size_t)s->fh * (size_t)s->fw;
    j.tasks = split_tasks(rows, work, threads_of(ctx));
    if (j.tasks <= 1) pool_task(&j, 0, 0);
    else ev_threadpool_run(ctx->pool, pool_task, &j, j.tasks);
    return EV_OK;
}

const ev_kernel ev_cpu_f32_pool_kernel = {"f32_pool", pool_prepare, pool_run, free};

/* ---- MEAN over H, W ----------------------------------------------------------------------- */

typedef struct f32_mean {
    ev_f32_pool_fn fn;
    int in_t, out_t;
    int n, h, w, c;
    int blocks; /* channel blocks per image (tasks = n * blocks) */
} f32_mean;

/* MEAN of a float32 4-D input whose axes are exactly {1, 2} (negative axes normalised, repeats
 * allowed, as ref), output [N, 1, 1, C] (keep_dims) or [N, C]. */
static int plan_mean(const ev_graph *g, int i, f32_mean *s) {
    const ev_op *op = &g->ops[i];
    if (op->type != EV_OP_MEAN || op->num_inputs != 2 || op->num_outputs != 1) return 0;
    const ev_tensor *in = ev_op_input(g, op, 0), *ax = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!in || !ax || !out || !ax->data || ax->dtype != EV_DTYPE_I32 || ax->ndim > 1 ||
        in->ndim != 4 || in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32)
        return 0;
    const int32_t *axes = ax->data;
    int seen[4] = {0};
    size_t nax = ev_tensor_elems(ax);
    for (size_t k = 0; k < nax; k++) {
        int32_t r = axes[k] < 0 ? axes[k] + 4 : axes[k];
        if (r != 1 && r != 2) return 0;
        seen[r] = 1;
    }
    if (!seen[1] || !seen[2]) return 0;
    s->n = in->dims[0], s->h = in->dims[1], s->w = in->dims[2], s->c = in->dims[3];
    if (s->n <= 0 || s->h <= 0 || s->w <= 0 || s->c <= 0) return 0;
    if ((int64_t)s->h * s->w > (1 << 23)) return 0; /* ref refuses these */
    int keep = op->p.reduce.keep_dims;
    int ok = keep ? out->ndim == 4 && out->dims[0] == s->n && out->dims[1] == 1 &&
                        out->dims[2] == 1 && out->dims[3] == s->c
                  : out->ndim == 2 && out->dims[0] == s->n && out->dims[1] == s->c;
    if (!ok) return 0;
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    return 1;
}

int ev_cpu_f32_mean_takes(const ev_graph *g, int i) {
    f32_mean s;
    return plan_mean(g, i, &s);
}

static ev_status mean_prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_op *op = &ctx->graph->ops[ctx->op_index];
    const ev_cpu_f32_ops *ops = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_ops;
    f32_mean s = {0};
    if (!ops || !plan_mean(ctx->graph, ctx->op_index, &s))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 %s: only over axes 1 and 2 of a "
                          "4-D input", op->name);
    s.fn = ops->avgpool;
    f32_mean *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

typedef struct mean_job {
    const f32_mean *s;
    const float *x;
    float *y;
    int blocks; /* channel blocks per image */
    size_t cb;  /* channels per block */
} mean_job;

static void mean_task(void *vjob, int task, int thread) {
    (void)thread;
    const mean_job *j = vjob;
    const f32_mean *s = j->s;
    size_t b = (size_t)task / (size_t)j->blocks, c0 = (size_t)(task % j->blocks) * j->cb;
    if (c0 >= (size_t)s->c) return;
    size_t nc = (size_t)s->c - c0 < j->cb ? (size_t)s->c - c0 : j->cb;
    const size_t C = (size_t)s->c;
    s->fn(j->x + b * (size_t)s->h * s->w * C + c0, s->h, s->w, (size_t)s->w * C, C, nc,
          j->y + b * C + c0, (float)(s->h * s->w), -INFINITY, INFINITY);
}

static ev_status mean_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const f32_mean *s = state;
    mean_job j = {s, data[s->in_t], data[s->out_t], 1, (size_t)s->c};
    size_t work = (size_t)s->n * s->h * s->w * s->c;
    int threads = threads_of(ctx);
    if (threads > 1 && work >= PAR_MIN_WORK) {
        /* channel blocks of whole 64-byte lines, about TASKS_PER_THREAD per thread overall */
        size_t want = (size_t)threads * TASKS_PER_THREAD / (size_t)s->n;
        if (want < 1) want = 1;
        size_t cb = (((size_t)s->c + want - 1) / want + 15) & ~(size_t)15;
        j.cb = cb;
        j.blocks = (int)(((size_t)s->c + cb - 1) / cb);
    }
    int tasks = s->n * j.blocks;
    if (tasks <= 1 || threads <= 1 || work < PAR_MIN_WORK) {
        for (int t = 0; t < tasks; t++) mean_task(&j, t, 0);
    } else {
        ev_threadpool_run(ctx->pool, mean_task, &j, tasks);
    }
    return EV_OK;
}

const ev_kernel ev_cpu_f32_mean_kernel = {"f32_mean", mean_prepare, mean_run, free};

/* ---- PAD ---------------------------------------------------------------------------------- */

typedef struct f32_pad {
    int in_t, out_t;
    int k;                     /* the last padded dimension (-1: none, one copy)         */
    int in_dims[EV_MAX_DIMS], out_dims[EV_MAX_DIMS], before[EV_MAX_DIMS];
    size_t inner;              /* elements inside dimension k (its unpadded inner dims)  */
    size_t rows;               /* output rows: the product of out_dims[0 .. k-1]        */
    size_t total;              /* output elements                                       */
} f32_pad;

static int plan_pad(const ev_graph *g, int i, f32_pad *s) {
    const ev_op *op = &g->ops[i];
    if (op->type != EV_OP_PAD || op->num_inputs != 2 || op->num_outputs != 1) return 0;
    const ev_tensor *in = ev_op_input(g, op, 0), *pads = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!in || !pads || !out || in->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32 ||
        in->ndim < 1 || in->ndim != out->ndim || !pads->data || pads->dtype != EV_DTYPE_I32 ||
        pads->ndim != 2 || pads->dims[1] != 2 || pads->dims[0] != in->ndim)
        return 0;
    const int32_t *p = pads->data;
    s->k = -1;
    s->total = 1;
    for (int d = 0; d < in->ndim; d++) {
        if (p[2 * d] < 0 || p[2 * d + 1] < 0 ||
            (int64_t)in->dims[d] + p[2 * d] + p[2 * d + 1] != out->dims[d])
            return 0;
        s->in_dims[d] = in->dims[d];
        s->out_dims[d] = out->dims[d];
        s->before[d] = p[2 * d];
        if (in->dims[d] <= 0) return 0; /* empty inputs stay on ref */
        if (p[2 * d] || p[2 * d + 1]) s->k = d;
        s->total *= (size_t)out->dims[d];
    }
    s->inner = 1;
    for (int d = s->k + 1; d < in->ndim; d++) s->inner *= (size_t)in->dims[d];
    s->rows = 1;
    for (int d = 0; d < s->k; d++) s->rows *= (size_t)out->dims[d];
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    return 1;
}

int ev_cpu_f32_pad_takes(const ev_graph *g, int i) {
    f32_pad s;
    return plan_pad(g, i, &s);
}

static ev_status pad_prepare(const ev_kernel_ctx *ctx, void **state) {
    f32_pad s = {0};
    if (!plan_pad(ctx->graph, ctx->op_index, &s))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 PAD needs constant int32 paddings "
                          "that give the output shape");
    f32_pad *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

typedef struct pad_job {
    const f32_pad *s;
    const float *x;
    float *y;
    int tasks;
} pad_job;

/* Output rows r0..r1 of dimension k: zeros, or zeros around one input row. */
static void pad_task(void *vjob, int task, int thread) {
    (void)thread;
    const pad_job *j = vjob;
    const f32_pad *s = j->s;
    size_t r0, r1;
    range_of(s->rows, j->tasks, task, &r0, &r1);
    const size_t in_row = (size_t)s->in_dims[s->k] * s->inner;
    const size_t out_row = (size_t)s->out_dims[s->k] * s->inner;
    const size_t lead = (size_t)s->before[s->k] * s->inner, tail = out_row - lead - in_row;
    for (size_t r = r0; r < r1; r++) {
        float *o = j->y + r * out_row;
        /* the input row of output row r: each outer index inside its dimension's input */
        size_t rem = r, src = 0, mul = 1;
        int inside = 1;
        for (int d = s->k - 1; d >= 0; d--) {
            int idx = (int)(rem % (size_t)s->out_dims[d]) - s->before[d];
            rem /= (size_t)s->out_dims[d];
            if (idx < 0 || idx >= s->in_dims[d]) {
                inside = 0;
                break;
            }
            src += (size_t)idx * mul;
            mul *= (size_t)s->in_dims[d];
        }
        if (!inside) {
            memset(o, 0, out_row * sizeof(float));
            continue;
        }
        memset(o, 0, lead * sizeof(float));
        memcpy(o + lead, j->x + src * in_row, in_row * sizeof(float));
        memset(o + lead + in_row, 0, tail * sizeof(float));
    }
}

static ev_status pad_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const f32_pad *s = state;
    if (s->k < 0) {
        memcpy(data[s->out_t], data[s->in_t], s->total * sizeof(float));
        return EV_OK;
    }
    pad_job j = {s, data[s->in_t], data[s->out_t], 1};
    j.tasks = split_tasks(s->rows, s->total, threads_of(ctx));
    if (j.tasks <= 1) pad_task(&j, 0, 0);
    else ev_threadpool_run(ctx->pool, pad_task, &j, j.tasks);
    return EV_OK;
}

const ev_kernel ev_cpu_f32_pad_kernel = {"f32_pad", pad_prepare, pad_run, free};
