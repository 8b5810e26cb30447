/*
 * eltwise_f32.c - float32 ADD, SUB, MUL, DIV (with their fused activation), RELU, RELU6 and
 * LOGISTIC on the cpu backend: the session's f32 microkernel set (cpu.h ev_cpu_f32_ops, chosen
 * per ISA in config.c) over contiguous ranges, split across the session's threads when the
 * tensor is large enough to pay for waking them.
 *
 * Shapes taken (everything else stays on the reference kernels, whose broadcast walk is general):
 *   binary ops: the output is exactly the broadcast shape (as ref checks), and each input is
 *     - the whole output (same element count): a vector, or
 *     - one element: a scalar (the VS / SV forms), or
 *     - a row: its dimensions, leading 1s dropped, are the output's trailing dimensions (a
 *       per-channel [C] or [1, 1, 1, C] operand, or [W, C]); the other input must then be whole,
 *       and the op runs as vector op vector once per row of the output.
 *   RELU / RELU6 / LOGISTIC: float32 input and output of the same element count.
 * Arithmetic is ref's (one rounding per op, then VMIN(hi, VMAX(lo, v))), so results are
 * bit-identical to ref except LOGISTIC's vector expf (f32_exp.h, within 2 ulp).
 *
 * Extend: another binary op is one ev_f32_kind, its kernels in f32_ops.inc and a case in
 * bin_kind(); another unary op a case in unary_kind(). Another broadcast form is a bform and its
 * loop in bin_task().
 */
#include "backends/cpu/cpu.h"
#include "backends/ref/broadcast.h"
#include "core/quant.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <stdlib.h>

/* Elements below which an op stays on the calling thread (waking workers costs microseconds). */
#define PAR_MIN_ELEMS 32768
#define PAR_MIN_ELEMS_SIGMOID 4096
#define TASKS_PER_THREAD 4

/* Tasks for n elements on `threads` threads: 1 below `min`, else up to 4 per thread. */
static int split_tasks(size_t n, int threads, size_t min) {
    if (threads <= 1 || n < min) return 1;
    size_t t = n / (min / 2);
    size_t cap = (size_t)threads * TASKS_PER_THREAD;
    return (int)(t < cap ? (t < 2 ? 2 : t) : cap);
}

static int threads_of(const ev_kernel_ctx *ctx) {
    return ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
}

/* ---- binary ------------------------------------------------------------------------------- */

typedef enum { B_VV, B_VS, B_SV, B_ROW_A, B_ROW_B } bform; /* ROW_A: a repeats every row */

typedef struct bin_plan {
    ev_f32_kind kind;
    bform form;
    size_t n, inner; /* output elements; row length for the ROW forms */
    float lo, hi;
} bin_plan;

static int bin_kind(ev_op_type t, ev_f32_kind *k) {
    switch (t) {
    case EV_OP_ADD: *k = EV_F32_ADD; return 1;
    case EV_OP_SUB: *k = EV_F32_SUB; return 1;
    case EV_OP_MUL: *k = EV_F32_MUL; return 1;
    case EV_OP_DIV: *k = EV_F32_DIV; return 1;
    default: return 0;
    }
}

/* t's dimensions without its leading 1s are out's trailing dimensions. */
static int is_row_of(const ev_tensor *t, const ev_tensor *out) {
    int s = 0;
    while (s < t->ndim && t->dims[s] == 1) s++;
    int m = t->ndim - s;
    if (m > out->ndim) return 0;
    for (int i = 0; i < m; i++)
        if (t->dims[s + i] != out->dims[out->ndim - m + i]) return 0;
    return 1;
}

static int plan_binary(const ev_graph *g, int i, bin_plan *p) {
    const ev_op *op = &g->ops[i];
    if (!bin_kind(op->type, &p->kind) || op->num_inputs != 2 || op->num_outputs != 1) return 0;
    const ev_tensor *a = ev_op_input(g, op, 0), *b = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!a || !b || !out || a->dtype != EV_DTYPE_F32 || b->dtype != EV_DTYPE_F32 ||
        out->dtype != EV_DTYPE_F32)
        return 0;
    ev_bcast bc;
    if (!ev_bcast_init(&bc, a, b, out)) return 0;
    ev_activation act = op->type == EV_OP_ADD ? op->p.add.activation : op->p.arith.activation;
    if (!ev_float_activation_range(act, &p->lo, &p->hi)) return 0;
    size_t n = ev_tensor_elems(out), na = ev_tensor_elems(a), nb = ev_tensor_elems(b);
    if (n == 0) return 0;
    p->n = n;
    p->inner = n;
    if (na == n && nb == n) p->form = B_VV;
    else if (na == n && nb == 1) p->form = B_VS;
    else if (nb == n && na == 1) p->form = B_SV;
    else if (na == n && is_row_of(b, out)) p->form = B_ROW_B, p->inner = nb;
    else if (nb == n && is_row_of(a, out)) p->form = B_ROW_A, p->inner = na;
    else return 0;
    return 1;
}

int ev_cpu_f32_binary_takes(const ev_graph *g, int i) {
    bin_plan p;
    return plan_binary(g, i, &p);
}

typedef struct f32_bin {
    bin_plan p;
    ev_f32_vbin_fn vv, vs, sv;
    int a_t, b_t, out_t;
} f32_bin;

static ev_status bin_prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_cpu_f32_ops *ops = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_ops;
    f32_bin s = {0};
    if (!ops || !plan_binary(g, ctx->op_index, &s.p))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float32 %s: inputs neither equal, scalar "
                          "nor a row of the output (the reference kernel takes them)", op->name);
    s.vv = ops->bin[s.p.kind][EV_F32_VV];
    s.vs = ops->bin[s.p.kind][EV_F32_VS];
    s.sv = ops->bin[s.p.kind][EV_F32_SV];
    s.a_t = op->inputs[0];
    s.b_t = op->inputs[1];
    s.out_t = op->outputs[0];
    f32_bin *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

typedef struct bin_job {
    const f32_bin *s;
    const float *a, *b;
    float *y;
    int tasks;
} bin_job;

/* Task `task` of `tasks`: an even share of the elements (VV, VS, SV) or of the rows. */
static void bin_task(void *vjob, int task, int thread) {
    (void)thread;
    const bin_job *j = vjob;
    const f32_bin *s = j->s;
    const bin_plan *p = &s->p;
    int rows_form = p->form == B_ROW_A || p->form == B_ROW_B;
    size_t units = rows_form ? p->n / p->inner : p->n;
    size_t per = (units + (size_t)j->tasks - 1) / (size_t)j->tasks;
    if (!rows_form) per = (per + 15) & ~(size_t)15; /* whole cache lines per task */
    size_t u0 = (size_t)task * per, u1 = u0 + per < units ? u0 + per : units;
    if (u0 >= u1) return;
    switch (p->form) {
    case B_VV: s->vv(u1 - u0, j->a + u0, j->b + u0, j->y + u0, p->lo, p->hi); break;
    case B_VS: s->vs(u1 - u0, j->a + u0, j->b, j->y + u0, p->lo, p->hi); break;
    case B_SV: s->sv(u1 - u0, j->a, j->b + u0, j->y + u0, p->lo, p->hi); break;
    case B_ROW_A:
        for (size_t r = u0; r < u1; r++)
            s->vv(p->inner, j->a, j->b + r * p->inner, j->y + r * p->inner, p->lo, p->hi);
        break;
    case B_ROW_B:
        for (size_t r = u0; r < u1; r++)
            s->vv(p->inner, j->a + r * p->inner, j->b, j->y + r * p->inner, p->lo, p->hi);
        break;
    }
}

static ev_status bin_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const f32_bin *s = state;
    bin_job j = {s, data[s->a_t], data[s->b_t], data[s->out_t], 1};
    int rows_form = s->p.form == B_ROW_A || s->p.form == B_ROW_B;
    j.tasks = split_tasks(s->p.n, threads_of(ctx), PAR_MIN_ELEMS);
    if (rows_form && (size_t)j.tasks > s->p.n / s->p.inner) j.tasks = (int)(s->p.n / s->p.inner);
    if (j.tasks <= 1) {
        j.tasks = 1;
        bin_task(&j, 0, 0);
    } else {
        ev_threadpool_run(ctx->pool, bin_task, &j, j.tasks);
    }
    return EV_OK;
}

const ev_kernel ev_cpu_f32_binary_kernel = {"f32_binary", bin_prepare, bin_run, free};

/* ---- unary -------------------------------------------------------------------------------- */

static int unary_kind(ev_op_type t, ev_f32_kind *k, ev_activation *act) {
    switch (t) {
    case EV_OP_RELU: *k = EV_F32_CLAMP, *act = EV_ACT_RELU; return 1;
    case EV_OP_RELU6: *k = EV_F32_CLAMP, *act = EV_ACT_RELU6; return 1;
    case EV_OP_LOGISTIC: *k = EV_F32_SIGMOID, *act = EV_ACT_NONE; return 1;
    default: return 0;
    }
}

int ev_cpu_f32_unary_takes(const ev_graph *g, int i) {
    const ev_op *op = &g->ops[i];
    ev_f32_kind k;
    ev_activation act;
    if (!unary_kind(op->type, &k, &act) || op->num_inputs != 1 || op->num_outputs != 1) return 0;
    const ev_tensor *x = ev_op_input(g, op, 0), *y = ev_op_output(g, op, 0);
    return x && y && x->dtype == EV_DTYPE_F32 && y->dtype == EV_DTYPE_F32 &&
           ev_tensor_elems(x) == ev_tensor_elems(y) && ev_tensor_elems(x) > 0;
}

typedef struct f32_unary {
    ev_f32_vunary_fn fn;
    size_t n, par_min;
    float lo, hi;
    int in_t, out_t;
} f32_unary;

static ev_status unary_prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_cpu_f32_ops *ops = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_ops;
    ev_f32_kind k;
    ev_activation act;
    if (!ops || !ev_cpu_f32_unary_takes(g, ctx->op_index) || !unary_kind(op->type, &k, &act))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "%s needs float32 input and output of the "
                          "same size", op->name);
    f32_unary s = {0};
    s.fn = k == EV_F32_SIGMOID ? ops->sigmoid : ops->clamp;
    s.par_min = k == EV_F32_SIGMOID ? PAR_MIN_ELEMS_SIGMOID : PAR_MIN_ELEMS;
    ev_float_activation_range(act, &s.lo, &s.hi);
    s.n = ev_tensor_elems(ev_op_input(g, op, 0));
    s.in_t = op->inputs[0];
    s.out_t = op->outputs[0];
    f32_unary *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

typedef struct unary_job {
    const f32_unary *s;
    const float *x;
    float *y;
    int tasks;
} unary_job;

static void unary_task(void *vjob, int task, int thread) {
    (void)thread;
    const unary_job *j = vjob;
    const f32_unary *s = j->s;
    size_t per = ((s->n + (size_t)j->tasks - 1) / (size_t)j->tasks + 15) & ~(size_t)15;
    size_t i0 = (size_t)task * per, i1 = i0 + per < s->n ? i0 + per : s->n;
    if (i0 < i1) s->fn(i1 - i0, j->x + i0, j->y + i0, s->lo, s->hi);
}

static ev_status unary_run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    const f32_unary *s = state;
    unary_job j = {s, data[s->in_t], data[s->out_t], 1};
    j.tasks = split_tasks(s->n, threads_of(ctx), s->par_min);
    if (j.tasks <= 1) {
        j.tasks = 1;
        unary_task(&j, 0, 0);
    } else {
        ev_threadpool_run(ctx->pool, unary_task, &j, j.tasks);
    }
    return EV_OK;
}

const ev_kernel ev_cpu_f32_unary_kernel = {"f32_unary", unary_prepare, unary_run, free};
