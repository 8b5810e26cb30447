/*
 * conv_f32.c - the cpu backend's float32 CONV_2D and FULLY_CONNECTED: both reduce to the float
 * GEMM of gemm_f32.h, C[rows][N] = A[rows][K] x W[K][N] + bias, clamped.
 *
 *   CONV_2D:          rows = output pixels, K = kh * kw * cin, N = cout. A is an im2col tile
 *                     built per task in per-thread scratch (padded taps are 0), or, for 1x1
 *                     stride-1 unpadded convolutions, the input itself (lda = cin), or (the
 *                     implicit path) a zero-padded copy of the input read tap by tap.
 *   FULLY_CONNECTED:  rows = batches (TFLite flattens every leading dimension), K = depth,
 *                     N = units. A is the input itself.
 *
 * Weights (OHWI / [units][depth]: N rows of K) are packed once at prepare by ev_f32_gemm_pack for
 * the session's float GEMM line (config.c: its function and its nr), with the bias in the packed
 * blocks; the fused activation is the GEMM's clamp. Nothing is allocated per run.
 *
 * Parallelism: tasks are (row tile x channel block). A row tile holds at most TILE_BYTES of A
 * (so it stays in L2 while the channel blocks stream past it) and is a multiple of the tile
 * height mr; channels are split into blocks (multiples of nr) until there are at least
 * TASKS_PER_THREAD tasks per thread, so small spatial stages (ResNet50's 7x7x2048: 49 rows) still
 * use every thread. Tasks of one row tile are consecutive; a thread that takes several of them
 * builds the tile's im2col once (it remembers which tile its scratch holds).
 *
 * Implicit path (kernels flagged EV_F32_GEMM_TAPS, undilated kernels larger than 1x1 or strided
 * unpadded 1x1, output rows that fill the register tiles): no im2col. Each run copies the input
 * into a buffer with a zero border (in the session's shared scratch; an unpadded convolution
 * reads the input itself), then one GEMM call per output row reads the kh x kw taps
 * straight from it: the row's pixels are stride_w x cin floats apart, and tap
 * (ky, kx) is a fixed offset (gemm_f32.h, ep.taps). Tasks are (channel chunk x output rows):
 * a chunk's packed weights (at most CHUNK_BYTES) stay in L2 while a thread runs its rows, and
 * the chunks go in order, so the weights stream from memory once per run. Same sums, same k
 * order as im2col: the outputs are bit-identical.
 *
 * Split path (the session's split line, cfg->f32_gemm_split: AMX-BF16 at float32 accuracy,
 * gemm_f32_amx.c; the layers ev_cpu_conv_f32_split_takes gives it): each run first splits the
 * input into the line's bfloat16 terms once (split_task: a zero-bordered copy for a kernel
 * larger than 1x1, the pixels it reads for a 1x1), then GEMM calls read it in place, chunk-major
 * like the implicit path: a stride-1 kernel's call covers whole output rows as "virtual rows"
 * over the padded width (a few padding columns computed and dropped, so a call spans rows), a
 * strided one an output row, a 1x1 a slab of pixels. Keras ResNet50, 2 threads (2026-12-05):
 * the stage 2-4 3x3 convolutions 0.66-0.68 -> 0.32-0.53 ms each, the 1x1s over 256+ channels a
 * few percent; the rest stays on the FMA line (docs/performance.md, "Float32 on AMX").
 *
 * Fused residual ADD (core/backend.h "Fusion", found by fusion.c): a CONV_2D whose output only
 * feeds an ADD may be asked (ctx->fused) to compute the ADD too: the GEMM epilogue adds the ADD's
 * other operand (ep.residual, per task) and applies the ADD's activation, writing the ADD's
 * output. Unfused runs (a per-op callback is set) write the conv's own output as usual.
 *
 * The next layer's weights (ep.ahead): every run links the session's float convolutions and FCs
 * in the order they run (the shared holder's last_f32), and each one's GEMM calls prefetch into
 * L2, a little per k, the first AHEAD_BYTES per thread of the packed weights of the one that ran
 * after it last time (task t takes slice t, so with the pool's contiguous ranges each thread
 * fetches the part it will most likely read first). A layer then no longer starts on weights
 * that are still in memory: Keras ResNet50, 2 threads, per-op profile, three alternating rounds
 * (2026-12-05): sum 23.4-24.0 -> 22.9-23.4 ms (stages 3-4 -0.1 to -0.3 ms each; stage 5, bound
 * by memory, unchanged; 2 MiB per thread made stage 5 0.3 ms slower, 384 KiB gained less).
 *
 * This file names no ISA and no variant: a new float GEMM is one file and one line in config.c.
 * Extend: another op that is a GEMM (a 1x1 transposed conv, BATCH_MATMUL with constant B) is
 * another setup beside these two.
 */
#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "core/quant.h"
#include "core/status.h"
#include "core/threadpool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define TILE_BYTES (1024 * 1024) /* most bytes of A per row tile                            */
#define TILE_M_MAX 96           /* most rows per tile                                      */
#define TASKS_PER_THREAD 4      /* split channels until tasks >= this x threads (threads > 1) */
#define HAVE_STRIDE 16          /* ints between threads' "tile in scratch" (a cache line)  */
#define SLACK 32                /* floats after each thread's scratch: copy_run's overshoot */
#define CHUNK_BYTES (1024 * 1024) /* implicit path: most packed weight bytes per channel chunk */
#define MAX_TAPS 49             /* implicit path: kh x kw up to 7x7                        */
#define AHEAD_BYTES (1024 * 1024) /* the successor's weights each thread prefetches (ep.ahead) */
#define SPLIT_SLAB 32           /* split path: about this many rows per GEMM call           */
#define SPLIT_MIN_ROWS 128      /* split path: fewest output pixels per image               */
#define SPLIT_MAX_BYTES (3u << 20) /* split path: most bytes of split input per image       */
#define SPLIT_MIN_K1 256        /* split path: fewest input channels of a 1x1               */

typedef struct cpu_f32 {
    int fc;
    ev_conv_desc d; /* CONV_2D geometry (unused for FULLY_CONNECTED) */
    int in_t, out_t;
    int images, rows;  /* images (batch) x rows per image: the GEMM's M, per image */
    int K, N;
    int direct;        /* A is the input: 1x1 stride-1 unpadded conv, or FULLY_CONNECTED */
    const ev_cpu_f32_gemm_entry *k;
    float *packed;
    ev_f32_epi ep;
    int tile_m, tiles; /* rows per tile, tiles per image */
    int nb, cblocks;   /* channels per block (a multiple of nr), blocks */
    int threads;
    /* the session's shared scratch (cpu.h), looked up at each run: [threads][tile_m * K + SLACK]
     * im2col tiles, or the implicit path's padded input (images x pad_image); NULL: not used */
    ev_cpu_scratch *shared;
    float *scratch;
    size_t scratch_stride;
    int *have;         /* [threads * HAVE_STRIDE]: 1 + the tile in that thread's scratch, then
                          1 + the channel chunk (block group) the thread ran last (warm) */
    /* fused residual ADD (fuse_out_t >= 0): its output, other operand and clamp */
    int fuse_out_t, fuse_res_t;
    float fuse_min, fuse_max;
    /* implicit path (implicit = 1): zero-bordered input copy in the scratch, per image pad_h x
     * pad_w x cin (in_place: no padding, the taps read the input itself, in_h x in_w per image) */
    int implicit, in_place;
    int pad_h, pad_w;
    size_t pad_image;  /* floats per image in the padded copy (or the input) */
    ptrdiff_t tap_off[MAX_TAPS];
    /* split path (a line flagged EV_F32_GEMM_SPLIT, ev_cpu_conv_f32_split_takes): each run splits
     * the input once into bfloat16 terms (a zero-bordered pad_h x pad_w image, or for an
     * unpadded 1x1 the out_h x out_w pixels it reads), then GEMM calls read it in place: one per
     * output row (taps at tap_off3 bytes), or per slab of SPLIT_SLAB pixels (a 1x1) */
    int split, gather;
    int vrows;              /* stride 1: output rows per GEMM call (virtual rows pad_w wide) */
    size_t pix3;            /* bytes per split pixel (in_c x 6) */
    size_t src3_image;      /* bytes per image of the split input */
    ptrdiff_t tap_off3[MAX_TAPS];
    int units;              /* GEMM calls per image and channel chunk */
    int ntasks;             /* tasks of a run: (chunk x image x row) or (tile x channel block) */
    const char *succ;       /* the packed weights of the float conv or FC that ran after this
                               one last time (NULL: none yet), and how many bytes to prefetch */
    size_t succ_bytes;
    /* per run */
    const float *in;
    float *out;
    const float *res; /* the residual when this run is fused, else NULL */
} cpu_f32;

static void release(void *state) {
    cpu_f32 *s = state;
    if (!s) return;
    if (!s->fc) ev_conv_desc_release(&s->d);
    free(s->packed);
    free(s->have);
    free(s);
}

/* FULLY_CONNECTED float32: the reference's checks (ref_fc.c), float32 only. */
static ev_status setup_fc(const ev_kernel_ctx *ctx, cpu_f32 *s, const float **w,
                          const float **bias) {
    const ev_graph *g = ctx->graph;
    const ev_op *op = &g->ops[ctx->op_index];
    char s1[64], s2[64], s3[64];
    if (op->num_inputs < 2 || op->num_inputs > 3 || op->num_outputs != 1)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "expects 2-3 inputs and 1 output, has %d and %d",
                          op->num_inputs, op->num_outputs);
    const ev_tensor *in = ev_op_input(g, op, 0), *wt = ev_op_input(g, op, 1);
    const ev_tensor *b = ev_op_input(g, op, 2), *out = ev_op_output(g, op, 0);
    if (!in || !wt || !out)
        return EV_OP_FAIL(ctx, EV_ERR_FORMAT, "missing input, weights or output tensor");
    if (in->dtype != EV_DTYPE_F32 || wt->dtype != EV_DTYPE_F32 || out->dtype != EV_DTYPE_F32 ||
        (b && b->dtype != EV_DTYPE_F32))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "float kernel given %s input, %s weights, %s "
                          "bias, %s output", ev_dtype_name(in->dtype), ev_dtype_name(wt->dtype),
                          b ? ev_dtype_name(b->dtype) : "no", ev_dtype_name(out->dtype));
    if (wt->ndim != 2 || wt->dims[0] < 1 || wt->dims[1] < 1)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "weights %s must be [units][depth]",
                          ev_shape_str(wt, s1, 64));
    if (!wt->data || (b && !b->data))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "weights '%s'%s are not constant",
                          wt->name, b && !b->data ? " or bias" : "");
    s->N = wt->dims[0];
    s->K = wt->dims[1];
    size_t in_n = ev_tensor_elems(in);
    if (in_n % (size_t)s->K != 0 || in_n / (size_t)s->K > 0x7fffffff)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "input %s is not a whole number of rows of depth %d "
                          "(weights %s)", ev_shape_str(in, s1, 64), s->K,
                          ev_shape_str(wt, s2, 64));
    s->images = 1;
    s->rows = (int)(in_n / (size_t)s->K);
    if (out->ndim < 1 || out->dims[out->ndim - 1] != s->N ||
        ev_tensor_elems(out) != (size_t)s->rows * (size_t)s->N)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "output %s, but input %s with weights %s gives %dx%d",
                          ev_shape_str(out, s1, 64), ev_shape_str(in, s2, 64),
                          ev_shape_str(wt, s3, 64), s->rows, s->N);
    if (b && ev_tensor_elems(b) != (size_t)s->N)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "bias %s does not match %d units",
                          ev_shape_str(b, s1, 64), s->N);
    if (!ev_float_activation_range(op->p.fc.activation, &s->ep.min, &s->ep.max))
        return EV_OP_FAIL(ctx, EV_ERR_UNSUPPORTED, "fused activation %d",
                          (int)op->p.fc.activation);
    s->in_t = op->inputs[0];
    s->out_t = op->outputs[0];
    s->direct = 1;
    *w = wt->data;
    *bias = b ? b->data : NULL;
    return EV_OK;
}

static ev_status setup_conv(const ev_kernel_ctx *ctx, cpu_f32 *s, const float **w,
                            const float **bias) {
    EV_TRY(ev_conv_desc_init(ctx, &s->d));
    EV_TRY(ev_cpu_conv_fold_pad(ctx, &s->d)); /* pad_fold.c: read through a PAD */
    const ev_conv_desc *d = &s->d;
    if (d->depthwise || d->dtype != EV_DTYPE_F32)
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "float conv kernel given a %s%s op",
                          d->depthwise ? "depthwise " : "", ev_dtype_name(d->dtype));
    if ((size_t)d->k_h * d->k_w * d->in_c > 0x7fffffff ||
        (size_t)d->out_h * d->out_w > 0x7fffffff)
        return EV_OP_FAIL(ctx, EV_ERR_SHAPE, "filter %dx%dx%d or output %dx%d too large",
                          d->k_h, d->k_w, d->in_c, d->out_h, d->out_w);
    s->K = d->k_h * d->k_w * d->in_c;
    s->N = d->out_c;
    s->images = d->batch;
    s->rows = d->out_h * d->out_w;
    s->ep.min = d->f_min;
    s->ep.max = d->f_max;
    s->in_t = d->in_t;
    s->out_t = d->out_t;
    s->direct = d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                d->pad_top == 0 && d->pad_left == 0 && d->out_h == d->in_h &&
                d->out_w == d->in_w;
    *w = ctx->graph->tensors[d->w_t].data;
    *bias = d->b_t >= 0 ? ctx->graph->tensors[d->b_t].data : NULL;
    return EV_OK;
}

/* Row tiles and channel blocks (the opening comment). With several threads the task count is
 * made a multiple of the thread count where a few more tiles can do it, and the tiles are of
 * equal height (not rounded to mr: the GEMM splits a remainder evenly), so every thread gets the
 * same work: 713 rows (PoseNet's 23x31 maps) went as 7 tiles of 98 rows and one of 27, one
 * thread taking 4 x 98 while the other took 3 x 98 + 27; ResNet50's 784 (28x28) as 9 tasks. */
static void plan_tasks(cpu_f32 *s) {
    const int mr = s->k->mr, nr = s->k->nr;
    size_t fit = TILE_BYTES / ((size_t)s->K * sizeof(float));
    int max_m = fit > TILE_M_MAX ? TILE_M_MAX : (int)fit;
    max_m = max_m < mr ? mr : max_m / mr * mr;
    int tiles = (s->rows + max_m - 1) / max_m;
    int nblocks = (s->N + nr - 1) / nr; /* nr-wide blocks in N */
    int per = nblocks;                  /* nr-wide blocks per task */
    while (s->threads > 1 && per > 1 &&
           (long)s->images * tiles * ((nblocks + per - 1) / per) <
               (long)TASKS_PER_THREAD * s->threads)
        per = (per + 1) / 2;
    const int cblocks = (nblocks + per - 1) / per;
    int tm;
    if (s->threads == 1) { /* tiles of equal height in multiples of mr */
        tm = (s->rows + tiles - 1) / tiles;
        tm = (tm + mr - 1) / mr * mr;
    } else {
        /* the fewest tiles (from `tiles` up, a few more at most) whose task count divides
         * evenly among the threads, at equal heights; else `tiles` as it is */
        tm = (s->rows + tiles - 1) / tiles;
        for (int t = tiles; t < tiles + s->threads && t <= s->rows; t++) {
            int h = (s->rows + t - 1) / t;
            int real = (s->rows + h - 1) / h;
            if ((long)s->images * real * cblocks % s->threads == 0) {
                tm = h;
                break;
            }
        }
    }
    if (tm > s->rows) tm = s->rows;
    s->tile_m = tm;
    s->tiles = (s->rows + tm - 1) / tm;
    s->nb = per * nr;
    s->cblocks = cblocks;
}

/* Implicit path: tasks are channel chunk (outer) x image x output row; chunks of whole nr
 * blocks, at most CHUNK_BYTES of packed weights each, split further until every thread has
 * TASKS_PER_THREAD tasks. */
static void plan_implicit(cpu_f32 *s) {
    const int nr = s->k->nr, nblocks = (s->N + nr - 1) / nr;
    const size_t block_bytes = (size_t)(s->K + 1) * (size_t)nr * sizeof(float);
    int per = (int)(CHUNK_BYTES / block_bytes);
    if (per < 1) per = 1;
    if (per > nblocks) per = nblocks;
    while (per > 1 && (long)s->images * s->d.out_h * ((nblocks + per - 1) / per) <
                          (long)TASKS_PER_THREAD * s->threads)
        per = (per + 1) / 2;
    s->nb = per * nr;
    s->cblocks = (nblocks + per - 1) / per;
}

/* Whether the implicit path takes this convolution (the opening comment): a strided unpadded
 * 1x1 (no im2col to save but a copy of 1/stride^2 of the input) only with rows of two tiles or
 * more (ResNet50's stage-3 1x1/2 convolutions, 28 wide, 0.17 -> 0.14 ms; stage 4's, 14 wide,
 * 0.16 -> 0.19 ms: the weights pass for each 14-pixel row costs more than the copy). Its GEMM
 * calls are one output row each, so the row must split into register tiles at least 9/10 full
 * on average (the kernels' split: whole tiles, a remainder shared evenly with the last one).
 * Measured on ResNet50, 2 threads: AVX-512 (14-row tiles) gains on the 14-, 28- and 56-wide
 * rows and loses on 7-wide rows (tiles of 7); AVX2 (6-row tiles) gains on 28 (tiles 6,6,6,5,5),
 * loses on 14 (6,4,4: stage 4's 3x3 convolutions 6.5-6.8 -> 7.1-7.2 ms). */
static int implicit_ok(const cpu_f32 *s) {
    const ev_conv_desc *d = &s->d;
    const int mr = s->k->mr, w = d->out_w;
    int whole;
    const int tiles = ev_f32_row_tiles(w, mr, &whole);
    const int unpadded = d->pad_top == 0 && d->pad_left == 0;
    return !s->fc && !s->direct && (s->k->flags & EV_F32_GEMM_TAPS) && d->dil_h == 1 &&
           d->dil_w == 1 && (d->k_h * d->k_w > 1 || (unpadded && w >= 2 * mr)) &&
           d->k_h * d->k_w <= MAX_TAPS &&
           10 * w >= 9 * mr * tiles;
}

/* Whether a float CONV_2D runs on the session's split line (cfg->f32_gemm_split: AMX-BF16 with
 * float32 accuracy, gemm_f32_amx.c), from shapes that a folded PAD does not change: input
 * channels in whole 32-channel chunks (a tap's chunks then line up with the split pixels), no
 * dilation, at least SPLIT_MIN_ROWS output pixels per image (ResNet50's 7x7 stage 5 stays on the
 * FMA line: its layers are bound by streaming their weights, which the split packing makes 1.5x
 * larger) and at most SPLIT_MAX_BYTES of split input per image (larger ones, such as ResNet50's
 * stage-2 1x1 over 256 channels, would stream it through the L3 and back). */
int ev_cpu_conv_f32_split_takes(const ev_cpu_config *cfg, const ev_graph *g, const ev_op *op) {
    if (!cfg->f32_gemm_split || op->type != EV_OP_CONV_2D) return 0;
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    const ev_tensor *out = ev_op_output(g, op, 0);
    if (!in || !w || !out || in->ndim != 4 || w->ndim != 4 || out->ndim != 4 ||
        in->dtype != EV_DTYPE_F32 || w->dims[3] != in->dims[3] || in->dims[3] % 32 != 0 ||
        op->p.conv.dilation_h > 1 || op->p.conv.dilation_w > 1)
        return 0;
    const long oh = out->dims[1], ow = out->dims[2], kh = w->dims[1], kw = w->dims[2];
    const long sh = op->p.conv.stride_h, sw = op->p.conv.stride_w;
    const int one = kh == 1 && kw == 1;
    /* a 1x1 splits the pixels it reads; a larger kernel its padded input */
    const double bytes = (one ? (double)oh * (double)ow
                              : (double)((oh - 1) * sh + kh) * (double)((ow - 1) * sw + kw)) *
                         (double)in->dims[3] * 6.0;
    return oh * ow >= SPLIT_MIN_ROWS && bytes <= SPLIT_MAX_BYTES && w->dims[0] >= 32 &&
           (!one || in->dims[3] >= SPLIT_MIN_K1);
}

/* Split path: the input's form, the GEMM calls (units) and the channel chunks, as the implicit
 * path's (chunk-major tasks: a chunk's packed weights stay in L2 while a thread runs its rows). */
static void plan_split(cpu_f32 *s) {
    const ev_conv_desc *d = &s->d;
    s->gather = d->k_h == 1 && d->k_w == 1 && d->pad_top == 0 && d->pad_left == 0;
    s->pix3 = s->k->split_row_bytes(d->in_c); /* in_c / 32 chunks of 3 x 32 bfloat16 */
    if (s->gather) { /* the pixels a 1x1 reads, in output order */
        s->pad_h = d->out_h;
        s->pad_w = d->out_w;
        s->units = (s->rows + SPLIT_SLAB - 1) / SPLIT_SLAB;
    } else {
        s->pad_h = (d->out_h - 1) * d->stride_h + d->k_h;
        s->pad_w = (d->out_w - 1) * d->stride_w + d->k_w;
        /* stride 1: calls of whole output rows, about SPLIT_SLAB virtual rows (the padded
         * width: a few columns of waste buy rows that are evenly spaced across output rows) */
        s->vrows = d->stride_h == 1 && d->stride_w == 1 ? (SPLIT_SLAB + s->pad_w / 2) / s->pad_w
                                                        : 1;
        if (s->vrows < 1) s->vrows = 1;
        if (s->vrows > d->out_h) s->vrows = d->out_h;
        s->units = (d->out_h + s->vrows - 1) / s->vrows;
        for (int ky = 0; ky < d->k_h; ky++)
            for (int kx = 0; kx < d->k_w; kx++)
                s->tap_off3[ky * d->k_w + kx] =
                    ((ptrdiff_t)ky * s->pad_w + kx) * (ptrdiff_t)s->pix3;
    }
    s->src3_image = (size_t)s->pad_h * (size_t)s->pad_w * s->pix3;
    const int nr = s->k->nr, nblocks = (s->N + nr - 1) / nr;
    const size_t block_bytes = s->k->block_floats(s->K, nr) * sizeof(float);
    int per = (int)(CHUNK_BYTES / block_bytes);
    if (per < 1) per = 1;
    if (per > nblocks) per = nblocks;
    while (per > 1 && (long)s->images * s->units * ((nblocks + per - 1) / per) <
                          (long)TASKS_PER_THREAD * s->threads)
        per = (per + 1) / 2;
    s->nb = per * nr;
    s->cblocks = (nblocks + per - 1) / per;
}

/* Packed weights and im2col scratch: large ones (1 MiB or more) on 2 MiB boundaries, and asked
 * to be backed by huge pages where the OS gives them on request (Linux's transparent huge pages
 * in "madvise" mode): ResNet50's later layers stream 1-9 MiB of weights per run, cold, one
 * 4 KiB TLB entry per 32 packed rows (measured, ResNet50 one thread, loaded machine: stage 5
 * 12.2 -> 10.9 ms, stage 4 17.2 -> 16.1). Freed with free() like the rest. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *alloc_packed(size_t bytes) {
    if (bytes < HUGE_PAGE / 2) return malloc(bytes);
    size_t size = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, size) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, size, MADV_HUGEPAGE); /* advice only: 4 KiB pages when refused */
#endif
    return p;
}

ev_status ev_cpu_scratch_reserve(ev_cpu_scratch *s, size_t bytes) {
    if (bytes <= s->bytes) return EV_OK;
    float *p = alloc_packed(bytes);
    if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for %zu bytes of scratch", bytes);
    free(s->p);
    s->p = p;
    s->bytes = bytes;
    return EV_OK;
}

static ev_status prepare_any(const ev_kernel_ctx *ctx, void **state, int fc) {
    cpu_f32 *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->fc = fc;
    const float *w = NULL, *bias = NULL;
    ev_status st = fc ? setup_fc(ctx, s, &w, &bias) : setup_conv(ctx, s, &w, &bias);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    if (s->rows < 1 || s->images < 1 || s->K < 1 || s->N < 1) {
        st = EV_OP_FAIL(ctx, EV_ERR_SHAPE, "empty GEMM: %d x %d rows, K %d, N %d", s->images,
                        s->rows, s->K, s->N);
        release(s);
        return st;
    }
    const ev_cpu_config *cfg = &((const ev_cpu_ctx *)ctx->backend)->cfg;
    s->split = !fc && ev_cpu_conv_f32_split_takes(cfg, ctx->graph, &ctx->graph->ops[ctx->op_index]);
    s->k = s->split ? cfg->f32_gemm_split : cfg->f32_gemm;
    if (!s->k) {
        release(s);
        return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "no float GEMM in the cpu config");
    }
    s->ep.residual = NULL;
    s->ep.ldr = 0;
    s->fuse_out_t = s->fuse_res_t = -1;
    if (!fc && ctx->absorbs > ctx->op_index) {
        /* fusion.c checked the pattern: ADD(this output, R) of the same shape, float32 */
        const ev_graph *g = ctx->graph;
        const ev_op *add = &g->ops[ctx->absorbs];
        int r = add->inputs[0] == s->out_t ? add->inputs[1] : add->inputs[0];
        if (add->type != EV_OP_ADD || add->num_outputs < 1 ||
            !ev_float_activation_range(add->p.add.activation, &s->fuse_min, &s->fuse_max) ||
            g->tensors[r].bytes != g->tensors[s->out_t].bytes) {
            release(s);
            return EV_OP_FAIL(ctx, EV_ERR_INTERNAL, "cannot absorb op %d", ctx->absorbs);
        }
        s->fuse_out_t = add->outputs[0];
        s->fuse_res_t = r;
    }
    s->threads = ctx->pool ? ev_threadpool_threads(ctx->pool) : 1;
    s->implicit = !s->split && implicit_ok(s);
    if (s->split) {
        plan_split(s);
    } else if (s->implicit) {
        const ev_conv_desc *d = &s->d;
        s->pad_h = (d->out_h - 1) * d->stride_h + d->k_h;
        s->pad_w = (d->out_w - 1) * d->stride_w + d->k_w;
        /* no padding (VALID; a strided 1x1): every tap lies inside the input, read in place */
        s->in_place = d->pad_top == 0 && d->pad_left == 0 && s->pad_h <= d->in_h &&
                      s->pad_w <= d->in_w;
        if (s->in_place) s->pad_h = d->in_h, s->pad_w = d->in_w;
        s->pad_image = (size_t)s->pad_h * (size_t)s->pad_w * (size_t)d->in_c;
        for (int ky = 0; ky < d->k_h; ky++)
            for (int kx = 0; kx < d->k_w; kx++)
                s->tap_off[ky * d->k_w + kx] =
                    ((ptrdiff_t)ky * s->pad_w + kx) * (ptrdiff_t)d->in_c;
        plan_implicit(s);
    } else {
        plan_tasks(s);
        if (!s->direct) s->scratch_stride = (size_t)s->tile_m * (size_t)s->K + SLACK;
    }
    /* scratch in the session's shared buffer (warm from the last layer): im2col tiles, or the
     * padded input with its border (every run writes whole padded rows) */
    const size_t scratch_bytes =
        s->split ? (size_t)s->images * s->src3_image +
                       (size_t)(16 * s->d.stride_w + s->d.k_w + 1) * s->pix3
        : s->implicit ? (s->in_place ? 0 : (size_t)s->images * s->pad_image * sizeof(float))
        : s->direct ? 0
                    : (size_t)s->threads * s->scratch_stride * sizeof(float);
    if (scratch_bytes) {
        s->shared = ((ev_cpu_ctx *)ctx->backend)->scratch;
        if (ev_cpu_scratch_reserve(s->shared, scratch_bytes) != EV_OK) {
            st = EV_OP_FAIL(ctx, EV_ERR_NO_MEMORY, "out of memory for %zu bytes of %s",
                            scratch_bytes, s->split      ? "split input"
                                           : s->implicit ? "padded input"
                                                         : "im2col scratch");
            release(s);
            return st;
        }
    }
    s->packed = alloc_packed(ev_cpu_f32_packed_size(s->k, s->N, s->K));
    s->have = calloc((size_t)s->threads * HAVE_STRIDE, sizeof(int));
    if (!s->packed || !s->have) {
        st = EV_OP_FAIL(ctx, EV_ERR_NO_MEMORY, "out of memory for the packed weights (%d x %d)",
                        s->N, s->K);
        release(s);
        return st;
    }
    ev_cpu_f32_pack(s->k, w, bias, s->N, s->K, s->packed);
    s->ntasks = s->images * (s->split ? s->units : s->implicit ? s->d.out_h : s->tiles) *
                s->cblocks;
    *state = s;
    return EV_OK;
}

static ev_status prepare_conv(const ev_kernel_ctx *ctx, void **state) {
    return prepare_any(ctx, state, 0);
}

static ev_status prepare_fc(const ev_kernel_ctx *ctx, void **state) {
    return prepare_any(ctx, state, 1);
}

/* n floats from src to dst. Short runs (a first layer's 3-channel taps: 3, 9, 21 floats) move
 * as one fixed 16-, 48-, 96- or 128-byte block (a few vector moves, no call) when the source
 * has that many bytes before its tensor's end; the overshoot past dst + n lands where im2col
 * writes next (it fills each row, and the rows, in increasing address order) or in the
 * scratch's SLACK. */
static inline void copy_run(float *dst, const float *src, size_t n, const float *src_end) {
    if (n <= 4 && src + 4 <= src_end)
        memcpy(dst, src, 4 * sizeof(float));
    else if (n <= 12 && src + 12 <= src_end)
        memcpy(dst, src, 12 * sizeof(float));
    else if (n <= 24 && src + 24 <= src_end)
        memcpy(dst, src, 24 * sizeof(float));
    else if (n <= SLACK && src + SLACK <= src_end)
        memcpy(dst, src, SLACK * sizeof(float));
    else
        memcpy(dst, src, n * sizeof(float));
}

/* im2col rows for output pixels [p0, p0 + n) of image `b` into dst (n rows of K floats). */
static void im2col(const cpu_f32 *s, int b, int p0, int n, float *dst) {
    const ev_conv_desc *d = &s->d;
    const size_t row = (size_t)d->in_w * d->in_c, cbytes = (size_t)d->in_c * sizeof(float);
    const size_t run = (size_t)d->k_w * d->in_c, run_bytes = run * sizeof(float);
    const float *img = s->in + (size_t)b * d->in_h * row;
    const float *end = s->in + (size_t)d->batch * d->in_h * row;
    int oy = p0 / d->out_w, ox = p0 % d->out_w; /* then stepped: no division per pixel */
    for (int i = 0; i < n; i++, ox = ox + 1 == d->out_w ? (oy++, 0) : ox + 1) {
        float *o = dst + (size_t)i * s->K;
        int ix0 = ox * d->stride_w - d->pad_left;
        int whole = d->dil_w == 1 && ix0 >= 0 && ix0 + d->k_w <= d->in_w;
        for (int ky = 0; ky < d->k_h; ky++) {
            int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
            if (iy < 0 || iy >= d->in_h) {
                memset(o, 0, run_bytes);
            } else if (whole) { /* the whole kx range is one contiguous run */
                copy_run(o, img + (size_t)iy * row + (size_t)ix0 * d->in_c, run, end);
            } else {
                for (int kx = 0; kx < d->k_w; kx++) {
                    int ix = ix0 + kx * d->dil_w;
                    float *ok = o + (size_t)kx * d->in_c;
                    if (ix < 0 || ix >= d->in_w)
                        memset(ok, 0, cbytes);
                    else
                        copy_run(ok, img + (size_t)iy * row + (size_t)ix * d->in_c,
                                 (size_t)d->in_c, end);
                }
            }
            o += run;
        }
    }
}

/* Task t's share of the successor's weights (ep.ahead): slice t of `ntasks`, so with the
 * pool's contiguous ranges thread i prefetches the i-th part. */
static void set_ahead(const cpu_f32 *s, int t, ev_f32_epi *ep) {
    if (!s->succ) return;
    const size_t a = s->succ_bytes * (size_t)t / (size_t)s->ntasks;
    const size_t b = s->succ_bytes * (size_t)(t + 1) / (size_t)s->ntasks;
    ep->ahead = s->succ + a;
    ep->ahead_bytes = b - a;
}

/* ep.warm: whether this thread's last task read the same channel chunk, whose packed weights
 * (at most CHUNK_BYTES, or a whole small layer) are then still in its L2; remembers this one. */
static int warm_chunk(const cpu_f32 *s, int thread, int cb, size_t chunk_bytes) {
    int *last = &s->have[(size_t)thread * HAVE_STRIDE + 1];
    const int warm = *last == cb + 1 && chunk_bytes <= CHUNK_BYTES;
    *last = cb + 1;
    return warm;
}

static void task(void *arg, int t, int thread) {
    cpu_f32 *s = arg;
    int tile = t / s->cblocks, cb = t % s->cblocks;
    int b = tile / s->tiles, p0 = (tile % s->tiles) * s->tile_m;
    int m = s->rows - p0 < s->tile_m ? s->rows - p0 : s->tile_m;
    int n0 = cb * s->nb, nc = s->N - n0 < s->nb ? s->N - n0 : s->nb;
    const size_t first = (size_t)b * s->rows + (size_t)p0;
    const float *A;
    size_t lda;
    if (s->direct) {
        A = s->in + first * (size_t)s->K;
        lda = (size_t)s->K;
    } else {
        float *buf = s->scratch + (size_t)thread * s->scratch_stride;
        int *have = &s->have[(size_t)thread * HAVE_STRIDE];
        if (*have != tile + 1) {
            im2col(s, b, p0, m, buf);
            *have = tile + 1;
        }
        A = buf;
        lda = (size_t)s->K;
    }
    ev_f32_epi ep = s->ep;
    set_ahead(s, t, &ep);
    ep.warm = warm_chunk(s, thread, cb, ev_cpu_f32_packed_size(s->k, nc, s->K));
    if (t + 1 < s->ntasks) /* the next task's first block */
        ep.next = ev_cpu_f32_block(s->k, s->packed, ((t + 1) % s->cblocks) * s->nb, s->K);
    if (s->res) { /* fused ADD: its operand and its activation */
        ep.residual = s->res + first * (size_t)s->N + (size_t)n0;
        ep.ldr = (size_t)s->N;
        ep.min = s->fuse_min;
        ep.max = s->fuse_max;
    }
    s->k->gemm(m, nc, s->K, A, lda, ev_cpu_f32_block(s->k, s->packed, n0, s->K), &ep,
               s->out + first * (size_t)s->N + (size_t)n0, (size_t)s->N);
}

/* Implicit path, phase 1: padded row `t` (of all images' pad_h rows): zeros outside the input,
 * the input row between them. */
static void pad_task(void *arg, int t, int thread) {
    (void)thread;
    const cpu_f32 *s = arg;
    const ev_conv_desc *d = &s->d;
    const int b = t / s->pad_h, py = t % s->pad_h, iy = py - d->pad_top;
    const size_t cin = (size_t)d->in_c;
    float *row = s->scratch + (size_t)b * s->pad_image + (size_t)py * s->pad_w * cin;
    if (iy < 0 || iy >= d->in_h) {
        memset(row, 0, (size_t)s->pad_w * cin * sizeof(float));
        return;
    }
    int w = d->in_w; /* the input columns some output reads */
    if (w + d->pad_left > s->pad_w) w = s->pad_w - d->pad_left;
    memset(row, 0, (size_t)d->pad_left * cin * sizeof(float));
    memcpy(row + (size_t)d->pad_left * cin,
           s->in + ((size_t)b * d->in_h + (size_t)iy) * d->in_w * cin,
           (size_t)w * cin * sizeof(float));
    memset(row + (size_t)(d->pad_left + w) * cin, 0,
           (size_t)(s->pad_w - d->pad_left - w) * cin * sizeof(float));
}

/* Implicit path, phase 2: output row oy of image b for channel chunk cb (chunk-major order). */
static void implicit_task(void *arg, int t, int thread) {
    const cpu_f32 *s = arg;
    const ev_conv_desc *d = &s->d;
    const int per_chunk = s->images * d->out_h, cb = t / per_chunk;
    const int b = (t % per_chunk) / d->out_h, oy = t % d->out_h;
    const int n0 = cb * s->nb, nc = s->N - n0 < s->nb ? s->N - n0 : s->nb;
    const size_t first = (size_t)b * s->rows + (size_t)oy * d->out_w;
    const float *A = (s->in_place ? s->in : s->scratch) + (size_t)b * s->pad_image +
                     (size_t)oy * d->stride_h * s->pad_w * (size_t)d->in_c;
    ev_f32_epi ep = s->ep;
    ep.taps = d->k_h * d->k_w;
    ep.tap_off = s->tap_off;
    set_ahead(s, t, &ep);
    ep.warm = warm_chunk(s, thread, cb, ev_cpu_f32_packed_size(s->k, nc, s->K));
    if (t + 1 < s->ntasks) /* the next task's first block */
        ep.next = ev_cpu_f32_block(s->k, s->packed, ((t + 1) / per_chunk) * s->nb, s->K);
    if (s->res) {
        ep.residual = s->res + first * (size_t)s->N + (size_t)n0;
        ep.ldr = (size_t)s->N;
        ep.min = s->fuse_min;
        ep.max = s->fuse_max;
    }
    s->k->gemm(d->out_w, nc, s->K, A, (size_t)d->stride_w * (size_t)d->in_c,
               ev_cpu_f32_block(s->k, s->packed, n0, s->K), &ep,
               s->out + first * (size_t)s->N + (size_t)n0, (size_t)s->N);
}

/* Split path, phase 1: row `t` (of all images' pad_h rows) of the split input: zeros outside
 * the input, the input's pixels split between them (a 1x1's: every stride-th pixel of every
 * stride-th row). */
static void split_task(void *arg, int t, int thread) {
    (void)thread;
    const cpu_f32 *s = arg;
    const ev_conv_desc *d = &s->d;
    const int b = t / s->pad_h, py = t % s->pad_h;
    char *row = (char *)s->scratch + (size_t)b * s->src3_image + (size_t)py * s->pad_w * s->pix3;
    const size_t cin = (size_t)d->in_c;
    const float *img = s->in + (size_t)b * d->in_h * d->in_w * cin;
    if (s->gather) {
        s->k->split(d->out_w, d->in_c, img + (size_t)py * d->stride_h * d->in_w * cin,
                    (size_t)d->stride_w * cin, row, s->pix3);
        return;
    }
    const int iy = py - d->pad_top;
    if (iy < 0 || iy >= d->in_h) {
        memset(row, 0, (size_t)s->pad_w * s->pix3);
        return;
    }
    int w = d->in_w; /* the input columns some output reads */
    if (w + d->pad_left > s->pad_w) w = s->pad_w - d->pad_left;
    memset(row, 0, (size_t)d->pad_left * s->pix3);
    s->k->split(w, d->in_c, img + (size_t)iy * d->in_w * cin, cin,
                row + (size_t)d->pad_left * s->pix3, s->pix3);
    memset(row + (size_t)(d->pad_left + w) * s->pix3, 0,
           (size_t)(s->pad_w - d->pad_left - w) * s->pix3);
}

/* Split path, phase 2: GEMM call `unit` of image b for channel chunk cb (chunk-major order): an
 * output row (taps into the split padded input), or a 1x1's slab of SPLIT_SLAB pixels. */
static void split_gemm_task(void *arg, int t, int thread) {
    (void)thread;
    const cpu_f32 *s = arg;
    const ev_conv_desc *d = &s->d;
    const int per_chunk = s->images * s->units, cb = t / per_chunk;
    const int b = (t % per_chunk) / s->units, u = t % s->units;
    const int n0 = cb * s->nb, nc = s->N - n0 < s->nb ? s->N - n0 : s->nb;
    int p0, m;
    ev_f32_epi ep = s->ep;
    const char *img = (const char *)s->scratch + (size_t)b * s->src3_image;
    if (s->gather) {
        p0 = u * SPLIT_SLAB;
        m = s->rows - p0 < SPLIT_SLAB ? s->rows - p0 : SPLIT_SLAB;
        ep.a3 = img + (size_t)p0 * s->pix3;
        ep.a3_ld = s->pix3;
        ep.a3_tap = NULL;
    } else if (d->stride_w == 1) { /* output rows [oy, oy + n) as virtual rows */
        const int oy = u * s->vrows, n = d->out_h - oy < s->vrows ? d->out_h - oy : s->vrows;
        p0 = oy * d->out_w;
        m = (n - 1) * s->pad_w + d->out_w; /* the last row's padding columns: none */
        ep.a3 = img + (size_t)oy * d->stride_h * s->pad_w * s->pix3;
        ep.a3_ld = s->pix3;
        ep.a3_tap = s->tap_off3;
        ep.a3_vw = s->pad_w;
        ep.a3_ow = d->out_w;
    } else {
        p0 = u * d->out_w;
        m = d->out_w;
        ep.a3 = img + (size_t)u * d->stride_h * s->pad_w * s->pix3;
        ep.a3_ld = (size_t)d->stride_w * s->pix3;
        ep.a3_tap = s->tap_off3;
    }
    ep.a3_groups = d->in_c / 32;
    const size_t first = (size_t)b * s->rows + (size_t)p0;
    if (s->res) {
        ep.residual = s->res + first * (size_t)s->N + (size_t)n0;
        ep.ldr = (size_t)s->N;
        ep.min = s->fuse_min;
        ep.max = s->fuse_max;
    }
    /* A is not read (ep.a3): the input, to satisfy the GEMM's argument checks */
    s->k->gemm(m, nc, s->K, s->in, (size_t)s->K, ev_cpu_f32_block(s->k, s->packed, n0, s->K),
               &ep, s->out + first * (size_t)s->N + (size_t)n0, (size_t)s->N);
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    cpu_f32 *s = state;
    s->in = data[s->in_t];
    s->out = data[s->out_t];
    s->res = NULL;
    if (ctx->fused && s->fuse_out_t >= 0) {
        s->out = data[s->fuse_out_t];
        s->res = data[s->fuse_res_t];
    }
    if (s->shared) s->scratch = s->shared->p; /* a later op's prepare may have moved it */
    for (int i = 0; i < s->threads; i++) /* no tile in scratch, no chunk warm yet */
        s->have[(size_t)i * HAVE_STRIDE] = s->have[(size_t)i * HAVE_STRIDE + 1] = 0;
    /* link the run order (the session's holder, pad_fold.c's copies included): the float layer
     * that ran before this one prefetches these weights from the next run on */
    ev_cpu_scratch *holder = ((const ev_cpu_ctx *)ctx->backend)->scratch;
    cpu_f32 *prev = holder->last_f32;
    if (prev && prev != s) {
        const size_t bytes = ev_cpu_f32_packed_size(s->k, s->N, s->K);
        const size_t lim = AHEAD_BYTES * (size_t)s->threads;
        prev->succ = (const char *)s->packed;
        prev->succ_bytes = bytes < lim ? bytes : lim;
    }
    holder->last_f32 = s;
    if (s->split) {
        ev_threadpool_run(ctx->pool, split_task, s, s->images * s->pad_h);
        ev_threadpool_run(ctx->pool, split_gemm_task, s, s->ntasks);
        return EV_OK;
    }
    if (s->implicit) {
        if (!s->in_place) ev_threadpool_run(ctx->pool, pad_task, s, s->images * s->pad_h);
        ev_threadpool_run(ctx->pool, implicit_task, s, s->ntasks);
        return EV_OK;
    }
    ev_threadpool_run(ctx->pool, task, s, s->ntasks);
    return EV_OK;
}

const ev_kernel ev_cpu_conv_f32_kernel = {"cpu_conv_f32", prepare_conv, run, release};
const ev_kernel ev_cpu_fc_f32_kernel = {"cpu_fc_f32", prepare_fc, run, release};
