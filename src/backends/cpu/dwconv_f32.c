/*
 * dwconv_f32.c - the cpu backend's float32 DEPTHWISE_CONV_2D (depth multiplier 1; other
 * multipliers are refused in supports() and run on the reference kernel): weights and biases
 * packed once at prepare for the row kernel's cr (dwconv_f32.h), then output rows of every image
 * in parallel, each computed by the session's row kernel for the op's kernel height (config.c's
 * k_dw_f32, ev_cpu_config_f32_dw). A task is a band of consecutive rows (ROW_BANDS per thread):
 * neighbouring output rows share input rows, so a band reads its input about once, where rows
 * dealt out one by one would make every thread read nearly all of it (these layers are bound by
 * memory traffic: PoseNet 0.50's depthwise got slower with a second thread that way).
 *
 * Fused with the 1x1 conv that alone reads its output (core/backend.h "Fusion", the pattern of
 * fusion.c: MobileNet's depthwise -> pointwise pairs). With ctx->absorbs at prepare, the 1x1's
 * weights and bias are packed here too, for the session's float GEMM line (config.c, the line
 * conv_f32.c uses), and each thread gets a band buffer (sized here: nothing is allocated per
 * run). A fused run (ctx->fused) deals out bands of output pixels: a task computes the
 * depthwise rows its band touches into its thread's buffer, then multiplies the band's pixels by
 * the packed 1x1 weights (bias and the 1x1's activation in the GEMM's epilogue) into the 1x1's
 * output; the depthwise output never reaches memory. The band count is the smallest multiple of
 * the thread count whose bands' rows fit FUSE_BYTES (the buffer stays in L2 between the two
 * steps). Pixel bands rather than rows: MobileNetV2's 7x7 layers went as 7 one-row bands (GEMMs
 * of 7 rows, the 1x1's weights streamed 7 times, 4 bands against 3 on 2 threads), now as two
 * bands of 24 and 25 pixels (the band boundary's row is computed by both); the 7x7 and 14x14
 * pairs ran 10-12% faster at 2 threads (a row computed twice is 1/7 more depthwise work, the
 * cheap half of the pair). Unfused runs (a
 * per-op callback is set) write the depthwise output as before, and the 1x1 runs its own
 * kernel. When the 1x1's own kernel choice absorbs a residual ADD (fusion.c: MobileNetV2's
 * dw -> project -> ADD), the fused run adds the ADD's other operand in the GEMM's epilogue with
 * the ADD's activation and writes the ADD's output (MobileNetV2's ten ADDs, 0.04 ms at 2
 * threads, then cost nothing). Extend: another consumer (a depthwise feeding a pooling, an ADD) is another setup in
 * prepare_fused and another second step in fused_task.
 *
 * Also here: the portable row kernel, f32_dwconv_row_1c__scalar. It sums in the reference's
 * order (taps in (ky, kx) order from 0, the bias last, no FMA contraction), so it is bit-exact
 * with ref; the SIMD rows start from the bias and fuse multiply-adds, within the float tolerance
 * of tests/test_backend_ops.c.
 *
 * This file names no ISA: a row kernel for another ISA is one file (dwconv_f32_<isa>.c with an
 * ev_f32_dw_row_fn) and one line in config.c.
 */
#include "backends/cpu/dwconv_f32.h"
#include "core/quant.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const ev_backend ev_backend_cpu; /* cpu_backend.c: the absorbed 1x1's own choice */

static void release(void *state) {
    cpu_dw_f32 *s = state;
    if (!s) return;
    ev_conv_desc_release(&s->d);
    free(s->w);
    free(s->pw_packed);
    free(s->band);
    free(s);
}

#define ROW_BANDS 4             /* unfused: bands of rows per thread and image (slack for uneven rows) */
#define FUSE_BYTES (256 * 1024) /* most bytes of depthwise rows per band of a fused run          */

/* 64-byte aligned memory of at least `bytes` (rounded up, as aligned_alloc requires). */
static void *alloc64(size_t bytes) {
    return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

/* The absorbed 1x1 conv (op ctx->absorbs, as fusion.c found it): its geometry checked against
 * this depthwise's output, its weights packed, the band buffers sized. */
static ev_status prepare_fused(const ev_kernel_ctx *ctx, cpu_dw_f32 *s) {
    const ev_graph *g = ctx->graph;
    const ev_conv_desc *d = &s->d;
    ev_kernel_ctx pc = *ctx;
    pc.op_index = ctx->absorbs;
    pc.absorbs = 0;
    pc.fused = 0;
    ev_conv_desc pd;
    memset(&pd, 0, sizeof pd);
    ev_status st = ev_conv_desc_init(&pc, &pd);
    if (st != EV_OK) return st;
    const int ok = g->ops[ctx->absorbs].type == EV_OP_CONV_2D && !pd.depthwise &&
                   pd.dtype == EV_DTYPE_F32 && pd.in_t == d->out_t && pd.k_h == 1 &&
                   pd.k_w == 1 && pd.stride_h == 1 && pd.stride_w == 1 && pd.pad_top == 0 &&
                   pd.pad_left == 0 && pd.batch == d->batch && pd.in_h == d->out_h &&
                   pd.in_w == d->out_w && pd.in_c == d->out_c && pd.out_h == d->out_h &&
                   pd.out_w == d->out_w && g->tensors[pd.w_t].data &&
                   (pd.b_t < 0 || g->tensors[pd.b_t].data);
    const float *w = ok ? g->tensors[pd.w_t].data : NULL;
    const float *bias = ok && pd.b_t >= 0 ? g->tensors[pd.b_t].data : NULL;
    s->pw_n = pd.out_c;
    s->pw_out_t = pd.out_t;
    s->pw_ep.min = pd.f_min;
    s->pw_ep.max = pd.f_max;
    s->pw_ep.residual = NULL;
    s->pw_ep.ldr = 0;
    ev_conv_desc_release(&pd);
    /* the op the 1x1's own kernel choice absorbs (fusion.c: a residual ADD of its output; the
     * session grants it, the pair being unique), computed here too */
    ev_kernel_choice pch = {0};
    if (ok) ev_backend_cpu.supports(ctx->backend, g, ctx->absorbs, &pch);
    const int add = pch.absorbs;
    if (add > ctx->absorbs) {
        const ev_op *a = &g->ops[add];
        const int pt = s->pw_out_t;
        const int r = a->num_inputs == 2 ? (a->inputs[0] == pt ? a->inputs[1] : a->inputs[0]) : -1;
        if (a->type != EV_OP_ADD || a->num_outputs < 1 || r < 0 || r == pt ||
            (a->inputs[0] != pt && a->inputs[1] != pt) ||
            g->tensors[r].bytes != g->tensors[pt].bytes ||
            g->tensors[a->outputs[0]].bytes != g->tensors[pt].bytes ||
            !(s->pw_ep.min == -INFINITY && s->pw_ep.max == INFINITY) ||
            !ev_float_activation_range(a->p.add.activation, &s->pw_ep.min, &s->pw_ep.max))
            return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "cannot absorb ADD op %d after 1x1 op %d",
                              add, ctx->absorbs);
        s->res_t = r;
        s->pw_out_t = a->outputs[0];
    }
    s->gemm = ((const ev_cpu_ctx *)ctx->backend)->cfg.f32_gemm;
    if (!ok || !s->gemm || s->pw_n < 1) {
        s->pw_out_t = -1;
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "cannot absorb op %d (not a float 1x1 stride-1 "
                          "conv of this op's output, or no float GEMM in the cpu config)",
                          ctx->absorbs);
    }
    /* bands of output pixels (not whole rows): a multiple of the thread count, the fewest whose
     * depthwise rows (a band touches at most ceil(pixels / out_w) + 1 rows) fit FUSE_BYTES, or
     * that touch at most two rows each */
    const size_t row_floats = (size_t)d->out_w * (size_t)d->out_c;
    const size_t px = (size_t)d->out_h * (size_t)d->out_w;
    s->threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    size_t bands = (size_t)s->threads, hmax;
    for (;;) {
        const size_t band_px = (px + bands - 1) / bands;
        hmax = (band_px + (size_t)d->out_w - 1) / (size_t)d->out_w + 1;
        if (hmax > (size_t)d->out_h) hmax = (size_t)d->out_h;
        if (hmax * row_floats * sizeof(float) <= FUSE_BYTES || hmax <= 2 || bands >= px) break;
        bands += (size_t)s->threads;
    }
    if (bands > px) bands = px;
    s->fbands = (int)bands;
    s->band_stride = (hmax * row_floats + 15) & ~(size_t)15;
    const size_t pbytes = ev_cpu_f32_packed_size(s->gemm, s->pw_n, d->out_c);
    s->pw_packed = alloc64(pbytes);
    s->band = alloc64((size_t)s->threads * s->band_stride * sizeof(float));
    if (!s->pw_packed || !s->band)
        return EV_OP_FAIL(ctx, EV_ERR_NO_MEMORY, "out of memory for the absorbed 1x1's packed "
                          "weights (%d x %d) and %d band buffers of %zu floats", s->pw_n,
                          d->out_c, s->threads, s->band_stride);
    ev_cpu_f32_pack(s->gemm, w, bias, s->pw_n, d->out_c, s->pw_packed);
    return EV_OK;
}

static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    cpu_dw_f32 *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_conv_desc_init(ctx, &s->d);
    if (st == EV_OK) st = ev_cpu_conv_fold_pad(ctx, &s->d); /* pad_fold.c */
    if (st != EV_OK) {
        release(s);
        return st;
    }
    const ev_conv_desc *d = &s->d;
    if (!d->depthwise || d->depth_multiplier != 1 || d->dtype != EV_DTYPE_F32 ||
        d->in_c != d->out_c) {
        st = EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "float depthwise kernel given an op it does not "
                        "take (depthwise %d, depth multiplier %d, %s, %d -> %d channels)",
                        d->depthwise, d->depth_multiplier, ev_dtype_name(d->dtype), d->in_c,
                        d->out_c);
        release(s);
        return st;
    }
    const ev_cpu_f32_dw_entry *k =
        ev_cpu_config_f32_dw(&((const ev_cpu_ctx *)ctx->backend)->cfg, d->k_h);
    if (!k || !k->row || k->cr < 1) {
        st = EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "no float depthwise row in the cpu config for "
                        "kernel height %d", d->k_h);
        release(s);
        return st;
    }
    const int taps = d->k_h * d->k_w, C = d->out_c;
    s->cr = k->cr;
    s->Cp = (C + k->cr - 1) / k->cr * k->cr;
    s->block = (size_t)k->cr * (size_t)(1 + taps);
    /* 64-byte aligned blocks start (a size aligned_alloc takes: a multiple of 64) */
    size_t bytes = (size_t)(s->Cp / k->cr) * s->block * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    s->w = aligned_alloc(64, bytes);
    if (!s->w) {
        release(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory (%zu bytes of packed depthwise "
                       "weights)", bytes);
    }
    memset(s->w, 0, bytes);
    const ev_graph *g = ctx->graph;
    const float *w = g->tensors[d->w_t].data; /* [1][k_h][k_w][C] */
    const float *bias = d->b_t >= 0 ? g->tensors[d->b_t].data : NULL;
    for (int c = 0; c < C; c++) {
        float *blk = s->w + (size_t)(c / k->cr) * s->block;
        int j = c % k->cr;
        blk[j] = bias ? bias[c] : 0.0f;
        for (int t = 0; t < taps; t++)
            blk[(size_t)k->cr * (size_t)(1 + t) + (size_t)j] = w[(size_t)t * C + c];
    }
    s->min = d->f_min;
    s->max = d->f_max;
    s->row = k->row;
    s->pw_out_t = -1;
    s->res_t = -1;
    if (ctx->absorbs > ctx->op_index) {
        st = prepare_fused(ctx, s);
        if (st != EV_OK) {
            release(s);
            return st;
        }
    }
    *state = s;
    return EV_OK;
}

void ev_f32_dw_row_scalar(const cpu_dw_f32 *s, const float *img, int oy, float *out_row) {
    EV_DW_F32_ASSERT_ARGS(s, img, oy, out_row, 1, 0);
    const ev_conv_desc *d = &s->d;
    const int C = d->in_c;
    int ky0 = 0, ky1 = d->k_h;
    while (ky0 < ky1 && oy * d->stride_h - d->pad_top + ky0 * d->dil_h < 0) ky0++;
    while (ky1 > ky0 && oy * d->stride_h - d->pad_top + (ky1 - 1) * d->dil_h >= d->in_h) ky1--;
    for (int ox = 0; ox < d->out_w; ox++) {
        const int bx = ox * d->stride_w - d->pad_left;
        int kx0 = 0, kx1 = d->k_w;
        while (kx0 < kx1 && bx + kx0 * d->dil_w < 0) kx0++;
        while (kx1 > kx0 && bx + (kx1 - 1) * d->dil_w >= d->in_w) kx1--;
        float *o = out_row + (size_t)ox * C;
        for (int c = 0; c < C; c++) {
            const float *blk = ev_dw_f32_block(s, c); /* cr = 1: one channel per block */
            float acc = 0.0f;
            for (int ky = ky0; ky < ky1; ky++) {
                const int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
                const float *x = img + ((size_t)iy * d->in_w) * C + c;
                for (int kx = kx0; kx < kx1; kx++)
                    acc += x[(size_t)(bx + kx * d->dil_w) * C] * blk[1 + ky * d->k_w + kx];
            }
            float v = acc + blk[0];
            v = v < s->min ? s->min : v;
            o[c] = v > s->max ? s->max : v;
        }
    }
}

typedef struct dw_run {
    const cpu_dw_f32 *s;
    int bands;         /* per image */
} dw_run;

static void task(void *arg, int t, int thread) {
    (void)thread;
    const dw_run *r = arg;
    const cpu_dw_f32 *s = r->s;
    const ev_conv_desc *d = &s->d;
    const int b = t / r->bands, band = t % r->bands;
    const int y0 = (int)((long)d->out_h * band / r->bands);
    const int y1 = (int)((long)d->out_h * (band + 1) / r->bands);
    const float *img = s->in + (size_t)b * d->in_h * d->in_w * d->in_c;
    for (int oy = y0; oy < y1; oy++)
        s->row(s, img, oy, s->out + ((size_t)b * d->out_h + oy) * d->out_w * d->out_c);
}

/* A band of a fused run: its depthwise rows into the thread's buffer, then the 1x1 of them. */
static void fused_task(void *arg, int t, int thread) {
    const cpu_dw_f32 *s = arg;
    const ev_conv_desc *d = &s->d;
    const int b = t / s->fbands, band = t % s->fbands;
    const size_t px = (size_t)d->out_h * (size_t)d->out_w;
    const size_t p0 = px * (size_t)band / (size_t)s->fbands;
    const size_t p1 = px * (size_t)(band + 1) / (size_t)s->fbands;
    const int y0 = (int)(p0 / (size_t)d->out_w), y1 = (int)((p1 + (size_t)d->out_w - 1) / (size_t)d->out_w);
    const float *img = s->in + (size_t)b * d->in_h * d->in_w * d->in_c;
    const size_t row_floats = (size_t)d->out_w * (size_t)d->out_c;
    float *buf = s->band + (size_t)thread * s->band_stride;
    for (int oy = y0; oy < y1; oy++) s->row(s, img, oy, buf + (size_t)(oy - y0) * row_floats);
    const float *A = buf + (p0 - (size_t)y0 * (size_t)d->out_w) * (size_t)d->out_c;
    const size_t first = (size_t)b * px + p0;
    ev_f32_epi ep = s->pw_ep;
    if (s->res) { /* the absorbed 1x1's residual ADD */
        ep.residual = s->res + first * (size_t)s->pw_n;
        ep.ldr = (size_t)s->pw_n;
    }
    s->gemm->gemm((int)(p1 - p0), s->pw_n, d->out_c, A, (size_t)d->out_c, s->pw_packed, &ep,
                  s->out + first * (size_t)s->pw_n, (size_t)s->pw_n);
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_dw_f32 *s = state;
    s->in = data[s->d.in_t];
    if (ctx->fused && s->pw_out_t >= 0) {
        s->out = data[s->pw_out_t];
        s->res = s->res_t >= 0 ? data[s->res_t] : NULL;
        ev_threadpool_run(ctx->pool, fused_task, s, s->d.batch * s->fbands);
        return EV_OK;
    }
    s->out = data[s->d.out_t];
    int threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    dw_run r = {s, threads > 1 ? threads * ROW_BANDS : 1};
    if (r.bands > s->d.out_h) r.bands = s->d.out_h;
    ev_threadpool_run(ctx->pool, task, &r, s->d.batch * r.bands);
    return EV_OK;
}

const ev_kernel ev_cpu_dwconv_f32_kernel = {"cpu_dwconv_f32", prepare, run, release};
