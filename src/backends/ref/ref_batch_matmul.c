/*
 * ref_batch_matmul.c - reference BATCH_MATMUL (float32): out[..., m, n] = sum over k of
 * x[..., m, k] * y[..., k, n] in k order, float accumulation from 0. adj_x / adj_y read x / y
 * with their last two dims swapped. Both inputs have rank >= 2; their batch dims (all but the
 * last two) broadcast as NumPy's do, right-aligned, and the output has the broadcast batch dims.
 *
 * Extend: quantized matmul would reuse the geometry with int32 accumulation (ref_fc.c's).
 */
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>

typedef struct ref_bmm {
    int x_t, y_t, out_t;
    int m, n, k, adj_x, adj_y;
    int nb;                                      /* batch rank of the output */
    int bdims[EV_MAX_DIMS];
    size_t xs[EV_MAX_DIMS], ys[EV_MAX_DIMS];     /* batch strides in matrices, 0: broadcast */
    size_t batches;
} ref_bmm;

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    const ev_tensor *io[2] = {0}, *out = NULL;
    char s1[64], s2[64], s3[64];
    EV_TRY(ev_ref_io(ctx, 2, io, &out));
    const ev_tensor *x = io[0], *y = io[1];
    if (x->dtype != EV_DTYPE_F32 || y->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32)
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "types %s x %s -> %s (float32 only)",
                          ev_dtype_name(x->dtype), ev_dtype_name(y->dtype),
                          ev_dtype_name(out->dtype));
    ref_bmm s = {0};
    s.adj_x = op->p.bmm.adj_x;
    s.adj_y = op->p.bmm.adj_y;
    int bad = x->ndim < 2 || y->ndim < 2 || out->ndim < 2;
    if (!bad) {
        int xr = x->dims[x->ndim - 2], xc = x->dims[x->ndim - 1];
        int yr = y->dims[y->ndim - 2], yc = y->dims[y->ndim - 1];
        s.m = s.adj_x ? xc : xr;
        s.k = s.adj_x ? xr : xc;
        int yk = s.adj_y ? yc : yr;
        s.n = s.adj_y ? yr : yc;
        s.nb = out->ndim - 2;
        bad = yk != s.k || out->dims[out->ndim - 2] != s.m || out->dims[out->ndim - 1] != s.n ||
              x->ndim - 2 > s.nb || y->ndim - 2 > s.nb;
        size_t sx = 1, sy = 1;
        s.batches = 1;
        for (int d = s.nb - 1; !bad && d >= 0; d--) {
            int dx = d - (s.nb - (x->ndim - 2)), dy = d - (s.nb - (y->ndim - 2));
            int nx = dx >= 0 ? x->dims[dx] : 1, ny = dy >= 0 ? y->dims[dy] : 1;
            int no = out->dims[d];
            if ((nx != no && nx != 1) || (ny != no && ny != 1) || (nx == 1 ? ny : nx) != no) bad = 1;
            s.bdims[d] = no;
            s.xs[d] = nx == 1 ? 0 : sx;
            s.ys[d] = ny == 1 ? 0 : sy;
            sx *= (size_t)nx;
            sy *= (size_t)ny;
            s.batches *= (size_t)no;
        }
    }
    if (bad)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "%s x %s (adj %d, %d) does not give %s",
                          ev_shape_str(x, s1, 64), ev_shape_str(y, s2, 64), s.adj_x, s.adj_y,
                          ev_shape_str(out, s3, 64));
    s.x_t = op->inputs[0];
    s.y_t = op->inputs[1];
    s.out_t = op->outputs[0];
    ref_bmm *st = malloc(sizeof *st);
    if (!st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    *st = s;
    *state = st;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ref_bmm *s = state;
    const float *x = data[s->x_t], *y = data[s->y_t];
    float *o = data[s->out_t];
    const size_t xm = (size_t)s->m * (size_t)s->k, ym = (size_t)s->k * (size_t)s->n;
    int idx[EV_MAX_DIMS] = {0};
    size_t xo = 0, yo = 0;
    for (size_t b = 0; b < s->batches; b++) {
        const float *xb = x + xo * xm, *yb = y + yo * ym;
        float *ob = o + b * (size_t)s->m * (size_t)s->n;
        for (int i = 0; i < s->m; i++)
            for (int j = 0; j < s->n; j++) {
                float acc = 0.0f;
                for (int kk = 0; kk < s->k; kk++) {
                    float a = s->adj_x ? xb[(size_t)kk * s->m + i] : xb[(size_t)i * s->k + kk];
                    float c = s->adj_y ? yb[(size_t)j * s->k + kk] : yb[(size_t)kk * s->n + j];
                    acc += a * c;
                }
                ob[(size_t)i * s->n + j] = acc;
            }
        for (int d = s->nb - 1; d >= 0; d--) {
            xo += s->xs[d];
            yo += s->ys[d];
            if (++idx[d] < s->bdims[d]) break;
            xo -= s->xs[d] * (size_t)s->bdims[d];
            yo -= s->ys[d] * (size_t)s->bdims[d];
            idx[d] = 0;
        }
    }
    return EV_OK;
}

const ev_kernel ev_ref_batch_matmul_kernel = {"ref_batch_matmul", prepare, run, free};
