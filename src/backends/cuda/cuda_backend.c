/*
 * cuda_backend.c - the cuda backend (NVIDIA GPUs through the CUDA runtime C API): the backend
 * object, its per-session device context, and the host side of its kernels.
 *
 * On the device: quantized (uint8, int8 per-channel) and float32 CONV_2D and DEPTHWISE_CONV_2D,
 * and CONCATENATION (cuda_kernels.cu; arithmetic in cuda_math.h, bit-exact with ref). Every
 * other op runs on the host with the reference kernel, its operands copied around it; those ops
 * report "cuda (reference kernel)" in their errors.
 *
 * Per session, one `cu_ctx` (the backend context: built by init, destroyed by free, handed to
 * every kernel as ctx->backend):
 *   - a device arena laid out by the session's own memory plan (core/plan.c gives the same
 *     offsets the host arena uses), so tensors whose lifetimes do not overlap share bytes on
 *     the device exactly as on the host; constants a device op reads are uploaded at prepare;
 *   - one stream; weights packed and uploaded once at prepare;
 *   - per tensor, during a run, where its current value lives (host, device or both). run_begin
 *     marks everything "on the host" (inputs were set there); a device op uploads inputs it
 *     lacks and leaves its outputs on the device; a host op downloads inputs it lacks. Inputs
 *     of custom ops (PosenetDecoderOp), which the backend does not wrap, and with a per-op
 *     callback (run_begin's host_each_op) every op's outputs, are downloaded as soon as they are
 *     produced, with a stream synchronisation. run_end downloads the graph outputs still only
 *     on the device and waits for the stream.
 *
 * No device: init fails with EV_ERR_NEEDS_DEVICE ("<model>: backend cuda: no CUDA device:
 * <runtime's reason>"); nothing else touches the GPU before that. A graph of custom ops only
 * has nothing for the device, and its session does not touch it at all.
 */
#include "backends/cuda/cuda_backend.h"

#include "backends/concat_desc.h"
#include "backends/conv_desc.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/ref/ref.h"
#include "core/backend.h"
#include "core/plan.h"
#include "core/session.h"
#include "core/status.h"
#include "util/clock.h"

#include <cuda_runtime_api.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const ev_backend ev_backend_cuda;

#define DEV_ALIGN 256

/* Tests only (ev_cuda_set_emulation): read once by init into the session's context. */
static int g_emulate;

void ev_cuda_set_emulation(int on) { g_emulate = on ? 1 : 0; }

int ev_cuda_device_available(char *why, size_t n) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count <= 0) {
        if (why && n)
            snprintf(why, n, "%s", e != cudaSuccess ? cudaGetErrorString(e)
                                                   : "cudaGetDeviceCount found no device");
        (void)cudaGetLastError();
        return 0;
    }
    if (why && n) why[0] = '\0';
    return 1;
}

/* ---- per-session device context -------------------------------------------------------- */

enum { ON_HOST = 1, ON_DEV = 2 };

typedef struct cu_ctx {
    const ev_graph *graph;
    int emu;                    /* host memory and emulated kernels (ev_cuda_set_emulation)  */
    int used;                   /* the graph has ops for this backend: device, stream, arena */
    int device;
    cudaStream_t stream;
    uint8_t *arena;
    void **dev;                 /* [num_tensors] device address                              */
    uint8_t *owned;             /* [num_tensors] dev[t] is a constant's own allocation       */
    uint8_t *where;             /* [num_tensors] ON_HOST | ON_DEV during a run               */
    uint8_t *host_reader;       /* [num_tensors] read by a custom op (host code the backend
                                   does not wrap)                                           */
    int host_each_op;           /* this run: a per-op callback reads every op's output       */
    int pending_d2h;            /* downloads queued since the last synchronisation           */
    ev_cuda_transfer_stats stats;
} cu_ctx;

static int dmalloc(cu_ctx *c, void **p, size_t n) {
    n = (n + DEV_ALIGN - 1) / DEV_ALIGN * DEV_ALIGN + DEV_ALIGN; /* slack for word reads */
    if (c->emu) {
        *p = aligned_alloc(DEV_ALIGN, n);
        if (*p) memset(*p, 0, n);
        return *p ? 0 : (int)cudaErrorMemoryAllocation;
    }
    cudaError_t e = cudaMalloc(p, n);
    if (e == cudaSuccess) e = cudaMemset(*p, 0, n);
    return (int)e;
}

static void dfree(cu_ctx *c, void *p) {
    if (!p) return;
    if (c->emu)
        free(p);
    else
        cudaFree(p);
}

/* Synchronous upload at prepare time. */
static int dupload(cu_ctx *c, void *d, const void *h, size_t n) {
    if (!n) return 0;
    if (c->emu) {
        memcpy(d, h, n);
        return 0;
    }
    return (int)cudaMemcpy(d, h, n, cudaMemcpyHostToDevice);
}

static int h2d(cu_ctx *c, void *d, const void *h, size_t n) {
    if (!n) return 0;
    double t0 = ev_clock_s();
    int e = 0;
    if (c->emu)
        memcpy(d, h, n);
    else
        e = (int)cudaMemcpyAsync(d, h, n, cudaMemcpyHostToDevice, c->stream);
    c->stats.h2d_bytes += n;
    c->stats.h2d_copies++;
    c->stats.seconds += ev_clock_s() - t0;
    return e;
}

static int d2h(cu_ctx *c, void *h, const void *d, size_t n) {
    if (!n) return 0;
    double t0 = ev_clock_s();
    int e = 0;
    if (c->emu)
        memcpy(h, d, n);
    else
        e = (int)cudaMemcpyAsync(h, d, n, cudaMemcpyDeviceToHost, c->stream);
    c->stats.d2h_bytes += n;
    c->stats.d2h_copies++;
    c->stats.seconds += ev_clock_s() - t0;
    c->pending_d2h = 1;
    return e;
}

/* Waits for the stream when downloads are pending (always when `force`). */
static int dsync(cu_ctx *c, int force) {
    if (c->emu || (!c->pending_d2h && !force)) {
        c->pending_d2h = 0;
        return 0;
    }
    double t0 = ev_clock_s();
    int e = (int)cudaStreamSynchronize(c->stream);
    if (c->pending_d2h) c->stats.seconds += ev_clock_s() - t0;
    c->pending_d2h = 0;
    return e;
}

static int d2d_rows(cu_ctx *c, void *dst, size_t dpitch, const void *src, size_t spitch,
                    size_t width, size_t height) {
    if (!width || !height) return 0;
    if (c->emu) {
        for (size_t r = 0; r < height; r++)
            memcpy((uint8_t *)dst + r * dpitch, (const uint8_t *)src + r * spitch, width);
        return 0;
    }
    return (int)cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height,
                                  cudaMemcpyDeviceToDevice, c->stream);
}

/* The backend's free: after the session released every kernel. */
static void cuda_free(void *context) {
    cu_ctx *c = context;
    if (!c) return;
    if (c->dev && c->owned)
        for (int t = 0; t < c->graph->num_tensors; t++)
            if (c->owned[t]) dfree(c, c->dev[t]);
    dfree(c, c->arena);
    if (!c->emu && c->stream) cudaStreamDestroy(c->stream);
    free(c->dev);
    free(c->owned);
    free(c->where);
    free(c->host_reader);
    free(c);
}

/* Errors of init are prefixed "<model>: backend cuda" by the session. */
static ev_status cuda_fail(int err, ev_status st, const char *what) {
    return EV_FAIL(st, "%s: %s", what, cudaGetErrorString((cudaError_t)err));
}

/* The backend's init: chooses the device, creates the stream and the device arena. */
static ev_status cuda_init(const ev_graph *g, const ev_backend_options *opts, void **context) {
    (void)opts;
    cu_ctx *c = calloc(1, sizeof *c);
    if (!c) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    c->graph = g;
    c->emu = g_emulate;
    int nt = g->num_tensors;
    size_t *offsets = calloc((size_t)nt + 1, sizeof *offsets);
    c->dev = calloc((size_t)nt + 1, sizeof *c->dev);
    c->owned = calloc((size_t)nt + 1, 1);
    c->where = calloc((size_t)nt + 1, 1);
    c->host_reader = calloc((size_t)nt + 1, 1);
    ev_status st = EV_OK;
    if (!offsets || !c->dev || !c->owned || !c->where || !c->host_reader) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (int i = 0; i < g->num_ops; i++) c->used |= g->ops[i].type != EV_OP_CUSTOM;
    if (!c->used) goto done; /* custom ops only: they run on the host, the device is not needed */
    if (!c->emu) {
        int count = 0;
        cudaError_t e = cudaGetDeviceCount(&count);
        if (e != cudaSuccess || count <= 0) {
            (void)cudaGetLastError();
            st = EV_FAIL(EV_ERR_NEEDS_DEVICE, "no CUDA device: %s",
                         e != cudaSuccess ? cudaGetErrorString(e)
                                          : "cudaGetDeviceCount found no device");
            goto fail;
        }
        const char *env = getenv("EV_CUDA_DEVICE");
        c->device = env && *env ? atoi(env) : 0;
        if (c->device < 0 || c->device >= count) {
            st = EV_FAIL(EV_ERR_INVALID_ARG, "EV_CUDA_DEVICE=%d, but this machine has %d CUDA "
                         "device(s)", c->device, count);
            goto fail;
        }
        e = cudaSetDevice(c->device);
        if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
        if (e != cudaSuccess) {
            st = cuda_fail((int)e, EV_ERR_NEEDS_DEVICE, "cannot use device");
            goto fail;
        }
    }
    size_t arena_size = 0;
    EV_TRY_GOTO(st, ev_plan_memory(g, NULL, offsets, &arena_size, NULL), fail);
    int e = dmalloc(c, (void **)&c->arena, arena_size);
    if (e) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "device arena of %zu bytes: %s", arena_size,
                     cudaGetErrorString((cudaError_t)e));
        c->arena = NULL;
        goto fail;
    }
    for (int t = 0; t < nt; t++)
        if (!g->tensors[t].data && offsets[t] != EV_PLAN_NONE) c->dev[t] = c->arena + offsets[t];
    for (int i = 0; i < g->num_ops; i++) {
        const ev_op *op = &g->ops[i];
        if (op->type != EV_OP_CUSTOM) continue;
        for (int j = 0; j < op->num_inputs; j++)
            if (op->inputs[j] >= 0) c->host_reader[op->inputs[j]] = 1;
    }
done:
    free(offsets);
    *context = c;
    return EV_OK;
fail:
    free(offsets);
    cuda_free(c);
    return st;
}

int ev_cuda_session_transfers(const ev_session *s, ev_cuda_transfer_stats *out, int reset) {
    if (!s || !out || s->backend != &ev_backend_cuda || !s->backend_ctx) return -1;
    cu_ctx *c = s->backend_ctx;
    *out = c->stats;
    if (reset) memset(&c->stats, 0, sizeof c->stats);
    return 0;
}

/* The kernel's backend context (NULL only if the session was not built by cuda's init). */
static cu_ctx *ctx_of(const ev_kernel_ctx *k) { return k->backend; }

/* A constant tensor a device op reads: uploaded once, at prepare. */
static ev_status need_const(cu_ctx *c, const ev_kernel_ctx *k, int t) {
    const ev_tensor *ten = &c->graph->tensors[t];
    if (!ten->data || c->dev[t]) return EV_OK;
    int e = dmalloc(c, &c->dev[t], ten->bytes);
    if (e) {
        c->dev[t] = NULL;
        return EV_OP_FAIL(k, EV_ERR_NO_MEMORY, "constant '%s' (%zu bytes) on the device: %s",
                          ten->name, ten->bytes, cudaGetErrorString((cudaError_t)e));
    }
    c->owned[t] = 1;
    e = dupload(c, c->dev[t], ten->data, ten->bytes);
    if (e)
        return EV_OP_FAIL(k, EV_ERR_INTERNAL, "uploading constant '%s': %s", ten->name,
                          cudaGetErrorString((cudaError_t)e));
    return EV_OK;
}

/* ---- run hooks ------------------------------------------------------------------------- */

/* Every run starts with every tensor's value on the host, where the inputs were set. */
static ev_status cuda_run_begin(void *context, void *const *data, int host_each_op) {
    (void)data;
    cu_ctx *c = context;
    c->host_each_op = host_each_op;
    c->pending_d2h = 0;
    memset(c->where, ON_HOST, (size_t)c->graph->num_tensors);
    if (c->used && !c->emu) {
        cudaError_t e = cudaSetDevice(c->device);
        if (e != cudaSuccess)
            return EV_FAIL(EV_ERR_INTERNAL, "backend cuda: device %d: %s", c->device,
                           cudaGetErrorString(e));
    }
    return EV_OK;
}

/* Queues the download of tensor t if only the device has it (dsync completes it); returns a
 * cudaError_t as int. */
static int download(cu_ctx *c, int t, void *const *data) {
    const ev_tensor *ten = &c->graph->tensors[t];
    if (ten->data || (c->where[t] & ON_HOST)) return 0;
    int e = d2h(c, data[t], c->dev[t], ten->bytes);
    if (!e) c->where[t] |= ON_HOST;
    return e;
}

/* The graph outputs still only on the device come down; then the stream is drained (after a
 * failed run too, so no work of this run is left in flight). */
static ev_status cuda_run_end(void *context, void *const *data, int ok) {
    cu_ctx *c = context;
    if (!c->used) return EV_OK;
    const ev_graph *g = c->graph;
    ev_status st = EV_OK;
    for (int i = 0; ok && st == EV_OK && i < g->num_outputs; i++) {
        int t = g->outputs[i], e = download(c, t, data);
        if (e)
            st = EV_FAIL(EV_ERR_INTERNAL, "backend cuda: downloading output '%s': %s",
                         g->tensors[t].name, cudaGetErrorString((cudaError_t)e));
    }
    int e = dsync(c, 1);
    if (e && st == EV_OK)
        st = EV_FAIL(EV_ERR_INTERNAL, "backend cuda: device error: %s",
                     cudaGetErrorString((cudaError_t)e));
    return st;
}

/* Device address of tensor t's current value, uploading it if only the host has it. */
static ev_status to_dev(cu_ctx *c, const ev_kernel_ctx *k, int t, void *const *data,
                        const void **out) {
    const ev_tensor *ten = &c->graph->tensors[t];
    if (!c->dev[t]) return EV_OP_FAIL(k, EV_ERR_INTERNAL, "tensor '%s' has no device memory",
                                      ten->name);
    if (!ten->data && !(c->where[t] & ON_DEV)) {
        int e = h2d(c, c->dev[t], data[t], ten->bytes);
        if (e)
            return EV_OP_FAIL(k, EV_ERR_INTERNAL, "uploading '%s': %s", ten->name,
                              cudaGetErrorString((cudaError_t)e));
        c->where[t] |= ON_DEV;
    }
    *out = c->dev[t];
    return EV_OK;
}

/* Queues the download of tensor t if only the device has it (dsync completes it). */
static ev_status to_host(cu_ctx *c, const ev_kernel_ctx *k, int t, void *const *data) {
    int e = download(c, t, data);
    if (e)
        return EV_OP_FAIL(k, EV_ERR_INTERNAL, "downloading '%s': %s",
                          c->graph->tensors[t].name, cudaGetErrorString((cudaError_t)e));
    return EV_OK;
}

/* After a device op's launches: its outputs live on the device; those host code reads during
 * the run are downloaded now. Errors of the op's kernels surface here at the latest. */
static ev_status dev_op_done(cu_ctx *c, const ev_kernel_ctx *k, int launch_err, void *const *data) {
    if (launch_err)
        return EV_OP_FAIL(k, EV_ERR_INTERNAL, "kernel launch: %s",
                          cudaGetErrorString((cudaError_t)launch_err));
    const ev_op *op = &c->graph->ops[k->op_index];
    for (int i = 0; i < op->num_outputs; i++) {
        int t = op->outputs[i];
        c->where[t] = ON_DEV;
        if (c->host_each_op || c->host_reader[t]) EV_TRY(to_host(c, k, t, data));
    }
    int e = dsync(c, 0);
    if (e)
        return EV_OP_FAIL(k, EV_ERR_INTERNAL, "device error: %s",
                          cudaGetErrorString((cudaError_t)e));
    return EV_OK;
}

/* ---- CONV_2D and DEPTHWISE_CONV_2D ------------------------------------------------------- */

enum { CONV_Q, CONV_DW, CONV_F };

typedef struct cu_conv {
    cu_ctx *c;
    ev_conv_desc d;
    int kind;
    ev_cu_conv q;
    ev_cu_dw dw;
    ev_cu_convf f;
    void *bufs[6];
    int nbufs;
} cu_conv;

static void conv_release(void *state) {
    cu_conv *s = state;
    if (!s) return;
    for (int i = 0; i < s->nbufs; i++) dfree(s->c, s->bufs[i]);
    ev_conv_desc_release(&s->d);
    free(s);
}

/* Uploads `n` bytes into a new device buffer owned by the kernel. */
static ev_status upload(cu_conv *s, const ev_kernel_ctx *k, const void *h, size_t n,
                        const void **out) {
    void *p = NULL;
    int e = dmalloc(s->c, &p, n);
    if (e)
        return EV_OP_FAIL(k, EV_ERR_NO_MEMORY, "%zu bytes of device memory: %s", n,
                          cudaGetErrorString((cudaError_t)e));
    s->bufs[s->nbufs++] = p;
    e = dupload(s->c, p, h, n);
    if (e)
        return EV_OP_FAIL(k, EV_ERR_INTERNAL, "upload: %s", cudaGetErrorString((cudaError_t)e));
    *out = p;
    return EV_OK;
}

#define GEOMETRY(dst, d)                                                                          \
    do {                                                                                          \
        (dst).batch = (d)->batch, (dst).in_h = (d)->in_h, (dst).in_w = (d)->in_w;                 \
        (dst).in_c = (d)->in_c, (dst).out_h = (d)->out_h, (dst).out_w = (d)->out_w;               \
        (dst).out_c = (d)->out_c, (dst).k_h = (d)->k_h, (dst).k_w = (d)->k_w;                     \
        (dst).stride_h = (d)->stride_h, (dst).stride_w = (d)->stride_w;                           \
        (dst).dil_h = (d)->dil_h, (dst).dil_w = (d)->dil_w;                                       \
        (dst).pad_top = (d)->pad_top, (dst).pad_left = (d)->pad_left;                             \
    } while (0)

/* Quantized CONV_2D: weights as s = w - c in words of 4 along k, [k_h*k_w*icg][ocp], and the
 * per-channel constant (see cuda_math.h). */
static ev_status prepare_conv_q(cu_conv *s, const ev_kernel_ctx *k) {
    const ev_conv_desc *d = &s->d;
    const ev_graph *g = k->graph;
    ev_cu_conv *p = &s->q;
    GEOMETRY(*p, d);
    p->in_i8 = d->dtype == EV_DTYPE_I8;
    p->half_up = p->in_i8; /* int8 CONV_2D rounds as TFLite's runtime (ruy), as ref and cpu */
    p->icg = (d->in_c + 3) / 4;
    p->ocp = (d->out_c + 3) & ~3;
    p->xzs = d->in_zp - (p->in_i8 ? 0 : 128);
    p->aligned = d->in_c % 4 == 0;
    p->pointwise = d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                   d->pad_top == 0 && d->pad_left == 0 && d->out_h == d->in_h &&
                   d->out_w == d->in_w;
    p->out_zp = d->out_zp;
    p->act_min = d->act_min;
    p->act_max = d->act_max;
    p->npix = (long long)d->batch * d->out_h * d->out_w;
    const int K = d->k_h * d->k_w * d->in_c, taps = d->k_h * d->k_w;
    const size_t words = (size_t)taps * (size_t)p->icg * (size_t)p->ocp;
    const size_t np = (size_t)p->ocp;
    uint32_t *w = calloc(words ? words : 1, sizeof *w);
    int32_t *cst = calloc(np, sizeof *cst), *delta = calloc(np, sizeof *delta);
    int32_t *mult = calloc(np, sizeof *mult), *shift = calloc(np, sizeof *shift);
    ev_status st = EV_OK;
    if (!w || !cst || !delta || !mult || !shift) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    const uint8_t *wb = g->tensors[d->w_t].data;
    const int32_t *bias = d->b_t >= 0 ? g->tensors[d->b_t].data : NULL;
    int any_delta = 0;
    for (int oc = 0; oc < d->out_c; oc++) {
        const uint8_t *row = wb + (size_t)oc * (size_t)K;
        const int32_t wz = d->w_zp[oc];
        int lo = INT_MAX, hi = INT_MIN;
        for (int i = 0; i < K; i++) {
            int v = p->in_i8 ? (int)(int8_t)row[i] : (int)row[i];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        const int32_t cc = (K == 0 || (lo - wz >= -128 && hi - wz <= 127)) ? wz
                           : p->in_i8                                      ? 0
                                                                           : 128;
        int64_t sum_s = 0;
        for (int tap = 0; tap < taps; tap++)
            for (int ic = 0; ic < d->in_c; ic++) {
                int v = p->in_i8 ? (int)(int8_t)row[(size_t)tap * d->in_c + ic]
                                 : (int)row[(size_t)tap * d->in_c + ic];
                int sv = v - cc;
                sum_s += sv;
                size_t word = ((size_t)tap * p->icg + (size_t)(ic / 4)) * np + (size_t)oc;
                w[word] |= (uint32_t)(uint8_t)(int8_t)sv << (8 * (ic % 4));
            }
        const int32_t dd = cc - wz;
        if (dd) any_delta = 1;
        delta[oc] = dd;
        int64_t cv = (int64_t)(bias ? bias[oc] : 0) - (int64_t)p->xzs * sum_s -
                     (int64_t)p->xzs * dd * K;
        cst[oc] = (int32_t)(uint32_t)(uint64_t)cv; /* modulo 2^32, as the int32 sums are */
        mult[oc] = d->mult[oc];
        shift[oc] = d->shift[oc];
    }
    p->has_delta = any_delta;
    const void *dp;
    EV_TRY_GOTO(st, upload(s, k, w, words * sizeof *w, &dp), done);
    p->w = dp;
    EV_TRY_GOTO(st, upload(s, k, cst, np * sizeof *cst, &dp), done);
    p->cst = dp;
    EV_TRY_GOTO(st, upload(s, k, delta, np * sizeof *delta, &dp), done);
    p->delta = dp;
    EV_TRY_GOTO(st, upload(s, k, mult, np * sizeof *mult, &dp), done);
    p->mult = dp;
    EV_TRY_GOTO(st, upload(s, k, shift, np * sizeof *shift, &dp), done);
    p->shift = dp;
done:
    free(w), free(cst), free(delta), free(mult), free(shift);
    return st;
}

/* Quantized DEPTHWISE_CONV_2D: w - wz as int32 [k_h*k_w][out_c], bias (0 when absent). */
static ev_status prepare_dw_q(cu_conv *s, const ev_kernel_ctx *k) {
    const ev_conv_desc *d = &s->d;
    const ev_graph *g = k->graph;
    ev_cu_dw *p = &s->dw;
    GEOMETRY(*p, d);
    p->dm = d->depth_multiplier;
    p->in_i8 = d->dtype == EV_DTYPE_I8;
    p->in_zp = d->in_zp;
    p->out_zp = d->out_zp;
    p->act_min = d->act_min;
    p->act_max = d->act_max;
    p->total = (long long)d->batch * d->out_h * d->out_w * d->out_c;
    const size_t nw = (size_t)d->k_h * d->k_w * d->out_c, nc = (size_t)d->out_c;
    int32_t *w = calloc(nw, sizeof *w), *bias = calloc(nc, sizeof *bias);
    int32_t *shift = calloc(nc, sizeof *shift);
    ev_status st = EV_OK;
    if (!w || !bias || !shift) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    const uint8_t *wb = g->tensors[d->w_t].data;
    const int32_t *b = d->b_t >= 0 ? g->tensors[d->b_t].data : NULL;
    for (size_t i = 0; i < nw; i++) {
        int oc = (int)(i % nc);
        int v = p->in_i8 ? (int)(int8_t)wb[i] : (int)wb[i];
        w[i] = v - d->w_zp[oc];
    }
    for (size_t i = 0; i < nc; i++) {
        bias[i] = b ? b[i] : 0;
        shift[i] = d->shift[i];
    }
    const void *dp;
    EV_TRY_GOTO(st, upload(s, k, w, nw * sizeof *w, &dp), done);
    p->w = dp;
    EV_TRY_GOTO(st, upload(s, k, bias, nc * sizeof *bias, &dp), done);
    p->bias = dp;
    EV_TRY_GOTO(st, upload(s, k, d->mult, nc * sizeof(int32_t), &dp), done);
    p->mult = dp;
    EV_TRY_GOTO(st, upload(s, k, shift, nc * sizeof *shift, &dp), done);
    p->shift = dp;
done:
    free(w), free(bias), free(shift);
    return st;
}

static ev_status prepare_conv_f(cu_conv *s, const ev_kernel_ctx *k) {
    const ev_conv_desc *d = &s->d;
    const ev_graph *g = k->graph;
    ev_cu_convf *p = &s->f;
    GEOMETRY(*p, d);
    p->depthwise = d->depthwise;
    p->dm = d->depth_multiplier;
    p->f_min = d->f_min;
    p->f_max = d->f_max;
    p->total = (long long)d->batch * d->out_h * d->out_w * d->out_c;
    const void *dp;
    EV_TRY(upload(s, k, g->tensors[d->w_t].data, g->tensors[d->w_t].bytes, &dp));
    p->w = dp;
    p->bias = NULL;
    if (d->b_t >= 0) {
        EV_TRY(upload(s, k, g->tensors[d->b_t].data, g->tensors[d->b_t].bytes, &dp));
        p->bias = dp;
    }
    return EV_OK;
}

static ev_status conv_prepare(const ev_kernel_ctx *k, void **state) {
    cu_ctx *c = ctx_of(k);
    if (!c) return EV_OP_FAIL(k, EV_ERR_INTERNAL, "no backend context");
    cu_conv *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->c = c;
    ev_status st = EV_OK;
    EV_TRY_GOTO(st, ev_conv_desc_init(k, &s->d), fail);
    if (s->d.dtype == EV_DTYPE_F32) {
        s->kind = CONV_F;
        EV_TRY_GOTO(st, prepare_conv_f(s, k), fail);
    } else if (s->d.depthwise) {
        s->kind = CONV_DW;
        EV_TRY_GOTO(st, prepare_dw_q(s, k), fail);
    } else {
        s->kind = CONV_Q;
        EV_TRY_GOTO(st, prepare_conv_q(s, k), fail);
    }
    EV_TRY_GOTO(st, need_const(c, k, s->d.in_t), fail);
    *state = s;
    return EV_OK;
fail:
    conv_release(s);
    return st;
}

static ev_status conv_run(const ev_kernel_ctx *k, void *state, void *const *data) {
    cu_conv *s = state;
    cu_ctx *c = s->c;
    const void *in;
    EV_TRY(to_dev(c, k, s->d.in_t, data, &in));
    void *out = c->dev[s->d.out_t];
    if (!out) return EV_OP_FAIL(k, EV_ERR_INTERNAL, "output has no device memory");
    int e = 0;
    switch (s->kind) {
    case CONV_Q:
        if (c->emu)
            ev_cu_emu_conv(&s->q, in, out);
        else
            e = ev_cu_launch_conv(&s->q, in, out, c->stream);
        break;
    case CONV_DW:
        if (c->emu)
            ev_cu_emu_dw(&s->dw, in, out);
        else
            e = ev_cu_launch_dw(&s->dw, in, out, c->stream);
        break;
    default:
        if (c->emu)
            ev_cu_emu_convf(&s->f, in, out);
        else
            e = ev_cu_launch_convf(&s->f, in, out, c->stream);
        break;
    }
    return dev_op_done(c, k, e, data);
}

static const ev_kernel k_conv = {"cuda_conv", conv_prepare, conv_run, conv_release};

/* The kernel as chosen for a convolution, by input type (the session reports it). */
static const char *conv_name(const ev_graph *g, const ev_op *op) {
    const ev_tensor *in = ev_op_input(g, op, 0);
    int dw = op->type == EV_OP_DEPTHWISE_CONV_2D;
    switch (in ? in->dtype : EV_DTYPE_UNKNOWN) {
    case EV_DTYPE_U8: return dw ? "u8_dwconv__cuda" : "u8s8_conv_4x4_dp4a__cuda";
    case EV_DTYPE_I8: return dw ? "s8_dwconv__cuda" : "s8s8_conv_4x4_dp4a__cuda";
    case EV_DTYPE_F32: return dw ? "f32_dwconv__cuda" : "f32_conv__cuda";
    default: return NULL; /* prepare will refuse it */
    }
}

/* ---- CONCATENATION ------------------------------------------------------------------------- */

typedef struct cu_concat {
    cu_ctx *c;
    ev_concat_desc d;    /* checks and geometry, shared with ref (backends/concat_desc.c) */
    ev_cu_concat_q *req; /* [n_in] the rescaling kernel's parameters where d.requant[i]    */
} cu_concat;

static void concat_release(void *state) {
    cu_concat *s = state;
    if (!s) return;
    ev_concat_desc_release(&s->d);
    free(s->req);
    free(s);
}

static ev_status concat_prepare(const ev_kernel_ctx *k, void **state) {
    cu_ctx *c = ctx_of(k);
    if (!c) return EV_OP_FAIL(k, EV_ERR_INTERNAL, "no backend context");
    cu_concat *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->c = c;
    ev_status st = EV_OK;
    EV_TRY_GOTO(st, ev_concat_desc_init(k, &s->d), fail);
    const ev_concat_desc *d = &s->d;
    s->req = calloc((size_t)d->n_in, sizeof *s->req);
    if (!s->req) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    size_t off = 0;
    for (int i = 0; i < d->n_in; i++) {
        if (d->requant[i]) {
            ev_cu_concat_q *r = &s->req[i];
            r->i8 = d->dtype == EV_DTYPE_I8;
            r->scale = d->scale[i];
            r->bias = d->bias[i];
            r->out_zp = d->out_zp;
            r->outer = (long long)d->outer;
            r->chunk = (long long)d->chunk[i];
            r->out_row = (long long)d->out_row;
            r->off = (long long)off;
        }
        off += d->chunk[i];
        EV_TRY_GOTO(st, need_const(c, k, d->in_t[i]), fail);
    }
    *state = s;
    return EV_OK;
fail:
    concat_release(s);
    return st;
}

static ev_status concat_run(const ev_kernel_ctx *k, void *state, void *const *data) {
    cu_concat *s = state;
    const ev_concat_desc *d = &s->d;
    cu_ctx *c = s->c;
    uint8_t *out = c->dev[d->out_t];
    if (!out) return EV_OP_FAIL(k, EV_ERR_INTERNAL, "output has no device memory");
    int e = 0;
    size_t off = 0;
    for (int i = 0; i < d->n_in && !e; i++) {
        const void *in;
        EV_TRY(to_dev(c, k, d->in_t[i], data, &in));
        if (!d->requant[i])
            e = d2d_rows(c, out + off, d->out_row, in, d->chunk[i], d->chunk[i], d->outer);
        else if (c->emu)
            ev_cu_emu_concat_q(&s->req[i], in, out);
        else
            e = ev_cu_launch_concat_q(&s->req[i], in, out, c->stream);
        off += d->chunk[i];
    }
    return dev_op_done(c, k, e, data);
}

static const ev_kernel k_concat = {"cuda_concat", concat_prepare, concat_run, concat_release};

static const char *concat_name(const ev_graph *g, const ev_op *op) {
    const ev_tensor *out = ev_op_output(g, op, 0);
    switch (out ? out->dtype : EV_DTYPE_UNKNOWN) {
    case EV_DTYPE_U8: return "u8_concat__cuda";
    case EV_DTYPE_I8: return "s8_concat__cuda";
    case EV_DTYPE_F32: return "f32_concat__cuda";
    default: return NULL; /* "cuda_concat": bytes copied whatever the type */
    }
}

/* ---- every other op: the reference kernel on the host ------------------------------------- */

typedef struct cu_host {
    cu_ctx *c;
    const ev_kernel *k;
    void *state;
} cu_host;

static void host_release(void *state) {
    cu_host *s = state;
    if (!s) return;
    if (s->k && s->k->release && s->state) s->k->release(s->state);
    free(s);
}

static ev_status host_prepare(const ev_kernel_ctx *k, void **state) {
    cu_ctx *c = ctx_of(k);
    if (!c) return EV_OP_FAIL(k, EV_ERR_INTERNAL, "no backend context");
    cu_host *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    s->c = c;
    ev_status st = EV_OK;
    s->k = ev_ref_kernel_for(k->graph, k->op_index);
    if (!s->k) {
        st = EV_OP_FAIL(k, EV_ERR_INTERNAL, "no host kernel");
        goto fail;
    }
    EV_TRY_GOTO(st, s->k->prepare(k, &s->state), fail);
    *state = s;
    return EV_OK;
fail:
    host_release(s);
    return st;
}

static ev_status host_run(const ev_kernel_ctx *k, void *state, void *const *data) {
    cu_host *s = state;
    cu_ctx *c = s->c;
    const ev_op *op = &c->graph->ops[k->op_index];
    for (int i = 0; i < op->num_inputs; i++)
        if (op->inputs[i] >= 0) EV_TRY(to_host(c, k, op->inputs[i], data));
    int e = dsync(c, 0);
    if (e)
        return EV_OP_FAIL(k, EV_ERR_INTERNAL, "device error: %s",
                          cudaGetErrorString((cudaError_t)e));
    EV_TRY(s->k->run(k, s->state, data));
    for (int i = 0; i < op->num_outputs; i++) c->where[op->outputs[i]] = ON_HOST;
    return EV_OK;
}

/* Wraps the op's reference kernel (ev_ref_kernel_for) with the transfers around it. */
static const ev_kernel k_host = {"cuda_host", host_prepare, host_run, host_release};

/* ---- the backend object ------------------------------------------------------------------ */

static void cuda_supports(void *context, const ev_graph *g, int i, ev_kernel_choice *choice) {
    (void)context;
    const ev_op *op = &g->ops[i];
    switch (op->type) {
    case EV_OP_CONV_2D:
    case EV_OP_DEPTHWISE_CONV_2D:
        choice->kernel = &k_conv;
        choice->name = conv_name(g, op);
        return;
    case EV_OP_CONCATENATION:
        choice->kernel = &k_concat;
        choice->name = concat_name(g, op);
        return;
    default: {
        const ev_kernel *ref = ev_ref_kernel_for(g, i);
        choice->kernel = ref ? &k_host : NULL;
        choice->name = ref ? ref->name : NULL;
        choice->reference = ref != NULL;
        choice->why = ref ? NULL : "no device or reference kernel for this op type";
        return;
    }
    }
}

const ev_backend ev_backend_cuda = {
    .abi = EV_BACKEND_ABI,
    .name = "cuda",
    .description = "NVIDIA GPU through the CUDA runtime: int8/uint8/float32 convolutions and "
                   "concatenation on the device (bit-exact with ref), other ops on the host "
                   "reference kernels",
    .init = cuda_init,
    .free = cuda_free,
    .supports = cuda_supports,
    .run_begin = cuda_run_begin,
    .run_end = cuda_run_end,
};
