/*
 * conv_f32_first.c - the cpu backend's direct float32 first-layer CONV_2D: an input of 1-4
 * channels (EV_F32_FIRST_MAX_CIN; RGB images), kernel height up to EV_F32_FIRST_MAX_KH,
 * dilation 1, constant weights. No im2col: per output row the kh input rows it reads are held,
 * zero-padded, in per-thread row buffers, and the session's row kernel (conv_f32_first.h, a line
 * of config.c's k_first_f32 table) computes the row's pixels for every output channel.
 *
 * Row buffers: each thread owns kh of them; input row iy of image b lives in buffer iy % kh
 * (kh consecutive rows never share one), tagged with (b, iy), and is copied in only when its
 * buffer holds another row: a thread going down a band of output rows copies each input row
 * once. Each buffer is pad_left pixels of zeros, the input row, then zeros to the width the row
 * kernel may read (EV_F32_FIRST_SLACK_PX pixels past the row); the zeros are written once at
 * prepare and never overwritten (a copy writes only the row's own span). Rows above or below
 * the image read one shared row of zeros.
 *
 * Parallelism: tasks are bands of consecutive output rows (a whole image's rows in one band per
 * image with one thread; with more, bands until there are TASKS_PER_THREAD per thread), so a
 * thread reuses the input rows shared by neighbouring output rows (kh - stride of them).
 *
 * Arithmetic: the same k order (ky, kx, c) as the GEMM path and the reference, with FMA; the op
 * x backend test holds it to the float GEMM's bounds. Nothing is allocated per run.
 *
 * Extend: a row kernel for another ISA is a file and a line in config.c (ISAs without one run
 * the im2col + GEMM path: cpu_backend.c routes here only when the session has a line).
 */
#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <stdlib.h>
#include <string.h>

#define TASKS_PER_THREAD 8 /* bands per thread (threads > 1)                             */
#define TAG_STRIDE 16      /* ints between threads' buffer tags (>= MAX_KH, a cache line) */

typedef struct cpu_first {
    ev_conv_desc d;
    const ev_cpu_f32_first_entry *k;
    float *packed;
    int K, kwc, ps;
    size_t row_floats; /* floats per padded row buffer                                     */
    int threads, bands, band_h;
    float *bufs;       /* [threads][k_h][row_floats]                                        */
    float *zero;       /* row_floats zeros: rows above and below the image                 */
    int *tag;          /* [threads * TAG_STRIDE]: 1 + b * in_h + iy held per buffer, 0: none */
    /* per run */
    const float *in;
    float *out;
} cpu_first;

int ev_cpu_f32_first_takes(const ev_graph *g, int i) {
    const ev_op *op = &g->ops[i];
    if (op->type != EV_OP_CONV_2D || op->num_inputs < 2) return 0;
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    const ev_tensor *b = op->num_inputs > 2 ? ev_op_input(g, op, 2) : NULL;
    return in && in->dtype == EV_DTYPE_F32 && in->ndim == 4 && in->dims[3] >= 1 &&
           in->dims[3] <= EV_F32_FIRST_MAX_CIN && w && w->dtype == EV_DTYPE_F32 && w->data &&
           w->ndim == 4 && w->dims[1] >= 1 && w->dims[1] <= EV_F32_FIRST_MAX_KH &&
           (!b || (b->dtype == EV_DTYPE_F32 && b->data)) && op->p.conv.dilation_h == 1 &&
           op->p.conv.dilation_w == 1;
}

static void release(void *state) {
    cpu_first *s = state;
    if (!s) return;
    ev_conv_desc_release(&s->d);
    free(s->packed);
    free(s->bufs);
    free(s->zero);
    free(s->tag);
    free(s);
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    cpu_first *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_conv_desc_init(ctx, &s->d);
    if (st == EV_OK) st = ev_cpu_conv_fold_pad(ctx, &s->d); /* pad_fold.c */
    if (st != EV_OK) {
        release(s);
        return st;
    }
    const ev_conv_desc *d = &s->d;
    s->k = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_first;
    if (!s->k || d->depthwise || d->dtype != EV_DTYPE_F32 || d->in_c > EV_F32_FIRST_MAX_CIN ||
        d->k_h > EV_F32_FIRST_MAX_KH || d->dil_h != 1 || d->dil_w != 1 || d->out_h < 1 ||
        d->out_w < 1 || d->out_c < 1) {
        st = EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "first-layer float conv given %s%s input of %d "
                        "channels, kernel %dx%d, dilation %dx%d (line %s)",
                        d->depthwise ? "a depthwise op's " : "", ev_dtype_name(d->dtype), d->in_c,
                        d->k_h, d->k_w, d->dil_h, d->dil_w, s->k ? s->k->name : "none");
        release(s);
        return st;
    }
    s->kwc = d->k_w * d->in_c;
    s->K = d->k_h * s->kwc;
    s->ps = d->stride_w * d->in_c;
    size_t need = (size_t)(d->out_w + EV_F32_FIRST_SLACK_PX) * (size_t)s->ps + (size_t)s->kwc;
    size_t have = (size_t)(d->pad_left + d->in_w) * (size_t)d->in_c;
    s->row_floats = ((need > have ? need : have) + 15) / 16 * 16;
    s->threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    int bands = 1;
    if (s->threads > 1) {
        long want = ((long)TASKS_PER_THREAD * s->threads + d->batch - 1) / d->batch;
        bands = want < d->out_h ? (int)want : d->out_h;
    }
    s->band_h = (d->out_h + bands - 1) / bands;
    s->bands = (d->out_h + s->band_h - 1) / s->band_h;
    const ev_tensor *w = &ctx->graph->tensors[d->w_t];
    const float *bias = d->b_t >= 0 ? ctx->graph->tensors[d->b_t].data : NULL;
    s->packed = malloc(ev_f32_gemm_packed_size(d->out_c, s->K, s->k->nb));
    s->bufs = calloc((size_t)s->threads * (size_t)d->k_h * s->row_floats, sizeof(float));
    s->zero = calloc(s->row_floats, sizeof(float));
    s->tag = calloc((size_t)s->threads * TAG_STRIDE, sizeof(int));
    if (!s->packed || !s->bufs || !s->zero || !s->tag) {
        st = EV_OP_FAIL(ctx, EV_ERR_NO_MEMORY, "out of memory for the packed weights (%d x %d) "
                        "and row buffers", d->out_c, s->K);
        release(s);
        return st;
    }
    ev_f32_gemm_pack(w->data, bias, d->out_c, s->K, s->k->nb, s->packed);
    *state = s;
    return EV_OK;
}

static void task(void *arg, int t, int thread) {
    cpu_first *s = arg;
    const ev_conv_desc *d = &s->d;
    const int b = t / s->bands, oy0 = (t % s->bands) * s->band_h;
    const int oy1 = oy0 + s->band_h < d->out_h ? oy0 + s->band_h : d->out_h;
    const size_t in_row = (size_t)d->in_w * (size_t)d->in_c;
    float *bufs = s->bufs + (size_t)thread * (size_t)d->k_h * s->row_floats;
    int *tag = s->tag + (size_t)thread * TAG_STRIDE;
    ev_f32_first_row r;
    r.k_h = d->k_h;
    r.kwc = s->kwc;
    r.ps = s->ps;
    r.n_px = d->out_w;
    r.N = d->out_c;
    r.min = d->f_min;
    r.max = d->f_max;
    for (int oy = oy0; oy < oy1; oy++) {
        for (int ky = 0; ky < d->k_h; ky++) {
            const int iy = oy * d->stride_h - d->pad_top + ky;
            if (iy < 0 || iy >= d->in_h) {
                r.rows[ky] = s->zero;
                continue;
            }
            const int slot = iy % d->k_h, want = 1 + b * d->in_h + iy;
            float *buf = bufs + (size_t)slot * s->row_floats;
            if (tag[slot] != want) {
                memcpy(buf + (size_t)d->pad_left * d->in_c,
                       s->in + ((size_t)b * d->in_h + (size_t)iy) * in_row, in_row * sizeof(float));
                tag[slot] = want;
            }
            r.rows[ky] = buf;
        }
        s->k->row(&r, s->packed,
                  s->out + (((size_t)b * d->out_h + (size_t)oy) * d->out_w) * (size_t)d->out_c);
    }
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_first *s = state;
    s->in = data[s->d.in_t];
    s->out = data[s->d.out_t];
    memset(s->tag, 0, (size_t)s->threads * TAG_STRIDE * sizeof(int));
    ev_threadpool_run(ctx->pool, task, s, s->d.batch * s->bands);
    return EV_OK;
}

const ev_kernel ev_cpu_conv_f32_first_kernel = {"cpu_conv_f32_first", prepare, run, release};
