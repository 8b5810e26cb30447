/*
 * backend.h - the backend interface: a backend (ref, cpu, cuda, ...) is an object with its own
 * context behind a vtable, in the manner of ggml's ggml-backend-impl.h.
 *
 * Life of a session on a backend:
 *   init(graph, options, pool) -> context   once per session: detect/choose kernels (the cpu
 *                                           backend's ISA config), allocate device state (cuda)
 *   supports(context, op) -> kernel choice   once per op: which kernel runs it (with its name,
 *                                           and whether it is a reference fallback), or none;
 *                                           and a later op it may absorb (fusion, below)
 *   kernel->prepare / run / release          per op, receiving the backend context in ctx
 *   run_begin / run_end                      around every run (uploads, syncs, stream work)
 *   free(context)                            when the session is freed, after every release
 * Tensor memory is owned by the session: `data[t]` points at tensor t (constants into the model
 * file, activations into the planned arena).
 *
 * Custom ops that are not arithmetic kernels (PosenetDecoderOp) run on the host through the same
 * kernel signature, from the table in backends/custom_ops.c, whatever the backend.
 *
 * Fusion (an epilogue, in the manner of XNNPACK's fused subgraphs): a backend's choice for op i
 * may name a later op j it can compute in the same pass (`absorbs`: a float CONV_2D taking the
 * residual ADD that consumes its output alone). Op j keeps its own kernel, prepared as usual;
 * the session then runs op i with ctx->fused set (the kernel reads op j's other input and writes
 * op j's output, op i's own output is not written) and skips op j, except while a per-op
 * callback is set (it sees every op's output): then both kernels run unfused. The memory plan
 * keeps op j's output alive from op i, so one plan serves both ways. A backend names a partner
 * only when op j's other inputs are computed before op i. Op j may itself absorb an op k (a
 * chain: the cpu backend's PAD -> depthwise -> 1x1): op i's fused run computes both, the session
 * skips both, and the plan keeps op k's output alive from op i.
 *
 * To add a backend: a folder src/backends/<name>/ defining `const ev_backend ev_backend_<name>`
 * (its context type private to that folder), and an entry in backends/registry.c. Registration
 * refuses a backend whose `abi` differs from EV_BACKEND_ABI; bump it when these structs change.
 */
#ifndef EV_CORE_BACKEND_H
#define EV_CORE_BACKEND_H

#include "core/graph.h"

#define EV_BACKEND_ABI 3

struct ev_threadpool;

/* What a kernel sees of its session: the graph, its op, the workers and its backend. */
typedef struct ev_kernel_ctx {
    const ev_graph *graph;
    int op_index;
    struct ev_threadpool *pool; /* the session's workers (NULL: run on the caller)            */
    void *backend;              /* the backend's context (what its init returned; may be NULL) */
    const char *backend_name;   /* for messages: "cpu", or "cpu (reference kernel)" when a
                                   fast backend runs a reference kernel, "host" for custom ops */
    int absorbs;                /* the later op this kernel's choice may absorb (0: none)      */
    int fused;                  /* run: compute op `absorbs` too, into its output (see above)   */
} ev_kernel_ctx;

typedef struct ev_kernel {
    const char *name; /* default name ("ref_conv"); a backend may name the variant it chose   */
    /* Validates the op and builds its state. EV_ERR_UNSUPPORTED (naming op, index, backend and
     * the reason) when this kernel cannot run it. */
    ev_status (*prepare)(const ev_kernel_ctx *ctx, void **state);
    ev_status (*run)(const ev_kernel_ctx *ctx, void *state, void *const *data);
    void (*release)(void *state);
} ev_kernel;

/* A backend's answer to "who runs this op". */
typedef struct ev_kernel_choice {
    const ev_kernel *kernel; /* NULL: the backend cannot run the op                           */
    const char *name;        /* the kernel as chosen, XNNPACK style: data type, tile and ISA
                                ("u8s8_gemm_6x64__avx512vnni"); NULL: kernel->name          */
    int reference;           /* 1: a reference kernel run by a faster backend                 */
    const char *why;         /* when kernel is NULL: a short reason, or NULL                  */
    int absorbs;             /* a later op (index > op) the kernel can compute in the same pass
                                (fusion, above); 0: none                                     */
} ev_kernel_choice;

typedef struct ev_backend_options {
    int threads;                /* workers of the session (>= 1)                             */
    const char *isa;            /* cpu: cap on the ISA path ("scalar", "avx2", ...); NULL: the
                                   best the CPU has, capped by $EV_ISA                        */
    struct ev_threadpool *pool; /* the session's pool (NULL with one thread)                 */
    unsigned float_modes;       /* ev_session_options.float_modes (EV_FLOAT_*)                */
} ev_backend_options;

typedef struct ev_backend {
    int abi; /* EV_BACKEND_ABI */
    const char *name;
    const char *description;
    /* Builds the per-session context (NULL function: the backend has none). */
    ev_status (*init)(const ev_graph *graph, const ev_backend_options *opts, void **context);
    void (*free)(void *context);
    /* Fills *choice for op `op` of `graph` (never NULL function). */
    void (*supports)(void *context, const ev_graph *graph, int op, ev_kernel_choice *choice);
    /* Around every run (NULL: nothing to do); data[t] as the kernels see it. run_begin's
     * `host_each_op`: a per-op callback reads every op's first output on the host this run.
     * run_end is called after a failed run too (`ok` 0), to leave the context consistent. */
    ev_status (*run_begin)(void *context, void *const *data, int host_each_op);
    ev_status (*run_end)(void *context, void *const *data, int ok);
} ev_backend;

/* The backend named `name`; EV_ERR_INVALID_ARG naming the compiled backends when unknown,
 * EV_ERR_INTERNAL when its ABI version differs from EV_BACKEND_ABI. */
ev_status ev_backend_get(const char *name, const ev_backend **out);
/* Host kernel for a custom op code, or NULL. */
const ev_kernel *ev_custom_kernel(const char *custom_code);

/* A custom op's shape function, TFLite's ResizeTensor-in-Prepare done once at model load (see
 * ev_model_adopt): sizes the outputs of op `op_index` that the file left without a shape (rank
 * 0), from the op's inputs and options, with their byte sizes; leaves declared shapes alone (the
 * kernel's prepare checks them). EV_ERR_* naming the source, op and tensor when an unsized output
 * cannot be sized. */
typedef ev_status (*ev_custom_shape_fn)(ev_graph *graph, int op_index);
/* Shape function for a custom op code, or NULL (none known, or the op has none). */
ev_custom_shape_fn ev_custom_shapes(const char *custom_code);

/* Error helper for kernels: "op 3 (CONV_2D) on backend <ctx->backend_name>: <reason>". */
#define EV_OP_FAIL(ctx, status, ...) ev_op_fail((ctx), (status), __FILE__, __LINE__, __VA_ARGS__)
ev_status ev_op_fail(const ev_kernel_ctx *ctx, ev_status status, const char *file, int line,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
